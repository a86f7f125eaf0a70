//! Incoming webhooks and bots: what an outside tool may post to a channel's secret address (the shapes existing tools send), and the names bots go by.

use crate::ids::MessageId;
use crate::values::Username;
use serde::Deserialize;

/// The largest request body an incoming webhook reads: a message's 4,000 characters with
/// room for the JSON around it and the fields it ignores.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// The most bots one space may have (incoming webhooks included: each posts as its bot).
pub const MAX_BOTS_PER_SPACE: usize = 25;

/// What an incoming webhook's request asks to post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingPost {
    /// The message's text, as sent (the engine checks it as any message's body).
    pub text: String,
    /// The sender's id for the message, if it gave one: a resend stores it once.
    pub message_id: Option<MessageId>,
}

/// Why an incoming webhook's request was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IncomingError {
    #[error("the body must be a JSON object: {0}")]
    NotJson(String),
    #[error("the body must hold the message as \"text\" (or \"body\", or \"content\")")]
    NoText,
    #[error("\"id\" must be a UUID: the message's id, so that a resend stores it once")]
    BadId,
}

/// The fields read from a request: Parley's own (`body`, `id`), and the `text` that Slack,
/// Mattermost and Rocket.Chat clients send, or the `content` that Discord's send. Anything
/// else in the object is ignored, as those services ignore what they do not know.
#[derive(Deserialize)]
struct Fields {
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

/// Reads an incoming webhook's JSON body (bounded by [`MAX_REQUEST_BYTES`] at the door).
pub fn read(bytes: &[u8]) -> Result<IncomingPost, IncomingError> {
    let not_json = |e: serde_json::Error| IncomingError::NotJson(e.to_string());
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(not_json)?;
    if !value.is_object() {
        return Err(IncomingError::NotJson("not an object".into()));
    }
    let fields: Fields = serde_json::from_value(value).map_err(not_json)?;
    let text = [fields.body, fields.text, fields.content]
        .into_iter()
        .flatten()
        .find(|text| !text.trim().is_empty())
        .ok_or(IncomingError::NoText)?;
    let message_id = match fields.id {
        Some(id) => Some(id.parse().map_err(|_| IncomingError::BadId)?),
        None => None,
    };
    Ok(IncomingPost { text, message_id })
}

/// The username an incoming webhook's bot gets: `hook-` and the last ten hex digits of its
/// id (the random ones of a v7 UUID), so that it can never be taken for a person's.
pub fn hook_username(hook_id: &uuid::Uuid) -> Result<Username, crate::error::CredentialError> {
    let digits = hook_id.simple().to_string();
    Username::parse(&format!("hook-{}", &digits[digits.len() - 10..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shapes_tools_send_are_read() {
        let slack = read(br#"{"text": "Build #42 passed", "username": "ci", "icon_emoji": ":tada:"}"#);
        assert_eq!(slack.map(|p| p.text), Ok("Build #42 passed".into()));
        let discord = read(br#"{"content": "deploy done", "embeds": []}"#);
        assert_eq!(discord.map(|p| p.text), Ok("deploy done".into()));
        let id = MessageId::new();
        let parley = read(format!(r#"{{"body": "hello", "id": "{id}"}}"#).as_bytes());
        assert_eq!(
            parley,
            Ok(IncomingPost {
                text: "hello".into(),
                message_id: Some(id)
            })
        );
        // An empty field gives way to one with words in it.
        let both = read(br#"{"body": " ", "text": "from text"}"#);
        assert_eq!(both.map(|p| p.text), Ok("from text".into()));
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        assert!(matches!(read(b"text=hello"), Err(IncomingError::NotJson(_))));
        assert!(matches!(read(b"[\"hello\"]"), Err(IncomingError::NotJson(_))));
        assert!(matches!(read(br#"{"text": 42}"#), Err(IncomingError::NotJson(_))));
        assert_eq!(read(br#"{"attachments": []}"#), Err(IncomingError::NoText));
        assert_eq!(read(br#"{"text": "   "}"#), Err(IncomingError::NoText));
        assert_eq!(read(br#"{"text": "x", "id": "nope"}"#), Err(IncomingError::BadId));
    }

    #[test]
    fn a_hooks_bot_has_a_valid_name_of_its_own() {
        let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let (Ok(name_a), Ok(name_b)) = (hook_username(&a), hook_username(&b)) else {
            panic!("hook usernames are valid")
        };
        assert!(name_a.as_str().starts_with("hook-") && name_a.as_str().len() == 15);
        assert_ne!(
            name_a, name_b,
            "ids made one after the other differ in their last digits"
        );
    }
}
