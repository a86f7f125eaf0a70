-- Followed threads (issue #23): who follows which thread (by posting in it, being mentioned
-- in it, having started it, or by hand; `following` 0 once they stop), and how far they
-- have read it.
CREATE TABLE thread_follows (
    user_id    TEXT NOT NULL,
    root_id    TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    following  BIGINT NOT NULL,
    read_up_to BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, root_id)
);
