//! The projector: folds committed events into the read models (`channels`, `messages`, `accounts`),
//! saving its checkpoint in the same transaction, then hands each batch to the dispatcher.
//! It takes committed events from the bus's guaranteed notices as they come, and reads
//! the log itself whenever it cannot trust that feed (at start, after lagging, on a gap),
//! so it never misses an event; it resumes from its checkpoint after a restart.
//! Applying an event twice changes nothing.
//!
//! It writes on a connection of its own with `synchronous = NORMAL`: the read models can
//! be rebuilt from the log, and the checkpoint commits with them, so a power cut can only
//! lose a suffix that is folded again. The event store's commits stay fully durable.

use crate::dispatcher::Hub;
use crate::store::{EventStore, StoreReadError};
use parley::{Event, Position, RecordedEvent};
use sqlx::Executor;
use sqlx::sqlite::{SqliteConnection, SqlitePool};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

const NAME: &str = "read_models";
const BATCH: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Read(#[from] StoreReadError),
    #[error("failed to write the read model: {0}")]
    Write(#[from] sqlx::Error),
}

#[derive(Clone)]
pub struct Projector {
    store: EventStore,
    hub: Hub,
    conn: Arc<Mutex<SqliteConnection>>,
}

impl Projector {
    pub fn new(store: EventStore, hub: Hub, conn: SqliteConnection) -> Self {
        Self {
            store,
            hub,
            conn: Arc::new(Mutex::new(conn)),
        }
    }

    /// Applies every event after the checkpoint, up to the head of the log.
    pub async fn catch_up(&self) -> Result<Position, ProjectionError> {
        let mut checkpoint = checkpoint(self.store.pool()).await?;
        loop {
            let batch: Vec<Arc<RecordedEvent>> = self
                .store
                .read_all(checkpoint, BATCH as u32)
                .await?
                .into_iter()
                .map(Arc::new)
                .collect();
            let Some(last) = batch.last().map(|e| e.position) else {
                return Ok(checkpoint);
            };
            self.apply(&batch).await?;
            checkpoint = last;
        }
    }

    /// Follows the log until the task is dropped. Errors are logged and retried.
    pub async fn run(self) {
        loop {
            // Listen first, then catch up: nothing committed in between is missed.
            let mut committed = self.store.bus().subscribe_committed();
            let checkpoint = match self.catch_up().await {
                Ok(checkpoint) => checkpoint,
                Err(e) => {
                    tracing::error!(error = %e, "projection failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            match self.follow(&mut committed, checkpoint).await {
                Ok(Follow::Closed) => return,
                Ok(Follow::Resync) => {}
                Err(e) => {
                    tracing::error!(error = %e, "projection failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    /// Folds the bus's committed events while they come gap-free after `checkpoint`.
    async fn follow(
        &self,
        committed: &mut tokio::sync::broadcast::Receiver<Arc<RecordedEvent>>,
        mut checkpoint: Position,
    ) -> Result<Follow, ProjectionError> {
        loop {
            let first = match committed.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(_)) => return Ok(Follow::Resync),
                Err(RecvError::Closed) => return Ok(Follow::Closed),
            };
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match committed.try_recv() {
                    Ok(event) => batch.push(event),
                    Err(TryRecvError::Empty) => break,
                    Err(_) => return Ok(Follow::Resync),
                }
            }
            batch.retain(|e| e.position > checkpoint);
            let mut expected = checkpoint;
            for event in &batch {
                if event.position != expected.next() {
                    return Ok(Follow::Resync); // a gap: read the log instead
                }
                expected = event.position;
            }
            if batch.is_empty() {
                continue;
            }
            self.apply(&batch).await?;
            checkpoint = expected;
        }
    }

    /// Empties the read models and folds the whole log into them again.
    pub async fn rebuild(&self) -> Result<Position, ProjectionError> {
        {
            let mut conn = self.conn.lock().await;
            let _turn = self.store.write_turn().lock().await;
            conn.execute("BEGIN IMMEDIATE").await?;
            let cleared = async {
                conn.execute("DELETE FROM messages").await?;
                conn.execute("DELETE FROM message_edits").await?;
                conn.execute("DELETE FROM reactions").await?;
                conn.execute("DELETE FROM channels").await?;
                conn.execute("DELETE FROM accounts").await?;
                conn.execute("DELETE FROM spaces").await?;
                conn.execute("DELETE FROM space_members").await?;
                conn.execute("DELETE FROM invites").await?;
                conn.execute("DELETE FROM direct_members").await?;
                conn.execute("DELETE FROM read_markers").await?;
                conn.execute("DELETE FROM attachments").await?;
                conn.execute("DELETE FROM webhooks").await?;
                conn.execute("DELETE FROM projection_checkpoints").await?;
                conn.execute("COMMIT").await
            }
            .await;
            if let Err(e) = cleared {
                let _ = conn.execute("ROLLBACK").await;
                return Err(e.into());
            }
        }
        self.catch_up().await
    }

    /// Folds a batch into the read models with its checkpoint, then hands it to the dispatcher.
    async fn apply(&self, batch: &[Arc<RecordedEvent>]) -> Result<(), ProjectionError> {
        {
            let mut conn = self.conn.lock().await;
            let waited = std::time::Instant::now();
            let _turn = self.store.write_turn().lock().await;
            let started = std::time::Instant::now();
            conn.execute("BEGIN IMMEDIATE").await?;
            if let Err(e) = apply(&mut conn, batch).await {
                let _ = conn.execute("ROLLBACK").await;
                return Err(e.into());
            }
            conn.execute("COMMIT").await?;
            tracing::debug!(
                events = batch.len(),
                turn_wait_us = (started - waited).as_micros() as u64,
                write_us = started.elapsed().as_micros() as u64,
                "projected"
            );
        }
        metrics::counter!(crate::metrics::PROJECTED).increment(batch.len() as u64);
        self.hub.publish(batch);
        Ok(())
    }
}

enum Follow {
    Closed,
    Resync,
}

/// Folds a space's events into `spaces`, `space_members` and `invites`.
async fn apply_space(conn: &mut SqliteConnection, recorded: &RecordedEvent) -> Result<(), sqlx::Error> {
    let position = recorded.position.0 as i64;
    let query = match &recorded.event {
        Event::SpaceCreated { space_id, name, owner } => sqlx::query(
            "INSERT INTO spaces (space_id, name, owner, deleted, created_position) VALUES (?, ?, ?, 0, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(space_id.to_string())
        .bind(name.clone())
        .bind(owner.to_string())
        .bind(position),
        Event::SpaceRenamed { space_id, name } => sqlx::query("UPDATE spaces SET name = ? WHERE space_id = ?")
            .bind(name.clone())
            .bind(space_id.to_string()),
        Event::SpaceDeleted { space_id } => {
            sqlx::query("UPDATE spaces SET deleted = 1 WHERE space_id = ?").bind(space_id.to_string())
        }
        Event::InviteCreated {
            space_id,
            code,
            expires_at_ms,
            max_uses,
        } => sqlx::query(
            "INSERT INTO invites (space_id, code, expires_at_ms, max_uses, uses, revoked) VALUES (?, ?, ?, ?, 0, 0)
             ON CONFLICT DO NOTHING",
        )
        .bind(space_id.to_string())
        .bind(code.clone())
        .bind(*expires_at_ms)
        .bind(max_uses.map(i64::from)),
        Event::InviteRevoked { space_id, code } => {
            sqlx::query("UPDATE invites SET revoked = 1 WHERE space_id = ? AND code = ?")
                .bind(space_id.to_string())
                .bind(code.clone())
        }
        Event::MemberJoined {
            space_id,
            user_id,
            role,
            invite,
        } => {
            if let Some(code) = invite {
                sqlx::query("UPDATE invites SET uses = uses + 1 WHERE space_id = ? AND code = ?")
                    .bind(space_id.to_string())
                    .bind(code.clone())
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO space_members (space_id, user_id, role, joined_position) VALUES (?, ?, ?, ?)
                 ON CONFLICT (space_id, user_id) DO UPDATE SET role = excluded.role",
            )
            .bind(space_id.to_string())
            .bind(user_id.to_string())
            .bind(role.as_str())
            .bind(position)
        }
        Event::MemberLeft { space_id, user_id } | Event::MemberRemoved { space_id, user_id } => {
            sqlx::query("DELETE FROM space_members WHERE space_id = ? AND user_id = ?")
                .bind(space_id.to_string())
                .bind(user_id.to_string())
        }
        Event::RoleChanged {
            space_id,
            user_id,
            role,
        } => sqlx::query("UPDATE space_members SET role = ? WHERE space_id = ? AND user_id = ?")
            .bind(role.as_str())
            .bind(space_id.to_string())
            .bind(user_id.to_string()),
        _ => return Ok(()),
    };
    query.execute(&mut *conn).await?;
    Ok(())
}

/// Inserts the gathered messages in one statement (they travel as one JSON array: a
/// statement is a round trip to SQLite's worker thread), and empties `messages`.
async fn insert_messages(
    conn: &mut SqliteConnection,
    messages: &mut Vec<serde_json::Value>,
) -> Result<(), sqlx::Error> {
    if messages.is_empty() {
        return Ok(());
    }
    let rows = serde_json::Value::Array(std::mem::take(messages)).to_string();
    sqlx::query(
        "INSERT INTO messages (position, message_id, channel_id, author, body, sent_at_ms, author_id, revision, reply_to,
                               mentions, attachments)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 0,
                value ->> 7, value ->> 8, value ->> 9
         FROM json_each(?) WHERE true ORDER BY key
         ON CONFLICT DO NOTHING",
    )
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
    conn: &mut SqliteConnection,
    message_id: parley::MessageId,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE messages SET revision = ? WHERE message_id = ? AND revision < ?")
        .bind(position)
        .bind(message_id.to_string())
        .bind(position)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The position of the last event folded into the read models.
pub async fn checkpoint(pool: &SqlitePool) -> Result<Position, sqlx::Error> {
    let position: Option<i64> = sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = ?")
        .bind(NAME)
        .fetch_optional(pool)
        .await?;
    Ok(Position(position.unwrap_or(0) as u64))
}

async fn apply(conn: &mut SqliteConnection, batch: &[Arc<RecordedEvent>]) -> Result<(), sqlx::Error> {
    // Messages, the bulk of the log, are gathered and inserted together; any other event
    // inserts them first, so the read models change in log order.
    let mut messages = Vec::new();
    for recorded in batch {
        let position = recorded.position.0 as i64;
        if !matches!(recorded.event, Event::MessagePosted { .. }) {
            insert_messages(conn, &mut messages).await?;
        }
        match &recorded.event {
            Event::ChannelCreated {
                channel_id,
                name,
                space_id,
                members,
            } => {
                for user_id in members.iter().flatten() {
                    sqlx::query(
                        "INSERT INTO direct_members (channel_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    )
                    .bind(channel_id.to_string())
                    .bind(user_id.to_string())
                    .execute(&mut *conn)
                    .await?;
                }
                sqlx::query(
                    "INSERT INTO channels (channel_id, name, created_position, space_id) VALUES (?, ?, ?, ?)
                     ON CONFLICT (channel_id) DO NOTHING",
                )
                .bind(channel_id.to_string())
                .bind(name.clone())
                .bind(position)
                .bind(space_id.map(|s| s.to_string()))
                .execute(&mut *conn)
                .await?;
            }
            Event::MessagePosted {
                channel_id,
                message_id,
                author,
                body,
                author_id,
                reply_to,
                attachments,
            } => {
                let files = if attachments.is_empty() {
                    String::new()
                } else {
                    serde_json::to_string(attachments).unwrap_or_default()
                };
                messages.push(serde_json::json!([
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
                    insert_messages(conn, &mut messages).await?;
                    for file in attachments {
                        sqlx::query(
                            "INSERT INTO attachments (file_id, message_id, channel_id, name) VALUES (?, ?, ?, ?)
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
                    // The root counts it, once: replaying the reply finds the root's
                    // revision already past it.
                    insert_messages(conn, &mut messages).await?;
                    sqlx::query(
                        "UPDATE messages SET replies = replies + 1, revision = ? WHERE message_id = ? AND revision < ?",
                    )
                    .bind(position)
                    .bind(root.to_string())
                    .bind(position)
                    .execute(&mut *conn)
                    .await?;
                }
                continue;
            }
            Event::MessageEdited { message_id, body, .. } => {
                // The earlier body goes to the history first; a deleted message stays deleted.
                sqlx::query(
                    "INSERT INTO message_edits (position, message_id, body_before, edited_at_ms)
                     SELECT ?, message_id, body, ? FROM messages WHERE message_id = ? AND deleted = 0
                     ON CONFLICT DO NOTHING",
                )
                .bind(position)
                .bind(recorded.recorded_at_ms)
                .bind(message_id.to_string())
                .execute(&mut *conn)
                .await?;
                sqlx::query(
                    "UPDATE messages SET body = ?, edited = 1, revision = ?, mentions = ?
                     WHERE message_id = ? AND deleted = 0 AND revision < ?",
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
                sqlx::query("DELETE FROM attachments WHERE message_id = ?")
                    .bind(message_id.to_string())
                    .execute(&mut *conn)
                    .await?;
                sqlx::query(
                    "UPDATE messages SET body = '', attachments = '', deleted = 1, revision = ?
                     WHERE message_id = ? AND revision < ?",
                )
                .bind(position)
                .bind(message_id.to_string())
                .bind(position)
                .execute(&mut *conn)
                .await?;
                sqlx::query("DELETE FROM reactions WHERE message_id = ?")
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
                     SELECT ?, ?, ?, ?, ? FROM messages WHERE message_id = ? AND deleted = 0
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
                sqlx::query("DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?")
                    .bind(message_id.to_string())
                    .bind(emoji.to_string())
                    .bind(user_id.to_string())
                    .execute(&mut *conn)
                    .await?;
                bump_revision(conn, *message_id, position).await?;
            }
            Event::ChannelRenamed { channel_id, name } => {
                sqlx::query("UPDATE channels SET name = ? WHERE channel_id = ?")
                    .bind(name.clone())
                    .bind(channel_id.to_string())
                    .execute(&mut *conn)
                    .await?;
            }
            Event::ChannelArchived { channel_id } => {
                sqlx::query("UPDATE channels SET archived = 1 WHERE channel_id = ?")
                    .bind(channel_id.to_string())
                    .execute(&mut *conn)
                    .await?;
            }
            Event::SpaceCreated { .. }
            | Event::SpaceRenamed { .. }
            | Event::SpaceDeleted { .. }
            | Event::InviteCreated { .. }
            | Event::InviteRevoked { .. }
            | Event::MemberJoined { .. }
            | Event::MemberLeft { .. }
            | Event::MemberRemoved { .. }
            | Event::RoleChanged { .. } => apply_space(conn, recorded).await?,
            Event::ChannelRead {
                user_id,
                channel_id,
                up_to,
            } => {
                // Markers only move forward, whatever order two tabs' reads were stored in.
                sqlx::query(
                    "INSERT INTO read_markers (user_id, channel_id, up_to) VALUES (?, ?, ?)
                     ON CONFLICT (user_id, channel_id) DO UPDATE SET up_to = max(up_to, excluded.up_to)",
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
                    "INSERT INTO read_markers (user_id, channel_id, muted) VALUES (?, ?, ?)
                     ON CONFLICT (user_id, channel_id) DO UPDATE SET muted = excluded.muted",
                )
                .bind(user_id.to_string())
                .bind(channel_id.to_string())
                .bind(*muted)
                .execute(&mut *conn)
                .await?;
            }
            Event::WebhookCreated {
                space_id,
                webhook_id,
                url,
                event_types,
            } => {
                sqlx::query(
                    "INSERT INTO webhooks (webhook_id, space_id, url, event_types, created_position)
                     VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
                sqlx::query("UPDATE webhooks SET deleted = 1 WHERE webhook_id = ?")
                    .bind(webhook_id.to_string())
                    .execute(&mut *conn)
                    .await?;
            }
            Event::AccountRegistered { user_id, username, .. } => {
                sqlx::query(
                    "INSERT INTO accounts (user_id, username, registered_position) VALUES (?, ?, ?)
                     ON CONFLICT DO NOTHING",
                )
                .bind(user_id.to_string())
                .bind(username.to_string())
                .bind(position)
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    insert_messages(conn, &mut messages).await?;
    if let Some(last) = batch.last() {
        sqlx::query(
            "INSERT INTO projection_checkpoints (name, position) VALUES (?, ?)
             ON CONFLICT (name) DO UPDATE SET position = excluded.position",
        )
        .bind(NAME)
        .bind(last.position.0 as i64)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
