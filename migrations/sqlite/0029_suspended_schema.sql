-- Triggers and indexes a rebuild of the read models sets aside, with the SQL they were
-- created with: the search index and the channel index are filled in one pass at the end
-- of a rebuild instead of row by row. A rebuild cut short has them put back when the
-- projector next starts.
CREATE TABLE suspended_schema (
    name TEXT PRIMARY KEY,
    sql  TEXT NOT NULL
);
