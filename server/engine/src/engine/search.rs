//! Full-text search over the channels a user can read: what was typed made a safe query for the backend (the search runs in the `messages` read model).

use super::{Engine, EngineError};
use crate::db::Backend;
use crate::read_model;
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
        Ok(read_model::messages::search(self.store.pool(), backend, me.user_id, &query).await?)
    }
}
