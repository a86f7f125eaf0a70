//! Topics: a space's named event feeds that any producer with a token publishes JSON to (the seed's event-driven design for more than chat), their names, their streams, and the wildcard patterns subscriptions match them with.

use crate::ids::StreamId;
use crate::values::SpaceId;

/// The most topics one space may have.
pub const MAX_PER_SPACE: usize = 50;
/// The largest event a producer may publish, in bytes of JSON.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;
/// The largest JSON Schema a topic may have, in bytes.
pub const MAX_SCHEMA_BYTES: usize = 32 * 1024;

/// Why a topic's name or pattern was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    #[error("a topic's name is 1 to 64 lowercase letters, digits, - or _, in parts joined by dots (deploy.prod)")]
    BadName,
    #[error("no topic {0} in this space")]
    NoSuchTopic(String),
    #[error("topic {0} exists already")]
    Exists(String),
    #[error("a space may have at most {MAX_PER_SPACE} topics")]
    TooMany,
    #[error("a topic pattern is 1 to 64 lowercase letters, digits, -, _, dots or * (deploy.*; * for every topic)")]
    BadPattern,
}

/// The most topic subscriptions one socket may hold at once.
pub const MAX_SUBSCRIPTIONS: usize = 16;

/// A topic's name as typed: lowercase parts of letters, digits, `-` or `_`, joined by dots,
/// at most 64 characters in all.
pub fn valid_name(raw: &str) -> Result<String, TopicError> {
    let name = raw.trim().to_ascii_lowercase();
    let part_ok = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
    };
    if name.is_empty() || name.len() > 64 || !name.split('.').all(part_ok) {
        return Err(TopicError::BadName);
    }
    Ok(name)
}

/// A pattern of topic names as typed for a subscription: what a name may hold, and `*`.
pub fn valid_pattern(raw: &str) -> Result<String, TopicError> {
    let pattern = raw.trim().to_ascii_lowercase();
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.' | '*');
    if pattern.is_empty() || pattern.len() > 64 || !pattern.chars().all(ok) {
        return Err(TopicError::BadPattern);
    }
    Ok(pattern)
}

/// The stream a topic's events are appended to.
pub fn stream(space: SpaceId, name: &str) -> StreamId {
    StreamId(format!("topic-{space}-{name}"))
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters (none
/// included): `deploy.*` matches `deploy.prod`, `Message*` matches `MessagePosted`.
pub fn matches(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return false;
    };
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        // No `*`: the whole name.
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_dotted_lowercase_parts() {
        assert_eq!(valid_name(" Deploy.Prod "), Ok("deploy.prod".into()));
        assert_eq!(valid_name("ci_builds-2"), Ok("ci_builds-2".into()));
        for bad in [
            "",
            ".",
            "deploy.",
            ".deploy",
            "deploy..prod",
            "has space",
            "ünïcode",
            &"x".repeat(65),
        ] {
            assert_eq!(valid_name(bad), Err(TopicError::BadName), "{bad:?}");
        }
    }

    #[test]
    fn patterns_are_names_with_stars() {
        assert_eq!(valid_pattern(" Deploy.* "), Ok("deploy.*".into()));
        assert_eq!(valid_pattern("*"), Ok("*".into()));
        for bad in ["", "  ", "deploy prod", "a/b", "ünï*", &"*".repeat(65)] {
            assert_eq!(valid_pattern(bad), Err(TopicError::BadPattern), "{bad:?}");
        }
    }

    #[test]
    fn wildcards_match_any_run_of_characters() {
        assert!(matches("deploy.*", "deploy.prod"));
        assert!(matches("deploy.*", "deploy."));
        assert!(!matches("deploy.*", "deployment"));
        assert!(matches("Message*", "MessagePosted"));
        assert!(!matches("Message*", "ReactionAdded"));
        assert!(matches("*.prod", "deploy.prod"));
        assert!(matches("a*b*c", "a-x-b-y-c"));
        assert!(!matches("a*b*c", "a-x-c"));
        assert!(matches("*", "anything"));
        assert!(matches("exact", "exact") && !matches("exact", "exactly"));
    }

    proptest! {
        // A pattern made by starring parts of a name always matches that name.
        #[test]
        fn a_name_matches_its_own_starred_pattern(name in "[a-z.]{0,20}", cuts in proptest::collection::vec(0usize..20, 0..4)) {
            let mut pattern = name.clone();
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|c| *c <= name.len()).collect();
            cuts.sort_unstable();
            cuts.dedup();
            for (i, cut) in cuts.iter().enumerate() {
                // Replace nothing, or a one-character slice, with a star.
                let at = cut + i;
                pattern.insert(at.min(pattern.len()), '*');
            }
            prop_assert!(matches(&pattern, &name), "{} vs {}", pattern, name);
        }
    }
}
