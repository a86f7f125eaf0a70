//! The event store (SQLite, or PostgreSQL for several nodes): the single source of truth.
//!
//! Appends go through one writer that owns one connection (on SQLite a thread of its own,
//! see [`on_own_thread`]; on PostgreSQL a task of the runtime). It takes every append
//! request waiting at the time and commits them in one transaction (group commit). Being
//! the only writer, it keeps each stream's version in memory and decides version
//! conflicts before writing, so a refused request writes nothing and the others go on.
//! Only once the commit is durable are the requests answered and the events announced on
//! the bus, so an acknowledged event is on the disk and positions are announced in log
//! order. On SQLite the writer does not wait for that: a thread beside it syncs the WAL
//! while it writes its next batch (`log/durable.rs`).
//!
//! On a sole writer (SQLite) the projection folds each batch into the read models inside
//! the same transaction ([`WriterFold`]): one commit per batch, and the events go to the
//! sockets from here, without another transaction or task in between.

use crate::db::{Backend, Database, WriterConnection};
use crate::dialect;
use crate::log::bus::Bus;
use crate::log::durable::{self, Settled, Syncer};
use futures::future::BoxFuture;
use parley::{Event, EventId, EventMetadata, MessageId, Position, RecordedEvent, StreamId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Executor, FromRow, Row as _};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::task::Poll;
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
    /// The id of the first appended event, for the causation id of what it leads to
    /// (unknown for a duplicate found in the store).
    pub first_event_id: Option<EventId>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    #[error("version conflict on {stream}: expected {expected:?}, the stream is at {actual}")]
    Conflict {
        stream: StreamId,
        expected: ExpectedVersion,
        actual: u64,
    },
    /// The client message id is taken by an append of another stream or author. Says
    /// nothing of that append: an id must not tell anyone where a message they cannot
    /// read is.
    #[error("this message id is already in use; send it with a new id")]
    IdInUse,
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

/// What the writer runs in its transaction after inserting a batch, and after committing
/// it: the projection's fold, on a sole writer (SQLite), so a batch's read-model rows and
/// checkpoint commit with its events. Declared here, written by the projection (the log
/// does not know the read models).
pub trait WriterFold: Send + Sync {
    /// Folds `events` into the read models in the writer's open transaction. `Ok(false)`
    /// when it did not (the read models were behind them): the transaction is then as it
    /// was, and the projector folds them as it does any event. An error may leave part of
    /// the fold in the transaction: the writer rolls the batch back and writes it again
    /// without the fold.
    fn fold<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        events: &'a [Arc<RecordedEvent>],
    ) -> BoxFuture<'a, Result<bool, sqlx::Error>>;
    /// Called while the commit syncs, for folded events: makes what hands them out (the
    /// frames for the sockets), run once they are committed and the bus announced them.
    fn prepare(&self, events: &[Arc<RecordedEvent>]) -> HandOut;
}

/// Hands a committed, folded batch out (see [`WriterFold::prepare`]).
pub type HandOut = Box<dyn FnOnce() + Send>;

/// Where the writer finds its fold, once the projection has given it one.
type FoldSlot = Arc<OnceLock<Arc<dyn WriterFold>>>;

struct AppendRequest {
    stream: StreamId,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
    /// Each event's payload and metadata as stored, made by the caller (so the writer,
    /// which every append waits for, does not).
    encoded: Vec<Encoded>,
    reply: oneshot::Sender<Result<Appended, AppendError>>,
}

/// Reading and appending events. Cheap to clone.
#[derive(Clone)]
pub struct EventStore {
    pool: AnyPool,
    backend: Backend,
    writer: mpsc::Sender<AppendRequest>,
    bus: Bus,
    write_turn: WriteTurn,
    fold: FoldSlot,
}

/// Whose turn it is to write to the database file. SQLite lets one connection write at a
/// time and makes the others retry with growing sleeps (up to 100 ms each); the store's
/// writer and the projector take turns here instead, in order, without sleeping.
#[derive(Clone, Default)]
pub struct WriteTurn {
    turn: crate::db::FileTurn,
    /// On SQLite, whether the batches the writer committed are finished (see [`durable`]).
    settled: Option<Settled>,
}

impl WriteTurn {
    /// Takes the turn, once every batch the writer committed before it is announced and
    /// handed out: the holder sees the log, the read models and what went out agree.
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        let turn = self.turn.lock().await;
        if let Some(settled) = &self.settled {
            settled.wait().await;
        }
        turn
    }

    /// The bare turn, for the checkpointer (see [`crate::db::FileTurn`]).
    pub fn file_turn(&self) -> crate::db::FileTurn {
        self.turn.clone()
    }

    /// The writer's own turn: its batches are finished after it, beside its next one.
    async fn lock_for_writer(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.turn.lock().await
    }
}

impl EventStore {
    /// Starts the writer task on `connection` and returns the store. On SQLite its commits
    /// are made durable by a thread beside it (see `log/durable.rs`), so the writer's
    /// connection is set here not to wait for the disk itself (`synchronous = NORMAL`).
    /// On PostgreSQL other nodes append too: every node's tailer reads the log and
    /// announces what its writer could not (see [`finish`]).
    pub async fn start(
        db: &Database,
        mut connection: WriterConnection,
        bus: Bus,
    ) -> anyhow::Result<(Self, tokio::task::JoinHandle<()>)> {
        let (writer, requests) = mpsc::channel(4 * MAX_BATCH);
        let (syncer, settled) = match (db.wal_path()?, &mut connection) {
            (Some(wal), WriterConnection::Sqlite(conn)) => {
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                let (syncer, settled) = Syncer::start(durable::sync_file(wal))?;
                (Some(syncer), Some(settled))
            }
            _ => (None, None),
        };
        let write_turn = WriteTurn {
            turn: Arc::default(),
            settled,
        };
        let fold = FoldSlot::default();
        let sole = connection.sole_writer();
        let writing = write_loop(
            connection,
            requests,
            bus.clone(),
            write_turn.clone(),
            fold.clone(),
            syncer,
        );
        let task = if sole {
            on_own_thread(writing)?
        } else {
            tokio::spawn(writing)
        };
        Ok((
            Self {
                pool: db.pool.clone(),
                backend: db.backend,
                writer,
                bus,
                write_turn,
                fold,
            },
            task,
        ))
    }

    /// Has the writer fold each batch in its own transaction, from its next batch on (only
    /// on a sole writer, SQLite; elsewhere, and if one was given already, nothing changes).
    pub fn fold_in_writer(&self, fold: Arc<dyn WriterFold>) {
        if self.backend == Backend::Sqlite {
            let _ = self.fold.set(fold);
        }
    }

    /// The turn every writer of the database file takes (see [`WriteTurn`]).
    pub fn write_turn(&self) -> &WriteTurn {
        &self.write_turn
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
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
        self.submit(stream, expected, events).await?.await
    }

    /// Hands `events` to the writer and returns at once with what will answer, once they
    /// are committed. Appends are written in the order they were submitted, so a caller
    /// that submits in turn (one socket's posts) fixes its order here, and may wait for
    /// the answers later (pipelining).
    pub async fn submit(
        &self,
        stream: StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<impl Future<Output = Result<Appended, AppendError>> + use<>, AppendError> {
        if events.is_empty() {
            return Err(AppendError::Empty);
        }
        let encoded = events.iter().map(Encoded::of).collect::<Result<_, _>>()?;
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(AppendRequest {
                stream,
                expected,
                events,
                encoded,
                reply,
            })
            .await
            .map_err(|_| AppendError::Unavailable)?;
        Ok(async move { answer.await.map_err(|_| AppendError::Unavailable)? })
    }

    /// The position of the last committed event, for reading one's own writes. On SQLite
    /// the bus knows it (the one writer announces each commit); on PostgreSQL another
    /// node may have committed since this node's tailer last read, so the log is asked.
    pub async fn committed_head(&self) -> Result<Position, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => Ok(*self.bus.head().borrow()),
            Backend::Postgres => self.head().await,
        }
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
        self.rows_after(after, limit)
            .await?
            .into_iter()
            .map(EventRow::decode)
            .collect()
    }

    async fn rows_after(&self, after: Position, limit: u32) -> Result<Vec<EventRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT position, stream_id, stream_version, event_id, event_type, schema_version,
                    payload, metadata, recorded_at_ms
             FROM events WHERE position > $1 ORDER BY position LIMIT $2",
        )
        .bind(after.0 as i64)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
    }

    /// Like [`Self::read_all`], but a row that cannot be read does not fail the page: it
    /// comes as `Err((position, reason))` in its place, for readers that step over it.
    pub async fn read_all_lenient(
        &self,
        after: Position,
        limit: u32,
    ) -> Result<Vec<Result<RecordedEvent, (Position, String)>>, sqlx::Error> {
        Ok(self
            .rows_after(after, limit)
            .await?
            .into_iter()
            .map(|row| {
                let position = Position(row.position.max(0) as u64);
                row.decode().map_err(|e| (position, e.to_string()))
            })
            .collect())
    }

    /// Up to `limit` events of one stream with a position in `(after, up_to]`, in log order.
    pub async fn read_stream(
        &self,
        stream: &StreamId,
        after: Position,
        up_to: Position,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreReadError> {
        self.read_stream_from(stream, StreamCursor::Position(after), up_to, limit)
            .await
    }

    /// Up to `limit` events of one stream after `cursor` and at or before `up_to`, in log
    /// order (a stream's versions rise with its positions).
    ///
    /// On SQLite the stream's one index is by version (its entries hold each event's
    /// position too, as the row id). After a position, the read starts after the version
    /// of the event at that position when it is of this stream (the next page of a read:
    /// one lookup), and otherwise after the version of the stream's last event at or before
    /// it, found by halving the stream's versions (`half`: about 20 lookups in the index for
    /// a million events, however far back the position is, so a reader that asks from the
    /// start of a long stream costs no more than one that asks from its end). After a
    /// version it is a seek, on both backends.
    pub async fn read_stream_from(
        &self,
        stream: &StreamId,
        cursor: StreamCursor,
        up_to: Position,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreReadError> {
        macro_rules! select {
            ($where:literal) => {
                concat!(
                    "SELECT position, stream_id, stream_version, event_id, event_type, schema_version,
                            payload, metadata, recorded_at_ms
                     FROM events ",
                    $where
                )
            };
        }
        let (sql, after) = match cursor {
            StreamCursor::Version(version) => (
                select!(
                    "WHERE stream_id = $1 AND stream_version > $2 AND position <= $3
                     ORDER BY stream_version LIMIT $4"
                ),
                version.min(i64::MAX as u64) as i64,
            ),
            StreamCursor::Position(after) => (
                dialect!(self.backend,
                    // `half(lo, hi)`: the version looked for is in `lo..=hi`; `lo`'s event (or
                    // none, 0) is at or before the position. Each step looks at the first
                    // event from the middle version on.
                    sqlite: concat!(
                        "WITH RECURSIVE half(lo, hi) AS (
                             SELECT 0, COALESCE((SELECT MAX(stream_version) FROM events WHERE stream_id = $1), 0)
                             UNION ALL
                             SELECT CASE WHEN (SELECT position FROM events
                                               WHERE stream_id = $1 AND stream_version >= (lo + hi + 1) / 2
                                               ORDER BY stream_version LIMIT 1) <= $2
                                         THEN (lo + hi + 1) / 2 ELSE lo END,
                                    CASE WHEN (SELECT position FROM events
                                               WHERE stream_id = $1 AND stream_version >= (lo + hi + 1) / 2
                                               ORDER BY stream_version LIMIT 1) <= $2
                                         THEN hi ELSE (lo + hi + 1) / 2 - 1 END
                             FROM half WHERE lo < hi
                         ) ",
                        select!(
                            "WHERE stream_id = $1 AND position <= $3 AND stream_version > COALESCE(
                                 (SELECT stream_version FROM events WHERE position = $2 AND stream_id = $1),
                                 (SELECT lo FROM half WHERE lo >= hi))
                             ORDER BY stream_version LIMIT $4"
                        )
                    ),
                    postgres: select!(
                        "WHERE stream_id = $1 AND position > $2 AND position <= $3
                         ORDER BY position LIMIT $4"
                    ),
                ),
                after.0.min(i64::MAX as u64) as i64,
            ),
        };
        let rows: Vec<EventRow> = sqlx::query_as(sql)
            .bind(stream.as_str().to_owned())
            .bind(after)
            .bind(up_to.0.min(i64::MAX as u64) as i64)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(EventRow::decode).collect()
    }

    /// The events of several streams, in log order, a page at a time: each stream is read
    /// after its own cursor in `after` (at first, where the reader starts), at most `limit`
    /// events of each, none past `up_to`. Every event of these streams up to the position
    /// returned is in the page; past the first stream that has more, the page ends (so a
    /// page costs at most `limit` rows a stream, however long the streams are). Each
    /// stream's cursor moves to the version of its last event up to that position, so the
    /// next page seeks each stream by its version.
    pub async fn read_streams(
        &self,
        after: &mut [(StreamId, StreamCursor)],
        up_to: Position,
        limit: u32,
    ) -> Result<(Vec<RecordedEvent>, Position), StoreReadError> {
        let mut pages = Vec::with_capacity(after.len());
        let mut reached = up_to;
        for (stream, cursor) in after.iter() {
            let page = self.read_stream_from(stream, *cursor, up_to, limit).await?;
            if page.len() == limit as usize
                && let Some(last) = page.last()
            {
                reached = reached.min(last.position);
            }
            pages.push(page);
        }
        let mut events = Vec::new();
        for ((_, cursor), page) in after.iter_mut().zip(pages) {
            // Had: its events up to `reached`. The first one past it is where it goes on.
            let had = page.partition_point(|e| e.position <= reached);
            if let Some(last) = had.checked_sub(1).and_then(|i| page.get(i)) {
                *cursor = StreamCursor::Version(last.stream_version);
            } else if let Some(next) = page.first() {
                *cursor = StreamCursor::Version(next.stream_version.saturating_sub(1));
            }
            events.extend(page.into_iter().take(had));
        }
        events.sort_by_key(|e| e.position);
        Ok((events, reached))
    }
}

/// Where a read of one stream goes on from ([`EventStore::read_stream_from`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamCursor {
    /// After a position of the log: where a reader starts.
    Position(Position),
    /// After a version of the stream: where a read that has had its events goes on.
    Version(u64),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreReadError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("stored event at position {position} cannot be read: {reason}")]
    Corrupt { position: i64, reason: String },
}

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

impl FromRow<'_, AnyRow> for EventRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            position: row.try_get("position")?,
            stream_id: row.try_get("stream_id")?,
            stream_version: row.try_get("stream_version")?,
            event_id: row.try_get("event_id")?,
            event_type: row.try_get("event_type")?,
            schema_version: row.try_get("schema_version")?,
            payload: row.try_get("payload")?,
            metadata: row.try_get("metadata")?,
            recorded_at_ms: row.try_get("recorded_at_ms")?,
        })
    }
}

impl EventRow {
    fn decode(self) -> Result<RecordedEvent, StoreReadError> {
        let corrupt = |reason: String| StoreReadError::Corrupt {
            position: self.position,
            reason,
        };
        let schema_version = u32::try_from(self.schema_version).map_err(|e| corrupt(e.to_string()))?;
        let event =
            Event::decode_text(&self.event_type, schema_version, &self.payload).map_err(|e| corrupt(e.to_string()))?;
        let metadata = serde_json::from_str(&self.metadata).map_err(|e| corrupt(e.to_string()))?;
        let event_id = self.event_id.parse().map_err(|e: uuid::Error| corrupt(e.to_string()))?;
        Ok(RecordedEvent {
            position: Position(self.position as u64),
            stream_id: StreamId(self.stream_id),
            stream_version: self.stream_version as u64,
            event_id,
            // Upcast: the event is in today's shape of its type, whatever version it was stored at.
            schema_version: event.schema_version(),
            event,
            metadata,
            recorded_at_ms: self.recorded_at_ms,
        })
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn write_loop(
    mut conn: WriterConnection,
    mut requests: mpsc::Receiver<AppendRequest>,
    bus: Bus,
    write_turn: WriteTurn,
    fold: FoldSlot,
    syncer: Option<Syncer>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut versions = Versions::default();
    let sole = conn.sole_writer();
    // Each committed batch is finished here, or after the sync that makes it durable.
    let done = |requests: Vec<AppendRequest>, written: Written| match &syncer {
        Some(syncer) => {
            let bus = bus.clone();
            syncer.after_sync(Box::new(move || finish(requests, written, &bus, sole)));
        }
        None => finish(requests, written, &bus, sole),
    };
    while requests.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let waited = std::time::Instant::now();
        let _turn = write_turn.lock_for_writer().await;
        let started = std::time::Instant::now();
        let fold = fold.get().map(|f| f.as_ref());
        match write_folded(&mut conn, &batch, &mut versions, fold).await {
            Ok(written) => {
                tracing::debug!(
                    requests = batch.len(),
                    turn_wait_us = (started - waited).as_micros() as u64,
                    write_us = started.elapsed().as_micros() as u64,
                    "appended"
                );
                metrics::histogram!(crate::metrics::APPEND_SECONDS).record(started.elapsed().as_secs_f64());
                metrics::counter!(crate::metrics::APPENDED).increment(written.events.len() as u64);
                done(std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH)), written)
            }
            Err(e) => {
                conn.rollback().await;
                versions.clear();
                // Whatever failed may be one request's fault (conflicts are decided before
                // any write, so this is rare): retry each on its own, so only it fails.
                for request in batch.drain(..) {
                    let single = std::slice::from_ref(&request);
                    match write_folded(&mut conn, single, &mut versions, fold).await {
                        Ok(written) => done(vec![request], written),
                        Err(e2) => {
                            conn.rollback().await;
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

/// Runs the writer's loop on a thread of its own (SQLite, where each batch is a chain of
/// hand-offs between this loop and SQLite's thread): on the runtime, every hand-off waited
/// for a worker behind the sockets' tasks. Under `pairs` (2,000 sockets) the insert step
/// of a batch took 41–48 µs a row that way, 20–31 on this thread (five interleaved runs
/// each). The loop still reaches the runtime for anything it spawns or times. The task
/// returned ends with the loop, and stops it when it is aborted, as the loop's own task did.
fn on_own_thread(writing: impl Future<Output = ()> + Send + 'static) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let runtime = tokio::runtime::Handle::current();
    let (stop, stopped) = oneshot::channel::<()>();
    let (ended, end) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("parley-writer".into())
        .spawn(move || {
            let _runtime = runtime.enter();
            futures::executor::block_on(futures::future::select(std::pin::pin!(writing), stopped));
            let _ = ended.send(());
        })?;
    Ok(tokio::spawn(async move {
        // Dropped when this task ends or is aborted: the loop stops with it.
        let _stop = stop;
        let _ = end.await;
    }))
}

/// After commit: announce the committed events in log order, hand them out if the writer
/// folded them, then answer each request, so that what follows the log (the engine's state)
/// holds a write before its answer returns. On PostgreSQL the bus takes them only if it has
/// had every event before them (see [`Bus::emit_committed`]); else this node's tailer
/// announces them, in order.
fn finish(requests: Vec<AppendRequest>, written: Written, bus: &Bus, sole: bool) {
    let Written {
        outcomes,
        events,
        hand_out,
    } = written;
    if sole {
        bus.emit_committed_by_sole_writer(events);
    } else {
        bus.emit_committed(events);
    }
    if let Some(hand_out) = hand_out {
        hand_out();
    }
    for (request, outcome) in requests.into_iter().zip(outcomes) {
        // The requester may have gone away; the events are durable all the same.
        let _ = request.reply.send(outcome);
    }
}

/// Why a batch was not written.
enum Failed {
    /// The writer's fold failed: the transaction may hold part of it.
    Fold(sqlx::Error),
    Store(sqlx::Error),
}

impl Failed {
    fn into_error(self) -> sqlx::Error {
        match self {
            Self::Fold(e) | Self::Store(e) => e,
        }
    }
}

impl From<sqlx::Error> for Failed {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e)
    }
}

/// Writes a batch, folded if `fold` is given. A fold that fails is rolled back with the
/// batch, which is written again without it: an append never fails for a fold, and the
/// projector folds those events (it parks the one at fault if it keeps failing).
async fn write_folded(
    conn: &mut WriterConnection,
    batch: &[AppendRequest],
    versions: &mut Versions,
    fold: Option<&dyn WriterFold>,
) -> Result<Written, sqlx::Error> {
    match write_batch(conn, batch, versions, fold).await {
        Err(Failed::Fold(e)) => {
            tracing::warn!(error = %e, "folding in the writer failed: the batch is written without it, for the projector to fold");
            conn.rollback().await;
            versions.clear();
            write_batch(conn, batch, versions, None)
                .await
                .map_err(Failed::into_error)
        }
        written => written.map_err(Failed::into_error),
    }
}

/// What a committed batch gives back: each request's answer, in order; the events it
/// appended, in log order; and, if the writer folded them, what hands them out.
struct Written {
    outcomes: Vec<Result<Appended, AppendError>>,
    events: Vec<Arc<RecordedEvent>>,
    hand_out: Option<HandOut>,
}

/// Each stream's version, kept by the one writer so an append need not ask the database.
/// Cleared whenever a transaction rolls back, and read again on demand.
#[derive(Default)]
struct Versions(HashMap<String, u64>);

impl Versions {
    async fn get(&mut self, conn: &mut WriterConnection, stream: &str) -> Result<u64, sqlx::Error> {
        if let Some(version) = self.0.get(stream) {
            return Ok(*version);
        }
        let version = conn.stream_version(stream).await?;
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

/// One transaction, one sync, and a fixed handful of statements for the whole batch,
/// however many requests it holds: every statement is a round trip to SQLite's worker
/// thread, and those trips, not SQLite, were the cost of an append. A request refused for
/// its expected version changes nothing and does not stop the others; a database error
/// fails the batch. With a `fold`, the batch's events are folded before the commit, and
/// what hands them out is returned.
async fn write_batch(
    conn: &mut WriterConnection,
    batch: &[AppendRequest],
    versions: &mut Versions,
    fold: Option<&dyn WriterFold>,
) -> Result<Written, Failed> {
    let begun = std::time::Instant::now();
    let ids = client_message_ids(batch);
    let (head, found) = conn.begin(&ids).await?;
    if !conn.sole_writer() {
        // Other nodes may have appended since: versions are read again under the lock,
        // every stream of the batch in one query (the lock is held meanwhile).
        versions.clear();
        let mut streams: Vec<String> = batch.iter().map(|r| r.stream.as_str().to_owned()).collect();
        streams.sort_unstable();
        streams.dedup();
        let found = conn.stream_versions(&streams).await?;
        for stream in streams {
            versions.set(&stream, found.get(&stream).copied().unwrap_or(0));
        }
    }
    let stored = stored_appends(found);
    let recorded_at_ms = now_ms();
    let mut plans = Vec::with_capacity(batch.len());
    let mut rows = Vec::new();
    let mut seen: HashMap<MessageId, usize> = HashMap::new();
    for (index, request) in batch.iter().enumerate() {
        let client_message_id = request.events.first().and_then(|e| e.metadata.client_message_id);
        if let Some(id) = client_message_id {
            // A resend of an append that did happen, before or earlier in this batch: the
            // first answer, but only to the same author on the same stream.
            let actor = request.events.first().map(|e| e.metadata.actor.as_str());
            if let Some((owner, appended)) = stored.get(&id) {
                let same = owner.stream == request.stream.as_str() && Some(owner.actor.as_str()) == actor;
                plans.push(Plan::Done(if same {
                    Ok(appended.clone())
                } else {
                    Err(AppendError::IdInUse)
                }));
                continue;
            }
            if let Some(first) = seen.get(&id) {
                let owner = &batch[*first];
                let same =
                    owner.stream == request.stream && owner.events.first().map(|e| e.metadata.actor.as_str()) == actor;
                plans.push(if same {
                    Plan::SameAs(*first)
                } else {
                    Plan::Done(Err(AppendError::IdInUse))
                });
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
        for (i, (new, encoded)) in request.events.iter().zip(&request.encoded).enumerate() {
            rows.push(Row {
                stream,
                version: current + i as u64 + 1,
                event_id: EventId::new(),
                event_type: new.event.event_type(),
                schema_version: new.event.schema_version(),
                payload: &encoded.payload,
                metadata: &encoded.metadata,
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
    let inserting = std::time::Instant::now();
    conn.insert(&rows, recorded_at_ms, head).await?;
    let inserted = std::time::Instant::now();
    let mut outcomes: Vec<Result<Appended, AppendError>> = Vec::with_capacity(batch.len());
    let mut events: Vec<Arc<RecordedEvent>> = Vec::with_capacity(rows.len());
    for (request, plan) in batch.iter().zip(plans) {
        let outcome = match plan {
            Plan::Done(result) => result,
            Plan::SameAs(first) => outcomes[first].clone().map(|appended| Appended {
                duplicate: true,
                ..appended
            }),
            Plan::Insert {
                first_row,
                stream_version,
            } => {
                let start = events.len();
                for (i, (new, row)) in request.events.iter().zip(&rows[first_row..]).enumerate() {
                    events.push(Arc::new(RecordedEvent {
                        position: Position(head.0 + 1 + (first_row + i) as u64),
                        stream_id: request.stream.clone(),
                        stream_version: row.version,
                        event_id: row.event_id,
                        schema_version: row.schema_version,
                        event: new.event.clone(),
                        metadata: new.metadata.clone(),
                        recorded_at_ms,
                    }));
                }
                let recorded = &events[start..];
                Ok(Appended {
                    first: recorded.first().map(|e| e.position).unwrap_or_default(),
                    last: recorded.last().map(|e| e.position).unwrap_or_default(),
                    stream_version,
                    duplicate: false,
                    first_event_id: recorded.first().map(|e| e.event_id),
                })
            }
        };
        outcomes.push(outcome);
    }
    let fold = match (fold, &mut *conn) {
        (Some(fold), WriterConnection::Sqlite(conn)) if !events.is_empty() => {
            fold.fold(conn, &events).await.map_err(Failed::Fold)?.then_some(fold)
        }
        _ => None,
    };
    let folded_at = std::time::Instant::now();
    let mut commit = std::pin::pin!(conn.commit((!rows.is_empty()).then_some(Position(head.0 + rows.len() as u64))));
    // The commit writes the WAL on SQLite's thread (on PostgreSQL it waits for the disk):
    // the frames are made meanwhile.
    let hand_out = match futures::poll!(commit.as_mut()) {
        Poll::Ready(committed) => {
            committed?;
            fold.map(|fold| fold.prepare(&events))
        }
        Poll::Pending => {
            let hand_out = fold.map(|fold| fold.prepare(&events));
            commit.await?;
            hand_out
        }
    };
    tracing::debug!(
        rows = rows.len(),
        before_insert_us = (inserting - begun).as_micros() as u64,
        insert_us = (inserted - inserting).as_micros() as u64,
        fold_us = (folded_at - inserted).as_micros() as u64,
        commit_us = folded_at.elapsed().as_micros() as u64,
        "batch written"
    );
    Ok(Written {
        outcomes,
        events,
        hand_out,
    })
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
struct Row<'a> {
    stream: &'a str,
    version: u64,
    event_id: EventId,
    event_type: &'static str,
    schema_version: u32,
    payload: &'a str,
    metadata: &'a str,
    client_message_id: Option<String>,
}

/// An event's payload and metadata columns.
struct Encoded {
    payload: String,
    metadata: String,
}

impl Encoded {
    fn of(new: &NewEvent) -> Result<Self, AppendError> {
        Ok(Self {
            payload: new.event.payload_text(),
            metadata: serde_json::to_string(&new.metadata).map_err(|e| AppendError::Database(e.to_string()))?,
        })
    }
}

/// Whose a stored client message id is: its stream and the actor who appended it.
struct IdOwner {
    stream: String,
    actor: String,
}

/// The client message ids `batch` carries (on its requests' first events).
fn client_message_ids(batch: &[AppendRequest]) -> Vec<String> {
    batch
        .iter()
        .filter_map(|r| r.events.first().and_then(|e| e.metadata.client_message_id))
        .map(|id| id.to_string())
        .collect()
}

/// `(client message id, position, stream version, stream, metadata)` of a stored append.
type StoredRow = (String, i64, i64, String, String);

/// A row of [`BEGIN_HEAD_AND_STORED`]: the head (no id, the position) or a [`StoredRow`].
type HeadOrStored = (Option<String>, Option<i64>, Option<i64>, Option<String>, Option<String>);

/// The appends already stored for a batch's client message ids, by id.
fn stored_appends(found: Vec<StoredRow>) -> HashMap<MessageId, (IdOwner, Appended)> {
    let mut stored = HashMap::with_capacity(found.len());
    for (id, position, version, stream, metadata) in found {
        let Ok(id) = id.parse::<MessageId>() else { continue };
        let position = Position(position as u64);
        let actor = serde_json::from_str::<serde_json::Value>(&metadata)
            .ok()
            .and_then(|m| m.get("actor").and_then(|a| a.as_str()).map(str::to_owned))
            .unwrap_or_default();
        stored.insert(
            id,
            (
                IdOwner { stream, actor },
                Appended {
                    first: position,
                    last: position,
                    stream_version: version as u64,
                    duplicate: true,
                    first_event_id: None,
                },
            ),
        );
    }
    stored
}

/// The advisory lock every PostgreSQL append holds until it commits. Positions are given
/// under it, one more than the head, so the log's positions follow commit order with no
/// gap: a tailer that has read up to N can never later meet a commit below N.
const LOG_LOCK: i64 = 0x7061_726c_6579_0001;

/// The log's last position (an index lookup at the primary key's end).
const HEAD: &str = "SELECT MAX(position) FROM events";

/// On SQLite the write lock, the head (the row without an id) and the appends already
/// stored among a batch's client message ids (`$1`, a JSON array), in one statement text.
const BEGIN_HEAD_AND_STORED: &str = "BEGIN IMMEDIATE;
     SELECT NULL, MAX(position), NULL, NULL, NULL FROM events
     UNION ALL
     SELECT client_message_id, position, stream_version, stream_id, metadata FROM events
     WHERE client_message_id IN (SELECT value FROM json_each($1))";

/// The channel on which PostgreSQL commits wake every node's tailer.
pub const EVENTS_CHANNEL: &str = "parley_events";

/// What the writer needs of its connection, on each backend.
impl WriterConnection {
    /// True when this writer is the only one (SQLite): stream versions may be kept in memory.
    fn sole_writer(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }

    /// Opens the batch's transaction and returns the head, from which the batch's positions
    /// are counted (on PostgreSQL after waiting for the log lock; on SQLite the transaction
    /// holds the file's one write lock), and the appends already stored among `ids` (the
    /// batch's client message ids), read under that lock.
    async fn begin(&mut self, ids: &[String]) -> Result<(Position, Vec<StoredRow>), sqlx::Error> {
        match self {
            Self::Sqlite(conn) => {
                // The lock, the head and the batch's ids already stored, in one trip to
                // SQLite's thread (a statement is one trip). The head's row is the one
                // without an id. (`fetch_one` would take the `BEGIN`'s result for the row.)
                let ids = serde_json::to_string(ids).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                let rows: Vec<HeadOrStored> = sqlx::query_as(BEGIN_HEAD_AND_STORED)
                    .bind(ids)
                    .fetch_all(&mut *conn)
                    .await?;
                let mut head = None;
                let mut found = Vec::with_capacity(rows.len().saturating_sub(1));
                for row in rows {
                    match row {
                        (None, position, ..) => head = Some(position.unwrap_or(0)),
                        (Some(id), Some(position), Some(version), Some(stream), Some(metadata)) => {
                            found.push((id, position, version, stream, metadata))
                        }
                        _ => {}
                    }
                }
                let head = head.ok_or(sqlx::Error::RowNotFound)?;
                Ok((Position(head as u64), found))
            }
            Self::Postgres(conn) => {
                conn.execute("BEGIN").await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(LOG_LOCK)
                    .execute(&mut *conn)
                    .await?;
                let head: Option<i64> = sqlx::query_scalar(HEAD).fetch_one(&mut *conn).await?;
                let found = if ids.is_empty() {
                    Vec::new()
                } else {
                    sqlx::query_as(
                        "SELECT client_message_id, position, stream_version, stream_id, metadata FROM events
                         WHERE client_message_id = ANY($1)",
                    )
                    .bind(ids)
                    .fetch_all(&mut *conn)
                    .await?
                };
                Ok((Position(head.unwrap_or(0) as u64), found))
            }
        }
    }

    /// Commits; on PostgreSQL the commit also wakes the tailers (a notification is sent
    /// only if the transaction commits).
    async fn commit(&mut self, last: Option<Position>) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(conn) => {
                conn.execute("COMMIT").await?;
            }
            Self::Postgres(conn) => {
                if let Some(last) = last {
                    sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(EVENTS_CHANNEL)
                        .bind(last.0.to_string())
                        .execute(&mut *conn)
                        .await?;
                }
                conn.execute("COMMIT").await?;
            }
        }
        Ok(())
    }

    async fn rollback(&mut self) {
        let rolled_back = match self {
            Self::Sqlite(conn) => conn.execute("ROLLBACK").await.map(|_| ()),
            Self::Postgres(conn) => conn.execute("ROLLBACK").await.map(|_| ()),
        };
        if let Err(e) = rolled_back {
            tracing::warn!(error = %e, "rollback failed");
        }
    }

    async fn stream_version(&mut self, stream: &str) -> Result<u64, sqlx::Error> {
        const SQL: &str = "SELECT MAX(stream_version) FROM events WHERE stream_id = $1";
        let version: Option<i64> = match self {
            Self::Sqlite(conn) => sqlx::query_scalar(SQL).bind(stream).fetch_one(&mut *conn).await?,
            Self::Postgres(conn) => sqlx::query_scalar(SQL).bind(stream).fetch_one(&mut *conn).await?,
        };
        Ok(version.unwrap_or(0) as u64)
    }

    /// The versions of `streams` that have events (PostgreSQL only: SQLite keeps them).
    async fn stream_versions(&mut self, streams: &[String]) -> Result<HashMap<String, u64>, sqlx::Error> {
        let Self::Postgres(conn) = self else {
            return Ok(HashMap::new());
        };
        // One index lookup per stream (a GROUP BY would read every event of each stream).
        let rows: Vec<(String, Option<i64>)> = sqlx::query_as(
            "SELECT s, (SELECT MAX(stream_version) FROM events WHERE stream_id = s) FROM UNNEST($1::text[]) AS s",
        )
        .bind(streams)
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows.into_iter().map(|(s, v)| (s, v.unwrap_or(0) as u64)).collect())
    }

    /// Inserts every row in one statement, the `i`-th at `head + 1 + i`: the writer holds
    /// the log's write lock, so the positions follow the head without a gap.
    async fn insert(&mut self, rows: &[Row<'_>], recorded_at_ms: i64, head: Position) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let inserted = match self {
            Self::Sqlite(conn) => insert_rows_sqlite(conn, rows, recorded_at_ms, head).await?,
            Self::Postgres(conn) => {
                let positions: Vec<i64> = (1..=rows.len()).map(|i| (head.0 + i as u64) as i64).collect();
                sqlx::query(
                    "INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version,
                                         payload, metadata, client_message_id, recorded_at_ms)
                     SELECT p, s, v, e, t, sv, pl, m, c, $10
                     FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                                 $6::bigint[], $7::text[], $8::text[], $9::text[])
                          AS r(p, s, v, e, t, sv, pl, m, c)",
                )
                .bind(&positions)
                .bind(rows.iter().map(|r| r.stream.to_owned()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.version as i64).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.event_id.to_string()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.event_type.to_owned()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| i64::from(r.schema_version)).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.payload.to_owned()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.metadata.to_owned()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.client_message_id.clone()).collect::<Vec<_>>())
                .bind(recorded_at_ms)
                .execute(&mut *conn)
                .await?
                .rows_affected()
            }
        };
        if inserted != rows.len() as u64 {
            return Err(sqlx::Error::RowNotFound);
        }
        Ok(())
    }
}

/// Inserts every row in one statement, at the positions after `head`: the rows travel as
/// one array in SQLite's binary JSON (`jsonb`), taken apart by `jsonb_each` (each element parsed once, not once per
/// column as `json_each` does), and nothing comes back (a `RETURNING` row per event took
/// a quarter of the statement's time). Returns how many rows went in.
async fn insert_rows_sqlite(
    conn: &mut AnyConnection,
    rows: &[Row<'_>],
    recorded_at_ms: i64,
    head: Position,
) -> Result<u64, sqlx::Error> {
    // Written straight into one array of SQLite's binary JSON: nothing escaped here (a
    // payload is JSON inside the row), nothing parsed and unescaped by SQLite.
    let mut array =
        crate::jsonb::Rows::with_capacity(rows.iter().map(|r| r.payload.len() + r.metadata.len() + 120).sum());
    for (i, row) in rows.iter().enumerate() {
        let event_id = row.event_id.to_string();
        array
            .int((head.0 + 1 + i as u64) as i64)
            .text(row.stream)
            .int(row.version as i64)
            .text(&event_id)
            .text(row.event_type)
            .int(i64::from(row.schema_version))
            .text(row.payload)
            .text(row.metadata)
            .opt_text(row.client_message_id.as_deref())
            .int(recorded_at_ms)
            .end_row();
    }
    let done = sqlx::query(
        "INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version,
                             payload, metadata, client_message_id, recorded_at_ms)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4,
                value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9
         FROM jsonb_each($1)",
    )
    .bind(array.take())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}
