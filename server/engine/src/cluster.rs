//! What several nodes on one PostgreSQL share below the event's path: a lease for the work done once per cluster, and notes passed with LISTEN/NOTIFY.

use crate::db::{Backend, Database};
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

/// A listener on `channel`, once the database takes one (tried again every [`POLL`]).
pub async fn listen(db: &Database, channel: &str) -> PgListener {
    loop {
        match PgListener::connect(db.url()).await {
            Ok(mut listener) => match listener.listen(channel).await {
                Ok(()) => return listener,
                Err(e) => tracing::warn!(error = %e, channel, "cannot listen; retrying"),
            },
            Err(e) => tracing::warn!(error = %e, channel, "cannot listen; retrying"),
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Sends a note to the other nodes on `channel` (`NOTIFY`). Best effort: a note lost with a
/// connection is not sent again (the relays repair what matters on their own).
pub async fn notify(pool: &sqlx::AnyPool, channel: &str, note: &impl serde::Serialize) {
    let Ok(payload) = serde_json::to_string(note) else {
        return;
    };
    if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(pool)
        .await
    {
        tracing::debug!(error = %e, channel, "note not relayed");
    }
}
