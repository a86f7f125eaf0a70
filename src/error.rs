//! Why a command was refused: the domain's errors, each a message a user may read.

use crate::channel::{MAX_DESCRIPTION_CHARS, MAX_PINS, MAX_TOPIC_CHARS};
use crate::rules::{MAX_DISTINCT_REACTIONS, RuleError};
use crate::saved::MAX_SAVED;
use serde::{Deserialize, Serialize};

/// Why a username or password was refused. The message is meant for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum CredentialError {
    #[error("a username must be {min} to {max} characters: lowercase letters, digits, '.', '-' or '_'")]
    BadUsername { min: usize, max: usize },
    #[error("a password must be at least {min} characters")]
    PasswordTooShort { min: usize },
    #[error("a password can be at most {max} characters")]
    PasswordTooLong { max: usize },
}

/// Why a command was refused. Every variant is a message a user may read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum DomainError {
    #[error("no such channel")]
    NoSuchChannel,
    #[error("this channel already exists")]
    ChannelExists,
    #[error("a channel name must be 1 to 32 lowercase letters, digits, '-' or '_'")]
    BadChannelName,
    #[error("this channel is archived: it can be read, not written")]
    ChannelArchived,
    #[error("only a space's channels can be renamed or archived")]
    NotASpaceChannel,
    #[error("a direct conversation is between 2 and {max} people, you among them")]
    BadDirectMembers { max: usize },
    #[error("no such message")]
    NoSuchMessage,
    #[error("only its author can edit a message, and only its author or a moderator can delete it")]
    NotYourMessage,
    #[error("this message was deleted")]
    MessageWasDeleted,
    #[error("this message has {MAX_DISTINCT_REACTIONS} different reactions already; add one of those")]
    TooManyReactions,
    #[error("at most {MAX_PINS} messages can be pinned in a channel; unpin one first")]
    TooManyPins,
    #[error("you keep {MAX_SAVED} saved messages already; let go of one first")]
    TooManySaved,
    #[error("that message does not start a thread")]
    NotAThread,
    #[error("a notice of the channel cannot be changed")]
    NotAMessage,
    #[error(
        "a topic is one line of at most {MAX_TOPIC_CHARS} characters, a description at most {MAX_DESCRIPTION_CHARS}"
    )]
    BadTopic,
    #[error("no such user: {0}")]
    NoSuchUser(String),
    #[error("an admin cannot disable their own account nor revoke their own admin rights")]
    NotOnYourself,
    #[error("this username is taken")]
    UsernameTaken,
    #[error("no such space")]
    NoSuchSpace,
    #[error("this space already exists")]
    SpaceExists,
    #[error("a space name must be 1 to 64 characters")]
    BadSpaceName,
    #[error("you are not a member of this space")]
    NotAMember,
    #[error("they are not a member of this space")]
    NotInSpace,
    #[error("you are already a member of this space")]
    AlreadyAMember,
    #[error("your role does not allow this")]
    NotAllowed,
    /// A topic's name, or one taken, or too many (the reason said whole).
    #[error("{0}")]
    Topic(String),
    #[error("an invite code must be 8 to 32 letters or digits, not used before in this space")]
    BadInvite,
    #[error("an invite must allow at least one use and expire in the future")]
    BadInviteLimits,
    #[error("no such invite")]
    NoSuchInvite,
    #[error("this invite was revoked")]
    InviteRevoked,
    #[error("this invite has expired")]
    InviteExpired,
    #[error("this invite has been used up")]
    InviteUsedUp,
    #[error("the last admin cannot leave or step down while others remain; make someone else admin first")]
    LastAdmin,
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Credential(#[from] CredentialError),
}
