//! What several nodes on one PostgreSQL share: a lease for the work done once per
//! cluster, and the tailer that announces every node's commits on this node's bus.

use crate::db::{Backend, Database};
use crate::store::{EVENTS_CHANNEL, EventStore};
use sqlx::postgres::PgListener;
use sqlx::{AnyConnection, Connection};
use std::time::Duration;

/// How often a node without a lease asks for it again, and a tailer reads the log
/// without having been woken (a notification can be lost with its connection).
pub const POLL: Duration = Duration::from_millis(500);

/// A cluster-wide lease: a PostgreSQL session advisory lock held on a connection of its
/// own. It ends when that connection does, so a node that dies hands its work over
/// within one [`POLL`]. On SQLite there is one node, and it always holds the lease.
pub struct Lease {
    db: Database,
    key: i64,
    conn: Option<AnyConnection>,
    held: bool,
}

impl Lease {
    pub fn new(db: &Database, key: i64) -> Self {
        Self {
            db: db.clone(),
            key,
            conn: None,
            held: false,
        }
    }

    /// Whether this node holds the lease now, taking it if it is free.
    pub async fn held(&mut self) -> bool {
        if self.db.backend == Backend::Sqlite {
            return true;
        }
        if self.conn.is_none() {
            match self.db.own_connection().await {
                Ok(conn) => self.conn = Some(conn),
                Err(e) => {
                    tracing::warn!(error = %e, "lease: no connection");
                    return false;
                }
            }
        }
        let Some(conn) = self.conn.as_mut() else {
            return false;
        };
        let result = if self.held {
            conn.ping().await.map(|()| true)
        } else {
            sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                .bind(self.key)
                .fetch_one(&mut *conn)
                .await
        };
        match result {
            Ok(held) => {
                if held && !self.held {
                    tracing::info!(key = self.key, "lease taken");
                }
                self.held = held;
            }
            Err(e) => {
                tracing::warn!(error = %e, key = self.key, "lease lost with its connection");
                self.conn = None;
                self.held = false;
            }
        }
        self.held
    }
}

/// The projector's lease: read models are written by one node at a time.
pub const PROJECTOR_LEASE: i64 = 0x7061_726c_6579_0002;
/// The webhook deliverer's lease: each delivery is attempted by one node.
pub const WEBHOOK_LEASE: i64 = 0x7061_726c_6579_0003;

/// Follows the global log on PostgreSQL: woken by each commit's notification, it reads
/// every event after the last it announced, in position order, and announces them on
/// this node's bus. Positions are given in commit order under the log lock, so reading
/// "after N" never skips a commit that lands late.
pub async fn tail(store: EventStore, db: Database) {
    loop {
        let mut listener = match PgListener::connect(db.url()).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "tailer: cannot listen; retrying");
                tokio::time::sleep(POLL).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(EVENTS_CHANNEL).await {
            tracing::warn!(error = %e, "tailer: cannot listen; retrying");
            tokio::time::sleep(POLL).await;
            continue;
        }
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
async fn announce_new(store: &EventStore) -> Result<(), crate::store::StoreReadError> {
    loop {
        let head = *store.bus().head().borrow();
        let events = store.read_all(head, 1_000).await?;
        if events.is_empty() {
            return Ok(());
        }
        store.bus().emit_committed(events);
    }
}
