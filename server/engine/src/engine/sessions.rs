//! Who is asking: sign-up, sign-in, password changes, the list of one's sessions and their end (an event every node follows), and how many sockets an account holds.

use super::{Engine, EngineError};
use crate::auth::{self, Client, SessionToken};
use crate::log::store::now_ms;
use crate::log::store::{AppendError, ExpectedVersion};
use parley::account::{self, AccountCommand, AccountState};
use parley::api::{Me, SessionView};
use parley::{CorrelationId, DomainError, Event, EventMetadata, Password, UserId, Username};
use std::sync::Arc;

impl Engine {
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

    /// Creates an account and a session for it. `client` is who asks (its address for
    /// the sign-up limit, none from the command line; its browser for the sessions list).
    pub async fn sign_up(
        &self,
        username: &str,
        password: &str,
        client: &Client,
    ) -> Result<(Me, SessionToken), EngineError> {
        let username = Username::parse(username)?;
        let password = Password::parse(password)?;
        if client.ip.is_some() {
            self.logins().sign_up(client.ip).map_err(EngineError::TooManyAttempts)?;
        }
        let synced = self.synced().await?;
        if self.account(&synced, &username).await?.exists() {
            return Err(DomainError::UsernameTaken.into());
        }
        let password_hash = hash(password).await?;
        let user_id = UserId::new();
        let command = AccountCommand::Register {
            user_id,
            username: username.clone(),
            password_hash,
            bot: None,
        };
        let state = self.account(&synced, &username).await?;
        let events = account::decide(&state, &command)?;
        let metadata = EventMetadata {
            actor: username.to_string(),
            correlation_id: CorrelationId::new(),
            causation_id: None,
            client_message_id: None,
        };
        self.register_account(&username, &events, &metadata).await?;
        let me = Me {
            user_id,
            username: username.to_string(),
        };
        let token = self.open_session(&me, client).await?;
        Ok((me, token))
    }

    /// Checks a username and password (and, for an account with two-factor sign-in, the
    /// `code`) and opens a session. Whether the name exists or the password is wrong, the
    /// answer (and the time it takes) is the same; only the right password learns that a
    /// code is needed. Every try counts against the sign-in limit, codes included.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        code: Option<&str>,
        client: &Client,
    ) -> Result<(Me, SessionToken), EngineError> {
        self.logins()
            .sign_in(username, client.ip)
            .map_err(EngineError::TooManyAttempts)?;
        let synced = self.synced().await?;
        let state = match Username::parse(username) {
            Ok(name) => self.account(&synced, &name).await?,
            Err(_) => AccountState::default(),
        };
        let attempt = password.chars().take(Password::MAX_CHARS + 1).collect::<String>();
        // A bot has no password: it is checked as a name nobody holds.
        let hash = state.password_hash.clone().filter(|_| state.bot.is_none());
        if !auth::verify_password(hash, attempt).await? {
            return Err(EngineError::BadCredentials);
        }
        let (Some(user_id), Some(username)) = (state.user_id, state.username) else {
            return Err(EngineError::BadCredentials);
        };
        // Said only to whoever gave the right password.
        if state.disabled {
            return Err(EngineError::Disabled);
        }
        let me = Me {
            user_id,
            username: username.to_string(),
        };
        self.check_second_factor(&me, code).await?;
        let token = self.open_session(&me, client).await?;
        Ok((me, token))
    }

    /// Checks that `password` is `me`'s (a step up before changing the password, turning
    /// two-factor sign-in off, or deleting the account), counted against the sign-in limit
    /// so that a stolen session cannot guess it. Refused as "the {what} is not right".
    pub(crate) async fn check_own_password(
        &self,
        me: &Me,
        password: &str,
        what: &str,
        client: &Client,
    ) -> Result<(Username, AccountState), EngineError> {
        self.logins()
            .sign_in(&me.username, client.ip)
            .map_err(EngineError::TooManyAttempts)?;
        let username = Username::parse(&me.username)?;
        let state = self.account(&self.synced().await?, &username).await?;
        let attempt = password.chars().take(Password::MAX_CHARS + 1).collect::<String>();
        // A bot has no password: it is checked as a name nobody holds.
        let hash = state.password_hash.clone().filter(|_| state.bot.is_none());
        if !auth::verify_password(hash, attempt).await? {
            return Err(EngineError::BadRequest(format!("the {what} is not right")));
        }
        Ok((username, state))
    }

    /// Replaces `session`'s account password, given the current one (tried against the
    /// sign-in limit, so a stolen session cannot guess it). The account's other sessions
    /// end unless `keep_others`; returns how many ended.
    pub async fn change_password(
        &self,
        session: &Session,
        current: &str,
        new: &str,
        keep_others: bool,
        client: &Client,
    ) -> Result<u64, EngineError> {
        let new = Password::parse(new)?;
        let me = &session.me;
        let (username, state) = self.check_own_password(me, current, "current password", client).await?;
        let command = AccountCommand::ChangePassword {
            password_hash: hash(new).await?,
        };
        self.account_command(&username, &state, &command, &self.metadata(me, None))
            .await?;
        if keep_others {
            return Ok(0);
        }
        self.sign_out_others(session).await
    }

    pub(crate) async fn open_session(&self, me: &Me, client: &Client) -> Result<SessionToken, EngineError> {
        let token = SessionToken::generate().map_err(|e| EngineError::Internal(e.to_string()))?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, username, created_at_ms, expires_at_ms, user_agent, last_seen_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token.hash())
        .bind(me.user_id.to_string())
        .bind(me.username.clone())
        .bind(now)
        .bind(now + auth::SESSION_TTL.as_millis() as i64)
        .bind(&client.user_agent)
        .bind(now)
        .execute(self.store.pool())
        .await?;
        Ok(token)
    }

    /// The account's open sessions, the most recently seen first (at most
    /// [`MAX_LISTED_SESSIONS`]; "sign out everywhere else" ends the rest too).
    pub async fn sessions(&self, session: &Session) -> Result<Vec<SessionView>, EngineError> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT token_hash, user_agent, created_at_ms, last_seen_ms FROM sessions
             WHERE user_id = $1 AND expires_at_ms > $2 ORDER BY last_seen_ms DESC, created_at_ms DESC LIMIT $3",
        )
        .bind(session.me.user_id.to_string())
        .bind(now_ms())
        .bind(MAX_LISTED_SESSIONS)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(hash, user_agent, created_at_ms, last_seen_ms)| SessionView {
                session_id: auth::session_id(&hash),
                device: auth::describe_device(&user_agent),
                created_at_ms,
                last_seen_ms: last_seen_ms.max(created_at_ms),
                current: hash == session.token_hash,
            })
            .collect())
    }

    /// Ends one of the account's sessions, named by its public id (from [`Self::sessions`]),
    /// and closes its sockets. Another account's session, or one already ended, is "no
    /// such session" alike.
    pub async fn end_session(&self, session: &Session, session_id: &str) -> Result<(), EngineError> {
        let hashes: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM sessions WHERE user_id = $1")
            .bind(session.me.user_id.to_string())
            .fetch_all(self.store.pool())
            .await?;
        let Some(hash) = hashes.into_iter().find(|hash| auth::session_id(hash) == session_id) else {
            return Err(EngineError::BadRequest("no such session".into()));
        };
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(&hash)
            .execute(self.store.pool())
            .await?;
        self.sessions_ended(&session.me, std::slice::from_ref(&hash)).await
    }

    /// The session a token opens, if it is known and not expired.
    pub async fn authenticate(&self, token: Option<&SessionToken>) -> Result<Session, EngineError> {
        let Some(token) = token else {
            return Err(EngineError::Unauthorized);
        };
        let token_hash = token.hash();
        let now = now_ms();
        let row: Option<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT user_id, username, expires_at_ms, last_seen_ms FROM sessions WHERE token_hash = $1 AND expires_at_ms > $2",
        )
        .bind(&token_hash)
        .bind(now)
        .fetch_optional(self.store.pool())
        .await?;
        let Some((user_id, username, expires_at_ms, last_seen_ms)) = row else {
            return Err(EngineError::Unauthorized);
        };
        // When it was last seen, for the sessions list: written at most once a minute.
        if now - last_seen_ms >= LAST_SEEN_STEP_MS {
            sqlx::query("UPDATE sessions SET last_seen_ms = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(&token_hash)
                .execute(self.store.pool())
                .await?;
        }
        let user_id = user_id
            .parse()
            .map_err(|e: uuid::Error| EngineError::Internal(format!("bad user id in sessions: {e}")))?;
        Ok(Session {
            me: Me { user_id, username },
            token_hash,
            expires_at_ms,
            via_token: false,
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
        // Reset links that ran out too.
        sqlx::query("DELETE FROM password_resets WHERE expires_at_ms <= $1")
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

    /// Decides `command` on the account `username` as it stands (`state`) and appends what
    /// it gives, if anything, as long as the stream has not moved meanwhile (two changes
    /// racing: the second is refused rather than silently undoing the first); waits until
    /// every cache and read model follows. Whether anything was appended.
    /// Appends a new account's first events (a person's sign-up, a bot's making). Two
    /// racing for one name: the store lets only the first create the stream.
    pub(crate) async fn register_account(
        &self,
        username: &Username,
        events: &[Event],
        metadata: &EventMetadata,
    ) -> Result<(), EngineError> {
        match self
            .append(username.stream(), ExpectedVersion::NoStream, events, metadata)
            .await
        {
            Ok(_) => Ok(()),
            Err(EngineError::Append(AppendError::Conflict { .. })) => Err(DomainError::UsernameTaken.into()),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn account_command(
        &self,
        username: &Username,
        state: &AccountState,
        command: &AccountCommand,
        metadata: &EventMetadata,
    ) -> Result<bool, EngineError> {
        let events = account::decide(state, command)?;
        if events.is_empty() {
            return Ok(false);
        }
        let appended = self
            .append(
                username.stream(),
                ExpectedVersion::Exact(state.version),
                &events,
                metadata,
            )
            .await?;
        self.wait_followed(appended.last).await?;
        self.wait_projected(appended.last).await;
        Ok(true)
    }

    /// Ends every session of `owner` (disabled, or its password reset) and closes their
    /// sockets, on every node.
    pub(crate) async fn end_all_sessions(&self, owner: &Me) -> Result<(), EngineError> {
        let ended: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM sessions WHERE user_id = $1")
            .bind(owner.user_id.to_string())
            .fetch_all(self.store.pool())
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(owner.user_id.to_string())
            .execute(self.store.pool())
            .await?;
        self.sessions_ended(owner, &ended).await
    }

    /// Records in the log that `me`'s sessions with these token hashes ended: every node's
    /// sockets opened with them close once their node follows the event.
    pub(crate) async fn sessions_ended(&self, me: &Me, token_hashes: &[String]) -> Result<(), EngineError> {
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
}

/// The most sessions one list shows (an account signing in over and over for a month
/// could have thousands).
pub const MAX_LISTED_SESSIONS: i64 = 100;

/// How stale a session's "last seen" may get before a request writes it again.
const LAST_SEEN_STEP_MS: i64 = 60_000;

/// Hashes a new password (on the hashing pool; refused when it is full).
async fn hash(password: Password) -> Result<parley::PasswordHash, EngineError> {
    auth::hash_password(password).await.map_err(|e| match e {
        auth::HashError::Busy(busy) => EngineError::Busy(busy),
        auth::HashError::Failed(e) => EngineError::Internal(e),
    })
}

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
    /// For a socket opened with an API token, the hash of that token.
    pub token_hash: String,
    /// When it expires (ms since the epoch): its sockets close then.
    pub expires_at_ms: i64,
    /// Opened with an API token (a bot or a script), not a browser's session: it stands as
    /// long as the token does (see [`Engine::token_stands`]).
    pub via_token: bool,
}
