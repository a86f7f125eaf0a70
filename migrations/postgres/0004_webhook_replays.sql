-- Bumped by each replay (an admin rewinding a webhook's offset): a delivery pass that began
-- before the rewind writes nothing more once it sees the count changed.
ALTER TABLE webhook_state ADD COLUMN replays BIGINT NOT NULL DEFAULT 0;
