-- Webhook subscriptions (a read model of WebhookCreated / WebhookDeleted events).
CREATE TABLE webhooks (
    webhook_id       TEXT    PRIMARY KEY,
    space_id         TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    event_types      TEXT    NOT NULL,            -- JSON array; empty: every type
    created_position INTEGER NOT NULL,
    deleted          INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX webhooks_space ON webhooks (space_id);

-- Each subscription's delivery state: operational, not events (every attempt would flood
-- the log), kept across rebuilds. `secret` signs deliveries (HMAC-SHA256) and is shown to
-- the admin once; `delivered_to` is the log position delivered up to; a subscription that failed
-- too often on one event is `dead` (parked) until an admin retries or skips it.
CREATE TABLE webhook_state (
    webhook_id         TEXT    PRIMARY KEY,
    secret             TEXT    NOT NULL,
    delivered_to             INTEGER NOT NULL,
    delivered          INTEGER NOT NULL DEFAULT 0,
    failures           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL DEFAULT 0,
    dead               INTEGER NOT NULL DEFAULT 0,
    last_error         TEXT,
    stuck_at           INTEGER                  -- the event being retried, while it fails
);
