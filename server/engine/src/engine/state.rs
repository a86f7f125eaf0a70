//! What a node decides from (aggregate caches, granted admins, bots, ended sessions, lost access, limits), brought up to date from the log it tails, the same way on every node.
//!
//! The bus hands every committed event to [`LogState::follow`] in log order, whether this
//! node or another wrote it; nothing here is changed any other way. A node that must decide
//! on the log as it stands (PostgreSQL, several writers) first waits until its bus has
//! passed the log's head: see [`super::Engine::synced`].

use crate::engine::budget::Limits;
use crate::engine::folded::Folded;
use crate::log::bus::Follower;
use parley::account::AccountState;
use parley::aggregate::StreamOf;
use parley::space::{SpaceId, SpaceState};
use parley::{ChannelId, ChannelState, Event, RecordedEvent, UserId, Username};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::RwLock;
use tokio::sync::broadcast;

/// Someone can no longer read a space's channels (`space`), or may no longer read one
/// channel (`channel`: taken out of a private channel, or it was deleted): one person
/// (`user`), or everyone (`None`). A channel's notice is checked again by who receives it
/// (leaving a public channel takes nothing away).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessLost {
    pub space: Option<SpaceId>,
    pub channel: Option<parley::ChannelId>,
    pub user: Option<UserId>,
}

/// The accounts that are bots and the space each belongs to, as the log says: shared with
/// the hub, which marks their profiles as bots' and sends them to that space only.
pub type Bots = Arc<RwLock<std::collections::HashMap<UserId, SpaceId>>>;

pub struct LogState {
    /// The post limit and write budgets, which count what other nodes wrote too.
    limits: Arc<Limits>,
    /// Channel states folded from their streams, so `decide` need not replay them.
    pub channels: Folded<ChannelId, ChannelState>,
    /// Account states (with their password hashes), folded from their streams.
    pub accounts: Folded<Username, AccountState>,
    /// Space states (members, roles, invites), folded from their streams.
    pub spaces: Folded<SpaceId, SpaceState>,
    /// Accounts made instance admins by `AdminGranted` events (and not `AdminRevoked` since).
    granted_admins: RwLock<HashSet<UserId>>,
    /// Bots' accounts (`AccountRegistered` with `bot`): asked on every post to the lobby,
    /// so a set rather than the accounts cache.
    bots: Bots,
    /// Public ids of sessions that ended: their sockets close.
    signed_out: broadcast::Sender<String>,
    /// Members who lost a space (left, removed, or the space deleted): their sockets stop
    /// following its channels at once.
    access_lost: broadcast::Sender<AccessLost>,
}

impl LogState {
    /// A state to follow the log with, counting what other nodes wrote against `limits`.
    pub fn new(limits: Arc<Limits>) -> Self {
        Self {
            limits,
            channels: Folded::default(),
            accounts: Folded::default(),
            spaces: Folded::default(),
            granted_admins: RwLock::default(),
            bots: Bots::default(),
            signed_out: broadcast::channel(1024).0,
            access_lost: broadcast::channel(1024).0,
        }
    }
}

impl LogState {
    /// Records admins granted before this node followed the log (read from the read model).
    pub fn grant_admins(&self, users: impl IntoIterator<Item = UserId>) {
        self.granted_admins
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(users);
    }

    pub fn is_granted_admin(&self, user: UserId) -> bool {
        self.granted_admins
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(&user)
    }

    /// Records bots registered before this node followed the log (read from the read model).
    pub fn add_bots(&self, users: impl IntoIterator<Item = (UserId, SpaceId)>) {
        self.bots
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(users);
    }

    /// The bots' set itself, for those that follow it beside this state (the hub).
    pub fn bots(&self) -> Bots {
        self.bots.clone()
    }

    /// Whether `user` is a bot's account.
    pub fn is_bot(&self, user: UserId) -> bool {
        self.bots
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains_key(&user)
    }

    pub fn access_lost(&self) -> broadcast::Receiver<AccessLost> {
        self.access_lost.subscribe()
    }

    pub fn signed_out(&self) -> broadcast::Receiver<String> {
        self.signed_out.subscribe()
    }
}

impl Follower for LogState {
    fn follow(&self, recorded: &RecordedEvent) {
        let (event, version) = (&recorded.event, recorded.stream_version);
        self.limits.follow(event, &recorded.metadata);
        match StreamOf::of(&recorded.stream_id) {
            StreamOf::Channel(channel) => self.channels.follow(&channel, event, version),
            StreamOf::Space(space) => self.spaces.follow(&space, event, version),
            StreamOf::Account(name) => self.accounts.follow(&name, event, version),
            StreamOf::Other => {}
        }
        match event {
            Event::MemberLeft { space_id, user_id } | Event::MemberRemoved { space_id, user_id } => {
                let _ = self.access_lost.send(AccessLost {
                    space: Some(*space_id),
                    channel: None,
                    user: Some(*user_id),
                });
            }
            Event::SpaceDeleted { space_id } => {
                let _ = self.access_lost.send(AccessLost {
                    space: Some(*space_id),
                    channel: None,
                    user: None,
                });
            }
            Event::ChannelLeft {
                channel_id, user_id, ..
            } => {
                let _ = self.access_lost.send(AccessLost {
                    space: None,
                    channel: Some(*channel_id),
                    user: Some(*user_id),
                });
            }
            Event::ChannelDeleted { channel_id } => {
                let _ = self.access_lost.send(AccessLost {
                    space: None,
                    channel: Some(*channel_id),
                    user: None,
                });
            }
            Event::AdminGranted { user_id, .. } => self.grant_admins([*user_id]),
            Event::AccountRegistered {
                user_id,
                bot: Some(bot),
                ..
            } => self.add_bots([(*user_id, bot.space_id)]),
            Event::AdminRevoked { user_id, .. } => {
                self.granted_admins
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .remove(user_id);
            }
            Event::SessionsEnded { sessions, .. } => {
                for session in sessions {
                    let _ = self.signed_out.send(session.clone());
                }
            }
            _ => {}
        }
    }
}
