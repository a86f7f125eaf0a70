//! What the past may show: a deleted message's words and files, a deleted account's personal data, and secrets, are served by no door, though the log keeps them.
//!
//! The log is append-only: deleting a message appends `MessageDeleted` and leaves the
//! `MessagePosted` (and any `MessageEdited`) where they were, so a rebuild comes out the
//! same. Every door that serves events from the log (socket catch-up, webhook delivery
//! and replay, the inspector) passes them through here first, with the set of messages
//! deleted so far: what it serves is the redacted form. Secrets (a password's hash) are
//! blanked in whatever the inspector shows.
//!
//! A deleted account (`AccountErased`) is the same rule for people: every event that names
//! it (its sign-up and profile, its messages and reactions, the actor of what it did, its
//! stream's name) is served with [`ERASED_NAME`] in place of the name and an empty profile.
//! Which accounts are erased is told by two tests the server passes in: by id (for the
//! events that carry one) and by name (for the actor and the stream, which carry a name
//! only; the server keeps a hash of erased names, never the names).

use crate::event::{Event, RecordedEvent};
use crate::ids::{MessageId, StreamId, UserId};
use crate::profile::Profile;
use crate::rules::{DisplayName, MessageBody};
use crate::values::Username;
use serde_json::Value;

/// What a blanked secret reads as.
pub const REDACTED: &str = "[redacted]";

/// What a deleted account's username and display name read as, everywhere. Nobody can
/// sign up with it.
pub const ERASED_NAME: &str = "deleted-user";

/// Payload fields that name a person, next to the id (`user_id`, `author_id`) they belong to.
const NAME_FIELDS: [&str; 3] = ["username", "author", "user"];

/// Which accounts are deleted: asked by id, and by name for what carries only a name.
pub trait Erased {
    fn id(&self, user: UserId) -> bool;
    fn name(&self, name: &str) -> bool;
}

/// Nobody is erased (for callers and tests that redact deleted messages only).
pub struct NoneErased;

impl Erased for NoneErased {
    fn id(&self, _: UserId) -> bool {
        false
    }
    fn name(&self, _: &str) -> bool {
        false
    }
}

/// The person a stream is of, by name: `account-<username>`.
fn stream_owner(stream: &str) -> Option<&str> {
    stream.strip_prefix("account-")
}

/// Who a recorded event names, to ask which of them are erased: the ids it carries, and the
/// names it carries without an id (its actor, its stream's owner, an old message's author).
pub fn people_of(recorded: &RecordedEvent) -> (Vec<UserId>, Vec<&str>) {
    let mut names = vec![recorded.metadata.actor.as_str()];
    names.extend(stream_owner(&recorded.stream_id.0));
    let ids = match &recorded.event {
        Event::MessagePosted {
            author_id: Some(id), ..
        } => vec![*id],
        Event::MessagePosted { author, .. } => {
            names.push(author.as_str());
            Vec::new()
        }
        Event::ReactionAdded { user_id, .. }
        | Event::ReactionRemoved { user_id, .. }
        | Event::AccountRegistered { user_id, .. }
        | Event::AdminGranted { user_id, .. }
        | Event::AdminRevoked { user_id, .. }
        | Event::AccountDisabled { user_id, .. }
        | Event::AccountEnabled { user_id, .. }
        | Event::PasswordChanged { user_id, .. }
        | Event::ProfileChanged { user_id, .. } => vec![*user_id],
        Event::TopicChanged { by, .. } | Event::MessagePinned { by, .. } => vec![*by],
        _ => Vec::new(),
    };
    (ids, names)
}

/// A whole recorded event as served: [`redact`] for deleted messages, then every trace of
/// an erased account replaced (its name in the event, the actor, the stream's name).
pub fn redact_recorded(recorded: &mut RecordedEvent, deleted: impl Fn(MessageId) -> bool, erased: &impl Erased) {
    redact(&mut recorded.event, deleted);
    forget(&mut recorded.event, erased);
    if erased.name(&recorded.metadata.actor) {
        recorded.metadata.actor = ERASED_NAME.into();
    }
    if stream_owner(&recorded.stream_id.0).is_some_and(|name| erased.name(name)) {
        recorded.stream_id = StreamId(format!("account-{ERASED_NAME}"));
    }
}

/// The same event with an erased account's name and profile replaced.
pub fn forget(event: &mut Event, erased: &impl Erased) {
    let erased_name = || Username::parse(ERASED_NAME).ok();
    match event {
        Event::MessagePosted { author, author_id, .. } => {
            let gone = match author_id {
                Some(id) => erased.id(*id),
                None => erased.name(author.as_str()),
            };
            if gone && let Ok(name) = DisplayName::parse(ERASED_NAME) {
                *author = name;
            }
        }
        Event::ReactionAdded { user_id, user, .. } | Event::ReactionRemoved { user_id, user, .. } => {
            if erased.id(*user_id)
                && let Ok(name) = DisplayName::parse(ERASED_NAME)
            {
                *user = name;
            }
        }
        Event::TopicChanged { by, by_name, .. } => {
            if erased.id(*by)
                && let Ok(name) = DisplayName::parse(ERASED_NAME)
            {
                *by_name = name;
            }
        }
        Event::AccountRegistered { user_id, username, .. }
        | Event::AdminGranted { user_id, username }
        | Event::AdminRevoked { user_id, username }
        | Event::AccountDisabled { user_id, username }
        | Event::AccountEnabled { user_id, username }
        | Event::PasswordChanged { user_id, username, .. } => {
            if erased.id(*user_id)
                && let Some(name) = erased_name()
            {
                *username = name;
            }
        }
        Event::ProfileChanged {
            user_id,
            username,
            profile,
        } => {
            if erased.id(*user_id)
                && let Some(name) = erased_name()
            {
                *username = name;
                *profile = Profile::default();
            }
        }
        _ => {}
    }
}

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
pub fn redact_payload(
    event_type: &str,
    payload: &mut Value,
    deleted: impl Fn(MessageId) -> bool,
    erased: &impl Erased,
) {
    let Some(fields) = payload.as_object_mut() else {
        return;
    };
    for name in SECRET_FIELDS {
        if let Some(value) = fields.get_mut(name) {
            *value = Value::String(REDACTED.into());
        }
    }
    // Messages from before accounts carry only the author's name.
    let gone = match payload_person(fields) {
        Some(id) => erased.id(id),
        None => fields
            .get("author")
            .and_then(Value::as_str)
            .is_some_and(|name| erased.name(name)),
    };
    if gone {
        for name in NAME_FIELDS {
            if let Some(value) = fields.get_mut(name) {
                *value = Value::String(ERASED_NAME.into());
            }
        }
        if let Some(profile) = fields.get_mut("profile") {
            *profile = Value::Object(serde_json::Map::new());
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

/// The account a stored payload is of or by, if it names one by id.
fn payload_person(fields: &serde_json::Map<String, Value>) -> Option<UserId> {
    ["user_id", "author_id"]
        .iter()
        .find_map(|key| fields.get(*key)?.as_str()?.parse::<UserId>().ok())
}

/// Who a stored event names (payload and metadata as JSON, its stream), to ask which of
/// them are erased before [`redact_payload`] and [`redact_origin`]: the ids, and the names
/// that stand without an id (the author of a message from before accounts, the actor, the
/// stream's owner). [`people_of`] is the same for a decoded event.
pub fn people_in_stored(stream: &str, payload: &Value, metadata: &Value) -> (Vec<UserId>, Vec<String>) {
    let ids = payload.as_object().and_then(payload_person).into_iter().collect();
    let names = [
        payload.get("author").and_then(Value::as_str),
        metadata.get("actor").and_then(Value::as_str),
        stream_owner(stream),
    ]
    .into_iter()
    .flatten()
    .map(str::to_owned)
    .collect();
    (ids, names)
}

/// An event's metadata (as stored, JSON) and stream as the inspector shows them: an erased
/// account's name taken out of the actor and the stream's name.
pub fn redact_origin(stream: &mut String, metadata: &mut Value, erased: &impl Erased) {
    if stream_owner(stream).is_some_and(|name| erased.name(name)) {
        *stream = format!("account-{ERASED_NAME}");
    }
    if let Some(actor) = metadata.get_mut("actor")
        && actor.as_str().is_some_and(|name| erased.name(name))
    {
        *actor = Value::String(ERASED_NAME.into());
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
            also_in_channel: false,
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
        redact_payload("AccountRegistered", &mut account, |_| false, &NoneErased);
        assert_eq!(account["password_hash"], REDACTED);
        assert_eq!(account["username"], "ada");

        let mut message =
            json!({ "message_id": gone.to_string(), "body": "secret plans", "attachments": [{"name": "plan.pdf"}] });
        redact_payload("MessagePosted", &mut message, |id| id == gone, &NoneErased);
        assert_eq!(message["body"], "");
        assert_eq!(message["attachments"], json!([]));

        let mut other = json!({ "message_id": MessageId::new().to_string(), "body": "kept" });
        redact_payload("MessagePosted", &mut other, |id| id == gone, &NoneErased);
        assert_eq!(other["body"], "kept");
    }

    /// Ada is erased (by id and by name); Bob is not.
    struct AdaGone(UserId);

    impl Erased for AdaGone {
        fn id(&self, user: UserId) -> bool {
            user == self.0
        }
        fn name(&self, name: &str) -> bool {
            name == "ada"
        }
    }

    #[test]
    fn an_erased_accounts_name_and_profile_are_served_by_no_event() {
        use crate::event::EventMetadata;
        use crate::ids::{CorrelationId, EventId, Position};
        let (ada, bob) = (UserId::new(), UserId::new());
        let erased = AdaGone(ada);
        let name = |n: &str| Username::parse(n).expect("valid in the test");
        let input = crate::profile::ProfileInput {
            display_name: "Ada Lovelace".into(),
            ..Default::default()
        };
        let profile = Profile::parse(&input, 0).expect("valid in the test");
        let record = |stream: &str, actor: &str, event: Event| RecordedEvent {
            position: Position(1),
            stream_id: StreamId(stream.into()),
            stream_version: 1,
            event_id: EventId::new(),
            schema_version: 1,
            event,
            metadata: EventMetadata {
                actor: actor.into(),
                correlation_id: CorrelationId::new(),
                causation_id: None,
                client_message_id: None,
            },
            recorded_at_ms: 0,
        };
        let mut hers = vec![
            record(
                "account-ada",
                "ada",
                Event::ProfileChanged {
                    user_id: ada,
                    username: name("ada"),
                    profile: profile.clone(),
                },
            ),
            record("channel-x", "ada", {
                let mut event = posted(MessageId::new(), "kept words");
                if let Event::MessagePosted { author_id, .. } = &mut event {
                    *author_id = Some(ada);
                }
                event
            }),
            record("channel-x", "ada", posted(MessageId::new(), "from before accounts")),
            record(
                "channel-x",
                "ada",
                Event::ReactionAdded {
                    channel_id: ChannelId::GENERAL,
                    message_id: MessageId::new(),
                    user_id: ada,
                    user: DisplayName::parse("ada").expect("valid"),
                    emoji: crate::rules::Emoji::parse("👍").expect("valid"),
                },
            ),
        ];
        for recorded in &mut hers {
            redact_recorded(recorded, |_| false, &erased);
        }
        let text = format!("{hers:?}");
        assert!(
            !text.contains("\"ada\"") && !text.contains("Lovelace") && !text.contains("account-ada"),
            "{text}"
        );
        assert!(
            text.contains("kept words"),
            "her messages stay unless erased too: {text}"
        );
        assert!(text.contains(ERASED_NAME));

        let mut his = record(
            "account-bob",
            "bob",
            Event::ProfileChanged {
                user_id: bob,
                username: name("bob"),
                profile: profile.clone(),
            },
        );
        let before = his.clone();
        redact_recorded(&mut his, |_| false, &erased);
        assert_eq!(his, before, "someone else's events are left as they are");

        let mut payload =
            json!({ "user_id": ada.to_string(), "username": "ada", "profile": { "display_name": "Ada Lovelace" } });
        redact_payload("ProfileChanged", &mut payload, |_| false, &erased);
        assert_eq!(
            payload,
            json!({ "user_id": ada.to_string(), "username": ERASED_NAME, "profile": {} })
        );
        let mut old = json!({ "author": "ada", "body": "hi" });
        redact_payload("MessagePosted", &mut old, |_| false, &erased);
        assert_eq!(old["author"], ERASED_NAME);
        let (ids, names) = people_in_stored(
            "account-ada",
            &json!({ "user_id": ada.to_string() }),
            &json!({ "actor": "x" }),
        );
        assert_eq!((ids, names), (vec![ada], vec!["x".to_owned(), "ada".to_owned()]));
        let (mut stream, mut metadata) = ("account-ada".to_owned(), json!({ "actor": "ada" }));
        redact_origin(&mut stream, &mut metadata, &erased);
        assert_eq!(
            (stream.as_str(), &metadata["actor"]),
            ("account-deleted-user", &json!(ERASED_NAME))
        );
        let (mut stream, mut metadata) = ("account-bob".to_owned(), json!({ "actor": "bob" }));
        redact_origin(&mut stream, &mut metadata, &erased);
        assert_eq!((stream.as_str(), &metadata["actor"]), ("account-bob", &json!("bob")));
    }
}
