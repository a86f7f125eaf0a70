//! The event store on SQLite: the single source of truth.
//!
//! Appends go through one writer task that owns one connection. It takes every append
//! request waiting at the time and commits them in one transaction (group commit). Being
//! the only writer, it keeps each stream's version in memory and decides version
//! conflicts before writing, so a refused request writes nothing and the others go on.
//! Only after the commit are the requests answered and the events announced on the bus,
//! so an acknowledged event is durable and positions are announced in log order.

use crate::bus::Bus;
use parley::{Event, EventId, EventMetadata, MessageId, Position, RecordedEvent, StreamId};
use sqlx::sqlite::{SqliteConnection, SqlitePool};
use sqlx::{Executor, FromRow};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

/// The most append requests committed together.
const MAX_BATCH: usize = 512;

/// What the writer of an append expects its stream to look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the stream holds (for commands whose rules do not depend on order).
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must hold exactly this many events.
    Exact(u64),
}

/// An event to append, with its metadata.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub event: Event,
    pub metadata: EventMetadata,
}

/// The outcome of a successful append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// Positions of the first and last appended event.
    pub first: Position,
    pub last: Position,
    /// The stream's version after the append.
    pub stream_version: u64,
    /// True when the client message id had been stored before: nothing was appended,
    /// and the positions are those of the first append.
    pub duplicate: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    #[error("version conflict on {stream}: expected {expected:?}, the stream is at {actual}")]
    Conflict {
        stream: StreamId,
        expected: ExpectedVersion,
        actual: u64,
    },
    #[error("nothing to append")]
    Empty,
    #[error("the event store is shutting down")]
    Unavailable,
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for AppendError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e.to_string())
    }
}

struct AppendRequest {
    stream: StreamId,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
    reply: oneshot::Sender<Result<Appended, AppendError>>,
}

/// Reading and appending events. Cheap to clone.
#[derive(Clone)]
pub struct EventStore {
    pool: SqlitePool,
    writer: mpsc::Sender<AppendRequest>,
    bus: Bus,
    write_turn: WriteTurn,
}

/// Whose turn it is to write to the database file. SQLite lets one connection write at a
/// time and makes the others retry with growing sleeps (up to 100 ms each); the store's
/// writer and the projector take turns here instead, in order, without sleeping.
pub type WriteTurn = Arc<tokio::sync::Mutex<()>>;

impl EventStore {
    /// Starts the writer task on `connection` and returns the store.
    pub fn start(pool: SqlitePool, connection: SqliteConnection, bus: Bus) -> (Self, tokio::task::JoinHandle<()>) {
        let (writer, requests) = mpsc::channel(4 * MAX_BATCH);
        let write_turn = WriteTurn::default();
        let task = tokio::spawn(write_loop(connection, requests, bus.clone(), write_turn.clone()));
        (
            Self {
                pool,
                writer,
                bus,
                write_turn,
            },
            task,
        )
    }

    /// The turn every writer of the database file takes (see [`WriteTurn`]).
    pub fn write_turn(&self) -> &WriteTurn {
        &self.write_turn
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Appends `events` to `stream` atomically, if the stream is at `expected`.
    /// Idempotent on the client message id of the first event: a resend stores
    /// nothing and returns the first append's positions.
    pub async fn append(
        &self,
        stream: StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Appended, AppendError> {
        if events.is_empty() {
            return Err(AppendError::Empty);
        }
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(AppendRequest {
                stream,
                expected,
                events,
                reply,
            })
            .await
            .map_err(|_| AppendError::Unavailable)?;
        answer.await.map_err(|_| AppendError::Unavailable)?
    }

    /// The position of the last event in the log.
    pub async fn head(&self) -> Result<Position, sqlx::Error> {
        let head: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(Position(head.unwrap_or(0) as u64))
    }

    /// Up to `limit` events after `after`, in log order.
    pub async fn read_all(&self, after: Position, limit: u32) -> Result<Vec<RecordedEvent>, StoreReadError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT position, stream_id, stream_version, event_id, event_type, schema_version,
                    payload, metadata, recorded_at_ms
             FROM events WHERE position > ? ORDER BY position LIMIT ?",
        )
        .bind(after.0 as i64)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(EventRow::decode).collect()
    }

    /// Up to `limit` events of one stream with a position in `(after, up_to]`, in log order.
    pub async fn read_stream(
        &self,
        stream: &StreamId,
        after: Position,
        up_to: Position,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreReadError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT position, stream_id, stream_version, event_id, event_type, schema_version,
                    payload, metadata, recorded_at_ms
             FROM events WHERE stream_id = ? AND position > ? AND position <= ?
             ORDER BY position LIMIT ?",
        )
        .bind(stream.as_str().to_owned())
        .bind(after.0 as i64)
        .bind(up_to.0 as i64)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(EventRow::decode).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreReadError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("stored event at position {position} cannot be read: {reason}")]
    Corrupt { position: i64, reason: String },
}

#[derive(FromRow)]
struct EventRow {
    position: i64,
    stream_id: String,
    stream_version: i64,
    event_id: String,
    event_type: String,
    schema_version: i64,
    payload: String,
    metadata: String,
    recorded_at_ms: i64,
}

impl EventRow {
    fn decode(self) -> Result<RecordedEvent, StoreReadError> {
        let corrupt = |reason: String| StoreReadError::Corrupt {
            position: self.position,
            reason,
        };
        let payload = serde_json::from_str(&self.payload).map_err(|e| corrupt(e.to_string()))?;
        let schema_version = u32::try_from(self.schema_version).map_err(|e| corrupt(e.to_string()))?;
        let event = Event::decode(&self.event_type, schema_version, payload).map_err(|e| corrupt(e.to_string()))?;
        let metadata = serde_json::from_str(&self.metadata).map_err(|e| corrupt(e.to_string()))?;
        let event_id = self.event_id.parse().map_err(|e: uuid::Error| corrupt(e.to_string()))?;
        Ok(RecordedEvent {
            position: Position(self.position as u64),
            stream_id: StreamId(self.stream_id),
            stream_version: self.stream_version as u64,
            event_id,
            schema_version,
            event,
            metadata,
            recorded_at_ms: self.recorded_at_ms,
        })
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn write_loop(
    mut conn: SqliteConnection,
    mut requests: mpsc::Receiver<AppendRequest>,
    bus: Bus,
    write_turn: WriteTurn,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut versions = Versions::default();
    while requests.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let _turn = write_turn.lock().await;
        match write_batch(&mut conn, &batch, &mut versions).await {
            Ok(outcomes) => finish(batch.drain(..), outcomes, &bus),
            Err(e) => {
                let _ = conn.execute("ROLLBACK").await;
                versions.clear();
                // Whatever failed may be one request's fault (conflicts are decided before
                // any write, so this is rare): retry each on its own, so only it fails.
                for request in batch.drain(..) {
                    let single = std::slice::from_ref(&request);
                    match write_batch(&mut conn, single, &mut versions).await {
                        Ok(outcomes) => finish(std::iter::once(request), outcomes, &bus),
                        Err(e2) => {
                            let _ = conn.execute("ROLLBACK").await;
                            versions.clear();
                            tracing::error!(error = %e2, first_error = %e, "append failed");
                            let _ = request.reply.send(Err(AppendError::Database(e2.to_string())));
                        }
                    }
                }
            }
        }
    }
}

/// After commit: answer each request, then announce the committed events in log order.
fn finish(requests: impl Iterator<Item = AppendRequest>, outcomes: Vec<Outcome>, bus: &Bus) {
    let mut committed = Vec::new();
    for (request, (outcome, events)) in requests.zip(outcomes) {
        committed.extend(events);
        // The requester may have gone away; the events are durable all the same.
        let _ = request.reply.send(outcome);
    }
    bus.emit_committed(committed);
}

type Outcome = (Result<Appended, AppendError>, Vec<RecordedEvent>);

/// Each stream's version, kept by the one writer so an append need not ask the database.
/// Cleared whenever a transaction rolls back, and read again on demand.
#[derive(Default)]
struct Versions(HashMap<String, u64>);

impl Versions {
    async fn get(&mut self, conn: &mut SqliteConnection, stream: &str) -> Result<u64, sqlx::Error> {
        if let Some(version) = self.0.get(stream) {
            return Ok(*version);
        }
        let version: Option<i64> = sqlx::query_scalar("SELECT MAX(stream_version) FROM events WHERE stream_id = ?")
            .bind(stream.to_owned())
            .fetch_one(&mut *conn)
            .await?;
        let version = version.unwrap_or(0) as u64;
        self.0.insert(stream.to_owned(), version);
        Ok(version)
    }

    fn set(&mut self, stream: &str, version: u64) {
        self.0.insert(stream.to_owned(), version);
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

/// One transaction, one fsync, for the whole batch. A request refused for its expected
/// version changes nothing and does not stop the others; a database error fails the batch.
async fn write_batch(
    conn: &mut SqliteConnection,
    batch: &[AppendRequest],
    versions: &mut Versions,
) -> Result<Vec<Outcome>, sqlx::Error> {
    conn.execute("BEGIN IMMEDIATE").await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for request in batch {
        outcomes.push(append_one(conn, request, versions).await?);
    }
    conn.execute("COMMIT").await?;
    Ok(outcomes)
}

async fn find_client_message(conn: &mut SqliteConnection, id: MessageId) -> Result<Option<Appended>, sqlx::Error> {
    let existing: Option<(i64, i64)> =
        sqlx::query_as("SELECT position, stream_version FROM events WHERE client_message_id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(existing.map(|(position, version)| {
        let position = Position(position as u64);
        Appended {
            first: position,
            last: position,
            stream_version: version as u64,
            duplicate: true,
        }
    }))
}

async fn append_one(
    conn: &mut SqliteConnection,
    request: &AppendRequest,
    versions: &mut Versions,
) -> Result<Outcome, sqlx::Error> {
    let stream = request.stream.as_str();
    let client_message_id = request.events.first().and_then(|e| e.metadata.client_message_id);
    let current = versions.get(conn, stream).await?;
    let fits = match request.expected {
        ExpectedVersion::Any => true,
        ExpectedVersion::NoStream => current == 0,
        ExpectedVersion::Exact(v) => current == v,
    };
    if !fits {
        // A resend of an append that did happen is not a conflict: answer it as the first.
        if let Some(id) = client_message_id
            && let Some(appended) = find_client_message(conn, id).await?
        {
            return Ok((Ok(appended), Vec::new()));
        }
        let conflict = AppendError::Conflict {
            stream: request.stream.clone(),
            expected: request.expected,
            actual: current,
        };
        return Ok((Err(conflict), Vec::new()));
    }

    let recorded_at_ms = now_ms();
    let mut recorded = Vec::with_capacity(request.events.len());
    for (i, new) in request.events.iter().enumerate() {
        let version = current + i as u64 + 1;
        let event_id = EventId::new();
        let payload = new.event.payload().to_string();
        let metadata = serde_json::to_string(&new.metadata).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        // The client message id's unique index makes a resend insert nothing.
        let result = sqlx::query(
            "INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version,
                                 payload, metadata, client_message_id, recorded_at_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING",
        )
        .bind(stream.to_owned())
        .bind(version as i64)
        .bind(event_id.to_string())
        .bind(new.event.event_type())
        .bind(i64::from(Event::SCHEMA_VERSION))
        .bind(payload)
        .bind(metadata)
        .bind(if i == 0 {
            client_message_id.map(|id| id.to_string())
        } else {
            None
        })
        .bind(recorded_at_ms)
        .execute(&mut *conn)
        .await?;
        if result.rows_affected() == 0 {
            // Only the first event carries the id, so nothing of this request was written.
            let Some(id) = client_message_id else {
                return Err(sqlx::Error::RowNotFound);
            };
            let Some(appended) = find_client_message(conn, id).await? else {
                return Err(sqlx::Error::RowNotFound);
            };
            return Ok((Ok(appended), Vec::new()));
        }
        recorded.push(RecordedEvent {
            position: Position(result.last_insert_rowid() as u64),
            stream_id: request.stream.clone(),
            stream_version: version,
            event_id,
            schema_version: Event::SCHEMA_VERSION,
            event: new.event.clone(),
            metadata: new.metadata.clone(),
            recorded_at_ms,
        });
    }
    let first = recorded.first().map(|e| e.position).unwrap_or_default();
    let last = recorded.last().map(|e| e.position).unwrap_or_default();
    let stream_version = current + recorded.len() as u64;
    versions.set(stream, stream_version);
    Ok((
        Ok(Appended {
            first,
            last,
            stream_version,
            duplicate: false,
        }),
        recorded,
    ))
}
