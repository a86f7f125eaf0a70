//! The channel aggregate: its commands, `decide` (command → events) and `evolve` (event → state).

pub use crate::error::DomainError;
use crate::event::Event;
use crate::ids::{ChannelId, MessageId, UserId};
use crate::rules::{DisplayName, Emoji, MessageBody};
pub use crate::values::ChannelKind;
use crate::values::SpaceId;
use serde::Serialize;
use std::collections::BTreeSet;

crate::tagged_enum! {
    #[serde(tag = "type", rename_all = "snake_case")]
    /// What a user (or the system) asks a channel to do.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub enum ChannelCommand {
        CreateChannel {
            channel_id: ChannelId,
            name: String,
            /// The space it is created in (the engine checks the creator's role there first).
            space_id: Option<SpaceId>,
            /// Only its invited members may read it (a space's channel only); its creator is
            /// its first member.
            private: bool,
            /// Who creates it (none for the lobby, which the server makes).
            creator: Option<UserId>,
            /// The creator's membership of the space ([`crate::space::SpaceState::membership`]).
            membership: Option<u64>,
        },
        /// Renames a space's channel (the engine checks the actor may manage channels there).
        RenameChannel { channel_id: ChannelId, name: String },
        /// Makes a space's channel read-only.
        ArchiveChannel { channel_id: ChannelId },
        /// Puts `user` in a space's channel: joining a public one (oneself), or adding someone
        /// to a private one (a moderator of its space). The engine checks `user` is in the space.
        Join {
            channel_id: ChannelId,
            user: UserId,
            by: UserId,
            /// `by` moderates the channel's space.
            moderates: bool,
            /// `user`'s membership of the space ([`crate::space::SpaceState::membership`]).
            membership: Option<u64>,
        },
        /// Takes `user` out of a space's channel: leaving (oneself), or removing someone from a
        /// private one (a moderator).
        Leave {
            channel_id: ChannelId,
            user: UserId,
            by: UserId,
            moderates: bool,
            membership: Option<u64>,
        },
        /// Deletes a space's channel (the engine checks the actor is an admin of the space).
        DeleteChannel { channel_id: ChannelId },
        /// Sets the topic and description of a space's channel (the engine checks the space
        /// lets the actor).
        SetTopic {
            channel_id: ChannelId,
            /// The notice's place in the timeline (chosen by the server).
            message_id: MessageId,
            topic: String,
            description: String,
            by: UserId,
            by_name: DisplayName,
        },
        /// Opens the direct-message channel of these people (the opener among them).
        OpenDirect {
            channel_id: ChannelId,
            opener: UserId,
            members: BTreeSet<UserId>,
        },
        PostMessage {
            channel_id: ChannelId,
            message_id: MessageId,
            author_id: UserId,
            author: DisplayName,
            body: MessageBody,
            /// The thread's root message, for a reply (the engine checks it with [`thread_root`]).
            reply_to: Option<MessageId>,
            /// A reply shown in its channel too.
            also_in_channel: bool,
            /// Files sent with it (uploaded before; the engine found them).
            attachments: Vec<crate::attachment::Attachment>,
        },
    }
}

impl ChannelCommand {
    pub fn channel_id(&self) -> ChannelId {
        match self {
            Self::CreateChannel { channel_id, .. }
            | Self::PostMessage { channel_id, .. }
            | Self::OpenDirect { channel_id, .. }
            | Self::RenameChannel { channel_id, .. }
            | Self::SetTopic { channel_id, .. }
            | Self::Join { channel_id, .. }
            | Self::Leave { channel_id, .. }
            | Self::DeleteChannel { channel_id }
            | Self::ArchiveChannel { channel_id } => *channel_id,
        }
    }
}

/// What `decide` needs to know about a channel: folded from its stream by `evolve`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelState {
    pub name: Option<String>,
    /// The space whose members may read and post here; none for the instance-wide lobby.
    pub space_id: Option<SpaceId>,
    /// The people of a direct-message channel: only they may read and post.
    pub members: Option<BTreeSet<UserId>>,
    /// Read-only: no new messages.
    pub archived: bool,
    pub topic: String,
    pub description: String,
    /// Only those in it may read it.
    pub private: bool,
    /// Who joined or left (a public channel's members are in unless they left; a private
    /// one's only once added), in which membership of the space.
    pub inside: std::collections::BTreeMap<UserId, Inside>,
    /// Deleted: it exists no more, for any door.
    pub deleted: bool,
    /// Number of events in the channel's stream: the expected version of the next append.
    pub version: u64,
}

impl ChannelState {
    pub fn exists(&self) -> bool {
        self.name.is_some() && !self.deleted
    }

    /// Whether `user`, in the space since `membership`, is in this channel (for a space's
    /// channel: see [`ChannelState::inside`]). Joining or leaving during an earlier
    /// membership of the space counts no more: someone removed and invited again is not back
    /// in the private channels they were in.
    pub fn is_in(&self, user: UserId, membership: Option<u64>) -> bool {
        match self.inside.get(&user) {
            Some(entry) if entry.membership.is_none() || entry.membership == membership => entry.inside,
            _ => !self.private,
        }
    }
}

/// Someone's place in a space's channel, as their last join or leave said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inside {
    pub inside: bool,
    /// The membership of the space it was said in (none in events from before memberships).
    pub membership: Option<u64>,
}

/// The most people one direct conversation may hold.
pub const MAX_DIRECT_MEMBERS: usize = 8;

impl ChannelState {
    /// Whether `user` may read and post here, as far as the channel itself says: a direct
    /// channel names its people, a private channel those added to it; a public channel of a
    /// space leaves it to the space (whose members it admits, in it or not).
    /// `membership` is `user`'s membership of the channel's space (none for other channels).
    pub fn admits_directly(&self, user: UserId, membership: Option<u64>) -> Option<bool> {
        match &self.members {
            Some(members) => Some(members.contains(&user)),
            None if self.private => Some(self.is_in(user, membership)),
            None => None,
        }
    }
}

/// The longest topic, in characters: one line of the channel's header.
pub const MAX_TOPIC_CHARS: usize = 250;
/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1_000;
/// The most messages one channel may have pinned.
pub const MAX_PINS: u32 = 100;

/// A topic as typed: trimmed, one line of at most [`MAX_TOPIC_CHARS`], no control characters.
pub fn valid_topic(topic: &str) -> Option<String> {
    let topic = topic.trim();
    (topic.chars().count() <= MAX_TOPIC_CHARS && !topic.chars().any(char::is_control)).then(|| topic.to_owned())
}

/// A description as typed: trimmed, at most [`MAX_DESCRIPTION_CHARS`], line breaks allowed
/// but no other control characters.
pub fn valid_description(text: &str) -> Option<String> {
    let text = text.trim();
    (text.chars().count() <= MAX_DESCRIPTION_CHARS && !text.chars().any(|c| c.is_control() && c != '\n'))
        .then(|| text.to_owned())
}

fn valid_channel_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Decides which events a command produces, or why it is refused. Pure: no IO, no clock.
pub fn decide(state: &ChannelState, command: &ChannelCommand) -> Result<Vec<Event>, DomainError> {
    match command {
        ChannelCommand::CreateChannel {
            channel_id,
            name,
            space_id,
            private,
            creator,
            membership,
        } => {
            if state.name.is_some() {
                return Err(DomainError::ChannelExists);
            }
            if !valid_channel_name(name) {
                return Err(DomainError::BadChannelName);
            }
            let created = Event::ChannelCreated {
                channel_id: *channel_id,
                name: name.clone(),
                kind: ChannelKind::of_space(*space_id),
                private: *private,
            };
            if !*private {
                return Ok(vec![created]);
            }
            // A private channel is a space's, and starts with its creator in it.
            let (Some(_), Some(creator)) = (space_id, creator) else {
                return Err(DomainError::NotASpaceChannel);
            };
            Ok(vec![
                created,
                Event::ChannelJoined {
                    channel_id: *channel_id,
                    user_id: *creator,
                    by: *creator,
                    membership: *membership,
                },
            ])
        }
        ChannelCommand::Join {
            channel_id,
            user,
            by,
            moderates,
            membership,
        } => {
            space_channel(state)?;
            if state.is_in(*user, *membership) {
                return Ok(Vec::new());
            }
            // Anyone joins a public channel, themselves; only a moderator adds to a private one.
            let allowed = if state.private { *moderates } else { user == by };
            if !allowed {
                return Err(DomainError::NotAllowed);
            }
            Ok(vec![Event::ChannelJoined {
                channel_id: *channel_id,
                user_id: *user,
                by: *by,
                membership: *membership,
            }])
        }
        ChannelCommand::Leave {
            channel_id,
            user,
            by,
            moderates,
            membership,
        } => {
            if !state.exists() {
                return Err(DomainError::NoSuchChannel);
            }
            if state.space_id.is_none() {
                return Err(DomainError::NotASpaceChannel);
            }
            if !state.is_in(*user, *membership) {
                return Ok(Vec::new());
            }
            // Anyone leaves; only a moderator takes someone else out, of a private channel.
            if user != by && !(state.private && *moderates) {
                return Err(DomainError::NotAllowed);
            }
            Ok(vec![Event::ChannelLeft {
                channel_id: *channel_id,
                user_id: *user,
                by: *by,
                membership: *membership,
            }])
        }
        ChannelCommand::DeleteChannel { channel_id } => {
            if !state.exists() {
                return Err(DomainError::NoSuchChannel);
            }
            if state.space_id.is_none() {
                return Err(DomainError::NotASpaceChannel);
            }
            Ok(vec![Event::ChannelDeleted {
                channel_id: *channel_id,
            }])
        }
        ChannelCommand::RenameChannel { channel_id, name } => {
            space_channel(state)?;
            if !valid_channel_name(name) {
                return Err(DomainError::BadChannelName);
            }
            Ok(vec![Event::ChannelRenamed {
                channel_id: *channel_id,
                name: name.clone(),
            }])
        }
        ChannelCommand::ArchiveChannel { channel_id } => {
            space_channel(state)?;
            Ok(vec![Event::ChannelArchived {
                channel_id: *channel_id,
            }])
        }
        ChannelCommand::SetTopic {
            channel_id,
            message_id,
            topic,
            description,
            by,
            by_name,
        } => {
            space_channel(state)?;
            let (Some(topic), Some(description)) = (valid_topic(topic), valid_description(description)) else {
                return Err(DomainError::BadTopic);
            };
            if topic == state.topic && description == state.description {
                return Ok(Vec::new());
            }
            Ok(vec![Event::TopicChanged {
                channel_id: *channel_id,
                message_id: *message_id,
                topic,
                description,
                by: *by,
                by_name: by_name.clone(),
            }])
        }
        ChannelCommand::OpenDirect {
            channel_id,
            opener,
            members,
        } => {
            if !(2..=MAX_DIRECT_MEMBERS).contains(&members.len()) || !members.contains(opener) {
                return Err(DomainError::BadDirectMembers {
                    max: MAX_DIRECT_MEMBERS,
                });
            }
            if state.exists() {
                return Ok(Vec::new()); // already open: nothing to do
            }
            Ok(vec![Event::ChannelCreated {
                channel_id: *channel_id,
                name: "direct".into(),
                private: false,
                kind: ChannelKind::Direct {
                    members: members.iter().copied().collect(),
                },
            }])
        }
        ChannelCommand::PostMessage {
            channel_id,
            message_id,
            author_id,
            author,
            body,
            reply_to,
            also_in_channel,
            attachments,
        } => {
            if !state.exists() {
                return Err(DomainError::NoSuchChannel);
            }
            if state.archived {
                return Err(DomainError::ChannelArchived);
            }
            Ok(vec![Event::MessagePosted {
                channel_id: *channel_id,
                message_id: *message_id,
                author: author.clone(),
                body: body.clone(),
                author_id: Some(*author_id),
                reply_to: *reply_to,
                // Only a reply is also shown in its channel.
                also_in_channel: *also_in_channel && reply_to.is_some(),
                attachments: attachments.clone(),
            }])
        }
    }
}

/// Refuses unless the channel is a live channel of a space.
fn space_channel(state: &ChannelState) -> Result<(), DomainError> {
    if !state.exists() {
        return Err(DomainError::NoSuchChannel);
    }
    if state.space_id.is_none() {
        return Err(DomainError::NotASpaceChannel);
    }
    if state.archived {
        return Err(DomainError::ChannelArchived);
    }
    Ok(())
}

/// Folds one event of the channel's stream into its state.
pub fn evolve(mut state: ChannelState, event: &Event) -> ChannelState {
    if let Event::ChannelCreated {
        name, kind, private, ..
    } = event
    {
        state.name = Some(name.clone());
        state.space_id = kind.space_id();
        state.members = kind.members().map(|m| m.iter().copied().collect());
        state.private = *private;
    }
    match event {
        Event::ChannelJoined {
            user_id, membership, ..
        }
        | Event::ChannelLeft {
            user_id, membership, ..
        } => {
            let inside = matches!(event, Event::ChannelJoined { .. });
            let membership = *membership;
            state.inside.insert(*user_id, Inside { inside, membership });
        }
        Event::ChannelDeleted { .. } => state.deleted = true,
        Event::ChannelRenamed { name, .. } => state.name = Some(name.clone()),
        Event::ChannelArchived { .. } => state.archived = true,
        Event::TopicChanged { topic, description, .. } => {
            state.topic = topic.clone();
            state.description = description.clone();
        }
        _ => {}
    }
    state.version += 1;
    state
}

/// What the rules need to know about the message a reply answers (from the read model).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParentFacts {
    /// The thread the parent itself is in, if it is a reply.
    pub reply_to: Option<MessageId>,
    pub deleted: bool,
}

/// The thread a reply to `parent_id` goes in: the parent's own thread when it is a reply
/// itself (threads are one level deep, as in Slack or Zulip), else the parent's.
pub fn thread_root(parent_id: MessageId, parent: Option<&ParentFacts>) -> Result<MessageId, DomainError> {
    match parent {
        None => Err(DomainError::NoSuchMessage),
        Some(p) if p.deleted && p.reply_to.is_none() => Err(DomainError::MessageWasDeleted),
        Some(p) => Ok(p.reply_to.unwrap_or(parent_id)),
    }
}

/// What the rules need to know about one message of a channel (from the read model).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageFacts {
    /// Its author's account; none for messages from before accounts.
    pub author_id: Option<UserId>,
    pub deleted: bool,
    /// The different emojis it has reactions with.
    pub reactions: Vec<Emoji>,
    pub pinned: bool,
    /// How many messages of its channel are pinned.
    pub pins_in_channel: u32,
    /// A message, or a notice (which takes no change).
    pub kind: crate::event::MessageKind,
}

pub use crate::rules::MAX_DISTINCT_REACTIONS;

crate::tagged_enum! {
    #[serde(tag = "type", rename_all = "snake_case")]
    /// A change someone asks for on a message.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub enum MessageChange {
        Edit {
            body: MessageBody,
        },
        Delete,
        /// Sets whether the actor reacts with `emoji` (a state, not a toggle, so repeating
        /// it from several tabs converges).
        React {
            emoji: Emoji,
            on: bool,
        },
        /// Sets whether the message is pinned to its channel (a state, like a reaction).
        Pin {
            on: bool,
        },
    }
}

/// Who asks for a change, and what the space lets them do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub name: DisplayName,
    /// A moderator or admin of the channel's space: may delete others' messages.
    pub moderates: bool,
    /// May pin and unpin (the space's settings and the actor's role decide; the people of
    /// a direct conversation may).
    pub pins: bool,
}

/// Decides a change to message `message_id` (described by `facts`, `None` if it does not
/// exist). `reacted`: whether the actor already reacts with the emoji asked about.
/// Nothing to do (a reaction already in the state asked for) is no event, not an error.
pub fn decide_change(
    state: &ChannelState,
    channel_id: ChannelId,
    message_id: MessageId,
    facts: Option<&MessageFacts>,
    actor: &Actor,
    change: &MessageChange,
    reacted: bool,
) -> Result<Vec<Event>, DomainError> {
    if !state.exists() {
        return Err(DomainError::NoSuchChannel);
    }
    let Some(facts) = facts else {
        return Err(DomainError::NoSuchMessage);
    };
    if facts.deleted {
        return Err(DomainError::MessageWasDeleted);
    }
    if !facts.kind.is_message() {
        return Err(DomainError::NotAMessage);
    }
    let own = facts.author_id == Some(actor.user_id);
    match change {
        MessageChange::Edit { body } => {
            if state.archived {
                return Err(DomainError::ChannelArchived);
            }
            if !own {
                return Err(DomainError::NotYourMessage);
            }
            Ok(vec![Event::MessageEdited {
                channel_id,
                message_id,
                body: body.clone(),
                editor_id: actor.user_id,
            }])
        }
        MessageChange::Delete => {
            if !own && !actor.moderates {
                return Err(DomainError::NotYourMessage);
            }
            Ok(vec![Event::MessageDeleted {
                channel_id,
                message_id,
                deleted_by: actor.user_id,
            }])
        }
        MessageChange::React { emoji, on } => {
            if state.archived {
                return Err(DomainError::ChannelArchived);
            }
            if *on == reacted {
                return Ok(Vec::new());
            }
            if *on && !facts.reactions.contains(emoji) && facts.reactions.len() >= MAX_DISTINCT_REACTIONS {
                return Err(DomainError::TooManyReactions);
            }
            let (user_id, user, emoji) = (actor.user_id, actor.name.clone(), emoji.clone());
            Ok(vec![if *on {
                Event::ReactionAdded {
                    channel_id,
                    message_id,
                    user_id,
                    user,
                    emoji,
                }
            } else {
                Event::ReactionRemoved {
                    channel_id,
                    message_id,
                    user_id,
                    user,
                    emoji,
                }
            }])
        }
        MessageChange::Pin { on } => {
            if state.archived {
                return Err(DomainError::ChannelArchived);
            }
            if !actor.pins {
                return Err(DomainError::NotAllowed);
            }
            if *on == facts.pinned {
                return Ok(Vec::new());
            }
            if *on && facts.pins_in_channel >= MAX_PINS {
                return Err(DomainError::TooManyPins);
            }
            Ok(vec![Event::MessagePinned {
                channel_id,
                message_id,
                pinned: *on,
                by: actor.user_id,
            }])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::MessageView;
    use crate::ids::Position;

    fn name(s: &str) -> DisplayName {
        DisplayName::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }
    fn body(s: &str) -> MessageBody {
        MessageBody::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }
    fn given(events: &[Event]) -> ChannelState {
        events.iter().fold(ChannelState::default(), evolve)
    }
    fn created(channel_id: ChannelId) -> Event {
        Event::ChannelCreated {
            channel_id,
            name: "general".into(),
            kind: ChannelKind::Lobby,
            private: false,
        }
    }

    #[test]
    fn creating_a_new_channel_emits_channel_created() {
        let id = ChannelId::new();
        let space_id = SpaceId::new();
        let cmd = ChannelCommand::CreateChannel {
            channel_id: id,
            name: "random".into(),
            space_id: Some(space_id),
            private: false,
            creator: None,
            membership: None,
        };
        let events = decide(&given(&[]), &cmd);
        assert_eq!(
            events,
            Ok(vec![Event::ChannelCreated {
                channel_id: id,
                name: "random".into(),
                kind: ChannelKind::Space { space_id },
                private: false,
            }])
        );
        let state = given(&events.unwrap_or_default());
        assert_eq!(state.space_id, Some(space_id));
        assert_eq!(state.members, None);
    }

    #[test]
    fn a_channel_cannot_be_created_twice() {
        let id = ChannelId::new();
        let cmd = ChannelCommand::CreateChannel {
            channel_id: id,
            name: "general".into(),
            space_id: None,
            private: false,
            creator: None,
            membership: None,
        };
        assert_eq!(decide(&given(&[created(id)]), &cmd), Err(DomainError::ChannelExists));
    }

    #[test]
    fn channel_names_are_checked() {
        for bad in ["", "Général", "with space", &"x".repeat(33)] {
            let cmd = ChannelCommand::CreateChannel {
                channel_id: ChannelId::new(),
                name: bad.into(),
                space_id: None,
                private: false,
                creator: None,
                membership: None,
            };
            assert_eq!(decide(&given(&[]), &cmd), Err(DomainError::BadChannelName), "{bad:?}");
        }
    }

    #[test]
    fn posting_to_an_existing_channel_emits_message_posted() {
        let id = ChannelId::new();
        let message_id = MessageId::new();
        let author_id = UserId::new();
        let cmd = ChannelCommand::PostMessage {
            attachments: Vec::new(),
            reply_to: None,
            also_in_channel: false,
            channel_id: id,
            message_id,
            author_id,
            author: name("ada"),
            body: body("hello"),
        };
        let events = decide(&given(&[created(id)]), &cmd);
        assert_eq!(
            events,
            Ok(vec![Event::MessagePosted {
                attachments: Vec::new(),
                reply_to: None,
                also_in_channel: false,
                channel_id: id,
                message_id,
                author: name("ada"),
                body: body("hello"),
                author_id: Some(author_id),
            }])
        );
    }

    #[test]
    fn posting_to_a_missing_channel_is_refused() {
        let cmd = ChannelCommand::PostMessage {
            attachments: Vec::new(),
            reply_to: None,
            also_in_channel: false,
            channel_id: ChannelId::new(),
            message_id: MessageId::new(),
            author_id: UserId::new(),
            author: name("ada"),
            body: body("hello"),
        };
        assert_eq!(decide(&given(&[]), &cmd), Err(DomainError::NoSuchChannel));
    }

    #[test]
    fn a_direct_channel_admits_its_people_only_and_opens_once() {
        let (ada, bob, eve) = (UserId::new(), UserId::new(), UserId::new());
        let members: BTreeSet<UserId> = [ada, bob].into();
        let channel_id = ChannelId::direct(&members);
        let open = ChannelCommand::OpenDirect {
            channel_id,
            opener: ada,
            members: members.clone(),
        };
        let events = decide(&given(&[]), &open).unwrap_or_default();
        let state = given(&events);
        assert_eq!(state.admits_directly(bob, Some(3)), Some(true));
        assert_eq!(state.admits_directly(eve, None), Some(false));
        assert_eq!(decide(&state, &open), Ok(Vec::new()), "opening again changes nothing");
        let alone = ChannelCommand::OpenDirect {
            channel_id,
            opener: ada,
            members: [ada].into(),
        };
        assert!(matches!(
            decide(&given(&[]), &alone),
            Err(DomainError::BadDirectMembers { .. })
        ));
        let not_in_it = ChannelCommand::OpenDirect {
            channel_id,
            opener: eve,
            members,
        };
        assert!(matches!(
            decide(&given(&[]), &not_in_it),
            Err(DomainError::BadDirectMembers { .. })
        ));
        assert_eq!(given(&[created(channel_id)]).admits_directly(eve, None), None);
    }

    #[test]
    fn space_channels_can_be_renamed_and_archived_and_then_take_no_posts() {
        let id = ChannelId::new();
        let in_space = Event::ChannelCreated {
            channel_id: id,
            name: "design".into(),
            private: false,
            kind: ChannelKind::Space {
                space_id: SpaceId::new(),
            },
        };
        let rename = |name: &str| ChannelCommand::RenameChannel {
            channel_id: id,
            name: name.into(),
        };
        let renamed = decide(&given(std::slice::from_ref(&in_space)), &rename("ux"));
        let renamed = renamed.unwrap_or_default();
        let state = given(&[in_space.clone(), renamed[0].clone()]);
        assert_eq!(state.name.as_deref(), Some("ux"));
        assert_eq!(decide(&state, &rename("Bad Name")), Err(DomainError::BadChannelName));

        let archived = decide(&state, &ChannelCommand::ArchiveChannel { channel_id: id }).unwrap_or_default();
        let state = given(&[in_space, renamed[0].clone(), archived[0].clone()]);
        assert!(state.archived);
        let post = ChannelCommand::PostMessage {
            attachments: Vec::new(),
            reply_to: None,
            also_in_channel: false,
            channel_id: id,
            message_id: MessageId::new(),
            author_id: UserId::new(),
            author: name("ada"),
            body: body("anyone?"),
        };
        assert_eq!(decide(&state, &post), Err(DomainError::ChannelArchived));
        assert_eq!(decide(&state, &rename("again")), Err(DomainError::ChannelArchived));
        // The lobby is not a space's channel.
        assert_eq!(
            decide(
                &given(&[created(id)]),
                &ChannelCommand::ArchiveChannel { channel_id: id }
            ),
            Err(DomainError::NotASpaceChannel)
        );
    }

    #[test]
    fn evolve_counts_the_stream_version() {
        let id = ChannelId::new();
        let post = Event::MessagePosted {
            attachments: Vec::new(),
            reply_to: None,
            also_in_channel: false,
            channel_id: id,
            message_id: MessageId::new(),
            author: name("ada"),
            body: body("x"),
            author_id: None,
        };
        let state = given(&[created(id), post.clone(), post]);
        assert_eq!(state.version, 3);
        assert_eq!(state.name.as_deref(), Some("general"));
    }

    #[test]
    fn edits_are_the_authors_deletes_the_authors_or_a_moderators() {
        let channel_id = ChannelId::new();
        let state = evolve(ChannelState::default(), &created(channel_id));
        let (ada, bob) = (UserId::new(), UserId::new());
        let message_id = MessageId::new();
        let facts = MessageFacts {
            author_id: Some(ada),
            deleted: false,
            reactions: Vec::new(),
            pinned: false,
            pins_in_channel: 0,
            kind: crate::event::MessageKind::Message,
        };
        let actor = |user_id, moderates| Actor {
            user_id,
            name: name("someone"),
            moderates,
            pins: false,
        };
        let edit = MessageChange::Edit {
            body: MessageBody::parse("better").expect("a body"),
        };
        let decide = |facts: Option<&MessageFacts>, who: &Actor, change: &MessageChange, reacted| {
            decide_change(&state, channel_id, message_id, facts, who, change, reacted)
        };
        assert!(matches!(
            decide(Some(&facts), &actor(ada, false), &edit, false).as_deref(),
            Ok([Event::MessageEdited { .. }])
        ));
        assert_eq!(
            decide(Some(&facts), &actor(bob, true), &edit, false),
            Err(DomainError::NotYourMessage),
            "not even a moderator edits someone else's words"
        );
        assert_eq!(
            decide(Some(&facts), &actor(bob, false), &MessageChange::Delete, false),
            Err(DomainError::NotYourMessage)
        );
        assert!(decide(Some(&facts), &actor(bob, true), &MessageChange::Delete, false).is_ok());
        assert!(decide(Some(&facts), &actor(ada, false), &MessageChange::Delete, false).is_ok());
        assert_eq!(
            decide(None, &actor(ada, false), &edit, false),
            Err(DomainError::NoSuchMessage)
        );
        let gone = MessageFacts {
            author_id: Some(ada),
            deleted: true,
            reactions: Vec::new(),
            pinned: false,
            pins_in_channel: 0,
            kind: crate::event::MessageKind::Message,
        };
        assert_eq!(
            decide(Some(&gone), &actor(ada, false), &edit, false),
            Err(DomainError::MessageWasDeleted)
        );
    }

    #[test]
    fn a_reaction_is_a_state_so_repeating_it_adds_nothing() {
        let channel_id = ChannelId::new();
        let state = evolve(ChannelState::default(), &created(channel_id));
        let user_id = UserId::new();
        let facts = MessageFacts {
            author_id: Some(UserId::new()),
            deleted: false,
            reactions: Vec::new(),
            pinned: false,
            pins_in_channel: 0,
            kind: crate::event::MessageKind::Message,
        };
        let actor = Actor {
            user_id,
            name: name("bob"),
            moderates: false,
            pins: true,
        };
        let thumbs = |on| MessageChange::React {
            emoji: Emoji::parse("👍").expect("an emoji"),
            on,
        };
        let message_id = MessageId::new();
        let decide = |change: &MessageChange, reacted| {
            decide_change(&state, channel_id, message_id, Some(&facts), &actor, change, reacted)
        };
        assert!(matches!(
            decide(&thumbs(true), false).as_deref(),
            Ok([Event::ReactionAdded { .. }])
        ));
        assert_eq!(decide(&thumbs(true), true), Ok(Vec::new()));
        assert!(matches!(
            decide(&thumbs(false), true).as_deref(),
            Ok([Event::ReactionRemoved { .. }])
        ));
        assert_eq!(decide(&thumbs(false), false), Ok(Vec::new()));

        // A message full of different reactions takes more of those, but no new one.
        let many = [
            "😀", "😃", "😄", "😁", "😆", "😅", "🤣", "😂", "🙂", "🙃", "😉", "😊", "😇", "🥰", "😍", "🤩", "😘", "😗",
            "😚", "😙",
        ];
        let full = MessageFacts {
            reactions: many.iter().map(|e| Emoji::parse(e).expect("an emoji")).collect(),
            ..facts.clone()
        };
        assert_eq!(full.reactions.len(), MAX_DISTINCT_REACTIONS);
        let on_full = |emoji: &str| {
            let change = MessageChange::React {
                emoji: Emoji::parse(emoji).expect("an emoji"),
                on: true,
            };
            decide_change(&state, channel_id, message_id, Some(&full), &actor, &change, false)
        };
        assert_eq!(on_full("👍"), Err(DomainError::TooManyReactions));
        assert!(matches!(on_full("😀").as_deref(), Ok([Event::ReactionAdded { .. }])));
    }

    fn facts(pinned: bool, pins_in_channel: u32) -> MessageFacts {
        MessageFacts {
            author_id: Some(UserId::new()),
            deleted: false,
            reactions: Vec::new(),
            pinned,
            pins_in_channel,
            kind: crate::event::MessageKind::Message,
        }
    }

    #[test]
    fn a_pin_is_a_state_for_those_the_space_lets_pin_up_to_a_limit() {
        let channel_id = ChannelId::new();
        let state = evolve(ChannelState::default(), &created(channel_id));
        let message_id = MessageId::new();
        let actor = |pins| Actor {
            user_id: UserId::new(),
            name: name("ada"),
            moderates: false,
            pins,
        };
        let pin = |on| MessageChange::Pin { on };
        let decide = |facts: &MessageFacts, actor: &Actor, change: &MessageChange| {
            decide_change(&state, channel_id, message_id, Some(facts), actor, change, false)
        };
        assert!(matches!(
            decide(&facts(false, 0), &actor(true), &pin(true)).as_deref(),
            Ok([Event::MessagePinned { pinned: true, .. }])
        ));
        assert_eq!(decide(&facts(true, 1), &actor(true), &pin(true)), Ok(Vec::new()));
        assert!(matches!(
            decide(&facts(true, 1), &actor(true), &pin(false)).as_deref(),
            Ok([Event::MessagePinned { pinned: false, .. }])
        ));
        assert_eq!(
            decide(&facts(false, 0), &actor(false), &pin(true)),
            Err(DomainError::NotAllowed)
        );
        assert_eq!(
            decide(&facts(false, MAX_PINS), &actor(true), &pin(true)),
            Err(DomainError::TooManyPins)
        );
        // Unpinning is always possible, even at the limit.
        assert!(decide(&facts(true, MAX_PINS), &actor(true), &pin(false)).is_ok());
        // A notice takes no change at all.
        let notice = MessageFacts {
            kind: crate::event::MessageKind::Topic,
            ..facts(false, 0)
        };
        assert_eq!(decide(&notice, &actor(true), &pin(true)), Err(DomainError::NotAMessage));
        assert_eq!(
            decide(&notice, &actor(true), &MessageChange::Delete),
            Err(DomainError::NotAMessage)
        );
    }

    #[test]
    fn a_pinned_view_unpins_when_deleted() {
        let channel_id = ChannelId::new();
        let message_id = MessageId::new();
        let mut view = MessageView::posted(Position(1), message_id, channel_id, "ada".into(), "hi".into(), 0);
        let by = UserId::new();
        view.fold(
            Position(2),
            &Event::MessagePinned {
                channel_id,
                message_id,
                pinned: true,
                by,
            },
        );
        assert!(view.pinned);
        view.fold(
            Position(3),
            &Event::MessageDeleted {
                channel_id,
                message_id,
                deleted_by: by,
            },
        );
        assert!(!view.pinned);
        // An old copy of the pin changes nothing.
        view.fold(
            Position(2),
            &Event::MessagePinned {
                channel_id,
                message_id,
                pinned: true,
                by,
            },
        );
        assert!(!view.pinned);
    }

    #[test]
    fn a_topic_is_one_clean_line_set_in_a_space_channel() {
        let id = ChannelId::new();
        let in_space = Event::ChannelCreated {
            channel_id: id,
            name: "design".into(),
            private: false,
            kind: ChannelKind::Space {
                space_id: SpaceId::new(),
            },
        };
        let set = |topic: &str, description: &str| ChannelCommand::SetTopic {
            channel_id: id,
            message_id: MessageId::new(),
            topic: topic.into(),
            description: description.into(),
            by: UserId::new(),
            by_name: name("ada"),
        };
        let state = given(std::slice::from_ref(&in_space));
        let events = decide(&state, &set("  Ship 1.0 by Friday ", "What we build.\nAnd why."));
        let Ok([Event::TopicChanged { topic, description, .. }]) = events.as_deref() else {
            panic!("{events:?}");
        };
        assert_eq!(topic, "Ship 1.0 by Friday");
        assert_eq!(description, "What we build.\nAnd why.");
        let state = given(&[in_space.clone(), events.clone().unwrap_or_default()[0].clone()]);
        assert_eq!(state.topic, "Ship 1.0 by Friday");
        assert_eq!(
            decide(&state, &set("Ship 1.0 by Friday", "What we build.\nAnd why.")),
            Ok(Vec::new())
        );
        for (topic, description) in [
            ("two\nlines", ""),
            ("bell\u{7}", ""),
            (&*"x".repeat(MAX_TOPIC_CHARS + 1), ""),
            ("", &*"y".repeat(MAX_DESCRIPTION_CHARS + 1)),
            ("", "tab\there"),
        ] {
            assert_eq!(
                decide(&state, &set(topic, description)),
                Err(DomainError::BadTopic),
                "{topic:?}"
            );
        }
        assert_eq!(
            decide(&given(&[created(id)]), &set("lobby", "")),
            Err(DomainError::NotASpaceChannel)
        );
        let archived = given(&[in_space, Event::ChannelArchived { channel_id: id }]);
        assert_eq!(decide(&archived, &set("late", "")), Err(DomainError::ChannelArchived));
    }

    #[test]
    fn a_private_channel_admits_those_added_and_moderators_add_and_remove() {
        let id = ChannelId::new();
        let (ada, bob, eve) = (UserId::new(), UserId::new(), UserId::new());
        let create = ChannelCommand::CreateChannel {
            channel_id: id,
            name: "secret".into(),
            space_id: Some(SpaceId::new()),
            private: true,
            creator: Some(ada),
            membership: Some(0),
        };
        let events = decide(&given(&[]), &create).unwrap_or_default();
        assert!(matches!(
            events.as_slice(),
            [Event::ChannelCreated { private: true, .. }, Event::ChannelJoined { .. }]
        ));
        let state = given(&events);
        assert_eq!(state.admits_directly(ada, Some(0)), Some(true), "its creator is in it");
        assert_eq!(state.admits_directly(bob, Some(3)), Some(false));
        let join = |user, by, moderates| ChannelCommand::Join {
            channel_id: id,
            user,
            by,
            moderates,
            membership: Some(3),
        };
        let leave = |user, by, moderates| ChannelCommand::Leave {
            channel_id: id,
            user,
            by,
            moderates,
            membership: Some(if user == ada { 0 } else { 3 }),
        };
        assert_eq!(
            decide(&state, &join(bob, bob, false)),
            Err(DomainError::NotAllowed),
            "no one joins alone"
        );
        assert_eq!(decide(&state, &join(bob, eve, false)), Err(DomainError::NotAllowed));
        let added = decide(&state, &join(bob, ada, true)).unwrap_or_default();
        let state = events.iter().chain(&added).fold(ChannelState::default(), evolve);
        assert_eq!(state.admits_directly(bob, Some(3)), Some(true));
        assert_eq!(
            state.admits_directly(bob, Some(7)),
            Some(false),
            "once removed from the space and invited again, not back in"
        );
        assert_eq!(decide(&state, &join(bob, ada, true)), Ok(Vec::new()), "twice is once");
        assert_eq!(decide(&state, &leave(ada, bob, false)), Err(DomainError::NotAllowed));
        let removed = decide(&state, &leave(bob, ada, true)).unwrap_or_default();
        let state = events
            .iter()
            .chain(&added)
            .chain(&removed)
            .fold(ChannelState::default(), evolve);
        assert_eq!(state.admits_directly(bob, Some(3)), Some(false));
        // A private channel needs a space and a creator.
        let nowhere = ChannelCommand::CreateChannel {
            channel_id: ChannelId::new(),
            name: "x".into(),
            space_id: None,
            private: true,
            creator: Some(ada),
            membership: Some(0),
        };
        assert_eq!(decide(&given(&[]), &nowhere), Err(DomainError::NotASpaceChannel));
    }

    #[test]
    fn a_public_channel_is_left_and_joined_by_oneself_and_a_deleted_one_is_gone() {
        let id = ChannelId::new();
        let in_space = Event::ChannelCreated {
            channel_id: id,
            name: "lounge".into(),
            kind: ChannelKind::Space {
                space_id: SpaceId::new(),
            },
            private: false,
        };
        let (ada, bob) = (UserId::new(), UserId::new());
        let state = given(std::slice::from_ref(&in_space));
        assert!(state.is_in(bob, Some(1)), "a public channel's space members are in it");
        assert_eq!(
            state.admits_directly(bob, Some(3)),
            None,
            "the space decides who reads it"
        );
        let leave = ChannelCommand::Leave {
            channel_id: id,
            user: bob,
            by: bob,
            moderates: false,
            membership: Some(1),
        };
        let left = decide(&state, &leave).unwrap_or_default();
        let state = given(&[in_space.clone(), left[0].clone()]);
        assert!(!state.is_in(bob, Some(1)));
        assert!(
            state.is_in(bob, Some(5)),
            "back in the space, back in its public channels"
        );
        assert_eq!(
            state.admits_directly(bob, Some(3)),
            None,
            "leaving takes no access away"
        );
        let moderator_adds = ChannelCommand::Join {
            channel_id: id,
            user: bob,
            by: ada,
            moderates: true,
            membership: Some(1),
        };
        assert_eq!(
            decide(&state, &moderator_adds),
            Err(DomainError::NotAllowed),
            "one joins a public channel oneself"
        );
        let deleted = decide(&state, &ChannelCommand::DeleteChannel { channel_id: id }).unwrap_or_default();
        let state = given(&[in_space, left[0].clone(), deleted[0].clone()]);
        assert!(!state.exists());
        let post = ChannelCommand::PostMessage {
            attachments: Vec::new(),
            reply_to: None,
            also_in_channel: false,
            channel_id: id,
            message_id: MessageId::new(),
            author_id: ada,
            author: name("ada"),
            body: body("anyone?"),
        };
        assert_eq!(decide(&state, &post), Err(DomainError::NoSuchChannel));
    }
}
