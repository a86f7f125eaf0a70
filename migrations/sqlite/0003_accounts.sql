-- Accounts (a read model folded from AccountRegistered events) and sessions.
-- Sessions are not events: they are short-lived security state, stored hashed, that no
-- read model depends on; replaying who signed in when would add nothing but risk.
CREATE TABLE accounts (
    user_id            TEXT PRIMARY KEY,
    username           TEXT NOT NULL UNIQUE,
    registered_position INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,                 -- SHA-256 of the cookie's token, hex
    user_id       TEXT NOT NULL,
    username      TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);
ALTER TABLE messages ADD COLUMN author_id TEXT;
