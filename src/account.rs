//! The account aggregate: usernames and passwords as users type them, registration's `decide` and `evolve`.
//!
//! Each account is one stream, named after its username (`account-<username>`), so the event
//! store's "no stream yet" check is what makes usernames unique: two sign-ups racing for one
//! name cannot both be appended. Hashing the password is IO-free but slow and random, so the
//! server does it and hands the core an opaque [`PasswordHash`].

use crate::channel::DomainError;
use crate::event::Event;
use crate::ids::{StreamId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;

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

/// The stream of a user's ended sessions (see [`Event::SessionsEnded`]).
pub fn sessions_stream(user: UserId) -> StreamId {
    StreamId(format!("sessions-{user}"))
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

/// What someone asks of an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountCommand {
    Register {
        user_id: UserId,
        username: Username,
        password_hash: PasswordHash,
    },
    /// Makes the account an instance admin; nothing changes if it is one already.
    GrantAdmin,
}

/// What the rules and sign-in need to know about an account, folded from its stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountState {
    pub user_id: Option<UserId>,
    pub username: Option<Username>,
    pub password_hash: Option<PasswordHash>,
    pub admin: bool,
    pub version: u64,
}

impl AccountState {
    pub fn exists(&self) -> bool {
        self.user_id.is_some()
    }
}

pub fn decide(state: &AccountState, command: &AccountCommand) -> Result<Vec<Event>, DomainError> {
    match command {
        AccountCommand::Register {
            user_id,
            username,
            password_hash,
        } => {
            if state.exists() {
                return Err(DomainError::UsernameTaken);
            }
            Ok(vec![Event::AccountRegistered {
                user_id: *user_id,
                username: username.clone(),
                password_hash: password_hash.clone(),
            }])
        }
        AccountCommand::GrantAdmin => {
            let (Some(user_id), Some(username)) = (state.user_id, state.username.clone()) else {
                return Err(DomainError::NoSuchUser(String::new()));
            };
            if state.admin {
                return Ok(Vec::new());
            }
            Ok(vec![Event::AdminGranted { user_id, username }])
        }
    }
}

pub fn evolve(mut state: AccountState, event: &Event) -> AccountState {
    match event {
        Event::AccountRegistered {
            user_id,
            username,
            password_hash,
        } => {
            state.user_id = Some(*user_id);
            state.username = Some(username.clone());
            state.password_hash = Some(password_hash.clone());
        }
        Event::AdminGranted { .. } => state.admin = true,
        _ => {}
    }
    state.version += 1;
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register(name: &str) -> AccountCommand {
        AccountCommand::Register {
            user_id: UserId::new(),
            username: Username::parse(name).unwrap_or_else(|e| panic!("{e}")),
            password_hash: PasswordHash("$argon2id$v=19$...".into()),
        }
    }

    #[test]
    fn usernames_are_case_folded_and_checked() {
        assert_eq!(Username::parse(" Ada.L ").map(|u| u.0), Ok("ada.l".into()));
        for bad in ["ab", "with space", "émile", "a/b", "", &"x".repeat(33)] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Username::parse(&"x".repeat(32)).is_ok());
        assert_eq!(
            Username::parse("Ada").map(|u| u.stream()),
            Ok(StreamId("account-ada".into()))
        );
    }

    #[test]
    fn passwords_have_bounds_and_never_print() {
        assert_eq!(
            Password::parse("short"),
            Err(CredentialError::PasswordTooShort { min: 8 })
        );
        assert_eq!(
            Password::parse(&"p".repeat(257)),
            Err(CredentialError::PasswordTooLong { max: 256 })
        );
        let password = Password::parse("correct horse").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(password.expose(), "correct horse");
        assert!(!format!("{password:?}").contains("horse"));
        assert!(!format!("{:?}", PasswordHash("$argon2id$secret".into())).contains("secret"));
    }

    #[test]
    fn registering_emits_account_registered_once() {
        let command = register("ada");
        let events = decide(&AccountState::default(), &command).unwrap_or_default();
        assert!(matches!(events.as_slice(), [Event::AccountRegistered { .. }]));
        let state = events.iter().fold(AccountState::default(), evolve);
        assert!(state.exists());
        assert_eq!(state.version, 1);
        assert_eq!(decide(&state, &register("ada")), Err(DomainError::UsernameTaken));
    }

    #[test]
    fn an_account_is_made_admin_once_and_only_if_it_exists() {
        assert!(matches!(
            decide(&AccountState::default(), &AccountCommand::GrantAdmin),
            Err(DomainError::NoSuchUser(_))
        ));
        let registered = decide(&AccountState::default(), &register("ada")).unwrap_or_default();
        let state = registered.iter().fold(AccountState::default(), evolve);
        assert!(!state.admin);
        let granted = decide(&state, &AccountCommand::GrantAdmin).unwrap_or_default();
        assert!(matches!(granted.as_slice(), [Event::AdminGranted { username, .. }] if username.0 == "ada"));
        let state = granted.iter().fold(state, evolve);
        assert!(state.admin);
        assert_eq!(
            decide(&state, &AccountCommand::GrantAdmin),
            Ok(Vec::new()),
            "granting again changes nothing"
        );
    }
}
