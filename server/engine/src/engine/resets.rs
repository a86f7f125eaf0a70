//! Password reset links: made by an instance admin (or the `reset-password` command) for someone who forgot theirs, stored hashed, good once for a day; using one sets the password, ends every session and signs in.

use super::{Engine, EngineError};
use crate::auth::{self, Client, SessionToken};
use crate::log::store::now_ms;
use parley::account::AccountCommand;
use parley::api::Me;
use parley::{DomainError, Password, Username};
use std::time::Duration;

/// How long a reset link works.
pub const RESET_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The address path of a reset link for `token` (the page opens a form on it).
pub fn reset_path(token: &SessionToken) -> String {
    format!("/?{}={}", parley::address::RESET, token.expose())
}

impl Engine {
    /// Makes a reset link for `username` (any earlier one stops working) and returns its
    /// address path. For the command line; [`Engine::admin_reset_link`] is the admins' door.
    pub async fn reset_link(&self, username: &str) -> Result<String, EngineError> {
        let name = Username::parse(username).map_err(|_| DomainError::NoSuchUser(String::new()))?;
        let state = self.account(&self.synced().await?, &name).await?;
        // A bot has no password to reset: it acts with its token.
        let Some(user_id) = state.user_id.filter(|_| state.live() && state.bot.is_none()) else {
            return Err(DomainError::NoSuchUser(name.to_string()).into());
        };
        let token = SessionToken::generate().map_err(|e| EngineError::Internal(e.to_string()))?;
        let now = now_ms();
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
            .bind(user_id.to_string())
            .execute(self.store.pool())
            .await?;
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, username, created_at_ms, expires_at_ms)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token.hash())
        .bind(user_id.to_string())
        .bind(name.to_string())
        .bind(now)
        .bind(now + RESET_TTL.as_millis() as i64)
        .execute(self.store.pool())
        .await?;
        Ok(reset_path(&token))
    }

    /// [`Engine::reset_link`], for instance admins only.
    pub async fn admin_reset_link(&self, me: &Me, username: &str) -> Result<String, EngineError> {
        if !self.is_admin(me) {
            return Err(DomainError::NotAllowed.into());
        }
        self.reset_link(username).await
    }

    /// Uses a reset link: sets the new password, ends every session of the account (their
    /// sockets close) and opens one for whoever used it. A link works once; a bad new
    /// password is refused before the link is spent.
    pub async fn reset_password(
        &self,
        raw_token: &str,
        new: &str,
        client: &Client,
    ) -> Result<(Me, SessionToken), EngineError> {
        let new = Password::parse(new)?;
        let invalid = || {
            EngineError::BadRequest("this reset link does not work: it was used, it expired, or a newer one was made; ask an admin for a new one".into())
        };
        let token = SessionToken::from_client(raw_token).ok_or_else(invalid)?;
        let row: Option<(String, String)> = sqlx::query_as(
            "DELETE FROM password_resets WHERE token_hash = $1 AND expires_at_ms > $2 RETURNING user_id, username",
        )
        .bind(token.hash())
        .bind(now_ms())
        .fetch_optional(self.store.pool())
        .await?;
        let (user_id, username) = row.ok_or_else(invalid)?;
        let user_id = super::parse_id(&user_id)?;
        let name = Username::parse(&username)?;
        let state = self.account(&self.synced().await?, &name).await?;
        if state.disabled {
            return Err(EngineError::Disabled);
        }
        if !state.live() {
            return Err(invalid());
        }
        let command = AccountCommand::ChangePassword {
            password_hash: auth::hash_password(new).await.map_err(|e| match e {
                auth::HashError::Busy(busy) => EngineError::Busy(busy),
                auth::HashError::Failed(e) => EngineError::Internal(e),
            })?,
        };
        let me = Me { user_id, username };
        self.account_command(&name, &state, &command, &self.metadata(&me, None))
            .await?;
        self.end_all_sessions(&me).await?;
        let session = self.open_session(&me, client).await?;
        Ok((me, session))
    }
}
