//! The `saved_items` read model: the messages each person keeps for later; its fold and queries (the list shows only what its owner can still read).

use super::messages::{self, readable};
use super::parse_value;
use crate::db::Backend;
use crate::log::store::StoreReadError;
use parley::api::{Me, SavedItem};
use parley::{ChannelId, Event, MessageId, RecordedEvent, UserId};
use sqlx::{AnyConnection, AnyPool};

/// Folds a message saved or let go of.
pub(super) async fn fold(conn: &mut AnyConnection, recorded: &RecordedEvent) -> Result<(), sqlx::Error> {
    let Event::MessageSaved {
        user_id,
        channel_id,
        message_id,
        saved,
    } = &recorded.event
    else {
        return Ok(());
    };
    if *saved {
        sqlx::query(
            "INSERT INTO saved_items (user_id, message_id, channel_id, saved_position) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, message_id) DO NOTHING",
        )
        .bind(user_id.to_string())
        .bind(message_id.to_string())
        .bind(channel_id.to_string())
        .bind(recorded.position.0 as i64)
        .execute(&mut *conn)
        .await?;
    } else {
        sqlx::query("DELETE FROM saved_items WHERE user_id = $1 AND message_id = $2")
            .bind(user_id.to_string())
            .bind(message_id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Whether `user` keeps `message` saved, and how many they keep.
pub async fn state(pool: &AnyPool, user: UserId, message: MessageId) -> Result<(bool, u32), sqlx::Error> {
    let (saved, count): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN message_id = $1 THEN 1 ELSE 0 END), 0), COUNT(*) FROM saved_items
         WHERE user_id = $2",
    )
    .bind(message.to_string())
    .bind(user.to_string())
    .fetch_one(pool)
    .await?;
    Ok((saved > 0, u32::try_from(count).unwrap_or(u32::MAX)))
}

/// What `me` saved and can still read (not deleted since, in a channel still theirs), the
/// last saved first.
pub async fn list(pool: &AnyPool, backend: Backend, me: &Me) -> Result<Vec<SavedItem>, StoreReadError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT s.message_id, s.channel_id, c.name FROM saved_items s
         JOIN channels c ON c.channel_id = s.channel_id
         WHERE s.user_id = $1 AND {}
         ORDER BY s.saved_position DESC LIMIT $5",
        readable(2)
    )))
    .bind(me.user_id.to_string())
    .bind(me.user_id.to_string())
    .bind(me.user_id.to_string())
    .bind(me.user_id.to_string())
    .bind(i64::from(parley::saved::MAX_SAVED))
    .fetch_all(pool)
    .await?;
    let mut order: Vec<(MessageId, ChannelId, String)> = Vec::with_capacity(rows.len());
    for (message, channel, name) in rows {
        order.push((
            parse_value("saved_items", &message)?,
            parse_value("saved_items", &channel)?,
            name,
        ));
    }
    // One query per channel for the messages themselves (with their reactions).
    let mut found = Vec::new();
    let mut channels: Vec<ChannelId> = order.iter().map(|(_, c, _)| *c).collect();
    channels.sort();
    channels.dedup();
    for channel in channels {
        let ids: Vec<MessageId> = order
            .iter()
            .filter(|(_, c, _)| *c == channel)
            .map(|(m, _, _)| *m)
            .collect();
        found.extend(messages::by_ids(pool, backend, channel, &ids).await?);
    }
    Ok(order
        .into_iter()
        .filter_map(|(message_id, _, channel_name)| {
            let message = found.iter().find(|m| m.message_id == message_id && !m.deleted)?.clone();
            Some(SavedItem { channel_name, message })
        })
        .collect())
}

/// The ids of the messages `user` keeps saved.
pub async fn ids(pool: &AnyPool, user: UserId) -> Result<Vec<MessageId>, sqlx::Error> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT message_id FROM saved_items WHERE user_id = $1")
        .bind(user.to_string())
        .fetch_all(pool)
        .await?;
    rows.iter().map(|id| parse_value("saved_items", id)).collect()
}
