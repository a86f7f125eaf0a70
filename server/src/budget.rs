//! One budget per user for every write: of each kind, a burst then a steady rate, so no write is free to repeat without end.
//!
//! Posts have their own, configurable limit (`PARLEY_POST_RATE`, in `auth::PostLimiter`);
//! everything else a user can make the server store or do is counted here, with limits
//! that follow what it costs: a reaction is cheap and frequent, a space or a webhook is
//! neither. Keyed by account, so many tabs, sockets and tokens of one user share it.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use parley::UserId;
use std::num::NonZeroU32;
use std::time::Duration;

/// The kinds of write, each with its own budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Write {
    /// Edits, deletions and reactions.
    Change,
    /// New spaces.
    Space,
    /// Space administration: channels, invites, roles, removals, renames.
    SpaceAction,
    /// Webhooks made, deleted, retried or replayed.
    Webhook,
    /// Files uploaded.
    Upload,
    /// Conversations opened (each also tells whether a username exists).
    Direct,
    /// API tokens made.
    Token,
}

impl Write {
    const ALL: [Write; 7] = [
        Write::Change,
        Write::Space,
        Write::SpaceAction,
        Write::Webhook,
        Write::Upload,
        Write::Direct,
        Write::Token,
    ];

    /// A burst, then one more every so often.
    fn limit(self) -> (u32, Duration) {
        match self {
            Write::Change => (60, Duration::from_millis(200)),
            Write::Space => (5, Duration::from_secs(60)),
            Write::SpaceAction => (30, Duration::from_secs(2)),
            Write::Webhook => (10, Duration::from_secs(30)),
            Write::Upload => (30, Duration::from_secs(2)),
            Write::Direct => (30, Duration::from_secs(2)),
            Write::Token => (10, Duration::from_secs(60)),
        }
    }

    /// What the refusal calls it.
    pub fn name(self) -> &'static str {
        match self {
            Write::Change => "edits, deletions and reactions",
            Write::Space => "new spaces",
            Write::SpaceAction => "changes to spaces",
            Write::Webhook => "webhook changes",
            Write::Upload => "uploads",
            Write::Direct => "new conversations",
            Write::Token => "new API tokens",
        }
    }
}

/// Every user's budgets (none when turned off, for tests that write a lot as one user).
pub struct WriteBudget(Option<Vec<(Write, DefaultKeyedRateLimiter<UserId>)>>);

impl WriteBudget {
    pub fn new(on: bool) -> Self {
        if !on {
            return Self(None);
        }
        let limiters = Write::ALL
            .into_iter()
            .filter_map(|write| {
                let (burst, every) = write.limit();
                let quota = Quota::with_period(every)?.allow_burst(NonZeroU32::new(burst)?);
                Some((write, RateLimiter::keyed(quota)))
            })
            .collect();
        Self(Some(limiters))
    }

    /// Counts one write of `user`'s; `Err(seconds to wait)` when over its budget.
    pub fn spend(&self, user: UserId, write: Write) -> Result<(), u64> {
        let Some(limiters) = &self.0 else { return Ok(()) };
        let Some((_, limiter)) = limiters.iter().find(|(w, _)| *w == write) else {
            return Ok(());
        };
        let spent = limiter.check_key(&user).map_err(|not_until| {
            let clock = governor::clock::DefaultClock::default();
            not_until.wait_time_from(governor::clock::Clock::now(&clock)).as_secs() + 1
        });
        if limiter.len() > 100_000 {
            limiter.retain_recent();
        }
        spent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_own_budget_per_user() {
        let budget = WriteBudget::new(true);
        let (ada, bob) = (UserId::new(), UserId::new());
        for _ in 0..5 {
            assert_eq!(budget.spend(ada, Write::Space), Ok(()));
        }
        let wait = budget.spend(ada, Write::Space);
        assert!(matches!(wait, Err(secs) if (1..=61).contains(&secs)), "{wait:?}");
        assert_eq!(budget.spend(ada, Write::Change), Ok(()), "another kind");
        assert_eq!(budget.spend(bob, Write::Space), Ok(()), "another user");
        let off = WriteBudget::new(false);
        for _ in 0..100 {
            assert_eq!(off.spend(ada, Write::Space), Ok(()));
        }
    }
}
