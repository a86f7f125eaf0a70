//! The past as the doors serve it: events read from the log with deleted messages' words taken out (the rule is `parley::redact`).
//!
//! Whether a message is deleted is read from the messages read model, which every door
//! reads up to (catch-up and webhooks serve only what the projector has folded), so an
//! event is never served before its message's deletion is known, if it came before.

use parley::{MessageId, RecordedEvent};
use std::collections::HashSet;

/// Of `ids`, the messages that are deleted.
pub async fn deleted_among(pool: &sqlx::AnyPool, ids: &[MessageId]) -> Result<HashSet<MessageId>, sqlx::Error> {
    let mut deleted = HashSet::new();
    // A page of the log holds at most a few hundred; chunks keep any query small.
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT message_id FROM messages WHERE deleted = 1 AND message_id IN ({})",
            marks.join(", ")
        );
        // Only numbered placeholders are formatted in; the ids are bound.
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.to_string());
        }
        for id in query.fetch_all(pool).await? {
            if let Ok(id) = id.parse() {
                deleted.insert(id);
            }
        }
    }
    Ok(deleted)
}

/// Takes the words out of every event in `events` whose message is deleted.
pub async fn redact_deleted(pool: &sqlx::AnyPool, events: &mut [RecordedEvent]) -> Result<(), sqlx::Error> {
    let ids: Vec<MessageId> = events
        .iter()
        .filter_map(|e| parley::redact::words_of(&e.event))
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let deleted = deleted_among(pool, &ids).await?;
    if deleted.is_empty() {
        return Ok(());
    }
    for event in events {
        parley::redact::redact(&mut event.event, |id| deleted.contains(&id));
    }
    Ok(())
}
