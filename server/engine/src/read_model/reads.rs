//! The `read_markers` read model: how far each user has read each channel, and whether they muted it; its fold, and the unread counts it gives with `messages`.

use super::parse_value;
use crate::db::Flag;
use parley::api::Me;
use parley::unread::ChannelUnread;
use parley::{ChannelId, Event, Position, RecordedEvent, UserId};
use sqlx::{AnyConnection, AnyPool};
use std::collections::HashMap;

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

/// Where `user`'s marker of `channel` stands (none: never read), and whether it is muted.
pub async fn marker(pool: &AnyPool, user: UserId, channel: ChannelId) -> Result<(Option<Position>, bool), sqlx::Error> {
    let row: Option<(i64, Flag)> =
        sqlx::query_as("SELECT up_to, muted FROM read_markers WHERE user_id = $1 AND channel_id = $2")
            .bind(user.to_string())
            .bind(channel.to_string())
            .fetch_optional(pool)
            .await?;
    Ok(match row {
        Some((up_to, muted)) => ((up_to > 0).then_some(Position(up_to as u64)), muted.0),
        None => (None, false),
    })
}

/// Unread messages and mentions in every channel `me` can read: the lobby, the channels
/// of their spaces, their direct conversations. Without a marker, a channel counts from
/// when `me` arrived (signed up, joined the space); a conversation from its start.
/// One read transaction, so the counts and `counted_to` agree.
pub async fn unreads(pool: &AnyPool, me: &Me) -> Result<Vec<ChannelUnread>, sqlx::Error> {
    let user = me.user_id.to_string();
    let mut tx = pool.begin().await?;
    // The channels of the sidebar: the lobby, those of one's spaces one is in, conversations.
    let mut channels: Vec<(String, i64)> = sqlx::query_as(concat!(
        "SELECT $1, registered_position FROM accounts WHERE user_id = $2
         UNION ALL
         SELECT c.channel_id, m.joined_position FROM channels c
           JOIN space_members m ON m.space_id = c.space_id
           JOIN spaces s ON s.space_id = c.space_id
          WHERE m.user_id = $3 AND s.deleted = 0 AND c.archived = 0 AND c.deleted = 0 AND ",
        in_channel!("$4"),
        "
         UNION ALL
         SELECT channel_id, 0 FROM direct_members WHERE user_id = $5"
    ))
    .bind(ChannelId::GENERAL.to_string())
    .bind(&user)
    .bind(&user)
    .bind(&user)
    .bind(&user)
    .fetch_all(&mut *tx)
    .await?;
    if channels.is_empty() {
        // An account the read model does not hold yet still sees the lobby.
        channels.push((ChannelId::GENERAL.to_string(), 0));
    }
    let markers: HashMap<String, (i64, bool)> = sqlx::query_as::<_, (String, i64, Flag)>(
        "SELECT channel_id, up_to, muted FROM read_markers WHERE user_id = $1",
    )
    .bind(&user)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(channel, up_to, muted)| (channel, (up_to, muted.0)))
    .collect();
    let mention = format!("% {} %", me.username.replace('_', "\\_"));
    let mut unreads = Vec::with_capacity(channels.len());
    for (channel, arrived) in channels {
        let (up_to, muted) = markers.get(&channel).copied().unwrap_or((0, false));
        let from = if up_to > 0 { up_to } else { arrived };
        let (unread, mentions): (i64, i64) = sqlx::query_as(
            "SELECT count(*), coalesce(sum(CASE WHEN mentions LIKE $1 ESCAPE '\\' THEN 1 ELSE 0 END), 0) FROM messages
             WHERE channel_id = $2 AND position > $3 AND (reply_to IS NULL OR also_in_channel = 1) AND deleted = 0 AND kind = ''
               AND (author_id IS NULL OR author_id != $4)",
        )
        .bind(&mention)
        .bind(&channel)
        .bind(from)
        .bind(&user)
        .fetch_one(&mut *tx)
        .await?;
        // The channel's newest message: the count covers everything up to it, and a
        // marker at or past it means all read.
        let newest: i64 = sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM messages WHERE channel_id = $1")
            .bind(&channel)
            .fetch_one(&mut *tx)
            .await?;
        let counted_to = Position(newest.max(from).max(0) as u64);
        unreads.push(ChannelUnread {
            channel_id: parse_value("read_markers", &channel)?,
            read_up_to: Position(from.max(0) as u64),
            unread: u32::try_from(unread).unwrap_or(u32::MAX),
            mentions: u32::try_from(mentions).unwrap_or(u32::MAX),
            counted_to,
            muted,
        });
    }
    tx.commit().await?;
    Ok(unreads)
}
