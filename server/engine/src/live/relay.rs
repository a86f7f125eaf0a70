//! Relays between the nodes of a cluster for what is never stored: typing notes and presence (LISTEN/NOTIFY on PostgreSQL).

use crate::cluster::{listen, notify};
use crate::db::Database;
use crate::live::presence::PresenceHub;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The channel on which nodes pass typing notes to each other.
const TYPING_CHANNEL: &str = "parley_typing";

/// A typing note between nodes; `node` tells a node its own notes apart.
#[derive(serde::Serialize, serde::Deserialize)]
struct TypingNote {
    node: String,
    channel: parley::ChannelId,
    user: String,
}

/// Carries typing notes between the nodes of a cluster: this node's go out as
/// notifications, and the others' come in to this node's sockets. Best effort, like the
/// notes: one lost with a connection is not sent again.
pub fn relay_typing(hub: crate::live::hub::Hub, db: Database) -> Vec<tokio::task::JoinHandle<()>> {
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
/// How long a node's notes are dropped after its goodbye (its id is new at every start).
const GONE_FOR: Duration = Duration::from_secs(60);

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

/// Carries presence between the nodes of a cluster: each node tells the others how its own
/// sockets' users stand, says it is alive every second, and merges what the others say
/// (see [`crate::live::presence::PresenceHub`]). A node silent for a few seconds is taken for
/// gone and its users go offline after the grace period, unless they came back elsewhere.
pub fn relay_presence(presence: Arc<PresenceHub>, db: Database) -> (Vec<tokio::task::JoinHandle<()>>, Goodbye) {
    let node = uuid::Uuid::new_v4().to_string();
    let goodbye = Goodbye {
        pool: db.pool.clone(),
        node: node.clone(),
    };
    let (sender, mut outgoing) = tokio::sync::mpsc::channel::<crate::live::presence::Change>(1024);
    presence.relay_to(sender);
    // Another node said hello: tell it how this node's users stand. The send task answers,
    // in line with the changes: a list taken elsewhere could reach the others after a newer
    // change and undo it there for good. Hellos that come together get one answer.
    let asked = Arc::new(tokio::sync::Notify::new());
    let pool = db.pool.clone();
    let me = node.clone();
    let hub = presence.clone();
    let ask = asked.clone();
    let send = tokio::spawn(async move {
        let mut beat = tokio::time::interval(HEARTBEAT);
        // The answer still to send, a user at a time between the changes (which keep coming
        // and are never held up behind a long list). A change sent takes its user off it.
        let mut answer: HashMap<String, parley::presence::Status> = HashMap::new();
        loop {
            tokio::select! {
                biased;
                _ = beat.tick() => {
                    notify_presence(&pool, &me, PresenceWhat::Heartbeat).await;
                    if let Some(limit) = Instant::now().checked_sub(NODE_SILENCE) {
                        hub.forget_nodes(Some(limit));
                    }
                }
                change = outgoing.recv() => {
                    let Some((user, status)) = change else { return };
                    answer.remove(&user);
                    notify_presence(&pool, &me, PresenceWhat::Status { user, status }).await;
                }
                _ = ask.notified() => answer.extend(hub.local_snapshot()),
                _ = std::future::ready(()), if !answer.is_empty() => {
                    let Some(user) = answer.keys().next().cloned() else { continue };
                    let Some(status) = answer.remove(&user) else { continue };
                    notify_presence(&pool, &me, PresenceWhat::Status { user, status }).await;
                }
            }
        }
    });
    let pool = db.pool.clone();
    let receive = tokio::spawn(async move {
        // Nodes that said goodbye, and when: a note of theirs sent after it (a heartbeat on
        // its way out) would bring their users back until the node's silence is noticed.
        let mut gone: HashMap<String, Instant> = HashMap::new();
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
                if note.node == node || gone.contains_key(&note.node) {
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
                    PresenceWhat::Goodbye => {
                        presence.forget_node(&note.node);
                        gone.retain(|_, at| at.elapsed() < GONE_FOR);
                        gone.insert(note.node, Instant::now());
                    }
                    PresenceWhat::Hello => {
                        presence.heard_from(&note.node);
                        asked.notify_one();
                    }
                }
            }
        }
    });
    (vec![send, receive], goodbye)
}
