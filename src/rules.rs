//! Parse-don't-validate newtypes for what users type: message bodies, display names, reactions.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a user's input was refused. The message is meant for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum RuleError {
    #[error("a message cannot be empty")]
    EmptyMessage,
    #[error("a message can be at most {max} characters (this one has {len})")]
    MessageTooLong { len: usize, max: usize },
    #[error("a display name cannot be empty")]
    EmptyName,
    #[error("a display name can be at most {max} characters")]
    NameTooLong { max: usize },
    #[error("a display name cannot contain control characters")]
    NameHasControlChars,
    #[error("a reaction is one emoji")]
    BadEmoji,
}

/// A message body: non-empty after trimming (unless the message carries files), at most
/// [`MessageBody::MAX_CHARS`] characters. Inner whitespace and newlines are kept; leading
/// and trailing whitespace is trimmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageBody(String);

impl MessageBody {
    pub const MAX_CHARS: usize = 4_000;

    pub fn parse(raw: &str) -> Result<Self, RuleError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(RuleError::EmptyMessage);
        }
        let len = trimmed.chars().count();
        if len > Self::MAX_CHARS {
            return Err(RuleError::MessageTooLong {
                len,
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The body of a message that carries `files` files: it may be empty when there are some.
    pub fn parse_with_files(raw: &str, files: usize) -> Result<Self, RuleError> {
        match Self::parse(raw) {
            Err(RuleError::EmptyMessage) if files > 0 => Ok(Self(String::new())),
            other => other,
        }
    }

    /// The body a deleted message's events are served with: empty (see [`crate::redact`]).
    pub fn redacted() -> Self {
        Self(String::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MessageBody {
    type Error = RuleError;
    /// Reads a stored body back: an empty one is a message of files only (the door checked it).
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse_with_files(&value, 1)
    }
}

impl From<MessageBody> for String {
    fn from(value: MessageBody) -> Self {
        value.0
    }
}

impl fmt::Display for MessageBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name: 1 to [`DisplayName::MAX_CHARS`] characters after trimming, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, RuleError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(RuleError::EmptyName);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(RuleError::NameTooLong { max: Self::MAX_CHARS });
        }
        if trimmed.chars().any(char::is_control) {
            return Err(RuleError::NameHasControlChars);
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = RuleError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DisplayName> for String {
    fn from(value: DisplayName) -> Self {
        value.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The most different emojis one message may carry: each is drawn on every page that shows
/// the message, so the number is bounded whoever reacts.
pub const MAX_DISTINCT_REACTIONS: usize = 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_and_must_not_be_empty() {
        assert_eq!(MessageBody::parse("  hi there \n").map(|b| b.0), Ok("hi there".into()));
        assert_eq!(MessageBody::parse(""), Err(RuleError::EmptyMessage));
        assert_eq!(MessageBody::parse(" \n\t "), Err(RuleError::EmptyMessage));
    }

    #[test]
    fn bodies_keep_inner_newlines() {
        let body = MessageBody::parse("line one\nline two").map(|b| b.0);
        assert_eq!(body, Ok("line one\nline two".into()));
    }

    #[test]
    fn body_length_is_counted_in_characters_not_bytes() {
        let at_limit = "é".repeat(MessageBody::MAX_CHARS);
        assert!(MessageBody::parse(&at_limit).is_ok());
        let over = "x".repeat(MessageBody::MAX_CHARS + 1);
        assert_eq!(
            MessageBody::parse(&over),
            Err(RuleError::MessageTooLong { len: 4_001, max: 4_000 })
        );
    }

    #[test]
    fn bodies_are_checked_when_deserialized_too() {
        let long = format!("\"{}\"", "x".repeat(MessageBody::MAX_CHARS + 1));
        assert!(serde_json::from_str::<MessageBody>(&long).is_err());
        assert!(serde_json::from_str::<MessageBody>("\"ok\"").is_ok());
        // A stored message of files only has an empty body.
        assert_eq!(
            serde_json::from_str::<MessageBody>("\"  \"").map(|b| b.0).ok(),
            Some(String::new())
        );
    }

    #[test]
    fn a_body_may_be_empty_only_when_files_come_with_it() {
        assert_eq!(MessageBody::parse_with_files(" ", 0), Err(RuleError::EmptyMessage));
        assert_eq!(MessageBody::parse_with_files(" ", 2).map(|b| b.0), Ok(String::new()));
        assert_eq!(MessageBody::parse_with_files(" hi ", 2).map(|b| b.0), Ok("hi".into()));
    }

    #[test]
    fn display_names_are_bounded_and_printable() {
        assert_eq!(DisplayName::parse(" Ada ").map(|n| n.0), Ok("Ada".into()));
        assert_eq!(DisplayName::parse("   "), Err(RuleError::EmptyName));
        assert_eq!(
            DisplayName::parse(&"a".repeat(33)),
            Err(RuleError::NameTooLong { max: 32 })
        );
        assert_eq!(DisplayName::parse("a\u{7}b"), Err(RuleError::NameHasControlChars));
    }
}

/// A reaction: one emoji of Unicode's list (the `emojis` crate's table: skin tones, flags,
/// keycaps and joined sequences included), up to [`Emoji::MAX_CHARS`] code points. Not
/// "any symbol": each distinct reaction costs every page that shows its message, so what
/// a client may invent is bounded by the list.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Emoji(String);

impl Emoji {
    pub const MAX_CHARS: usize = 10;

    /// An emoji as a user sends it: one of the list.
    pub fn parse(raw: &str) -> Result<Self, RuleError> {
        let raw = raw.trim();
        if raw.chars().count() > Self::MAX_CHARS || emojis::get(raw).is_none() {
            return Err(RuleError::BadEmoji);
        }
        Ok(Self(raw.to_owned()))
    }

    /// An emoji read back from the log, which holds what earlier rules accepted (symbols
    /// that are not on the list among them): no letters, digits, spaces or control
    /// characters, at most [`Emoji::MAX_CHARS`].
    fn stored(raw: &str) -> Result<Self, RuleError> {
        let count = raw.chars().count();
        let plain = |c: char| c.is_ascii() && c != '#' && c != '*' && !c.is_ascii_digit();
        let digit_keycap = raw.contains('\u{20E3}');
        if count == 0
            || count > Self::MAX_CHARS
            || raw
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c.is_alphabetic() || plain(c))
            || (raw.chars().any(|c| c.is_ascii()) && !digit_keycap)
        {
            return Err(RuleError::BadEmoji);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Emoji {
    type Error = RuleError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::stored(&value)
    }
}

impl From<Emoji> for String {
    fn from(value: Emoji) -> Self {
        value.0
    }
}

impl fmt::Display for Emoji {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod emoji_tests {
    use super::*;

    #[test]
    fn an_emoji_is_accepted_and_words_are_not() {
        for ok in ["👍", "❤️", "🎉", "👍🏽", "🇫🇷", "👩‍💻", "1️⃣"] {
            assert!(Emoji::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            " ",
            "a",
            "ok",
            "<b>",
            "👍 👍",
            "1",
            "é",
            "\u{0}",
            "👍👍👍👍👍👍👍👍👍👍👍",
            // Symbols that are not emoji, and made-up pairs: each would be a new reaction.
            "★",
            "→",
            "👍👍",
            "🇫🇷🇫🇷",
        ] {
            assert_eq!(Emoji::parse(bad), Err(RuleError::BadEmoji), "{bad:?}");
        }
    }
}
