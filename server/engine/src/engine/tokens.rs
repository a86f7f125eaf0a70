//! Personal API tokens: created (shown once), listed, revoked, and checked on each REST request.

use super::{Engine, EngineError, now_ms};
use crate::auth::SessionToken;
use parley::api::{Me, TokenView};

/// What every token starts with, so a leaked one is easy to recognise (and to scan for).
pub const TOKEN_PREFIX: &str = "pt_";
/// The most tokens one user may hold.
pub const MAX_TOKENS: i64 = 20;

type TokenRow = (String, String, i64, Option<i64>);

impl Engine {
    /// Makes a token for `me`; returns it and its secret, which is never shown again.
    pub async fn create_token(&self, me: &Me, name: &str) -> Result<(TokenView, String), EngineError> {
        self.spend(me, crate::engine::budget::Write::Token).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(EngineError::BadRequest(
                "a token's name must be 1 to 64 characters".into(),
            ));
        }
        let held: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE user_id = $1")
            .bind(me.user_id.to_string())
            .fetch_one(self.store.pool())
            .await?;
        if held >= MAX_TOKENS {
            return Err(EngineError::BadRequest(format!(
                "at most {MAX_TOKENS} tokens; revoke one first"
            )));
        }
        let (view, token) = self.insert_token(me, name).await?;
        Ok((view, token))
    }

    /// Stores a new token of `owner`'s (a person's, or a bot's); returns it, with its secret.
    pub(crate) async fn insert_token(&self, owner: &Me, name: &str) -> Result<(TokenView, String), EngineError> {
        let secret = SessionToken::generate().map_err(|e| EngineError::Internal(e.to_string()))?;
        let token_id = uuid::Uuid::now_v7().to_string();
        let created_at_ms = now_ms();
        sqlx::query(
            "INSERT INTO api_tokens (token_id, token_hash, user_id, username, name, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&token_id)
        .bind(secret.hash())
        .bind(owner.user_id.to_string())
        .bind(&owner.username)
        .bind(name)
        .bind(created_at_ms)
        .execute(self.store.pool())
        .await?;
        let view = TokenView {
            token_id,
            name: name.to_owned(),
            created_at_ms,
            last_used_at_ms: None,
        };
        Ok((view, format!("{TOKEN_PREFIX}{}", secret.expose())))
    }

    pub async fn tokens(&self, me: &Me) -> Result<Vec<TokenView>, EngineError> {
        let rows: Vec<TokenRow> = sqlx::query_as(
            "SELECT token_id, name, created_at_ms, last_used_at_ms FROM api_tokens
             WHERE user_id = $1 ORDER BY created_at_ms",
        )
        .bind(me.user_id.to_string())
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(token_id, name, created_at_ms, last_used_at_ms)| TokenView {
                token_id,
                name,
                created_at_ms,
                last_used_at_ms,
            })
            .collect())
    }

    /// Revokes one of `me`'s tokens (someone else's is not found).
    pub async fn revoke_token(&self, me: &Me, token_id: &str) -> Result<(), EngineError> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE token_id = $1 AND user_id = $2")
            .bind(token_id)
            .bind(me.user_id.to_string())
            .execute(self.store.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(EngineError::BadRequest("no such token".into()));
        }
        Ok(())
    }

    /// The user a bearer token acts for; `Unauthorized` for anything else.
    pub async fn authenticate_token(&self, raw: &str) -> Result<Me, EngineError> {
        let secret = raw
            .strip_prefix(TOKEN_PREFIX)
            .and_then(SessionToken::from_client)
            .ok_or(EngineError::Unauthorized)?;
        self.authenticate_token_hash(&secret.hash()).await
    }

    /// A socket's session for a bearer token (a bot's or a script's): it lasts as long as the
    /// token stands, checked again every few seconds by the socket.
    pub async fn token_session(&self, raw: &str) -> Result<super::Session, EngineError> {
        let secret = raw
            .strip_prefix(TOKEN_PREFIX)
            .and_then(SessionToken::from_client)
            .ok_or(EngineError::Unauthorized)?;
        let token_hash = secret.hash();
        let me = self.authenticate_token_hash(&token_hash).await?;
        Ok(super::Session {
            me,
            token_hash,
            expires_at_ms: now_ms() + 365 * 24 * 3_600_000,
            via_token: true,
        })
    }

    /// Whether the token with this hash still acts (not revoked or rotated, its account
    /// neither deleted nor disabled). A database hiccup counts as yes: it closes no socket.
    pub async fn token_stands(&self, token_hash: &str) -> bool {
        match self.authenticate_token_hash(token_hash).await {
            Ok(_) => true,
            Err(e) => !e.is_user_error() && !matches!(e, EngineError::Unauthorized | EngineError::Disabled),
        }
    }

    async fn authenticate_token_hash(&self, hash: &str) -> Result<Me, EngineError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT user_id, username FROM api_tokens WHERE token_hash = $1")
                .bind(hash)
                .fetch_optional(self.store.pool())
                .await?;
        let (user_id, username) = row.ok_or(EngineError::Unauthorized)?;
        // A disabled account's tokens stop working (and work again once it is enabled); a
        // deleted account's are gone, and would not work if one were left.
        if let Ok(name) = parley::Username::parse(&username) {
            let state = self.account(&self.synced().await?, &name).await?;
            if !state.live() {
                return Err(EngineError::Unauthorized);
            }
            if state.disabled {
                return Err(EngineError::Disabled);
            }
        }
        sqlx::query("UPDATE api_tokens SET last_used_at_ms = $1 WHERE token_hash = $2")
            .bind(now_ms())
            .bind(hash)
            .execute(self.store.pool())
            .await?;
        Ok(Me {
            user_id: super::parse_id(&user_id)?,
            username,
        })
    }
}
