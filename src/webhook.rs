//! Webhooks: a space's admins subscribe a URL to event types; the rules for what they may
//! subscribe to, which events a subscription receives, and how deliveries back off.

use crate::event::Event;
use crate::ids::StreamId;
use crate::space::SpaceId;
use serde::{Deserialize, Serialize};

/// The most webhooks one space may have.
pub const MAX_PER_SPACE: usize = 10;
/// Failed attempts at one event before the subscription is parked (dead letter).
pub const MAX_ATTEMPTS: u32 = 5;
/// The longest wait between two attempts.
pub const MAX_BACKOFF_MS: u64 = 5 * 60 * 1000;
/// The longest URL accepted.
pub const MAX_URL_CHARS: usize = 2_000;

/// The event types a webhook may ask for: what happens in a space and its channels.
pub const EVENT_TYPES: [&str; 19] = [
    "ChannelCreated",
    "ChannelRenamed",
    "ChannelArchived",
    "ChannelDeleted",
    "MessagePosted",
    "MessageEdited",
    "MessageDeleted",
    "ReactionAdded",
    "ReactionRemoved",
    "MessagePinned",
    "TopicChanged",
    "SpaceRenamed",
    "SpaceConfigured",
    "SpaceDeleted",
    "MemberJoined",
    "MemberLeft",
    "MemberRemoved",
    "TopicCreated",
    "TopicPublished",
];

/// Why a webhook was refused. The message is meant for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum WebhookError {
    #[error("a webhook URL must be an http:// or https:// address of at most {MAX_URL_CHARS} characters")]
    BadUrl,
    #[error(
        "unknown event type {0:?} (a pattern like Message* must match one; a topic pattern like deploy.* is lowercase)"
    )]
    UnknownEventType(String),
    #[error("at most {MAX_PER_SPACE} webhooks per space")]
    TooMany,
    #[error("no such webhook")]
    NoSuchWebhook,
}

/// The stream of a space's webhook subscriptions.
pub fn stream(space: SpaceId) -> StreamId {
    StreamId(format!("webhooks-{space}"))
}

/// Checks a URL as typed: an absolute http(s) address with a host.
pub fn valid_url(raw: &str) -> Result<String, WebhookError> {
    let url = raw.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or(WebhookError::BadUrl)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let ok = !host.is_empty()
        && url.chars().count() <= MAX_URL_CHARS
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then(|| url.to_owned()).ok_or(WebhookError::BadUrl)
}

/// Checks the event types asked for (none: all of them), each once, in a fixed order.
pub fn valid_types(asked: &[String]) -> Result<Vec<String>, WebhookError> {
    let mut kept: Vec<String> = Vec::new();
    for asked in asked {
        let asked = asked.trim();
        let known = if is_topic_pattern(asked) {
            asked.len() <= 64
                && asked
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_' | '*'))
        } else {
            EVENT_TYPES.iter().any(|t| crate::topic::matches(asked, t))
        };
        if !known {
            return Err(WebhookError::UnknownEventType(asked.to_owned()));
        }
        if !kept.iter().any(|k| k == asked) {
            kept.push(asked.to_owned());
        }
    }
    // Exact types in a fixed order, then patterns as asked.
    kept.sort_by_key(|k| EVENT_TYPES.iter().position(|t| t == k).unwrap_or(EVENT_TYPES.len()));
    Ok(kept)
}

/// A pattern about topics' names (`deploy.*`), not event types (`Message*`): it starts with
/// a lowercase letter or a digit.
fn is_topic_pattern(pattern: &str) -> bool {
    pattern.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// Whether a subscription to `types` (empty: all) wants an event: its type matches one of
/// them (`MessagePosted`, `Message*`), or it is published to a topic one of them matches
/// (`deploy.*`).
pub fn wants(types: &[String], event: &Event) -> bool {
    let kind = event.event_type();
    if !EVENT_TYPES.contains(&kind) {
        return false;
    }
    let topic = match event {
        Event::TopicPublished { topic, .. } => Some(topic.as_str()),
        _ => None,
    };
    types.is_empty()
        || types.iter().any(|t| match (is_topic_pattern(t), topic) {
            (true, Some(topic)) => crate::topic::matches(t, topic),
            (true, None) => false,
            (false, _) => crate::topic::matches(t, kind),
        })
}

/// How long to wait after the `failures`-th failed attempt in a row: doubling from `base_ms`,
/// at most [`MAX_BACKOFF_MS`].
pub fn backoff_ms(failures: u32, base_ms: u64) -> u64 {
    let doublings = failures.saturating_sub(1).min(30);
    base_ms.saturating_mul(1u64 << doublings).min(MAX_BACKOFF_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChannelId;

    #[test]
    fn urls_must_be_absolute_http() {
        assert_eq!(
            valid_url(" https://hooks.example.com/p?x=1 "),
            Ok("https://hooks.example.com/p?x=1".into())
        );
        assert!(valid_url("http://127.0.0.1:9000/in").is_ok());
        for bad in [
            "ftp://x",
            "https://",
            "javascript:alert(1)",
            "https://a b",
            "hooks.example.com",
        ] {
            assert_eq!(valid_url(bad), Err(WebhookError::BadUrl), "{bad}");
        }
        assert!(valid_url(&format!("https://x.io/{}", "a".repeat(MAX_URL_CHARS))).is_err());
    }

    #[test]
    fn types_are_known_ones_in_a_fixed_order() {
        let asked = vec![
            "MessageEdited".to_owned(),
            "MessagePosted".to_owned(),
            "MessagePosted".to_owned(),
        ];
        assert_eq!(
            valid_types(&asked),
            Ok(vec!["MessagePosted".into(), "MessageEdited".into()])
        );
        assert_eq!(
            valid_types(&["AccountRegistered".to_owned()]),
            Err(WebhookError::UnknownEventType("AccountRegistered".into()))
        );
    }

    #[test]
    fn a_subscription_gets_the_types_it_asked_for() {
        let archived = Event::ChannelArchived {
            channel_id: ChannelId::new(),
        };
        assert!(wants(&[], &archived));
        assert!(!wants(&["MessagePosted".into()], &archived));
        assert!(wants(&["ChannelArchived".into()], &archived));
        assert!(wants(&["Channel*".into()], &archived));
        assert!(!wants(&["Message*".into()], &archived));
        let published = |topic: &str| Event::TopicPublished {
            space_id: SpaceId::new(),
            topic: topic.into(),
            data: serde_json::json!({ "ok": true }),
            by: crate::UserId::new(),
        };
        assert!(wants(&["deploy.*".into()], &published("deploy.prod")));
        assert!(!wants(&["deploy.*".into()], &published("ci.build")));
        assert!(wants(&["TopicPublished".into()], &published("ci.build")), "every topic");
        assert!(
            !wants(&["deploy.*".into()], &archived),
            "a topic pattern is about topics only"
        );
    }

    #[test]
    fn patterns_must_match_something_known() {
        let asked = vec!["Message*".to_owned(), "deploy.*".to_owned(), "MemberJoined".to_owned()];
        assert_eq!(
            valid_types(&asked),
            Ok(vec!["MemberJoined".into(), "Message*".into(), "deploy.*".into()])
        );
        assert!(
            valid_types(&["Account*".to_owned()]).is_err(),
            "matches no event type a webhook gets"
        );
        assert!(valid_types(&["deploy/prod".to_owned()]).is_err());
    }

    #[test]
    fn backoff_doubles_up_to_a_ceiling() {
        assert_eq!(backoff_ms(1, 1_000), 1_000);
        assert_eq!(backoff_ms(2, 1_000), 2_000);
        assert_eq!(backoff_ms(4, 1_000), 8_000);
        assert_eq!(backoff_ms(40, 1_000), MAX_BACKOFF_MS);
    }
}
