//! Deleting an account for good: by its owner (with the password) or an instance admin; what the log then serves of it is decided by `parley::redact`, what the read models keep by the `AccountErased` fold.

use super::{Engine, EngineError, Session};
use crate::auth::Client;
use parley::account::{AccountCommand, AccountState};
use parley::api::Me;
use parley::{DomainError, Username};

impl Engine {
    /// Deletes `session`'s own account, given its password (tried against the sign-in
    /// limit, like a password change). With `messages`, its messages are erased too.
    pub async fn delete_account(
        &self,
        session: &Session,
        password: &str,
        messages: bool,
        client: &Client,
    ) -> Result<(), EngineError> {
        let me = &session.me;
        let (username, state) = self.check_own_password(me, password, "password", client).await?;
        self.erase(me, &username, &state, messages).await
    }

    /// An instance admin deletes someone's account (their own through
    /// [`Engine::delete_account`], which asks for the password).
    pub async fn admin_delete_account(&self, me: &Me, username: &str, messages: bool) -> Result<(), EngineError> {
        if !self.is_admin(me) {
            return Err(DomainError::NotAllowed.into());
        }
        let unknown = || DomainError::NoSuchUser(username.to_owned());
        let username = Username::parse(username).map_err(|_| unknown())?;
        let state = self.account(&self.synced().await?, &username).await?;
        if state.user_id == Some(me.user_id) {
            return Err(DomainError::NotOnYourself.into());
        }
        if state.user_id.is_some_and(|id| self.is_configured_admin(id)) {
            return Err(EngineError::BadRequest(
                "this account is an admin by the server's configuration (PARLEY_ADMINS)".into(),
            ));
        }
        if !state.live() {
            return Err(unknown().into());
        }
        self.erase(me, &username, &state, messages).await
    }

    /// Ends the account's sessions (closing its sockets on every node), then appends
    /// `AccountErased` and waits until every read model has folded it; its security state
    /// (tokens, reset links, uploads when its messages go too) is removed with it.
    async fn erase(
        &self,
        by: &Me,
        username: &Username,
        state: &AccountState,
        messages: bool,
    ) -> Result<(), EngineError> {
        let Some(user_id) = state.user_id.filter(|_| state.live()) else {
            return Err(DomainError::NoSuchUser(String::new()).into());
        };
        let owner = Me {
            user_id,
            username: username.to_string(),
        };
        self.end_all_sessions(&owner).await?;
        let command = AccountCommand::Erase {
            messages,
            by: by.user_id,
        };
        self.account_command(username, state, &command, &self.metadata(by, None))
            .await?;
        let mut forget = vec![
            "DELETE FROM api_tokens WHERE user_id = $1",
            "DELETE FROM password_resets WHERE user_id = $1",
            "DELETE FROM second_factors WHERE user_id = $1",
            "DELETE FROM passkeys WHERE user_id = $1",
            "DELETE FROM passkey_ceremonies WHERE user_id = $1",
            "DELETE FROM account_emails WHERE user_id = $1",
        ];
        if messages {
            // Their files are reachable only through their messages and their uploads.
            forget.push("DELETE FROM uploads WHERE user_id = $1");
        }
        for sql in forget {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(user_id.to_string())
                .execute(self.store.pool())
                .await?;
        }
        // A session opened in between (the password was right a moment ago) ends too.
        self.end_all_sessions(&owner).await
    }
}
