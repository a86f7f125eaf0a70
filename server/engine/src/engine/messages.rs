//! Messages: posting (validated, rate-limited, pipelined in order), history and threads from the read model, edits, deletions and reactions.

use super::{Engine, EngineError, MAX_PAGE, parse_id};
use crate::db::Flag;
use crate::dialect;
use crate::log::store::{ExpectedVersion, StoreReadError};
use parley::api::PostRequest;
use parley::api::{ChangeRequest, EditView, Me};
use parley::{
    Actor, ChannelCommand, ChannelId, DisplayName, Emoji, EventMetadata, MessageBody, MessageChange, MessageFacts,
    MessageId, MessageView, ParentFacts, Position, decide_change,
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
        let before = before.map_or(i64::MAX, |p| p.0.min(i64::MAX as u64) as i64);
        let mut rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT position, message_id, author, body, sent_at_ms, edited, deleted, revision, reply_to, replies,
                    attachments
             FROM messages WHERE channel_id = $1 AND position < $2 ORDER BY position DESC LIMIT $3",
        )
        .bind(channel.to_string())
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.store.pool())
        .await?;
        rows.reverse();
        self.views(channel, rows).await
    }

    /// Rows of the `messages` read model as views, with their reactions (one more query).
    pub(crate) async fn views(
        &self,
        channel: ChannelId,
        rows: Vec<MessageRow>,
    ) -> Result<Vec<MessageView>, EngineError> {
        let mut page = Vec::with_capacity(rows.len());
        for row in rows {
            let position = row.position;
            let corrupt = |e: uuid::Error| StoreReadError::Corrupt {
                position,
                reason: e.to_string(),
            };
            let message_id: MessageId = row.message_id.parse().map_err(corrupt)?;
            let reply_to = row.reply_to.as_deref().map(str::parse).transpose().map_err(corrupt)?;
            let attachments = if row.attachments.is_empty() {
                Vec::new()
            } else {
                serde_json::from_str(&row.attachments).map_err(|e| StoreReadError::Corrupt {
                    position,
                    reason: e.to_string(),
                })?
            };
            page.push(MessageView {
                attachments,
                edited: row.edited.0,
                deleted: row.deleted.0,
                revision: Position(row.revision.max(position) as u64),
                reply_to,
                replies: u32::try_from(row.replies).unwrap_or(0),
                ..MessageView::posted(
                    Position(position as u64),
                    message_id,
                    channel,
                    row.author,
                    row.body,
                    row.sent_at_ms,
                )
            });
        }
        if page.is_empty() {
            return Ok(page);
        }
        // Reactions, in the order each emoji was first used.
        let ids: Vec<String> = page.iter().map(|v| v.message_id.to_string()).collect();
        let ids = serde_json::to_string(&ids).map_err(|e| EngineError::Internal(e.to_string()))?;
        let reactions: Vec<(String, String, String)> = sqlx::query_as(dialect!(self.store.backend(),
            sqlite: "SELECT message_id, emoji, username FROM reactions
                     WHERE message_id IN (SELECT value FROM json_each($1)) ORDER BY position",
            postgres: "SELECT message_id, emoji, username FROM reactions
                       WHERE message_id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY position",
        ))
        .bind(ids)
        .fetch_all(self.store.pool())
        .await?;
        for (message_id, emoji, user) in reactions {
            let Some(view) = page.iter_mut().find(|v| v.message_id.to_string() == message_id) else {
                continue;
            };
            match view.reactions.iter_mut().find(|r| r.emoji == emoji) {
                Some(reaction) => reaction.users.push(user),
                None => view.reactions.push(parley::Reaction {
                    emoji,
                    users: vec![user],
                }),
            }
        }
        Ok(page)
    }

    /// Edits, deletes or reacts to a message of `channel` as `me`. Returns the change's
    /// position, or the channel's projected position when there was nothing to change.
    pub async fn change_message(
        &self,
        me: &Me,
        channel: ChannelId,
        message_id: MessageId,
        request: ChangeRequest,
    ) -> Result<Position, EngineError> {
        let synced = self.synced().await?;
        let state = self.authorize_channel_in(&synced, me, channel).await?;
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
        };
        let moderates = match state.space_id {
            Some(space_id) => self
                .space(&synced, space_id)
                .await?
                .role(me.user_id)
                .is_some_and(|role| role >= parley::Role::Moderator),
            None => false,
        };
        let actor = Actor {
            user_id: me.user_id,
            name: DisplayName::parse(&me.username)?,
            moderates,
        };
        // The facts come from the read model: let it hold every committed event first, so a
        // message posted a moment ago (acked once durable, before it is projected) is found.
        let head = self.store.committed_head().await?;
        self.wait_projected(head).await;
        let facts: Option<(Option<String>, Flag, String)> =
            sqlx::query_as("SELECT author_id, deleted, channel_id FROM messages WHERE message_id = $1")
                .bind(message_id.to_string())
                .fetch_optional(self.store.pool())
                .await?;
        // A message of another channel does not exist here.
        let emojis: Vec<String> = match &change {
            MessageChange::React { .. } => {
                sqlx::query_scalar("SELECT DISTINCT emoji FROM reactions WHERE message_id = $1")
                    .bind(message_id.to_string())
                    .fetch_all(self.store.pool())
                    .await?
            }
            _ => Vec::new(),
        };
        let facts = facts
            .filter(|(_, _, c)| *c == channel.to_string())
            .map(|(author, deleted, _)| MessageFacts {
                author_id: author.and_then(|a| a.parse().ok()),
                deleted: deleted.0,
                reactions: emojis.into_iter().filter_map(|e| Emoji::try_from(e).ok()).collect(),
            });
        let reacted = match &change {
            MessageChange::React { emoji, .. } => {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3",
                )
                .bind(message_id.to_string())
                .bind(emoji.to_string())
                .bind(me.user_id.to_string())
                .fetch_one(self.store.pool())
                .await?
                    > 0
            }
            _ => false,
        };
        let events = decide_change(&state, channel, message_id, facts.as_ref(), &actor, &change, reacted)?;
        if events.is_empty() {
            return Ok(self.hub.projected());
        }
        let appended = self
            .append(
                channel.stream(),
                ExpectedVersion::Any,
                &events,
                &self.metadata(me, None),
            )
            .await?;
        // Read your writes: the next history page, or the next reaction, sees this one.
        self.wait_projected(appended.last).await;
        Ok(appended.last)
    }

    /// The earlier bodies of an edited message of `channel`, oldest first.
    pub async fn edit_history(
        &self,
        me: &Me,
        channel: ChannelId,
        message_id: MessageId,
    ) -> Result<Vec<EditView>, EngineError> {
        self.authorize_channel(me, channel).await?;
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT e.body_before, e.edited_at_ms FROM message_edits e
             JOIN messages m ON m.message_id = e.message_id
             WHERE e.message_id = $1 AND m.channel_id = $2 AND m.deleted = 0 ORDER BY e.position",
        )
        .bind(message_id.to_string())
        .bind(channel.to_string())
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(body, replaced_at_ms)| EditView { body, replaced_at_ms })
            .collect())
    }

    /// The thread a reply to `parent` (a message of `channel`) goes in.
    pub(crate) async fn thread_of(&self, channel: ChannelId, parent: MessageId) -> Result<MessageId, EngineError> {
        let head = self.store.committed_head().await?;
        self.wait_projected(head).await;
        let row: Option<(Option<String>, Flag)> =
            sqlx::query_as("SELECT reply_to, deleted FROM messages WHERE message_id = $1 AND channel_id = $2")
                .bind(parent.to_string())
                .bind(channel.to_string())
                .fetch_optional(self.store.pool())
                .await?;
        let facts = row
            .map(|(reply_to, deleted)| -> Result<ParentFacts, EngineError> {
                Ok(ParentFacts {
                    reply_to: reply_to.as_deref().map(parse_id).transpose()?,
                    deleted: deleted.0,
                })
            })
            .transpose()?;
        Ok(parley::channel::thread_root(parent, facts.as_ref())?)
    }

    /// A thread of `channel`: its root and every reply, oldest first (at most a page).
    pub async fn thread(&self, me: &Me, channel: ChannelId, root: MessageId) -> Result<Vec<MessageView>, EngineError> {
        self.authorize_channel(me, channel).await?;
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT position, message_id, author, body, sent_at_ms, edited, deleted, revision, reply_to, replies,
                    attachments
             FROM messages WHERE channel_id = $1 AND (message_id = $2 OR reply_to = $3)
             ORDER BY position LIMIT $4",
        )
        .bind(channel.to_string())
        .bind(root.to_string())
        .bind(root.to_string())
        .bind(i64::from(MAX_PAGE) + 1)
        .fetch_all(self.store.pool())
        .await?;
        self.views(channel, rows).await
    }
}

/// One row of the `messages` read model.
#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    position: i64,
    message_id: String,
    author: String,
    body: String,
    sent_at_ms: i64,
    edited: Flag,
    deleted: Flag,
    revision: i64,
    reply_to: Option<String>,
    replies: i64,
    /// JSON, or empty for none.
    attachments: String,
}
