-- A space's own slash commands (issue #25): each calls its URL, signed with its secret, and
-- answers as its bot. Security state (as webhook secrets are), beside the bot in the log.
CREATE TABLE slash_commands (
    space_id      TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    bot_id        TEXT    NOT NULL,
    url           TEXT    NOT NULL,
    secret        TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (space_id, name)
);
