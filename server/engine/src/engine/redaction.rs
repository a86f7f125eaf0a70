//! The past as the doors serve it: events read from the log with deleted messages' words and deleted accounts' personal data taken out (the rule is `parley::redact`).
//!
//! Whether a message or an account is deleted is read from the read models (`messages`,
//! `erased_accounts`), which every door reads up to (catch-up and webhooks serve only what
//! the projector has folded), so an event is never served before a deletion that came
//! before it is known.

use crate::auth::erased_name_hash;
use parley::redact::Erased;
use parley::{MessageId, RecordedEvent, UserId};
use std::collections::HashSet;

/// The numbered placeholders `$from`.. for `count` values.
fn marks(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Of `ids`, the messages that are deleted.
pub async fn deleted_among(pool: &sqlx::AnyPool, ids: &[MessageId]) -> Result<HashSet<MessageId>, sqlx::Error> {
    let mut deleted = HashSet::new();
    // A page of the log holds at most a few hundred; chunks keep any query small.
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT message_id FROM messages WHERE deleted = 1 AND message_id IN ({})",
            marks(1, chunk.len())
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

/// The deleted accounts among some people, as [`parley::redact`] asks about them.
#[derive(Debug, Default)]
pub struct ErasedAmong {
    ids: HashSet<UserId>,
    name_hashes: HashSet<String>,
}

impl Erased for ErasedAmong {
    fn id(&self, user: UserId) -> bool {
        self.ids.contains(&user)
    }

    fn name(&self, name: &str) -> bool {
        !self.name_hashes.is_empty() && self.name_hashes.contains(&erased_name_hash(name))
    }
}

impl ErasedAmong {
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.name_hashes.is_empty()
    }
}

/// Of these ids and names, the deleted accounts.
pub async fn erased_among(pool: &sqlx::AnyPool, ids: &[UserId], names: &[&str]) -> Result<ErasedAmong, sqlx::Error> {
    let mut erased = ErasedAmong::default();
    let ids: Vec<String> = ids
        .iter()
        .map(ToString::to_string)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let hashes: Vec<String> = names
        .iter()
        .map(|name| erased_name_hash(name))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    for (column, values) in [("user_id", &ids), ("name_hash", &hashes)] {
        for chunk in values.chunks(500) {
            let sql = format!(
                "SELECT user_id, name_hash FROM erased_accounts WHERE {column} IN ({})",
                marks(1, chunk.len())
            );
            // Only a fixed column name and numbered placeholders are formatted in.
            let mut query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
            for value in chunk {
                query = query.bind(value.clone());
            }
            for (id, hash) in query.fetch_all(pool).await? {
                if let Ok(id) = id.parse() {
                    erased.ids.insert(id);
                }
                erased.name_hashes.insert(hash);
            }
        }
    }
    Ok(erased)
}

/// Takes out of `events` the words of every deleted message and every trace of a deleted
/// account: what every door that serves the log's events calls first.
pub async fn redact_page(pool: &sqlx::AnyPool, events: &mut [RecordedEvent]) -> Result<(), sqlx::Error> {
    let messages: Vec<MessageId> = events
        .iter()
        .filter_map(|e| parley::redact::words_of(&e.event))
        .collect();
    let deleted = if messages.is_empty() {
        HashSet::new()
    } else {
        deleted_among(pool, &messages).await?
    };
    let (mut ids, mut names) = (Vec::new(), Vec::new());
    for recorded in events.iter() {
        let (their_ids, their_names) = parley::redact::people_of(recorded);
        ids.extend(their_ids);
        names.extend(their_names.into_iter().map(str::to_owned));
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let erased = erased_among(pool, &ids, &names).await?;
    if deleted.is_empty() && erased.is_empty() {
        return Ok(());
    }
    for event in events {
        parley::redact::redact_recorded(event, |id| deleted.contains(&id), &erased);
    }
    Ok(())
}
