//! What the past may show: a deleted message's words and files, and secrets, are served by no door, though the log keeps them.
//!
//! The log is append-only: deleting a message appends `MessageDeleted` and leaves the
//! `MessagePosted` (and any `MessageEdited`) where they were, so a rebuild comes out the
//! same. Every door that serves events from the log (socket catch-up, webhook delivery
//! and replay, the inspector) passes them through here first, with the set of messages
//! deleted so far: what it serves is the redacted form. Secrets (a password's hash) are
//! blanked in whatever the inspector shows.

use crate::event::Event;
use crate::ids::MessageId;
use crate::rules::MessageBody;
use serde_json::Value;

/// What a blanked secret reads as.
pub const REDACTED: &str = "[redacted]";

/// Payload fields that hold secrets, in any event type.
const SECRET_FIELDS: [&str; 3] = ["password_hash", "token_hash", "secret"];

/// The message whose words `event` carries, if any: what a deletion must redact.
pub fn words_of(event: &Event) -> Option<MessageId> {
    match event {
        Event::MessagePosted { message_id, .. } | Event::MessageEdited { message_id, .. } => Some(*message_id),
        _ => None,
    }
}

/// The same event with its words and files taken out, when its message is deleted.
pub fn redact(event: &mut Event, deleted: impl Fn(MessageId) -> bool) {
    match event {
        Event::MessagePosted {
            message_id,
            body,
            attachments,
            ..
        } if deleted(*message_id) => {
            *body = MessageBody::redacted();
            attachments.clear();
        }
        Event::MessageEdited { message_id, body, .. } if deleted(*message_id) => {
            *body = MessageBody::redacted();
        }
        _ => {}
    }
}

/// [`redact`] on a stored payload (JSON as the log holds it, at any schema version), for
/// the inspector, which shows payloads as stored; and secrets blanked, whatever the event.
pub fn redact_payload(event_type: &str, payload: &mut Value, deleted: impl Fn(MessageId) -> bool) {
    let Some(fields) = payload.as_object_mut() else {
        return;
    };
    for name in SECRET_FIELDS {
        if let Some(value) = fields.get_mut(name) {
            *value = Value::String(REDACTED.into());
        }
    }
    if !matches!(event_type, "MessagePosted" | "MessageEdited") {
        return;
    }
    let message = fields
        .get("message_id")
        .and_then(Value::as_str)
        .and_then(|id| id.parse::<MessageId>().ok());
    if message.is_some_and(deleted) {
        fields.insert("body".into(), Value::String(String::new()));
        if let Some(files) = fields.get_mut("attachments") {
            *files = Value::Array(Vec::new());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChannelId;
    use crate::rules::DisplayName;
    use serde_json::json;

    fn posted(message_id: MessageId, body: &str) -> Event {
        Event::MessagePosted {
            channel_id: ChannelId::GENERAL,
            message_id,
            author: DisplayName::parse("ada").expect("valid in the test"),
            body: MessageBody::parse(body).expect("valid in the test"),
            author_id: None,
            reply_to: None,
            attachments: Vec::new(),
        }
    }

    #[test]
    fn a_deleted_messages_words_are_taken_out_and_others_kept() {
        let (gone, kept) = (MessageId::new(), MessageId::new());
        let mut events = vec![
            posted(gone, "secret plans"),
            posted(kept, "hello"),
            Event::MessageEdited {
                channel_id: ChannelId::GENERAL,
                message_id: gone,
                body: MessageBody::parse("more secret plans").expect("valid in the test"),
                editor_id: crate::ids::UserId::new(),
            },
        ];
        for event in &mut events {
            redact(event, |id| id == gone);
        }
        let text = format!("{events:?}");
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("hello"), "{text}");
        assert_eq!(words_of(&events[0]), Some(gone));
    }

    #[test]
    fn payloads_lose_secrets_and_deleted_words() {
        let gone = MessageId::new();
        let mut account = json!({ "user_id": "u", "username": "ada", "password_hash": "$argon2id$v=19$..." });
        redact_payload("AccountRegistered", &mut account, |_| false);
        assert_eq!(account["password_hash"], REDACTED);
        assert_eq!(account["username"], "ada");

        let mut message =
            json!({ "message_id": gone.to_string(), "body": "secret plans", "attachments": [{"name": "plan.pdf"}] });
        redact_payload("MessagePosted", &mut message, |id| id == gone);
        assert_eq!(message["body"], "");
        assert_eq!(message["attachments"], json!([]));

        let mut other = json!({ "message_id": MessageId::new().to_string(), "body": "kept" });
        redact_payload("MessagePosted", &mut other, |id| id == gone);
        assert_eq!(other["body"], "kept");
    }
}
