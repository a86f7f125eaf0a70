//! Search: what a user types (words and filters such as `from:@ada has:link`) turned into a full-text query that cannot be malformed and filters the server applies, highlighted snippets split into plain and matched pieces, and the quick switcher's ranking of channel names.

use serde::{Deserialize, Serialize};

/// The most words one search may hold.
pub const MAX_TERMS: usize = 8;

/// The full-text (FTS5) query for what the user typed: every word must match the start
/// of a word (so `deploy` finds "deployment", and results come while typing). Words are
/// quoted, so no character typed can change the query's syntax. `None` when nothing
/// searchable was typed.
pub fn fts_query(typed: &str) -> Option<String> {
    let words: Vec<String> = typed
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_TERMS)
        .map(|w| w.chars().take(64).collect())
        .collect();
    if words.is_empty() {
        return None;
    }
    let terms: Vec<String> = words.iter().map(|w| format!("\"{w}\"*")).collect();
    Some(terms.join(" "))
}

/// The same search for PostgreSQL's `to_tsquery`: every word, as a prefix. Only letters
/// and digits reach it, so nothing typed can change the query's syntax.
pub fn tsquery(typed: &str) -> Option<String> {
    let query = fts_query(typed)?;
    let terms: Vec<String> = query
        .split(' ')
        .map(|term| format!("{}:*", term.trim_end_matches('*').trim_matches('"')))
        .collect();
    Some(terms.join(" & "))
}

/// What narrows a search besides its words, as typed: `from:@ada`, `in:#general`,
/// `has:file`, `has:link`, `before:2026-11-30`, `after:…`, `on:…`, `mentions:me`, `is:pinned`, and
/// `sort:new` (newest first instead of best match).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    /// Written by this username (lowercase).
    pub from: Option<String>,
    /// In channels of this name (lowercase, without `#`).
    pub channel: Option<String>,
    pub has_file: bool,
    pub has_link: bool,
    /// Sent at or after this instant (ms since the epoch).
    pub after_ms: Option<i64>,
    /// Sent before this instant.
    pub before_ms: Option<i64>,
    pub mentions_me: bool,
    /// Pinned to their channel.
    pub pinned: bool,
    pub newest_first: bool,
}

impl Filters {
    /// Whether anything narrows the search (a search of filters alone lists the newest).
    pub fn any(&self) -> bool {
        self.from.is_some()
            || self.channel.is_some()
            || self.has_file
            || self.has_link
            || self.after_ms.is_some()
            || self.before_ms.is_some()
            || self.mentions_me
            || self.pinned
    }
}

/// A search as typed, read: its words (for [`fts_query`] or [`tsquery`]) and its filters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub words: String,
    pub filters: Filters,
}

/// The filters a search understands, for the help under the search box.
pub const FILTER_HELP: &str =
    "from:@name  in:#channel  has:file  has:link  before:/after:/on:YYYY-MM-DD  mentions:me  is:pinned  sort:new";

const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The first instant of a `YYYY-MM-DD` day where the reader is (`offset_minutes` east of UTC).
fn day_start(value: &str, key: &str, offset_minutes: i32) -> Result<i64, String> {
    let bad = || format!("{key}: wants a date like 2026-11-30");
    let mut parts = value.split('-');
    let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let (year, month, day): (i64, i64, i64) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if y.len() != 4 || !(1..=days_in_month).contains(&day) {
        return Err(bad());
    }
    Ok(days_from_civil(year, month, day) * DAY_MS - i64::from(offset_minutes) * 60_000)
}

impl Query {
    /// Reads what was typed: `key:value` tokens of the known keys are filters, anything
    /// else is words. A filter with a value it cannot take is refused with the reason.
    /// Dates are days where the reader is (`offset_minutes` east of UTC).
    pub fn parse(typed: &str, offset_minutes: i32) -> Result<Self, String> {
        let offset_minutes = offset_minutes.clamp(-14 * 60, 14 * 60);
        let mut query = Query::default();
        let mut words = Vec::new();
        for token in typed.split_whitespace() {
            let Some((key, value)) = token.split_once(':') else {
                words.push(token);
                continue;
            };
            let key = key.to_ascii_lowercase();
            let value_lower = value.to_lowercase();
            let filters = &mut query.filters;
            match key.as_str() {
                "from" => {
                    let name = value_lower.trim_start_matches('@');
                    if name.is_empty() {
                        return Err("from: wants a username, like from:@ada".into());
                    }
                    filters.from = Some(name.chars().take(64).collect());
                }
                "in" => {
                    let name = value_lower.trim_start_matches('#');
                    if name.is_empty() {
                        return Err("in: wants a channel, like in:#general".into());
                    }
                    filters.channel = Some(name.chars().take(64).collect());
                }
                "has" => match value_lower.as_str() {
                    "file" | "files" | "attachment" => filters.has_file = true,
                    "link" | "links" => filters.has_link = true,
                    _ => return Err("has: takes file or link".into()),
                },
                "is" => match value_lower.as_str() {
                    "pinned" => filters.pinned = true,
                    _ => return Err("is: takes pinned".into()),
                },
                "mentions" => match value_lower.as_str() {
                    "me" => filters.mentions_me = true,
                    _ => return Err("mentions: takes me".into()),
                },
                "sort" => match value_lower.as_str() {
                    "new" | "newest" | "recent" => filters.newest_first = true,
                    "best" | "relevance" => filters.newest_first = false,
                    _ => return Err("sort: takes new or best".into()),
                },
                "before" => filters.before_ms = Some(day_start(value, "before", offset_minutes)?),
                "after" => filters.after_ms = Some(day_start(value, "after", offset_minutes)? + DAY_MS),
                "on" => {
                    let start = day_start(value, "on", offset_minutes)?;
                    filters.after_ms = Some(start);
                    filters.before_ms = Some(start + DAY_MS);
                }
                _ => words.push(token),
            }
        }
        query.words = words.join(" ");
        Ok(query)
    }
}

/// Marks the database puts around matched words in a snippet. A body that holds these
/// control characters itself only shifts its own highlighting.
pub const MATCH_START: char = '\u{2}';
pub const MATCH_END: char = '\u{3}';

/// Splits a marked snippet into pieces of text, each matched or not, with the body's
/// Markdown taken out (a snippet shows words, not `**` and `[](…)`).
pub fn highlight(snippet: &str) -> Vec<(String, bool)> {
    // A snippet cut inside emphasis leaves a marker without its pair, which Markdown reads
    // as text: what is left of `**`, `__` and `~~` goes too.
    let snippet = crate::markdown::plain_text(snippet)
        .replace("**", "")
        .replace("__", "")
        .replace("~~", "");
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut matched = false;
    for c in snippet.chars() {
        if c == MATCH_START || c == MATCH_END {
            if !current.is_empty() {
                pieces.push((std::mem::take(&mut current), matched));
            }
            matched = c == MATCH_START;
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        pieces.push((current, matched));
    }
    pieces
}

/// How well `name` answers what was typed in the quick switcher, higher first; `None`
/// when it does not: every typed character must appear in the name, in order, ignoring
/// case (`gnrl` finds `general`). A name that starts with the query ranks first, then one
/// containing it, then the other matches, tighter ones first; shorter names break ties.
pub fn switcher_rank(typed: &str, name: &str) -> Option<i64> {
    let typed = typed.trim().to_lowercase();
    let name = name.to_lowercase();
    if typed.is_empty() {
        return Some(-(name.chars().count() as i64));
    }
    let length = name.chars().count() as i64;
    if name.starts_with(&typed) {
        return Some(3_000_000 - length);
    }
    if name.contains(&typed) {
        return Some(2_000_000 - length);
    }
    // In order, not together: the fewer characters skipped, the better.
    let mut wanted = typed.chars().peekable();
    let (mut first, mut last) = (None, 0i64);
    for (i, c) in name.chars().enumerate() {
        if wanted.peek() == Some(&c) {
            wanted.next();
            first.get_or_insert(i as i64);
            last = i as i64;
        }
    }
    if wanted.peek().is_some() {
        return None;
    }
    let spread = last - first.unwrap_or(0);
    Some(1_000_000 - spread * 100 - length)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_read_from_what_was_typed_and_the_rest_are_words() {
        let query = Query::parse(
            "deploy from:@Ada in:#General has:file has:link mentions:me is:Pinned sort:new friday",
            0,
        )
        .expect("a valid search");
        assert_eq!(query.words, "deploy friday");
        assert_eq!(
            query.filters,
            Filters {
                from: Some("ada".into()),
                channel: Some("general".into()),
                has_file: true,
                has_link: true,
                after_ms: None,
                before_ms: None,
                mentions_me: true,
                pinned: true,
                newest_first: true,
            }
        );
        assert!(query.filters.any());
        // Unknown keys and colons inside words stay words.
        let query = Query::parse("meet at 10:30 re:launch", 0).expect("words");
        assert_eq!(query.words, "meet at 10:30 re:launch");
        assert!(!query.filters.any());
    }

    #[test]
    fn dates_are_whole_days_where_the_reader_is() {
        let day = 1_764_460_800_000; // 2025-11-30T00:00:00Z
        let on = Query::parse("on:2025-11-30", 0).expect("a date").filters;
        assert_eq!((on.after_ms, on.before_ms), (Some(day), Some(day + DAY_MS)));
        let after = Query::parse("after:2025-11-30 before:2025-12-02", 0)
            .expect("dates")
            .filters;
        assert_eq!(
            (after.after_ms, after.before_ms),
            (Some(day + DAY_MS), Some(day + 2 * DAY_MS))
        );
        // In Tokyo (UTC+9) that day starts 9 hours earlier.
        let tokyo = Query::parse("on:2025-11-30", 540).expect("a date").filters;
        assert_eq!(tokyo.after_ms, Some(day - 9 * 3_600_000));
        assert_eq!(Query::parse("on:2024-02-29", 0).map(|q| q.filters.any()), Ok(true));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn a_filter_it_cannot_take_is_refused_with_the_reason() {
        for (typed, reason) in [
            ("on:yesterday", "on: wants a date"),
            ("before:2025-02-29", "before: wants a date"),
            ("after:2025-13-01", "after: wants a date"),
            ("on:25-11-30", "on: wants a date"),
            ("has:cats", "has: takes file or link"),
            ("is:cute", "is: takes pinned"),
            ("from:@", "from: wants a username"),
            ("in:#", "in: wants a channel"),
            ("mentions:bob", "mentions: takes me"),
            ("sort:oldest", "sort: takes new or best"),
        ] {
            let refused = Query::parse(typed, 0).expect_err(typed);
            assert!(refused.starts_with(reason), "{typed}: {refused}");
        }
    }

    #[test]
    fn typed_words_become_postgres_prefix_terms() {
        assert_eq!(tsquery("deploy frid").as_deref(), Some("deploy:* & frid:*"));
        assert_eq!(tsquery("a'b & !c | d:*").as_deref(), Some("a:* & b:* & c:* & d:*"));
        assert_eq!(tsquery("  ,;!  "), None);
    }

    #[test]
    fn typed_words_become_quoted_prefix_terms() {
        assert_eq!(fts_query("deploy frid").as_deref(), Some("\"deploy\"* \"frid\"*"));
        assert_eq!(
            fts_query("  \"OR\" NEAR( *col:umn ").as_deref(),
            Some("\"OR\"* \"NEAR\"* \"col\"* \"umn\"*")
        );
        assert_eq!(fts_query("café"), Some("\"café\"*".into()));
        assert_eq!(fts_query("  ,;!  "), None);
        assert_eq!(fts_query(""), None);
        let many = "a ".repeat(20);
        assert_eq!(fts_query(&many).map(|q| q.matches('"').count()), Some(2 * MAX_TERMS));
    }

    #[test]
    fn snippets_split_into_plain_and_matched_pieces() {
        let snippet = format!("…the {MATCH_START}deploy{MATCH_END} is on {MATCH_START}Friday{MATCH_END}");
        assert_eq!(
            highlight(&snippet),
            vec![
                ("…the ".into(), false),
                ("deploy".into(), true),
                (" is on ".into(), false),
                ("Friday".into(), true)
            ]
        );
        assert_eq!(highlight("plain"), vec![("plain".into(), false)]);
    }

    #[test]
    fn snippets_show_words_not_markdown() {
        let snippet = format!("Did the **{MATCH_START}release{MATCH_END}** go out? See [notes](https://x.example)");
        assert_eq!(
            highlight(&snippet),
            vec![
                ("Did the ".into(), false),
                ("release".into(), true),
                (" go out? See notes".into(), false)
            ]
        );
        // A snippet cut inside emphasis (as PostgreSQL's `ts_headline` cuts) leaves no
        // half marker either.
        for cut in [
            format!("…**{MATCH_START}release{MATCH_END} notes"),
            format!("{MATCH_START}deploy{MATCH_END}** is done"),
            format!("a ~~{MATCH_START}old{MATCH_END} plan"),
        ] {
            let text: String = highlight(&cut).into_iter().map(|(t, _)| t).collect();
            assert!(!text.contains("**") && !text.contains("~~"), "{text}");
        }
    }

    #[test]
    fn the_switcher_ranks_prefixes_then_substrings_then_letters_in_order() {
        let names = ["general", "design-review", "random", "gardening", "@ada, @bob"];
        let ranked = |typed: &str| -> Vec<&str> {
            let mut found: Vec<(i64, &str)> = names
                .iter()
                .filter_map(|n| switcher_rank(typed, n).map(|r| (r, *n)))
                .collect();
            found.sort_by_key(|(rank, _)| std::cmp::Reverse(*rank));
            found.into_iter().map(|(_, n)| n).collect()
        };
        assert_eq!(ranked("gen"), ["general", "gardening"], "the prefix first, then g…e…n");
        assert_eq!(ranked("GEN")[0], "general", "case does not matter");
        assert_eq!(ranked("d"), ["design-review", "random", "gardening", "@ada, @bob"]);
        assert_eq!(ranked("gnrl"), ["general"]);
        assert_eq!(ranked("rev"), ["design-review"]);
        assert_eq!(ranked("bob"), ["@ada, @bob"]);
        assert!(ranked("xyz").is_empty());
        assert_eq!(
            ranked("").len(),
            names.len(),
            "nothing typed: everything, shortest first"
        );
        assert_eq!(ranked("")[0], "random");
    }
}
