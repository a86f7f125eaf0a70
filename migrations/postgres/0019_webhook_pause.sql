-- A webhook can be paused (issue #25): folded from WebhookPaused, so every node's deliverer
-- sees it; its events wait at its offset.
ALTER TABLE webhooks ADD COLUMN paused BIGINT NOT NULL DEFAULT 0;
