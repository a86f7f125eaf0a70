//! Value types the events and the aggregates share: usernames, passwords and their hashes, space ids and roles, what kind a channel is.

use crate::error::CredentialError;
use crate::ids::{StreamId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// A username: 3 to 32 characters of `a-z 0-9 . - _`, case-folded, so `Ada` and `ada` are one account.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, CredentialError> {
        let name = raw.trim().to_ascii_lowercase();
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_');
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&name.len()) || !name.chars().all(allowed) {
            return Err(CredentialError::BadUsername {
                min: Self::MIN_CHARS,
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stream that holds this account's events.
    pub fn stream(&self) -> StreamId {
        StreamId(format!("account-{}", self.0))
    }
}

impl TryFrom<String> for Username {
    type Error = CredentialError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password as typed: long enough to resist guessing, short enough that hashing it
/// cannot be used to tie up the server. Never printed, not even by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 256;

    /// Checks a new password. Passwords are taken as typed: spaces count.
    pub fn parse(raw: &str) -> Result<Self, CredentialError> {
        let len = raw.chars().count();
        if len < Self::MIN_CHARS {
            return Err(CredentialError::PasswordTooShort { min: Self::MIN_CHARS });
        }
        if len > Self::MAX_CHARS {
            return Err(CredentialError::PasswordTooLong { max: Self::MAX_CHARS });
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A password hash in PHC string form (argon2id), made by the server. Never printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(pub String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// Whose a bot is: the space it was made in (the only one it joins) and the admin who made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotOf {
    pub space_id: SpaceId,
    pub made_by: crate::ids::UserId,
}

/// A space. Each space is one stream of the event store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SpaceId(pub Uuid);

impl SpaceId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn stream(self) -> StreamId {
        StreamId(format!("space-{}", self.0))
    }
}

impl Default for SpaceId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for SpaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for SpaceId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// What a member may do, by rank: an admin can do all a moderator can, and more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Moderator,
    Admin,
}

impl Role {
    /// The role's name, as read models store it and the UI shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    /// Reads a role back from [`Role::as_str`].
    pub fn parse(name: &str) -> Option<Role> {
        [Role::Member, Role::Moderator, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == name)
    }
}

/// Who may do something a space's admins decide on: every member, or moderators and admins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    #[default]
    Members,
    Moderators,
}

impl Who {
    /// The read models' column.
    pub fn as_str(self) -> &'static str {
        match self {
            Who::Members => "members",
            Who::Moderators => "moderators",
        }
    }

    pub fn parse(column: &str) -> Option<Who> {
        [Who::Members, Who::Moderators]
            .into_iter()
            .find(|w| w.as_str() == column)
    }

    pub fn admits(self, role: Role) -> bool {
        match self {
            Who::Members => true,
            Who::Moderators => role >= Role::Moderator,
        }
    }
}

/// What a space's admins decided about who may do what in its channels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SpaceSettings {
    /// Who may pin and unpin messages.
    #[serde(default)]
    pub pins: Who,
    /// Who may change a channel's topic and description.
    #[serde(default)]
    pub topics: Who,
}

crate::tagged_enum! {
    #[serde(tag = "type", rename_all = "snake_case")]
    /// What a channel is, fixed when it is created.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub enum ChannelKind {
        /// The instance-wide lobby (`#general`): every account may read and post.
        Lobby,
        /// A channel of a space: the space's members may read and post.
        Space { space_id: SpaceId },
        /// A direct conversation: only these people may read and post.
        Direct { members: Vec<UserId> },
    }
}

impl ChannelKind {
    /// A space's channel, or the lobby when there is no space.
    pub fn of_space(space_id: Option<SpaceId>) -> Self {
        space_id.map_or(Self::Lobby, |space_id| Self::Space { space_id })
    }

    pub fn space_id(&self) -> Option<SpaceId> {
        match self {
            Self::Space { space_id } => Some(*space_id),
            _ => None,
        }
    }

    pub fn members(&self) -> Option<&[UserId]> {
        match self {
            Self::Direct { members } => Some(members),
            _ => None,
        }
    }
}
