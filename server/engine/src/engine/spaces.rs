//! Spaces: creating them and their channels, a member's actions (invites, roles, removal, channel changes), decided on the space's state at its version; the sidebar's and the members' lists.

use super::{Engine, EngineError, Synced};
use crate::auth::{self};
use crate::log::store::{AppendError, Appended, ExpectedVersion};
use crate::read_model;
use parley::api::{InviteView, Me, MemberView, SpaceAction, SpaceOutcome, SpaceView};
use parley::space::{self, SpaceCommand, SpaceId};
use parley::{ChannelCommand, ChannelId, DomainError, EventMetadata};

impl Engine {
    /// The space `space_id` as it stands, if `me` is one of its members (or bots).
    pub(crate) async fn members_space(&self, me: &Me, space_id: SpaceId) -> Result<space::SpaceState, EngineError> {
        let space = self.space(&self.synced().await?, space_id).await?;
        if !space.is_member(me.user_id) {
            return Err(DomainError::NotAMember.into());
        }
        Ok(space)
    }

    /// Whether `me` is a member of `space_id` now (false when it cannot be told).
    pub async fn is_member_of(&self, me: &Me, space_id: SpaceId) -> bool {
        self.members_space(me, space_id).await.is_ok()
    }

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
        let channel_id = self
            .create_channel_as(&synced, me, space_id, "general", false, caused)
            .await?;
        Ok((space_id, channel_id))
    }

    /// Creates a channel in a space (private: only those added may read it), if `me` may
    /// manage its channels.
    pub async fn create_channel(
        &self,
        me: &Me,
        space_id: SpaceId,
        name: &str,
        private: bool,
    ) -> Result<ChannelId, EngineError> {
        let synced = self.synced().await?;
        self.create_channel_as(&synced, me, space_id, name, private, self.metadata(me, None))
            .await
    }

    pub(crate) async fn create_channel_as(
        &self,
        synced: &Synced,
        me: &Me,
        space_id: SpaceId,
        name: &str,
        private: bool,
        metadata: EventMetadata,
    ) -> Result<ChannelId, EngineError> {
        let space = self.space(synced, space_id).await?;
        space.authorize(me.user_id, space::Right::ManageChannels)?;
        let channel_id = ChannelId::new();
        let command = ChannelCommand::CreateChannel {
            channel_id,
            name: name.to_owned(),
            space_id: Some(space_id),
            private,
            creator: Some(me.user_id),
            membership: space.membership(me.user_id),
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
            SpaceAction::CreateChannel { name, private } => {
                let channel_id = self.create_channel(me, space_id, &name, private).await?;
                return Ok(SpaceOutcome::Channel { channel_id });
            }
            SpaceAction::JoinChannel { channel } => {
                self.membership(me, space_id, channel, me.user_id, true).await?;
                return Ok(SpaceOutcome::Done);
            }
            SpaceAction::LeaveChannel { channel } => {
                self.membership(me, space_id, channel, me.user_id, false).await?;
                return Ok(SpaceOutcome::Done);
            }
            SpaceAction::AddToChannel { channel, member } => {
                self.membership(me, space_id, channel, member, true).await?;
                return Ok(SpaceOutcome::Done);
            }
            SpaceAction::RemoveFromChannel { channel, member } => {
                self.membership(me, space_id, channel, member, false).await?;
                return Ok(SpaceOutcome::Done);
            }
            SpaceAction::DeleteChannel { channel } => {
                let command = ChannelCommand::DeleteChannel { channel_id: channel };
                self.manage_channel(me, space_id, command, space::Right::ManageSpace)
                    .await?;
                return Ok(SpaceOutcome::Done);
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

    /// Renames, archives, deletes or sets the topic of a channel of `space_id`, if `me` has
    /// `right` there (and is in the channel, if it is private).
    pub(crate) async fn manage_channel(
        &self,
        me: &Me,
        space_id: SpaceId,
        command: ChannelCommand,
        right: space::Right,
    ) -> Result<(), EngineError> {
        let synced = self.synced().await?;
        self.channel_of_space(&synced, me, space_id, command.channel_id())
            .await?;
        self.space(&synced, space_id).await?.authorize(me.user_id, right)?;
        let deleting = matches!(command, ChannelCommand::DeleteChannel { .. });
        let appended = self.execute_in(&synced, command, self.metadata(me, None)).await?;
        if deleting {
            // This node's sockets stop following it before the answer.
            self.wait_followed(appended.last).await?;
        }
        self.wait_projected(appended.last).await;
        Ok(())
    }

    /// A channel of `space_id` that `me` can see: one of its public channels (`me` a member
    /// of the space), or a private one `me` is in. Anything else does not exist, for `me`.
    pub(crate) async fn channel_of_space(
        &self,
        synced: &Synced,
        me: &Me,
        space_id: SpaceId,
        channel: ChannelId,
    ) -> Result<parley::ChannelState, EngineError> {
        let state = self.state(synced, channel).await?;
        let space = self.space(synced, space_id).await?;
        if state.space_id != Some(space_id)
            || !state.exists()
            || !space.is_member(me.user_id)
            || state.admits_directly(me.user_id, space.membership(me.user_id)) == Some(false)
        {
            return Err(DomainError::NoSuchChannel.into());
        }
        Ok(state)
    }

    /// Puts `user` in a channel of `space_id` (`inside`) or takes them out: oneself, or, for a
    /// private channel, by a moderator who is in it. Only a member of the space is put in.
    pub(crate) async fn membership(
        &self,
        me: &Me,
        space_id: SpaceId,
        channel: ChannelId,
        user: parley::UserId,
        inside: bool,
    ) -> Result<(), EngineError> {
        let synced = self.synced().await?;
        self.channel_of_space(&synced, me, space_id, channel).await?;
        let space = self.space(&synced, space_id).await?;
        if inside && !space.is_member(user) {
            return Err(DomainError::NotInSpace.into());
        }
        let moderates = space
            .role(me.user_id)
            .is_some_and(|r| r.can(space::Right::ManageChannels));
        let (by, channel_id, membership) = (me.user_id, channel, space.membership(user));
        let command = if inside {
            ChannelCommand::Join {
                channel_id,
                user,
                by,
                moderates,
                membership,
            }
        } else {
            ChannelCommand::Leave {
                channel_id,
                user,
                by,
                moderates,
                membership,
            }
        };
        let appended = self.execute_in(&synced, command, self.metadata(me, None)).await?;
        // Whoever was taken out loses this node's sockets' subscription before the answer.
        self.wait_followed(appended.last).await?;
        self.wait_projected(appended.last).await;
        Ok(())
    }

    /// The channels of a space `me` may open (its public channels, the private ones `me` is
    /// in), with whether `me` is in each and how many are: the channel browser.
    pub async fn browse_channels(
        &self,
        me: &Me,
        space_id: SpaceId,
    ) -> Result<Vec<parley::api::ChannelListing>, EngineError> {
        if !self.space(&self.synced().await?, space_id).await?.is_member(me.user_id) {
            return Err(DomainError::NotAMember.into());
        }
        Ok(read_model::spaces::browse(self.store.pool(), space_id, me.user_id).await?)
    }

    /// The people in a channel of a space (for its members; a private one's for those in it).
    pub async fn channel_members(
        &self,
        me: &Me,
        space_id: SpaceId,
        channel: ChannelId,
    ) -> Result<Vec<MemberView>, EngineError> {
        let synced = self.synced().await?;
        self.channel_of_space(&synced, me, space_id, channel).await?;
        Ok(read_model::spaces::channel_members(self.store.pool(), space_id, channel).await?)
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
