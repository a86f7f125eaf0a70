//! Direct conversations: opening (or finding) one between people, and each person's list.

use super::{Engine, EngineError, parse_id};
use crate::log::store::AppendError;
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
            let user_id = self.account(&synced, &username).await?.user_id.ok_or_else(unknown)?;
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
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT d.channel_id, a.username FROM direct_members mine
             JOIN direct_members d ON d.channel_id = mine.channel_id AND d.user_id != mine.user_id
             JOIN accounts a ON a.user_id = d.user_id
             JOIN channels c ON c.channel_id = d.channel_id
             WHERE mine.user_id = $1 ORDER BY c.created_position, a.username",
        )
        .bind(me.user_id.to_string())
        .fetch_all(self.store.pool())
        .await?;
        let mut directs: Vec<DirectView> = Vec::new();
        for (channel_id, username) in rows {
            let channel_id: ChannelId = parse_id(&channel_id)?;
            match directs.last_mut() {
                Some(last) if last.channel_id == channel_id => last.with.push(username),
                _ => directs.push(DirectView {
                    channel_id,
                    with: vec![username],
                }),
            }
        }
        Ok(directs)
    }
}
