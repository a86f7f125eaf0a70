//! Spaces: creating them and their channels, a member's actions (invites, roles, removal, channel changes), decided on the space's state at its version; the sidebar's and the members' lists.

use super::{Engine, EngineError, Synced};
use crate::auth::{self};
use crate::log::store::{AppendError, Appended, ExpectedVersion};
use crate::read_model;
use parley::api::{InviteView, Me, MemberView, SpaceAction, SpaceOutcome, SpaceView};
use parley::space::{self, SpaceCommand, SpaceId};
use parley::{ChannelCommand, ChannelId, DomainError, EventMetadata};

impl Engine {
    /// Creates a space with `me` as its admin, and its `#general` channel: one command, so
    /// one correlation id; the channel's creation names the space's as its cause.
    pub async fn create_space(&self, me: &Me, name: &str) -> Result<(SpaceId, ChannelId), EngineError> {
        self.spend(me, crate::engine::budget::Write::Space).await?;
        let space_id = SpaceId::new();
        let metadata = self.metadata(me, None);
        let command = SpaceCommand::Create { name: name.to_owned() };
        let created = self.execute_space_as(me, space_id, command, &metadata).await?;
        let caused = EventMetadata {
            causation_id: created.first_event_id,
            ..metadata
        };
        let synced = self.synced().await?;
        let channel_id = self.create_channel_as(&synced, me, space_id, "general", caused).await?;
        Ok((space_id, channel_id))
    }

    /// Creates a channel in a space, if `me` may manage its channels.
    pub async fn create_channel(&self, me: &Me, space_id: SpaceId, name: &str) -> Result<ChannelId, EngineError> {
        let synced = self.synced().await?;
        self.create_channel_as(&synced, me, space_id, name, self.metadata(me, None))
            .await
    }

    pub(crate) async fn create_channel_as(
        &self,
        synced: &Synced,
        me: &Me,
        space_id: SpaceId,
        name: &str,
        metadata: EventMetadata,
    ) -> Result<ChannelId, EngineError> {
        self.space(synced, space_id)
            .await?
            .authorize(me.user_id, space::Right::ManageChannels)?;
        let channel_id = ChannelId::new();
        let command = ChannelCommand::CreateChannel {
            channel_id,
            name: name.to_owned(),
            space_id: Some(space_id),
        };
        let appended = self.execute_in(synced, command, metadata).await?;
        self.wait_projected(appended.last).await;
        Ok(channel_id)
    }

    /// Carries out a member's action on a space.
    pub async fn space_action(
        &self,
        me: &Me,
        space_id: SpaceId,
        action: SpaceAction,
    ) -> Result<SpaceOutcome, EngineError> {
        self.spend(me, crate::engine::budget::Write::SpaceAction).await?;
        let now_ms = self.rules_now_ms();
        let command = match action {
            SpaceAction::CreateChannel { name } => {
                let channel_id = self.create_channel(me, space_id, &name).await?;
                return Ok(SpaceOutcome::Channel { channel_id });
            }
            SpaceAction::CreateInvite {
                expires_in_minutes,
                max_uses,
            } => {
                let code = auth::invite_code().map_err(|e| EngineError::Internal(e.to_string()))?;
                let command = SpaceCommand::CreateInvite {
                    code: code.clone(),
                    expires_at_ms: expires_in_minutes.map(|m| now_ms + i64::from(m) * 60_000),
                    max_uses,
                    now_ms,
                };
                self.execute_space(me, space_id, command).await?;
                return Ok(SpaceOutcome::Invite { code });
            }
            SpaceAction::RenameChannel { channel, name } => {
                let command = ChannelCommand::RenameChannel {
                    channel_id: channel,
                    name,
                };
                self.manage_channel(me, space_id, command, space::Right::ManageChannels)
                    .await?;
                return Ok(SpaceOutcome::Done);
            }
            SpaceAction::ArchiveChannel { channel } => {
                let command = ChannelCommand::ArchiveChannel { channel_id: channel };
                self.manage_channel(me, space_id, command, space::Right::ManageChannels)
                    .await?;
                return Ok(SpaceOutcome::Done);
            }
            SpaceAction::SetTopic {
                channel,
                topic,
                description,
            } => {
                let command = ChannelCommand::SetTopic {
                    channel_id: channel,
                    message_id: parley::MessageId::new(),
                    topic,
                    description,
                    by: me.user_id,
                    by_name: parley::DisplayName::parse(&me.username)?,
                };
                self.manage_channel(me, space_id, command, space::Right::SetTopic)
                    .await?;
                return Ok(SpaceOutcome::Done);
            }
            SpaceAction::Configure { settings } => SpaceCommand::Configure { settings },
            SpaceAction::Rename { name } => SpaceCommand::Rename { name },
            SpaceAction::Delete => SpaceCommand::Delete,
            SpaceAction::RevokeInvite { code } => SpaceCommand::RevokeInvite { code },
            SpaceAction::Join { code } => SpaceCommand::Join { code, now_ms },
            SpaceAction::Leave => SpaceCommand::Leave,
            SpaceAction::Remove { member } => SpaceCommand::Remove { member },
            SpaceAction::SetRole { member, role } => SpaceCommand::SetRole { member, role },
        };
        self.execute_space(me, space_id, command).await?;
        Ok(SpaceOutcome::Done)
    }

    /// Renames, archives or sets the topic of a channel of `space_id`, if `me` has `right` there.
    pub(crate) async fn manage_channel(
        &self,
        me: &Me,
        space_id: SpaceId,
        command: ChannelCommand,
        right: space::Right,
    ) -> Result<(), EngineError> {
        let synced = self.synced().await?;
        self.space(&synced, space_id).await?.authorize(me.user_id, right)?;
        if self.state(&synced, command.channel_id()).await?.space_id != Some(space_id) {
            return Err(DomainError::NoSuchChannel.into());
        }
        let appended = self.execute_in(&synced, command, self.metadata(me, None)).await?;
        self.wait_projected(appended.last).await;
        Ok(())
    }

    /// Decides a space command against the space's state and appends it at that version;
    /// if another command got there first, decides again on the new state.
    pub(crate) async fn execute_space(
        &self,
        me: &Me,
        space_id: SpaceId,
        command: SpaceCommand,
    ) -> Result<(), EngineError> {
        self.execute_space_as(me, space_id, command, &self.metadata(me, None))
            .await
            .map(drop)
    }

    pub(crate) async fn execute_space_as(
        &self,
        me: &Me,
        space_id: SpaceId,
        command: SpaceCommand,
        metadata: &EventMetadata,
    ) -> Result<Appended, EngineError> {
        for _ in 0..5 {
            let synced = self.synced().await?;
            let state = self.space(&synced, space_id).await?;
            let events = space::decide(&state, space_id, me.user_id, &command)?;
            let expected = if state.version == 0 {
                ExpectedVersion::NoStream
            } else {
                ExpectedVersion::Exact(state.version)
            };
            match self.append(space_id.stream(), expected, &events, metadata).await {
                Ok(appended) => {
                    // This node's sockets lose access (if this took it) before the answer.
                    self.wait_followed(appended.last).await?;
                    // Read your writes: the sidebar's next query sees this change.
                    self.wait_projected(appended.last).await;
                    return Ok(appended);
                }
                // Decided on a state another command has since changed: follow the log
                // (the next turn's `synced`) and decide again.
                Err(EngineError::Append(AppendError::Conflict { .. })) => {}
                Err(e) => return Err(e),
            }
        }
        Err(EngineError::Internal(
            "the space kept changing; please try again".into(),
        ))
    }

    /// The spaces `me` belongs to, with their channels (from the read models).
    pub async fn my_spaces(&self, me: &Me) -> Result<Vec<SpaceView>, EngineError> {
        Ok(read_model::spaces::of_member(self.store.pool(), me.user_id).await?)
    }

    /// The members of a space, for its members only.
    pub async fn members(&self, me: &Me, space_id: SpaceId) -> Result<Vec<MemberView>, EngineError> {
        if !self.space(&self.synced().await?, space_id).await?.is_member(me.user_id) {
            return Err(DomainError::NotAMember.into());
        }
        Ok(read_model::spaces::members(self.store.pool(), space_id).await?)
    }

    /// The live invites of a space, for those who may invite (from the space's own state,
    /// so one just made is listed at once).
    pub async fn invites(&self, me: &Me, space_id: SpaceId) -> Result<Vec<InviteView>, EngineError> {
        let state = self.space(&self.synced().await?, space_id).await?;
        state.authorize(me.user_id, space::Right::Invite)?;
        let now = self.rules_now_ms();
        Ok(state
            .invites
            .iter()
            .filter(|(_, i)| {
                !i.revoked && i.expires_at_ms.is_none_or(|at| at > now) && i.max_uses.is_none_or(|max| i.uses < max)
            })
            .map(|(code, i)| InviteView {
                code: code.clone(),
                expires_at_ms: i.expires_at_ms,
                max_uses: i.max_uses,
                uses: i.uses,
            })
            .collect())
    }
}
