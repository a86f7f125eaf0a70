//! The tailer: on PostgreSQL, follows the global log and announces every node's commits, in position order, on this node's bus.

use crate::cluster::{POLL, listen};
use crate::db::Database;
use crate::log::store::{EVENTS_CHANNEL, EventStore};

/// Follows the global log on PostgreSQL: woken by each commit's notification, it reads
/// every event after the last it announced, in position order, and announces them on
/// this node's bus. Positions are given in commit order under the log lock, so reading
/// "after N" never skips a commit that lands late.
pub async fn tail(store: EventStore, db: Database) {
    loop {
        let mut listener = listen(&db, EVENTS_CHANNEL).await;
        // Listening first, then reading: nothing committed in between is missed.
        loop {
            if let Err(e) = announce_new(&store).await {
                tracing::warn!(error = %e, "tailer: cannot read the log");
            }
            tokio::select! {
                woken = listener.recv() => {
                    if let Err(e) = woken {
                        tracing::warn!(error = %e, "tailer: listener lost; reconnecting");
                        break;
                    }
                }
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

/// Announces every event after the bus's head, page by page.
/// A row nobody can read is stepped over (the projector parks it).
async fn announce_new(store: &EventStore) -> Result<(), sqlx::Error> {
    loop {
        let head = *store.bus().head().borrow();
        let page = store.read_all_lenient(head, 1_000).await?;
        if page.is_empty() {
            return Ok(());
        }
        let mut events = Vec::with_capacity(page.len());
        for item in page {
            match item {
                Ok(event) => events.push(std::sync::Arc::new(event)),
                Err((position, _)) => {
                    store.bus().emit_committed(std::mem::take(&mut events));
                    store.bus().skip_unreadable(position);
                }
            }
        }
        store.bus().emit_committed(events);
    }
}
