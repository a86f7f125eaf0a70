//! What several nodes on one PostgreSQL share: a lease for the work done once per
//! cluster, and the tailer that announces every node's commits on this node's bus.

use crate::db::{Backend, Database};
use crate::presence::PresenceHub;
use crate::store::{EVENTS_CHANNEL, EventStore};
use sqlx::postgres::PgListener;
use sqlx::{AnyConnection, Connection};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
                Ok(event) => events.push(event),
                Err((position, _)) => {
                    store.bus().emit_committed(std::mem::take(&mut events));
                    store.bus().skip_unreadable(position);
                }
            }
        }
        store.bus().emit_committed(events);
    }
}

/// The channel on which nodes pass typing notes to each other.
const TYPING_CHANNEL: &str = "parley_typing";

/// A typing note between nodes; `node` tells a node its own notes apart.
#[derive(serde::Serialize, serde::Deserialize)]
struct TypingNote {
    node: String,
    channel: parley::ChannelId,
    user: String,
}

/// A listener on `channel`, once the database takes one (tried again every [`POLL`]).
async fn listen(db: &Database, channel: &str) -> PgListener {
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

/// Carries typing notes between the nodes of a cluster: this node's go out as
/// notifications, and the others' come in to this node's sockets. Best effort, like the
/// notes: one lost with a connection is not sent again.
pub fn relay_typing(hub: crate::dispatcher::Hub, db: Database) -> Vec<tokio::task::JoinHandle<()>> {
    let node = uuid::Uuid::new_v4().to_string();
    let (sender, mut outgoing) = tokio::sync::mpsc::channel::<(parley::ChannelId, String)>(256);
    hub.relay_typing(sender);
    let pool = db.pool.clone();
    let me = node.clone();
    let send = tokio::spawn(async move {
        while let Some((channel, user)) = outgoing.recv().await {
            let note = TypingNote {
                node: me.clone(),
                channel,
                user,
            };
            notify(&pool, TYPING_CHANNEL, &note).await;
        }
    });
    let receive = tokio::spawn(async move {
        loop {
            let mut listener = listen(&db, TYPING_CHANNEL).await;
            while let Ok(notification) = listener.recv().await {
                // Another node's note; a malformed one is dropped.
                if let Ok(note) = serde_json::from_str::<TypingNote>(notification.payload())
                    && note.node != node
                {
                    hub.typing_here(note.channel, &note.user);
                }
            }
        }
    });
    vec![send, receive]
}

const PRESENCE_CHANNEL: &str = "parley_presence";
/// How often a node says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// A node not heard from for this long is taken for gone: its users fade out (grace period).
const NODE_SILENCE: Duration = Duration::from_secs(4);

/// A presence note between nodes; `node` tells a node its own notes apart.
#[derive(serde::Serialize, serde::Deserialize)]
struct PresenceNote {
    node: String,
    #[serde(flatten)]
    what: PresenceWhat,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum PresenceWhat {
    /// How a user of the sending node's sockets stands there now.
    Status {
        user: String,
        status: parley::presence::Status,
    },
    /// Still here.
    Heartbeat,
    /// Just started listening (or listening again): everyone, say how your users stand.
    Hello,
    /// Stopping: my users are gone from here (without waiting for my silence to tell).
    Goodbye,
}

/// What a stopping node says to the others before it goes (see [`PresenceWhat::Goodbye`]).
pub struct Goodbye {
    pool: sqlx::AnyPool,
    node: String,
}

impl Goodbye {
    pub async fn say(&self) {
        let said = notify_presence(&self.pool, &self.node, PresenceWhat::Goodbye);
        let _ = tokio::time::timeout(Duration::from_secs(1), said).await;
    }
}

async fn notify_presence(pool: &sqlx::AnyPool, node: &str, what: PresenceWhat) {
    let note = PresenceNote {
        node: node.to_owned(),
        what,
    };
    notify(pool, PRESENCE_CHANNEL, &note).await;
}

/// Sends a note to the other nodes on `channel` (`NOTIFY`). Best effort: a note lost with a
/// connection is not sent again (the relays repair what matters on their own).
async fn notify(pool: &sqlx::AnyPool, channel: &str, note: &impl serde::Serialize) {
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

/// Carries presence between the nodes of a cluster: each node tells the others how its own
/// sockets' users stand, says it is alive every second, and merges what the others say
/// (see [`crate::presence::PresenceHub`]). A node silent for a few seconds is taken for
/// gone and its users go offline after the grace period, unless they came back elsewhere.
pub fn relay_presence(presence: Arc<PresenceHub>, db: Database) -> (Vec<tokio::task::JoinHandle<()>>, Goodbye) {
    let node = uuid::Uuid::new_v4().to_string();
    let goodbye = Goodbye {
        pool: db.pool.clone(),
        node: node.clone(),
    };
    let (sender, mut outgoing) = tokio::sync::mpsc::channel::<crate::presence::Change>(1024);
    presence.relay_to(sender);
    let pool = db.pool.clone();
    let me = node.clone();
    let hub = presence.clone();
    let send = tokio::spawn(async move {
        let mut beat = tokio::time::interval(HEARTBEAT);
        loop {
            tokio::select! {
                change = outgoing.recv() => {
                    let Some((user, status)) = change else { return };
                    notify_presence(&pool, &me, PresenceWhat::Status { user, status }).await;
                }
                _ = beat.tick() => {
                    notify_presence(&pool, &me, PresenceWhat::Heartbeat).await;
                    if let Some(limit) = Instant::now().checked_sub(NODE_SILENCE) {
                        hub.forget_nodes(Some(limit));
                    }
                }
            }
        }
    });
    let pool = db.pool.clone();
    let receive = tokio::spawn(async move {
        loop {
            let mut listener = listen(&db, PRESENCE_CHANNEL).await;
            // Notes may have been missed while not listening: start again from what the
            // others say now (within the grace period, so nobody flickers offline).
            presence.forget_nodes(None);
            notify_presence(&pool, &node, PresenceWhat::Hello).await;
            while let Ok(notification) = listener.recv().await {
                // Another node's note; a malformed one is dropped.
                let Ok(note) = serde_json::from_str::<PresenceNote>(notification.payload()) else {
                    continue;
                };
                if note.node == node {
                    continue;
                }
                match note.what {
                    PresenceWhat::Status { user, status } => {
                        if presence.remote(&note.node, &user, status) {
                            // Back after being taken for gone: ask for the rest again.
                            notify_presence(&pool, &node, PresenceWhat::Hello).await;
                        }
                    }
                    PresenceWhat::Heartbeat => {
                        if presence.heard_from(&note.node) {
                            notify_presence(&pool, &node, PresenceWhat::Hello).await;
                        }
                    }
                    PresenceWhat::Goodbye => presence.forget_node(&note.node),
                    PresenceWhat::Hello => {
                        presence.heard_from(&note.node);
                        for (user, status) in presence.local_snapshot() {
                            notify_presence(&pool, &node, PresenceWhat::Status { user, status }).await;
                        }
                    }
                }
            }
        }
    });
    (vec![send, receive], goodbye)
}
