//! Search over the channels a user can read: what was typed read into words (made a safe full-text query for the backend) and filters (`parley::search::Query`); the search runs in the `messages` read model.

use super::{Engine, EngineError};
use crate::db::Backend;
use crate::read_model;
use parley::api::{Me, SearchHit};
use parley::search::Query;

impl Engine {
    /// Search over the channels `me` can read: the lobby's, those of the spaces `me`
    /// belongs to (not deleted), and `me`'s direct conversations. Words and filters
    /// (`from:@ada in:#general has:file has:link before:/after:/on:YYYY-MM-DD mentions:me
    /// sort:new`); dates are days `offset_minutes` east of UTC (the reader's). Best match
    /// first, or newest first (`sort:new`, and always for filters without words).
    pub async fn search(&self, me: &Me, typed: &str, offset_minutes: i32) -> Result<Vec<SearchHit>, EngineError> {
        if typed.chars().count() > 200 {
            return Err(EngineError::BadRequest("a search can be at most 200 characters".into()));
        }
        let query = Query::parse(typed, offset_minutes).map_err(EngineError::BadRequest)?;
        let backend = self.store.backend();
        let words = match backend {
            Backend::Sqlite => parley::search::fts_query(&query.words),
            Backend::Postgres => parley::search::tsquery(&query.words),
        };
        if words.is_none() && !query.filters.any() {
            return Ok(Vec::new());
        }
        Ok(read_model::messages::search(self.store.pool(), backend, me, words.as_deref(), &query.filters).await?)
    }
}
