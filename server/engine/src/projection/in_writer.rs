//! The projection's fold as the event store's writer runs it, in its own transaction (SQLite): a batch's read-model rows and checkpoint commit with its events, and go out from there.

use super::NAME;
use crate::db::Backend;
use crate::live::hub::Hub;
use crate::log::store::{HandOut, WriterFold};
use futures::future::BoxFuture;
use parley::{Position, RecordedEvent};
use sqlx::AnyConnection;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The last position the writer folded and handed out itself. Everything up to it is in
/// the read models (a rebuild sets it back to zero), so the projector steps over those
/// events when the bus brings them.
#[derive(Clone, Default)]
pub(super) struct FoldedByWriter(Arc<AtomicU64>);

impl FoldedByWriter {
    pub(super) fn get(&self) -> Position {
        Position(self.0.load(Ordering::Acquire))
    }

    fn set(&self, position: Position) {
        self.0.fetch_max(position.0, Ordering::AcqRel);
    }

    pub(super) fn reset(&self) {
        self.0.store(0, Ordering::Release);
    }
}

/// What the projection gives the store's writer (see [`WriterFold`]).
pub(super) struct FoldInWriter {
    pub(super) hub: Hub,
    pub(super) backend: Backend,
    pub(super) folded: FoldedByWriter,
}

impl WriterFold for FoldInWriter {
    fn fold<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        events: &'a [Arc<RecordedEvent>],
    ) -> BoxFuture<'a, Result<bool, sqlx::Error>> {
        Box::pin(fold_in_writer(conn, self.backend, events))
    }

    fn prepare(&self, events: &[Arc<RecordedEvent>]) -> HandOut {
        let prepared = self.hub.prepare(events);
        let last = events.last().map(|e| e.position);
        let count = events.len() as u64;
        let (hub, folded) = (self.hub.clone(), self.folded.clone());
        Box::new(move || {
            if let Some(last) = last {
                folded.set(last);
            }
            metrics::counter!(crate::metrics::PROJECTED).increment(count);
            hub.publish_prepared(prepared);
        })
    }
}

/// Folds `events` if the read models hold every event before them and none of them (else
/// the projector is behind, and folds them in turn). A fold that fails is an error: the
/// writer rolls the batch back and writes it without the fold, for the projector, which
/// parks the event at fault if it keeps failing. (No savepoint: two trips to SQLite's
/// thread fewer for every batch, for a failure that should never happen.)
async fn fold_in_writer(
    conn: &mut AnyConnection,
    backend: Backend,
    events: &[Arc<RecordedEvent>],
) -> Result<bool, sqlx::Error> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Ok(false);
    };
    // The check and the checkpoint's move in one statement (a statement is a trip to
    // SQLite's thread): the checkpoint moves to the batch's last event only if it stood
    // at the event before the batch. The batch's transaction holds both with the rows.
    let claimed = sqlx::query(CLAIM_BATCH)
        .bind(NAME)
        .bind(first.position.0 as i64)
        .bind(last.position.0 as i64)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if claimed == 0 {
        return Ok(false);
    }
    crate::read_model::fold(conn, backend, events).await?;
    Ok(true)
}

/// Moves the checkpoint `$1` to `$3` if it is at the last event before `$2` (0 for none,
/// as for a checkpoint never saved): one row changed if it did, none if not.
const CLAIM_BATCH: &str = "INSERT INTO projection_checkpoints (name, position)
     SELECT $1, $3
     WHERE COALESCE((SELECT position FROM projection_checkpoints WHERE name = $1), 0)
         = COALESCE((SELECT MAX(position) FROM events WHERE position < $2), 0)
     ON CONFLICT (name) DO UPDATE SET position = excluded.position";
