//! Presence across the sockets of this server: who is online, away or offline. The rules
//! are the core's `PresenceBook`; this adds the clock (the grace period) and the broadcast.

use parley::presence::{GRACE_MS, PresenceBook, Status};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// A user's presence as it changed (or as it is, in a snapshot).
pub type Change = (String, Status);

pub struct PresenceHub {
    book: Mutex<PresenceBook>,
    changes: broadcast::Sender<Change>,
    next_connection: AtomicU64,
    grace: Duration,
}

/// One socket's place in the presence book.
pub struct Connection {
    pub id: u64,
    pub user: String,
}

impl Default for PresenceHub {
    fn default() -> Self {
        Self::with_grace(Duration::from_millis(GRACE_MS))
    }
}

impl PresenceHub {
    pub fn with_grace(grace: Duration) -> Self {
        Self {
            book: Mutex::default(),
            changes: broadcast::channel(1024).0,
            next_connection: AtomicU64::new(1),
            grace,
        }
    }

    fn book(&self) -> std::sync::MutexGuard<'_, PresenceBook> {
        self.book.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn announce(&self, user: &str, status: Option<Status>) {
        if let Some(status) = status {
            let _ = self.changes.send((user.to_owned(), status));
        }
    }

    /// A socket of `user` opened: they count as here.
    pub fn connect(&self, user: &str) -> Connection {
        let id = self.next_connection.fetch_add(1, Ordering::Relaxed);
        let change = self.book().connect(user, id);
        self.announce(user, change);
        Connection {
            id,
            user: user.to_owned(),
        }
    }

    /// Starts following presence: the changes from now on, and everyone online or away now.
    pub fn watch(&self) -> (broadcast::Receiver<Change>, Vec<Change>) {
        let changes = self.changes.subscribe();
        (changes, self.book().snapshot())
    }

    pub fn set_away(&self, connection: &Connection, away: bool) {
        let change = self.book().set_away(&connection.user, connection.id, away);
        self.announce(&connection.user, change);
    }

    /// The socket closed: the user goes offline after the grace period, unless back by then.
    pub fn disconnect(self: &Arc<Self>, connection: &Connection) {
        let user = connection.user.clone();
        let last = self.book().disconnect(&user, connection.id);
        if !last {
            let change = self.book().recheck(&user);
            self.announce(&user, change);
            return;
        }
        let hub = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(hub.grace).await;
            let change = hub.book().expire(&user);
            hub.announce(&user, change);
        });
    }
}
