-- Personal API tokens for bots and integrations (REST /api/v1). Security state like
-- sessions, not events: stored hashed (SHA-256), never shown again after creation.
CREATE TABLE api_tokens (
    token_id        TEXT    PRIMARY KEY,
    token_hash      TEXT    NOT NULL UNIQUE,
    user_id         TEXT    NOT NULL,
    username        TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    last_used_at_ms INTEGER
);

CREATE INDEX api_tokens_user ON api_tokens (user_id);
