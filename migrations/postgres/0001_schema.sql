-- Parley on PostgreSQL: the event log and every read model, in one migration (the
-- SQLite migrations' end state). Flags are BIGINT 0/1 as on SQLite, so one SQL text
-- and one row type serve both backends.

CREATE TABLE events (
    position          BIGINT PRIMARY KEY,           -- global, gap-free: given under the log lock
    stream_id         TEXT   NOT NULL,
    stream_version    BIGINT NOT NULL,              -- 1-based within the stream
    event_id          TEXT   NOT NULL UNIQUE,
    event_type        TEXT   NOT NULL,
    schema_version    BIGINT NOT NULL,
    payload           TEXT   NOT NULL,              -- JSON, without the type tag
    metadata          TEXT   NOT NULL,              -- JSON: actor, correlation, causation, client message id
    client_message_id TEXT,
    recorded_at_ms    BIGINT NOT NULL,
    UNIQUE (stream_id, stream_version)
);

CREATE UNIQUE INDEX events_client_message_id ON events (client_message_id)
    WHERE client_message_id IS NOT NULL;
CREATE INDEX events_stream_position ON events (stream_id, position);
CREATE INDEX events_recorded_at ON events (recorded_at_ms);

CREATE TABLE projection_checkpoints (
    name     TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);

CREATE TABLE channels (
    channel_id       TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    created_position BIGINT NOT NULL,
    space_id         TEXT,
    archived         BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE messages (
    position    BIGINT PRIMARY KEY,                 -- the event's log position
    message_id  TEXT   NOT NULL UNIQUE,
    channel_id  TEXT   NOT NULL,
    author      TEXT   NOT NULL,
    body        TEXT   NOT NULL,
    sent_at_ms  BIGINT NOT NULL,
    author_id   TEXT,
    edited      BIGINT NOT NULL DEFAULT 0,
    deleted     BIGINT NOT NULL DEFAULT 0,
    revision    BIGINT NOT NULL DEFAULT 0,
    reply_to    TEXT,
    replies     BIGINT NOT NULL DEFAULT 0,
    mentions    TEXT   NOT NULL DEFAULT '',
    attachments TEXT   NOT NULL DEFAULT ''
);

CREATE INDEX messages_channel_position ON messages (channel_id, position);
CREATE INDEX messages_reply_to ON messages (reply_to, position) WHERE reply_to IS NOT NULL;
-- Search: the words SQLite's FTS5 (unicode61, remove_diacritics) finds: no stemming,
-- accents dropped (the unaccent extension ships with Debian's postgresql package).
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION parley (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION parley ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;
CREATE INDEX messages_search ON messages USING GIN (to_tsvector('parley', body));

CREATE TABLE accounts (
    user_id             TEXT PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    registered_position BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    username      TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE spaces (
    space_id         TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    owner            TEXT NOT NULL,
    deleted          BIGINT NOT NULL,
    created_position BIGINT NOT NULL
);

CREATE TABLE space_members (
    space_id        TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    role            TEXT NOT NULL,
    joined_position BIGINT NOT NULL,
    PRIMARY KEY (space_id, user_id)
);

CREATE INDEX space_members_user ON space_members (user_id);

CREATE TABLE invites (
    space_id      TEXT NOT NULL,
    code          TEXT NOT NULL,
    expires_at_ms BIGINT,
    max_uses      BIGINT,
    uses          BIGINT NOT NULL,
    revoked       BIGINT NOT NULL,
    PRIMARY KEY (space_id, code)
);

CREATE TABLE direct_members (
    channel_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);

CREATE INDEX direct_members_user ON direct_members (user_id);

CREATE TABLE message_edits (
    position     BIGINT PRIMARY KEY,
    message_id   TEXT   NOT NULL,
    body_before  TEXT   NOT NULL,
    edited_at_ms BIGINT NOT NULL
);
CREATE INDEX message_edits_message ON message_edits (message_id, position);

CREATE TABLE reactions (
    message_id TEXT   NOT NULL,
    emoji      TEXT   NOT NULL,
    user_id    TEXT   NOT NULL,
    username   TEXT   NOT NULL,
    position   BIGINT NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

CREATE TABLE read_markers (
    user_id    TEXT   NOT NULL,
    channel_id TEXT   NOT NULL,
    up_to      BIGINT NOT NULL DEFAULT 0,
    muted      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, channel_id)
);

CREATE TABLE uploads (
    file_id        TEXT   NOT NULL,
    user_id        TEXT   NOT NULL,
    name           TEXT   NOT NULL,
    mime           TEXT   NOT NULL,
    size           BIGINT NOT NULL,
    width          BIGINT,
    height         BIGINT,
    uploaded_at_ms BIGINT NOT NULL,
    PRIMARY KEY (file_id, user_id)
);

CREATE TABLE attachments (
    file_id    TEXT NOT NULL,
    message_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    PRIMARY KEY (file_id, message_id)
);

CREATE TABLE api_tokens (
    token_id        TEXT   PRIMARY KEY,
    token_hash      TEXT   NOT NULL UNIQUE,
    user_id         TEXT   NOT NULL,
    username        TEXT   NOT NULL,
    name            TEXT   NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    last_used_at_ms BIGINT
);

CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE webhooks (
    webhook_id       TEXT   PRIMARY KEY,
    space_id         TEXT   NOT NULL,
    url              TEXT   NOT NULL,
    event_types      TEXT   NOT NULL,
    created_position BIGINT NOT NULL,
    deleted          BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX webhooks_space ON webhooks (space_id);

CREATE TABLE webhook_state (
    webhook_id         TEXT   PRIMARY KEY,
    secret             TEXT   NOT NULL,
    delivered_to       BIGINT NOT NULL,
    delivered          BIGINT NOT NULL DEFAULT 0,
    failures           BIGINT NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT NOT NULL DEFAULT 0,
    dead               BIGINT NOT NULL DEFAULT 0,
    last_error         TEXT,
    stuck_at           BIGINT
);
