//! Randomised: tabs of one browser sharing one socket through a leader (`parley::relay`), whatever order they open channels, hear frames, lose the socket and lose the leader in, each ends with every event of its channel, caught up.
#![allow(clippy::unwrap_used)]

use parley::protocol::{ClientFrame, ServerFrame};
use parley::relay::{Interest, Out, Relay, TabId};
use parley::{ChannelId, Event, EventId, EventMetadata, MessageId, Position, RecordedEvent, UserId};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

const CHANNELS: u128 = 3;

#[derive(Clone, Debug)]
enum Op {
    /// Someone writes in a channel.
    Append(u8),
    /// A tab handles the next frame waiting for it.
    TabHears(u8),
    /// The leader handles the next note from a tab.
    LeaderHears,
    /// A tab opens a channel, painting it from a cache that reached some point of its log.
    Open(u8, u8, u8),
    /// A new tab opens.
    NewTab(u8, u8),
    /// The socket drops and the leader opens a new one.
    Reconnect,
    /// The leader's tab closes (its frames in flight kept or lost); another takes over.
    LeaderCloses(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u8>().prop_map(Op::Append),
        6 => any::<u8>().prop_map(Op::TabHears),
        3 => Just(Op::LeaderHears),
        2 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(t, c, p)| Op::Open(t, c, p)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(c, p)| Op::NewTab(c, p)),
        1 => Just(Op::Reconnect),
        1 => any::<bool>().prop_map(Op::LeaderCloses),
    ]
}

fn channel(n: u8) -> ChannelId {
    ChannelId(uuid::Uuid::from_u128(u128::from(n) % CHANNELS + 1))
}

fn event(channel: ChannelId, position: Position) -> ServerFrame {
    ServerFrame::Event {
        channel,
        event: Box::new(RecordedEvent {
            position,
            stream_id: channel.stream(),
            stream_version: position.0,
            event_id: EventId::new(),
            schema_version: 1,
            event: Event::MessageDeleted {
                channel_id: channel,
                message_id: MessageId::new(),
                deleted_by: UserId::new(),
            },
            metadata: EventMetadata {
                actor: "t".into(),
                correlation_id: parley::CorrelationId::new(),
                causation_id: None,
                client_message_id: None,
            },
            recorded_at_ms: 0,
        }),
    }
}

struct Tab {
    channel: ChannelId,
    /// Positions of its channel it shows.
    applied: BTreeSet<Position>,
    /// Told its channel is caught up since it last followed it.
    caught_up: bool,
    /// The position it last followed from, and how many times it followed.
    since: Position,
    turn: u64,
    inbox: VecDeque<ServerFrame>,
}

impl Tab {
    /// What it resumes from: the newest position it shows once caught up (before that,
    /// what it heard may skip some), else where it followed from.
    fn cursor(&self) -> Position {
        if self.caught_up {
            self.applied.last().copied().unwrap_or(Position::ZERO)
        } else {
            self.since
        }
    }

    /// It follows its channel anew (from what it shows).
    fn interest(&mut self) -> Interest {
        let after = self.cursor();
        self.since = after;
        self.caught_up = false;
        self.turn += 1;
        Interest {
            channel: self.channel,
            after,
            hidden: false,
            watch: Vec::new(),
            turn: self.turn,
        }
    }

    fn hear(&mut self, frame: ServerFrame) {
        match frame {
            ServerFrame::Event { channel, event } if channel == self.channel => {
                self.applied.insert(event.position);
            }
            // Only the answer to its latest turn.
            ServerFrame::CaughtUp { channel, id, .. } if channel == self.channel && id == self.turn => {
                self.caught_up = true;
            }
            _ => {}
        }
    }
}

/// The server (answering at once), the leader's relay, and the tabs with their inboxes.
struct World {
    log: BTreeMap<ChannelId, Vec<Position>>,
    next: u64,
    /// The socket's subscriptions (channel → live).
    subscribed: BTreeSet<ChannelId>,
    relay: Relay,
    leader: TabId,
    tabs: BTreeMap<TabId, Tab>,
    /// Notes from tabs to the leader.
    notes: VecDeque<(TabId, Interest)>,
    next_tab: TabId,
}

impl World {
    fn new() -> Self {
        let mut world = World {
            log: (0..CHANNELS as u8).map(|c| (channel(c), Vec::new())).collect(),
            next: 1,
            subscribed: BTreeSet::new(),
            relay: Relay::new(),
            leader: 0,
            tabs: BTreeMap::new(),
            notes: VecDeque::new(),
            next_tab: 0,
        };
        world.connect();
        let first = world.add_tab(0, 0);
        world.leader = first;
        world
    }

    /// A tab shows `c` from a cache that reached `fraction` of its log.
    fn painted(&self, c: ChannelId, fraction: u8) -> BTreeSet<Position> {
        let log = &self.log[&c];
        let reached = log.len() * usize::from(fraction) / 255;
        log[..reached].iter().copied().collect()
    }

    fn add_tab(&mut self, c: u8, fraction: u8) -> TabId {
        let id = self.next_tab;
        self.next_tab += 1;
        let c = channel(c);
        let applied = self.painted(c, fraction);
        let mut tab = Tab {
            channel: c,
            since: applied.last().copied().unwrap_or(Position::ZERO),
            applied,
            caught_up: true,
            turn: 0,
            inbox: VecDeque::new(),
        };
        let interest = tab.interest();
        self.tabs.insert(id, tab);
        self.follow(id, interest);
        id
    }

    fn follow(&mut self, tab: TabId, interest: Interest) {
        if tab == self.leader {
            let outs = self.relay.follow(tab, interest);
            self.dispatch(outs);
        } else {
            self.notes.push_back((tab, interest));
        }
    }

    fn dispatch(&mut self, outs: Vec<Out>) {
        for out in outs {
            match out {
                Out::Socket(frame) => self.server_gets(frame),
                Out::Pass => unreachable!("only for frames heard"),
                Out::Tab(tab, frame) => {
                    if let Some(tab) = self.tabs.get_mut(&tab) {
                        tab.inbox.push_back(frame);
                    }
                }
            }
        }
    }

    /// The server answers a frame: a subscription replays the stored events after its
    /// position, then says caught up, then goes live.
    fn server_gets(&mut self, frame: ClientFrame) {
        match frame {
            ClientFrame::Subscribe { channel, after, id } => {
                self.subscribed.insert(channel);
                let stored: Vec<Position> = self.log[&channel].iter().copied().filter(|p| *p > after).collect();
                for position in stored {
                    self.socket_says(event(channel, position));
                }
                let position = self.log[&channel].last().copied().unwrap_or(Position::ZERO).max(after);
                self.socket_says(ServerFrame::CaughtUp { channel, position, id });
            }
            ClientFrame::Unsubscribe { channel } => {
                self.subscribed.remove(&channel);
            }
            _ => {}
        }
    }

    /// The leader hears a frame and passes it to every tab (its own included).
    fn socket_says(&mut self, frame: ServerFrame) {
        for out in self.relay.heard(&frame) {
            match out {
                Out::Pass => {
                    for tab in self.tabs.values_mut() {
                        tab.inbox.push_back(frame.clone());
                    }
                }
                Out::Tab(tab, frame) => {
                    if let Some(tab) = self.tabs.get_mut(&tab) {
                        tab.inbox.push_back(frame);
                    }
                }
                Out::Socket(_) => unreachable!("hearing sends nothing"),
            }
        }
    }

    fn connect(&mut self) {
        self.subscribed.clear();
        for frame in self.relay.connected() {
            self.server_gets(frame);
        }
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Append(c) => {
                let c = channel(c);
                let position = Position(self.next);
                self.next += 1;
                self.log.get_mut(&c).unwrap().push(position);
                if self.subscribed.contains(&c) {
                    self.socket_says(event(c, position));
                }
            }
            Op::TabHears(t) => {
                let ids: Vec<TabId> = self.tabs.keys().copied().collect();
                let id = ids[usize::from(t) % ids.len()];
                let tab = self.tabs.get_mut(&id).unwrap();
                if let Some(frame) = tab.inbox.pop_front() {
                    tab.hear(frame);
                }
            }
            Op::LeaderHears => {
                if let Some((tab, interest)) = self.notes.pop_front()
                    && self.tabs.contains_key(&tab)
                {
                    let outs = self.relay.follow(tab, interest);
                    self.dispatch(outs);
                }
            }
            Op::Open(t, c, fraction) => {
                let ids: Vec<TabId> = self.tabs.keys().copied().collect();
                let id = ids[usize::from(t) % ids.len()];
                let c = channel(c);
                let applied = self.painted(c, fraction);
                let tab = self.tabs.get_mut(&id).unwrap();
                tab.channel = c;
                tab.since = applied.last().copied().unwrap_or(Position::ZERO);
                tab.applied = applied;
                tab.caught_up = true;
                let interest = tab.interest();
                self.follow(id, interest);
            }
            Op::NewTab(c, fraction) => {
                self.add_tab(c, fraction);
            }
            Op::Reconnect => {
                self.relay.disconnected();
                self.connect();
            }
            Op::LeaderCloses(frames_lost) => {
                if self.tabs.len() < 2 {
                    return;
                }
                self.tabs.remove(&self.leader);
                if frames_lost {
                    for tab in self.tabs.values_mut() {
                        tab.inbox.clear();
                    }
                }
                // Notes to the old leader are lost with it; the next in line starts afresh
                // and every other tab tells it what it follows.
                self.notes.clear();
                self.leader = *self.tabs.keys().next().unwrap();
                self.relay = Relay::new();
                let own = self.tabs.get_mut(&self.leader).unwrap().interest();
                self.relay.follow(self.leader, own);
                self.connect();
                let leader = self.leader;
                let others: Vec<(TabId, Interest)> = self
                    .tabs
                    .iter_mut()
                    .filter(|(id, _)| **id != leader)
                    .map(|(id, tab)| (*id, tab.interest()))
                    .collect();
                self.notes.extend(others);
            }
        }
    }

    fn settle(&mut self) {
        loop {
            let mut moved = false;
            while let Some((tab, interest)) = self.notes.pop_front() {
                moved = true;
                if self.tabs.contains_key(&tab) {
                    let outs = self.relay.follow(tab, interest);
                    self.dispatch(outs);
                }
            }
            for tab in self.tabs.values_mut() {
                while let Some(frame) = tab.inbox.pop_front() {
                    moved = true;
                    tab.hear(frame);
                }
            }
            if !moved {
                return;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_tab_ends_with_its_whole_channel(ops in proptest::collection::vec(op(), 0..80)) {
        let mut world = World::new();
        for op in ops {
            world.apply(op);
        }
        world.settle();
        for (id, tab) in &world.tabs {
            let whole: BTreeSet<Position> = world.log[&tab.channel].iter().copied().collect();
            prop_assert_eq!(&tab.applied, &whole, "tab {} on {:?}", id, tab.channel);
            prop_assert!(tab.caught_up, "tab {} never caught up", id);
        }
        // The socket follows exactly the channels some tab shows.
        let shown: BTreeSet<ChannelId> = world.tabs.values().map(|t| t.channel).collect();
        prop_assert_eq!(world.relay.channels().collect::<BTreeSet<_>>(), shown.clone());
        prop_assert_eq!(&world.subscribed, &shown);
    }
}
