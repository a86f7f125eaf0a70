-- The log keeps one index per stream, not two. `UNIQUE (stream_id, stream_version)` holds
-- each entry's position too (the row id), and a stream's versions rise with its positions,
-- so it answers "this stream's events after a position" (`EventStore::read_stream`): each
-- event appended wrote a leaf of both, and this one cost about a third of an append.
DROP INDEX IF EXISTS events_stream_position;
