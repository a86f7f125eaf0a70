-- Pins, topics and saved items (issue #23): a message pinned to its channel (and when, for the pinned
-- list's order), a notice line in a channel's timeline (`kind` 'topic': someone set the
-- topic, its text the body), each channel's topic and description, and each space's
-- settings of who may pin and who may set topics.
ALTER TABLE messages ADD COLUMN pinned_position BIGINT;
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_pinned ON messages (channel_id, pinned_position) WHERE pinned_position IS NOT NULL;
ALTER TABLE channels ADD COLUMN topic TEXT NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE spaces ADD COLUMN pins_by TEXT NOT NULL DEFAULT 'members';
ALTER TABLE spaces ADD COLUMN topics_by TEXT NOT NULL DEFAULT 'members';

-- Saved items: the messages each person keeps for later (theirs alone), the last saved first.
CREATE TABLE saved_items (
    user_id        TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    channel_id     TEXT NOT NULL,
    saved_position BIGINT NOT NULL,
    PRIMARY KEY (user_id, message_id)
);
