//! Randomised: whatever order sends, acks, deliveries, duplicates, sibling-tab merges,
//! reconnects and reloads happen in, the client's timeline converges to the server's
//! order, with no duplicate and no lost message.
#![allow(clippy::unwrap_used)]

use parley::timeline::{Delivery, Timeline};
use parley::{ChannelId, MessageId, MessageView, Position};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
enum Op {
    /// We write a message: pending on screen, stored in the outbox.
    Send,
    /// Someone else's message is committed.
    OtherPosts,
    /// The server commits one of our outbox messages (again, if it already has: idempotent);
    /// the ack goes into flight.
    ServerAccepts(usize),
    /// An ack in flight arrives (and may arrive again later).
    AckArrives(usize, bool),
    /// A send fails (timeout, offline) and is retried later with the same id.
    SendFails(usize),
    Retry(usize),
    /// The socket delivers the next event after its cursor.
    Deliver,
    /// An event already delivered arrives again.
    Redeliver(usize),
    /// A sibling tab passes on any committed message, in any order.
    SiblingMerge(usize),
    /// The socket drops and resumes from the timeline's cursor.
    Reconnect,
    /// The page reloads: cache and outbox are all that survive.
    Reload,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Send),
        2 => Just(Op::OtherPosts),
        3 => any::<usize>().prop_map(Op::ServerAccepts),
        3 => (any::<usize>(), any::<bool>()).prop_map(|(i, again)| Op::AckArrives(i, again)),
        1 => any::<usize>().prop_map(Op::SendFails),
        1 => any::<usize>().prop_map(Op::Retry),
        5 => Just(Op::Deliver),
        1 => any::<usize>().prop_map(Op::Redeliver),
        1 => any::<usize>().prop_map(Op::SiblingMerge),
        1 => Just(Op::Reconnect),
        1 => Just(Op::Reload),
    ]
}

#[derive(Default)]
struct Server {
    log: Vec<MessageView>,
}

impl Server {
    fn commit(&mut self, message_id: MessageId, author: &str) -> Position {
        if let Some(existing) = self.log.iter().find(|m| m.message_id == message_id) {
            return existing.position;
        }
        let position = Position(self.log.len() as u64 + 1);
        self.log.push(MessageView::posted(
            position,
            message_id,
            ChannelId::GENERAL,
            author.into(),
            format!("body of {message_id}"),
            position.0 as i64,
        ));
        position
    }

    fn after(&self, cursor: Position) -> Option<MessageView> {
        self.log.iter().find(|m| m.position > cursor).cloned()
    }
}

/// The client as the browser runs it: screen, IndexedDB (cache + cursor + outbox), socket.
#[derive(Default)]
struct Client {
    timeline: Timeline,
    cached: BTreeMap<Position, MessageView>,
    cached_cursor: Position,
    outbox: BTreeSet<MessageId>,
    socket_cursor: Position,
    acks_in_flight: Vec<(MessageId, Position)>,
    delivered: Vec<MessageView>,
}

impl Client {
    fn send(&mut self) {
        let id = MessageId::new();
        self.outbox.insert(id);
        self.timeline
            .add_pending(id, "me".into(), format!("body of {id}"), None);
    }

    fn ack(&mut self, id: MessageId, position: Position) {
        self.timeline.ack(id, position);
        self.outbox.remove(&id);
    }

    fn deliver(&mut self, server: &Server) {
        if let Some(view) = server.after(self.socket_cursor) {
            self.socket_cursor = view.position;
            self.timeline.apply(view.clone());
            self.cached.insert(view.position, view.clone());
            self.cached_cursor = self.cached_cursor.max(view.position);
            self.delivered.push(view);
        }
    }

    fn reconnect(&mut self) {
        self.socket_cursor = self.timeline.cursor();
    }

    fn reload(&mut self) {
        let mut timeline = Timeline::new();
        for view in self.cached.values() {
            timeline.merge(view.clone());
        }
        timeline.restore_cursor(self.cached_cursor);
        for id in &self.outbox {
            timeline.add_pending(*id, "me".into(), format!("body of {id}"), None);
        }
        self.timeline = timeline;
        self.acks_in_flight.clear(); // answers to the old page are lost
        self.reconnect();
    }
}

fn pick<T: Clone>(items: &[T], i: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[i % items.len()].clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn the_timeline_converges_to_the_server_order(ops in prop::collection::vec(op(), 0..80)) {
        let mut server = Server::default();
        let mut client = Client::default();
        for op in ops {
            match op {
                Op::Send => client.send(),
                Op::OtherPosts => {
                    server.commit(MessageId::new(), "other");
                }
                Op::ServerAccepts(i) => {
                    let outbox: Vec<MessageId> = client.outbox.iter().copied().collect();
                    if let Some(id) = pick(&outbox, i) {
                        let position = server.commit(id, "me");
                        client.acks_in_flight.push((id, position));
                    }
                }
                Op::AckArrives(i, again) => {
                    if let Some((id, position)) = pick(&client.acks_in_flight, i) {
                        client.ack(id, position);
                        if !again {
                            client.acks_in_flight.retain(|(a, _)| *a != id);
                        }
                    }
                }
                Op::SendFails(i) => {
                    let outbox: Vec<MessageId> = client.outbox.iter().copied().collect();
                    if let Some(id) = pick(&outbox, i) {
                        client.timeline.fail(id, "offline".into());
                    }
                }
                Op::Retry(i) => {
                    let outbox: Vec<MessageId> = client.outbox.iter().copied().collect();
                    if let Some(id) = pick(&outbox, i) {
                        client.timeline.retry(id);
                    }
                }
                Op::Deliver => client.deliver(&server),
                Op::Redeliver(i) => {
                    if let Some(view) = pick(&client.delivered, i) {
                        client.timeline.apply(view);
                    }
                }
                Op::SiblingMerge(i) => {
                    if let Some(view) = pick(&server.log, i) {
                        client.timeline.merge(view);
                    }
                }
                Op::Reconnect => client.reconnect(),
                Op::Reload => client.reload(),
            }
            // Never a duplicate, at any moment.
            let ids: Vec<MessageId> = client.timeline.entries().map(|e| e.message_id).collect();
            let unique: BTreeSet<MessageId> = ids.iter().copied().collect();
            prop_assert_eq!(ids.len(), unique.len(), "duplicate on screen");
            // Never a lost message of ours: every unsent one is on screen.
            for id in &client.outbox {
                prop_assert!(client.timeline.get(*id).is_some(), "unsent message lost");
            }
        }

        // The connection settles: the outbox is sent (idempotently), acks arrive, the socket catches up.
        let outbox: Vec<MessageId> = client.outbox.iter().copied().collect();
        for id in outbox {
            let position = server.commit(id, "me");
            client.ack(id, position);
        }
        while client.socket_cursor < Position(server.log.len() as u64) {
            client.deliver(&server);
        }

        let on_screen: Vec<MessageId> = client.timeline.entries().map(|e| e.message_id).collect();
        let in_log: Vec<MessageId> = server.log.iter().map(|m| m.message_id).collect();
        prop_assert_eq!(on_screen, in_log, "the screen shows the log, in its order");
        prop_assert!(client.timeline.entries().all(|e| e.delivery == Delivery::Sent));
        prop_assert_eq!(client.timeline.cursor(), Position(server.log.len() as u64));
    }
}
