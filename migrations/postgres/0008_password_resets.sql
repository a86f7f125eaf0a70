-- One-time password reset links an instance admin made (`parley-server reset-password`, or
-- the admin page). Security state like sessions, not events: only the SHA-256 of each
-- link's secret is kept; a link works once, for 24 hours, and a newer one replaces it.
CREATE TABLE password_resets (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    username      TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX password_resets_user ON password_resets (user_id);
