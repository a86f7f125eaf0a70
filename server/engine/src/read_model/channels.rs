//! The `channels` read model (and `direct_members`): each channel's name, space, archive flag and the people of a direct conversation.

use parley::{Event, RecordedEvent};
use sqlx::AnyConnection;

/// Folds channel events: created (with a direct conversation's people), renamed, archived.
pub(super) async fn fold(conn: &mut AnyConnection, recorded: &RecordedEvent) -> Result<(), sqlx::Error> {
    let position = recorded.position.0 as i64;
    match &recorded.event {
        Event::ChannelCreated { channel_id, name, kind } => {
            for user_id in kind.members().unwrap_or_default() {
                sqlx::query("INSERT INTO direct_members (channel_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(channel_id.to_string())
                    .bind(user_id.to_string())
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO channels (channel_id, name, created_position, space_id) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (channel_id) DO NOTHING",
            )
            .bind(channel_id.to_string())
            .bind(name.clone())
            .bind(position)
            .bind(kind.space_id().map(|s| s.to_string()))
            .execute(&mut *conn)
            .await?;
        }
        Event::ChannelRenamed { channel_id, name } => {
            sqlx::query("UPDATE channels SET name = $1 WHERE channel_id = $2")
                .bind(name.clone())
                .bind(channel_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        Event::ChannelArchived { channel_id } => {
            sqlx::query("UPDATE channels SET archived = 1 WHERE channel_id = $1")
                .bind(channel_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        _ => {}
    }
    Ok(())
}
