//! One budget per user for every write: of each kind, a burst then a steady rate, so no write is free to repeat without end.
//!
//! Posts have their own, configurable limit (`PARLEY_POST_RATE`, in `auth::PostLimiter`);
//! everything else a user can make the server store or do is counted here, with limits
//! that follow what it costs: a reaction is cheap and frequent, a space or a webhook is
//! neither. Keyed by account, so many tabs, sockets and tokens of one user share it.
//!
//! With several nodes the budgets hold cluster-wide: each node spends a user's budget for
//! what it is asked to write, and, following the log, for what other nodes wrote for that
//! user ([`Limits::follow`]); what this node wrote itself is not counted twice. A user who
//! writes through several nodes at once can overshoot by what is in flight during the
//! tail's lag (milliseconds), no more.

use crate::auth::PostLimiter;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use parley::{CorrelationId, Event, MessageId, UserId};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

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
    /// Profiles saved (each goes out to everyone who shares a space with the person).
    Profile,
    /// Archives of one's own data made (each reads all of it).
    Export,
    /// Authenticator apps enrolled (each makes a secret and draws a QR code).
    SecondFactor,
    /// Custom slash commands run (each is a request to the command's URL).
    Command,
}

impl Write {
    const ALL: [Write; 11] = [
        Write::Change,
        Write::Space,
        Write::SpaceAction,
        Write::Webhook,
        Write::Upload,
        Write::Direct,
        Write::Token,
        Write::Profile,
        Write::Export,
        Write::SecondFactor,
        Write::Command,
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
            Write::Profile => (10, Duration::from_secs(10)),
            Write::Export => (3, Duration::from_secs(600)),
            Write::SecondFactor => (5, Duration::from_secs(60)),
            Write::Command => (20, Duration::from_secs(2)),
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
            Write::Profile => "profile changes",
            Write::Export => "data exports",
            Write::SecondFactor => "two-factor set-ups",
            Write::Command => "slash commands",
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

impl WriteBudget {
    /// Spends one write that another node already made (it was within that node's budget).
    fn charge(&self, user: UserId, write: Write) {
        let _ = self.spend(user, write);
    }
}

/// Which budget a stored event spent, counted once per command (its first event).
pub fn write_of(event: &Event) -> Option<Write> {
    Some(match event {
        Event::MessageEdited { .. }
        | Event::MessageDeleted { .. }
        | Event::ReactionAdded { .. }
        | Event::ReactionRemoved { .. }
        | Event::MessagePinned { .. }
        | Event::MessageSaved { .. }
        | Event::ThreadFollowed { .. } => Write::Change,
        Event::SpaceCreated { .. } => Write::Space,
        Event::SpaceRenamed { .. }
        | Event::SpaceDeleted { .. }
        | Event::InviteCreated { .. }
        | Event::InviteRevoked { .. }
        | Event::MemberJoined { .. }
        | Event::MemberLeft { .. }
        | Event::MemberRemoved { .. }
        | Event::RoleChanged { .. }
        | Event::ChannelRenamed { .. }
        | Event::ChannelJoined { .. }
        | Event::ChannelLeft { .. }
        | Event::ChannelDeleted { .. }
        | Event::TopicChanged { .. }
        | Event::SpaceConfigured { .. }
        | Event::ChannelArchived { .. } => Write::SpaceAction,
        Event::WebhookCreated { .. } | Event::WebhookDeleted { .. } | Event::WebhookPaused { .. } => Write::Webhook,
        Event::ProfileChanged { .. } => Write::Profile,
        Event::ChannelCreated {
            kind: parley::ChannelKind::Direct { .. },
            ..
        } => Write::Direct,
        _ => return None,
    })
}

/// Keys this node used for its own writes lately, so that following them in the log does
/// not count them a second time. A key is taken when its write is followed; one whose write
/// never came (refused after the count, or a resend stored once) goes after a minute.
struct Recent<K>(Mutex<RecentKeys<K>>);

struct RecentKeys<K> {
    keys: HashMap<K, Instant>,
    /// The size at which the old keys are swept out next (doubling, so sweeps stay rare).
    sweep_at: usize,
}

const SWEEP_AT_LEAST: usize = 10_000;

impl<K> Default for Recent<K> {
    fn default() -> Self {
        Self(Mutex::new(RecentKeys {
            keys: HashMap::new(),
            sweep_at: SWEEP_AT_LEAST,
        }))
    }
}

impl<K: std::hash::Hash + Eq> Recent<K> {
    fn insert(&self, key: K) {
        let mut recent = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if recent.keys.len() >= recent.sweep_at {
            let old = Instant::now().checked_sub(Duration::from_secs(60));
            recent.keys.retain(|_, at| old.is_none_or(|old| *at > old));
            recent.sweep_at = (recent.keys.len() * 2).max(SWEEP_AT_LEAST);
        }
        recent.keys.insert(key, Instant::now());
    }

    fn take(&self, key: &K) -> bool {
        let mut recent = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        recent.keys.remove(key).is_some()
    }
}

/// The post limit and the write budgets of every user, kept cluster-wide by following the log.
pub struct Limits {
    posts: RwLock<Arc<PostLimiter>>,
    writes: RwLock<Arc<WriteBudget>>,
    /// Posts this node stored (by message id) and commands it ran (by correlation id).
    my_posts: Recent<MessageId>,
    my_commands: Recent<CorrelationId>,
    /// The command whose first event was counted (its other events are not).
    counted: Mutex<Option<CorrelationId>>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            posts: RwLock::new(Arc::new(PostLimiter::new(0, 0))),
            writes: RwLock::new(Arc::new(WriteBudget::new(false))),
            my_posts: Recent::default(),
            my_commands: Recent::default(),
            counted: Mutex::new(None),
        }
    }
}

impl Limits {
    pub fn limit_posts(&self, limiter: PostLimiter) {
        *self.posts.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(limiter);
    }

    pub fn limit_writes(&self, budget: WriteBudget) {
        *self.writes.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(budget);
    }

    fn posts(&self) -> Arc<PostLimiter> {
        self.posts
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn writes(&self) -> Arc<WriteBudget> {
        self.writes
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Counts a post this node is about to store; false when the user is over the limit.
    pub fn post(&self, user: UserId, message: MessageId) -> bool {
        let allowed = self.posts().check(user);
        if allowed {
            self.my_posts.insert(message);
        }
        allowed
    }

    /// Spends one write this node is about to make; refused with the seconds to wait.
    pub fn spend(&self, user: UserId, write: Write) -> Result<(), u64> {
        self.writes().spend(user, write)
    }

    /// Notes a command this node runs (by its correlation id): its events, when followed,
    /// were counted by [`Limits::spend`] already.
    pub fn mine(&self, command: CorrelationId) {
        self.my_commands.insert(command);
    }

    /// Counts a committed event against its author's limits, unless this node wrote it.
    pub fn follow(&self, event: &Event, metadata: &parley::EventMetadata) {
        // Posts and topic events share the post limit, known by the id they were counted under.
        let posted = match event {
            Event::MessagePosted {
                message_id,
                author_id: Some(author),
                ..
            } => Some((*message_id, *author)),
            Event::TopicPublished { by, .. } => metadata.client_message_id.map(|id| (id, *by)),
            _ => None,
        };
        if let Some((id, author)) = posted {
            if !self.my_posts.take(&id) {
                let _ = self.posts().check(author);
            }
            return;
        }
        let Some(write) = write_of(event) else { return };
        {
            let mut counted = self.counted.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if *counted == Some(metadata.correlation_id) {
                return;
            }
            *counted = Some(metadata.correlation_id);
        }
        if self.my_commands.take(&metadata.correlation_id) {
            return;
        }
        if let Ok(user) = metadata.actor.parse::<UserId>() {
            self.writes().charge(user, write);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley::{ChannelId, DisplayName, EventMetadata, MessageBody, SpaceId};

    fn posted(author: UserId, message_id: MessageId) -> Event {
        Event::MessagePosted {
            channel_id: ChannelId::GENERAL,
            message_id,
            author: DisplayName::parse("ada").expect("a valid name"),
            body: MessageBody::parse("hi").expect("a valid body"),
            author_id: Some(author),
            reply_to: None,
            also_in_channel: false,
            attachments: Vec::new(),
        }
    }

    fn by(user: UserId, correlation_id: CorrelationId) -> EventMetadata {
        EventMetadata {
            actor: user.to_string(),
            correlation_id,
            causation_id: None,
            client_message_id: None,
        }
    }

    #[test]
    fn what_other_nodes_stored_counts_and_what_this_node_stored_counts_once() {
        let limits = Limits::default();
        limits.limit_posts(PostLimiter::new(1, 2));
        limits.limit_writes(WriteBudget::new(true));
        let ada = UserId::new();
        // A post of this node's is counted when checked, not again when followed.
        let mine = MessageId::new();
        assert!(limits.post(ada, mine));
        limits.follow(&posted(ada, mine), &by(ada, CorrelationId::new()));
        // One another node stored is counted when followed: the burst of 2 is spent.
        limits.follow(&posted(ada, MessageId::new()), &by(ada, CorrelationId::new()));
        assert!(!limits.post(ada, MessageId::new()));
        // Topic events share the post limit, counted the same way.
        let bob = UserId::new();
        let published = |by| Event::TopicPublished {
            space_id: SpaceId::new(),
            topic: "deploy".into(),
            data: serde_json::json!({}),
            by,
        };
        let with_id = |id| EventMetadata {
            client_message_id: Some(id),
            ..by(bob, CorrelationId::new())
        };
        let mine = MessageId::new();
        assert!(limits.post(bob, mine));
        limits.follow(&published(bob), &with_id(mine));
        limits.follow(&published(bob), &with_id(MessageId::new()));
        assert!(
            !limits.post(bob, MessageId::new()),
            "another node's topic event was not counted"
        );

        // Spaces: 5 a minute. This node's command, followed, is not counted a second time.
        let created = |space_id| Event::SpaceCreated {
            space_id,
            name: "s".into(),
            owner: ada,
        };
        let command = CorrelationId::new();
        limits.mine(command);
        assert_eq!(limits.spend(ada, Write::Space), Ok(()));
        limits.follow(&created(SpaceId::new()), &by(ada, command));
        // Three made through other nodes count: one is left, then none.
        for _ in 0..3 {
            limits.follow(&created(SpaceId::new()), &by(ada, CorrelationId::new()));
        }
        assert_eq!(
            limits.spend(ada, Write::Space),
            Ok(()),
            "this node's own was counted twice"
        );
        assert!(
            limits.spend(ada, Write::Space).is_err(),
            "other nodes' were not counted"
        );
        // Another user is not affected.
        assert_eq!(limits.spend(UserId::new(), Write::Space), Ok(()));
    }

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
