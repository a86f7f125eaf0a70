//! What the browser's history cache keeps: the newest messages of the channels opened most recently, within a budget; the rest goes (the outbox and drafts are not part of it and are never evicted).

use crate::ids::ChannelId;

/// How much history a browser keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Channels whose history is kept: the most recently opened.
    pub channels: usize,
    /// Messages kept per channel: the newest.
    pub messages_per_channel: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            channels: 20,
            messages_per_channel: 500,
        }
    }
}

/// One channel's cached history, as the store holds it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cached {
    pub channel: ChannelId,
    /// When it was last opened (ms); 0 for never.
    pub opened_ms: f64,
    pub messages: usize,
}

/// What to take out of the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    /// The channel's whole history and its cursor: it is opened afresh from the server.
    Drop(ChannelId),
    /// The oldest of its messages, down to this many.
    KeepNewest(ChannelId, usize),
}

/// The trims that bring `cached` within `budget`: channels beyond the most recently opened
/// `budget.channels` go whole (never `open`, the one on screen), and the others keep their
/// newest `budget.messages_per_channel` messages.
pub fn trims(cached: &[Cached], budget: Budget, open: Option<ChannelId>) -> Vec<Trim> {
    let mut by_recency: Vec<&Cached> = cached.iter().collect();
    by_recency.sort_by(|a, b| {
        let open_first = (Some(b.channel) == open).cmp(&(Some(a.channel) == open));
        open_first.then(b.opened_ms.total_cmp(&a.opened_ms))
    });
    by_recency
        .into_iter()
        .enumerate()
        .filter_map(|(rank, c)| {
            if rank >= budget.channels.max(1) && Some(c.channel) != open {
                Some(Trim::Drop(c.channel))
            } else if c.messages > budget.messages_per_channel {
                Some(Trim::KeepNewest(c.channel, budget.messages_per_channel))
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_opened_go_whole_and_the_rest_keep_their_newest() {
        let [a, b, c] = [ChannelId::new(), ChannelId::new(), ChannelId::new()];
        let cached = [
            Cached {
                channel: a,
                opened_ms: 30.0,
                messages: 10,
            },
            Cached {
                channel: b,
                opened_ms: 10.0,
                messages: 10,
            },
            Cached {
                channel: c,
                opened_ms: 20.0,
                messages: 900,
            },
        ];
        let budget = Budget {
            channels: 2,
            messages_per_channel: 500,
        };
        assert_eq!(trims(&cached, budget, None), [Trim::KeepNewest(c, 500), Trim::Drop(b)]);
        // The channel on screen is never dropped, however long ago it was opened.
        assert_eq!(trims(&cached, budget, Some(b)), [Trim::Drop(c)]);
        assert!(trims(&cached, Budget::default(), None) == [Trim::KeepNewest(c, 500)]);
        assert!(trims(&[], budget, None).is_empty());
    }
}
