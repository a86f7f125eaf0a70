-- The event store: the single source of truth. Append-only.
CREATE TABLE events (
    position          INTEGER PRIMARY KEY,          -- global, gap-free (one writer)
    stream_id         TEXT    NOT NULL,
    stream_version    INTEGER NOT NULL,             -- 1-based within the stream
    event_id          TEXT    NOT NULL UNIQUE,
    event_type        TEXT    NOT NULL,
    schema_version    INTEGER NOT NULL,
    payload           TEXT    NOT NULL,             -- JSON, without the type tag
    metadata          TEXT    NOT NULL,             -- JSON: actor, correlation, causation, client message id
    client_message_id TEXT,                         -- copied out of metadata for idempotency
    recorded_at_ms    INTEGER NOT NULL,
    UNIQUE (stream_id, stream_version)
);

CREATE UNIQUE INDEX events_client_message_id ON events (client_message_id)
    WHERE client_message_id IS NOT NULL;
CREATE INDEX events_stream_position ON events (stream_id, position);
