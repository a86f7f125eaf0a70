//! The `messages` read model (with `reactions`, `message_edits` and `attachments`): each message as it stands, its reactions, its earlier bodies, the files it carries. Posts, the bulk of the log, are gathered and inserted together.

use crate::db::Backend;
use crate::dialect;
use parley::{Event, RecordedEvent};
use sqlx::AnyConnection;

/// Posts gathered from a batch, inserted together (one statement) before any other event.
#[derive(Default)]
pub(super) struct Posts(Vec<serde_json::Value>);

impl Posts {
    /// Inserts what was gathered.
    pub(super) async fn flush(&mut self, conn: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
        insert_messages(conn, backend, &mut self.0).await
    }

    /// Gathers a post (and folds what must follow it at once: its files, its thread's count).
    pub(super) async fn add(
        &mut self,
        conn: &mut AnyConnection,
        backend: Backend,
        recorded: &RecordedEvent,
    ) -> Result<(), sqlx::Error> {
        let Event::MessagePosted {
            channel_id,
            message_id,
            author,
            body,
            author_id,
            reply_to,
            attachments,
        } = &recorded.event
        else {
            return Ok(());
        };
        let position = recorded.position.0 as i64;
        let files = if attachments.is_empty() {
            String::new()
        } else {
            serde_json::to_string(attachments).unwrap_or_default()
        };
        self.0.push(serde_json::json!([
            position,
            message_id.to_string(),
            channel_id.to_string(),
            author.to_string(),
            body.to_string(),
            recorded.recorded_at_ms,
            author_id.map(|id| id.to_string()),
            reply_to.map(|id| id.to_string()),
            mention_column(body.as_str()),
            files,
        ]));
        if !attachments.is_empty() {
            self.flush(conn, backend).await?;
            for file in attachments {
                sqlx::query(
                    "INSERT INTO attachments (file_id, message_id, channel_id, name) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                )
                .bind(&file.file_id)
                .bind(message_id.to_string())
                .bind(channel_id.to_string())
                .bind(&file.name)
                .execute(&mut *conn)
                .await?;
            }
        }
        if let Some(root) = reply_to {
            // The root counts it, once: replaying the reply finds the root's revision
            // already past it.
            self.flush(conn, backend).await?;
            sqlx::query(
                "UPDATE messages SET replies = replies + 1, revision = $1 WHERE message_id = $2 AND revision < $3",
            )
            .bind(position)
            .bind(root.to_string())
            .bind(position)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

/// Folds the changes to messages: edits (the earlier body kept), deletions, reactions.
pub(super) async fn fold(conn: &mut AnyConnection, recorded: &RecordedEvent) -> Result<(), sqlx::Error> {
    let position = recorded.position.0 as i64;
    match &recorded.event {
        Event::MessageEdited { message_id, body, .. } => {
            // The earlier body goes to the history first; a deleted message stays deleted.
            sqlx::query(
                "INSERT INTO message_edits (position, message_id, body_before, edited_at_ms)
                 SELECT $1, message_id, body, $2 FROM messages WHERE message_id = $3 AND deleted = 0
                 ON CONFLICT DO NOTHING",
            )
            .bind(position)
            .bind(recorded.recorded_at_ms)
            .bind(message_id.to_string())
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "UPDATE messages SET body = $1, edited = 1, revision = $2, mentions = $3
                 WHERE message_id = $4 AND deleted = 0 AND revision < $5",
            )
            .bind(body.to_string())
            .bind(position)
            .bind(mention_column(body.as_str()))
            .bind(message_id.to_string())
            .bind(position)
            .execute(&mut *conn)
            .await?;
        }
        Event::MessageDeleted { message_id, .. } => {
            sqlx::query("DELETE FROM attachments WHERE message_id = $1")
                .bind(message_id.to_string())
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "UPDATE messages SET body = '', attachments = '', deleted = 1, revision = $1
                 WHERE message_id = $2 AND revision < $3",
            )
            .bind(position)
            .bind(message_id.to_string())
            .bind(position)
            .execute(&mut *conn)
            .await?;
            sqlx::query("DELETE FROM reactions WHERE message_id = $1")
                .bind(message_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        Event::ReactionAdded {
            message_id,
            user_id,
            user,
            emoji,
            ..
        } => {
            sqlx::query(
                "INSERT INTO reactions (message_id, emoji, user_id, username, position)
                 SELECT $1, $2, $3, $4, $5 FROM messages WHERE message_id = $6 AND deleted = 0
                 ON CONFLICT DO NOTHING",
            )
            .bind(message_id.to_string())
            .bind(emoji.to_string())
            .bind(user_id.to_string())
            .bind(user.to_string())
            .bind(position)
            .bind(message_id.to_string())
            .execute(&mut *conn)
            .await?;
            bump_revision(conn, *message_id, position).await?;
        }
        Event::ReactionRemoved {
            message_id,
            user_id,
            emoji,
            ..
        } => {
            sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3")
                .bind(message_id.to_string())
                .bind(emoji.to_string())
                .bind(user_id.to_string())
                .execute(&mut *conn)
                .await?;
            bump_revision(conn, *message_id, position).await?;
        }
        _ => {}
    }
    Ok(())
}

/// Inserts the gathered messages in one statement (they travel as one JSON array: a
/// statement is a round trip to SQLite's worker thread), and empties `messages`.
async fn insert_messages(
    conn: &mut AnyConnection,
    backend: Backend,
    messages: &mut Vec<serde_json::Value>,
) -> Result<(), sqlx::Error> {
    if messages.is_empty() {
        return Ok(());
    }
    let rows = serde_json::Value::Array(std::mem::take(messages)).to_string();
    sqlx::query(dialect!(backend,
        sqlite: "INSERT INTO messages (position, message_id, channel_id, author, body, sent_at_ms, author_id, revision,
                                       reply_to, mentions, attachments)
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6,
                        value ->> 0, value ->> 7, value ->> 8, value ->> 9
                 FROM json_each($1) WHERE true ORDER BY key
                 ON CONFLICT DO NOTHING",
        postgres: "INSERT INTO messages (position, message_id, channel_id, author, body, sent_at_ms, author_id, revision,
                                         reply_to, mentions, attachments)
                   SELECT (value ->> 0)::bigint, value ->> 1, value ->> 2, value ->> 3, value ->> 4,
                          (value ->> 5)::bigint, value ->> 6, (value ->> 0)::bigint, value ->> 7, value ->> 8,
                          value ->> 9
                   FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(value, key) ORDER BY key
                   ON CONFLICT DO NOTHING",
    ))
    .bind(rows)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The `mentions` column: each username the body mentions, between spaces (` ada bob `),
/// so `mentions LIKE '% ada %'` finds a mention of `ada`.
fn mention_column(body: &str) -> String {
    let names = parley::markdown::mentions(body);
    if names.is_empty() {
        String::new()
    } else {
        format!(" {} ", names.join(" "))
    }
}

/// Records that the message's row now includes the event at `position`.
async fn bump_revision(
    conn: &mut AnyConnection,
    message_id: parley::MessageId,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE messages SET revision = $1 WHERE message_id = $2 AND revision < $3")
        .bind(position)
        .bind(message_id.to_string())
        .bind(position)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
