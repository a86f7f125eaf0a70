//! What the tabs of one browser tell each other (over BroadcastChannel) to stay in step.

use crate::event::MessageView;
use crate::ids::{ChannelId, MessageId, Position};
use serde::Serialize;

crate::tagged_enum! {
    #[serde(tag = "t", rename_all = "snake_case")]
    /// One note from a tab to its siblings. Every note is idempotent: applying it twice,
    /// or after the same change arrived from the server, changes nothing more.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub enum TabMessage {
        /// A message was written in this tab and is waiting for the server.
        Pending {
            channel: ChannelId,
            message_id: MessageId,
            author: String,
            body: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            reply_to: Option<MessageId>,
        },
        /// The server made it durable.
        Acked {
            channel: ChannelId,
            message_id: MessageId,
            position: Position,
        },
        /// Sending it failed; it can be retried.
        Failed {
            channel: ChannelId,
            message_id: MessageId,
            error: String,
        },
        /// It is being sent again.
        Retrying { channel: ChannelId, message_id: MessageId },
        /// A change to a message (an edit, a delete, a reaction, a pin) made in this tab,
        /// shown at once and waiting for the server.
        Changing { change: crate::timeline::PendingChange },
        /// The server answered it: stored at `stored_at` (it shows until the event is here), or
        /// not stored (`None`: refused, or nothing to do) and taken off.
        ChangeSettled {
            channel: ChannelId,
            change_id: MessageId,
            stored_at: Option<Position>,
        },
        /// Committed messages this tab received.
        Applied {
            channel: ChannelId,
            messages: Vec<MessageView>,
        },
        /// This tab's feed of the channel reached `position`.
        Cursor { channel: ChannelId, position: Position },
        /// This browser signed in as `username` (in some tab): follow it.
        SignedIn { username: String },
        /// This browser signed out (in some tab): close the sockets, drop the local data.
        SignedOut,
        /// The local data was cleared: reload.
        Reset,
        /// The composer's unsent text of a channel or thread changed (empty: sent or erased).
        Draft { draft: crate::draft::Draft },
    }
}

impl TabMessage {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_messages_round_trip() {
        let message_id = MessageId::new();
        let channel = ChannelId::GENERAL;
        let notes = [
            TabMessage::Pending {
                reply_to: None,
                channel,
                message_id,
                author: "a".into(),
                body: "b".into(),
            },
            TabMessage::Acked {
                channel,
                message_id,
                position: Position(4),
            },
            TabMessage::Failed {
                channel,
                message_id,
                error: "offline".into(),
            },
            TabMessage::Retrying { channel, message_id },
            TabMessage::Changing {
                change: crate::timeline::PendingChange {
                    change_id: MessageId::new(),
                    channel,
                    message_id,
                    by: "a".into(),
                    request: crate::api::ChangeRequest::React {
                        emoji: "👍".into(),
                        on: true,
                    },
                    stored_at: None,
                },
            },
            TabMessage::ChangeSettled {
                channel,
                change_id: message_id,
                stored_at: Some(Position(5)),
            },
            TabMessage::Applied {
                channel,
                messages: vec![MessageView::posted(
                    Position(4),
                    message_id,
                    channel,
                    "a".into(),
                    "b".into(),
                    1,
                )],
            },
            TabMessage::Cursor {
                channel,
                position: Position(4),
            },
            TabMessage::SignedIn { username: "ada".into() },
            TabMessage::SignedOut,
            TabMessage::Reset,
        ];
        for note in notes {
            assert_eq!(TabMessage::parse(&note.to_json()), Some(note));
        }
    }

    #[test]
    fn unreadable_notes_are_ignored() {
        assert_eq!(TabMessage::parse("{}"), None);
        assert_eq!(TabMessage::parse(r#"{"t":"pending"}"#), None);
    }
}
