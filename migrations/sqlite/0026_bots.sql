-- Bots and incoming webhooks (issue #25).
-- A bot's account names the space it was made for (a read model of AccountRegistered).
ALTER TABLE accounts ADD COLUMN bot_space TEXT;

-- Incoming webhooks: a channel's secret address, posting as its bot. Security state (as
-- API tokens are), not events: the bot's account and membership are in the log.
CREATE TABLE incoming_hooks (
    hook_id       TEXT    PRIMARY KEY,
    space_id      TEXT    NOT NULL,
    channel_id    TEXT    NOT NULL,
    bot_id        TEXT    NOT NULL,
    secret_hash   TEXT    NOT NULL,              -- SHA-256 of the address's secret, hex
    created_by    TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX incoming_hooks_space ON incoming_hooks (space_id);
