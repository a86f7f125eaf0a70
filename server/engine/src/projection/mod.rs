//! The projection: folds committed events into the read models (messages, channels, spaces and members, accounts, reactions, edits, read markers, search, webhooks),
//! saving its checkpoint in the same transaction, then hands each batch to the hub.
//! It takes committed events from the bus's guaranteed notices as they come, and reads
//! the log itself whenever it cannot trust that feed (at start, after lagging, on a gap),
//! so it never misses an event; it resumes from its checkpoint after a restart.
//! Applying an event twice changes nothing.
//!
//! On SQLite the store's writer folds each batch itself, in its own transaction
//! ([`Projector::writer_fold`], `in_writer.rs`), once the read models have caught up with
//! the log; the projector then steps over what it folded, and folds only what it did not
//! (at start, after a failed fold, in a rebuild).
//!
//! With several nodes on one PostgreSQL, one node holds the projector's lease and writes
//! the read models; the others follow its checkpoint and hand the events it has folded to
//! their own dispatchers. A node that dies hands the lease over.

mod in_writer;

use crate::cluster::{Lease, POLL, PROJECTOR_LEASE};
use crate::db::{Backend, Database};
use crate::live::hub::Hub;
use crate::log::store::now_ms;
use crate::log::store::{EventStore, StoreReadError};
use in_writer::{FoldInWriter, FoldedByWriter};
use parley::{Position, RecordedEvent};
use sqlx::postgres::PgListener;
use sqlx::{AnyConnection, AnyPool, Executor};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

const NAME: &str = "read_models";
/// Failures folding at one checkpoint before the event at fault is parked (dead letter).
const PARK_AFTER: u32 = 3;
const BATCH: usize = 1_000;

/// Held by each PostgreSQL transaction that writes the read models: with the checkpoint
/// check under it, a node that still believes it holds the lease cannot fold a batch twice.
const FOLD_LOCK: i64 = 0x7061_726c_6579_0004;

/// The channel on which a folded batch wakes the nodes that follow the checkpoint.
const PROJECTED_CHANNEL: &str = "parley_projected";

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Read(#[from] StoreReadError),
    #[error("failed to write the read model: {0}")]
    Write(#[from] sqlx::Error),
    #[error("another node folded past {0}: reading the checkpoint again")]
    Moved(Position),
    #[error("no event is parked at {0}")]
    NotParked(Position),
}

#[derive(Clone)]
pub struct Projector {
    store: EventStore,
    hub: Hub,
    db: Database,
    conn: Arc<Mutex<AnyConnection>>,
    lease: Arc<Mutex<Lease>>,
    folded_by_writer: FoldedByWriter,
    /// The checkpoint of each of this connection's own commits (see [`Self::folds`]).
    folds: Arc<tokio::sync::watch::Sender<Position>>,
}

impl Projector {
    pub fn new(store: EventStore, hub: Hub, db: &Database, conn: AnyConnection) -> Self {
        Self {
            store,
            hub,
            db: db.clone(),
            conn: Arc::new(Mutex::new(conn)),
            lease: Arc::new(Mutex::new(Lease::new(db, PROJECTOR_LEASE))),
            folded_by_writer: FoldedByWriter::default(),
            folds: Arc::new(tokio::sync::watch::Sender::new(Position::ZERO)),
        }
    }

    /// Changes after each commit of the projector's own connection (at start, after a
    /// failed fold, in a rebuild; not the folds the store's writer makes): the SQLite WAL's
    /// checkpointer follows it, since that connection's commits copy nothing themselves
    /// (see [`Database::projector_connection`]).
    pub fn folds(&self) -> tokio::sync::watch::Receiver<Position> {
        self.folds.subscribe()
    }

    /// Marks a commit of the projector's connection, up to `checkpoint` if it moved it.
    fn committed(&self, checkpoint: Option<Position>) {
        self.folds.send_modify(|folded| *folded = checkpoint.unwrap_or(*folded));
    }

    /// The fold the store's writer runs in its own transaction (see [`EventStore::fold_in_writer`]).
    pub fn writer_fold(&self) -> Arc<dyn crate::log::store::WriterFold> {
        Arc::new(FoldInWriter {
            hub: self.hub.clone(),
            backend: self.db.backend,
            folded: self.folded_by_writer.clone(),
        })
    }

    /// Whether this node writes the read models (always, on SQLite).
    pub async fn leads(&self) -> bool {
        self.lease.lock().await.held().await
    }

    /// Applies every event after the checkpoint, up to the head of the log. The next page
    /// is read (and its events decoded) on another task while this one is folded, so
    /// reading and folding overlap (a rebuild is as fast as the slower of the two). It ends
    /// when a read started after the last fold finds nothing more.
    pub async fn catch_up(&self) -> Result<Position, ProjectionError> {
        let mut checkpoint = checkpoint(self.store.pool()).await?;
        loop {
            let started_at = checkpoint;
            let mut pages = read_ahead(self.store.clone(), checkpoint);
            while let Some(page) = pages.recv().await {
                let batch: Vec<Arc<RecordedEvent>> = page?.into_iter().map(Arc::new).collect();
                let Some(last) = batch.last().map(|e| e.position) else {
                    break;
                };
                match self.apply(checkpoint, &batch).await {
                    Ok(()) => checkpoint = last,
                    // Another node folded these (a rebuild, or a lease changing hands): go on
                    // from where it got to, handing out what it folded.
                    Err(ProjectionError::Moved(folded)) => {
                        self.publish_folded(folded).await?;
                        checkpoint = folded;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            // The reader's last look may predate the last fold: look again from there.
            if checkpoint == started_at {
                return Ok(checkpoint);
            }
        }
    }

    /// Hands this node's dispatcher, in log order, the events up to `folded` that are in
    /// the read models but that it has not had yet (they were folded by another node).
    /// A row nobody can read (parked) is stepped over.
    async fn publish_folded(&self, folded: Position) -> Result<(), ProjectionError> {
        let mut published = self.hub.projected();
        while published < folded {
            let page = self.store.read_all_lenient(published, BATCH as u32).await?;
            if page.is_empty() {
                break;
            }
            let mut batch = Vec::new();
            for item in page {
                let position = match &item {
                    Ok(event) => event.position,
                    Err((position, _)) => *position,
                };
                if position > folded {
                    break;
                }
                match item {
                    Ok(event) => batch.push(Arc::new(event)),
                    Err(_) => {
                        self.hub.publish(&std::mem::take(&mut batch));
                        self.hub.advance(position);
                    }
                }
                published = position;
            }
            self.hub.publish(&batch);
        }
        Ok(())
    }

    /// Called after a fold keeps failing at the checkpoint `after`: folds the events after
    /// it one at a time, and parks the first that fails (dead letter), so the rest go on.
    /// Only a failure of the event itself parks it: if the database is not answering, the
    /// error is returned and nothing is parked.
    async fn park_next(&self, mut after: Position) -> Result<(), ProjectionError> {
        for _ in 0..BATCH {
            let Some(item) = self.store.read_all_lenient(after, 1).await?.into_iter().next() else {
                return Ok(());
            };
            let (position, reason, event) = match item {
                Err((position, reason)) => (position, reason, None),
                Ok(event) => {
                    let event = Arc::new(event);
                    match self.apply(after, std::slice::from_ref(&event)).await {
                        Ok(()) => {
                            after = event.position;
                            continue;
                        }
                        Err(ProjectionError::Moved(_)) => return Ok(()),
                        Err(e) => (event.position, e.to_string(), Some(event)),
                    }
                }
            };
            sqlx::query("SELECT 1").execute(self.store.pool()).await?;
            return self.park(after, position, &reason, event).await;
        }
        Ok(())
    }

    /// Records `position` as parked with its reason and moves the checkpoint past it.
    async fn park(
        &self,
        after: Position,
        position: Position,
        reason: &str,
        event: Option<Arc<RecordedEvent>>,
    ) -> Result<(), ProjectionError> {
        // In the write turn until it is handed out, like a fold (see `apply`).
        let mut conn = self.conn.lock().await;
        let _turn = self.store.write_turn().lock().await;
        transact(&mut conn, self.db.backend, async |conn| {
            self.fence(conn, after).await?;
            sqlx::query(
                "INSERT INTO parked_events (position, reason, parked_at_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (position) DO UPDATE SET reason = excluded.reason",
            )
            .bind(position.0 as i64)
            .bind(reason)
            .bind(now_ms())
            .execute(&mut *conn)
            .await?;
            save_checkpoint(conn, position).await?;
            self.notify_folded(conn, position).await
        })
        .await?;
        self.committed(Some(position));
        tracing::error!(%position, %reason, "event parked: the read models go on without it until it is retried");
        metrics::counter!(crate::metrics::PARKED).increment(1);
        self.publish_folded(after).await?;
        // Sockets still get a parked event that can be read: it is committed, only its fold failed.
        match event {
            Some(event) => self.hub.publish(&[event]),
            None => self.hub.advance(position),
        }
        Ok(())
    }

    /// Folds a parked event again (after a fix), on its own, and takes it out of the dead
    /// letter if it folds. The checkpoint does not move: it is past the event already.
    pub async fn retry_parked(&self, position: Position) -> Result<(), ProjectionError> {
        let item = self
            .store
            .read_all_lenient(Position(position.0.saturating_sub(1)), 1)
            .await?
            .into_iter()
            .next();
        let event = match item {
            Some(Ok(event)) if event.position == position => Arc::new(event),
            Some(Err((at, reason))) if at == position => {
                return Err(ProjectionError::Read(StoreReadError::Corrupt {
                    position: position.0 as i64,
                    reason,
                }));
            }
            _ => return Err(ProjectionError::NotParked(position)),
        };
        self.in_transaction(async |conn| {
            self.lock_folds(conn).await?;
            let removed = sqlx::query("DELETE FROM parked_events WHERE position = $1")
                .bind(position.0 as i64)
                .execute(&mut *conn)
                .await?;
            if removed.rows_affected() == 0 {
                return Err(ProjectionError::NotParked(position));
            }
            Ok(crate::read_model::fold(conn, self.db.backend, std::slice::from_ref(&event)).await?)
        })
        .await?;
        tracing::info!(%position, "parked event folded on retry");
        Ok(())
    }

    /// The stored checkpoint must still be `after` (on PostgreSQL, under the fold lock).
    async fn fence(&self, conn: &mut AnyConnection, after: Position) -> Result<(), ProjectionError> {
        // On SQLite the transaction itself holds the write lock (BEGIN IMMEDIATE).
        if self.db.backend == Backend::Postgres {
            self.lock_folds(conn).await?;
        }
        let stored: Option<i64> = sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = $1")
            .bind(NAME)
            .fetch_optional(&mut *conn)
            .await?;
        let stored = Position(stored.unwrap_or(0) as u64);
        if stored != after {
            return Err(ProjectionError::Moved(stored));
        }
        Ok(())
    }

    /// On PostgreSQL: wakes the nodes that follow the checkpoint, on commit.
    async fn notify_folded(&self, conn: &mut AnyConnection, position: Position) -> Result<(), ProjectionError> {
        if self.db.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(PROJECTED_CHANNEL)
                .bind(position.0.to_string())
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Brings the read models up to the head of the log before this node serves: folds
    /// the log itself if it leads; otherwise waits (up to 10 s) until the leader has
    /// folded that far, or until the lease comes free. After a crash the dead node's
    /// session can hold the lease for a moment; a node must not answer from stale read
    /// models meanwhile.
    pub async fn start(&self) -> Result<(), ProjectionError> {
        let head = self.store.head().await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.leads().await {
                // A rebuild cut short set the search index aside: it is filled again first.
                let backend = self.db.backend;
                self.in_transaction(async |conn| {
                    if crate::read_model::messages::restore_indexes(conn, backend).await? {
                        tracing::warn!("a rebuild of the read models was cut short: its search index is filled again");
                    }
                    Ok(())
                })
                .await?;
                self.catch_up().await?;
                return Ok(());
            }
            if checkpoint(self.store.pool()).await? >= head || Instant::now() > deadline {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Follows the log until the task is dropped. Errors are logged and retried.
    pub async fn run(self) {
        let mut failing = (Position::ZERO, 0);
        loop {
            if !self.leads().await {
                if let Err(e) = self.follow_leader().await {
                    tracing::warn!(error = %e, "following the projection failed; retrying");
                    tokio::time::sleep(POLL).await;
                }
                continue;
            }
            // Listen first, then catch up: nothing committed in between is missed.
            let mut committed = self.store.bus().subscribe_committed();
            let failed = match self.catch_up().await {
                Ok(checkpoint) => match self.follow(&mut committed, checkpoint).await {
                    Ok(Follow::Closed) => return,
                    Ok(Follow::Resync) => None,
                    Err(e) => Some(e),
                },
                Err(e) => Some(e),
            };
            if let Some(e) = failed {
                tracing::error!(error = %e, "projection failed; retrying");
                self.count_failure(&mut failing).await;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }

    /// Counts failures at one checkpoint; the [`PARK_AFTER`]th parks the event at fault.
    async fn count_failure(&self, failing: &mut (Position, u32)) {
        let Ok(at) = checkpoint(self.store.pool()).await else {
            return;
        };
        *failing = if failing.0 == at { (at, failing.1 + 1) } else { (at, 1) };
        if failing.1 >= PARK_AFTER {
            *failing = (at, 0);
            if let Err(e) = self.park_next(at).await {
                tracing::error!(error = %e, "could not park the failing event");
            }
        }
    }

    /// On a node without the lease: hands out each batch the leader has folded, in log
    /// order, woken by the leader's notification, until this node takes the lease.
    async fn follow_leader(&self) -> Result<(), ProjectionError> {
        let mut listener = PgListener::connect(self.db.url()).await?;
        listener.listen(PROJECTED_CHANNEL).await?;
        // This node's tailer has usually read the leader's events before they are folded:
        // they wait here, so handing them out costs no read of the log.
        let mut committed = self.store.bus().subscribe_committed();
        let mut pending: VecDeque<Arc<RecordedEvent>> = VecDeque::new();
        let mut folded = checkpoint(self.store.pool()).await?;
        let mut lease_checked = Instant::now();
        loop {
            loop {
                match committed.try_recv() {
                    Ok(event) => pending.push_back(event),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Lagged(_)) => pending.clear(),
                    Err(TryRecvError::Closed) => return Ok(()),
                }
            }
            self.publish_pending(&mut pending, folded).await?;
            if lease_checked.elapsed() >= POLL {
                if self.leads().await {
                    return Ok(());
                }
                lease_checked = Instant::now();
            }
            tokio::select! {
                woken = listener.recv() => {
                    // The leader's notification carries its new checkpoint.
                    if let Ok(position) = woken?.payload().parse::<u64>() {
                        folded = folded.max(Position(position));
                    }
                }
                event = committed.recv() => match event {
                    Ok(event) => pending.push_back(event),
                    Err(RecvError::Lagged(_)) => pending.clear(),
                    Err(RecvError::Closed) => return Ok(()),
                },
                () = tokio::time::sleep(POLL) => {
                    folded = folded.max(checkpoint(self.store.pool()).await?);
                }
            }
        }
    }

    /// Hands out the events up to `folded`: from `pending` while they follow on one by one
    /// from what was handed out, and from the log for any it lacks.
    async fn publish_pending(
        &self,
        pending: &mut VecDeque<Arc<RecordedEvent>>,
        folded: Position,
    ) -> Result<(), ProjectionError> {
        let mut published = self.hub.projected();
        while pending.front().is_some_and(|e| e.position <= published) {
            pending.pop_front();
        }
        let mut batch = Vec::new();
        while let Some(event) = pending.pop_front_if(|e| e.position <= folded && e.position == published.next()) {
            published = event.position;
            batch.push(event);
        }
        self.hub.publish(&batch);
        if published < folded {
            self.publish_folded(folded).await?;
        }
        Ok(())
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
            // What the store's writer folded (and handed out) itself is done.
            checkpoint = checkpoint.max(self.folded_by_writer.get());
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
            match self.apply(checkpoint, &batch).await {
                Ok(()) => checkpoint = expected,
                Err(ProjectionError::Moved(_)) => return Ok(Follow::Resync),
                Err(e) => return Err(e),
            }
        }
    }

    /// Empties the read models and folds the whole log into them again.
    pub async fn rebuild(&self) -> Result<Position, ProjectionError> {
        let backend = self.db.backend;
        self.in_transaction(async |conn| {
            self.lock_folds(conn).await?;
            // The read models are emptied: nothing in them was folded by the writer now.
            self.folded_by_writer.reset();
            crate::read_model::messages::suspend_indexes(conn, backend).await?;
            for table in [
                "messages",
                "message_edits",
                "reactions",
                "channels",
                "accounts",
                "spaces",
                "space_members",
                "invites",
                "direct_members",
                "channel_members",
                "read_markers",
                "saved_items",
                "thread_follows",
                "attachments",
                "webhooks",
                "parked_events",
                "projection_checkpoints",
            ] {
                conn.execute(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                    .await?;
            }
            Ok(())
        })
        .await?;
        let position = self.catch_up().await?;
        self.in_transaction(async |conn| {
            crate::read_model::messages::restore_indexes(conn, backend).await?;
            Ok(())
        })
        .await?;
        Ok(position)
    }

    /// Folds a batch that follows `after` into the read models with its checkpoint, then
    /// hands it to the dispatcher, all in the write turn: the store's writer folds and hands
    /// out in its turn too, so the dispatcher gets every event once, in log order. Those the
    /// writer folded are stepped over.
    async fn apply(&self, after: Position, batch: &[Arc<RecordedEvent>]) -> Result<(), ProjectionError> {
        let started = std::time::Instant::now();
        let mut conn = self.conn.lock().await;
        let _turn = self.store.write_turn().lock().await;
        let by_writer = self.folded_by_writer.get();
        let done = batch.partition_point(|e| e.position <= by_writer);
        let (after, batch) = match done {
            0 => (after, batch),
            _ => (by_writer, &batch[done..]),
        };
        if batch.is_empty() {
            return Ok(());
        }
        transact(&mut conn, self.db.backend, async |conn| {
            self.fold(conn, after, batch).await
        })
        .await?;
        self.committed(batch.last().map(|e| e.position));
        tracing::debug!(
            events = batch.len(),
            us = started.elapsed().as_micros() as u64,
            "projected"
        );
        metrics::counter!(crate::metrics::PROJECTED).increment(batch.len() as u64);
        for event in batch {
            tracing::debug!(
                position = %event.position,
                event_type = event.event.event_type(),
                correlation_id = %event.metadata.correlation_id,
                "folded"
            );
        }
        self.publish_folded(after).await?;
        // A rebuild folds events the dispatcher has had already: they are not sent again.
        let projected = self.hub.projected();
        let fresh = batch.iter().position(|e| e.position > projected).unwrap_or(batch.len());
        self.hub.publish(&batch[fresh..]);
        Ok(())
    }

    /// The body of [`Self::apply`]'s transaction. It first checks (on PostgreSQL under a
    /// lock) that the checkpoint is still `after`, so no batch is folded twice (a fold that
    /// counts, such as an invite's uses, would count twice), and on PostgreSQL wakes the
    /// following nodes on commit.
    async fn fold(
        &self,
        conn: &mut AnyConnection,
        after: Position,
        batch: &[Arc<RecordedEvent>],
    ) -> Result<(), ProjectionError> {
        self.fence(conn, after).await?;
        crate::read_model::fold(conn, self.db.backend, batch).await?;
        if let Some(last) = batch.last() {
            save_checkpoint(conn, last.position).await?;
            self.notify_folded(conn, last.position).await?;
        }
        Ok(())
    }

    /// Runs `work` in one write transaction of the projector's connection, in the store's
    /// write turn (SQLite has one writer at a time): committed if it succeeds, rolled back if
    /// not.
    async fn in_transaction<T>(
        &self,
        work: impl AsyncFnOnce(&mut AnyConnection) -> Result<T, ProjectionError>,
    ) -> Result<T, ProjectionError> {
        let mut conn = self.conn.lock().await;
        let _turn = self.store.write_turn().lock().await;
        let done = transact(&mut conn, self.db.backend, work).await?;
        self.committed(None);
        Ok(done)
    }

    /// On PostgreSQL: takes the fold lock for this transaction, so no other node folds meanwhile.
    async fn lock_folds(&self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        if self.db.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(FOLD_LOCK)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

/// Runs `work` in one write transaction of `conn`: committed if it succeeds, rolled back if not.
async fn transact<T>(
    conn: &mut AnyConnection,
    backend: Backend,
    work: impl AsyncFnOnce(&mut AnyConnection) -> Result<T, ProjectionError>,
) -> Result<T, ProjectionError> {
    conn.execute(backend.begin_write()).await?;
    match work(conn).await {
        Ok(done) => {
            conn.execute("COMMIT").await?;
            Ok(done)
        }
        Err(e) => {
            let _ = conn.execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// Reads the log's pages after `after` on a task of its own, one page ahead of the folding
/// (the channel holds one more): each page, then an empty one at the head (or an error), then
/// nothing. Dropping the receiver stops it.
fn read_ahead(
    store: EventStore,
    mut after: Position,
) -> tokio::sync::mpsc::Receiver<Result<Vec<RecordedEvent>, StoreReadError>> {
    let (pages, receiver) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        loop {
            let page = store.read_all(after, BATCH as u32).await;
            let next = page.as_ref().ok().and_then(|p| p.last().map(|e| e.position));
            if pages.send(page).await.is_err() {
                return;
            }
            match next {
                Some(last) => after = last,
                None => return,
            }
        }
    });
    receiver
}

enum Follow {
    Closed,
    Resync,
}

/// The position of the last event folded into the read models.
pub async fn checkpoint(pool: &AnyPool) -> Result<Position, sqlx::Error> {
    let position: Option<i64> = sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = $1")
        .bind(NAME)
        .fetch_optional(pool)
        .await?;
    Ok(Position(position.unwrap_or(0) as u64))
}

/// Saves the position of the last event in the read models, in their transaction.
async fn save_checkpoint(conn: &mut AnyConnection, position: Position) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projection_checkpoints (name, position) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET position = excluded.position",
    )
    .bind(NAME)
    .bind(position.0 as i64)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
