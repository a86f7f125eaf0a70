//! The bus: every event is announced twice. An eager notice goes out before the append
//! (it may be lost, or never become durable: fine for "someone is sending"); a guaranteed
//! notice goes out after commit and carries the log position. A subscriber picks one.
//! Nothing that changes state may act on an eager notice.

use parley::{CorrelationId, Event, Position, RecordedEvent, StreamId};
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// An event about to be appended: not durable, may never be.
#[derive(Clone, Debug)]
pub struct EagerNotice {
    pub stream: StreamId,
    pub event: Event,
    pub correlation_id: CorrelationId,
}

#[derive(Clone)]
pub struct Bus {
    eager: broadcast::Sender<Arc<EagerNotice>>,
    committed: broadcast::Sender<Arc<RecordedEvent>>,
    head: watch::Sender<Position>,
}

impl Bus {
    pub fn new(head: Position) -> Self {
        let (eager, _) = broadcast::channel(1024);
        let (committed, _) = broadcast::channel(4096);
        let (head, _) = watch::channel(head);
        Self { eager, committed, head }
    }

    /// Eager notices: before commit, lossy. For typing, presence, "sending…".
    pub fn subscribe_eager(&self) -> broadcast::Receiver<Arc<EagerNotice>> {
        self.eager.subscribe()
    }

    /// Guaranteed notices: committed events, in log order, with their positions.
    /// A receiver that lags is told so, and catches up from the store.
    pub fn subscribe_committed(&self) -> broadcast::Receiver<Arc<RecordedEvent>> {
        self.committed.subscribe()
    }

    /// The position of the last committed event: wakes anyone tailing the log.
    pub fn head(&self) -> watch::Receiver<Position> {
        self.head.subscribe()
    }

    pub fn emit_eager(&self, notice: EagerNotice) {
        // No receiver is not an error: eager notices are best effort.
        let _ = self.eager.send(Arc::new(notice));
    }

    /// Called by the store's writer, after commit only.
    pub(crate) fn emit_committed(&self, events: Vec<RecordedEvent>) {
        let Some(last) = events.last().map(|e| e.position) else {
            return;
        };
        for event in events {
            let _ = self.committed.send(Arc::new(event));
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
