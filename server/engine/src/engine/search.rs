//! Full-text search over the channels a user can read, on SQLite (FTS5) and PostgreSQL (tsvector).

use super::{Engine, EngineError, parse_id};
use crate::db::Backend;
use crate::dialect;
use parley::Position;
use parley::api::{Me, SearchHit};

impl Engine {
    /// Full-text search over the channels `me` can read: the lobby's, those of the spaces
    /// `me` belongs to (not deleted), and `me`'s direct conversations. Best match first.
    pub async fn search(&self, me: &Me, typed: &str) -> Result<Vec<SearchHit>, EngineError> {
        if typed.chars().count() > 200 {
            return Err(EngineError::BadRequest("a search can be at most 200 characters".into()));
        }
        let backend = self.store.backend();
        let query = match backend {
            Backend::Sqlite => parley::search::fts_query(typed),
            Backend::Postgres => parley::search::tsquery(typed),
        };
        let Some(query) = query else {
            return Ok(Vec::new());
        };
        let (start, end) = (
            parley::search::MATCH_START.to_string(),
            parley::search::MATCH_END.to_string(),
        );
        let rows: Vec<(String, String, String, i64, String, i64, String)> = sqlx::query_as(dialect!(backend,
            sqlite: "SELECT m.channel_id, c.name, m.message_id, m.position, m.author, m.sent_at_ms,
                    snippet(messages_fts, 0, $1, $2, '…', 16)
             FROM messages_fts
             JOIN messages m ON m.position = messages_fts.rowid
             JOIN channels c ON c.channel_id = m.channel_id
             WHERE messages_fts MATCH $3 AND m.deleted = 0
               AND (
                    (c.space_id IS NULL AND NOT EXISTS (SELECT 1 FROM direct_members d WHERE d.channel_id = c.channel_id))
                 OR EXISTS (SELECT 1 FROM direct_members d WHERE d.channel_id = c.channel_id AND d.user_id = $4)
                 OR EXISTS (SELECT 1 FROM space_members s JOIN spaces sp ON sp.space_id = s.space_id
                            WHERE s.space_id = c.space_id AND s.user_id = $5 AND sp.deleted = 0)
               )
             ORDER BY rank LIMIT $6",
            postgres: "SELECT m.channel_id, c.name, m.message_id, m.position, m.author, m.sent_at_ms,
                    ts_headline('parley', m.body, q, 'MaxFragments=1, MaxWords=16, MinWords=4, StartSel=' || $1 || ', StopSel=' || $2)
             FROM messages m
             JOIN channels c ON c.channel_id = m.channel_id
             CROSS JOIN to_tsquery('parley', $3) AS q
             WHERE to_tsvector('parley', m.body) @@ q AND m.deleted = 0
               AND (
                    (c.space_id IS NULL AND NOT EXISTS (SELECT 1 FROM direct_members d WHERE d.channel_id = c.channel_id))
                 OR EXISTS (SELECT 1 FROM direct_members d WHERE d.channel_id = c.channel_id AND d.user_id = $4)
                 OR EXISTS (SELECT 1 FROM space_members s JOIN spaces sp ON sp.space_id = s.space_id
                            WHERE s.space_id = c.space_id AND s.user_id = $5 AND sp.deleted = 0)
               )
             ORDER BY ts_rank(to_tsvector('parley', m.body), q) DESC, m.position DESC LIMIT $6",
        ))
        .bind(start)
        .bind(end)
        .bind(query)
        .bind(me.user_id.to_string())
        .bind(me.user_id.to_string())
        .bind(i64::from(parley::api::MAX_SEARCH_HITS))
        .fetch_all(self.store.pool())
        .await?;
        rows.into_iter()
            .map(
                |(channel_id, channel_name, message_id, position, author, sent_at_ms, snippet)| {
                    Ok(SearchHit {
                        channel_id: parse_id(&channel_id)?,
                        channel_name,
                        message_id: parse_id(&message_id)?,
                        position: Position(position as u64),
                        author,
                        sent_at_ms,
                        snippet: parley::search::highlight(&snippet),
                    })
                },
            )
            .collect()
    }
}
