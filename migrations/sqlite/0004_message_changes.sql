-- Edits, deletes and reactions (read models, folded from the log like the rest).
ALTER TABLE messages ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
-- The position of the last event folded into the row (the post itself at first).
ALTER TABLE messages ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- Every earlier body of an edited message: its history, oldest first by position.
CREATE TABLE message_edits (
    position     INTEGER PRIMARY KEY,    -- the edit's log position
    message_id   TEXT    NOT NULL,
    body_before  TEXT    NOT NULL,
    edited_at_ms INTEGER NOT NULL
);
CREATE INDEX message_edits_message ON message_edits (message_id, position);

CREATE TABLE reactions (
    message_id TEXT    NOT NULL,
    emoji      TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    position   INTEGER NOT NULL,         -- when it was added: the order emojis show in
    PRIMARY KEY (message_id, emoji, user_id)
);
