//! Events of the log, the envelope a committed event travels in, and the message read view.

use crate::attachment::Attachment;
use crate::ids::{ChannelId, CorrelationId, EventId, MessageId, Position, StreamId, UserId};
use crate::profile::Profile;
use crate::rules::{DisplayName, Emoji, MessageBody};
use crate::schema::{self, UpcastError};
use crate::values::{ChannelKind, PasswordHash, Role, SpaceId, SpaceSettings, Username};
use serde::{Deserialize, Serialize};

crate::tagged_enum! {
    #[serde(tag = "type", content = "data")]
    /// Every kind of event the log holds. Serialized as `{"type": ..., "data": {...}}`;
    /// the store keeps `type` and the schema version in columns of their own. Each type has
    /// its own schema version ([`crate::schema`]); this enum is today's shape of every type.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub enum Event {
        /// Schema version 2 (version 1 had an optional `space_id` and optional `members`).
        ChannelCreated {
            channel_id: ChannelId,
            name: String,
            /// The lobby, a space's channel or a direct conversation.
            kind: ChannelKind,
            /// A space's channel only its invited members may read (an additive field: absent
            /// in channels from before private ones, which are public).
            #[serde(default, skip_serializing_if = "std::ops::Not::not")]
            private: bool,
        },
        /// Someone is in a space's channel: joined a public one (from the channel browser), or
        /// was added to a private one (by a moderator, or as its creator).
        ChannelJoined {
            channel_id: ChannelId,
            user_id: UserId,
            by: UserId,
            /// Which membership of the space this is part of (see
            /// [`crate::space::SpaceState::membership`]): one left or removed since no longer
            /// counts. Additive: absent in events from before it, which count for any.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            membership: Option<u64>,
        },
        /// Someone is no longer in a space's channel: left it, or was removed from a private one.
        ChannelLeft {
            channel_id: ChannelId,
            user_id: UserId,
            by: UserId,
            /// As for [`Event::ChannelJoined`].
            #[serde(default, skip_serializing_if = "Option::is_none")]
            membership: Option<u64>,
        },
        /// An admin deleted a space's channel: its messages leave every read model and door; the
        /// log keeps them, redacted as deleted messages are.
        ChannelDeleted {
            channel_id: ChannelId,
        },
        ChannelRenamed {
            channel_id: ChannelId,
            name: String,
        },
        /// Read-only from now on: history stays, nothing new is posted.
        ChannelArchived {
            channel_id: ChannelId,
        },
        MessagePosted {
            channel_id: ChannelId,
            message_id: MessageId,
            author: DisplayName,
            body: MessageBody,
            /// The account that posted it. Absent in messages from before accounts existed
            /// (an additive change: schema version 1 still reads both).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            author_id: Option<UserId>,
            /// The thread it replies in: its root message. Absent for a message of the channel.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            reply_to: Option<MessageId>,
            /// A reply shown in its channel too ("also send to channel"; an additive field).
            #[serde(default, skip_serializing_if = "std::ops::Not::not")]
            also_in_channel: bool,
            /// Files sent with it (an additive change: older messages have none).
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            attachments: Vec<Attachment>,
        },
        /// A message's body was replaced by its author. The old body stays in the log.
        MessageEdited {
            channel_id: ChannelId,
            message_id: MessageId,
            body: MessageBody,
            editor_id: UserId,
        },
        /// A message was deleted by its author or a moderator: it shows as deleted.
        MessageDeleted {
            channel_id: ChannelId,
            message_id: MessageId,
            deleted_by: UserId,
        },
        /// Someone reacted to a message with an emoji.
        ReactionAdded {
            channel_id: ChannelId,
            message_id: MessageId,
            user_id: UserId,
            user: DisplayName,
            emoji: Emoji,
        },
        /// Someone took their reaction back.
        ReactionRemoved {
            channel_id: ChannelId,
            message_id: MessageId,
            user_id: UserId,
            user: DisplayName,
            emoji: Emoji,
        },
        /// Someone pinned a message to its channel (or unpinned it: `pinned` false).
        MessagePinned {
            channel_id: ChannelId,
            message_id: MessageId,
            pinned: bool,
            by: UserId,
        },
        /// A channel's topic (a line in its header) and description were set, by a member or
        /// a moderator as the space's settings allow. Shown in the channel, like a message.
        TopicChanged {
            channel_id: ChannelId,
            /// Its place in the channel's timeline, as a message's.
            message_id: MessageId,
            topic: String,
            description: String,
            by: UserId,
            by_name: DisplayName,
        },
        /// Someone signed up. Its stream is the account's (`account-<username>`).
        AccountRegistered {
            user_id: UserId,
            username: Username,
            password_hash: PasswordHash,
            /// A bot's account: the space it belongs to and who made it (an additive field:
            /// absent for a person's account). A bot has no password and never signs in; it acts
            /// with its API token, and is a member of its space only.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            bot: Option<crate::values::BotOf>,
        },
        /// An account was made an instance admin (who may open the event inspector), by the
        /// server's `create-admin` command. On the account's stream.
        AdminGranted {
            user_id: UserId,
            username: Username,
        },
        /// An instance admin took an account's admin rights away. On the account's stream.
        AdminRevoked {
            user_id: UserId,
            username: Username,
        },
        /// An instance admin disabled an account: its sessions end, it cannot sign in or use its
        /// API tokens until enabled again. On the account's stream.
        AccountDisabled {
            user_id: UserId,
            username: Username,
        },
        AccountEnabled {
            user_id: UserId,
            username: Username,
        },
        /// An account's password was replaced (its owner gave the current one). On the
        /// account's stream; the hash is a secret that no door shows.
        PasswordChanged {
            user_id: UserId,
            username: Username,
            password_hash: PasswordHash,
        },
        /// Someone saved their profile (display name, status, time zone): it replaces the
        /// last one whole. On the account's stream.
        ProfileChanged {
            user_id: UserId,
            username: Username,
            profile: Profile,
        },
        /// An account was deleted, by its owner (who gave the password) or an instance admin.
        /// From here on every door serves the account's personal data (username, profile,
        /// picture) from every event as erased (see `crate::redact`), its messages attributed
        /// to [`crate::redact::ERASED_NAME`], or taken out too when `messages` is set. Carries
        /// no name itself. On the account's stream, which stays taken: nobody signs up as it.
        AccountErased {
            user_id: UserId,
            /// Its messages are redacted like deleted ones, not only unattributed.
            messages: bool,
            erased_by: UserId,
        },
        /// Sessions of an account ended (signed out, or "sign out everywhere else"): every
        /// node closes the sockets opened with them. `sessions` are the sessions' public ids
        /// (derived from the stored hash of the token), never their tokens. On the user's sessions stream
        /// (`sessions-<user id>`).
        SessionsEnded {
            user_id: UserId,
            sessions: Vec<String>,
        },
        SpaceCreated {
            space_id: SpaceId,
            name: String,
            owner: UserId,
        },
        SpaceRenamed {
            space_id: SpaceId,
            name: String,
        },
        SpaceDeleted {
            space_id: SpaceId,
        },
        InviteCreated {
            space_id: SpaceId,
            code: String,
            expires_at_ms: Option<i64>,
            max_uses: Option<u32>,
        },
        InviteRevoked {
            space_id: SpaceId,
            code: String,
        },
        MemberJoined {
            space_id: SpaceId,
            user_id: UserId,
            role: Role,
            /// The invite used, if any (the creator joins without one).
            invite: Option<String>,
        },
        MemberLeft {
            space_id: SpaceId,
            user_id: UserId,
        },
        MemberRemoved {
            space_id: SpaceId,
            user_id: UserId,
        },
        RoleChanged {
            space_id: SpaceId,
            user_id: UserId,
            role: Role,
        },
        /// A space's admin changed who may pin and who may set topics.
        SpaceConfigured {
            space_id: SpaceId,
            settings: SpaceSettings,
        },
        /// A user has read a channel up to a log position (on the user's own `reads-` stream).
        ChannelRead {
            user_id: UserId,
            channel_id: ChannelId,
            up_to: Position,
        },
        /// A user saved a message for later, for themselves alone (or let go of it: `saved`
        /// false). On the user's own `saved-` stream.
        MessageSaved {
            user_id: UserId,
            channel_id: ChannelId,
            message_id: MessageId,
            saved: bool,
        },
        /// A user follows a thread (or stops: `following` false) by hand. Posting in a thread,
        /// being mentioned in it or having started it follows it without this. On the user's
        /// own `reads-` stream.
        ThreadFollowed {
            user_id: UserId,
            channel_id: ChannelId,
            root: MessageId,
            following: bool,
        },
        /// A user has read a thread up to a log position (on the user's own `reads-` stream).
        ThreadRead {
            user_id: UserId,
            channel_id: ChannelId,
            root: MessageId,
            up_to: Position,
        },
        /// A user silenced a channel (no notifications, not in the unread total), or not.
        ChannelMuted {
            user_id: UserId,
            channel_id: ChannelId,
            muted: bool,
        },
        /// A space's admin subscribed a URL to the space's events (all, or these types).
        WebhookCreated {
            space_id: SpaceId,
            webhook_id: uuid::Uuid,
            url: String,
            event_types: Vec<String>,
        },
        WebhookDeleted {
            space_id: SpaceId,
            webhook_id: uuid::Uuid,
        },
        /// A space's admin paused a webhook (its events wait at its offset, none is lost), or
        /// let it go on.
        WebhookPaused {
            space_id: SpaceId,
            webhook_id: uuid::Uuid,
            paused: bool,
        },
        /// A space's admin made a topic that producers publish events to, with the JSON Schema
        /// its events must meet, if any. On the space's stream.
        TopicCreated {
            space_id: SpaceId,
            name: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            schema: Option<serde_json::Value>,
        },
        /// A producer published an event to a topic: any JSON (as the topic's schema allows).
        /// On the topic's own stream ([`crate::topic::stream`]).
        TopicPublished {
            space_id: SpaceId,
            topic: String,
            data: serde_json::Value,
            by: UserId,
        },
    }
}

/// Why stored bytes could not be read back as an [`Event`].
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Schema(#[from] UpcastError),
    #[error("malformed {event_type} payload: {source}")]
    Malformed {
        event_type: String,
        source: serde_json::Error,
    },
}

/// An event's serialized form, `{"type": event_type, "data": payload}`, as serde reads it,
/// the tag first and the data straight from the payload's text.
struct Tagged<'a, 'de> {
    event_type: &'a str,
    data: &'a mut serde_json::Deserializer<serde_json::de::StrRead<'de>>,
    /// 0 before the tag, 1 before the data, 2 after it.
    next: u8,
}

impl<'de> serde::de::MapAccess<'de> for Tagged<'_, 'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        let key = match self.next {
            0 => "type",
            1 => "data",
            _ => return Ok(None),
        };
        seed.deserialize(serde::de::value::StrDeserializer::<Self::Error>::new(key))
            .map(Some)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        self.next += 1;
        match self.next {
            1 => seed.deserialize(serde::de::value::StrDeserializer::<Self::Error>::new(self.event_type)),
            _ => seed.deserialize(&mut *self.data),
        }
    }
}

impl Event {
    /// The schema version this event is written with: today's version of its type.
    pub fn schema_version(&self) -> u32 {
        schema::current_version(self.event_type())
    }

    pub fn event_type(&self) -> &'static str {
        match self {
            Self::ChannelCreated { .. } => "ChannelCreated",
            Self::MessagePosted { .. } => "MessagePosted",
            Self::ChannelRenamed { .. } => "ChannelRenamed",
            Self::ChannelArchived { .. } => "ChannelArchived",
            Self::ChannelJoined { .. } => "ChannelJoined",
            Self::ChannelLeft { .. } => "ChannelLeft",
            Self::ChannelDeleted { .. } => "ChannelDeleted",
            Self::MessageEdited { .. } => "MessageEdited",
            Self::MessageDeleted { .. } => "MessageDeleted",
            Self::ReactionAdded { .. } => "ReactionAdded",
            Self::ReactionRemoved { .. } => "ReactionRemoved",
            Self::MessagePinned { .. } => "MessagePinned",
            Self::TopicChanged { .. } => "TopicChanged",
            Self::SpaceConfigured { .. } => "SpaceConfigured",
            Self::AccountRegistered { .. } => "AccountRegistered",
            Self::AdminGranted { .. } => "AdminGranted",
            Self::PasswordChanged { .. } => "PasswordChanged",
            Self::AdminRevoked { .. } => "AdminRevoked",
            Self::AccountDisabled { .. } => "AccountDisabled",
            Self::AccountEnabled { .. } => "AccountEnabled",
            Self::ProfileChanged { .. } => "ProfileChanged",
            Self::AccountErased { .. } => "AccountErased",
            Self::SessionsEnded { .. } => "SessionsEnded",
            Self::SpaceCreated { .. } => "SpaceCreated",
            Self::SpaceRenamed { .. } => "SpaceRenamed",
            Self::SpaceDeleted { .. } => "SpaceDeleted",
            Self::InviteCreated { .. } => "InviteCreated",
            Self::InviteRevoked { .. } => "InviteRevoked",
            Self::MemberJoined { .. } => "MemberJoined",
            Self::MemberLeft { .. } => "MemberLeft",
            Self::MemberRemoved { .. } => "MemberRemoved",
            Self::RoleChanged { .. } => "RoleChanged",
            Self::ChannelRead { .. } => "ChannelRead",
            Self::ChannelMuted { .. } => "ChannelMuted",
            Self::MessageSaved { .. } => "MessageSaved",
            Self::ThreadFollowed { .. } => "ThreadFollowed",
            Self::ThreadRead { .. } => "ThreadRead",
            Self::WebhookCreated { .. } => "WebhookCreated",
            Self::WebhookDeleted { .. } => "WebhookDeleted",
            Self::WebhookPaused { .. } => "WebhookPaused",
            Self::TopicCreated { .. } => "TopicCreated",
            Self::TopicPublished { .. } => "TopicPublished",
        }
    }

    /// The payload column: the event's data without its type tag.
    pub fn payload(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => map.remove("data").unwrap_or_default(),
            _ => serde_json::Value::Null,
        }
    }

    /// The payload column as stored: [`Self::payload`]'s JSON text, written in one pass (no
    /// JSON tree, the fields in their declared order). serde writes this enum as
    /// `{"type":"<event type>","data":<payload>}`, so the payload is that text without its
    /// head and its last brace; anything else (none is known) takes the tree's way.
    pub fn payload_text(&self) -> String {
        let text = self.payload_text_in_one_pass();
        // Every event the tests append passes here: each type takes the one pass, to the tree's value.
        debug_assert_eq!(
            text.as_deref()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok()),
            Some(self.payload()),
            "{} is not written as {{\"type\":..,\"data\":..}}",
            self.event_type()
        );
        text.unwrap_or_else(|| self.payload().to_string())
    }

    fn payload_text_in_one_pass(&self) -> Option<String> {
        let mut text = serde_json::to_string(self).ok()?;
        // The head checked in place: no string made for it on the store's path.
        let payload = text
            .strip_prefix(r#"{"type":""#)?
            .strip_prefix(self.event_type())?
            .strip_prefix(r#"","data":"#)?;
        let head = text.len() - payload.len();
        if !payload.ends_with('}') {
            return None;
        }
        text.pop();
        text.drain(..head);
        Some(text)
    }

    /// Reads an event back from its type, schema version and payload columns, upcasting
    /// an old version to today's shape.
    pub fn decode(event_type: &str, schema_version: u32, payload: serde_json::Value) -> Result<Self, DecodeError> {
        let payload = schema::upcast(event_type, schema_version, payload)?;
        let tagged = serde_json::json!({ "type": event_type, "data": payload });
        serde_json::from_value(tagged).map_err(|source| DecodeError::Malformed {
            event_type: event_type.to_owned(),
            source,
        })
    }

    /// Reads an event back from its columns with the payload as stored, JSON text. Today's
    /// version is read straight into the event, in one pass over the text: no JSON tree is
    /// built, nor a tagged copy of it (the store's reads spent most of their time there). An
    /// older version goes through [`Self::decode`] to be upcast.
    pub fn decode_text(event_type: &str, schema_version: u32, payload: &str) -> Result<Self, DecodeError> {
        let malformed = |source| DecodeError::Malformed {
            event_type: event_type.to_owned(),
            source,
        };
        if schema_version != schema::current_version(event_type) {
            let payload = serde_json::from_str(payload).map_err(malformed)?;
            return Self::decode(event_type, schema_version, payload);
        }
        let mut data = serde_json::Deserializer::from_str(payload);
        let event = Self::deserialize(serde::de::value::MapAccessDeserializer::new(Tagged {
            event_type,
            data: &mut data,
            next: 0,
        }))
        .map_err(malformed)?;
        // The payload is one JSON value and nothing after it.
        data.end().map_err(malformed)?;
        Ok(event)
    }

    /// The channel this event belongs to, if it belongs to one.
    pub fn channel_id(&self) -> Option<ChannelId> {
        match self {
            Self::ChannelCreated { channel_id, .. }
            | Self::ChannelRenamed { channel_id, .. }
            | Self::ChannelArchived { channel_id }
            | Self::ChannelJoined { channel_id, .. }
            | Self::ChannelLeft { channel_id, .. }
            | Self::ChannelDeleted { channel_id }
            | Self::MessagePosted { channel_id, .. }
            | Self::MessageEdited { channel_id, .. }
            | Self::MessageDeleted { channel_id, .. }
            | Self::ReactionAdded { channel_id, .. }
            | Self::ReactionRemoved { channel_id, .. }
            | Self::MessagePinned { channel_id, .. }
            | Self::TopicChanged { channel_id, .. } => Some(*channel_id),
            _ => None,
        }
    }

    /// The space this event happens in, for events of the space itself (not of its channels).
    pub fn space_id(&self) -> Option<SpaceId> {
        match self {
            Self::SpaceCreated { space_id, .. }
            | Self::SpaceRenamed { space_id, .. }
            | Self::SpaceDeleted { space_id }
            | Self::InviteCreated { space_id, .. }
            | Self::InviteRevoked { space_id, .. }
            | Self::MemberJoined { space_id, .. }
            | Self::MemberLeft { space_id, .. }
            | Self::MemberRemoved { space_id, .. }
            | Self::RoleChanged { space_id, .. }
            | Self::SpaceConfigured { space_id, .. }
            | Self::WebhookCreated { space_id, .. }
            | Self::WebhookDeleted { space_id, .. }
            | Self::WebhookPaused { space_id, .. }
            | Self::TopicCreated { space_id, .. }
            | Self::TopicPublished { space_id, .. } => Some(*space_id),
            _ => None,
        }
    }

    /// The user this event concerns alone (read markers, mutes): it goes to that user's
    /// sockets, nobody else's.
    pub fn personal(&self) -> Option<UserId> {
        match self {
            Self::ChannelRead { user_id, .. }
            | Self::ChannelMuted { user_id, .. }
            | Self::MessageSaved { user_id, .. }
            | Self::ThreadFollowed { user_id, .. }
            | Self::ThreadRead { user_id, .. } => Some(*user_id),
            _ => None,
        }
    }

    /// The client message id that makes this event's append idempotent, if any.
    pub fn client_message_id(&self) -> Option<MessageId> {
        match self {
            Self::MessagePosted { message_id, .. } => Some(*message_id),
            _ => None,
        }
    }
}

/// Who caused an event and why: carried with it from the browser to every subscriber.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    /// Who acted: a display name for now, an account once accounts exist.
    pub actor: String,
    pub correlation_id: CorrelationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<EventId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<MessageId>,
}

/// A committed event as the store hands it out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub position: Position,
    pub stream_id: StreamId,
    pub stream_version: u64,
    pub event_id: EventId,
    /// The schema version of `event` as carried here: today's version of its type, since
    /// an event stored at an older version is upcast when it is read.
    pub schema_version: u32,
    pub event: Event,
    pub metadata: EventMetadata,
    /// Milliseconds since the Unix epoch, set by the server when it was stored.
    pub recorded_at_ms: i64,
}

#[cfg(test)]
impl RecordedEvent {
    /// A committed event as the core's tests need one: at `position` in `stream_id`.
    pub(crate) fn at(position: u64, stream_id: StreamId, event: Event) -> Self {
        RecordedEvent {
            position: Position(position),
            stream_id,
            stream_version: position,
            event_id: crate::ids::EventId::new(),
            schema_version: 1,
            event,
            metadata: EventMetadata {
                actor: "t".into(),
                correlation_id: crate::ids::CorrelationId::new(),
                causation_id: None,
                client_message_id: None,
            },
            recorded_at_ms: 0,
        }
    }
}

impl RecordedEvent {
    /// The line of a channel's timeline this event shows: a posted message, or a notice.
    pub fn message_view(&self) -> Option<MessageView> {
        match &self.event {
            Event::MessagePosted {
                channel_id,
                message_id,
                author,
                body,
                reply_to,
                attachments,
                also_in_channel,
                ..
            } => Some(MessageView {
                reply_to: *reply_to,
                also_in_channel: *also_in_channel && reply_to.is_some(),
                attachments: attachments.clone(),
                ..MessageView::posted(
                    self.position,
                    *message_id,
                    *channel_id,
                    author.to_string(),
                    body.to_string(),
                    self.recorded_at_ms,
                )
            }),
            Event::TopicChanged {
                channel_id,
                message_id,
                topic,
                by_name,
                ..
            } => Some(MessageView {
                kind: MessageKind::Topic,
                ..MessageView::posted(
                    self.position,
                    *message_id,
                    *channel_id,
                    by_name.to_string(),
                    topic.clone(),
                    self.recorded_at_ms,
                )
            }),
            _ => None,
        }
    }

    /// The message this event changes (edit, delete, reaction), if it changes one.
    pub fn changed_message(&self) -> Option<MessageId> {
        match &self.event {
            Event::MessageEdited { message_id, .. }
            | Event::MessageDeleted { message_id, .. }
            | Event::ReactionAdded { message_id, .. }
            | Event::ReactionRemoved { message_id, .. }
            | Event::MessagePinned { message_id, .. } => Some(*message_id),
            _ => None,
        }
    }
}

/// One row of the `messages` read model, as queries return it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub position: Position,
    pub message_id: MessageId,
    pub channel_id: ChannelId,
    pub author: String,
    /// Empty once deleted.
    pub body: String,
    pub sent_at_ms: i64,
    #[serde(default)]
    pub edited: bool,
    #[serde(default)]
    pub deleted: bool,
    /// Each emoji used, with who reacted, in the order first used.
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    /// The position of the last event folded into this view (the post itself at first):
    /// of two copies of a message, the one with the higher revision is the newer.
    #[serde(default)]
    pub revision: Position,
    /// The thread this message replies in (its root), if it is a reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageId>,
    /// A reply shown in its channel too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub also_in_channel: bool,
    /// For a thread's root: how many replies it has.
    #[serde(default)]
    pub replies: u32,
    /// Files sent with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Pinned to its channel.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
    /// A message, or a notice of a change to the channel (its `body` the new topic).
    #[serde(default, skip_serializing_if = "MessageKind::is_message")]
    pub kind: MessageKind,
}

/// What a line of a channel's timeline is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    #[default]
    Message,
    /// Someone set the channel's topic (the body) and description.
    Topic,
}

impl MessageKind {
    pub fn is_message(&self) -> bool {
        *self == MessageKind::Message
    }

    /// The read models' column.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Message => "",
            MessageKind::Topic => "topic",
        }
    }

    pub fn parse(column: &str) -> Option<MessageKind> {
        [MessageKind::Message, MessageKind::Topic]
            .into_iter()
            .find(|k| k.as_str() == column)
    }
}

/// The people who reacted to a message with one emoji.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub users: Vec<String>,
}

impl MessageView {
    /// A message as posted: not edited, not deleted, no reactions.
    pub fn posted(
        position: Position,
        message_id: MessageId,
        channel_id: ChannelId,
        author: String,
        body: String,
        sent_at_ms: i64,
    ) -> Self {
        Self {
            position,
            message_id,
            channel_id,
            author,
            body,
            sent_at_ms,
            edited: false,
            deleted: false,
            reactions: Vec::new(),
            revision: position,
            reply_to: None,
            also_in_channel: false,
            replies: 0,
            attachments: Vec::new(),
            pinned: false,
            kind: MessageKind::Message,
        }
    }

    /// This message after `event` (an edit, a delete or a reaction to it, at `position`).
    /// Events at or below the view's revision are already in it and change nothing, so
    /// copies that saw the same events agree, whatever order they saw them in.
    pub fn fold(&mut self, position: Position, event: &Event) {
        if position <= self.revision.max(self.position) {
            return;
        }
        match event {
            Event::MessageEdited { message_id, body, .. } if *message_id == self.message_id && !self.deleted => {
                self.body = body.to_string();
                self.edited = true;
            }
            Event::MessagePosted {
                reply_to: Some(root), ..
            } if *root == self.message_id => {
                self.replies += 1;
            }
            Event::MessageDeleted { message_id, .. } if *message_id == self.message_id => {
                self.body.clear();
                self.attachments.clear();
                self.deleted = true;
                self.reactions.clear();
                self.pinned = false;
            }
            Event::MessagePinned { message_id, pinned, .. } if *message_id == self.message_id && !self.deleted => {
                self.pinned = *pinned;
            }
            Event::ReactionAdded {
                message_id,
                user,
                emoji,
                ..
            } if *message_id == self.message_id && !self.deleted => {
                let user = user.to_string();
                match self.reactions.iter_mut().find(|r| r.emoji == emoji.as_str()) {
                    Some(r) if !r.users.contains(&user) => r.users.push(user),
                    Some(_) => {}
                    None => self.reactions.push(Reaction {
                        emoji: emoji.to_string(),
                        users: vec![user],
                    }),
                }
            }
            Event::ReactionRemoved {
                message_id,
                user,
                emoji,
                ..
            } if *message_id == self.message_id => {
                let user = user.to_string();
                for r in &mut self.reactions {
                    if r.emoji == emoji.as_str() {
                        r.users.retain(|u| *u != user);
                    }
                }
                self.reactions.retain(|r| !r.users.is_empty());
            }
            _ => return,
        }
        self.revision = position;
    }

    /// Whether `user` reacted with `emoji`.
    pub fn reacted(&self, user: &str, emoji: &str) -> bool {
        self.reactions
            .iter()
            .any(|r| r.emoji == emoji && r.users.iter().any(|u| u == user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted() -> Event {
        Event::MessagePosted {
            attachments: Vec::new(),
            reply_to: None,
            also_in_channel: false,
            channel_id: ChannelId::GENERAL,
            message_id: MessageId::new(),
            author: DisplayName::parse("ada").unwrap_or_else(|e| panic!("{e}")),
            body: MessageBody::parse("hi").unwrap_or_else(|e| panic!("{e}")),
            author_id: Some(UserId::new()),
        }
    }

    #[test]
    fn events_round_trip_through_their_columns() {
        for event in [
            posted(),
            Event::ChannelCreated {
                channel_id: ChannelId::new(),
                name: "x".into(),
                private: false,
                kind: ChannelKind::Space {
                    space_id: SpaceId::new(),
                },
            },
        ] {
            let back = Event::decode(event.event_type(), event.schema_version(), event.payload());
            assert_eq!(back.ok(), Some(event.clone()));
            let text = event.payload().to_string();
            let back = Event::decode_text(event.event_type(), event.schema_version(), &text);
            assert_eq!(back.ok(), Some(event));
        }
    }

    #[test]
    fn the_stored_text_is_read_as_strictly_as_its_tree() {
        let event = posted();
        let text = event.payload().to_string();
        // An older version is upcast as by `decode`.
        let channel_id = ChannelId::new();
        let v1 = serde_json::json!({ "channel_id": channel_id, "name": "old" }).to_string();
        assert_eq!(
            Event::decode_text("ChannelCreated", 1, &v1).ok(),
            Some(Event::ChannelCreated {
                channel_id,
                name: "old".into(),
                kind: ChannelKind::Lobby,
                private: false,
            })
        );
        // Anything after the payload, a payload that is not this type's, an unknown type or
        // version: refused, never read as something else.
        for (event_type, payload) in [
            ("MessagePosted", format!("{text} {{}}")),
            ("MessagePosted", format!(r#"{text},"type":"ChannelDeleted""#)),
            ("MessagePosted", r#"{"body": ""}"#.to_owned()),
            ("MessagePosted", "not json".to_owned()),
            ("ChannelRenamed", text.clone()),
            ("NoSuchEvent", "{}".to_owned()),
        ] {
            let version = schema::current_version(event_type);
            assert!(
                Event::decode_text(event_type, version, &payload).is_err(),
                "{event_type} {version} {payload} was read"
            );
        }
        assert!(Event::decode_text("MessagePosted", 99, &text).is_err());
    }

    #[test]
    fn channels_stored_at_schema_version_one_read_as_todays_events() {
        let (channel_id, space_id, ada, bob) = (ChannelId::new(), SpaceId::new(), UserId::new(), UserId::new());
        let created = |kind| Event::ChannelCreated {
            channel_id,
            name: "old".into(),
            kind,
            private: false,
        };
        // Payloads as version 1 wrote them: absent fields were left out.
        let lobby = serde_json::json!({ "channel_id": channel_id, "name": "old" });
        let in_space = serde_json::json!({ "channel_id": channel_id, "name": "old", "space_id": space_id });
        let direct = serde_json::json!({ "channel_id": channel_id, "name": "old", "members": [ada, bob] });
        assert_eq!(
            Event::decode("ChannelCreated", 1, lobby).ok(),
            Some(created(ChannelKind::Lobby))
        );
        assert_eq!(
            Event::decode("ChannelCreated", 1, in_space).ok(),
            Some(created(ChannelKind::Space { space_id }))
        );
        assert_eq!(
            Event::decode("ChannelCreated", 1, direct).ok(),
            Some(created(ChannelKind::Direct {
                members: vec![ada, bob]
            }))
        );
        let both =
            serde_json::json!({ "channel_id": channel_id, "name": "old", "space_id": space_id, "members": [ada] });
        assert!(matches!(
            Event::decode("ChannelCreated", 1, both),
            Err(DecodeError::Schema(UpcastError::Invalid { .. }))
        ));
        // Today's shape is version 2, and a version 1 payload is not read as version 2.
        assert_eq!(created(ChannelKind::Lobby).schema_version(), 2);
        let v1 = serde_json::json!({ "channel_id": channel_id, "name": "old", "space_id": space_id });
        assert!(matches!(
            Event::decode("ChannelCreated", 2, v1),
            Err(DecodeError::Malformed { .. })
        ));
    }

    #[test]
    fn messages_from_before_accounts_still_decode() {
        let old = serde_json::json!({
            "channel_id": ChannelId::GENERAL, "message_id": MessageId::new(), "author": "ada", "body": "hi",
        });
        let event = Event::decode("MessagePosted", 1, old);
        assert!(matches!(event, Ok(Event::MessagePosted { author_id: None, .. })));
    }

    #[test]
    fn the_payload_text_is_the_payload_in_declared_order() {
        let channel_id = ChannelId::new();
        let created = Event::ChannelCreated {
            channel_id,
            name: "a \"quoted\" name".into(),
            private: true,
            kind: ChannelKind::Lobby,
        };
        for event in [posted(), created.clone()] {
            let text = event.payload_text_in_one_pass();
            let value = text
                .as_deref()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
            assert_eq!(value, Some(event.payload()));
        }
        // Written as declared (the tree sorted the keys), and read back the same.
        let text = created.payload_text();
        assert!(text.starts_with(&format!(r#"{{"channel_id":"{channel_id}","name":"a \"quoted\" name","#)));
        assert_eq!(
            Event::decode_text("ChannelCreated", created.schema_version(), &text).ok(),
            Some(created)
        );
    }

    #[test]
    fn payload_has_no_type_tag() {
        let payload = posted().payload();
        assert!(payload.get("type").is_none());
        assert_eq!(payload.get("body").and_then(|b| b.as_str()), Some("hi"));
    }

    #[test]
    fn unknown_schema_versions_and_bad_payloads_are_refused() {
        let event = posted();
        assert!(matches!(
            Event::decode("MessagePosted", 99, event.payload()),
            Err(DecodeError::Schema(UpcastError::UnknownVersion { version: 99, .. }))
        ));
        assert!(matches!(
            Event::decode("MessagePosted", 1, serde_json::json!({"body": ""})),
            Err(DecodeError::Malformed { .. })
        ));
        assert!(Event::decode("NoSuchEvent", 1, serde_json::json!({})).is_err());
    }

    #[test]
    fn a_posted_event_becomes_a_message_view() {
        let event = posted();
        let recorded = RecordedEvent {
            position: Position(7),
            stream_id: ChannelId::GENERAL.stream(),
            stream_version: 3,
            event_id: EventId::new(),
            schema_version: 1,
            event: event.clone(),
            metadata: EventMetadata {
                actor: "ada".into(),
                correlation_id: CorrelationId::new(),
                causation_id: None,
                client_message_id: event.client_message_id(),
            },
            recorded_at_ms: 1_700_000_000_000,
        };
        let view = recorded.message_view();
        assert_eq!(view.as_ref().map(|v| v.position), Some(Position(7)));
        assert_eq!(view.map(|v| v.body), Some("hi".to_string()));
    }
}
