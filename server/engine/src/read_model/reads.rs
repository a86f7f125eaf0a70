//! The `read_markers` read model: how far each user has read each channel, and whether they muted it.

use parley::{Event, RecordedEvent};
use sqlx::AnyConnection;

/// Folds read markers (they only move forward) and mutes.
pub(super) async fn fold(conn: &mut AnyConnection, recorded: &RecordedEvent) -> Result<(), sqlx::Error> {
    match &recorded.event {
        Event::ChannelRead {
            user_id,
            channel_id,
            up_to,
        } => {
            // Markers only move forward, whatever order two tabs' reads were stored in.
            sqlx::query(
                "INSERT INTO read_markers (user_id, channel_id, up_to) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id, channel_id) DO UPDATE SET up_to = CASE WHEN excluded.up_to > read_markers.up_to THEN excluded.up_to ELSE read_markers.up_to END",
            )
            .bind(user_id.to_string())
            .bind(channel_id.to_string())
            .bind(up_to.0 as i64)
            .execute(&mut *conn)
            .await?;
        }
        Event::ChannelMuted {
            user_id,
            channel_id,
            muted,
        } => {
            sqlx::query(
                "INSERT INTO read_markers (user_id, channel_id, muted) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id, channel_id) DO UPDATE SET muted = excluded.muted",
            )
            .bind(user_id.to_string())
            .bind(channel_id.to_string())
            .bind(i64::from(*muted))
            .execute(&mut *conn)
            .await?;
        }
        _ => {}
    }
    Ok(())
}
