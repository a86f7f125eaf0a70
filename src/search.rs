//! Search: what a user types turned into a full-text query that cannot be malformed, and
//! highlighted snippets split into plain and matched pieces.

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

/// Splits a marked snippet into pieces of text, each matched or not.
pub fn highlight(snippet: &str) -> Vec<(String, bool)> {
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
}
