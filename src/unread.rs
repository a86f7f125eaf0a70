//! Read markers and unread counts: how far each user has read each channel, what counts as unread.
//!
//! A read marker is the log position up to which a user has read a channel. It only moves
//! forward, so markers from several tabs and devices converge whatever order they arrive in.
//! The server counts unread messages from its read model; the client adds the messages it
//! hears of live after that count, so badges move at once and the next count corrects them.

use crate::ids::{ChannelId, Position, StreamId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The stream of a user's read markers and mutes.
pub fn stream(user: UserId) -> StreamId {
    StreamId(format!("reads-{user}"))
}

/// Where a read marker should move when a user has read `channel` up to `requested`:
/// nowhere (`None`) unless it moves forward. A marker never goes past the log's head.
pub fn decide_read(current: Option<Position>, requested: Position, head: Position) -> Option<Position> {
    let target = requested.min(head);
    (current.is_none_or(|c| target > c) && target > Position::ZERO).then_some(target)
}

/// One channel's unread state for one user, as the server counts it from its read model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelUnread {
    pub channel_id: ChannelId,
    /// Read up to here (messages at or below are read).
    pub read_up_to: Position,
    /// Messages of others after the marker (thread replies and deleted messages do not count).
    pub unread: u32,
    /// Of those, the ones that mention this user by name.
    pub mentions: u32,
    /// The channel's newest message when counted (or the marker, if later): live messages
    /// after it are counted on top, and a marker at or past it means all is read.
    pub counted_to: Position,
    /// No notifications from this channel, and its unread messages stay out of the total.
    pub muted: bool,
}

impl ChannelUnread {
    /// A channel with nothing counted yet.
    fn none(channel_id: ChannelId) -> Self {
        Self {
            channel_id,
            read_up_to: Position::ZERO,
            unread: 0,
            mentions: 0,
            counted_to: Position::ZERO,
            muted: false,
        }
    }
}

/// A message heard live (after the server's count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Heard {
    position: Position,
    mention: bool,
}

/// The client's unread state for every channel it can read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unreads {
    counted: HashMap<ChannelId, ChannelUnread>,
    heard: HashMap<ChannelId, Vec<Heard>>,
    /// Counts mutes set here (by the user, or heard from the server): a count asked for
    /// before a mute was set does not undo it when it arrives.
    mutes_set: u64,
    muted_at: HashMap<ChannelId, u64>,
}

/// The most live messages remembered per channel between two counts from the server.
const MAX_HEARD: usize = 1_000;

impl Unreads {
    /// Takes the server's counts, asked for now.
    pub fn replace(&mut self, counts: Vec<ChannelUnread>) {
        self.replace_asked_at(counts, self.mutes_set);
    }

    /// Where the mutes stood: give it to [`Unreads::replace_asked_at`] with the counts
    /// asked for from here.
    pub fn asked(&self) -> u64 {
        self.mutes_set
    }

    /// Takes the server's counts, asked for when [`Unreads::asked`] said `asked`: live
    /// messages it did not cover yet still count, and a mute set since stays as set.
    pub fn replace_asked_at(&mut self, counts: Vec<ChannelUnread>, asked: u64) {
        let mut counted = HashMap::with_capacity(counts.len());
        for mut count in counts {
            if self.muted_at.get(&count.channel_id).is_some_and(|at| *at > asked)
                && let Some(known) = self.counted.get(&count.channel_id)
            {
                count.muted = known.muted;
            }
            // A marker already moved here (by this tab or a sibling) is not undone by an older count.
            if let Some(known) = self.counted.get(&count.channel_id)
                && known.read_up_to > count.read_up_to
            {
                count.read_up_to = known.read_up_to;
                if known.read_up_to >= count.counted_to {
                    count.unread = 0;
                    count.mentions = 0;
                }
            }
            counted.insert(count.channel_id, count);
        }
        self.counted = counted;
        let counted = &self.counted;
        self.heard.retain(|channel, heard| {
            let Some(count) = counted.get(channel) else {
                return false;
            };
            heard.retain(|h| h.position > count.counted_to.max(count.read_up_to));
            !heard.is_empty()
        });
    }

    /// A message by someone else arrived live in `channel`.
    pub fn heard(&mut self, channel: ChannelId, position: Position, mention: bool) {
        let count = self
            .counted
            .entry(channel)
            .or_insert_with(|| ChannelUnread::none(channel));
        if position <= count.counted_to.max(count.read_up_to) {
            return;
        }
        let heard = self.heard.entry(channel).or_default();
        if heard.iter().any(|h| h.position == position) {
            return;
        }
        heard.push(Heard { position, mention });
        if heard.len() > MAX_HEARD {
            heard.remove(0);
        }
    }

    /// The user has read `channel` up to `position` (here, in another tab, or elsewhere).
    pub fn read(&mut self, channel: ChannelId, position: Position) {
        let count = self
            .counted
            .entry(channel)
            .or_insert_with(|| ChannelUnread::none(channel));
        if position <= count.read_up_to {
            return;
        }
        count.read_up_to = position;
        // What the server counted lies at or below `counted_to`; which of it was read is
        // unknown for a marker below it, and the next count says. Read past it: all read.
        if position >= count.counted_to {
            count.unread = 0;
            count.mentions = 0;
        }
        if let Some(heard) = self.heard.get_mut(&channel) {
            heard.retain(|h| h.position > position);
        }
    }

    pub fn set_muted(&mut self, channel: ChannelId, muted: bool) {
        self.mutes_set += 1;
        self.muted_at.insert(channel, self.mutes_set);
        self.counted
            .entry(channel)
            .or_insert_with(|| ChannelUnread::none(channel))
            .muted = muted;
    }

    pub fn muted(&self, channel: ChannelId) -> bool {
        self.counted.get(&channel).is_some_and(|c| c.muted)
    }

    pub fn read_up_to(&self, channel: ChannelId) -> Option<Position> {
        self.counted.get(&channel).map(|c| c.read_up_to)
    }

    /// Unread messages and mentions in `channel`.
    pub fn of(&self, channel: ChannelId) -> (u32, u32) {
        let Some(count) = self.counted.get(&channel) else {
            return (0, 0);
        };
        let heard = self.heard.get(&channel).map_or(&[][..], Vec::as_slice);
        let live = heard.len() as u32;
        let live_mentions = heard.iter().filter(|h| h.mention).count() as u32;
        (count.unread + live, count.mentions + live_mentions)
    }

    /// Unread messages and mentions over every channel not muted (mentions count even
    /// in muted channels: someone asked for you by name).
    pub fn total(&self) -> (u32, u32) {
        self.counted.keys().fold((0, 0), |(unread, mentions), channel| {
            let (u, m) = self.of(*channel);
            let u = if self.muted(*channel) { 0 } else { u };
            (unread + u, mentions + m)
        })
    }
}

/// The page title: the total unread count first, so a tab strip shows it.
pub fn title(unread: u32, mentions: u32, place: &str) -> String {
    match (unread, mentions) {
        (0, 0) => format!("{place} · Parley"),
        (u, 0) => format!("({u}) {place} · Parley"),
        (u, m) => format!("({u}) @{m} {place} · Parley"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(channel: ChannelId, read: u64, unread: u32, mentions: u32, counted_to: u64) -> ChannelUnread {
        ChannelUnread {
            channel_id: channel,
            read_up_to: Position(read),
            unread,
            mentions,
            counted_to: Position(counted_to),
            muted: false,
        }
    }

    #[test]
    fn a_marker_only_moves_forward_and_never_past_the_head() {
        assert_eq!(decide_read(None, Position(5), Position(9)), Some(Position(5)));
        assert_eq!(decide_read(Some(Position(5)), Position(5), Position(9)), None);
        assert_eq!(decide_read(Some(Position(7)), Position(5), Position(9)), None);
        assert_eq!(
            decide_read(Some(Position(5)), Position(50), Position(9)),
            Some(Position(9))
        );
        assert_eq!(decide_read(None, Position::ZERO, Position(9)), None);
    }

    #[test]
    fn live_messages_count_on_top_of_the_servers_count_once() {
        let c = ChannelId::new();
        let mut u = Unreads::default();
        u.replace(vec![count(c, 3, 2, 1, 10)]);
        u.heard(c, Position(9), true); // already counted by the server
        u.heard(c, Position(11), false);
        u.heard(c, Position(11), false); // twice: once
        u.heard(c, Position(12), true);
        assert_eq!(u.of(c), (4, 2));
        // The next count covers them: they are not counted twice.
        u.replace(vec![count(c, 3, 4, 2, 12)]);
        assert_eq!(u.of(c), (4, 2));
    }

    #[test]
    fn reading_clears_what_lies_below_the_marker() {
        let c = ChannelId::new();
        let mut u = Unreads::default();
        u.replace(vec![count(c, 3, 2, 1, 10)]);
        u.heard(c, Position(11), true);
        u.heard(c, Position(12), false);
        u.read(c, Position(11));
        assert_eq!(u.of(c), (1, 0));
        u.read(c, Position(5)); // backwards: nothing changes
        assert_eq!(u.read_up_to(c), Some(Position(11)));
        u.read(c, Position(12));
        assert_eq!(u.of(c), (0, 0));
    }

    #[test]
    fn an_older_count_does_not_undo_a_read() {
        let c = ChannelId::new();
        let mut u = Unreads::default();
        u.replace(vec![count(c, 3, 2, 0, 10)]);
        u.read(c, Position(10));
        // A count fetched before the marker moved arrives late.
        u.replace(vec![count(c, 3, 2, 0, 10)]);
        assert_eq!(u.of(c), (0, 0));
        assert_eq!(u.read_up_to(c), Some(Position(10)));
    }

    #[test]
    fn muted_channels_stay_out_of_the_total_but_mentions_do_not() {
        let (a, b) = (ChannelId::new(), ChannelId::new());
        let mut u = Unreads::default();
        u.replace(vec![count(a, 0, 3, 1, 10), count(b, 0, 5, 0, 10)]);
        assert_eq!(u.total(), (8, 1));
        u.set_muted(a, true);
        assert_eq!(u.total(), (5, 1));
        assert!(u.muted(a));
    }

    #[test]
    fn a_channel_not_counted_yet_counts_what_it_hears() {
        let mut u = Unreads::default();
        let c = ChannelId::new();
        assert_eq!(u.read_up_to(c), None);
        u.heard(c, Position(3), true);
        assert_eq!(u.of(c), (1, 1));
        assert_eq!(u.total(), (1, 1));
        // The first count covers it.
        u.replace(vec![count(c, 0, 1, 1, 3)]);
        assert_eq!(u.of(c), (1, 1));
    }

    #[test]
    fn the_title_leads_with_the_total() {
        assert_eq!(title(0, 0, "#general"), "#general · Parley");
        assert_eq!(title(3, 0, "#general"), "(3) #general · Parley");
        assert_eq!(title(3, 1, "#general"), "(3) @1 #general · Parley");
    }

    #[test]
    fn a_count_asked_for_before_a_mute_does_not_undo_it() {
        let c = ChannelId::new();
        let mut u = Unreads::default();
        u.replace(vec![count(c, 0, 1, 0, 3)]);
        let asked = u.asked();
        // Muted here while the count was on its way; the count says "not muted".
        u.set_muted(c, true);
        u.replace_asked_at(vec![count(c, 0, 1, 0, 3)], asked);
        assert!(u.muted(c));
        // A count asked for after the mute has the last word.
        let asked = u.asked();
        u.replace_asked_at(vec![count(c, 0, 1, 0, 3)], asked);
        assert!(!u.muted(c));
    }
}
