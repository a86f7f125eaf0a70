//! Parley's pure core: every domain rule, shared by the server and the WASM client.
//!
//! Nothing here does IO, reads a clock or spawns a task, so the same definitions
//! compile to native and to `wasm32-unknown-unknown` and are tested without IO.
//!
//! Layout, top-down:
//! - [`error`]: why a command was refused (each error a message a user may read).
//! - [`values`]: value types events and aggregates share (usernames, roles, channel kinds).
//! - [`ids`]: typed identifiers (UUIDv7 message ids minted by the client) and log positions.
//! - [`rules`]: parse-don't-validate newtypes for what users type (message bodies, display names).
//! - [`account`]: the account aggregate (registration, admin grants).
//! - [`address`]: the page addresses links carry a secret in (password resets, email confirmations).
//! - [`api`]: the shapes every door speaks: requests, and the views the server answers with.
//! - [`attachment`]: files sent with messages: content-addressed ids, accepted types and sizes.
//! - [`space`]: spaces, their members, roles and invites: the authorization model.
//! - [`aggregate`]: what every aggregate state shares (fold, version), for caches of states.
//! - [`channel`]: the channel aggregate: its commands, events, `decide` and `evolve`.
//! - [`schema`]: schema versions per event type; upcasters from stored old versions.
//! - [`event`]: the envelope a committed event travels in (position, stream, version, metadata).
//! - [`listing`]: how messages are laid out to be scanned: runs, day dividers, avatars.
//! - [`markdown`]: message bodies parsed into a tree that can only be displayed safely.
//! - [`outbound`]: which addresses the server may send requests to (the SSRF filter).
//! - [`presence`]: online, away or offline per user, across tabs and devices, with a grace period.
//! - [`protocol`]: the WebSocket wire protocol between browser and server.
//! - [`redact`]: what the past may show: deleted messages' words and secrets, taken out on read.
//! - [`relay`]: one socket per browser: what the tab holding it sends for every tab.
//! - [`search`]: typed searches as safe full-text queries; highlighted snippets.
//! - [`tabs`]: what the tabs of one browser tell each other to stay in step.
//! - [`theme`]: the reader's colour theme (system, light, dark), kept in a cookie.
//! - [`timeline`]: the client's view of one channel: optimistic pending messages merged
//!   with committed ones in log order, without duplicates.
//! - [`typing`]: who is typing in a channel (ephemeral notes that expire).
//! - [`topic`], [`topic_schema`]: topics' names and patterns; what a topic's JSON Schema may
//!   refer to and cost to check.
//! - [`webhook`]: which URLs and event types a space's webhooks may have; delivery backoff.
//! - [`unread`]: read markers that only move forward, unread and mention counts, the page title.

pub mod account;
pub mod address;
pub mod aggregate;
pub mod api;
pub mod attachment;
pub mod cache;
pub mod channel;
pub mod crop;
pub mod draft;
pub mod emoji;
pub mod error;
pub mod event;
mod fuzz;
pub mod ids;
pub mod incoming;
pub mod listing;
pub mod markdown;
pub mod outbound;
pub mod passkey;
pub mod presence;
pub mod profile;
pub mod protocol;
pub mod redact;
pub mod relay;
pub mod rules;
pub mod saved;
pub mod schema;
pub mod search;
pub mod second_factor;
pub mod slash;
pub mod space;
pub mod tabs;
pub mod tagged;
pub mod theme;
pub mod threads;
pub mod timeline;
pub mod topic;
pub mod topic_schema;
pub mod typing;
pub mod unread;
pub mod values;
pub mod webhook;

pub use account::{AccountCommand, AccountState, CredentialError, Password, PasswordHash, Username};
pub use aggregate::Aggregate;
pub use channel::{
    Actor, ChannelCommand, ChannelKind, ChannelState, DomainError, MessageChange, MessageFacts, ParentFacts, decide,
    decide_change, evolve,
};
pub use event::{Event, EventMetadata, MessageKind, MessageView, Reaction, RecordedEvent};
pub use ids::{ChannelId, CorrelationId, EventId, MessageId, Position, StreamId, UserId};
pub use rules::{DisplayName, Emoji, MessageBody, RuleError};
pub use space::{Role, SpaceCommand, SpaceId, SpaceState};
