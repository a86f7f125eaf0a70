//! The bus: the double emit. Eager notices are for what may be lost and is never stored
//! (someone typing): they go out at once, to whoever listens, best effort. Guaranteed
//! notices go out after commit, once per event, in log order, and carry its position.
//! Nothing that changes state acts on an eager notice. Commands are not announced eagerly:
//! nothing would act on "about to be appended" (a post is on screen at once in its own tab,
//! optimistically, and reaches the others once durable, within milliseconds).
//!
//! Followers see each committed event first, in log order, before it is announced: what a
//! node decides from (its caches, who is admin, which sessions ended) is brought up to date
//! here, from the log, whichever node wrote the event.

use parley::{ChannelId, Position, RecordedEvent};
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// Something that happens now and is never stored: may be lost, never acted on for state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EagerNotice {
    /// `user` is typing in `channel` (said by one of their sockets that follows it).
    Typing { channel: ChannelId, user: String },
}

/// Something a node decides from, kept up to date from the log. Called for every committed
/// event once, in log order, under the bus's lock: it must be quick and must not block.
pub trait Follower: Send + Sync {
    fn follow(&self, event: &RecordedEvent);
}

#[derive(Clone)]
pub struct Bus {
    eager: broadcast::Sender<Arc<EagerNotice>>,
    committed: broadcast::Sender<Arc<RecordedEvent>>,
    head: watch::Sender<Position>,
    /// Writer and tailer announce one at a time, so each event goes out once, in order.
    emitting: Arc<std::sync::Mutex<()>>,
    followers: Arc<std::sync::RwLock<Vec<Arc<dyn Follower>>>>,
}

impl Bus {
    pub fn new(head: Position) -> Self {
        let (eager, _) = broadcast::channel(1024);
        let (committed, _) = broadcast::channel(4096);
        let (head, _) = watch::channel(head);
        Self {
            eager,
            committed,
            head,
            emitting: Arc::default(),
            followers: Arc::default(),
        }
    }

    /// Registers a follower: from now on it sees every committed event before anyone else.
    pub fn follow(&self, follower: Arc<dyn Follower>) {
        let _one_at_a_time = self.emitting.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.followers
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(follower);
    }

    /// Eager notices: now, lossy, never stored (typing).
    pub fn subscribe_eager(&self) -> broadcast::Receiver<Arc<EagerNotice>> {
        self.eager.subscribe()
    }

    /// Guaranteed notices: committed events, in log order, with their positions.
    /// A receiver that lags is told so, and catches up from the store.
    pub fn subscribe_committed(&self) -> broadcast::Receiver<Arc<RecordedEvent>> {
        self.committed.subscribe()
    }

    /// Steps the head over `position`, a committed row nobody can read (it is parked by the
    /// projector): only if it is the next one, so nothing readable is skipped.
    pub(crate) fn skip_unreadable(&self, position: Position) {
        let _one_at_a_time = self.emitting.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.head.send_if_modified(|head| {
            let next = position == head.next();
            if next {
                *head = position;
            }
            next
        });
    }

    /// The position of the last committed event: wakes anyone tailing the log.
    pub fn head(&self) -> watch::Receiver<Position> {
        self.head.subscribe()
    }

    pub fn emit_eager(&self, notice: EagerNotice) {
        // No receiver is not an error: eager notices are best effort.
        let _ = self.eager.send(Arc::new(notice));
    }

    /// Called after commit only, by the store's writer or a tailer: announces the events
    /// that follow on from the last one announced. Those announced already are skipped; if
    /// the first new one does not follow on (another node's commit in between is not read
    /// yet), none is, and the tailer, reading the log, announces them all in order.
    pub(crate) fn emit_committed(&self, events: Vec<Arc<RecordedEvent>>) {
        self.emit(events, true);
    }

    /// Called by the only writer of the log (SQLite): its commits are announced even after
    /// a gap (a row written by something else), which readers then fill from the store.
    pub(crate) fn emit_committed_by_sole_writer(&self, events: Vec<Arc<RecordedEvent>>) {
        self.emit(events, false);
    }

    fn emit(&self, events: Vec<Arc<RecordedEvent>>, follow_on_only: bool) {
        let _one_at_a_time = self.emitting.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let head = *self.head.borrow();
        let fresh: Vec<Arc<RecordedEvent>> = events.into_iter().filter(|e| e.position > head).collect();
        let Some(last) = fresh.last().map(|e| e.position) else {
            return;
        };
        if follow_on_only && fresh.first().map(|e| e.position) != Some(head.next()) {
            return;
        }
        {
            let followers = self.followers.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            for event in &fresh {
                for follower in followers.iter() {
                    follower.follow(event);
                }
            }
        }
        for event in fresh {
            let _ = self.committed.send(event);
        }
        self.head.send_if_modified(|head| {
            let moved = last > *head;
            if moved {
                *head = last;
            }
            moved
        });
    }
}
