//! The WebSocket wire protocol: JSON text frames between browser and server.

use crate::event::RecordedEvent;
use crate::ids::{ChannelId, MessageId, Position};
use crate::space::SpaceId;
use serde::Serialize;

/// Frames larger than this are refused unread: no message body needs more.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

crate::tagged_enum! {
    #[serde(tag = "t", rename_all = "snake_case")]
    /// What a browser sends.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub enum ClientFrame {
        /// Start receiving a channel's events after `after` (the last position this client applied).
        /// Subscribing to a channel again starts it again from the new `after`.
        Subscribe {
            channel: ChannelId,
            after: Position,
            /// Echoed in the subscription's `CaughtUp`, to tell it from an earlier one's.
            #[serde(default, skip_serializing_if = "is_zero")]
            id: u64,
        },
        Unsubscribe {
            channel: ChannelId,
        },
        /// Post a message as the signed-in user. The body is raw text: the server validates
        /// it and answers `Ack` or `Rejected` with the same message id.
        Post {
            channel: ChannelId,
            message_id: MessageId,
            body: String,
            /// For a reply in a thread: the message it answers.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            reply_to: Option<MessageId>,
            /// A reply shown in its channel too.
            #[serde(default, skip_serializing_if = "std::ops::Not::not")]
            also_in_channel: bool,
            /// Files uploaded before (by id) to send with it.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            attachments: Vec<String>,
        },
        Ping {
            nonce: u64,
        },
        /// The signed-in user is typing in a followed channel (ephemeral: never stored).
        Typing {
            channel: ChannelId,
        },
        /// This page went out of view (`away: true`) or came back.
        Away {
            away: bool,
        },
        /// Start hearing who is online or away: everyone now, then each change.
        WatchPresence,
        /// Hear of new messages in these channels (for unread badges and notifications);
        /// replaces the channels watched before. Channels the user cannot read are refused.
        Watch {
            channels: Vec<ChannelId>,
        },
        /// Start receiving the events published to the space's topics whose names match
        /// `pattern` (`deploy.*`, `*` for all) after `after`: first those stored, then live,
        /// each once, in log order. For the space's members and bots.
        SubscribeTopics {
            space: SpaceId,
            pattern: String,
            after: Position,
        },
        UnsubscribeTopics {
            space: SpaceId,
            pattern: String,
        },
    }
}

crate::tagged_enum! {
    #[serde(tag = "t", rename_all = "snake_case")]
    /// What the server sends.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub enum ServerFrame {
        /// The first frame of every connection: which build of the site the server serves
        /// (empty when it serves none), so a page of an older build can offer to reload.
        Hello {
            version: String,
        },
        /// A committed event of a subscribed channel, in log order, each exactly once.
        Event {
            channel: ChannelId,
            event: Box<RecordedEvent>,
        },
        /// Someone is typing in a followed channel (ephemeral: it expires by itself).
        Typing {
            channel: ChannelId,
            user: String,
        },
        /// Who is online or away (after `WatchPresence`: everyone, then each change).
        Presence {
            users: Vec<(String, crate::presence::Status)>,
            /// Everyone online or away (replace what you knew) rather than changes.
            full: bool,
        },
        /// A new message in a watched channel: enough for a badge and a notification.
        Activity {
            channel: ChannelId,
            position: Position,
            author: String,
            body: String,
            /// The thread it replies in, if it is a reply.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            reply_to: Option<MessageId>,
            /// A reply shown in its channel too (it counts there as a message does).
            #[serde(default, skip_serializing_if = "std::ops::Not::not")]
            also_in_channel: bool,
        },
        /// A committed event about this user alone (a read marker moved, a channel muted),
        /// from any of their tabs or devices.
        Personal {
            event: Box<RecordedEvent>,
        },
        /// Someone you share a space or a conversation with saved their profile.
        Profile {
            person: crate::api::ProfileView,
        },
        /// Someone you share a space or a conversation with deleted their account: what this
        /// browser keeps of them goes (their name becomes [`crate::redact::ERASED_NAME`]; their
        /// messages are erased too when `messages`). Sent only to those who already knew the name.
        Erased {
            username: String,
            messages: bool,
        },
        /// An event published to a topic that a topic subscription (`pattern`) matches.
        TopicEvent {
            space: SpaceId,
            pattern: String,
            event: Box<RecordedEvent>,
        },
        /// A topic subscription's stored events up to `position` have been sent; what follows
        /// is live.
        TopicsCaughtUp {
            space: SpaceId,
            pattern: String,
            position: Position,
        },
        /// A topic subscription was refused or ended (not a member of the space, a bad pattern,
        /// too many); the connection stays open.
        TopicsRefused {
            space: SpaceId,
            pattern: String,
            error: String,
        },
        /// Everything up to `position` has been sent; what follows is live.
        CaughtUp {
            channel: ChannelId,
            position: Position,
            /// The `id` of the subscription it answers.
            #[serde(default, skip_serializing_if = "is_zero")]
            id: u64,
        },
        /// A post is durable at `position` (a resend gets the first position again).
        Ack {
            message_id: MessageId,
            position: Position,
        },
        /// A post was refused and changed nothing.
        Rejected {
            message_id: MessageId,
            error: String,
        },
        /// A subscription was refused: the channel does not exist, or this user may not see it
        /// (one answer for both, so it tells nothing about channels one cannot see).
        Refused {
            channel: ChannelId,
            error: String,
        },
        /// A frame could not be understood, or a request was refused; the connection stays open.
        Error {
            error: String,
        },
        Pong {
            nonce: u64,
        },
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Why a client frame was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("frame too large ({len} bytes, at most {max})")]
    TooLarge { len: usize, max: usize },
    #[error("malformed frame: {0}")]
    Malformed(String),
}

impl ClientFrame {
    pub fn parse(text: &str) -> Result<Self, ProtocolError> {
        if text.len() > MAX_FRAME_BYTES {
            return Err(ProtocolError::TooLarge {
                len: text.len(),
                max: MAX_FRAME_BYTES,
            });
        }
        serde_json::from_str(text).map_err(|e| ProtocolError::Malformed(e.to_string()))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl ServerFrame {
    pub fn parse(text: &str) -> Result<Self, ProtocolError> {
        serde_json::from_str(text).map_err(|e| ProtocolError::Malformed(e.to_string()))
    }

    pub fn to_json(&self) -> String {
        // Every field serializes infallibly (no maps with non-string keys, no floats).
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, EventMetadata};
    use crate::ids::{CorrelationId, EventId};
    use crate::rules::{DisplayName, MessageBody};

    #[test]
    fn client_frames_round_trip() {
        let frames = [
            ClientFrame::Subscribe {
                channel: ChannelId::GENERAL,
                after: Position(41),
                id: 0,
            },
            ClientFrame::Unsubscribe {
                channel: ChannelId::GENERAL,
            },
            ClientFrame::Post {
                attachments: Vec::new(),
                reply_to: None,
                also_in_channel: false,
                channel: ChannelId::GENERAL,
                message_id: MessageId::new(),
                body: "hi".into(),
            },
            ClientFrame::Ping { nonce: 9 },
            ClientFrame::SubscribeTopics {
                space: SpaceId::new(),
                pattern: "deploy.*".into(),
                after: Position(7),
            },
        ];
        for frame in frames {
            assert_eq!(ClientFrame::parse(&frame.to_json()), Ok(frame));
        }
    }

    #[test]
    fn server_frames_round_trip() {
        let message_id = MessageId::new();
        let event = RecordedEvent {
            position: Position(3),
            stream_id: ChannelId::GENERAL.stream(),
            stream_version: 2,
            event_id: EventId::new(),
            schema_version: 1,
            event: Event::MessagePosted {
                attachments: Vec::new(),
                reply_to: None,
                also_in_channel: false,
                channel_id: ChannelId::GENERAL,
                message_id,
                author: DisplayName::parse("ada").unwrap_or_else(|e| panic!("{e}")),
                body: MessageBody::parse("hi").unwrap_or_else(|e| panic!("{e}")),
                author_id: None,
            },
            metadata: EventMetadata {
                actor: "ada".into(),
                correlation_id: CorrelationId::new(),
                causation_id: None,
                client_message_id: Some(message_id),
            },
            recorded_at_ms: 5,
        };
        let frames = [
            ServerFrame::Event {
                channel: ChannelId::GENERAL,
                event: Box::new(event),
            },
            ServerFrame::CaughtUp {
                channel: ChannelId::GENERAL,
                position: Position(3),
                id: 7,
            },
            ServerFrame::Ack {
                message_id,
                position: Position(3),
            },
            ServerFrame::Rejected {
                message_id,
                error: "no".into(),
            },
            ServerFrame::Refused {
                channel: ChannelId::GENERAL,
                error: "no such channel".into(),
            },
            ServerFrame::Error { error: "bad".into() },
            ServerFrame::Pong { nonce: 1 },
            ServerFrame::Hello {
                version: "0123456789abcdef".into(),
            },
        ];
        for frame in frames {
            assert_eq!(ServerFrame::parse(&frame.to_json()), Ok(frame));
        }
    }

    #[test]
    fn the_wire_format_is_stable() {
        let json = ClientFrame::Subscribe {
            channel: ChannelId::GENERAL,
            after: Position(2),
            id: 0,
        }
        .to_json();
        assert_eq!(
            json,
            r#"{"t":"subscribe","channel":"00000000-0000-7000-8000-000000000001","after":2}"#
        );
    }

    #[test]
    fn bad_frames_get_a_clear_error() {
        assert!(matches!(ClientFrame::parse("{"), Err(ProtocolError::Malformed(_))));
        assert!(matches!(
            ClientFrame::parse(r#"{"t":"launch_missiles"}"#),
            Err(ProtocolError::Malformed(_))
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"t":"subscribe","channel":"nope","after":0}"#),
            Err(ProtocolError::Malformed(_))
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"t":"subscribe","channel":"00000000-0000-7000-8000-000000000001","after":-1}"#),
            Err(ProtocolError::Malformed(_))
        ));
        let huge = format!(r#"{{"t":"ping","nonce":1,"pad":"{}"}}"#, "x".repeat(MAX_FRAME_BYTES));
        assert!(matches!(ClientFrame::parse(&huge), Err(ProtocolError::TooLarge { .. })));
    }
}
