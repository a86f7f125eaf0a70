//! The account aggregate: registration, admin grants, password and profile changes (`decide` and `evolve`), and the stream of a user's ended sessions.
//!
//! Each account is one stream, named after its username (`account-<username>`), so the event
//! store's "no stream yet" check is what makes usernames unique: two sign-ups racing for one
//! name cannot both be appended. Hashing the password is IO-free but slow and random, so the
//! server does it and hands the core an opaque [`PasswordHash`].

pub use crate::error::CredentialError;
use crate::error::DomainError;
use crate::event::Event;
use crate::ids::{StreamId, UserId};
use crate::profile::Profile;
pub use crate::values::{Password, PasswordHash, Username};

/// The stream of a user's ended sessions (see [`Event::SessionsEnded`]).
pub fn sessions_stream(user: UserId) -> StreamId {
    StreamId(format!("sessions-{user}"))
}

/// What someone asks of an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountCommand {
    Register {
        user_id: UserId,
        username: Username,
        password_hash: PasswordHash,
        /// A bot's account (see [`Event::AccountRegistered`]); none for a person's.
        bot: Option<crate::values::BotOf>,
    },
    /// Makes the account an instance admin; nothing changes if it is one already.
    GrantAdmin,
    /// Replaces the password. The server checks the current one first (hashing is IO-free
    /// but slow, so it is not done here) and hashes the new one.
    ChangePassword { password_hash: PasswordHash },
    /// Replaces the profile; nothing changes if it is the same.
    SetProfile(Profile),
    /// An instance admin's act on someone's account (see [`decide_admin`]).
    Admin { action: AdminAction, by: UserId },
    /// Deletes the account for good: by its owner (the server checks the password first)
    /// or an instance admin. `messages`: its messages are erased too, not only unattributed.
    Erase { messages: bool, by: UserId },
}

/// What an instance admin does to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AdminAction {
    /// Its sessions end and it cannot sign in (nor use its API tokens) until enabled.
    Disable,
    Enable,
    GrantAdmin,
    RevokeAdmin,
}

/// What the rules and sign-in need to know about an account, folded from its stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountState {
    pub user_id: Option<UserId>,
    pub username: Option<Username>,
    pub password_hash: Option<PasswordHash>,
    pub admin: bool,
    /// Disabled by an instance admin: no sign-in, no session, no token.
    pub disabled: bool,
    pub profile: Profile,
    /// Deleted: nothing more happens to it, and its name stays taken.
    pub erased: bool,
    /// A bot's: whose it is. It never signs in.
    pub bot: Option<crate::values::BotOf>,
    pub version: u64,
}

impl AccountState {
    /// Someone registered this name (even if the account was deleted since).
    pub fn exists(&self) -> bool {
        self.user_id.is_some()
    }

    /// An account that someone can sign in to and act on.
    pub fn live(&self) -> bool {
        self.exists() && !self.erased
    }
}

pub fn decide(state: &AccountState, command: &AccountCommand) -> Result<Vec<Event>, DomainError> {
    if state.erased && !matches!(command, AccountCommand::Register { .. }) {
        // A deleted account is as good as none, except that its name stays taken.
        return Err(DomainError::NoSuchUser(String::new()));
    }
    match command {
        AccountCommand::Register {
            user_id,
            username,
            password_hash,
            bot,
        } => {
            // The name every deleted account goes by is nobody's.
            if state.exists() || username.as_str() == crate::redact::ERASED_NAME {
                return Err(DomainError::UsernameTaken);
            }
            Ok(vec![Event::AccountRegistered {
                user_id: *user_id,
                username: username.clone(),
                password_hash: password_hash.clone(),
                bot: *bot,
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
        AccountCommand::ChangePassword { password_hash } => {
            let (Some(user_id), Some(username)) = (state.user_id, state.username.clone()) else {
                return Err(DomainError::NoSuchUser(String::new()));
            };
            Ok(vec![Event::PasswordChanged {
                user_id,
                username,
                password_hash: password_hash.clone(),
            }])
        }
        AccountCommand::Admin { action, by } => decide_admin(state, *action, *by),
        AccountCommand::Erase { messages, by } => {
            let Some(user_id) = state.user_id else {
                return Err(DomainError::NoSuchUser(String::new()));
            };
            Ok(vec![Event::AccountErased {
                user_id,
                messages: *messages,
                erased_by: *by,
            }])
        }
        AccountCommand::SetProfile(profile) => {
            let (Some(user_id), Some(username)) = (state.user_id, state.username.clone()) else {
                return Err(DomainError::NoSuchUser(String::new()));
            };
            if state.profile == *profile {
                return Ok(Vec::new());
            }
            Ok(vec![Event::ProfileChanged {
                user_id,
                username,
                profile: profile.clone(),
            }])
        }
    }
}

/// An instance admin's act on an account. Nobody disables or un-admins themselves (the
/// instance could be left with no admin, or its admin locked out); acting again as it
/// stands changes nothing.
pub fn decide_admin(state: &AccountState, action: AdminAction, by: UserId) -> Result<Vec<Event>, DomainError> {
    let (Some(user_id), Some(username)) = (state.user_id, state.username.clone()) else {
        return Err(DomainError::NoSuchUser(String::new()));
    };
    if by == user_id && matches!(action, AdminAction::Disable | AdminAction::RevokeAdmin) {
        return Err(DomainError::NotOnYourself);
    }
    let event = match action {
        AdminAction::Disable if !state.disabled => Event::AccountDisabled { user_id, username },
        AdminAction::Enable if state.disabled => Event::AccountEnabled { user_id, username },
        AdminAction::GrantAdmin if !state.admin => Event::AdminGranted { user_id, username },
        AdminAction::RevokeAdmin if state.admin => Event::AdminRevoked { user_id, username },
        _ => return Ok(Vec::new()),
    };
    Ok(vec![event])
}

pub fn evolve(mut state: AccountState, event: &Event) -> AccountState {
    match event {
        Event::AccountRegistered {
            user_id,
            username,
            password_hash,
            bot,
        } => {
            state.user_id = Some(*user_id);
            state.username = Some(username.clone());
            state.password_hash = Some(password_hash.clone());
            state.bot = *bot;
        }
        Event::AdminGranted { .. } => state.admin = true,
        Event::AdminRevoked { .. } => state.admin = false,
        Event::AccountDisabled { .. } => state.disabled = true,
        Event::AccountEnabled { .. } => state.disabled = false,
        Event::PasswordChanged { password_hash, .. } => state.password_hash = Some(password_hash.clone()),
        Event::ProfileChanged { profile, .. } => state.profile = profile.clone(),
        Event::AccountErased { .. } => {
            state.erased = true;
            state.password_hash = None;
            state.admin = false;
            state.profile = Profile::default();
        }
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
            bot: None,
        }
    }

    #[test]
    fn usernames_are_case_folded_and_checked() {
        assert_eq!(
            Username::parse(" Ada.L ").map(|u| u.as_str().to_owned()),
            Ok("ada.l".into())
        );
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
        assert!(matches!(granted.as_slice(), [Event::AdminGranted { username, .. }] if username.as_str() == "ada"));
        let state = granted.iter().fold(state, evolve);
        assert!(state.admin);
        assert_eq!(
            decide(&state, &AccountCommand::GrantAdmin),
            Ok(Vec::new()),
            "granting again changes nothing"
        );
    }

    #[test]
    fn a_password_change_replaces_the_hash_of_an_existing_account_only() {
        let change = AccountCommand::ChangePassword {
            password_hash: PasswordHash("$argon2id$new".into()),
        };
        assert!(matches!(
            decide(&AccountState::default(), &change),
            Err(DomainError::NoSuchUser(_))
        ));
        let registered = decide(&AccountState::default(), &register("ada")).unwrap_or_default();
        let state = registered.iter().fold(AccountState::default(), evolve);
        let changed = decide(&state, &change).unwrap_or_default();
        assert!(matches!(changed.as_slice(), [Event::PasswordChanged { username, .. }] if username.as_str() == "ada"));
        let state = changed.iter().fold(state, evolve);
        assert_eq!(state.password_hash, Some(PasswordHash("$argon2id$new".into())));
        assert_eq!(state.version, 2);
    }

    #[test]
    fn a_profile_is_saved_once_and_the_same_profile_again_changes_nothing() {
        let registered = decide(&AccountState::default(), &register("ada")).unwrap_or_default();
        let state = registered.iter().fold(AccountState::default(), evolve);
        let input = crate::profile::ProfileInput {
            display_name: "Ada Lovelace".into(),
            ..Default::default()
        };
        let Ok(profile) = Profile::parse(&input, 0) else {
            panic!("valid")
        };
        let set = AccountCommand::SetProfile(profile.clone());
        let changed = decide(&state, &set).unwrap_or_default();
        assert!(matches!(changed.as_slice(), [Event::ProfileChanged { profile: p, .. }] if *p == profile));
        let state = changed.iter().fold(state, evolve);
        assert_eq!(state.profile, profile);
        assert_eq!(decide(&state, &set), Ok(Vec::new()));
        assert!(matches!(
            decide(&AccountState::default(), &set),
            Err(DomainError::NoSuchUser(_))
        ));
    }

    #[test]
    fn an_erased_account_takes_no_command_and_keeps_its_name_taken() {
        let registered = decide(&AccountState::default(), &register("ada")).unwrap_or_default();
        let ada = registered.iter().fold(AccountState::default(), evolve);
        let by = ada.user_id.unwrap_or_else(UserId::new);
        let erased = decide(&ada, &AccountCommand::Erase { messages: true, by }).unwrap_or_default();
        assert!(matches!(
            erased.as_slice(),
            [Event::AccountErased { messages: true, .. }]
        ));
        let gone = erased.iter().fold(ada, evolve);
        assert!(gone.exists() && !gone.live());
        assert_eq!(gone.password_hash, None, "nobody signs in to it");
        assert_eq!(decide(&gone, &register("ada")), Err(DomainError::UsernameTaken));
        assert_eq!(
            decide(&AccountState::default(), &register(crate::redact::ERASED_NAME)),
            Err(DomainError::UsernameTaken)
        );
        for command in [
            AccountCommand::GrantAdmin,
            AccountCommand::SetProfile(Profile::default()),
            AccountCommand::Erase { messages: false, by },
            AccountCommand::Admin {
                action: AdminAction::Enable,
                by: UserId::new(),
            },
        ] {
            assert!(
                matches!(decide(&gone, &command), Err(DomainError::NoSuchUser(_))),
                "{command:?}"
            );
        }
    }

    #[test]
    fn an_admin_disables_enables_grants_and_revokes_but_never_on_themselves() {
        let registered = decide(&AccountState::default(), &register("ada")).unwrap_or_default();
        let ada = registered.iter().fold(AccountState::default(), evolve);
        let (root, Some(ada_id)) = (UserId::new(), ada.user_id) else {
            panic!("registered")
        };
        let act = |state: &AccountState, action| decide_admin(state, action, root);
        let disabled = act(&ada, AdminAction::Disable).unwrap_or_default();
        assert!(matches!(disabled.as_slice(), [Event::AccountDisabled { .. }]));
        let state = disabled.iter().fold(ada.clone(), evolve);
        assert!(state.disabled);
        assert_eq!(act(&state, AdminAction::Disable), Ok(Vec::new()), "disabled already");
        let state = act(&state, AdminAction::Enable)
            .unwrap_or_default()
            .iter()
            .fold(state, evolve);
        assert!(!state.disabled);
        let state = act(&state, AdminAction::GrantAdmin)
            .unwrap_or_default()
            .iter()
            .fold(state, evolve);
        assert!(state.admin);
        let revoked = act(&state, AdminAction::RevokeAdmin).unwrap_or_default();
        assert!(matches!(revoked.as_slice(), [Event::AdminRevoked { .. }]));
        assert!(!revoked.iter().fold(state.clone(), evolve).admin);
        for action in [AdminAction::Disable, AdminAction::RevokeAdmin] {
            assert_eq!(decide_admin(&state, action, ada_id), Err(DomainError::NotOnYourself));
        }
        assert!(matches!(
            act(&AccountState::default(), AdminAction::Disable),
            Err(DomainError::NoSuchUser(_))
        ));
    }
}
