//! The `thread_follows` read model: who follows which thread and how far they read it; its fold (a reply follows its thread for its author, the root's author and whoever it mentions) and the Threads view's query.

use super::messages::{self, readable};
use super::parse_value;
use crate::db::Backend;
use crate::log::store::StoreReadError;
use parley::api::Me;
use parley::threads::ThreadView;
use parley::{ChannelId, Event, MessageId, Position, RecordedEvent, UserId};
use sqlx::{AnyConnection, AnyPool};

/// Follows a thread for `user` (unless they stopped following it, when `by_hand` is false).
async fn follow(
    conn: &mut AnyConnection,
    user: &str,
    root: MessageId,
    channel: ChannelId,
    read_up_to: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO thread_follows (user_id, root_id, channel_id, following, read_up_to) VALUES ($1, $2, $3, 1, $4)
         ON CONFLICT (user_id, root_id) DO NOTHING",
    )
    .bind(user)
    .bind(root.to_string())
    .bind(channel.to_string())
    .bind(read_up_to)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Folds what follows a thread: a reply (for its author, who has read up to it; the root's
/// author; those it mentions), a follow or unfollow by hand, a read marker.
pub(super) async fn fold(conn: &mut AnyConnection, recorded: &RecordedEvent) -> Result<(), sqlx::Error> {
    let position = recorded.position.0 as i64;
    match &recorded.event {
        Event::MessagePosted {
            channel_id,
            author_id: Some(author),
            reply_to: Some(root),
            body,
            ..
        } => {
            // Posting in a thread follows it again, and reads it up to the post.
            sqlx::query(
                "INSERT INTO thread_follows (user_id, root_id, channel_id, following, read_up_to) VALUES ($1, $2, $3, 1, $4)
                 ON CONFLICT (user_id, root_id) DO UPDATE SET following = 1,
                   read_up_to = CASE WHEN excluded.read_up_to > thread_follows.read_up_to
                                     THEN excluded.read_up_to ELSE thread_follows.read_up_to END",
            )
            .bind(author.to_string())
            .bind(root.to_string())
            .bind(channel_id.to_string())
            .bind(position)
            .execute(&mut *conn)
            .await?;
            let started: Option<Option<String>> =
                sqlx::query_scalar("SELECT author_id FROM messages WHERE message_id = $1")
                    .bind(root.to_string())
                    .fetch_optional(&mut *conn)
                    .await?;
            if let Some(Some(started)) = started {
                follow(conn, &started, *root, *channel_id, 0).await?;
            }
            for name in parley::markdown::mentions(body.as_str()) {
                let user: Option<String> = sqlx::query_scalar("SELECT user_id FROM accounts WHERE username = $1")
                    .bind(&name)
                    .fetch_optional(&mut *conn)
                    .await?;
                if let Some(user) = user {
                    follow(conn, &user, *root, *channel_id, 0).await?;
                }
            }
        }
        Event::ThreadFollowed {
            user_id,
            channel_id,
            root,
            following,
        } => {
            sqlx::query(
                "INSERT INTO thread_follows (user_id, root_id, channel_id, following) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (user_id, root_id) DO UPDATE SET following = excluded.following",
            )
            .bind(user_id.to_string())
            .bind(root.to_string())
            .bind(channel_id.to_string())
            .bind(i64::from(*following))
            .execute(&mut *conn)
            .await?;
        }
        Event::ThreadRead {
            user_id, root, up_to, ..
        } => {
            sqlx::query(
                "UPDATE thread_follows SET read_up_to = $1 WHERE user_id = $2 AND root_id = $3 AND read_up_to < $4",
            )
            .bind(up_to.0 as i64)
            .bind(user_id.to_string())
            .bind(root.to_string())
            .bind(up_to.0 as i64)
            .execute(&mut *conn)
            .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Whether `user` follows the thread of `root`, and how far they read it.
pub async fn state(pool: &AnyPool, user: UserId, root: MessageId) -> Result<Option<(bool, Position)>, sqlx::Error> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT following, read_up_to FROM thread_follows WHERE user_id = $1 AND root_id = $2")
            .bind(user.to_string())
            .bind(root.to_string())
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(following, read)| (following == 1, Position(read.max(0) as u64))))
}

/// The threads `me` follows in channels `me` can read, the most recently active first,
/// with their unread replies (others', not deleted).
pub async fn followed(pool: &AnyPool, backend: Backend, me: &Me) -> Result<Vec<ThreadView>, StoreReadError> {
    type Row = (String, String, String, i64, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT f.root_id, f.channel_id, c.name, f.read_up_to,
                (SELECT COUNT(*) FROM messages r WHERE r.reply_to = f.root_id AND r.position > f.read_up_to
                   AND r.deleted = 0 AND (r.author_id IS NULL OR r.author_id != $1)),
                COALESCE((SELECT MAX(r.position) FROM messages r WHERE r.reply_to = f.root_id), 0) AS last
         FROM thread_follows f JOIN channels c ON c.channel_id = f.channel_id
         WHERE f.user_id = $2 AND f.following = 1 AND {}
         ORDER BY last DESC LIMIT $6",
        readable(3)
    )))
    .bind(me.user_id.to_string())
    .bind(me.user_id.to_string())
    .bind(me.user_id.to_string())
    .bind(me.user_id.to_string())
    .bind(me.user_id.to_string())
    .bind(i64::from(parley::threads::MAX_LISTED))
    .fetch_all(pool)
    .await?;
    let mut order = Vec::with_capacity(rows.len());
    for (root, channel, name, read, unread, last) in rows {
        let root: MessageId = parse_value("thread_follows", &root)?;
        let channel: ChannelId = parse_value("thread_follows", &channel)?;
        order.push((root, channel, name, read, unread, last));
    }
    let mut channels: Vec<ChannelId> = order.iter().map(|o| o.1).collect();
    channels.sort();
    channels.dedup();
    let mut roots = Vec::new();
    for channel in channels {
        let ids: Vec<MessageId> = order.iter().filter(|o| o.1 == channel).map(|o| o.0).collect();
        roots.extend(messages::by_ids(pool, backend, channel, &ids).await?);
    }
    Ok(order
        .into_iter()
        .filter_map(|(root, channel_id, channel_name, read, unread, last)| {
            let root = roots.iter().find(|m| m.message_id == root && !m.deleted)?.clone();
            Some(ThreadView {
                channel_id,
                channel_name,
                root,
                unread: u32::try_from(unread).unwrap_or(u32::MAX),
                read_up_to: Position(read.max(0) as u64),
                last_reply: Position(last.max(0) as u64),
            })
        })
        .collect())
}
