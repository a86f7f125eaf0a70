//! Drafts: the composer's unsent text per channel and per thread, kept in the browser and shared by its tabs; which copy wins when they disagree, and how many are kept.

use crate::ids::{ChannelId, MessageId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Drafts a browser keeps (with the blanks that mark a sent or emptied one): beyond this,
/// the least recently written go.
pub const MAX_DRAFTS: usize = 200;

/// Where a draft belongs: a channel's composer, or a thread's.
pub fn key(channel: ChannelId, thread: Option<MessageId>) -> String {
    match thread {
        Some(root) => format!("thread:{root}"),
        None => format!("channel:{channel}"),
    }
}

/// One composer's unsent text as written at `updated_ms`. An empty text is a draft sent or
/// emptied: it is kept (in memory) so that an older copy heard late does not bring it back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub key: String,
    pub text: String,
    pub updated_ms: i64,
}

impl Draft {
    /// Whether this copy wins over `other` of the same key: the later one, and between two
    /// written in the same millisecond the greater text, so every tab picks the same.
    fn beats(&self, other: &Draft) -> bool {
        (self.updated_ms, &self.text) > (other.updated_ms, &other.text)
    }
}

/// The drafts a tab knows, from its own typing, its siblings' notes and the browser's store.
/// Whatever order the copies arrive in, every tab ends with the same drafts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drafts {
    by_key: HashMap<String, Draft>,
}

impl Drafts {
    /// The unsent text of `key` (empty when none).
    pub fn text(&self, key: &str) -> &str {
        self.by_key.get(key).map(|d| d.text.as_str()).unwrap_or_default()
    }

    /// Whether `key` has unsent text.
    pub fn has(&self, key: &str) -> bool {
        !self.text(key).trim().is_empty()
    }

    /// Takes a copy if it is newer than the one held; returns whether it was taken. When
    /// more than [`MAX_DRAFTS`] are held, the least recently written go.
    pub fn apply(&mut self, draft: Draft) -> bool {
        if self.by_key.get(&draft.key).is_some_and(|held| !draft.beats(held)) {
            return false;
        }
        self.by_key.insert(draft.key.clone(), draft);
        while self.by_key.len() > MAX_DRAFTS {
            let oldest = self
                .by_key
                .values()
                .min_by(|a, b| (a.updated_ms, &a.key).cmp(&(b.updated_ms, &b.key)))
                .map(|d| d.key.clone());
            match oldest {
                Some(key) => self.by_key.remove(&key),
                None => break,
            };
        }
        true
    }

    /// Text written here, now: the copy to store and to tell the other tabs (written at
    /// least a millisecond after the one held, so that it wins even on a slow clock).
    pub fn write(&mut self, key: String, text: String, now_ms: i64) -> Draft {
        let after = self
            .by_key
            .get(&key)
            .map_or(i64::MIN, |held| held.updated_ms.saturating_add(1));
        let draft = Draft {
            key,
            text,
            updated_ms: now_ms.max(after),
        };
        self.apply(draft.clone());
        draft
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn draft(key: &str, text: &str, updated_ms: i64) -> Draft {
        Draft {
            key: key.into(),
            text: text.into(),
            updated_ms,
        }
    }

    #[test]
    fn channels_and_threads_have_keys_of_their_own() {
        let root = MessageId::new();
        assert_ne!(key(ChannelId::GENERAL, None), key(ChannelId::GENERAL, Some(root)));
        assert_eq!(key(ChannelId::GENERAL, Some(root)), key(ChannelId::new(), Some(root)));
    }

    #[test]
    fn the_newer_copy_wins_and_a_sent_draft_stays_sent() {
        let mut drafts = Drafts::default();
        assert!(drafts.apply(draft("a", "hello", 10)));
        assert!(!drafts.apply(draft("a", "hel", 5)), "an older copy heard late");
        assert_eq!(drafts.text("a"), "hello");
        let sent = drafts.write("a".into(), String::new(), 3);
        assert!(
            sent.updated_ms > 10,
            "written after what it replaces, even on a slow clock"
        );
        assert!(!drafts.has("a"));
        assert!(
            !drafts.apply(draft("a", "hello", 10)),
            "the sent text does not come back"
        );
        assert!(!drafts.has("nothing here"));
    }

    #[test]
    fn the_least_recently_written_go_first() {
        let mut drafts = Drafts::default();
        for i in 0..=MAX_DRAFTS as i64 {
            drafts.apply(draft(&format!("k{i}"), "x", 1000 + i));
        }
        assert!(!drafts.has("k0"));
        assert!(drafts.has("k1"));
        assert!(drafts.has(&format!("k{MAX_DRAFTS}")));
    }

    proptest! {
        #[test]
        fn tabs_that_hear_the_same_copies_in_any_order_agree(
            copies in prop::collection::vec((0u8..3, "[ab]{0,2}", 0i64..5), 0..12),
            seed in any::<u64>(),
        ) {
            let copies: Vec<Draft> = copies
                .into_iter()
                .map(|(k, text, at)| draft(&format!("k{k}"), &text, at))
                .collect();
            let mut shuffled = copies.clone();
            // A deterministic shuffle from the seed.
            let mut state = seed;
            for i in (1..shuffled.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (state >> 33) as usize % (i + 1));
            }
            let (mut one, mut other) = (Drafts::default(), Drafts::default());
            copies.into_iter().for_each(|d| { one.apply(d); });
            shuffled.into_iter().for_each(|d| { other.apply(d); });
            prop_assert_eq!(one, other);
        }
    }
}
