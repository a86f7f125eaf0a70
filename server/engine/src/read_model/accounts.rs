//! The `accounts` read model: user ids, usernames, profiles, who is an instance admin (granted, revoked) and who is disabled.

use parley::{Event, RecordedEvent};
use sqlx::AnyConnection;

/// Folds sign-ups, profiles and admin grants.
pub(super) async fn fold(conn: &mut AnyConnection, recorded: &RecordedEvent) -> Result<(), sqlx::Error> {
    let position = recorded.position.0 as i64;
    match &recorded.event {
        Event::AccountRegistered { user_id, username, .. } => {
            sqlx::query(
                "INSERT INTO accounts (user_id, username, registered_position) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(user_id.to_string())
            .bind(username.to_string())
            .bind(position)
            .execute(&mut *conn)
            .await?;
        }
        Event::ProfileChanged { user_id, profile, .. } => {
            let profile = serde_json::to_string(profile).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            sqlx::query("UPDATE accounts SET profile = $1 WHERE user_id = $2")
                .bind(profile)
                .bind(user_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        Event::AdminRevoked { user_id, .. } => {
            sqlx::query("UPDATE accounts SET admin = 0 WHERE user_id = $1")
                .bind(user_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        Event::AccountDisabled { user_id, .. } | Event::AccountEnabled { user_id, .. } => {
            let disabled = matches!(recorded.event, Event::AccountDisabled { .. });
            sqlx::query("UPDATE accounts SET disabled = $1 WHERE user_id = $2")
                .bind(i64::from(disabled))
                .bind(user_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        Event::AdminGranted { user_id, .. } => {
            sqlx::query("UPDATE accounts SET admin = 1 WHERE user_id = $1")
                .bind(user_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        _ => {}
    }
    Ok(())
}
