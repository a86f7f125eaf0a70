//! An account's email address: set it, confirm it by the link mailed to it, and ask for a password reset link by mail ("forgot your password?").

use super::{Engine, EngineError};
use crate::auth::{Client, SessionToken};
use crate::engine::mail::{Mailer, parse_address};
use crate::log::store::now_ms;
use parley::api::{EmailView, Me};
use parley::{DomainError, Username};
use std::time::Duration;

/// How long a confirmation link works.
const CONFIRM_TTL: Duration = Duration::from_secs(24 * 60 * 60);

impl Engine {
    /// Sets how mail goes out (once, at start).
    pub fn set_mailer(&self, mailer: Mailer) {
        let _ = self.mailer.set(mailer);
    }

    fn mailer(&self) -> Option<&Mailer> {
        self.mailer.get()
    }

    /// `me`'s email address and whether it is confirmed.
    pub async fn my_email(&self, me: &Me) -> Result<EmailView, EngineError> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT email, verified FROM account_emails WHERE user_id = $1")
                .bind(me.user_id.to_string())
                .fetch_optional(self.store.pool())
                .await?;
        Ok(EmailView {
            verified: row.as_ref().is_some_and(|(_, v)| *v != 0),
            email: row.map(|(email, _)| email),
            mail: self.mailer().is_some(),
        })
    }

    /// Sets (or, empty, removes) `me`'s email address. A new address is unconfirmed until
    /// its owner opens the link mailed to it; only then may reset links go there.
    pub async fn set_email(&self, me: &Me, raw: &str) -> Result<EmailView, EngineError> {
        self.spend(me, super::budget::Write::Profile).await?;
        if raw.trim().is_empty() {
            sqlx::query("DELETE FROM account_emails WHERE user_id = $1")
                .bind(me.user_id.to_string())
                .execute(self.store.pool())
                .await?;
            return self.my_email(me).await;
        }
        let Some(mailer) = self.mailer() else {
            return Err(EngineError::BadRequest(
                "this instance does not send mail (its operator has not set SMTP up)".into(),
            ));
        };
        let email = parse_address(raw).map_err(EngineError::BadRequest)?;
        let token = SessionToken::generate().map_err(|e| EngineError::Internal(e.to_string()))?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO account_emails (user_id, email, verified, token_hash, token_expires_ms, updated_at_ms)
             VALUES ($1, $2, 0, $3, $4, $5)
             ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, verified = 0,
                token_hash = excluded.token_hash, token_expires_ms = excluded.token_expires_ms,
                updated_at_ms = excluded.updated_at_ms",
        )
        .bind(me.user_id.to_string())
        .bind(&email)
        .bind(token.hash())
        .bind(now + CONFIRM_TTL.as_millis() as i64)
        .bind(now)
        .execute(self.store.pool())
        .await?;
        let link = mailer.link(&format!("/?{}={}", parley::address::VERIFY_EMAIL, token.expose()));
        mailer.send(
            &email,
            "Confirm your email address for Parley",
            format!(
                "Hello {name},\n\nto confirm that this address is yours, open this link (it works once, for a day):\n\n{link}\n\nIf you did not ask for this, ignore this mail.\n",
                name = me.username
            ),
        );
        self.my_email(me).await
    }

    /// Confirms the address a link was mailed to; returns it. Works once, for a day, and
    /// only for the address it was sent to (a newer address makes it useless).
    pub async fn verify_email(&self, raw_token: &str) -> Result<String, EngineError> {
        let invalid = || {
            EngineError::BadRequest(
                "this confirmation link does not work: it was used, it expired, or the address changed since".into(),
            )
        };
        let token = SessionToken::from_client(raw_token).ok_or_else(invalid)?;
        let email: Option<String> = sqlx::query_scalar(
            "UPDATE account_emails SET verified = 1, token_hash = NULL, token_expires_ms = NULL
             WHERE token_hash = $1 AND token_expires_ms > $2 RETURNING email",
        )
        .bind(token.hash())
        .bind(now_ms())
        .fetch_optional(self.store.pool())
        .await?;
        email.ok_or_else(invalid)
    }

    /// "Forgot your password?": mails a reset link to the account's confirmed address, if
    /// it has one. The answer is the same whatever the name (nothing learnt of accounts),
    /// and requests are limited per client address like sign-ups.
    pub async fn request_reset(&self, username: &str, client: &Client) -> Result<(), EngineError> {
        self.logins().sign_up(client.ip).map_err(EngineError::TooManyAttempts)?;
        let Some(mailer) = self.mailer() else {
            return Err(EngineError::BadRequest(
                "this instance does not send mail: ask an instance admin for a reset link".into(),
            ));
        };
        let Ok(name) = Username::parse(username) else {
            return Ok(());
        };
        let state = self.account(&self.synced().await?, &name).await?;
        let Some(user_id) = state.user_id.filter(|_| state.live() && !state.disabled) else {
            return Ok(());
        };
        let email: Option<String> =
            sqlx::query_scalar("SELECT email FROM account_emails WHERE user_id = $1 AND verified = 1")
                .bind(user_id.to_string())
                .fetch_optional(self.store.pool())
                .await?;
        let Some(email) = email else { return Ok(()) };
        let path = match self.reset_link(name.as_str()).await {
            Ok(path) => path,
            Err(EngineError::Domain(DomainError::NoSuchUser(_))) => return Ok(()),
            Err(e) => return Err(e),
        };
        mailer.send(
            &email,
            "Reset your Parley password",
            format!(
                "Hello {name},\n\nsomeone (we hope you) asked to reset the password of your Parley account. To choose a new one, open this link (it works once, for a day; every session of the account then ends):\n\n{link}\n\nIf you did not ask for this, ignore this mail: your password stays as it is.\n",
                link = mailer.link(&path)
            ),
        );
        Ok(())
    }
}
