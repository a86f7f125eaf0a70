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
        let waited = std::time::Instant::now();
        let _turn = write_turn.lock().await;
        let started = std::time::Instant::now();
        match write_batch(&mut conn, &batch, &mut versions).await {
            Ok(outcomes) => {
                tracing::debug!(
                    requests = batch.len(),
                    turn_wait_us = (started - waited).as_micros() as u64,
                    write_us = started.elapsed().as_micros() as u64,
                    "appended"
                );
                metrics::histogram!(crate::metrics::APPEND_SECONDS).record(started.elapsed().as_secs_f64());
                let appended: usize = outcomes.iter().map(|(_, events)| events.len()).sum();
                metrics::counter!(crate::metrics::APPENDED).increment(appended as u64);
                finish(batch.drain(..), outcomes, &bus)
            }
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

/// One transaction, one fsync, and a fixed handful of statements for the whole batch,
/// however many requests it holds: every statement is a round trip to SQLite's worker
/// thread, and those trips, not SQLite, were the cost of an append. A request refused for
/// its expected version changes nothing and does not stop the others; a database error
/// fails the batch.
async fn write_batch(
    conn: &mut SqliteConnection,
    batch: &[AppendRequest],
    versions: &mut Versions,
) -> Result<Vec<Outcome>, sqlx::Error> {
    conn.execute("BEGIN IMMEDIATE").await?;
    let stored = stored_client_messages(conn, batch).await?;
    let recorded_at_ms = now_ms();
    let mut plans = Vec::with_capacity(batch.len());
    let mut rows = Vec::new();
    let mut seen: HashMap<MessageId, usize> = HashMap::new();
    for (index, request) in batch.iter().enumerate() {
        let client_message_id = request.events.first().and_then(|e| e.metadata.client_message_id);
        if let Some(id) = client_message_id {
            // A resend of an append that did happen, before or earlier in this batch.
            if let Some(appended) = stored.get(&id) {
                plans.push(Plan::Done(Ok(appended.clone())));
                continue;
            }
            if let Some(first) = seen.get(&id) {
                plans.push(Plan::SameAs(*first));
                continue;
            }
            seen.insert(id, index);
        }
        let stream = request.stream.as_str();
        let current = versions.get(conn, stream).await?;
        let fits = match request.expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(v) => current == v,
        };
        if !fits {
            plans.push(Plan::Done(Err(AppendError::Conflict {
                stream: request.stream.clone(),
                expected: request.expected,
                actual: current,
            })));
            continue;
        }
        let first_row = rows.len();
        for (i, new) in request.events.iter().enumerate() {
            let metadata = serde_json::to_string(&new.metadata).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            rows.push(Row {
                stream: stream.to_owned(),
                version: current + i as u64 + 1,
                event_id: EventId::new(),
                event_type: new.event.event_type(),
                payload: new.event.payload().to_string(),
                metadata,
                // Only the first event carries the client message id (it is unique).
                client_message_id: client_message_id.filter(|_| i == 0).map(|id| id.to_string()),
            });
        }
        versions.set(stream, current + request.events.len() as u64);
        plans.push(Plan::Insert {
            first_row,
            stream_version: current + request.events.len() as u64,
        });
    }
    let positions = insert_rows(conn, &rows, recorded_at_ms).await?;
    conn.execute("COMMIT").await?;

    let mut outcomes: Vec<Outcome> = Vec::with_capacity(batch.len());
    for (request, plan) in batch.iter().zip(plans) {
        let outcome = match plan {
            Plan::Done(result) => (result, Vec::new()),
            Plan::SameAs(first) => {
                let result = outcomes[first].0.clone().map(|appended| Appended {
                    duplicate: true,
                    ..appended
                });
                (result, Vec::new())
            }
            Plan::Insert {
                first_row,
                stream_version,
            } => {
                let mut recorded = Vec::with_capacity(request.events.len());
                for (new, row) in request.events.iter().zip(&rows[first_row..]) {
                    let Some(position) = positions.get(&row.event_id) else {
                        return Err(sqlx::Error::RowNotFound);
                    };
                    recorded.push(RecordedEvent {
                        position: *position,
                        stream_id: request.stream.clone(),
                        stream_version: row.version,
                        event_id: row.event_id,
                        schema_version: Event::SCHEMA_VERSION,
                        event: new.event.clone(),
                        metadata: new.metadata.clone(),
                        recorded_at_ms,
                    });
                }
                let appended = Appended {
                    first: recorded.first().map(|e| e.position).unwrap_or_default(),
                    last: recorded.last().map(|e| e.position).unwrap_or_default(),
                    stream_version,
                    duplicate: false,
                };
                (Ok(appended), recorded)
            }
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// What the writer does with one request of a batch.
enum Plan {
    /// Answered without writing: a conflict, or a resend of an earlier append.
    Done(Result<Appended, AppendError>),
    /// A resend of the request at this index of the same batch.
    SameAs(usize),
    /// Written as rows `first_row..` of the batch's insert.
    Insert { first_row: usize, stream_version: u64 },
}

/// One event row to insert.
struct Row {
    stream: String,
    version: u64,
    event_id: EventId,
    event_type: &'static str,
    payload: String,
    metadata: String,
    client_message_id: Option<String>,
}

/// The appends already stored for the client message ids of `batch`, in one query.
async fn stored_client_messages(
    conn: &mut SqliteConnection,
    batch: &[AppendRequest],
) -> Result<HashMap<MessageId, Appended>, sqlx::Error> {
    let ids: Vec<String> = batch
        .iter()
        .filter_map(|r| r.events.first().and_then(|e| e.metadata.client_message_id))
        .map(|id| id.to_string())
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids = serde_json::to_string(&ids).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let found: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT client_message_id, position, stream_version FROM events
         WHERE client_message_id IN (SELECT value FROM json_each(?))",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut stored = HashMap::with_capacity(found.len());
    for (id, position, version) in found {
        let Ok(id) = id.parse::<MessageId>() else { continue };
        let position = Position(position as u64);
        stored.insert(
            id,
            Appended {
                first: position,
                last: position,
                stream_version: version as u64,
                duplicate: true,
            },
        );
    }
    Ok(stored)
}

/// Inserts every row in one statement (the rows travel as one JSON array) and returns
/// the position each event was given.
async fn insert_rows(
    conn: &mut SqliteConnection,
    rows: &[Row],
    recorded_at_ms: i64,
) -> Result<HashMap<EventId, Position>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let array: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            serde_json::json!([
                row.stream,
                row.version,
                row.event_id.to_string(),
                row.event_type,
                Event::SCHEMA_VERSION,
                row.payload,
                row.metadata,
                row.client_message_id,
                recorded_at_ms,
            ])
        })
        .collect();
    let returned: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version,
                             payload, metadata, client_message_id, recorded_at_ms)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4,
                value ->> 5, value ->> 6, value ->> 7, value ->> 8
         FROM json_each(?) ORDER BY key
         RETURNING position, event_id",
    )
    .bind(serde_json::Value::Array(array).to_string())
    .fetch_all(&mut *conn)
    .await?;
    if returned.len() != rows.len() {
        return Err(sqlx::Error::RowNotFound);
    }
    returned
        .into_iter()
        .map(|(position, event_id)| {
            let event_id = event_id
                .parse()
                .map_err(|e: uuid::Error| sqlx::Error::Decode(Box::new(e)))?;
            Ok((event_id, Position(position as u64)))
        })
        .collect()
}
