//! Why a command or query failed, and what of it a user may read.

use crate::auth::{self};
use crate::log::store::{AppendError, StoreReadError};
use parley::{CredentialError, DomainError, RuleError};

/// Why a command or query failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error(transparent)]
    Profile(#[from] parley::profile::ProfileError),
    #[error("{0}")]
    BadRequest(String),
    #[error("wrong username or password")]
    BadCredentials,
    #[error("please sign in")]
    Unauthorized,
    #[error("this account is disabled; ask an instance admin")]
    Disabled,
    #[error("too many attempts; wait {0} seconds and try again")]
    TooManyAttempts(u64),
    #[error("{0}")]
    Busy(#[from] auth::Busy),
    #[error("too many {} at once; wait {wait} seconds and try again", what.name())]
    OverBudget {
        what: crate::engine::budget::Write,
        wait: u64,
    },
    #[error("you are sending messages too fast; wait a moment and try again")]
    TooFast,
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Append(#[from] AppendError),
    #[error(transparent)]
    Read(#[from] StoreReadError),
    #[error(transparent)]
    Query(#[from] sqlx::Error),
}

/// What kind of refusal or failure an error is: what every door maps to its own answer
/// (a status, an error frame), so that all doors answer one error alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not signed in, or the session ended.
    Unauthorized,
    /// Signed in, but not allowed.
    Forbidden,
    /// Wait and try again ([`EngineError::retry_after`] says how long).
    RateLimited,
    /// The request broke a rule or was malformed; nothing changed.
    Invalid,
    /// The server failed.
    Internal,
}

impl EngineError {
    /// The kind of this error, for the doors' answers.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Unauthorized => ErrorKind::Unauthorized,
            Self::Disabled => ErrorKind::Forbidden,
            Self::Domain(DomainError::NotAMember | DomainError::NotAllowed) => ErrorKind::Forbidden,
            e if e.retry_after().is_some() => ErrorKind::RateLimited,
            e if e.is_user_error() => ErrorKind::Invalid,
            _ => ErrorKind::Internal,
        }
    }

    /// True when the user's request was at fault (and changed nothing).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Self::Rule(_)
                | Self::Domain(_)
                | Self::Credential(_)
                | Self::Profile(_)
                | Self::BadRequest(_)
                | Self::BadCredentials
                | Self::Unauthorized
                | Self::Disabled
                | Self::TooManyAttempts(_)
                | Self::Busy(_)
                | Self::OverBudget { .. }
                | Self::TooFast
                | Self::Append(AppendError::Conflict { .. } | AppendError::IdInUse)
        )
    }

    /// How long to wait before trying again, for a refusal that passes with time.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyAttempts(secs) | Self::OverBudget { wait: secs, .. } => Some(*secs),
            Self::Busy(_) | Self::TooFast => Some(1),
            _ => None,
        }
    }

    /// What a user may read: the rule that was broken, or a generic line for server faults,
    /// whose cause is logged here and never sent.
    pub fn user_message(&self) -> String {
        if self.is_user_error() {
            self.to_string()
        } else {
            tracing::error!(error = %self, "request failed");
            INTERNAL.to_owned()
        }
    }
}

/// What a user reads of a server fault (its cause is logged, never sent).
pub const INTERNAL: &str = "the server could not complete this request, please try again";
