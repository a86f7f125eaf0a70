//! The `channels` read model (and `direct_members`): each channel's name, space, archive flag and the people of a direct conversation; their fold and queries.

use super::parse_value;
use parley::api::DirectView;
use parley::{ChannelId, Event, RecordedEvent, UserId};
use sqlx::{AnyConnection, AnyPool};

/// Folds channel events: created (with a direct conversation's people), renamed, a new topic,
/// who is in it, archived, deleted.
pub(super) async fn fold(conn: &mut AnyConnection, recorded: &RecordedEvent) -> Result<(), sqlx::Error> {
    let position = recorded.position.0 as i64;
    match &recorded.event {
        Event::ChannelCreated {
            channel_id,
            name,
            kind,
            private,
        } => {
            for user_id in kind.members().unwrap_or_default() {
                sqlx::query("INSERT INTO direct_members (channel_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(channel_id.to_string())
                    .bind(user_id.to_string())
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO channels (channel_id, name, created_position, space_id, private) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (channel_id) DO NOTHING",
            )
            .bind(channel_id.to_string())
            .bind(name.clone())
            .bind(position)
            .bind(kind.space_id().map(|s| s.to_string()))
            .bind(i64::from(*private))
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
        Event::TopicChanged {
            channel_id,
            topic,
            description,
            ..
        } => {
            sqlx::query("UPDATE channels SET topic = $1, description = $2 WHERE channel_id = $3")
                .bind(topic.clone())
                .bind(description.clone())
                .bind(channel_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        Event::ChannelJoined {
            channel_id, user_id, ..
        }
        | Event::ChannelLeft {
            channel_id, user_id, ..
        } => {
            let inside = matches!(recorded.event, Event::ChannelJoined { .. });
            sqlx::query(
                "INSERT INTO channel_members (channel_id, user_id, inside) VALUES ($1, $2, $3)
                 ON CONFLICT (channel_id, user_id) DO UPDATE SET inside = excluded.inside",
            )
            .bind(channel_id.to_string())
            .bind(user_id.to_string())
            .bind(i64::from(inside))
            .execute(&mut *conn)
            .await?;
        }
        // Its messages leave every read model (marked deleted, as a deleted message is, so
        // that doors serving the log redact them), with all that hangs on them.
        Event::ChannelDeleted { channel_id } => {
            let channel = channel_id.to_string();
            for sql in [
                "DELETE FROM reactions WHERE message_id IN (SELECT message_id FROM messages WHERE channel_id = $1)",
                "DELETE FROM message_edits WHERE message_id IN (SELECT message_id FROM messages WHERE channel_id = $1)",
                "DELETE FROM attachments WHERE channel_id = $1",
                "DELETE FROM saved_items WHERE channel_id = $1",
                "DELETE FROM thread_follows WHERE channel_id = $1",
                "DELETE FROM channel_members WHERE channel_id = $1",
                "UPDATE messages SET body = '', attachments = '', mentions = '', deleted = 1, pinned_position = NULL
                 WHERE channel_id = $1",
                "UPDATE channels SET deleted = 1 WHERE channel_id = $1",
            ] {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&channel)
                    .execute(&mut *conn)
                    .await?;
            }
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

/// `user`'s direct conversations, oldest first, each with the other people's usernames.
pub async fn directs_of(pool: &AnyPool, user: UserId) -> Result<Vec<DirectView>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT d.channel_id, COALESCE(a.username, $2) FROM direct_members mine
         JOIN direct_members d ON d.channel_id = mine.channel_id AND d.user_id != mine.user_id
         LEFT JOIN accounts a ON a.user_id = d.user_id
         JOIN channels c ON c.channel_id = d.channel_id
         WHERE mine.user_id = $1 ORDER BY c.created_position, a.username",
    )
    .bind(user.to_string())
    // A deleted account's conversations stay, with the name every deleted account goes by.
    .bind(parley::redact::ERASED_NAME)
    .fetch_all(pool)
    .await?;
    let mut directs: Vec<DirectView> = Vec::new();
    for (channel_id, username) in rows {
        let channel_id: ChannelId = parse_value("direct_members", &channel_id)?;
        match directs.last_mut() {
            Some(last) if last.channel_id == channel_id => last.with.push(username),
            _ => directs.push(DirectView {
                channel_id,
                with: vec![username],
            }),
        }
    }
    Ok(directs)
}
