-- Read models (CQRS query side), folded from the log by the projector. Disposable:
-- `parley-server rebuild-projections` empties them and replays the log.
CREATE TABLE projection_checkpoints (
    name     TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);

CREATE TABLE channels (
    channel_id       TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    created_position INTEGER NOT NULL
);

CREATE TABLE messages (
    position   INTEGER PRIMARY KEY,                 -- the event's log position
    message_id TEXT    NOT NULL UNIQUE,
    channel_id TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    sent_at_ms INTEGER NOT NULL
);

CREATE INDEX messages_channel_position ON messages (channel_id, position);
