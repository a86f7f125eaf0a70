//! One socket per browser: the notes a browser's tabs exchange about its one WebSocket, and what the tab holding it (the leader) sends on it for all of them.
//!
//! One tab (elected by the browser's Web Locks) holds the socket. Every tab, the leader
//! included, tells it what it [`Follow`](LinkNote::Follow)s: the channel it shows and the
//! position it has applied, whether it is out of view, and the channels its sidebar
//! watches. The leader's [`Relay`] turns those into the frames of one connection (one
//! subscription per channel, shared by the tabs showing it; the union of what they watch;
//! away only when every tab is out of view) and passes every frame the server sends to every
//! tab, which keeps what concerns it. A tab that comes to a channel with an older position
//! than the socket has delivered gets the channel again from its position (the others see
//! events they already have, which applying twice does not change); one as far along gets
//! the channel's catch-up at once. When the leader goes, the next tab takes the lock, asks
//! every tab what it follows, and subscribes from their positions: no gap, and nothing new
//! shown twice. A leader that hangs (or is frozen) keeps the lock but stops beating: a tab
//! in view that hears nothing from it for a while takes the lock from it ([`Watch`]), and
//! from then on frames from the old leader are not taken.

use crate::ids::{ChannelId, Position};
use crate::protocol::{ClientFrame, ServerFrame};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A tab of the browser, by a random number it draws when it loads.
pub type TabId = u64;

/// What a tab follows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interest {
    /// The channel on screen.
    pub channel: ChannelId,
    /// The last position of it the tab has applied.
    pub after: Position,
    /// The tab is out of view.
    pub hidden: bool,
    /// The channels its sidebar counts new messages of.
    pub watch: Vec<ChannelId>,
    /// How many times the tab has followed from a position: a new turn (it painted a
    /// channel, or a new leader asked) follows from `after` anew; the same turn only tells
    /// whether it is in view or what it watches. The catch-up it is told carries its turn
    /// (as the `CaughtUp`'s id), so one meant for an earlier turn is not taken for this one's.
    pub turn: u64,
}

crate::tagged_enum! {
    #[serde(tag = "t", rename_all = "snake_case")]
    /// A note between the tabs about the shared socket.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub enum LinkNote {
        /// `tab` holds the socket now: every tab tells it what it follows.
        Leader { tab: TabId },
        /// What a tab follows: when it loads, opens a channel, goes out of view or back, when
        /// its sidebar changes, and when a new leader asks.
        Follow { tab: TabId, interest: Interest },
        /// The tab is closing.
        Leave { tab: TabId },
        /// A frame a tab sends through the leader's socket (only [`ClientFrame::Typing`]).
        Send { tab: TabId, frame: ClientFrame },
        /// A frame the server sent, as it came, through `from`'s socket; for one tab alone when
        /// `to` says so.
        Heard {
            #[serde(default)]
            from: TabId,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            to: Option<TabId>,
            frame: String,
        },
        /// The leader is alive (sent every [`BEAT_MS`]).
        Beat { tab: TabId },
        /// The leader's socket closed; it is reconnecting.
        Down,
    }
}

impl LinkNote {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// How often the leader says it is alive.
pub const BEAT_MS: f64 = 1_000.0;
/// How long a tab in view waits without a word from the leader before it takes the lock.
pub const SILENCE_MS: f64 = 3_500.0;

/// A follower's watch on the leader: who leads, and when it was last heard from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Watch {
    leader: Option<TabId>,
    heard_at_ms: f64,
}

impl Watch {
    /// A watch started at `now_ms` (a tab that just loaded gives the leader time to speak).
    pub fn new(now_ms: f64) -> Self {
        Self {
            leader: None,
            heard_at_ms: now_ms,
        }
    }

    /// `tab` announced that it leads.
    pub fn leader(&mut self, tab: TabId, now_ms: f64) {
        self.leader = Some(tab);
        self.heard_at_ms = now_ms;
    }

    /// `tab` beat; a tab that joined after the announcement learns the leader this way.
    pub fn beat(&mut self, tab: TabId, now_ms: f64) {
        if self.leader.is_none_or(|leader| leader == tab) {
            self.leader = Some(tab);
            self.heard_at_ms = now_ms;
        }
    }

    /// Whether a frame relayed by `from` is to be taken: from the leader, or from a tab
    /// that did not say who it was (nor whether it leads).
    pub fn takes_from(&self, from: TabId) -> bool {
        from == 0 || self.leader.is_none_or(|leader| leader == from)
    }

    /// Whether the tab should take the lock from the leader: it is in view and the leader
    /// has been silent for [`SILENCE_MS`].
    pub fn should_take_over(&self, now_ms: f64, in_view: bool) -> bool {
        in_view && now_ms - self.heard_at_ms >= SILENCE_MS
    }
}

/// Where the relay's answer goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    /// On the socket.
    Socket(ClientFrame),
    /// To one tab, as if the server had sent it.
    Tab(TabId, ServerFrame),
    /// The frame just heard, to every tab as it came.
    Pass,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Feed {
    /// Subscribed; the stored events are still coming.
    CatchingUp,
    CaughtUp,
    /// The server refused it (not there for this user).
    Refused,
}

/// A channel subscribed on the socket for the tabs showing it.
#[derive(Clone, Copy, Debug)]
struct Subscription {
    /// The newest position of the channel the socket has delivered (or subscribed from).
    delivered: Position,
    feed: Feed,
    /// The name of the latest `Subscribe` sent for it: only its `CaughtUp` counts (one of
    /// a subscription started again can still be on its way).
    id: u64,
}

/// A tab served, and whether it waits for its channel's catch-up.
#[derive(Clone, Debug)]
struct Served {
    interest: Interest,
    waiting: bool,
}

/// The leader's book of the tabs it serves and of what its socket is subscribed to.
///
/// A tab is told its channel is caught up (a `CaughtUp` for it alone) once every event after
/// the position it followed from has gone to it: the position its timeline reached is then
/// one it can resume from with no gap (before that, the events it heard may skip some).
#[derive(Debug, Default)]
pub struct Relay {
    tabs: BTreeMap<TabId, Served>,
    subscriptions: BTreeMap<ChannelId, Subscription>,
    /// What the socket was last told: the watched channels, and whether the user is away.
    watched: Option<Vec<ChannelId>>,
    away: Option<bool>,
    up: bool,
    last_id: u64,
}

impl Relay {
    pub fn new() -> Self {
        Self::default()
    }

    /// The channels subscribed for them.
    pub fn channels(&self) -> impl Iterator<Item = ChannelId> + '_ {
        self.subscriptions.keys().copied()
    }

    fn subscribe(&mut self, channel: ChannelId, after: Position) -> Option<Out> {
        self.last_id += 1;
        let id = self.last_id;
        self.subscriptions.insert(
            channel,
            Subscription {
                delivered: after,
                feed: Feed::CatchingUp,
                id,
            },
        );
        self.up
            .then_some(Out::Socket(ClientFrame::Subscribe { channel, after, id }))
    }

    /// A tab says what it follows: a channel it came to anew (or this relay is new to it)
    /// from its position, or, on the same channel, only whether it is in view and what it
    /// watches.
    pub fn follow(&mut self, tab: TabId, interest: Interest) -> Vec<Out> {
        let channel = interest.channel;
        let after = interest.after;
        let before = self.tabs.get(&tab).map(|s| (s.interest.channel, s.interest.turn));
        let turn = interest.turn;
        let mut out = Vec::new();
        // Only a tab coming to its channel asks for it: a tab staying on it only changed
        // whether it is in view or what it watches (and its position, told then, may lag
        // behind frames still on their way to it).
        if before == Some((channel, turn)) {
            if let Some(served) = self.tabs.get_mut(&tab) {
                served.interest = interest;
            }
            out.extend(self.settle());
            return out;
        }
        let mut waiting = true;
        match self.subscriptions.get(&channel).copied() {
            Some(sub) if after >= sub.delivered && sub.feed == Feed::CaughtUp => {
                // Everything it lacks is on its way to it: caught up now.
                if self.up {
                    waiting = false;
                    out.push(Out::Tab(
                        tab,
                        ServerFrame::CaughtUp {
                            channel,
                            position: sub.delivered,
                            id: turn,
                        },
                    ));
                }
            }
            // The catch-up under way started no later than it: it waits for its end.
            Some(sub) if after >= sub.delivered && sub.feed == Feed::CatchingUp => {}
            // Behind what was delivered, refused before, or new: asked for from here.
            _ => out.extend(self.subscribe(channel, after)),
        }
        self.tabs.insert(tab, Served { interest, waiting });
        // A tab new here has not heard who is online: everyone hears it again (a full list
        // replaces what each knew).
        if before.is_none() && self.up {
            out.push(Out::Socket(ClientFrame::WatchPresence));
        }
        if let Some((left, _)) = before
            && left != channel
        {
            out.extend(self.drop_unfollowed(left));
        }
        out.extend(self.settle());
        out
    }

    /// A tab closed: what only it followed is let go.
    pub fn leave(&mut self, tab: TabId) -> Vec<Out> {
        let Some(left) = self.tabs.remove(&tab) else {
            return Vec::new();
        };
        let mut out: Vec<Out> = self.drop_unfollowed(left.interest.channel).into_iter().collect();
        out.extend(self.settle());
        out
    }

    /// A frame from a tab to pass on: only typing (everything else a tab needs, it asks
    /// for by what it follows).
    pub fn pass(&self, frame: ClientFrame) -> Option<Out> {
        match frame {
            ClientFrame::Typing { channel } if self.up && self.tabs.values().any(|s| s.interest.channel == channel) => {
                Some(Out::Socket(ClientFrame::Typing { channel }))
            }
            _ => None,
        }
    }

    /// The socket heard `frame`: where it goes. A channel's catch-up goes to the tabs
    /// waiting for it, each alone; everything else to every tab.
    pub fn heard(&mut self, frame: &ServerFrame) -> Vec<Out> {
        match frame {
            ServerFrame::Event { channel, event } => {
                if let Some(sub) = self.subscriptions.get_mut(channel) {
                    sub.delivered = sub.delivered.max(event.position);
                }
                vec![Out::Pass]
            }
            ServerFrame::CaughtUp { channel, position, id } => {
                let channel = *channel;
                let Some(sub) = self.subscriptions.get_mut(&channel) else {
                    return Vec::new();
                };
                sub.delivered = sub.delivered.max(*position);
                if *id != sub.id {
                    return Vec::new(); // a subscription started again since
                }
                sub.feed = Feed::CaughtUp;
                let position = sub.delivered;
                self.tabs
                    .iter_mut()
                    .filter(|(_, s)| s.interest.channel == channel && s.waiting)
                    .map(|(tab, served)| {
                        served.waiting = false;
                        Out::Tab(
                            *tab,
                            ServerFrame::CaughtUp {
                                channel,
                                position,
                                id: served.interest.turn,
                            },
                        )
                    })
                    .collect()
            }
            ServerFrame::Refused { channel, .. } => {
                if let Some(sub) = self.subscriptions.get_mut(channel) {
                    sub.feed = Feed::Refused;
                }
                vec![Out::Pass]
            }
            _ => vec![Out::Pass],
        }
    }

    /// A new socket is open: what to send on it, first to last (every channel from what
    /// was delivered before, the people, the watched channels, whether away). Every tab
    /// waits for its channel's catch-up again.
    pub fn connected(&mut self) -> Vec<ClientFrame> {
        self.up = true;
        self.watched = None;
        self.away = None;
        let channels: Vec<(ChannelId, Position)> = self.subscriptions.iter().map(|(c, s)| (*c, s.delivered)).collect();
        let mut frames: Vec<ClientFrame> = channels
            .into_iter()
            .filter_map(|(channel, after)| match self.subscribe(channel, after) {
                Some(Out::Socket(frame)) => Some(frame),
                _ => None,
            })
            .collect();
        for served in self.tabs.values_mut() {
            served.waiting = true;
        }
        frames.push(ClientFrame::WatchPresence);
        frames.extend(self.settle().into_iter().filter_map(|out| match out {
            Out::Socket(frame) => Some(frame),
            _ => None,
        }));
        frames
    }

    /// The socket closed: nothing is caught up until the next one is.
    pub fn disconnected(&mut self) {
        self.up = false;
        for sub in self.subscriptions.values_mut() {
            if sub.feed == Feed::CaughtUp {
                sub.feed = Feed::CatchingUp;
            }
        }
    }

    fn drop_unfollowed(&mut self, channel: ChannelId) -> Option<Out> {
        if self.tabs.values().any(|s| s.interest.channel == channel) {
            return None;
        }
        self.subscriptions.remove(&channel)?;
        self.up.then_some(Out::Socket(ClientFrame::Unsubscribe { channel }))
    }

    /// Tells the socket of a change in what the tabs watch together, and whether all are away.
    fn settle(&mut self) -> Vec<Out> {
        let mut out = Vec::new();
        if !self.up || self.tabs.is_empty() {
            return out;
        }
        let mut watch: Vec<ChannelId> = self
            .tabs
            .values()
            .flat_map(|s| s.interest.watch.iter().copied())
            .collect();
        watch.sort_unstable();
        watch.dedup();
        if self.watched.as_ref() != Some(&watch) {
            self.watched = Some(watch.clone());
            out.push(Out::Socket(ClientFrame::Watch { channels: watch }));
        }
        let away = self.tabs.values().all(|s| s.interest.hidden);
        // A fresh socket is present until told otherwise.
        if self.away.unwrap_or(false) != away {
            out.push(Out::Socket(ClientFrame::Away { away }));
        }
        self.away = Some(away);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, RecordedEvent};
    use crate::ids::MessageId;

    fn channel(n: u128) -> ChannelId {
        ChannelId(uuid::Uuid::from_u128(n))
    }

    fn showing(channel: ChannelId, after: u64) -> Interest {
        Interest {
            channel,
            after: Position(after),
            hidden: false,
            watch: vec![ChannelId::GENERAL],
            turn: 1,
        }
    }

    fn socket(out: &[Out]) -> Vec<ClientFrame> {
        out.iter()
            .filter_map(|o| match o {
                Out::Socket(f) => Some(f.clone()),
                Out::Tab(..) | Out::Pass => None,
            })
            .collect()
    }

    fn subscribes(out: &[Out]) -> Vec<(ChannelId, Position)> {
        socket(out)
            .into_iter()
            .filter_map(|f| match f {
                ClientFrame::Subscribe { channel, after, .. } => Some((channel, after)),
                _ => None,
            })
            .collect()
    }

    fn event(channel: ChannelId, position: u64) -> ServerFrame {
        let recorded = RecordedEvent::at(
            position,
            channel.stream(),
            Event::MessageDeleted {
                channel_id: channel,
                message_id: MessageId::new(),
                deleted_by: crate::ids::UserId::new(),
            },
        );
        ServerFrame::Event {
            channel,
            event: Box::new(recorded),
        }
    }

    /// The catch-up of the latest subscription of `channel` (what the server answers).
    fn caught_up(relay: &mut Relay, channel: ChannelId, position: u64) -> Vec<Out> {
        let id = relay.subscriptions[&channel].id;
        relay.heard(&ServerFrame::CaughtUp {
            channel,
            position: Position(position),
            id,
        })
    }

    fn up() -> Relay {
        let mut relay = Relay::new();
        relay.connected();
        relay
    }

    #[test]
    fn tabs_showing_one_channel_share_one_subscription() {
        let a = channel(1);
        let mut relay = up();
        assert_eq!(subscribes(&relay.follow(1, showing(a, 10))), vec![(a, Position(10))]);
        // A second tab as far along, while the first catch-up is under way: no second
        // subscription, only who is online, for it to know too.
        let out = relay.follow(2, showing(a, 10));
        assert!(subscribes(&out).is_empty());
        assert!(socket(&out).contains(&ClientFrame::WatchPresence));
        assert_eq!(relay.heard(&event(a, 12)), vec![Out::Pass]);
        // The catch-up's end goes to each tab waiting for it, alone.
        let told = |position| ServerFrame::CaughtUp {
            channel: a,
            position: Position(position),
            id: 1,
        };
        assert_eq!(
            caught_up(&mut relay, a, 12),
            vec![Out::Tab(1, told(12)), Out::Tab(2, told(12))]
        );
        // A third, as far along as the socket: its catch-up at once, from the leader.
        let out = relay.follow(3, showing(a, 12));
        assert_eq!(
            out,
            vec![Out::Tab(3, told(12)), Out::Socket(ClientFrame::WatchPresence)]
        );
        assert_eq!(relay.channels().collect::<Vec<_>>(), vec![a]);
    }

    #[test]
    fn a_tab_behind_what_was_delivered_gets_the_channel_again_from_its_position() {
        let a = channel(1);
        let mut relay = up();
        relay.follow(1, showing(a, 10));
        relay.heard(&event(a, 20));
        caught_up(&mut relay, a, 20);
        assert_eq!(subscribes(&relay.follow(2, showing(a, 15))), vec![(a, Position(15))]);
        // The first subscription's catch-up, still on its way, is not this one's: only the
        // new one's end tells the tabs they have everything.
        let stale = ServerFrame::CaughtUp {
            channel: a,
            position: Position(20),
            id: 1,
        };
        assert!(relay.heard(&stale).is_empty());
        assert_eq!(caught_up(&mut relay, a, 20).len(), 1, "tab 2 waited");
        // Staying on the channel (only going out of view) asks for nothing, even with an
        // older position told (frames may still be on their way to that tab).
        let out = relay.follow(
            2,
            Interest {
                hidden: true,
                ..showing(a, 3)
            },
        );
        assert!(subscribes(&out).is_empty());
    }

    #[test]
    fn a_channel_no_tab_shows_is_let_go_and_the_others_stay() {
        let (a, b) = (channel(1), channel(2));
        let mut relay = up();
        relay.follow(1, showing(a, 0));
        relay.follow(2, showing(a, 0));
        // Tab 1 opens b: a stays (tab 2 shows it).
        let out = relay.follow(1, showing(b, 5));
        assert_eq!(subscribes(&out), vec![(b, Position(5))]);
        assert!(!socket(&out).contains(&ClientFrame::Unsubscribe { channel: a }));
        // Tab 2 closes: a goes.
        assert_eq!(socket(&relay.leave(2)), vec![ClientFrame::Unsubscribe { channel: a }]);
        assert_eq!(relay.channels().collect::<Vec<_>>(), vec![b]);
        assert!(relay.leave(2).is_empty(), "a tab leaves once");
    }

    #[test]
    fn a_new_socket_resumes_every_channel_from_what_was_delivered() {
        let (a, b) = (channel(1), channel(2));
        let mut relay = up();
        relay.follow(1, showing(a, 3));
        relay.follow(2, showing(b, 7));
        relay.heard(&event(a, 9));
        caught_up(&mut relay, a, 9);
        relay.disconnected();
        // While down, a tab coming to a caught-up channel waits for the next socket.
        assert!(relay.follow(3, showing(a, 9)).is_empty());
        let frames = relay.connected();
        let resumed: Vec<Out> = frames[..2].iter().cloned().map(Out::Socket).collect();
        assert_eq!(subscribes(&resumed), vec![(a, Position(9)), (b, Position(7))]);
        // Every tab waits for its channel again: the new catch-ups go to all three.
        assert_eq!(caught_up(&mut relay, a, 9).len(), 2);
        assert_eq!(caught_up(&mut relay, b, 7).len(), 1);
        assert!(frames.contains(&ClientFrame::WatchPresence));
        assert!(frames.contains(&ClientFrame::Watch {
            channels: vec![ChannelId::GENERAL]
        }));
    }

    #[test]
    fn a_tab_arriving_before_the_socket_is_subscribed_when_it_opens() {
        let a = channel(1);
        let mut relay = Relay::new();
        assert!(relay.follow(1, showing(a, 4)).is_empty());
        let frames: Vec<Out> = relay.connected().into_iter().map(Out::Socket).collect();
        assert_eq!(subscribes(&frames), vec![(a, Position(4))]);
    }

    #[test]
    fn away_only_when_every_tab_is_out_of_view_and_watching_the_union() {
        let (a, b) = (channel(1), channel(2));
        let mut relay = up();
        let hidden = |channel, watch: Vec<ChannelId>| Interest {
            channel,
            after: Position::ZERO,
            hidden: true,
            watch,
            turn: 1,
        };
        let out = relay.follow(1, hidden(a, vec![a]));
        assert!(socket(&out).contains(&ClientFrame::Away { away: true }));
        let out = relay.follow(2, showing(b, 0));
        assert!(socket(&out).contains(&ClientFrame::Away { away: false }));
        assert!(socket(&out).contains(&ClientFrame::Watch {
            channels: {
                let mut both = vec![a, ChannelId::GENERAL];
                both.sort_unstable();
                both
            }
        }));
        // The one in view closes: away again, and the watch list shrinks.
        let out = relay.leave(2);
        assert!(socket(&out).contains(&ClientFrame::Away { away: true }));
        assert!(socket(&out).contains(&ClientFrame::Watch { channels: vec![a] }));
        // Nothing changed: nothing sent.
        assert!(relay.follow(1, hidden(a, vec![a])).is_empty());
    }

    #[test]
    fn a_refused_channel_is_asked_again_by_the_next_tab_coming_to_it() {
        let a = channel(1);
        let mut relay = up();
        relay.follow(1, showing(a, 0));
        relay.heard(&ServerFrame::Refused {
            channel: a,
            error: "no such channel".into(),
        });
        assert_eq!(subscribes(&relay.follow(2, showing(a, 0))), vec![(a, Position::ZERO)]);
    }

    #[test]
    fn only_typing_in_a_followed_channel_is_passed_on() {
        let (a, b) = (channel(1), channel(2));
        let mut relay = up();
        relay.follow(1, showing(a, 0));
        assert_eq!(
            relay.pass(ClientFrame::Typing { channel: a }),
            Some(Out::Socket(ClientFrame::Typing { channel: a }))
        );
        assert_eq!(relay.pass(ClientFrame::Typing { channel: b }), None);
        assert_eq!(relay.pass(ClientFrame::Unsubscribe { channel: a }), None);
        assert_eq!(relay.pass(ClientFrame::WatchPresence), None);
    }

    #[test]
    fn notes_round_trip_and_garbage_is_not_a_note() {
        let note = LinkNote::Follow {
            tab: u64::from(u32::MAX) * 3,
            interest: showing(channel(9), 42),
        };
        assert_eq!(LinkNote::parse(&note.to_json()), Some(note));
        let heard = LinkNote::Heard {
            from: 7,
            to: None,
            frame: ServerFrame::Pong { nonce: 1 }.to_json(),
        };
        assert_eq!(LinkNote::parse(&heard.to_json()), Some(heard));
        assert_eq!(
            LinkNote::parse(&LinkNote::Beat { tab: 7 }.to_json()),
            Some(LinkNote::Beat { tab: 7 })
        );
        assert_eq!(LinkNote::parse("{\"t\":\"follow\"}"), None);
        assert_eq!(LinkNote::parse("not json"), None);
    }

    #[test]
    fn a_silent_leader_is_taken_over_by_a_tab_in_view_only() {
        let mut watch = Watch::new(0.0);
        watch.leader(1, 100.0);
        assert!(!watch.should_take_over(100.0 + SILENCE_MS - 1.0, true));
        watch.beat(1, 1_000.0);
        assert!(!watch.should_take_over(1_000.0 + SILENCE_MS - 1.0, true));
        assert!(watch.should_take_over(1_000.0 + SILENCE_MS, true));
        // Out of view, a tab leaves it to one the user looks at.
        assert!(!watch.should_take_over(1_000.0 + SILENCE_MS * 10.0, false));
        // Another tab's beat does not keep the leader alive.
        watch.beat(2, 9_000.0);
        assert!(watch.should_take_over(9_000.0, true));
    }

    #[test]
    fn frames_are_taken_from_the_leader_only_once_it_is_known() {
        let mut watch = Watch::new(0.0);
        assert!(watch.takes_from(5));
        // A tab that loaded after the announcement learns the leader from its beat.
        watch.beat(5, 10.0);
        assert!(watch.takes_from(5));
        assert!(!watch.takes_from(6));
        // Another took over: the old leader's frames (sent before it noticed) are dropped.
        watch.leader(6, 20.0);
        assert!(watch.takes_from(6));
        assert!(!watch.takes_from(5));
        assert!(watch.takes_from(0));
    }
}
