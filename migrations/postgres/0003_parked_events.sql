-- Events the projector could not fold, parked (dead letter) until retried from the inspector.
CREATE TABLE parked_events (
    position     BIGINT PRIMARY KEY,
    reason       TEXT   NOT NULL,
    parked_at_ms BIGINT NOT NULL
);
