//! The emoji catalogue the picker shows (every emoji of the `emojis` crate, by category, with names, shortcodes and skin tones), finding emoji by what was typed, `:shortcode:` completion in the composer, and the recently used list.

use serde::{Deserialize, Serialize};

/// The skin tones a picker offers, in order (`0`: the default yellow).
pub const SKIN_TONES: usize = 5;

/// The newest emoji the picker offers: those of Emoji 15.0 and before, which the fonts of
/// systems a few years old draw (newer ones show as empty boxes there). The server still
/// takes newer ones as reactions, typed or pasted.
const NEWEST: emojis::UnicodeVersion = emojis::UnicodeVersion::new(15, 0);

/// How many recently used emoji are remembered.
pub const MAX_RECENT: usize = 24;

/// One emoji of the catalogue. Short field names: the catalogue is downloaded whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmojiEntry {
    /// The emoji itself.
    #[serde(rename = "e")]
    pub emoji: String,
    /// Its CLDR name ("grinning face").
    #[serde(rename = "n")]
    pub name: String,
    /// Its shortcodes (`grinning`), without colons.
    #[serde(rename = "s", default, skip_serializing_if = "Vec::is_empty")]
    pub shortcodes: Vec<String>,
    /// The same emoji in the five skin tones (light to dark), when it has them.
    #[serde(rename = "t", default, skip_serializing_if = "Vec::is_empty")]
    pub tones: Vec<String>,
}

impl EmojiEntry {
    /// The emoji in skin tone `tone` (1–5; 0 or a tone it lacks: the default).
    pub fn in_tone(&self, tone: usize) -> &str {
        tone.checked_sub(1)
            .and_then(|i| self.tones.get(i))
            .map_or(self.emoji.as_str(), String::as_str)
    }
}

/// A category of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmojiGroup {
    pub name: String,
    pub emoji: Vec<EmojiEntry>,
}

/// Every emoji the server accepts as a reaction, by category.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub groups: Vec<EmojiGroup>,
}

fn group_name(group: emojis::Group) -> &'static str {
    match group {
        emojis::Group::SmileysAndEmotion => "Smileys & emotion",
        emojis::Group::PeopleAndBody => "People & body",
        emojis::Group::AnimalsAndNature => "Animals & nature",
        emojis::Group::FoodAndDrink => "Food & drink",
        emojis::Group::TravelAndPlaces => "Travel & places",
        emojis::Group::Activities => "Activities",
        emojis::Group::Objects => "Objects",
        emojis::Group::Symbols => "Symbols",
        emojis::Group::Flags => "Flags",
    }
}

impl Catalogue {
    /// The whole catalogue, from the `emojis` crate's data (the server builds it once and
    /// serves it; the browser downloads it when a picker first opens).
    pub fn build() -> Self {
        let tones = [
            emojis::SkinTone::Light,
            emojis::SkinTone::MediumLight,
            emojis::SkinTone::Medium,
            emojis::SkinTone::MediumDark,
            emojis::SkinTone::Dark,
        ];
        let groups = emojis::Group::iter()
            .map(|group| EmojiGroup {
                name: group_name(group).to_owned(),
                emoji: group
                    .emojis()
                    .filter(|e| e.unicode_version() <= NEWEST && crate::rules::Emoji::parse(e.as_str()).is_ok())
                    .map(|e| EmojiEntry {
                        emoji: e.as_str().to_owned(),
                        name: e.name().to_owned(),
                        shortcodes: e.shortcodes().map(str::to_owned).collect(),
                        tones: if e.skin_tones().is_some() {
                            tones
                                .iter()
                                .filter_map(|t| e.with_skin_tone(*t))
                                .map(|t| t.as_str().to_owned())
                                .filter(|t| crate::rules::Emoji::parse(t).is_ok())
                                .collect()
                        } else {
                            Vec::new()
                        },
                    })
                    .collect(),
            })
            .collect();
        Self { groups }
    }

    /// Every emoji, in catalogue order.
    pub fn entries(&self) -> impl Iterator<Item = &EmojiEntry> {
        self.groups.iter().flat_map(|g| g.emoji.iter())
    }

    /// The emoji whose shortcode or name matches what was typed (every word typed starts a
    /// word of the name or a shortcode), best first: a shortcode that is the text, then
    /// one that starts with it, then names; at most `limit`.
    pub fn find(&self, typed: &str, limit: usize) -> Vec<&EmojiEntry> {
        let typed = typed.trim().trim_matches(':').to_lowercase();
        if typed.is_empty() {
            return Vec::new();
        }
        let words: Vec<&str> = typed
            .split(|c: char| c.is_whitespace() || c == '_')
            .filter(|w| !w.is_empty())
            .collect();
        let mut found: Vec<(u8, usize, &EmojiEntry)> = self
            .entries()
            .enumerate()
            .filter_map(|(i, entry)| {
                let rank = if entry.shortcodes.contains(&typed) {
                    0
                } else if entry.shortcodes.iter().any(|s| s.starts_with(&typed)) {
                    1
                } else {
                    let name = entry.name.to_lowercase();
                    let name_words: Vec<&str> = name.split(|c: char| !c.is_alphanumeric()).collect();
                    let shortcode_words = entry.shortcodes.iter().flat_map(|s| s.split('_'));
                    let all: Vec<&str> = name_words.iter().copied().chain(shortcode_words).collect();
                    if words.iter().all(|w| all.iter().any(|n| n.starts_with(w))) {
                        2
                    } else {
                        return None;
                    }
                };
                Some((rank, i, entry))
            })
            .collect();
        found.sort_by_key(|(rank, i, _)| (*rank, *i));
        found.into_iter().take(limit).map(|(_, _, e)| e).collect()
    }
}

/// The `:shortcode` being typed at the end of `draft` (at least two letters after a colon
/// that starts a word), for completion.
pub fn shortcode_prefix(draft: &str) -> Option<&str> {
    let start = draft.rfind(':')?;
    let typed = &draft[start + 1..];
    let before = draft[..start].chars().next_back();
    let starts_word = before.is_none_or(char::is_whitespace);
    (starts_word
        && typed.chars().count() >= 2
        && typed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+' || c == '-'))
    .then_some(typed)
}

/// `draft` with its `:shortcode` prefix (see [`shortcode_prefix`]) replaced by `emoji`.
pub fn complete_shortcode(draft: &str, emoji: &str) -> String {
    match (shortcode_prefix(draft), draft.rfind(':')) {
        (Some(_), Some(start)) => format!("{}{emoji} ", &draft[..start]),
        _ => draft.to_owned(),
    }
}

/// The recently used list with `emoji` first (once), at most [`MAX_RECENT`].
pub fn used(recent: &[String], emoji: &str) -> Vec<String> {
    std::iter::once(emoji.to_owned())
        .chain(recent.iter().filter(|e| *e != emoji).cloned())
        .take(MAX_RECENT)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_holds_every_category_and_only_emoji_the_server_takes() {
        let catalogue = Catalogue::build();
        assert_eq!(catalogue.groups.len(), 9);
        let all: Vec<&EmojiEntry> = catalogue.entries().collect();
        assert!(all.len() > 1500, "{}", all.len());
        for entry in &all {
            assert!(crate::rules::Emoji::parse(&entry.emoji).is_ok(), "{}", entry.emoji);
            for tone in &entry.tones {
                assert!(crate::rules::Emoji::parse(tone).is_ok(), "{tone}");
            }
        }
        let wave = all.iter().find(|e| e.emoji == "👋").expect("a waving hand");
        assert_eq!(wave.tones.len(), SKIN_TONES);
        assert_eq!(wave.in_tone(3), "👋🏽");
        assert_eq!(wave.in_tone(0), "👋");
        assert_eq!(wave.in_tone(9), "👋");
        // Newer than most fonts draw: not offered, still taken as a reaction.
        assert!(
            !all.iter().any(|e| e.emoji == "🐦\u{200d}🔥"),
            "the phoenix is Emoji 15.1"
        );
        assert!(crate::rules::Emoji::parse("🐦\u{200d}🔥").is_ok());
        let rocket = all.iter().find(|e| e.emoji == "🚀").expect("a rocket");
        assert!(rocket.tones.is_empty());
        assert_eq!(rocket.in_tone(2), "🚀");
    }

    #[test]
    fn emoji_are_found_by_shortcode_then_by_name() {
        let catalogue = Catalogue::build();
        let found =
            |typed: &str| -> Vec<String> { catalogue.find(typed, 5).into_iter().map(|e| e.emoji.clone()).collect() };
        assert_eq!(found("tada")[0], "🎉");
        assert_eq!(found(":rocket:")[0], "🚀");
        assert!(found("thumbs").contains(&"👍".to_owned()));
        assert!(found("red heart").contains(&"❤️".to_owned()));
        assert!(found("no such emoji at all").is_empty());
        assert!(found("  ").is_empty());
        assert_eq!(catalogue.find("face", 7).len(), 7);
    }

    #[test]
    fn shortcodes_complete_at_the_end_of_the_draft() {
        assert_eq!(shortcode_prefix("ship it :tad"), Some("tad"));
        assert_eq!(shortcode_prefix(":ro"), Some("ro"));
        assert_eq!(shortcode_prefix("ship it :t"), None, "two letters at least");
        assert_eq!(shortcode_prefix("at 10:30"), None, "a colon inside a word");
        assert_eq!(shortcode_prefix("see: this"), None);
        assert_eq!(complete_shortcode("ship it :tad", "🎉"), "ship it 🎉 ");
        assert_eq!(complete_shortcode("nothing here", "🎉"), "nothing here");
    }

    #[test]
    fn the_recently_used_come_first_once_and_are_bounded() {
        let recent = used(&["👍".into(), "🎉".into()], "🎉");
        assert_eq!(recent, ["🎉", "👍"]);
        let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        assert_eq!(used(&many, "🚀").len(), MAX_RECENT);
    }
}
