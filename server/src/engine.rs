//! The engine: commands (load state, `decide`, eager notice, append) and queries,
//! behind every door (server functions, WebSocket, and later REST).

use crate::bus::EagerNotice;
use crate::dispatcher::Hub;
use crate::store::{AppendError, Appended, EventStore, ExpectedVersion, NewEvent, StoreReadError};
use parley::{
    ChannelCommand, ChannelId, ChannelState, CorrelationId, DisplayName, DomainError, EventMetadata, MessageBody,
    MessageId, MessageView, Position, RuleError, decide, evolve,
};
use parley_app::api::AppError;
use parley_app::api::ssr::{ChatBackend, PostRequest};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

/// Why a command or query failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Append(#[from] AppendError),
    #[error(transparent)]
    Read(#[from] StoreReadError),
    #[error(transparent)]
    Query(#[from] sqlx::Error),
}

impl EngineError {
    /// True when the user's request was at fault (and changed nothing).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Self::Rule(_) | Self::Domain(_) | Self::BadRequest(_) | Self::Append(AppendError::Conflict { .. })
        )
    }

    /// What a user may read: the rule that was broken, or a generic line for server faults,
    /// whose cause is logged here and never sent.
    pub fn user_message(&self) -> String {
        if self.is_user_error() {
            self.to_string()
        } else {
            tracing::error!(error = %self, "request failed");
            AppError::Internal.to_string()
        }
    }
}

impl From<EngineError> for AppError {
    fn from(e: EngineError) -> Self {
        if e.is_user_error() {
            AppError::Invalid(e.to_string())
        } else {
            tracing::error!(error = %e, "request failed");
            AppError::Internal
        }
    }
}

/// The most messages one history query may return.
pub const MAX_PAGE: u32 = parley_app::api::MAX_HISTORY_PAGE;

pub struct Engine {
    store: EventStore,
    hub: Hub,
    /// Channel states folded from their streams, so `decide` need not replay them.
    channels: Mutex<HashMap<ChannelId, ChannelState>>,
    closing: watch::Sender<bool>,
}

impl Engine {
    pub fn new(store: EventStore, hub: Hub) -> Self {
        Self {
            store,
            hub,
            channels: Mutex::default(),
            closing: watch::channel(false).0,
        }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Tells long-lived connections to close: the server is stopping.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Decides a command against the channel's state and appends what it produced.
    pub async fn execute(&self, command: ChannelCommand, metadata: EventMetadata) -> Result<Appended, EngineError> {
        let channel = command.channel_id();
        let state = self.state(channel).await?;
        let events = decide(&state, &command)?;
        let stream = channel.stream();
        for event in &events {
            self.store.bus().emit_eager(EagerNotice {
                stream: stream.clone(),
                event: event.clone(),
                correlation_id: metadata.correlation_id,
            });
        }
        // Posting does not depend on what else the channel holds, so posts to one channel
        // never conflict with each other; creating a channel must find no stream.
        let expected = match command {
            ChannelCommand::CreateChannel { .. } => ExpectedVersion::NoStream,
            ChannelCommand::PostMessage { .. } => ExpectedVersion::Any,
        };
        let new_events: Vec<NewEvent> = events
            .iter()
            .map(|event| NewEvent {
                event: event.clone(),
                metadata: metadata.clone(),
            })
            .collect();
        let appended = self.store.append(stream, expected, new_events).await?;
        if !appended.duplicate {
            let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
            let mut next = events.iter().fold(state, evolve);
            next.version = appended.stream_version;
            channels.insert(channel, next);
        }
        Ok(appended)
    }

    /// Validates and posts a message; returns its log position (the first one, on a resend).
    pub async fn post(&self, request: PostRequest) -> Result<Position, EngineError> {
        let author = DisplayName::parse(&request.author)?;
        let body = MessageBody::parse(&request.body)?;
        let metadata = EventMetadata {
            actor: author.to_string(),
            correlation_id: CorrelationId::new(),
            causation_id: None,
            client_message_id: Some(request.message_id),
        };
        let command = ChannelCommand::PostMessage {
            channel_id: request.channel,
            message_id: request.message_id,
            author,
            body,
        };
        Ok(self.execute(command, metadata).await?.first)
    }

    /// Creates `#general` on first start.
    pub async fn ensure_general(&self) -> Result<(), EngineError> {
        if self.state(ChannelId::GENERAL).await?.exists() {
            return Ok(());
        }
        let command = ChannelCommand::CreateChannel {
            channel_id: ChannelId::GENERAL,
            name: "general".into(),
        };
        let metadata = EventMetadata {
            actor: "system".into(),
            correlation_id: CorrelationId::new(),
            causation_id: None,
            client_message_id: None,
        };
        match self.execute(command, metadata).await {
            Ok(_) | Err(EngineError::Domain(DomainError::ChannelExists)) => Ok(()),
            Err(EngineError::Append(AppendError::Conflict { .. })) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn channel_exists(&self, channel: ChannelId) -> Result<bool, EngineError> {
        Ok(self.state(channel).await?.exists())
    }

    /// Up to `limit` messages of `channel` before `before` (newest when absent), oldest first.
    pub async fn history(
        &self,
        channel: ChannelId,
        before: Option<Position>,
        limit: u32,
    ) -> Result<Vec<MessageView>, EngineError> {
        if limit == 0 || limit > MAX_PAGE {
            return Err(EngineError::BadRequest(format!(
                "limit must be between 1 and {MAX_PAGE}"
            )));
        }
        if !self.channel_exists(channel).await? {
            return Err(DomainError::NoSuchChannel.into());
        }
        let before = before.map_or(i64::MAX, |p| p.0.min(i64::MAX as u64) as i64);
        let rows: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
            "SELECT position, message_id, author, body, sent_at_ms FROM messages
             WHERE channel_id = ? AND position < ? ORDER BY position DESC LIMIT ?",
        )
        .bind(channel.to_string())
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.store.pool())
        .await?;
        let mut page = Vec::with_capacity(rows.len());
        for (position, message_id, author, body, sent_at_ms) in rows.into_iter().rev() {
            let message_id: MessageId = message_id.parse().map_err(|e: uuid::Error| StoreReadError::Corrupt {
                position,
                reason: e.to_string(),
            })?;
            page.push(MessageView {
                position: Position(position as u64),
                message_id,
                channel_id: channel,
                author,
                body,
                sent_at_ms,
            });
        }
        Ok(page)
    }

    /// The channel's state: from the cache, or folded from its stream.
    async fn state(&self, channel: ChannelId) -> Result<ChannelState, EngineError> {
        if let Some(state) = self.channels.lock().unwrap_or_else(|p| p.into_inner()).get(&channel) {
            return Ok(state.clone());
        }
        let stream = channel.stream();
        let mut state = ChannelState::default();
        let mut after = Position::ZERO;
        loop {
            let page = self
                .store
                .read_stream(&stream, after, Position(i64::MAX as u64), 1_000)
                .await?;
            let Some(last) = page.last().map(|e| e.position) else {
                break;
            };
            state = page.iter().map(|e| &e.event).fold(state, evolve);
            after = last;
        }
        if state.exists() {
            self.channels
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(channel, state.clone());
        }
        Ok(state)
    }
}

#[async_trait::async_trait]
impl ChatBackend for Engine {
    async fn post_message(&self, request: PostRequest) -> Result<Position, AppError> {
        self.post(request).await.map_err(AppError::from)
    }

    async fn history(
        &self,
        channel: ChannelId,
        before: Option<Position>,
        limit: u32,
    ) -> Result<Vec<MessageView>, AppError> {
        Engine::history(self, channel, before, limit)
            .await
            .map_err(AppError::from)
    }
}
