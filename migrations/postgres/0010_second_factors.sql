-- Two-factor sign-in (TOTP). Security state like sessions, not events: the shared secret
-- (base32; a code generator, so kept like the password hashes), whether it is confirmed,
-- the last 30-second step a code was used for (a code works once), and the SHA-256 of
-- each unused recovery code (comma-separated; each works once).
CREATE TABLE second_factors (
    user_id       TEXT PRIMARY KEY,
    totp_secret   TEXT NOT NULL,
    enabled       BIGINT NOT NULL,
    last_step     BIGINT NOT NULL DEFAULT 0,
    recovery      TEXT NOT NULL DEFAULT '',
    created_at_ms BIGINT NOT NULL
);
