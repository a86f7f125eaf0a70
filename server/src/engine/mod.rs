//! The engine: commands (load state, `decide`, eager notice, append) and queries,
//! behind every door (server functions, WebSocket, and later REST), and the sessions
//! that say who is asking.

use crate::auth::{self, LoginLimiter, SessionToken};
use crate::log::bus::EagerNotice;
use crate::db::{Backend, Flag};
use crate::dialect;
use crate::live::hub::Hub;
use crate::log::store::now_ms;
use crate::log::store::{AppendError, Appended, EventStore, ExpectedVersion, NewEvent, StoreReadError};
use axum::http::HeaderMap;
use parley::account::{self, AccountCommand, AccountState};
use parley::space::{self, SpaceCommand, SpaceId, SpaceState};
use parley::unread::ChannelUnread;
use parley::{
    Actor, ChannelCommand, ChannelId, ChannelState, CorrelationId, CredentialError, DisplayName, DomainError, Emoji,
    Event, EventMetadata, MessageBody, MessageChange, MessageFacts, MessageId, MessageView, ParentFacts, Password,
    Position, RuleError, StreamId, UserId, Username, decide, decide_change,
};
use parley_app::api::ssr::{ChatBackend, PostRequest};
use parley_app::api::{
    AppError, ChangeRequest, ChannelView, CreatedToken, DirectView, EditView, InviteView, Me, MemberView, SearchHit,
    SpaceAction, SpaceOutcome, SpaceView, TokenView,
};
use parley_app::api::{CreatedWebhook, LogFilter, LogPage, WebhookAction, WebhookView};
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

pub mod budget;
mod contacts;
mod files;
pub mod folded;
mod inspect;
mod reads;
pub mod redaction;
mod state;
pub mod tokens;
mod webhooks;

pub use state::{AccessLost, LogState};

/// Why a command or query failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error("{0}")]
    BadRequest(String),
    #[error("wrong username or password")]
    BadCredentials,
    #[error("please sign in")]
    Unauthorized,
    #[error("too many attempts; wait {0} seconds and try again")]
    TooManyAttempts(u64),
    #[error("{0}")]
    Busy(#[from] auth::Busy),
    #[error("too many {} at once; wait {wait} seconds and try again", what.name())]
    OverBudget { what: crate::engine::budget::Write, wait: u64 },
    #[error("you are sending messages too fast; wait a moment and try again")]
    TooFast,
    #[error("{0}")]
    Internal(String),
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
            Self::Rule(_)
                | Self::Domain(_)
                | Self::Credential(_)
                | Self::BadRequest(_)
                | Self::BadCredentials
                | Self::Unauthorized
                | Self::TooManyAttempts(_)
                | Self::Busy(_)
                | Self::OverBudget { .. }
                | Self::TooFast
                | Self::Append(AppendError::Conflict { .. } | AppendError::IdInUse)
        )
    }

    /// How long to wait before trying again, for a refusal that passes with time.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyAttempts(secs) | Self::OverBudget { wait: secs, .. } => Some(*secs),
            Self::Busy(_) | Self::TooFast => Some(1),
            _ => None,
        }
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
    /// Within a server function (the only place this runs), a refusal that passes with
    /// time also tells the client when to try again (`Retry-After`).
    fn from(e: EngineError) -> Self {
        if let Some(secs) = e.retry_after() {
            parley_app::api::ssr::retry_after(secs);
        }
        if matches!(e, EngineError::Unauthorized) {
            AppError::Unauthorized
        } else if matches!(
            e,
            EngineError::Domain(DomainError::NotAMember | DomainError::NotAllowed)
        ) {
            AppError::Forbidden(e.to_string())
        } else if matches!(
            e,
            EngineError::TooManyAttempts(_)
                | EngineError::TooFast
                | EngineError::Busy(_)
                | EngineError::OverBudget { .. }
        ) {
            AppError::RateLimited(e.to_string())
        } else if e.is_user_error() {
            AppError::Invalid(e.to_string())
        } else {
            tracing::error!(error = %e, "request failed");
            AppError::Internal
        }
    }
}

/// The most messages one history query may return.
pub const MAX_PAGE: u32 = parley_app::api::MAX_HISTORY_PAGE;

/// One open socket of a user, counted while it lives.
pub struct SocketGuard {
    user: UserId,
    sockets: Arc<std::sync::Mutex<std::collections::HashMap<UserId, usize>>>,
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        let mut open = self.sockets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

/// A signed-in user and the session they are signed in with.
#[derive(Clone, Debug)]
pub struct Session {
    pub me: Me,
    /// The hash of the session's token: what a sign-out announces to close its sockets.
    pub token_hash: String,
    /// When it expires (ms since the epoch): its sockets close then.
    pub expires_at_ms: i64,
}

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
    /// How fast each user may post, and what else they may write (cluster-wide).
    limits: Arc<crate::engine::budget::Limits>,
}

impl Engine {
    /// An engine over `store`: from now on, what it decides from follows the log.
    pub fn new(store: EventStore, hub: Hub) -> Self {
        let limits = Arc::new(crate::engine::budget::Limits::default());
        let log_state = Arc::new(LogState::new(limits.clone()));
        store.bus().follow(log_state.clone());
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

    fn logins(&self) -> Arc<LoginLimiter> {
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

    /// Sets how many sockets one user may have open at once (0: no limit).
    pub fn limit_sockets(&self, per_user: usize) {
        self.max_sockets.store(per_user, std::sync::atomic::Ordering::Relaxed);
    }

    /// Counts a new socket of `user`; none when they already have as many as allowed.
    /// The socket is uncounted when the guard drops.
    /// With several nodes the limit is shared out: each of the N nodes alive allows
    /// `ceil(limit / N)`, so one account holds at most `limit + N - 1` sockets in the cluster.
    pub fn open_socket(&self, user: UserId) -> Option<SocketGuard> {
        let max = self
            .max_sockets
            .load(std::sync::atomic::Ordering::Relaxed)
            .div_ceil(self.presence.nodes());
        let mut open = self.sockets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(user).or_default();
        if max > 0 && *count >= max {
            return None;
        }
        *count += 1;
        Some(SocketGuard {
            user,
            sockets: self.sockets.clone(),
        })
    }

    /// The time the rules see: the wall clock, moved by [`Engine::advance_clock`] in tests.
    fn rules_now_ms(&self) -> i64 {
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
    async fn wait_followed(&self, position: Position) -> Result<(), EngineError> {
        let mut followed = self.store.bus().head();
        let reached = followed.wait_for(|head| *head >= position);
        match tokio::time::timeout(FOLLOW_TIMEOUT, reached).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(EngineError::Internal(format!(
                "this node has not followed the log to {position} within {FOLLOW_TIMEOUT:?}"
            ))),
        }
    }

    /// Creates an account and a session for it. `client` is the address it came from
    /// (none from the command line), for the sign-up limit.
    pub async fn sign_up(
        &self,
        username: &str,
        password: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<(Me, SessionToken), EngineError> {
        let username = Username::parse(username)?;
        let password = Password::parse(password)?;
        if client.is_some() {
            self.logins().sign_up(client).map_err(EngineError::TooManyAttempts)?;
        }
        let synced = self.synced().await?;
        if self.account(&synced, &username).await?.exists() {
            return Err(DomainError::UsernameTaken.into());
        }
        let password_hash = auth::hash_password(password).await.map_err(|e| match e {
            auth::HashError::Busy(busy) => EngineError::Busy(busy),
            auth::HashError::Failed(e) => EngineError::Internal(e),
        })?;
        let user_id = UserId::new();
        let command = AccountCommand::Register {
            user_id,
            username: username.clone(),
            password_hash,
        };
        let state = self.account(&synced, &username).await?;
        let events = account::decide(&state, &command)?;
        let metadata = EventMetadata {
            actor: username.to_string(),
            correlation_id: CorrelationId::new(),
            causation_id: None,
            client_message_id: None,
        };
        // Two sign-ups racing for one name: the store lets only the first create the stream.
        match self
            .append(username.stream(), ExpectedVersion::NoStream, &events, &metadata)
            .await
        {
            Ok(_) => {}
            Err(EngineError::Append(AppendError::Conflict { .. })) => {
                return Err(DomainError::UsernameTaken.into());
            }
            Err(e) => return Err(e),
        }
        let me = Me {
            user_id,
            username: username.to_string(),
        };
        let token = self.open_session(&me).await?;
        Ok((me, token))
    }

    /// Checks a username and password and opens a session. Whether the name exists or
    /// the password is wrong, the answer (and the time it takes) is the same.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<(Me, SessionToken), EngineError> {
        self.logins()
            .sign_in(username, client)
            .map_err(EngineError::TooManyAttempts)?;
        let synced = self.synced().await?;
        let state = match Username::parse(username) {
            Ok(name) => self.account(&synced, &name).await?,
            Err(_) => AccountState::default(),
        };
        let attempt = password.chars().take(Password::MAX_CHARS + 1).collect::<String>();
        if !auth::verify_password(state.password_hash.clone(), attempt).await? {
            return Err(EngineError::BadCredentials);
        }
        let (Some(user_id), Some(username)) = (state.user_id, state.username) else {
            return Err(EngineError::BadCredentials);
        };
        let me = Me {
            user_id,
            username: username.to_string(),
        };
        let token = self.open_session(&me).await?;
        Ok((me, token))
    }

    async fn open_session(&self, me: &Me) -> Result<SessionToken, EngineError> {
        let token = SessionToken::generate().map_err(|e| EngineError::Internal(e.to_string()))?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, username, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token.hash())
        .bind(me.user_id.to_string())
        .bind(me.username.clone())
        .bind(now)
        .bind(now + auth::SESSION_TTL.as_millis() as i64)
        .execute(self.store.pool())
        .await?;
        Ok(token)
    }

    /// The session a token opens, if it is known and not expired.
    pub async fn authenticate(&self, token: Option<&SessionToken>) -> Result<Session, EngineError> {
        let Some(token) = token else {
            return Err(EngineError::Unauthorized);
        };
        let token_hash = token.hash();
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT user_id, username, expires_at_ms FROM sessions WHERE token_hash = $1 AND expires_at_ms > $2",
        )
        .bind(&token_hash)
        .bind(now_ms())
        .fetch_optional(self.store.pool())
        .await?;
        let Some((user_id, username, expires_at_ms)) = row else {
            return Err(EngineError::Unauthorized);
        };
        let user_id = user_id
            .parse()
            .map_err(|e: uuid::Error| EngineError::Internal(format!("bad user id in sessions: {e}")))?;
        Ok(Session {
            me: Me { user_id, username },
            token_hash,
            expires_at_ms,
        })
    }

    /// Whether the session with this token hash is still open (an error counts as yes: a
    /// database hiccup does not close sockets).
    pub async fn session_stands(&self, token_hash: &str) -> bool {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions WHERE token_hash = $1 AND expires_at_ms > $2")
            .bind(token_hash)
            .bind(now_ms())
            .fetch_one(self.store.pool())
            .await
            .map_or(true, |count| count > 0)
    }

    /// Ends every session of `session`'s user but that one ("sign out everywhere else"),
    /// closing their sockets; returns how many ended.
    pub async fn sign_out_others(&self, session: &Session) -> Result<u64, EngineError> {
        let others: Vec<String> =
            sqlx::query_scalar("SELECT token_hash FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(session.me.user_id.to_string())
                .bind(&session.token_hash)
                .fetch_all(self.store.pool())
                .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(session.me.user_id.to_string())
            .bind(&session.token_hash)
            .execute(self.store.pool())
            .await?;
        self.sessions_ended(&session.me, &others).await?;
        Ok(others.len() as u64)
    }

    /// Deletes sessions that have expired (they let no one in already; this keeps the
    /// table from growing for ever). Returns how many went.
    pub async fn purge_expired_sessions(&self) -> Result<u64, EngineError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at_ms <= $1")
            .bind(now_ms())
            .execute(self.store.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// Ends a session, and tells its sockets to close (on every node).
    pub async fn sign_out(&self, token: Option<&SessionToken>) -> Result<(), EngineError> {
        let Ok(session) = self.authenticate(token).await else {
            return Ok(()); // not signed in, or already out
        };
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(&session.token_hash)
            .execute(self.store.pool())
            .await?;
        self.sessions_ended(&session.me, std::slice::from_ref(&session.token_hash))
            .await
    }

    /// Records in the log that `me`'s sessions with these token hashes ended: every node's
    /// sockets opened with them close once their node follows the event.
    async fn sessions_ended(&self, me: &Me, token_hashes: &[String]) -> Result<(), EngineError> {
        if token_hashes.is_empty() {
            return Ok(());
        }
        let event = Event::SessionsEnded {
            user_id: me.user_id,
            sessions: token_hashes.iter().map(|hash| auth::session_id(hash)).collect(),
        };
        let stream = account::sessions_stream(me.user_id);
        let appended = self
            .append(stream, ExpectedVersion::Any, &[event], &self.metadata(me, None))
            .await?;
        self.wait_followed(appended.last).await
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

    async fn execute_in(
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
    async fn submit<'a>(
        &'a self,
        synced: &Synced,
        command: ChannelCommand,
        metadata: EventMetadata,
    ) -> Result<impl Future<Output = Result<Appended, EngineError>> + use<'a>, EngineError> {
        let channel = command.channel_id();
        let state = self.state(synced, channel).await?;
        let events = decide(&state, &command)?;
        let stream = channel.stream();
        for event in &events {
            self.store.bus().emit_eager(EagerNotice {
                stream: stream.clone(),
                event: event.clone(),
                correlation_id: metadata.correlation_id,
            });
        }
        // Only creating a channel depends on the stream's version (it must find none).
        // Posts never conflict with each other; a rename or an archive depends on the
        // channel existing, which nothing undoes, so posts in flight do not make it fail.
        let expected = match command {
            ChannelCommand::CreateChannel { .. } | ChannelCommand::OpenDirect { .. } => ExpectedVersion::NoStream,
            ChannelCommand::RenameChannel { .. }
            | ChannelCommand::ArchiveChannel { .. }
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

    async fn append(
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
    async fn record(&self, me: &Me, stream: StreamId, event: Event) -> Result<(), EngineError> {
        let appended = self
            .append(stream, ExpectedVersion::Any, &[event], &self.metadata(me, None))
            .await?;
        self.wait_projected(appended.last).await;
        Ok(())
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
        let channel_id = self.create_channel_as(&synced, me, space_id, "general", caused).await?;
        Ok((space_id, channel_id))
    }

    /// Creates a channel in a space, if `me` may manage its channels.
    pub async fn create_channel(&self, me: &Me, space_id: SpaceId, name: &str) -> Result<ChannelId, EngineError> {
        let synced = self.synced().await?;
        self.create_channel_as(&synced, me, space_id, name, self.metadata(me, None))
            .await
    }

    async fn create_channel_as(
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
                self.manage_channel(me, space_id, command).await?;
                return Ok(SpaceOutcome::Done);
            }
            SpaceAction::ArchiveChannel { channel } => {
                let command = ChannelCommand::ArchiveChannel { channel_id: channel };
                self.manage_channel(me, space_id, command).await?;
                return Ok(SpaceOutcome::Done);
            }
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

    /// Renames or archives a channel of `space_id`, if `me` may manage its channels.
    async fn manage_channel(&self, me: &Me, space_id: SpaceId, command: ChannelCommand) -> Result<(), EngineError> {
        let synced = self.synced().await?;
        self.space(&synced, space_id)
            .await?
            .authorize(me.user_id, space::Right::ManageChannels)?;
        if self.state(&synced, command.channel_id()).await?.space_id != Some(space_id) {
            return Err(DomainError::NoSuchChannel.into());
        }
        let appended = self.execute_in(&synced, command, self.metadata(me, None)).await?;
        self.wait_projected(appended.last).await;
        Ok(())
    }

    /// Decides a space command against the space's state and appends it at that version;
    /// if another command got there first, decides again on the new state.
    async fn execute_space(&self, me: &Me, space_id: SpaceId, command: SpaceCommand) -> Result<(), EngineError> {
        self.execute_space_as(me, space_id, command, &self.metadata(me, None))
            .await
            .map(drop)
    }

    async fn execute_space_as(
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

    /// Waits (a little) until the read models hold `position`.
    async fn wait_projected(&self, position: Position) {
        let mut projected = self.hub.watch_projected();
        let reached = projected.wait_for(|p| *p >= position);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), reached).await;
    }

    /// The metadata of a command of `me`'s run by this node (whose limits it was counted
    /// against: see [`crate::engine::budget::Limits::mine`]).
    fn metadata(&self, me: &Me, client_message_id: Option<MessageId>) -> EventMetadata {
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

    async fn authorize_channel_in(
        &self,
        synced: &Synced,
        me: &Me,
        channel: ChannelId,
    ) -> Result<ChannelState, EngineError> {
        let state = self.state(synced, channel).await?;
        if !state.exists() {
            return Err(DomainError::NoSuchChannel.into());
        }
        if state.admits_directly(me.user_id) == Some(false) {
            return Err(DomainError::NoSuchChannel.into());
        }
        if let Some(space_id) = state.space_id
            && !self.space(synced, space_id).await?.is_member(me.user_id)
        {
            return Err(DomainError::NoSuchChannel.into());
        }
        Ok(state)
    }

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

    /// The spaces `me` belongs to, with their channels (from the read models).
    pub async fn my_spaces(&self, me: &Me) -> Result<Vec<SpaceView>, EngineError> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT s.space_id, s.name, m.role FROM spaces s
             JOIN space_members m ON m.space_id = s.space_id
             WHERE m.user_id = $1 AND s.deleted = 0 ORDER BY s.created_position",
        )
        .bind(me.user_id.to_string())
        .fetch_all(self.store.pool())
        .await?;
        let mut spaces = Vec::with_capacity(rows.len());
        for (space_id, name, role) in rows {
            let channels: Vec<(String, String)> = sqlx::query_as(
                "SELECT channel_id, name FROM channels WHERE space_id = $1 AND archived = 0 ORDER BY created_position",
            )
            .bind(&space_id)
            .fetch_all(self.store.pool())
            .await?;
            spaces.push(SpaceView {
                space_id: parse_id(&space_id)?,
                name,
                role: parse_role(&role)?,
                channels: channels
                    .into_iter()
                    .map(|(id, name)| {
                        Ok(ChannelView {
                            channel_id: parse_id(&id)?,
                            name,
                        })
                    })
                    .collect::<Result<_, EngineError>>()?,
            });
        }
        Ok(spaces)
    }

    /// The members of a space, for its members only.
    pub async fn members(&self, me: &Me, space_id: SpaceId) -> Result<Vec<MemberView>, EngineError> {
        if !self.space(&self.synced().await?, space_id).await?.is_member(me.user_id) {
            return Err(DomainError::NotAMember.into());
        }
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT m.user_id, a.username, m.role FROM space_members m
             JOIN accounts a ON a.user_id = m.user_id
             WHERE m.space_id = $1 ORDER BY a.username",
        )
        .bind(space_id.to_string())
        .fetch_all(self.store.pool())
        .await?;
        rows.into_iter()
            .map(|(user_id, username, role)| {
                Ok(MemberView {
                    user_id: parse_id(&user_id)?,
                    username,
                    role: parse_role(&role)?,
                })
            })
            .collect()
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

    /// The space's state: from the cache, or folded from its stream.
    async fn space(&self, _: &Synced, space_id: SpaceId) -> Result<SpaceState, EngineError> {
        let stream = space_id.stream();
        self.log_state.spaces.get(&space_id, || self.read_stream(&stream)).await
    }

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
    async fn views(&self, channel: ChannelId, rows: Vec<MessageRow>) -> Result<Vec<MessageView>, EngineError> {
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
        let (start, end) = (
            parley::search::MATCH_START.to_string(),
            parley::search::MATCH_END.to_string(),
        );
        let rows: Vec<(String, String, String, i64, String, i64, String)> = sqlx::query_as(dialect!(backend,
            sqlite: "SELECT m.channel_id, c.name, m.message_id, m.position, m.author, m.sent_at_ms,
                    snippet(messages_fts, 0, $1, $2, '…', 16)
             FROM messages_fts
             JOIN messages m ON m.position = messages_fts.rowid
             JOIN channels c ON c.channel_id = m.channel_id
             WHERE messages_fts MATCH $3 AND m.deleted = 0
               AND (
                    (c.space_id IS NULL AND NOT EXISTS (SELECT 1 FROM direct_members d WHERE d.channel_id = c.channel_id))
                 OR EXISTS (SELECT 1 FROM direct_members d WHERE d.channel_id = c.channel_id AND d.user_id = $4)
                 OR EXISTS (SELECT 1 FROM space_members s JOIN spaces sp ON sp.space_id = s.space_id
                            WHERE s.space_id = c.space_id AND s.user_id = $5 AND sp.deleted = 0)
               )
             ORDER BY rank LIMIT $6",
            postgres: "SELECT m.channel_id, c.name, m.message_id, m.position, m.author, m.sent_at_ms,
                    ts_headline('parley', m.body, q, 'MaxFragments=1, MaxWords=16, MinWords=4, StartSel=' || $1 || ', StopSel=' || $2)
             FROM messages m
             JOIN channels c ON c.channel_id = m.channel_id
             CROSS JOIN to_tsquery('parley', $3) AS q
             WHERE to_tsvector('parley', m.body) @@ q AND m.deleted = 0
               AND (
                    (c.space_id IS NULL AND NOT EXISTS (SELECT 1 FROM direct_members d WHERE d.channel_id = c.channel_id))
                 OR EXISTS (SELECT 1 FROM direct_members d WHERE d.channel_id = c.channel_id AND d.user_id = $4)
                 OR EXISTS (SELECT 1 FROM space_members s JOIN spaces sp ON sp.space_id = s.space_id
                            WHERE s.space_id = c.space_id AND s.user_id = $5 AND sp.deleted = 0)
               )
             ORDER BY ts_rank(to_tsvector('parley', m.body), q) DESC, m.position DESC LIMIT $6",
        ))
        .bind(start)
        .bind(end)
        .bind(query)
        .bind(me.user_id.to_string())
        .bind(me.user_id.to_string())
        .bind(i64::from(parley_app::api::MAX_SEARCH_HITS))
        .fetch_all(self.store.pool())
        .await?;
        rows.into_iter()
            .map(
                |(channel_id, channel_name, message_id, position, author, sent_at_ms, snippet)| {
                    Ok(SearchHit {
                        channel_id: parse_id(&channel_id)?,
                        channel_name,
                        message_id: parse_id(&message_id)?,
                        position: Position(position as u64),
                        author,
                        sent_at_ms,
                        snippet: parley::search::highlight(&snippet),
                    })
                },
            )
            .collect()
    }

    /// The thread a reply to `parent` (a message of `channel`) goes in.
    async fn thread_of(&self, channel: ChannelId, parent: MessageId) -> Result<MessageId, EngineError> {
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

    /// The account's state: from the cache, or folded from its stream.
    async fn account(&self, _: &Synced, username: &Username) -> Result<AccountState, EngineError> {
        let stream = username.stream();
        self.log_state
            .accounts
            .get(username, || self.read_stream(&stream))
            .await
    }

    /// Every event of one stream, in order.
    async fn read_stream(&self, stream: &StreamId) -> Result<Vec<Event>, EngineError> {
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
    async fn state(&self, _: &Synced, channel: ChannelId) -> Result<ChannelState, EngineError> {
        let stream = channel.stream();
        self.log_state
            .channels
            .get(&channel, || self.read_stream(&stream))
            .await
    }
}

/// One row of the `messages` read model.
#[derive(sqlx::FromRow)]
struct MessageRow {
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

fn parse_id<T: std::str::FromStr<Err = uuid::Error>>(raw: &str) -> Result<T, EngineError> {
    raw.parse()
        .map_err(|e: uuid::Error| EngineError::Internal(format!("bad id {raw:?} in a read model: {e}")))
}

fn parse_role(raw: &str) -> Result<parley::Role, EngineError> {
    parley::Role::parse(raw).ok_or_else(|| EngineError::Internal(format!("bad role {raw:?} in a read model")))
}

fn new_events(events: &[Event], metadata: &EventMetadata) -> Vec<NewEvent> {
    events
        .iter()
        .map(|event| NewEvent {
            event: event.clone(),
            metadata: metadata.clone(),
        })
        .collect()
}

#[async_trait::async_trait]
impl ChatBackend for Engine {
    async fn sign_up(&self, headers: &HeaderMap, username: String, password: String) -> Result<(Me, String), AppError> {
        let (me, token) = Engine::sign_up(self, &username, &password, auth::client_ip(headers)).await?;
        Ok((me, auth::session_cookie(&token, auth::is_https(headers))))
    }

    async fn sign_in(&self, headers: &HeaderMap, username: String, password: String) -> Result<(Me, String), AppError> {
        let (me, token) = Engine::sign_in(self, &username, &password, auth::client_ip(headers)).await?;
        Ok((me, auth::session_cookie(&token, auth::is_https(headers))))
    }

    async fn sign_out(&self, headers: &HeaderMap) -> Result<String, AppError> {
        Engine::sign_out(self, auth::token_from_headers(headers).as_ref()).await?;
        Ok(auth::clear_cookie(auth::is_https(headers)))
    }

    async fn sign_out_others(&self, headers: &HeaderMap) -> Result<u64, AppError> {
        let token = auth::token_from_headers(headers);
        let session = Engine::authenticate(self, token.as_ref()).await?;
        Ok(Engine::sign_out_others(self, &session).await?)
    }

    async fn authenticate(&self, headers: &HeaderMap) -> Result<Me, AppError> {
        let token = auth::token_from_headers(headers);
        Ok(Engine::authenticate(self, token.as_ref()).await?.me)
    }

    async fn post_message(&self, me: &Me, request: PostRequest) -> Result<Position, AppError> {
        self.post(me, request).await.map_err(AppError::from)
    }

    async fn history(
        &self,
        me: &Me,
        channel: ChannelId,
        before: Option<Position>,
        limit: u32,
    ) -> Result<Vec<MessageView>, AppError> {
        Engine::history(self, me, channel, before, limit)
            .await
            .map_err(AppError::from)
    }

    async fn create_space(&self, me: &Me, name: String) -> Result<SpaceView, AppError> {
        let (space_id, _) = Engine::create_space(self, me, &name).await?;
        let spaces = Engine::my_spaces(self, me).await?;
        spaces
            .into_iter()
            .find(|s| s.space_id == space_id)
            .ok_or(AppError::Internal)
    }

    async fn space_action(&self, me: &Me, space: SpaceId, action: SpaceAction) -> Result<SpaceOutcome, AppError> {
        Ok(Engine::space_action(self, me, space, action).await?)
    }

    async fn open_direct(&self, me: &Me, usernames: Vec<String>) -> Result<DirectView, AppError> {
        let channel_id = Engine::open_direct(self, me, &usernames).await?;
        Engine::my_directs(self, me)
            .await?
            .into_iter()
            .find(|d| d.channel_id == channel_id)
            .ok_or(AppError::Internal)
    }

    async fn my_directs(&self, me: &Me) -> Result<Vec<DirectView>, AppError> {
        Ok(Engine::my_directs(self, me).await?)
    }

    async fn my_spaces(&self, me: &Me) -> Result<Vec<SpaceView>, AppError> {
        Ok(Engine::my_spaces(self, me).await?)
    }

    async fn invites(&self, me: &Me, space: SpaceId) -> Result<Vec<InviteView>, AppError> {
        Ok(Engine::invites(self, me, space).await?)
    }

    async fn members(&self, me: &Me, space: SpaceId) -> Result<Vec<MemberView>, AppError> {
        Ok(Engine::members(self, me, space).await?)
    }

    async fn change_message(
        &self,
        me: &Me,
        channel: ChannelId,
        message_id: MessageId,
        change: ChangeRequest,
    ) -> Result<Position, AppError> {
        Ok(Engine::change_message(self, me, channel, message_id, change).await?)
    }

    async fn edit_history(
        &self,
        me: &Me,
        channel: ChannelId,
        message_id: MessageId,
    ) -> Result<Vec<EditView>, AppError> {
        Ok(Engine::edit_history(self, me, channel, message_id).await?)
    }

    async fn search(&self, me: &Me, query: String) -> Result<Vec<SearchHit>, AppError> {
        Ok(Engine::search(self, me, &query).await?)
    }

    async fn thread(&self, me: &Me, channel: ChannelId, root: MessageId) -> Result<Vec<MessageView>, AppError> {
        Ok(Engine::thread(self, me, channel, root).await?)
    }

    async fn unreads(&self, me: &Me) -> Result<Vec<ChannelUnread>, AppError> {
        Ok(Engine::unreads(self, me).await?)
    }

    async fn mark_read(&self, me: &Me, channel: ChannelId, up_to: Position) -> Result<Position, AppError> {
        Ok(Engine::mark_read(self, me, channel, up_to).await?)
    }

    async fn mute_channel(&self, me: &Me, channel: ChannelId, muted: bool) -> Result<(), AppError> {
        Ok(Engine::mute_channel(self, me, channel, muted).await?)
    }

    async fn create_token(&self, me: &Me, name: String) -> Result<CreatedToken, AppError> {
        let (token, secret) = Engine::create_token(self, me, &name).await?;
        Ok(CreatedToken { token, secret })
    }

    async fn tokens(&self, me: &Me) -> Result<Vec<TokenView>, AppError> {
        Ok(Engine::tokens(self, me).await?)
    }

    async fn revoke_token(&self, me: &Me, token_id: String) -> Result<(), AppError> {
        Ok(Engine::revoke_token(self, me, &token_id).await?)
    }

    async fn create_webhook(
        &self,
        me: &Me,
        space: SpaceId,
        url: String,
        event_types: Vec<String>,
    ) -> Result<CreatedWebhook, AppError> {
        let (webhook, secret) = Engine::create_webhook(self, me, space, &url, &event_types).await?;
        Ok(CreatedWebhook { webhook, secret })
    }

    async fn webhooks(&self, me: &Me, space: SpaceId) -> Result<Vec<WebhookView>, AppError> {
        Ok(Engine::webhooks(self, me, space).await?)
    }

    fn is_admin(&self, me: &Me) -> bool {
        Engine::is_admin(self, me)
    }

    async fn inspect_log(&self, me: &Me, filter: LogFilter) -> Result<LogPage, AppError> {
        Ok(Engine::inspect_log(self, me, filter).await?)
    }

    async fn retry_parked(&self, me: &Me, position: Position) -> Result<(), AppError> {
        Ok(Engine::retry_parked(self, me, position).await?)
    }

    async fn channel_at(&self, me: &Me, channel: ChannelId, position: Position) -> Result<Vec<MessageView>, AppError> {
        Ok(Engine::channel_at(self, me, channel, position).await?)
    }

    async fn webhook_action(
        &self,
        me: &Me,
        space: SpaceId,
        webhook_id: String,
        action: WebhookAction,
    ) -> Result<(), AppError> {
        Ok(Engine::webhook_action(self, me, space, &webhook_id, action).await?)
    }
}
