//! A person's profile: the display name shown beside the username, a status (an emoji and a few words, until a time), the time zone; the rules each field keeps.
//!
//! A profile is set whole: what the user saves replaces what was there, so applying the
//! same `ProfileChanged` twice changes nothing, and a field left empty is cleared.

use crate::rules::{DisplayName, Emoji, RuleError};
use serde::{Deserialize, Serialize};

/// Why a profile was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("a status can be at most {max} characters")]
    StatusTooLong { max: usize },
    #[error("a status cannot contain control characters")]
    StatusHasControlChars,
    #[error("a profile cannot contain characters that reorder or hide text")]
    HiddenCharacters,
    #[error("a status cannot end before it starts")]
    StatusEnded,
    #[error("unknown time zone {0:?} (expected a name like Europe/Paris)")]
    BadTimeZone(String),
}

/// What someone shows of themselves. Every field is optional: the username stands in for a
/// missing display name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<DisplayName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<TimeZone>,
    /// The picture: the id of the image it was cut from (a file id, see
    /// [`crate::attachment::valid_file_id`]); set on its own, never by [`Profile::parse`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// A status: an emoji, a few words, or both, shown until `until_ms` (for ever if none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<Emoji>,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<i64>,
}

impl Status {
    pub const MAX_CHARS: usize = 100;

    /// Whether it still shows at `now_ms`.
    pub fn shows_at(&self, now_ms: i64) -> bool {
        self.until_ms.is_none_or(|until| now_ms < until)
    }
}

/// An IANA time zone name (`Europe/Paris`, `America/Argentina/Buenos_Aires`, `UTC`), as
/// the browser reports it. Checked for shape only: the core carries no zone database; a
/// browser that does not know a zone shows no local time for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimeZone(String);

impl TimeZone {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, ProfileError> {
        let raw = raw.trim();
        let part_ok = |part: &str| {
            part.starts_with(|c: char| c.is_ascii_alphabetic())
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        };
        if raw.is_empty() || raw.len() > Self::MAX_CHARS || !raw.split('/').all(part_ok) {
            return Err(ProfileError::BadTimeZone(raw.chars().take(Self::MAX_CHARS).collect()));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A profile as a form sends it: plain strings, empty for "none".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileInput {
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub status_emoji: String,
    #[serde(default)]
    pub status_text: String,
    /// When the status ends (ms since the epoch), if it does.
    #[serde(default)]
    pub status_until_ms: Option<i64>,
    #[serde(default)]
    pub time_zone: String,
}

impl Profile {
    /// Checks what a user asks for at `now_ms`: a display name as [`DisplayName`] allows, a
    /// status of at most [`Status::MAX_CHARS`] with a real emoji and an end in the future,
    /// a time zone of the right shape. Empty fields clear.
    pub fn parse(input: &ProfileInput, now_ms: i64) -> Result<Self, ProfileError> {
        let text_fields = [&input.display_name, &input.status_text];
        if text_fields.iter().any(|field| field.chars().any(reorders_or_hides)) {
            return Err(ProfileError::HiddenCharacters);
        }
        let display_name = match input.display_name.trim() {
            "" => None,
            name => Some(DisplayName::parse(name)?),
        };
        let emoji = match input.status_emoji.trim() {
            "" => None,
            emoji => Some(Emoji::parse(emoji)?),
        };
        let text = input.status_text.trim();
        if text.chars().count() > Status::MAX_CHARS {
            return Err(ProfileError::StatusTooLong { max: Status::MAX_CHARS });
        }
        if text.chars().any(char::is_control) {
            return Err(ProfileError::StatusHasControlChars);
        }
        let status = if emoji.is_none() && text.is_empty() {
            None
        } else {
            if input.status_until_ms.is_some_and(|until| until <= now_ms) {
                return Err(ProfileError::StatusEnded);
            }
            Some(Status {
                emoji,
                text: text.to_owned(),
                until_ms: input.status_until_ms,
            })
        };
        let time_zone = match input.time_zone.trim() {
            "" => None,
            zone => Some(TimeZone::parse(zone)?),
        };
        Ok(Self {
            display_name,
            status,
            time_zone,
            avatar: None,
        })
    }

    /// The name to show for `username`: the display name, or the username.
    pub fn name_or<'a>(&'a self, username: &'a str) -> &'a str {
        self.display_name.as_ref().map_or(username, DisplayName::as_str)
    }

    /// What anyone who may meet the person (in the lobby) sees: the display name and picture.
    /// The status and time zone are for the people they share a space or a conversation with.
    pub fn public(&self) -> Self {
        Self {
            display_name: self.display_name.clone(),
            avatar: self.avatar.clone(),
            ..Self::default()
        }
    }

    /// The status, if one shows at `now_ms`.
    pub fn status_at(&self, now_ms: i64) -> Option<&Status> {
        self.status.as_ref().filter(|s| s.shows_at(now_ms))
    }
}

/// Characters that would let a name pass for another: bidirectional overrides and
/// isolates (which turn the text around) and invisible ones (zero-width spaces and joiners
/// outside emoji, the word joiner, the byte-order mark).
fn reorders_or_hides(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{2060}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, emoji: &str, text: &str, until: Option<i64>, zone: &str) -> ProfileInput {
        ProfileInput {
            display_name: name.into(),
            status_emoji: emoji.into(),
            status_text: text.into(),
            status_until_ms: until,
            time_zone: zone.into(),
        }
    }

    #[test]
    fn a_profile_is_checked_field_by_field_and_empty_fields_clear() {
        let profile = Profile::parse(
            &input(" Ada Lovelace ", "🌴", " on holiday ", Some(2_000), "Europe/London"),
            1_000,
        );
        let Ok(profile) = profile else { panic!("{profile:?}") };
        assert_eq!(profile.name_or("ada"), "Ada Lovelace");
        let status = profile.status_at(1_500).map(|s| (s.emoji.clone(), s.text.clone()));
        assert_eq!(status, Some((Emoji::parse("🌴").ok(), "on holiday".to_owned())));
        assert_eq!(profile.status_at(2_000), None, "it ends at its time");
        assert_eq!(profile.time_zone.as_ref().map(TimeZone::as_str), Some("Europe/London"));

        assert_eq!(Profile::parse(&ProfileInput::default(), 0), Ok(Profile::default()));
        assert_eq!(Profile::default().name_or("ada"), "ada");
    }

    #[test]
    fn bad_profiles_are_refused_with_the_reason() {
        let refused = |i: ProfileInput| Profile::parse(&i, 1_000).err();
        assert_eq!(
            refused(input(&"x".repeat(33), "", "", None, "")),
            Some(ProfileError::Rule(RuleError::NameTooLong { max: 32 }))
        );
        assert_eq!(
            refused(input("", "★", "", None, "")),
            Some(ProfileError::Rule(RuleError::BadEmoji))
        );
        assert_eq!(
            refused(input("", "", &"y".repeat(101), None, "")),
            Some(ProfileError::StatusTooLong { max: 100 })
        );
        assert_eq!(
            refused(input("", "", "a\u{7}b", None, "")),
            Some(ProfileError::StatusHasControlChars)
        );
        assert_eq!(
            refused(input("", "", "back soon", Some(999), "")),
            Some(ProfileError::StatusEnded)
        );
        for zone in [
            "../etc/passwd",
            "Europe//Paris",
            "/UTC",
            "Paris!",
            "1Zone",
            &"A".repeat(65),
        ] {
            assert!(
                matches!(
                    refused(input("", "", "", None, zone)),
                    Some(ProfileError::BadTimeZone(_))
                ),
                "{zone}"
            );
        }
        for zone in [
            "UTC",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+5",
            "America/Port-au-Prince",
        ] {
            assert_eq!(refused(input("", "", "", None, zone)), None, "{zone}");
        }
        for sneaky in ["ad\u{202E}nimda", "a\u{200B}da", "\u{2066}root\u{2069}"] {
            assert_eq!(
                refused(input(sneaky, "", "", None, "")),
                Some(ProfileError::HiddenCharacters),
                "{sneaky:?}"
            );
            assert_eq!(
                refused(input("", "", sneaky, None, "")),
                Some(ProfileError::HiddenCharacters),
                "{sneaky:?}"
            );
        }
        // An end with no status is ignored, not refused.
        assert_eq!(refused(input("", "", "", Some(1), "")), None);
    }
}
