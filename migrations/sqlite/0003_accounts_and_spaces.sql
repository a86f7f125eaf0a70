-- Accounts (a read model folded from AccountRegistered events), sessions, spaces.
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

-- Spaces, their members and invites (read models of the space streams).
CREATE TABLE spaces (
    space_id         TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    owner            TEXT NOT NULL,
    deleted          INTEGER NOT NULL,
    created_position INTEGER NOT NULL
);

CREATE TABLE space_members (
    space_id        TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    role            TEXT NOT NULL,                  -- admin | moderator | member
    joined_position INTEGER NOT NULL,
    PRIMARY KEY (space_id, user_id)
);

CREATE INDEX space_members_user ON space_members (user_id);

CREATE TABLE invites (
    space_id      TEXT NOT NULL,
    code          TEXT NOT NULL,
    expires_at_ms INTEGER,
    max_uses      INTEGER,
    uses          INTEGER NOT NULL,
    revoked       INTEGER NOT NULL,
    PRIMARY KEY (space_id, code)
);

ALTER TABLE channels ADD COLUMN space_id TEXT;

-- The people of each direct-message channel.
CREATE TABLE direct_members (
    channel_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);

CREATE INDEX direct_members_user ON direct_members (user_id);
ALTER TABLE channels ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
