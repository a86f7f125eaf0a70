//! Read markers, mutes and unread counts: the commands that move a user's markers and the query that counts.

use super::{Engine, EngineError, parse_id};
use crate::db::Flag;
use parley::api::Me;
use parley::unread::{self, ChannelUnread};
use parley::{ChannelId, Event, Position};
use std::collections::HashMap;

impl Engine {
    /// `me` has read `channel` up to `up_to`. The marker only moves forward and never past
    /// the log's head; returns where it stands.
    pub async fn mark_read(&self, me: &Me, channel: ChannelId, up_to: Position) -> Result<Position, EngineError> {
        self.authorize_channel(me, channel).await?;
        let (current, _) = self.marker(me, channel).await?;
        let Some(target) = unread::decide_read(current, up_to, self.hub.projected()) else {
            return Ok(current.unwrap_or(Position::ZERO));
        };
        let event = Event::ChannelRead {
            user_id: me.user_id,
            channel_id: channel,
            up_to: target,
        };
        // Two tabs marking at once both append; the read model keeps the higher marker.
        self.record(me, unread::stream(me.user_id), event).await?;
        Ok(target)
    }

    /// Silences `channel` for `me` (no notifications, not in the unread total), or not.
    pub async fn mute_channel(&self, me: &Me, channel: ChannelId, muted: bool) -> Result<(), EngineError> {
        self.authorize_channel(me, channel).await?;
        if self.marker(me, channel).await?.1 == muted {
            return Ok(());
        }
        let event = Event::ChannelMuted {
            user_id: me.user_id,
            channel_id: channel,
            muted,
        };
        self.record(me, unread::stream(me.user_id), event).await?;
        Ok(())
    }

    async fn marker(&self, me: &Me, channel: ChannelId) -> Result<(Option<Position>, bool), EngineError> {
        let row: Option<(i64, Flag)> =
            sqlx::query_as("SELECT up_to, muted FROM read_markers WHERE user_id = $1 AND channel_id = $2")
                .bind(me.user_id.to_string())
                .bind(channel.to_string())
                .fetch_optional(self.store.pool())
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
    pub async fn unreads(&self, me: &Me) -> Result<Vec<ChannelUnread>, EngineError> {
        let user = me.user_id.to_string();
        let mut tx = self.store.pool().begin().await?;
        let mut channels: Vec<(String, i64)> = sqlx::query_as(
            "SELECT $1, registered_position FROM accounts WHERE user_id = $2
             UNION ALL
             SELECT c.channel_id, m.joined_position FROM channels c
               JOIN space_members m ON m.space_id = c.space_id
               JOIN spaces s ON s.space_id = c.space_id
              WHERE m.user_id = $3 AND s.deleted = 0 AND c.archived = 0
             UNION ALL
             SELECT channel_id, 0 FROM direct_members WHERE user_id = $4",
        )
        .bind(ChannelId::GENERAL.to_string())
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
                 WHERE channel_id = $2 AND position > $3 AND reply_to IS NULL AND deleted = 0
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
            let newest: i64 =
                sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM messages WHERE channel_id = $1")
                    .bind(&channel)
                    .fetch_one(&mut *tx)
                    .await?;
            let counted_to = Position(newest.max(from).max(0) as u64);
            unreads.push(ChannelUnread {
                channel_id: parse_id(&channel)?,
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
}
