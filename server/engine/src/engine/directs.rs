//! Direct conversations: opening (or finding) one between people, and each person's list.

use super::{Engine, EngineError};
use crate::log::store::AppendError;
use crate::read_model;
use parley::api::{DirectView, Me};
use parley::{ChannelCommand, ChannelId, DomainError, Username, decide};

impl Engine {
    /// Opens (or finds) the direct conversation of `me` and the named users.
    pub async fn open_direct(&self, me: &Me, usernames: &[String]) -> Result<ChannelId, EngineError> {
        // Each try also tells whether a name exists: counted, so names cannot be listed.
        self.spend(me, crate::engine::budget::Write::Direct).await?;
        if usernames.len() >= parley::channel::MAX_DIRECT_MEMBERS {
            return Err(DomainError::BadDirectMembers {
                max: parley::channel::MAX_DIRECT_MEMBERS,
            }
            .into());
        }
        let synced = self.synced().await?;
        let mut members = std::collections::BTreeSet::from([me.user_id]);
        for raw in usernames {
            let unknown = || EngineError::Domain(DomainError::NoSuchUser(raw.trim().chars().take(32).collect()));
            let username = Username::parse(raw).map_err(|_| unknown())?;
            let state = self.account(&synced, &username).await?;
            let user_id = state.user_id.filter(|_| state.live()).ok_or_else(unknown)?;
            members.insert(user_id);
        }
        let channel_id = ChannelId::direct(&members);
        let command = ChannelCommand::OpenDirect {
            channel_id,
            opener: me.user_id,
            members,
        };
        let state = self.state(&synced, channel_id).await?;
        if decide(&state, &command)?.is_empty() {
            return Ok(channel_id);
        }
        match self.execute_in(&synced, command, self.metadata(me, None)).await {
            Ok(appended) => self.wait_projected(appended.last).await,
            // Opened by someone else at the same moment: it is there all the same.
            Err(EngineError::Append(AppendError::Conflict { .. })) => {}
            Err(e) => return Err(e),
        }
        Ok(channel_id)
    }

    /// `me`'s direct conversations, with the other people's usernames (from the read models).
    pub async fn my_directs(&self, me: &Me) -> Result<Vec<DirectView>, EngineError> {
        Ok(read_model::channels::directs_of(self.store.pool(), me.user_id).await?)
    }
}
