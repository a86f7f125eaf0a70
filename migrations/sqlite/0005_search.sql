-- Full-text search over message bodies (FTS5), kept in step with `messages` by triggers,
-- so a projection rebuild rebuilds it too. Deleted messages have an empty body.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body,
    content = 'messages',
    content_rowid = 'position',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.position, new.body);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.position, old.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.position, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.position, new.body);
END;

INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
