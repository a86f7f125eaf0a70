//! Followed threads: who follows a thread (posting in it, being mentioned in it, having started it, or by hand), and what the app counts of them: the replies not read yet, whatever order counts, replies heard live and read markers arrive in.

use crate::ids::{ChannelId, MessageId, Position};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The most threads the Threads view lists.
pub const MAX_LISTED: u32 = 50;

/// A followed thread as the server counts it for one person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadView {
    pub channel_id: ChannelId,
    pub channel_name: String,
    /// The thread's first message (with its reply count).
    pub root: crate::MessageView,
    /// Replies of others after `read_up_to`.
    pub unread: u32,
    pub read_up_to: Position,
    /// The newest reply's position when counted.
    pub last_reply: Position,
}

/// One followed thread, as the app keeps it: the server's count up to `counted_to`, and the
/// replies heard live since (bounded).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Followed {
    channel: ChannelId,
    read_up_to: Position,
    counted_to: Position,
    counted: u32,
    heard: Vec<Position>,
}

impl Followed {
    fn unread(&self) -> u32 {
        self.counted + self.heard.len() as u32
    }
}

/// The most live replies remembered per thread between two counts.
const MAX_HEARD: usize = 500;

/// The threads this person follows and their unread replies: the server's count, then what
/// is heard live on top (each reply once), and read markers that only move forward.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Threads {
    followed: HashMap<MessageId, Followed>,
}

impl Threads {
    /// Takes the server's list; what was read here meanwhile stays read.
    pub fn replace(&mut self, views: &[ThreadView]) {
        let mut followed = HashMap::with_capacity(views.len());
        for view in views {
            let mut entry = Followed {
                channel: view.channel_id,
                read_up_to: view.read_up_to,
                counted_to: view.last_reply.max(view.read_up_to),
                counted: view.unread,
                heard: Vec::new(),
            };
            if let Some(known) = self.followed.get(&view.root.message_id) {
                // Replies heard live that the count did not cover yet still count.
                entry.heard = known.heard.iter().copied().filter(|p| *p > entry.counted_to).collect();
                if known.read_up_to > entry.read_up_to {
                    entry.read_up_to = known.read_up_to;
                    if known.read_up_to >= entry.counted_to {
                        entry.counted = 0;
                    }
                    let read = entry.read_up_to;
                    entry.heard.retain(|p| *p > read);
                }
            }
            followed.insert(view.root.message_id, entry);
        }
        self.followed = followed;
    }

    pub fn follows(&self, root: MessageId) -> bool {
        self.followed.contains_key(&root)
    }

    /// Starts following (posting in it, or by hand): nothing unread yet.
    pub fn follow(&mut self, root: MessageId, channel: ChannelId, read_up_to: Position) {
        self.followed.entry(root).or_insert(Followed {
            channel,
            read_up_to,
            counted_to: read_up_to,
            counted: 0,
            heard: Vec::new(),
        });
    }

    pub fn unfollow(&mut self, root: MessageId) {
        self.followed.remove(&root);
    }

    /// A reply of someone else's heard live: counted once, if the thread is followed and the
    /// reply is past what was counted and read. Returns whether it counted.
    pub fn heard(&mut self, root: MessageId, position: Position) -> bool {
        let Some(entry) = self.followed.get_mut(&root) else {
            return false;
        };
        if position <= entry.counted_to || position <= entry.read_up_to || entry.heard.contains(&position) {
            return false;
        }
        if entry.heard.len() >= MAX_HEARD {
            entry.heard.remove(0);
        }
        entry.heard.push(position);
        true
    }

    /// Read up to `up_to` (opened, here or in another tab): a marker only moves forward.
    pub fn read(&mut self, root: MessageId, up_to: Position) {
        if let Some(entry) = self.followed.get_mut(&root)
            && up_to > entry.read_up_to
        {
            entry.read_up_to = up_to;
            if up_to >= entry.counted_to {
                entry.counted = 0;
            }
            entry.heard.retain(|p| *p > up_to);
        }
    }

    pub fn unread(&self, root: MessageId) -> u32 {
        self.followed.get(&root).map_or(0, Followed::unread)
    }

    /// Unread replies in all followed threads.
    pub fn total(&self) -> u32 {
        self.followed.values().map(Followed::unread).sum()
    }

    /// The channel a followed thread is in.
    pub fn channel_of(&self, root: MessageId) -> Option<ChannelId> {
        self.followed.get(&root).map(|e| e.channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn view(root: MessageId, channel: ChannelId, read: u64, last: u64, unread: u32) -> ThreadView {
        ThreadView {
            channel_id: channel,
            channel_name: "x".into(),
            root: crate::MessageView::posted(Position(1), root, channel, "ada".into(), "q".into(), 0),
            unread,
            read_up_to: Position(read),
            last_reply: Position(last),
        }
    }

    #[test]
    fn replies_count_once_and_reading_clears_them() {
        let (root, channel) = (MessageId::new(), ChannelId::new());
        let mut threads = Threads::default();
        threads.replace(&[view(root, channel, 10, 12, 2)]);
        assert_eq!(threads.total(), 2);
        assert!(!threads.heard(root, Position(12)), "already counted");
        assert!(threads.heard(root, Position(14)));
        assert!(!threads.heard(root, Position(14)), "twice is once");
        assert!(!threads.heard(MessageId::new(), Position(20)), "not followed");
        assert_eq!(threads.unread(root), 3);
        threads.read(root, Position(14));
        assert_eq!(threads.total(), 0);
        // An older count from the server does not bring read replies back.
        threads.replace(&[view(root, channel, 10, 14, 3)]);
        assert_eq!(threads.total(), 0);
        threads.unfollow(root);
        assert!(!threads.follows(root));
    }

    proptest! {
        /// Whatever order live replies and markers arrive in (each reply possibly twice),
        /// the unread count is the replies past the highest marker.
        #[test]
        fn the_count_is_the_replies_past_the_highest_marker(
            steps in proptest::collection::vec((1u64..40, any::<bool>(), any::<bool>()), 0..60)
        ) {
            let (root, channel) = (MessageId::new(), ChannelId::new());
            let mut threads = Threads::default();
            threads.follow(root, channel, Position::ZERO);
            let mut heard = std::collections::BTreeSet::new();
            let mut marker = 0u64;
            for (position, is_read, twice) in steps {
                if is_read {
                    threads.read(root, Position(position));
                    marker = marker.max(position);
                } else {
                    // Replies come in log order; an older one is a resend.
                    let newest = heard.iter().next_back().copied().unwrap_or(0).max(marker);
                    let position = newest + position % 3 + 1;
                    threads.heard(root, Position(position));
                    if twice {
                        threads.heard(root, Position(position));
                    }
                    heard.insert(position);
                }
            }
            let expected = heard.iter().filter(|p| **p > marker).count() as u32;
            prop_assert_eq!(threads.unread(root), expected);
        }
    }
}
