//! The `webhooks` read model: each space's subscriptions (their delivery state is the deliverer's own table).

use parley::{Event, RecordedEvent};
use sqlx::AnyConnection;

/// Folds webhooks created and deleted.
pub(super) async fn fold(conn: &mut AnyConnection, recorded: &RecordedEvent) -> Result<(), sqlx::Error> {
    let position = recorded.position.0 as i64;
    match &recorded.event {
        Event::WebhookCreated {
            space_id,
            webhook_id,
            url,
            event_types,
        } => {
            sqlx::query(
                "INSERT INTO webhooks (webhook_id, space_id, url, event_types, created_position)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(webhook_id.to_string())
            .bind(space_id.to_string())
            .bind(url)
            .bind(serde_json::to_string(event_types).unwrap_or_else(|_| "[]".into()))
            .bind(position)
            .execute(&mut *conn)
            .await?;
        }
        Event::WebhookDeleted { webhook_id, .. } => {
            sqlx::query("UPDATE webhooks SET deleted = 1 WHERE webhook_id = $1")
                .bind(webhook_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        Event::WebhookPaused { webhook_id, paused, .. } => {
            sqlx::query("UPDATE webhooks SET paused = $1 WHERE webhook_id = $2")
                .bind(i64::from(*paused))
                .bind(webhook_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        _ => {}
    }
    Ok(())
}
