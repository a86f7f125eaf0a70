//! The space aggregate (a community with members, roles and invites): the role model, its commands, `decide` and `evolve`.
//!
//! A space is one stream (`space-<id>`). Every command names its actor; `decide` checks the
//! actor's role against the right the command needs, so the rules below are the whole
//! authorization model of spaces, tested without IO:
//!
//! | right | admin | moderator | member |
//! |---|---|---|---|
//! | rename or delete the space, change roles | yes | | |
//! | create, rename, archive channels | yes | yes | |
//! | create and revoke invites | yes | yes | |
//! | remove a member of a lower role | yes | yes | |
//! | delete others' messages | yes | yes | |
//! | read and post in the space's channels, leave | yes | yes | yes |
//! | pin messages, set a channel's topic | yes | yes | as the admins set (members by default) |

use crate::error::DomainError;
use crate::event::Event;
use crate::ids::UserId;
pub use crate::values::{Role, SpaceId, SpaceSettings, Who};
use std::collections::BTreeMap;

/// Something a command needs the right to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Right {
    ManageSpace,
    ManageChannels,
    Invite,
    RemoveMembers,
    DeleteOthersMessages,
    ChangeRoles,
    /// Pin and unpin messages: as the space's settings say.
    Pin,
    /// Change a channel's topic and description: as the space's settings say.
    SetTopic,
}

impl Role {
    pub fn can(self, right: Right) -> bool {
        match right {
            Right::ManageSpace | Right::ChangeRoles => self == Role::Admin,
            // What the settings decide is at least a moderator's.
            Right::ManageChannels
            | Right::Invite
            | Right::RemoveMembers
            | Right::DeleteOthersMessages
            | Right::Pin
            | Right::SetTopic => self >= Role::Moderator,
        }
    }
}

/// A space's name: 1 to 64 characters after trimming, no control characters.
pub fn valid_space_name(name: &str) -> bool {
    let name = name.trim();
    !name.is_empty() && name.chars().count() <= 64 && !name.chars().any(char::is_control)
}

/// An invite code: 8 to 32 letters and digits (the server makes random ones).
pub fn valid_invite_code(code: &str) -> bool {
    (8..=32).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Reads an invite as people paste it: the link (`…/?space=<id>&invite=<code>`), or the
/// space id and the code separated by a space.
pub fn parse_invite_link(text: &str) -> Option<(SpaceId, String)> {
    let text = text.trim();
    let (space, code) = match text.split_once('?') {
        Some((_, query)) => {
            let mut space = None;
            let mut code = None;
            for pair in query.split('&') {
                match pair.split_once('=') {
                    Some(("space", value)) => space = Some(value),
                    Some(("invite", value)) => code = Some(value),
                    _ => {}
                }
            }
            (space?, code?)
        }
        None => {
            let (space, code) = text.split_once(char::is_whitespace)?;
            (space, code.trim())
        }
    };
    Some((space.parse().ok()?, code.to_owned())).filter(|(_, code)| valid_invite_code(code))
}

/// An invite as the space knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    pub expires_at_ms: Option<i64>,
    pub max_uses: Option<u32>,
    pub uses: u32,
    pub revoked: bool,
}

/// What someone asks of a space. `now_ms` comes from the server's clock: the core reads none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpaceCommand {
    Create {
        name: String,
    },
    Rename {
        name: String,
    },
    Delete,
    CreateInvite {
        code: String,
        expires_at_ms: Option<i64>,
        max_uses: Option<u32>,
        now_ms: i64,
    },
    RevokeInvite {
        code: String,
    },
    Join {
        code: String,
        now_ms: i64,
    },
    Leave,
    Remove {
        member: UserId,
    },
    SetRole {
        member: UserId,
        role: Role,
    },
    /// Replaces who may pin and who may set topics.
    Configure {
        settings: SpaceSettings,
    },
    /// Puts a bot made for this space in it, as a member (an admin; the engine checks the
    /// account is this space's bot).
    AddBot {
        bot: UserId,
    },
    /// Makes a topic producers publish to (an admin; the engine checks the schema is one).
    CreateTopic {
        name: String,
        schema: Option<serde_json::Value>,
    },
}

/// A space's state, folded from its stream by [`evolve`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpaceState {
    pub name: Option<String>,
    pub deleted: bool,
    pub members: BTreeMap<UserId, Role>,
    /// When each member's current membership began: the index of their `MemberJoined` in
    /// the space's stream. What they were in before they left counts no more.
    pub memberships: BTreeMap<UserId, u64>,
    pub invites: BTreeMap<String, Invite>,
    pub settings: SpaceSettings,
    /// Its topics, with the JSON Schema each one's events must meet, if any.
    pub topics: BTreeMap<String, Option<serde_json::Value>>,
    pub version: u64,
}

impl SpaceState {
    pub fn exists(&self) -> bool {
        self.name.is_some() && !self.deleted
    }

    pub fn role(&self, user: UserId) -> Option<Role> {
        self.members.get(&user).copied()
    }

    /// Which membership of the space `user` is in, if a member: it tells what they did in
    /// its channels now from what they did before they last left or were removed.
    pub fn membership(&self, user: UserId) -> Option<u64> {
        self.members
            .contains_key(&user)
            .then(|| self.memberships.get(&user).copied())
            .flatten()
    }

    /// Whether `user` may read and post in this space's channels.
    pub fn is_member(&self, user: UserId) -> bool {
        self.exists() && self.members.contains_key(&user)
    }

    fn admins(&self) -> usize {
        self.members.values().filter(|r| **r == Role::Admin).count()
    }

    /// Whether `role` has `right` here: by rank, or as the space's settings say.
    pub fn allows(&self, role: Role, right: Right) -> bool {
        match right {
            Right::Pin => self.settings.pins.admits(role),
            Right::SetTopic => self.settings.topics.admits(role),
            _ => role.can(right),
        }
    }

    /// Refuses unless `actor` is a member with `right`.
    pub fn authorize(&self, actor: UserId, right: Right) -> Result<Role, DomainError> {
        if !self.exists() {
            return Err(DomainError::NoSuchSpace);
        }
        match self.role(actor) {
            None => Err(DomainError::NotAMember),
            Some(role) if self.allows(role, right) => Ok(role),
            Some(_) => Err(DomainError::NotAllowed),
        }
    }
}

pub fn decide(
    state: &SpaceState,
    space_id: SpaceId,
    actor: UserId,
    command: &SpaceCommand,
) -> Result<Vec<Event>, DomainError> {
    let event = match command {
        SpaceCommand::Create { name } => {
            if state.name.is_some() {
                return Err(DomainError::SpaceExists);
            }
            if !valid_space_name(name) {
                return Err(DomainError::BadSpaceName);
            }
            return Ok(vec![
                Event::SpaceCreated {
                    space_id,
                    name: name.trim().to_owned(),
                    owner: actor,
                },
                Event::MemberJoined {
                    space_id,
                    user_id: actor,
                    role: Role::Admin,
                    invite: None,
                },
            ]);
        }
        SpaceCommand::Rename { name } => {
            state.authorize(actor, Right::ManageSpace)?;
            if !valid_space_name(name) {
                return Err(DomainError::BadSpaceName);
            }
            Event::SpaceRenamed {
                space_id,
                name: name.trim().to_owned(),
            }
        }
        SpaceCommand::Delete => {
            state.authorize(actor, Right::ManageSpace)?;
            Event::SpaceDeleted { space_id }
        }
        SpaceCommand::CreateInvite {
            code,
            expires_at_ms,
            max_uses,
            now_ms,
        } => {
            state.authorize(actor, Right::Invite)?;
            if !valid_invite_code(code) || state.invites.contains_key(code) {
                return Err(DomainError::BadInvite);
            }
            if max_uses == &Some(0) || expires_at_ms.is_some_and(|at| at <= *now_ms) {
                return Err(DomainError::BadInviteLimits);
            }
            Event::InviteCreated {
                space_id,
                code: code.clone(),
                expires_at_ms: *expires_at_ms,
                max_uses: *max_uses,
            }
        }
        SpaceCommand::RevokeInvite { code } => {
            state.authorize(actor, Right::Invite)?;
            match state.invites.get(code) {
                Some(invite) if !invite.revoked => Event::InviteRevoked {
                    space_id,
                    code: code.clone(),
                },
                _ => return Err(DomainError::NoSuchInvite),
            }
        }
        SpaceCommand::Join { code, now_ms } => {
            if !state.exists() {
                return Err(DomainError::NoSuchInvite);
            }
            if state.members.contains_key(&actor) {
                return Err(DomainError::AlreadyAMember);
            }
            let Some(invite) = state.invites.get(code) else {
                return Err(DomainError::NoSuchInvite);
            };
            if invite.revoked {
                return Err(DomainError::InviteRevoked);
            }
            if invite.expires_at_ms.is_some_and(|at| at <= *now_ms) {
                return Err(DomainError::InviteExpired);
            }
            if invite.max_uses.is_some_and(|max| invite.uses >= max) {
                return Err(DomainError::InviteUsedUp);
            }
            Event::MemberJoined {
                space_id,
                user_id: actor,
                role: Role::Member,
                invite: Some(code.clone()),
            }
        }
        SpaceCommand::CreateTopic { name, schema } => {
            state.authorize(actor, Right::ManageSpace)?;
            let name = crate::topic::valid_name(name).map_err(|e| DomainError::Topic(e.to_string()))?;
            if state.topics.contains_key(&name) {
                return Err(DomainError::Topic(crate::topic::TopicError::Exists(name).to_string()));
            }
            if state.topics.len() >= crate::topic::MAX_PER_SPACE {
                return Err(DomainError::Topic(crate::topic::TopicError::TooMany.to_string()));
            }
            Event::TopicCreated {
                space_id,
                name,
                schema: schema.clone(),
            }
        }
        SpaceCommand::AddBot { bot } => {
            state.authorize(actor, Right::ManageSpace)?;
            if state.members.contains_key(bot) {
                return Ok(Vec::new());
            }
            Event::MemberJoined {
                space_id,
                user_id: *bot,
                role: Role::Member,
                invite: None,
            }
        }
        SpaceCommand::Leave => {
            let Some(role) = state.role(actor).filter(|_| state.exists()) else {
                return Err(DomainError::NotAMember);
            };
            if role == Role::Admin && state.admins() == 1 && state.members.len() > 1 {
                return Err(DomainError::LastAdmin);
            }
            Event::MemberLeft {
                space_id,
                user_id: actor,
            }
        }
        SpaceCommand::Remove { member } => {
            let role = state.authorize(actor, Right::RemoveMembers)?;
            let Some(target) = state.role(*member) else {
                return Err(DomainError::NotAMember);
            };
            if *member == actor || target >= role {
                return Err(DomainError::NotAllowed);
            }
            Event::MemberRemoved {
                space_id,
                user_id: *member,
            }
        }
        SpaceCommand::SetRole { member, role } => {
            state.authorize(actor, Right::ChangeRoles)?;
            let Some(current) = state.role(*member) else {
                return Err(DomainError::NotAMember);
            };
            if current == Role::Admin && *role != Role::Admin && state.admins() == 1 {
                return Err(DomainError::LastAdmin);
            }
            Event::RoleChanged {
                space_id,
                user_id: *member,
                role: *role,
            }
        }
        SpaceCommand::Configure { settings } => {
            state.authorize(actor, Right::ManageSpace)?;
            if *settings == state.settings {
                return Ok(Vec::new());
            }
            Event::SpaceConfigured {
                space_id,
                settings: *settings,
            }
        }
    };
    Ok(vec![event])
}

pub fn evolve(mut state: SpaceState, event: &Event) -> SpaceState {
    match event {
        Event::SpaceCreated { name, .. } | Event::SpaceRenamed { name, .. } => state.name = Some(name.clone()),
        Event::SpaceDeleted { .. } => state.deleted = true,
        Event::InviteCreated {
            code,
            expires_at_ms,
            max_uses,
            ..
        } => {
            state.invites.insert(
                code.clone(),
                Invite {
                    expires_at_ms: *expires_at_ms,
                    max_uses: *max_uses,
                    uses: 0,
                    revoked: false,
                },
            );
        }
        Event::InviteRevoked { code, .. } => {
            if let Some(invite) = state.invites.get_mut(code) {
                invite.revoked = true;
            }
        }
        Event::MemberJoined {
            user_id, role, invite, ..
        } => {
            state.members.insert(*user_id, *role);
            state.memberships.insert(*user_id, state.version);
            if let Some(invite) = invite.as_ref().and_then(|code| state.invites.get_mut(code)) {
                invite.uses += 1;
            }
        }
        Event::MemberLeft { user_id, .. } | Event::MemberRemoved { user_id, .. } => {
            state.members.remove(user_id);
            state.memberships.remove(user_id);
        }
        Event::RoleChanged { user_id, role, .. } => {
            if let Some(current) = state.members.get_mut(user_id) {
                *current = *role;
            }
        }
        Event::SpaceConfigured { settings, .. } => state.settings = *settings,
        Event::TopicCreated { name, schema, .. } => {
            state.topics.insert(name.clone(), schema.clone());
        }
        _ => {}
    }
    state.version += 1;
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Given {
        id: SpaceId,
        state: SpaceState,
    }

    impl Given {
        fn space(owner: UserId) -> Self {
            let mut given = Self {
                id: SpaceId::new(),
                state: SpaceState::default(),
            };
            given.ok(
                owner,
                SpaceCommand::Create {
                    name: "Rustaceans".into(),
                },
            );
            given
        }

        fn when(&self, actor: UserId, command: SpaceCommand) -> Result<Vec<Event>, DomainError> {
            decide(&self.state, self.id, actor, &command)
        }

        fn ok(&mut self, actor: UserId, command: SpaceCommand) {
            let events = self.when(actor, command).unwrap_or_else(|e| panic!("{e}"));
            self.state = events.iter().fold(std::mem::take(&mut self.state), evolve);
        }

        fn invite(&mut self, actor: UserId, code: &str, expires_at_ms: Option<i64>, max_uses: Option<u32>) {
            let command = SpaceCommand::CreateInvite {
                code: code.into(),
                expires_at_ms,
                max_uses,
                now_ms: 1_000,
            };
            self.ok(actor, command);
        }

        fn join(&mut self, user: UserId, code: &str) {
            self.ok(
                user,
                SpaceCommand::Join {
                    code: code.into(),
                    now_ms: 1_000,
                },
            );
        }

        /// An owner, a moderator and a member, joined through one invite.
        fn with_roles() -> (Self, UserId, UserId, UserId) {
            let (owner, moderator, member) = (UserId::new(), UserId::new(), UserId::new());
            let mut given = Self::space(owner);
            given.invite(owner, "WELCOME123", None, None);
            given.join(moderator, "WELCOME123");
            given.join(member, "WELCOME123");
            given.ok(
                owner,
                SpaceCommand::SetRole {
                    member: moderator,
                    role: Role::Moderator,
                },
            );
            (given, owner, moderator, member)
        }
    }

    #[test]
    fn who_pins_and_sets_topics_is_the_admins_setting() {
        let (mut given, owner, moderator, member) = Given::with_roles();
        let stranger = UserId::new();
        // By default every member may.
        for right in [Right::Pin, Right::SetTopic] {
            assert!(given.state.authorize(member, right).is_ok());
            assert_eq!(given.state.authorize(stranger, right), Err(DomainError::NotAMember));
        }
        let strict = SpaceSettings {
            pins: Who::Moderators,
            topics: Who::Members,
        };
        let configure = |settings| SpaceCommand::Configure { settings };
        assert_eq!(given.when(moderator, configure(strict)), Err(DomainError::NotAllowed));
        given.ok(owner, configure(strict));
        assert_eq!(given.state.authorize(member, Right::Pin), Err(DomainError::NotAllowed));
        assert!(given.state.authorize(moderator, Right::Pin).is_ok());
        assert!(given.state.authorize(member, Right::SetTopic).is_ok());
        assert_eq!(
            given.when(owner, configure(strict)),
            Ok(Vec::new()),
            "the same settings again: nothing"
        );
        // Rights the settings do not cover stay by rank.
        assert_eq!(
            given.state.authorize(member, Right::ManageChannels),
            Err(DomainError::NotAllowed)
        );
    }

    #[test]
    fn invite_links_are_read_as_pasted() {
        let space = SpaceId::new();
        let link = format!("https://chat.example/?space={space}&invite=AbCdEf123456");
        assert_eq!(parse_invite_link(&link), Some((space, "AbCdEf123456".into())));
        assert_eq!(
            parse_invite_link(&format!("  {space}   AbCdEf123456 ")),
            Some((space, "AbCdEf123456".into()))
        );
        for bad in [
            "https://chat.example/?invite=AbCdEf123456".to_string(),
            format!("https://chat.example/?space={space}"),
            "https://chat.example/?space=nope&invite=AbCdEf123456".to_string(),
            format!("https://chat.example/?space={space}&invite=<script>"),
            "hello".to_string(),
        ] {
            assert_eq!(parse_invite_link(&bad), None, "{bad}");
        }
    }

    #[test]
    fn the_creator_is_the_first_admin() {
        let owner = UserId::new();
        let given = Given::space(owner);
        assert_eq!(given.state.role(owner), Some(Role::Admin));
        assert_eq!(given.state.name.as_deref(), Some("Rustaceans"));
        assert_eq!(
            given.when(owner, SpaceCommand::Create { name: "again".into() }),
            Err(DomainError::SpaceExists)
        );
        for bad in ["", "   ", &"x".repeat(65), "tab\there"] {
            let fresh = decide(
                &SpaceState::default(),
                SpaceId::new(),
                owner,
                &SpaceCommand::Create { name: bad.into() },
            );
            assert_eq!(fresh, Err(DomainError::BadSpaceName), "{bad:?}");
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in [Role::Member, Role::Moderator, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("owner"), None);
    }

    #[test]
    fn the_role_table_holds() {
        use Right::*;
        let table = [
            (ManageSpace, [true, false, false]),
            (ChangeRoles, [true, false, false]),
            (ManageChannels, [true, true, false]),
            (Invite, [true, true, false]),
            (RemoveMembers, [true, true, false]),
            (DeleteOthersMessages, [true, true, false]),
        ];
        for (right, expected) in table {
            let got = [Role::Admin, Role::Moderator, Role::Member].map(|r| r.can(right));
            assert_eq!(got, expected, "{right:?}");
        }
    }

    #[test]
    fn only_admins_rename_delete_and_change_roles() {
        let (given, owner, moderator, member) = Given::with_roles();
        for actor in [moderator, member] {
            assert_eq!(
                given.when(actor, SpaceCommand::Rename { name: "mine".into() }),
                Err(DomainError::NotAllowed)
            );
            assert_eq!(given.when(actor, SpaceCommand::Delete), Err(DomainError::NotAllowed));
            let promote = SpaceCommand::SetRole {
                member,
                role: Role::Admin,
            };
            assert_eq!(given.when(actor, promote), Err(DomainError::NotAllowed));
        }
        assert!(given.when(owner, SpaceCommand::Rename { name: "Ours".into() }).is_ok());
        assert!(given.when(owner, SpaceCommand::Delete).is_ok());
        let stranger = UserId::new();
        assert_eq!(given.when(stranger, SpaceCommand::Delete), Err(DomainError::NotAMember));
    }

    #[test]
    fn members_cannot_invite_but_moderators_can() {
        let (given, _, moderator, member) = Given::with_roles();
        let invite = |code: &str| SpaceCommand::CreateInvite {
            code: code.into(),
            expires_at_ms: None,
            max_uses: None,
            now_ms: 0,
        };
        assert_eq!(given.when(member, invite("MEMBERS123")), Err(DomainError::NotAllowed));
        assert!(given.when(moderator, invite("MODS12345")).is_ok());
        assert_eq!(given.when(moderator, invite("short")), Err(DomainError::BadInvite));
        assert_eq!(
            given.when(moderator, invite("WELCOME123")),
            Err(DomainError::BadInvite),
            "taken"
        );
    }

    #[test]
    fn invites_expire_run_out_and_can_be_revoked() {
        let owner = UserId::new();
        let mut given = Given::space(owner);
        given.invite(owner, "EXPIRING1", Some(5_000), None);
        given.invite(owner, "ONCEONLY1", None, Some(1));
        given.invite(owner, "REVOKED12", None, None);
        given.ok(
            owner,
            SpaceCommand::RevokeInvite {
                code: "REVOKED12".into(),
            },
        );

        let join = |code: &str, now_ms| SpaceCommand::Join {
            code: code.into(),
            now_ms,
        };
        let late = UserId::new();
        assert!(given.when(late, join("EXPIRING1", 4_999)).is_ok());
        assert_eq!(
            given.when(late, join("EXPIRING1", 5_000)),
            Err(DomainError::InviteExpired)
        );
        given.join(UserId::new(), "ONCEONLY1");
        assert_eq!(given.when(late, join("ONCEONLY1", 0)), Err(DomainError::InviteUsedUp));
        assert_eq!(given.when(late, join("REVOKED12", 0)), Err(DomainError::InviteRevoked));
        assert_eq!(given.when(late, join("NOSUCHONE", 0)), Err(DomainError::NoSuchInvite));
        assert_eq!(
            given.when(owner, join("EXPIRING1", 0)),
            Err(DomainError::AlreadyAMember)
        );

        let bad_limits = SpaceCommand::CreateInvite {
            code: "ZEROUSES1".into(),
            expires_at_ms: None,
            max_uses: Some(0),
            now_ms: 1_000,
        };
        assert_eq!(given.when(owner, bad_limits), Err(DomainError::BadInviteLimits));
        let past = SpaceCommand::CreateInvite {
            code: "PASTDATE1".into(),
            expires_at_ms: Some(999),
            max_uses: None,
            now_ms: 1_000,
        };
        assert_eq!(given.when(owner, past), Err(DomainError::BadInviteLimits));
    }

    #[test]
    fn removal_needs_a_higher_rank() {
        let (given, owner, moderator, member) = Given::with_roles();
        assert!(given.when(moderator, SpaceCommand::Remove { member }).is_ok());
        assert_eq!(
            given.when(moderator, SpaceCommand::Remove { member: owner }),
            Err(DomainError::NotAllowed)
        );
        assert_eq!(
            given.when(member, SpaceCommand::Remove { member: moderator }),
            Err(DomainError::NotAllowed)
        );
        assert!(given.when(owner, SpaceCommand::Remove { member: moderator }).is_ok());
        assert_eq!(
            given.when(owner, SpaceCommand::Remove { member: owner }),
            Err(DomainError::NotAllowed)
        );
    }

    #[test]
    fn the_last_admin_cannot_leave_others_behind_or_step_down() {
        let (mut given, owner, moderator, member) = Given::with_roles();
        assert_eq!(given.when(owner, SpaceCommand::Leave), Err(DomainError::LastAdmin));
        let step_down = SpaceCommand::SetRole {
            member: owner,
            role: Role::Member,
        };
        assert_eq!(given.when(owner, step_down), Err(DomainError::LastAdmin));
        let first = given.state.membership(member);
        given.ok(member, SpaceCommand::Leave);
        assert!(!given.state.is_member(member));
        assert_eq!(given.state.membership(member), None);
        given.join(member, "WELCOME123");
        let again = given.state.membership(member);
        assert!(first.is_some() && again.is_some() && again != first, "a new membership");
        assert!(
            given.state.membership(owner).is_some(),
            "the owner's began with the space"
        );
        given.ok(owner, SpaceCommand::Remove { member });
        given.ok(
            owner,
            SpaceCommand::SetRole {
                member: moderator,
                role: Role::Admin,
            },
        );
        given.ok(owner, SpaceCommand::Leave);
        assert_eq!(given.state.role(moderator), Some(Role::Admin));
    }

    #[test]
    fn only_an_admin_puts_a_bot_in_and_only_once() {
        let (mut given, owner, moderator, _) = Given::with_roles();
        let bot = UserId::new();
        let add = SpaceCommand::AddBot { bot };
        assert_eq!(given.when(moderator, add.clone()), Err(DomainError::NotAllowed));
        assert_eq!(given.when(UserId::new(), add.clone()), Err(DomainError::NotAMember));
        given.ok(owner, add.clone());
        assert_eq!(given.state.role(bot), Some(Role::Member));
        assert_eq!(given.when(owner, add), Ok(Vec::new()), "twice is once");
    }

    #[test]
    fn a_deleted_space_has_no_members_to_speak_of() {
        let (mut given, owner, _, member) = Given::with_roles();
        given.ok(owner, SpaceCommand::Delete);
        assert!(!given.state.is_member(member));
        assert_eq!(
            given.when(owner, SpaceCommand::Rename { name: "back".into() }),
            Err(DomainError::NoSuchSpace)
        );
    }
}
