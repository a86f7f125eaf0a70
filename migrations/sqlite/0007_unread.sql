-- Read markers and mutes per user per channel (folded from ChannelRead / ChannelMuted
-- events), and the usernames each message mentions, for mention counts.
ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '';

CREATE TABLE read_markers (
    user_id    TEXT    NOT NULL,
    channel_id TEXT    NOT NULL,
    up_to      INTEGER NOT NULL DEFAULT 0,
    muted      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, channel_id)
);
