//! The engine: commands (follow the log, load state, the core's `decide`, append) and queries, behind every door.
//!
//! This file holds the engine itself (what it is made of, the settings, the path every
//! command takes: `synced` → state → `decide` → `submit`); each area of commands and
//! queries has a file of its own (sessions, spaces, directs, messages, search, reads,
//! tokens, webhooks, files, inspect). The server functions (`parley-app`), the socket, REST
//! and the file door call it directly.

use crate::auth::LoginLimiter;
use crate::db::Backend;
use crate::live::hub::Hub;
use crate::log::store::now_ms;
use crate::log::store::{AppendError, Appended, EventStore, ExpectedVersion, NewEvent};
use parley::account::AccountState;
use parley::api::Me;
use parley::space::{SpaceId, SpaceState};
use parley::{
    ChannelCommand, ChannelId, ChannelState, CorrelationId, DomainError, Event, EventMetadata, MessageId, Position,
    StreamId, UserId, Username, decide,
};
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

pub mod admin;
mod bots;
pub mod budget;
mod commands;
mod contacts;
mod directs;
mod emails;
mod erasure;
mod error;
pub mod export;
mod files;
pub mod folded;
mod inspect;
pub mod mail;
mod messages;
pub mod passkeys;
pub mod profiles;
mod reads;
pub mod redaction;
pub mod resets;
mod search;
pub mod second_factor;
mod sessions;
mod spaces;
mod state;
pub mod tokens;
pub mod topics;
mod webhooks;

pub use error::{EngineError, ErrorKind, INTERNAL};
pub use sessions::{Session, SocketGuard};

pub use state::{AccessLost, Bots, LogState};

/// The most messages one history query may return.
pub const MAX_PAGE: u32 = parley::api::MAX_HISTORY_PAGE;

/// Proof that this node's state has followed the log (see [`Engine::synced`]): what every
/// read of the state a command is decided on asks for.
pub(crate) struct Synced(());

/// How long a node may take to follow the log to a position before a request fails.
const FOLLOW_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads of the log's head, shared: a request waits for a read that starts after it
/// arrived (so it sees every commit answered before), and one read serves every request
/// that was waiting when it started.
#[derive(Default)]
struct Heads {
    /// How many requests have arrived.
    arrived: std::sync::atomic::AtomicU64,
    /// One read at a time; holds how many arrivals the last read covers, and what it read.
    turn: tokio::sync::Mutex<(u64, Position)>,
}

impl Heads {
    async fn read(&self, store: &EventStore) -> Result<Position, EngineError> {
        let me = self.arrived.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let mut last = self.turn.lock().await;
        if last.0 >= me {
            return Ok(last.1);
        }
        let covers = self.arrived.load(std::sync::atomic::Ordering::SeqCst);
        let head = store.head().await?;
        *last = (covers, head);
        Ok(head)
    }
}

pub struct Engine {
    store: EventStore,
    hub: Hub,
    /// What this node decides from, following the log (see [`LogState`]).
    log_state: Arc<LogState>,
    /// The log's head as last read, shared by the requests that arrived before the read.
    heads: Heads,
    logins: std::sync::RwLock<Arc<LoginLimiter>>,
    /// Added to the wall clock for rules that depend on time (invite expiry); tests move it.
    clock_offset_ms: std::sync::atomic::AtomicI64,
    closing: watch::Sender<bool>,
    presence: Arc<crate::live::presence::PresenceHub>,
    /// Open sockets per user, and how many one user may have (0: no limit).
    sockets: Arc<std::sync::Mutex<std::collections::HashMap<UserId, usize>>>,
    max_sockets: std::sync::atomic::AtomicUsize,
    /// The projector, for retrying parked events (set once at start).
    projector: std::sync::OnceLock<crate::projection::Projector>,
    /// The instance's admins by the configuration (who may open the event inspector):
    /// accounts that existed when it was read.
    admins: std::sync::RwLock<std::collections::HashSet<UserId>>,
    /// Where webhooks may be delivered besides public addresses (the operator's list).
    outbound: std::sync::RwLock<Arc<parley::outbound::OutboundPolicy>>,
    /// Whether the lobby counts as shared for presence (the operator's choice).
    lobby_presence: std::sync::atomic::AtomicBool,
    /// How mail goes out (confirmations, reset links), when the operator set SMTP up.
    mailer: std::sync::OnceLock<crate::engine::mail::Mailer>,
    /// Whom passkeys are made for (the site's name; `localhost` until set).
    webauthn: std::sync::OnceLock<webauthn_rs::Webauthn>,
    /// How fast each user may post, and what else they may write (cluster-wide).
    limits: Arc<crate::engine::budget::Limits>,
}

impl Engine {
    /// An engine over `store`: from now on, what it decides from follows the log.
    pub fn new(store: EventStore, hub: Hub) -> Self {
        let limits = Arc::new(crate::engine::budget::Limits::default());
        let log_state = Arc::new(LogState::new(limits.clone()));
        store.bus().follow(log_state.clone());
        hub.know_bots(log_state.bots());
        Self {
            store,
            hub,
            log_state,
            heads: Heads::default(),
            clock_offset_ms: std::sync::atomic::AtomicI64::new(0),
            logins: std::sync::RwLock::new(Arc::new(LoginLimiter::new(false))),
            closing: watch::channel(false).0,
            presence: Arc::default(),
            admins: std::sync::RwLock::default(),
            outbound: std::sync::RwLock::default(),
            lobby_presence: std::sync::atomic::AtomicBool::new(false),
            mailer: std::sync::OnceLock::new(),
            webauthn: std::sync::OnceLock::new(),
            limits,
            projector: std::sync::OnceLock::new(),
            sockets: Arc::default(),
            max_sockets: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Sets where webhooks may be delivered besides public addresses.
    pub fn set_outbound_policy(&self, policy: Arc<parley::outbound::OutboundPolicy>) {
        *self.outbound.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = policy;
    }

    /// Where webhooks may be delivered besides public addresses.
    pub fn outbound_policy(&self) -> Arc<parley::outbound::OutboundPolicy> {
        self.outbound
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Turns the per-client-address limits on sign-in and sign-up on or off (the
    /// per-username-and-address one is always on).
    pub fn limit_logins_per_address(&self, on: bool) {
        *self.logins.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(LoginLimiter::new(on));
    }

    pub(crate) fn logins(&self) -> Arc<LoginLimiter> {
        self.logins
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Turns the per-user write budgets on or off (see [`crate::engine::budget`]).
    pub fn limit_writes(&self, on: bool) {
        self.limits.limit_writes(crate::engine::budget::WriteBudget::new(on));
    }

    /// Counts one write of `me`'s against its budget; refused with when to try again.
    /// Follows the log first, so what other nodes stored for `me` counts too.
    pub async fn spend(&self, me: &Me, write: crate::engine::budget::Write) -> Result<(), EngineError> {
        self.synced().await?;
        self.limits
            .spend(me.user_id, write)
            .map_err(|wait| EngineError::OverBudget { what: write, wait })
    }

    /// The time the rules see: the wall clock, moved by [`Engine::advance_clock`] in tests.
    pub(crate) fn rules_now_ms(&self) -> i64 {
        now_ms() + self.clock_offset_ms.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Moves the clock the rules see forward (tests of expiry, without waiting).
    pub fn advance_clock(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.clock_offset_ms.fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Announces members who lost a space (from the log): sockets stop following its channels.
    pub fn access_lost(&self) -> broadcast::Receiver<AccessLost> {
        self.log_state.access_lost()
    }

    /// Announces ended sessions by their public id (from the log): sockets opened with them close.
    pub fn signed_out(&self) -> broadcast::Receiver<String> {
        self.log_state.signed_out()
    }

    /// What this node decides from.
    pub fn log_state(&self) -> &LogState {
        &self.log_state
    }

    /// Waits until this node's state has followed the log up to where it stood when this
    /// was called, so what is decided next sees every command answered before, on any
    /// node. On SQLite this node is the log's only writer and announces each commit before
    /// answering it: nothing to wait for.
    pub(crate) async fn synced(&self) -> Result<Synced, EngineError> {
        if self.store.backend() == Backend::Sqlite {
            return Ok(Synced(()));
        }
        let head = self.heads.read(&self.store).await?;
        self.wait_followed(head).await?;
        Ok(Synced(()))
    }

    /// Waits until this node's bus (and so everything that follows it) has passed `position`.
    pub(crate) async fn wait_followed(&self, position: Position) -> Result<(), EngineError> {
        let mut followed = self.store.bus().head();
        let reached = followed.wait_for(|head| *head >= position);
        match tokio::time::timeout(FOLLOW_TIMEOUT, reached).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(EngineError::Internal(format!(
                "this node has not followed the log to {position} within {FOLLOW_TIMEOUT:?}"
            ))),
        }
    }

    /// Who is online, away or offline on this server.
    pub fn presence(&self) -> &Arc<crate::live::presence::PresenceHub> {
        &self.presence
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Says that `user` is typing in `channel`: an eager notice, never stored (the hub
    /// hands it to the channel's sockets here and to the other nodes).
    pub fn typing(&self, channel: ChannelId, user: &str) {
        self.store.bus().emit_eager(crate::log::bus::EagerNotice::Typing {
            channel,
            user: user.to_owned(),
        });
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
        self.execute_in(&self.synced().await?, command, metadata).await
    }

    pub(crate) async fn execute_in(
        &self,
        synced: &Synced,
        command: ChannelCommand,
        metadata: EventMetadata,
    ) -> Result<Appended, EngineError> {
        self.submit(synced, command, metadata).await?.await
    }

    /// Decides a command and hands what it produced to the store's writer, returning what
    /// will answer once it is committed: commands submitted one after the other are
    /// stored in that order, whenever their answers are awaited.
    pub(crate) async fn submit<'a>(
        &'a self,
        synced: &Synced,
        command: ChannelCommand,
        metadata: EventMetadata,
    ) -> Result<impl Future<Output = Result<Appended, EngineError>> + use<'a>, EngineError> {
        let channel = command.channel_id();
        let state = self.state(synced, channel).await?;
        let events = decide(&state, &command)?;
        let stream = channel.stream();
        // Only creating a channel depends on the stream's version (it must find none).
        // Posts never conflict with each other; a rename or an archive depends on the
        // channel existing, which nothing undoes, so posts in flight do not make it fail.
        let expected = match command {
            ChannelCommand::CreateChannel { .. } | ChannelCommand::OpenDirect { .. } => ExpectedVersion::NoStream,
            ChannelCommand::RenameChannel { .. }
            | ChannelCommand::ArchiveChannel { .. }
            | ChannelCommand::SetTopic { .. }
            | ChannelCommand::Join { .. }
            | ChannelCommand::Leave { .. }
            | ChannelCommand::DeleteChannel { .. }
            | ChannelCommand::PostMessage { .. } => ExpectedVersion::Any,
        };
        // One span per command: its correlation id travels on in the events' metadata, to
        // the projector, the dispatcher and webhook deliveries (which log it too).
        let span = tracing::debug_span!(
            "command",
            correlation_id = %metadata.correlation_id,
            stream = %stream,
            actor = %metadata.actor,
        );
        let committed = tracing::Instrument::instrument(
            self.store.submit(stream, expected, new_events(&events, &metadata)),
            span,
        )
        .await?;
        Ok(async move { Ok(committed.await?) })
    }

    pub(crate) async fn append(
        &self,
        stream: StreamId,
        expected: ExpectedVersion,
        events: &[Event],
        metadata: &EventMetadata,
    ) -> Result<Appended, EngineError> {
        Ok(self
            .store
            .append(stream, expected, new_events(events, metadata))
            .await?)
    }

    /// Appends one event of `me`'s to a stream whose order nothing depends on (read markers,
    /// webhook subscriptions) and waits until the read models hold it.
    pub(crate) async fn record(&self, me: &Me, stream: StreamId, event: Event) -> Result<(), EngineError> {
        let appended = self
            .append(stream, ExpectedVersion::Any, &[event], &self.metadata(me, None))
            .await?;
        self.wait_projected(appended.last).await;
        Ok(())
    }

    /// Waits (a little) until the read models hold `position`.
    pub(crate) async fn wait_projected(&self, position: Position) {
        let mut projected = self.hub.watch_projected();
        let reached = projected.wait_for(|p| *p >= position);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), reached).await;
    }

    /// The metadata of a command of `me`'s run by this node (whose limits it was counted
    /// against: see [`crate::engine::budget::Limits::mine`]).
    pub(crate) fn metadata(&self, me: &Me, client_message_id: Option<MessageId>) -> EventMetadata {
        let correlation_id = CorrelationId::new();
        self.limits.mine(correlation_id);
        EventMetadata {
            actor: me.user_id.to_string(),
            correlation_id,
            causation_id: None,
            client_message_id,
        }
    }

    /// Refuses unless `me` may read and post in `channel`: a member of its space (anyone
    /// signed in, for the instance-wide lobby). To a non-member, a channel does not exist:
    /// guessing ids tells nothing.
    pub async fn authorize_channel(&self, me: &Me, channel: ChannelId) -> Result<ChannelState, EngineError> {
        let synced = self.synced().await?;
        self.authorize_channel_in(&synced, me, channel).await
    }

    pub(crate) async fn authorize_channel_in(
        &self,
        synced: &Synced,
        me: &Me,
        channel: ChannelId,
    ) -> Result<ChannelState, EngineError> {
        let state = self.state(synced, channel).await?;
        if !state.exists() {
            return Err(DomainError::NoSuchChannel.into());
        }
        let membership = match state.space_id {
            Some(space_id) => {
                let space = self.space(synced, space_id).await?;
                if !space.is_member(me.user_id) {
                    return Err(DomainError::NoSuchChannel.into());
                }
                space.membership(me.user_id)
            }
            // The instance-wide lobby is for people: a bot belongs to its space only.
            None if state.members.is_none() && self.is_bot(synced, me).await? => {
                return Err(DomainError::NoSuchChannel.into());
            }
            None => None,
        };
        if state.admits_directly(me.user_id, membership) == Some(false) {
            return Err(DomainError::NoSuchChannel.into());
        }
        Ok(state)
    }

    /// Whether `me` is a bot's account (see `engine::bots`), as the log stands.
    pub async fn acts_as_bot(&self, me: &Me) -> Result<bool, EngineError> {
        self.is_bot(&self.synced().await?, me).await
    }

    pub(crate) async fn is_bot(&self, _: &Synced, me: &Me) -> Result<bool, EngineError> {
        Ok(self.log_state.is_bot(me.user_id))
    }

    /// The space's state: from the cache, or folded from its stream.
    pub(crate) async fn space(&self, _: &Synced, space_id: SpaceId) -> Result<SpaceState, EngineError> {
        let stream = space_id.stream();
        self.log_state.spaces.get(&space_id, || self.read_stream(&stream)).await
    }

    /// Creates `#general` on first start.
    pub async fn ensure_general(&self) -> Result<(), EngineError> {
        let synced = self.synced().await?;
        if self.state(&synced, ChannelId::GENERAL).await?.exists() {
            return Ok(());
        }
        let command = ChannelCommand::CreateChannel {
            channel_id: ChannelId::GENERAL,
            name: "general".into(),
            space_id: None,
            private: false,
            creator: None,
            membership: None,
        };
        let metadata = EventMetadata {
            actor: "system".into(),
            correlation_id: CorrelationId::new(),
            causation_id: None,
            client_message_id: None,
        };
        match self.execute_in(&synced, command, metadata).await {
            Ok(_) | Err(EngineError::Domain(DomainError::ChannelExists)) => Ok(()),
            Err(EngineError::Append(AppendError::Conflict { .. })) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn channel_exists(&self, channel: ChannelId) -> Result<bool, EngineError> {
        Ok(self.state(&self.synced().await?, channel).await?.exists())
    }

    /// The account's state: from the cache, or folded from its stream.
    pub(crate) async fn account(&self, _: &Synced, username: &Username) -> Result<AccountState, EngineError> {
        let stream = username.stream();
        self.log_state
            .accounts
            .get(username, || self.read_stream(&stream))
            .await
    }

    /// Every event of one stream, in order.
    pub(crate) async fn read_stream(&self, stream: &StreamId) -> Result<Vec<Event>, EngineError> {
        let mut events = Vec::new();
        let mut after = Position::ZERO;
        loop {
            let page = self
                .store
                .read_stream(stream, after, Position(i64::MAX as u64), 1_000)
                .await?;
            let Some(last) = page.last().map(|e| e.position) else {
                return Ok(events);
            };
            events.extend(page.into_iter().map(|e| e.event));
            after = last;
        }
    }

    /// The channel's state: from the cache, or folded from its stream.
    pub(crate) async fn state(&self, _: &Synced, channel: ChannelId) -> Result<ChannelState, EngineError> {
        let stream = channel.stream();
        self.log_state
            .channels
            .get(&channel, || self.read_stream(&stream))
            .await
    }
}

pub(crate) fn parse_id<T: std::str::FromStr<Err = uuid::Error>>(raw: &str) -> Result<T, EngineError> {
    raw.parse()
        .map_err(|e: uuid::Error| EngineError::Internal(format!("bad id {raw:?} in a read model: {e}")))
}

pub(crate) fn new_events(events: &[Event], metadata: &EventMetadata) -> Vec<NewEvent> {
    events
        .iter()
        .map(|event| NewEvent {
            event: event.clone(),
            metadata: metadata.clone(),
        })
        .collect()
}
