//! Messages: posting (validated, rate-limited, pipelined in order), history and threads (from the `messages` read model), edits, deletions and reactions.

use super::{Engine, EngineError, MAX_PAGE};
use crate::log::store::ExpectedVersion;
use crate::read_model::messages;
use parley::api::PostRequest;
use parley::api::{ChangeRequest, EditView, Me};
use parley::{
    Actor, ChannelCommand, ChannelId, DisplayName, Emoji, EventMetadata, MessageBody, MessageChange, MessageId,
    MessageView, Position, decide_change,
};

impl Engine {
    /// Sets how fast each user may post: `per_second` after a `burst` (0: no limit).
    pub fn limit_posts(&self, per_second: u32, burst: u32) {
        self.limits
            .limit_posts(crate::auth::PostLimiter::new(per_second, burst));
    }

    /// Validates and posts a message as `me`; returns its log position (the first one, on a resend).
    pub async fn post(&self, me: &Me, request: PostRequest) -> Result<Position, EngineError> {
        self.submit_post(me, request).await?.await
    }

    /// Validates a message of `me`'s and hands it to the writer in turn (see
    /// [`Engine::submit`]); what it returns answers with the position once committed.
    pub async fn submit_post<'a>(
        &'a self,
        me: &Me,
        request: PostRequest,
    ) -> Result<impl Future<Output = Result<Position, EngineError>> + use<'a>, EngineError> {
        // After following the log: posts other nodes stored for this user count too.
        let synced = self.synced().await?;
        if !self.limits.post(me.user_id, request.message_id) {
            return Err(EngineError::TooFast);
        }
        self.authorize_channel_in(&synced, me, request.channel).await?;
        let author = DisplayName::parse(&me.username)?;
        let attachments = self.uploaded(me, &request.attachments).await?;
        let body = MessageBody::parse_with_files(&request.body, attachments.len())?;
        let reply_to = match request.reply_to {
            Some(parent) => Some(self.thread_of(request.channel, parent).await?),
            None => None,
        };
        let metadata = EventMetadata {
            actor: me.user_id.to_string(),
            correlation_id: request.correlation_id.unwrap_or_default(), // a new one
            causation_id: None,
            client_message_id: Some(request.message_id),
        };
        let command = ChannelCommand::PostMessage {
            channel_id: request.channel,
            message_id: request.message_id,
            author_id: me.user_id,
            author,
            body,
            reply_to,
            also_in_channel: request.also_in_channel,
            attachments,
        };
        let committed = self.submit(&synced, command, metadata).await?;
        Ok(async move { Ok(committed.await?.first) })
    }

    /// Up to `limit` messages of `channel` before `before` (newest when absent), oldest first.
    pub async fn history(
        &self,
        me: &Me,
        channel: ChannelId,
        before: Option<Position>,
        limit: u32,
    ) -> Result<Vec<MessageView>, EngineError> {
        if limit == 0 || limit > MAX_PAGE {
            return Err(EngineError::BadRequest(format!(
                "limit must be between 1 and {MAX_PAGE}"
            )));
        }
        self.authorize_channel(me, channel).await?;
        Ok(messages::page(self.store.pool(), self.store.backend(), channel, before, limit).await?)
    }

    /// Edits, deletes or reacts to a message of `channel` as `me`. Returns the change's
    /// position, or the channel's projected position when there was nothing to change.
    pub async fn change_message(
        &self,
        me: &Me,
        channel: ChannelId,
        message_id: MessageId,
        request: ChangeRequest,
        change_id: Option<MessageId>,
    ) -> Result<Option<Position>, EngineError> {
        let synced = self.synced().await?;
        let state = self.authorize_channel_in(&synced, me, channel).await?;
        // A change sent again (the answer was lost, another tab resent it): where it was
        // stored the first time, and nothing more.
        if let Some(id) = change_id
            && let Some(position) = self.stored_change(channel, id).await?
        {
            return Ok(Some(position));
        }
        self.spend(me, crate::engine::budget::Write::Change).await?;
        let change = match request {
            ChangeRequest::Edit { body } => MessageChange::Edit {
                body: MessageBody::parse(&body)?,
            },
            ChangeRequest::Delete => MessageChange::Delete,
            ChangeRequest::React { emoji, on } => MessageChange::React {
                emoji: Emoji::parse(&emoji)?,
                on,
            },
            ChangeRequest::Pin { on } => MessageChange::Pin { on },
        };
        // What the space lets `me` do here; the people of a conversation may pin in it,
        // nobody in the instance-wide lobby.
        let (moderates, pins) = match state.space_id {
            Some(space_id) => {
                let space = self.space(&synced, space_id).await?;
                let role = space.role(me.user_id);
                (
                    role.is_some_and(|role| role >= parley::Role::Moderator),
                    role.is_some_and(|role| space.allows(role, parley::space::Right::Pin)),
                )
            }
            None => (false, state.members.is_some()),
        };
        let actor = Actor {
            user_id: me.user_id,
            name: DisplayName::parse(&me.username)?,
            moderates,
            pins,
        };
        // The facts come from the read model: let it hold every committed event first, so a
        // message posted a moment ago (acked once durable, before it is projected) is found.
        let head = self.store.committed_head().await?;
        self.wait_projected(head).await;
        let pool = self.store.pool();
        let reacting = matches!(change, MessageChange::React { .. });
        let pinning = matches!(change, MessageChange::Pin { on: true });
        let facts = messages::facts(pool, channel, message_id, reacting, pinning).await?;
        let reacted = match &change {
            MessageChange::React { emoji, .. } => messages::reacted(pool, message_id, emoji, me.user_id).await?,
            _ => false,
        };
        let events = decide_change(&state, channel, message_id, facts.as_ref(), &actor, &change, reacted)?;
        if events.is_empty() {
            // Already so (a reaction already there): nothing to store.
            return Ok(None);
        }
        let metadata = EventMetadata {
            client_message_id: change_id,
            ..self.metadata(me, None)
        };
        let appended = self
            .append(channel.stream(), ExpectedVersion::Any, &events, &metadata)
            .await?;
        // Read your writes: the next history page, or the next reaction, sees this one.
        self.wait_projected(appended.last).await;
        Ok(Some(appended.last))
    }

    /// Where the change `change_id` to a message of `channel` was stored, if it was.
    async fn stored_change(&self, channel: ChannelId, change_id: MessageId) -> Result<Option<Position>, EngineError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM events WHERE client_message_id = $1 AND stream_id = $2")
                .bind(change_id.to_string())
                .bind(channel.stream().as_str().to_owned())
                .fetch_optional(self.store.pool())
                .await?;
        Ok(position.map(|p| Position(p.max(0) as u64)))
    }

    /// Saves a message of `channel` for `me` alone, or lets go of it (`on` false).
    pub async fn save_message(
        &self,
        me: &Me,
        channel: ChannelId,
        message_id: MessageId,
        on: bool,
    ) -> Result<(), EngineError> {
        self.authorize_channel(me, channel).await?;
        self.spend(me, crate::engine::budget::Write::Change).await?;
        let head = self.store.committed_head().await?;
        self.wait_projected(head).await;
        let pool = self.store.pool();
        let facts = messages::facts(pool, channel, message_id, false, false).await?;
        let (saved, count) = crate::read_model::saved::state(pool, me.user_id, message_id).await?;
        let events = parley::saved::decide_save(me.user_id, channel, message_id, facts.as_ref(), saved, count, on)?;
        for event in events {
            self.record(me, parley::saved::stream(me.user_id), event).await?;
        }
        Ok(())
    }

    /// What `me` saved and can still read, the last saved first.
    pub async fn saved_items(&self, me: &Me) -> Result<Vec<parley::api::SavedItem>, EngineError> {
        Ok(crate::read_model::saved::list(self.store.pool(), self.store.backend(), me).await?)
    }

    /// The ids of the messages `me` keeps saved (the app marks them).
    pub async fn saved_ids(&self, me: &Me) -> Result<Vec<MessageId>, EngineError> {
        Ok(crate::read_model::saved::ids(self.store.pool(), me.user_id).await?)
    }

    /// The pinned messages of `channel`, the last pinned first, for those who may read it.
    pub async fn pinned(&self, me: &Me, channel: ChannelId) -> Result<Vec<MessageView>, EngineError> {
        self.authorize_channel(me, channel).await?;
        Ok(messages::pinned(self.store.pool(), self.store.backend(), channel).await?)
    }

    /// The earlier bodies of an edited message of `channel`, oldest first.
    pub async fn edit_history(
        &self,
        me: &Me,
        channel: ChannelId,
        message_id: MessageId,
    ) -> Result<Vec<EditView>, EngineError> {
        self.authorize_channel(me, channel).await?;
        Ok(messages::edits(self.store.pool(), channel, message_id).await?)
    }

    /// The thread a reply to `parent` (a message of `channel`) goes in.
    pub(crate) async fn thread_of(&self, channel: ChannelId, parent: MessageId) -> Result<MessageId, EngineError> {
        let head = self.store.committed_head().await?;
        self.wait_projected(head).await;
        let facts = messages::parent(self.store.pool(), channel, parent).await?;
        Ok(parley::channel::thread_root(parent, facts.as_ref())?)
    }

    /// A thread of `channel`: its root and every reply, oldest first (at most a page).
    pub async fn thread(&self, me: &Me, channel: ChannelId, root: MessageId) -> Result<Vec<MessageView>, EngineError> {
        self.authorize_channel(me, channel).await?;
        Ok(messages::thread(self.store.pool(), self.store.backend(), channel, root, MAX_PAGE + 1).await?)
    }
}
