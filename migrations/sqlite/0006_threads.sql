-- Threads: a reply names its thread's root; a root counts its replies.
ALTER TABLE messages ADD COLUMN reply_to TEXT;
ALTER TABLE messages ADD COLUMN replies INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_reply_to ON messages (reply_to, position) WHERE reply_to IS NOT NULL;
