//! The projector: folds committed events into the read models (`channels`, `messages`),
//! saving its checkpoint in the same transaction, then hands each batch to the dispatcher.
//! It tails the log itself (the bus only wakes it), so it never misses an event, and it
//! resumes from its checkpoint after a restart. Applying an event twice changes nothing.

use crate::dispatcher::Hub;
use crate::store::{EventStore, StoreReadError};
use parley::{Event, Position, RecordedEvent};
use sqlx::sqlite::SqlitePool;
use std::time::Duration;

const NAME: &str = "read_models";
const BATCH: u32 = 1_000;

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
}

impl Projector {
    pub fn new(store: EventStore, hub: Hub) -> Self {
        Self { store, hub }
    }

    /// Applies every event after the checkpoint, up to the head of the log.
    pub async fn catch_up(&self) -> Result<Position, ProjectionError> {
        let mut checkpoint = checkpoint(self.store.pool()).await?;
        loop {
            let batch = self.store.read_all(checkpoint, BATCH).await?;
            let Some(last) = batch.last().map(|e| e.position) else {
                return Ok(checkpoint);
            };
            apply(self.store.pool(), &batch).await?;
            checkpoint = last;
            self.hub.publish(&batch);
        }
    }

    /// Follows the log until the task is dropped. Errors are logged and retried.
    pub async fn run(self) {
        let mut head = self.store.bus().head();
        loop {
            head.borrow_and_update();
            if let Err(e) = self.catch_up().await {
                tracing::error!(error = %e, "projection failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            if head.changed().await.is_err() {
                return;
            }
        }
    }

    /// Empties the read models and folds the whole log into them again.
    pub async fn rebuild(&self) -> Result<Position, ProjectionError> {
        let mut tx = self.store.pool().begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM messages").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM channels").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM projection_checkpoints")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.catch_up().await
    }
}

/// The position of the last event folded into the read models.
pub async fn checkpoint(pool: &SqlitePool) -> Result<Position, sqlx::Error> {
    let position: Option<i64> = sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = ?")
        .bind(NAME)
        .fetch_optional(pool)
        .await?;
    Ok(Position(position.unwrap_or(0) as u64))
}

async fn apply(pool: &SqlitePool, batch: &[RecordedEvent]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for recorded in batch {
        let position = recorded.position.0 as i64;
        match &recorded.event {
            Event::ChannelCreated { channel_id, name } => {
                sqlx::query(
                    "INSERT INTO channels (channel_id, name, created_position) VALUES (?, ?, ?)
                     ON CONFLICT (channel_id) DO NOTHING",
                )
                .bind(channel_id.to_string())
                .bind(name.clone())
                .bind(position)
                .execute(&mut *tx)
                .await?;
            }
            Event::MessagePosted {
                channel_id,
                message_id,
                author,
                body,
            } => {
                sqlx::query(
                    "INSERT INTO messages (position, message_id, channel_id, author, body, sent_at_ms)
                     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                )
                .bind(position)
                .bind(message_id.to_string())
                .bind(channel_id.to_string())
                .bind(author.to_string())
                .bind(body.to_string())
                .bind(recorded.recorded_at_ms)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    if let Some(last) = batch.last() {
        sqlx::query(
            "INSERT INTO projection_checkpoints (name, position) VALUES (?, ?)
             ON CONFLICT (name) DO UPDATE SET position = excluded.position",
        )
        .bind(NAME)
        .bind(last.position.0 as i64)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}
