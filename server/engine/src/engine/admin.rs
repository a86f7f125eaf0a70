//! What an instance admin does with accounts: find them (created, last seen, admin, disabled), disable and enable them (their sessions end at once, on every node), grant and revoke admin rights.

use super::{Engine, EngineError};
use parley::account::{AccountCommand, AdminAction};
use parley::api::{AccountRow, Me};
use parley::{DomainError, Username};

/// A row of the accounts read model as listed: id, username, profile (JSON), admin,
/// disabled, created (the time of its registration), last seen (of its sessions).
type AccountLine = (String, String, String, i64, i64, Option<i64>, Option<i64>);

/// The most accounts one search lists.
pub const MAX_LISTED: i64 = 100;

impl Engine {
    /// Refuses anyone who is not an instance admin.
    fn admin_only(&self, me: &Me) -> Result<(), EngineError> {
        if self.is_admin(me) {
            Ok(())
        } else {
            Err(DomainError::NotAllowed.into())
        }
    }

    /// Accounts whose username contains `search` (all when empty), by username, at most
    /// [`MAX_LISTED`]; for instance admins only.
    pub async fn list_accounts(&self, me: &Me, search: &str) -> Result<Vec<AccountRow>, EngineError> {
        self.admin_only(me)?;
        let search = search.trim().to_ascii_lowercase();
        if search.chars().count() > Username::MAX_CHARS {
            return Err(EngineError::BadRequest("no username is that long".into()));
        }
        // The search is a literal: LIKE's wildcards in it match themselves.
        let pattern = format!(
            "%{}%",
            search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
        );
        let rows: Vec<AccountLine> = sqlx::query_as(
            "SELECT a.user_id, a.username, a.profile, a.admin, a.disabled,
                    (SELECT e.recorded_at_ms FROM events e WHERE e.position = a.registered_position),
                    (SELECT MAX(s.last_seen_ms) FROM sessions s WHERE s.user_id = a.user_id)
             FROM accounts a WHERE a.username LIKE $1 ESCAPE '\\' ORDER BY a.username LIMIT $2",
        )
        .bind(pattern)
        .bind(MAX_LISTED)
        .fetch_all(self.store.pool())
        .await?;
        rows.into_iter()
            .map(|(user_id, username, profile, admin, disabled, created, seen)| {
                let user_id = super::parse_id(&user_id)?;
                let profile: parley::profile::Profile = serde_json::from_str(&profile).unwrap_or_default();
                Ok(AccountRow {
                    user_id,
                    display_name: profile.display_name.map(|n| n.as_str().to_owned()),
                    admin: admin != 0 || self.is_configured_admin(user_id),
                    disabled: disabled != 0,
                    created_at_ms: created.unwrap_or_default(),
                    last_seen_ms: seen.filter(|s| *s > 0),
                    username,
                })
            })
            .collect()
    }

    /// Disables, enables, makes admin or un-admins the account `username`; for instance
    /// admins only. Disabling ends the account's sessions and closes their sockets.
    pub async fn act_on_account(&self, me: &Me, username: &str, action: AdminAction) -> Result<(), EngineError> {
        self.admin_only(me)?;
        let username = Username::parse(username).map_err(|_| DomainError::NoSuchUser(String::new()))?;
        let synced = self.synced().await?;
        let state = self.account(&synced, &username).await?;
        if action == AdminAction::RevokeAdmin && state.user_id.is_some_and(|id| self.is_configured_admin(id)) {
            return Err(EngineError::BadRequest(
                "this account is an admin by the server's configuration (PARLEY_ADMINS)".into(),
            ));
        }
        let command = AccountCommand::Admin { action, by: me.user_id };
        if !self
            .account_command(&username, &state, &command, &self.metadata(me, None))
            .await?
        {
            return Ok(());
        }
        if let (AdminAction::Disable, Some(user_id)) = (action, state.user_id) {
            let owner = Me {
                user_id,
                username: username.to_string(),
            };
            self.end_all_sessions(&owner).await?;
        }
        Ok(())
    }
}
