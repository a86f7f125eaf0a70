-- Passkeys (WebAuthn). Security state like sessions, not events: each registered
-- credential (its id as browsers spell it, base64url; the public key and signature
-- counter as webauthn-rs keeps them, JSON), and the ceremonies begun but not finished
-- (their challenge state, so that any node finishes one; each works once, for 5 minutes).
CREATE TABLE passkeys (
    credential_id TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    username      TEXT NOT NULL,
    name          TEXT NOT NULL,
    passkey       TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    last_used_ms  INTEGER
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);

CREATE TABLE passkey_ceremonies (
    id            TEXT PRIMARY KEY,
    user_id       TEXT,
    state         TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
CREATE INDEX passkey_ceremonies_by_expiry ON passkey_ceremonies (expires_at_ms);
