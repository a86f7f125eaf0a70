-- Files. `uploads` records who uploaded which stored file (content-addressed by SHA-256),
-- like sessions it is not folded from the log: an upload not yet sent with a message is
-- nobody's business but its uploader's. Once sent, the message's event carries the file's
-- metadata, and the read models below are folded from it.
CREATE TABLE uploads (
    file_id        TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    mime           TEXT    NOT NULL,
    size           INTEGER NOT NULL,
    width          INTEGER,
    height         INTEGER,
    uploaded_at_ms INTEGER NOT NULL,
    PRIMARY KEY (file_id, user_id)
);

-- The files of each message, as JSON (for history pages).
ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '';

-- Which channel each sent file is in: who may download it.
CREATE TABLE attachments (
    file_id    TEXT NOT NULL,
    message_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    PRIMARY KEY (file_id, message_id)
);
