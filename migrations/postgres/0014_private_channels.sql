-- Private channels, channel membership and deleted channels (issue #23): whether a channel
-- is private, whether it was deleted, and who joined or left each channel (a public
-- channel's space members are in it unless they left; a private one's only once added).
ALTER TABLE channels ADD COLUMN private BIGINT NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN deleted BIGINT NOT NULL DEFAULT 0;
CREATE TABLE channel_members (
    channel_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    inside     BIGINT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_by_user ON channel_members (user_id);
