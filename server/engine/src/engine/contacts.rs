//! Whose presence a user may see: the people they share a space or a conversation with (everyone, if the operator counts the lobby).

use super::{Engine, EngineError};
use parley::api::Me;
use std::collections::HashSet;

impl Engine {
    /// Makes the lobby count as shared: everyone signed in sees everyone's presence.
    pub fn share_lobby_presence(&self, on: bool) {
        self.lobby_presence.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// The usernames whose presence `me` may see, `me` included; `None` when that is
    /// everyone (the operator counts the lobby as shared).
    pub async fn presence_contacts(&self, me: &Me) -> Result<Option<HashSet<String>>, EngineError> {
        if self.lobby_presence.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(None);
        }
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT a.username FROM accounts a WHERE a.user_id IN (
                 SELECT theirs.user_id FROM space_members mine
                 JOIN spaces s ON s.space_id = mine.space_id AND s.deleted = 0
                 JOIN space_members theirs ON theirs.space_id = mine.space_id
                 WHERE mine.user_id = $1
                 UNION
                 SELECT theirs.user_id FROM direct_members mine
                 JOIN direct_members theirs ON theirs.channel_id = mine.channel_id
                 WHERE mine.user_id = $2)",
        )
        .bind(me.user_id.to_string())
        .bind(me.user_id.to_string())
        .fetch_all(self.store.pool())
        .await?;
        let mut names: HashSet<String> = names.into_iter().collect();
        names.insert(me.username.clone());
        Ok(Some(names))
    }
}
