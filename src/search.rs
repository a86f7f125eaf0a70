//! Search: what a user types turned into a full-text query that cannot be malformed,
//! highlighted snippets split into plain and matched pieces, and the quick switcher's
//! ranking of channel names.

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

/// Marks the database puts around matched words in a snippet. A body that holds these
/// control characters itself only shifts its own highlighting.
pub const MATCH_START: char = '\u{2}';
pub const MATCH_END: char = '\u{3}';

/// Splits a marked snippet into pieces of text, each matched or not, with the body's
/// Markdown taken out (a snippet shows words, not `**` and `[](…)`).
pub fn highlight(snippet: &str) -> Vec<(String, bool)> {
    let snippet = crate::markdown::plain_text(snippet);
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
        // A snippet cut inside a marker keeps what it cannot read as Markdown.
        let cut = format!("…**{MATCH_START}release{MATCH_END} notes");
        let text: String = highlight(&cut).into_iter().map(|(t, _)| t).collect();
        assert_eq!(text, "…**release notes");
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
