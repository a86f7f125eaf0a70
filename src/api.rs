//! The shapes every door speaks: who is signed in, what a member asks of a space or a message, and the views the server answers with.
//!
//! Shared by the browser (server functions' arguments and answers), the engine (which takes
//! and returns them), the socket and REST. No IO, no framework: plain serde types.

use crate::values::SpaceSettings;
use crate::{ChannelId, CorrelationId, MessageId, Position, Role, SpaceId, UserId};
use serde::{Deserialize, Serialize};

/// The most messages one history page may hold.
pub const MAX_HISTORY_PAGE: u32 = 200;

/// The signed-in user, as the page knows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user_id: UserId,
    pub username: String,
}

crate::tagged_enum! {
    #[serde(tag = "action", rename_all = "snake_case")]
    /// What a member asks of a space, as it arrives at a door. The server adds what only it
    /// may choose (invite codes, the clock) and checks the member's role.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub enum SpaceAction {
        Rename {
            name: String,
        },
        Delete,
        CreateInvite {
            expires_in_minutes: Option<u32>,
            max_uses: Option<u32>,
        },
        RevokeInvite {
            code: String,
        },
        Join {
            code: String,
        },
        Leave,
        Remove {
            member: UserId,
        },
        SetRole {
            member: UserId,
            role: Role,
        },
        CreateChannel {
            name: String,
            /// Only those added to it may read it (an additive field: public when absent).
            #[serde(default)]
            private: bool,
        },
        /// Puts oneself in a public channel of the space (from the channel browser).
        JoinChannel {
            channel: ChannelId,
        },
        /// Takes oneself out of a channel of the space.
        LeaveChannel {
            channel: ChannelId,
        },
        /// Adds a member of the space to a private channel (moderators who are in it).
        AddToChannel {
            channel: ChannelId,
            member: UserId,
        },
        /// Takes someone out of a private channel (moderators who are in it).
        RemoveFromChannel {
            channel: ChannelId,
            member: UserId,
        },
        /// Deletes a channel and its messages (admins).
        DeleteChannel {
            channel: ChannelId,
        },
        RenameChannel {
            channel: ChannelId,
            name: String,
        },
        ArchiveChannel {
            channel: ChannelId,
        },
        /// Sets a channel's topic (one line, in its header) and description.
        SetTopic {
            channel: ChannelId,
            topic: String,
            description: String,
        },
        /// Sets who may pin messages and who may set topics (admins).
        Configure {
            settings: SpaceSettings,
        },
    }
}

crate::tagged_enum! {
    #[serde(tag = "outcome", rename_all = "snake_case")]
    /// What a space action produced.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub enum SpaceOutcome {
        Done,
        Invite { code: String },
        Channel { channel_id: ChannelId },
    }
}

/// A space as one member sees it in the sidebar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceView {
    pub space_id: SpaceId,
    pub name: String,
    pub role: Role,
    pub channels: Vec<ChannelView>,
    /// Who may pin and who may set topics.
    #[serde(default)]
    pub settings: SpaceSettings,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelView {
    pub channel_id: ChannelId,
    pub name: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub description: String,
    /// Only those added to it may read it.
    #[serde(default)]
    pub private: bool,
}

/// A channel as the channel browser lists it: whether I am in it, and how many are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelListing {
    pub channel: ChannelView,
    pub joined: bool,
    pub members: u32,
}

/// A direct conversation, as one of its people sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectView {
    pub channel_id: ChannelId,
    /// The other people's usernames.
    pub with: Vec<String>,
}

/// An invite of a space, as those who may invite see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteView {
    pub code: String,
    pub expires_at_ms: Option<i64>,
    pub max_uses: Option<u32>,
    pub uses: u32,
}

/// One member of a space.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: UserId,
    pub username: String,
    pub role: Role,
}

crate::tagged_enum! {
    #[serde(tag = "type", rename_all = "snake_case")]
    /// A change to a message as the browser asks for it, before validation.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub enum ChangeRequest {
        /// Replace the body (its author only).
        Edit { body: String },
        /// Delete (its author, or a moderator of the space).
        Delete,
        /// Set whether the signed-in user reacts with `emoji`.
        React { emoji: String, on: bool },
        /// Pin the message to its channel, or unpin it (as the space's settings allow).
        Pin { on: bool },
    }
}

/// An earlier body of an edited message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditView {
    pub body: String,
    /// When it was replaced.
    pub replaced_at_ms: i64,
}

/// A message someone saved for later, in a channel they can still read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedItem {
    pub channel_name: String,
    pub message: crate::MessageView,
}

/// A message found by a search, in a channel the searcher can read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub channel_id: ChannelId,
    pub channel_name: String,
    pub message_id: MessageId,
    pub position: Position,
    pub author: String,
    pub sent_at_ms: i64,
    /// The matching part of the body: pieces of text, each matched or not.
    pub snippet: Vec<(String, bool)>,
}

/// The most results one search returns.
pub const MAX_SEARCH_HITS: u32 = 30;

/// A person as others see them: who they are and what they show of themselves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    pub user_id: UserId,
    pub username: String,
    #[serde(default)]
    pub profile: crate::profile::Profile,
    /// A bot's account (shown as such wherever its name is).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
}

/// A bot of a space, as its admins see it in the list of bots and integrations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotView {
    pub user_id: UserId,
    pub username: String,
    /// The name it shows (its display name, or its username).
    pub name: String,
    /// For an incoming webhook's bot: the channel its address posts to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook: Option<HookView>,
    /// For a slash command's bot: the command and the URL it calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandView>,
}

/// A space's own slash command (its signing secret is shown once, when made or rotated).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandView {
    pub name: String,
    pub url: String,
}

/// An incoming webhook: the channel it posts to (its address is shown once, when made or
/// rotated).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookView {
    pub hook_id: String,
    pub channel_id: ChannelId,
    pub channel: String,
}

/// A bot or an incoming webhook made (or its secret rotated): the view, and the secret shown
/// this once (the bot's API token, or the webhook's address path).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotSecret {
    pub bot: BotView,
    pub secret: String,
}

/// What the user card shows: the person, and the spaces you both belong to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCard {
    pub person: ProfileView,
    pub spaces_in_common: Vec<String>,
}

/// An account as an instance admin sees it in the list of accounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub user_id: UserId,
    pub username: String,
    pub display_name: Option<String>,
    pub admin: bool,
    pub disabled: bool,
    pub created_at_ms: i64,
    /// When one of its sessions last asked for anything (none: no session open).
    pub last_seen_ms: Option<i64>,
}

/// An account's email address, as its owner sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailView {
    pub email: Option<String>,
    /// Its owner opened the confirmation link sent to it: reset links may go there.
    pub verified: bool,
    /// Whether this instance sends mail at all (its operator set SMTP up).
    pub mail: bool,
}

/// One of your sessions (a browser or device signed in), as you see it in the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// A public id derived from the session's stored hash (never its token): what ending
    /// it names.
    pub session_id: String,
    /// The browser and system it signed in from, read from its user agent ("Chrome on
    /// Linux"), or "Unknown device".
    pub device: String,
    pub created_at_ms: i64,
    /// When it last asked for anything (to the minute).
    pub last_seen_ms: i64,
    /// Whether it is the session asking.
    pub current: bool,
}

/// A personal API token, as its owner sees it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub token_id: String,
    pub name: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
}

/// A token just made: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub token: TokenView,
    pub secret: String,
}

/// A space's webhook as its admins see it: where it goes, what it gets, how delivery stands.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WebhookView {
    pub webhook_id: String,
    pub url: String,
    /// Empty: every type.
    pub event_types: Vec<String>,
    /// Delivered up to this log position.
    pub offset: Position,
    /// Events of the log after the offset (not all of them its own).
    pub behind: u64,
    pub delivered: u64,
    /// Failed attempts in a row at the current event.
    pub failures: u32,
    /// Parked after too many failures: nothing more goes until an admin retries or skips.
    pub dead: bool,
    /// Paused by an admin: its events wait at its offset until it is resumed.
    #[serde(default)]
    pub paused: bool,
    pub last_error: Option<String>,
}

/// A webhook just made: the only time its signing secret is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    pub webhook: WebhookView,
    pub secret: String,
}

/// What an admin does to a webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookAction {
    Delete,
    /// Out of the dead letter: try the event it was stuck on again.
    Retry,
    /// Out of the dead letter: give up on that event and go on.
    Skip,
    /// Deliver again every event of the subscription from this log position on (a
    /// receiver that lost data); deliveries keep their ids, so a receiver can deduplicate.
    Replay {
        from: Position,
    },
    /// Hold its deliveries (none is lost: they wait at its offset).
    Pause,
    /// Go on from where it was paused.
    Resume,
}

/// Which events of the log to show in the inspector.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFilter {
    /// Events before this position (default: the newest).
    pub before: Option<Position>,
    /// Only this stream (e.g. `channel-<id>`).
    pub stream: Option<String>,
    /// Only this type (e.g. `MessagePosted`).
    pub event_type: Option<String>,
}

/// One event as the inspector shows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogRow {
    pub position: Position,
    pub stream_id: String,
    /// What the stream is about, by name (`#design`, the space `Engines`, `@ada`), where
    /// the read models know it.
    #[serde(default)]
    pub stream_name: Option<String>,
    /// Who acted (from the metadata).
    #[serde(default)]
    pub actor: String,
    pub stream_version: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub recorded_at_ms: i64,
    /// Payload and metadata, pretty-printed JSON, as stored.
    pub payload: String,
    pub metadata: String,
    /// For an event stored at an older schema version than its type's today: the payload
    /// upcast to today's version (or why it cannot be), as every reader sees it.
    pub upcast: Option<UpcastView>,
}

/// An old event's payload as today's readers see it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UpcastView {
    pub version: u32,
    /// Pretty-printed JSON, or why the stored payload cannot be upcast.
    pub payload: Result<String, String>,
}

/// A webhook's place in the log, for the inspector.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SubscriberView {
    pub name: String,
    pub position: Position,
    pub lag: u64,
    pub parked: bool,
    /// For a webhook: its space and id, for the inspector's Retry and Skip.
    #[serde(default)]
    pub webhook: Option<(SpaceId, String)>,
}

/// A page of the log and where every reader of it stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    pub events: Vec<LogRow>,
    pub head: Position,
    /// The read models' checkpoint.
    pub projected: Position,
    pub subscribers: Vec<SubscriberView>,
    /// Events appended in each of the last 60 seconds, oldest first.
    pub per_second: Vec<u32>,
}

/// The most events one inspector page shows.
pub const LOG_PAGE: u32 = 50;

/// A post as it arrives at any door, before validation. The author is whoever is signed in.
#[derive(Clone, Debug)]
pub struct PostRequest {
    pub channel: ChannelId,
    pub message_id: MessageId,
    pub body: String,
    /// For a reply: the message it answers (the reply goes in that message's thread).
    pub reply_to: Option<MessageId>,
    /// A reply shown in its channel too.
    pub also_in_channel: bool,
    /// Files uploaded before, by id, to send with it.
    pub attachments: Vec<String>,
    /// The id the browser gave this attempt, carried into the event's metadata and
    /// every log line about it; the server makes one when none is given.
    pub correlation_id: Option<CorrelationId>,
}
