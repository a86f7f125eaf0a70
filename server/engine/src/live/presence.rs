//! Presence across the sockets of this server and, with several nodes, of the cluster: who
//! is online, away or offline. The rules are the core's `PresenceBook`; this adds the clock
//! (the grace period), the broadcast, and the merge with what the other nodes say.
//!
//! Two books: `local` holds this node's sockets; what it announces is what this node tells
//! the others (see `cluster::relay_presence`). `merged` holds the same sockets plus one
//! stand-in connection per other node and user, set from their notes; what it announces
//! goes to this node's sockets. A node that stops sending heartbeats has its stand-ins
//! dropped, with the same grace period as a closed socket.

use parley::presence::{GRACE_MS, PresenceBook, Status};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};

/// A user's presence as it changed (or as it is, in a snapshot).
pub type Change = (String, Status);

pub struct PresenceHub {
    books: Mutex<Books>,
    changes: broadcast::Sender<Change>,
    /// What was last told of each user to this node's sockets, and when: one user's
    /// changes go out at most once per `every` (the last of them), however fast they come.
    told: Mutex<HashMap<String, Told>>,
    every: Duration,
    /// Changes of this node's own sockets, for the other nodes (set when there are some).
    outgoing: Mutex<Option<mpsc::Sender<Change>>>,
    next_connection: AtomicU64,
    grace: Duration,
}

#[derive(Default)]
struct Books {
    local: PresenceBook,
    merged: PresenceBook,
    /// (node, user) → the stand-in connection in `merged`.
    remote: HashMap<(String, String), u64>,
    /// When each other node was last heard from.
    seen: HashMap<String, Instant>,
}

/// The last status told of a user, when, and one waiting for its turn (coalesced).
struct Told {
    status: Status,
    at: tokio::time::Instant,
    waiting: Option<Status>,
}

/// How often at most one user's presence changes go out to sockets.
pub const COALESCE: Duration = Duration::from_millis(1_000);

/// One socket's place in the presence book.
pub struct Connection {
    pub id: u64,
    pub user: String,
}

impl Default for PresenceHub {
    fn default() -> Self {
        Self::with_timing(Duration::from_millis(GRACE_MS), COALESCE)
    }
}

impl PresenceHub {
    /// A hub whose users go offline `grace` after their last socket, and whose changes go
    /// out at most once per `every` per user (zero: each at once).
    pub fn with_timing(grace: Duration, every: Duration) -> Self {
        Self {
            books: Mutex::default(),
            changes: broadcast::channel(1024).0,
            told: Mutex::default(),
            every,
            outgoing: Mutex::default(),
            next_connection: AtomicU64::new(1),
            grace,
        }
    }

    /// How many nodes the cluster has as this node knows it: itself and those heard from lately.
    pub fn nodes(&self) -> usize {
        1 + self.books().seen.len()
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends what the merged book announced to this node's sockets.
    fn announce(self: &Arc<Self>, user: &str, merged: Option<Status>) {
        if let Some(status) = merged {
            self.tell(user, status);
        }
    }

    /// Hands what the local book announced to the other nodes. Called with the books held,
    /// so one user's changes leave in the order they were made: the last one sent is how
    /// they stand.
    fn relay(&self, _books: &Books, user: &str, local: Option<Status>) {
        if let Some(status) = local
            && let Some(out) = self
                .outgoing
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .as_ref()
        {
            // Best effort, like the notes themselves; the heartbeat's resync repairs a loss.
            let _ = out.try_send((user.to_owned(), status));
        }
    }

    /// Tells this node's sockets that `user` is now `status`: at once when nothing was told
    /// of them within `every`, else once that interval is over (only the last status, and
    /// only if it differs from what was told). A client flipping away and back a thousand
    /// times costs each watcher a frame a second.
    fn tell(self: &Arc<Self>, user: &str, status: Status) {
        let now = tokio::time::Instant::now();
        let send_now = {
            let mut told = self.told.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if told.len() > 100_000 {
                let every = self.every;
                told.retain(|_, t| t.waiting.is_some() || now.duration_since(t.at) < every);
            }
            match told.get_mut(user) {
                Some(last) if now.duration_since(last.at) < self.every => {
                    let first_waiting = last.waiting.is_none();
                    last.waiting = Some(status);
                    if first_waiting {
                        let wait = self.every.saturating_sub(now.duration_since(last.at));
                        let (hub, user) = (self.clone(), user.to_owned());
                        tokio::spawn(async move {
                            tokio::time::sleep(wait).await;
                            hub.tell_waiting(&user);
                        });
                    }
                    false
                }
                _ => {
                    told.insert(
                        user.to_owned(),
                        Told {
                            status,
                            at: now,
                            waiting: None,
                        },
                    );
                    true
                }
            }
        };
        if send_now {
            let _ = self.changes.send((user.to_owned(), status));
        }
    }

    /// The interval is over: tells the status that waited, if it is news.
    fn tell_waiting(&self, user: &str) {
        let news = {
            let mut told = self.told.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let Some(last) = told.get_mut(user) else { return };
            let Some(status) = last.waiting.take() else { return };
            let news = status != last.status;
            last.status = status;
            last.at = tokio::time::Instant::now();
            news.then_some(status)
        };
        if let Some(status) = news {
            let _ = self.changes.send((user.to_owned(), status));
        }
    }

    /// Hands this node's own changes to the cluster relay from now on.
    pub fn relay_to(&self, out: mpsc::Sender<Change>) {
        *self.outgoing.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(out);
    }

    /// A socket of `user` opened: they count as here.
    pub fn connect(self: &Arc<Self>, user: &str) -> Connection {
        let id = self.next_connection.fetch_add(1, Ordering::Relaxed);
        let merged = {
            let mut books = self.books();
            let local = books.local.connect(user, id);
            self.relay(&books, user, local);
            books.merged.connect(user, id)
        };
        self.announce(user, merged);
        Connection {
            id,
            user: user.to_owned(),
        }
    }

    /// Starts following presence: the changes from now on, and everyone online or away now.
    pub fn watch(&self) -> (broadcast::Receiver<Change>, Vec<Change>) {
        let changes = self.changes.subscribe();
        (changes, self.books().merged.snapshot())
    }

    /// This node's own users and their status, for a node that asks.
    pub fn local_snapshot(&self) -> Vec<Change> {
        self.books().local.snapshot()
    }

    pub fn set_away(self: &Arc<Self>, connection: &Connection, away: bool) {
        let user = &connection.user;
        let merged = {
            let mut books = self.books();
            let local = books.local.set_away(user, connection.id, away);
            self.relay(&books, user, local);
            books.merged.set_away(user, connection.id, away)
        };
        self.announce(user, merged);
    }

    /// The socket closed: the user goes offline after the grace period, unless back by then.
    pub fn disconnect(self: &Arc<Self>, connection: &Connection) {
        let user = connection.user.clone();
        let (last_local, last_merged, merged) = {
            let mut books = self.books();
            let last_local = books.local.disconnect(&user, connection.id);
            let last_merged = books.merged.disconnect(&user, connection.id);
            let local = if last_local { None } else { books.local.recheck(&user) };
            self.relay(&books, &user, local);
            let merged = if last_merged { None } else { books.merged.recheck(&user) };
            (last_local, last_merged, merged)
        };
        self.announce(&user, merged);
        if last_local || last_merged {
            self.expire_later(user, last_local, last_merged);
        }
    }

    /// After the grace period: offline in the books whose last connection went, unless back.
    fn expire_later(self: &Arc<Self>, user: String, local: bool, merged: bool) {
        let hub = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(hub.grace).await;
            let merged = {
                let mut books = hub.books();
                let local = local.then(|| books.local.expire(&user)).flatten();
                hub.relay(&books, &user, local);
                merged.then(|| books.merged.expire(&user)).flatten()
            };
            hub.announce(&user, merged);
        });
    }

    /// Another node heard from: it is alive. Returns true the first time (or the first
    /// time since it was dropped), when it should be asked for everything it knows.
    pub fn heard_from(&self, node: &str) -> bool {
        self.books().seen.insert(node.to_owned(), Instant::now()).is_none()
    }

    /// Another node says how `user` stands on it. Returns true when that node was not
    /// known (see [`Self::heard_from`]).
    pub fn remote(self: &Arc<Self>, node: &str, user: &str, status: Status) -> bool {
        let new_node = self.heard_from(node);
        let key = (node.to_owned(), user.to_owned());
        let merged = {
            let mut books = self.books();
            match status {
                Status::Online | Status::Away => {
                    let away = status == Status::Away;
                    let known = books.remote.get(&key).copied();
                    let id = known.unwrap_or_else(|| self.next_connection.fetch_add(1, Ordering::Relaxed));
                    books.remote.insert(key, id);
                    let connected = if known.is_none() {
                        books.merged.connect(user, id)
                    } else {
                        None
                    };
                    books.merged.set_away(user, id, away).or(connected)
                }
                Status::Offline => {
                    // That node already waited its grace period: no second one here.
                    let Some(id) = books.remote.remove(&key) else {
                        return new_node;
                    };
                    if books.merged.disconnect(user, id) {
                        books.merged.expire(user)
                    } else {
                        books.merged.recheck(user)
                    }
                }
            }
        };
        self.announce(user, merged);
        new_node
    }

    /// Drops what nodes not heard from since `silent_since` said (they are gone, or this
    /// node lost their notes), each user going offline after the grace period unless
    /// some node says otherwise by then. All nodes when `silent_since` is `None`.
    pub fn forget_nodes(self: &Arc<Self>, silent_since: Option<Instant>) {
        self.forget_where(|_, at| silent_since.is_none_or(|limit| at < limit));
    }

    /// Drops what `node` said: it said goodbye (it is stopping). Its users go offline after
    /// the grace period unless they come back elsewhere by then.
    pub fn forget_node(self: &Arc<Self>, node: &str) {
        self.forget_where(|other, _| other == node);
    }

    fn forget_where(self: &Arc<Self>, gone: impl Fn(&str, Instant) -> bool) {
        let dropped: Vec<(String, bool, Option<Status>)> = {
            let mut books = self.books();
            let gone: Vec<String> = books
                .seen
                .iter()
                .filter(|(node, at)| gone(node, **at))
                .map(|(node, _)| node.clone())
                .collect();
            for node in &gone {
                books.seen.remove(node);
            }
            let keys: Vec<(String, String)> = books
                .remote
                .keys()
                .filter(|(node, _)| gone.contains(node))
                .cloned()
                .collect();
            keys.into_iter()
                .filter_map(|key| {
                    let id = books.remote.remove(&key)?;
                    let user = key.1;
                    let last = books.merged.disconnect(&user, id);
                    let now = if last { None } else { books.merged.recheck(&user) };
                    Some((user, last, now))
                })
                .collect()
        };
        for (user, last, now) in dropped {
            self.announce(&user, now);
            if last {
                self.expire_later(user, false, true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_users_flips_are_told_at_most_once_per_interval_and_the_last_one_wins() {
        // Wide margins: the test machine may be busy.
        let every = Duration::from_millis(250);
        let hub = Arc::new(PresenceHub::with_timing(GRACE, every));
        let (mut changes, _) = hub.watch();
        let tab = hub.connect("eve");
        assert_eq!(
            drain(&mut changes),
            [("eve".into(), Status::Online)],
            "the first at once"
        );
        for i in 0..1_000 {
            hub.set_away(&tab, i % 2 == 0);
        }
        hub.set_away(&tab, true);
        assert!(drain(&mut changes).is_empty(), "nothing more within the interval");
        tokio::time::sleep(every * 3).await;
        assert_eq!(
            drain(&mut changes),
            [("eve".into(), Status::Away)],
            "then the last, once"
        );
        // Long after the last: at once. Then away and back within the interval, ending
        // where it was told: nothing more to tell.
        hub.set_away(&tab, false);
        hub.set_away(&tab, true);
        assert_eq!(drain(&mut changes), [("eve".into(), Status::Online)]);
        hub.set_away(&tab, false);
        tokio::time::sleep(every * 3).await;
        assert!(drain(&mut changes).is_empty());
    }

    fn drain(changes: &mut broadcast::Receiver<Change>) -> Vec<Change> {
        let mut got = Vec::new();
        while let Ok(change) = changes.try_recv() {
            got.push(change);
        }
        got
    }

    const GRACE: Duration = Duration::from_millis(50);

    #[tokio::test]
    async fn other_nodes_users_merge_with_this_nodes_and_a_silent_node_fades_out() {
        let hub = Arc::new(PresenceHub::with_timing(GRACE, Duration::ZERO));
        let (out, mut told) = mpsc::channel(16);
        hub.relay_to(out);
        let (mut changes, _) = hub.watch();

        // Ada on another node: online here, and nothing of hers is told onward.
        assert!(hub.remote("b", "ada", Status::Online), "a node not known before");
        assert!(!hub.remote("b", "ada", Status::Online));
        assert_eq!(drain(&mut changes), [("ada".into(), Status::Online)]);
        assert!(told.try_recv().is_err());
        // Away there; then here too: online wins, and this node tells the others.
        hub.remote("b", "ada", Status::Away);
        let here = hub.connect("ada");
        assert_eq!(
            drain(&mut changes),
            [("ada".into(), Status::Away), ("ada".into(), Status::Online)]
        );
        assert_eq!(told.try_recv().ok(), Some(("ada".into(), Status::Online)));
        hub.disconnect(&here);
        assert_eq!(
            drain(&mut changes),
            [("ada".into(), Status::Away)],
            "the other node's tab is hidden"
        );
        tokio::time::sleep(GRACE * 3).await;
        assert_eq!(told.try_recv().ok(), Some(("ada".into(), Status::Offline)));
        assert!(drain(&mut changes).is_empty(), "still away on the other node");

        // The other node says offline: at once (it waited its own grace period).
        hub.remote("b", "ada", Status::Offline);
        assert_eq!(drain(&mut changes), [("ada".into(), Status::Offline)]);

        // A node that falls silent: its users go, after the grace period.
        hub.remote("c", "bob", Status::Online);
        drain(&mut changes);
        hub.forget_nodes(Some(Instant::now() + Duration::from_secs(1)));
        assert!(drain(&mut changes).is_empty(), "not at once");
        assert!(hub.heard_from("c"), "asked again for everything once heard from");
        tokio::time::sleep(GRACE * 3).await;
        assert_eq!(drain(&mut changes), [("bob".into(), Status::Offline)]);
        assert!(hub.watch().1.is_empty());
    }
}
