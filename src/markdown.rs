//! Message bodies as Markdown, parsed into a tree that can only be displayed safely.
//!
//! There is no HTML output and so nothing to sanitize: the tree has text, a few kinds of
//! emphasis, code, quotes, lists, links and mentions, and the UI turns it into elements
//! whose text is escaped by construction. HTML typed in a message stays visible text.
//! A link keeps its target only when it is `http`, `https` or `mailto`; any other
//! (`javascript:`, `data:`, …) becomes plain text. Headings show as bold lines (a chat
//! message is not a document), images as links to the image, and a single new line
//! breaks the line. Nesting (quotes, lists, emphasis, links) is capped at [`MAX_DEPTH`]:
//! deeper structure is flattened into its parent's text, so no body, however hostile, makes
//! a reader of the tree (the renderer, [`mentions`], even dropping it) recurse deeply.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// How deep blocks and inlines may nest in a parsed body. Real messages rarely go past
/// three (a quote holding a list holding emphasis); `">" * 4000` must not go past this.
pub const MAX_DEPTH: usize = 8;

/// A block of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Paragraph(Vec<Inline>),
    /// A fenced or indented code block, with the language named after the fence.
    Code {
        language: Option<String>,
        text: String,
    },
    Quote(Vec<Block>),
    /// A list; `start` is the first number of an ordered one.
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
    Rule,
}

/// Text within a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    Strong(Vec<Inline>),
    Emphasis(Vec<Inline>),
    Strike(Vec<Inline>),
    Code(String),
    /// A link to a safe target (see [`safe_href`]).
    Link {
        href: String,
        children: Vec<Inline>,
    },
    /// `@username`: the name without the `@`, case-folded.
    Mention(String),
    /// `#channel`: a channel's name as written, without the `#` (the reader's client links
    /// it to the channel of that name it knows, if any; otherwise it stays text).
    ChannelRef(String),
    LineBreak,
}

/// Parses a message body.
pub fn parse(body: &str) -> Vec<Block> {
    let options = Options::ENABLE_STRIKETHROUGH;
    let mut builder = Builder::default();
    for event in Parser::new_ext(body, options) {
        builder.event(event);
    }
    builder.finish()
}

/// A body's words without its Markdown: what a search snippet or a notification shows.
/// Blocks are separated by a space; a link shows its text, a mention `@name`.
pub fn plain_text(body: &str) -> String {
    fn walk_blocks(blocks: &[Block], out: &mut String) {
        for block in blocks {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            match block {
                Block::Paragraph(inlines) => walk_inlines(inlines, out),
                Block::Code { text, .. } => out.push_str(text.trim_end()),
                Block::Quote(inner) => walk_blocks(inner, out),
                Block::List { items, .. } => items.iter().for_each(|item| walk_blocks(item, out)),
                Block::Rule => {}
            }
        }
    }
    fn walk_inlines(inlines: &[Inline], out: &mut String) {
        for inline in inlines {
            match inline {
                Inline::Text(text) | Inline::Code(text) => out.push_str(text),
                Inline::Strong(inner) | Inline::Emphasis(inner) | Inline::Strike(inner) => walk_inlines(inner, out),
                Inline::Link { children, .. } => walk_inlines(children, out),
                Inline::Mention(name) => {
                    out.push('@');
                    out.push_str(name);
                }
                Inline::ChannelRef(name) => {
                    out.push('#');
                    out.push_str(name);
                }
                Inline::LineBreak => out.push(' '),
            }
        }
    }
    let mut out = String::new();
    walk_blocks(&parse(body), &mut out);
    out.trim_end().to_owned()
}

/// The link target to use, if `url` is safe to follow: `http`, `https` or `mailto`, with
/// any whitespace or control characters (which browsers drop: `java\tscript:`) refused.
pub fn safe_href(url: &str) -> Option<String> {
    let url = url.trim();
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let lower = url.to_ascii_lowercase();
    let allowed = ["https://", "http://", "mailto:"];
    allowed
        .iter()
        .any(|scheme| lower.starts_with(scheme) && lower.len() > scheme.len())
        .then(|| url.to_owned())
}

/// The usernames a body mentions, case-folded, each once, in order.
pub fn mentions(body: &str) -> Vec<String> {
    fn walk(inlines: &[Inline], out: &mut Vec<String>) {
        for inline in inlines {
            match inline {
                Inline::Mention(name) if !out.contains(name) => out.push(name.clone()),
                Inline::Strong(c) | Inline::Emphasis(c) | Inline::Strike(c) => walk(c, out),
                Inline::Link { children, .. } => walk(children, out),
                _ => {}
            }
        }
    }
    fn blocks(list: &[Block], out: &mut Vec<String>) {
        for block in list {
            match block {
                Block::Paragraph(inlines) => walk(inlines, out),
                Block::Quote(inner) => blocks(inner, out),
                Block::List { items, .. } => items.iter().for_each(|item| blocks(item, out)),
                Block::Code { .. } | Block::Rule => {}
            }
        }
    }
    // Every mention is written with an `@`: most messages have none and need no parse.
    if !body.contains('@') {
        return Vec::new();
    }
    let mut out = Vec::new();
    blocks(&parse(body), &mut out);
    out
}

/// The start of a username being typed at the end of `draft` (`"hi @ad"` → `"ad"`), for
/// completion; `None` unless the draft ends in `@` plus name characters at a word start.
pub fn mention_prefix(draft: &str) -> Option<&str> {
    let at = draft.rfind('@')?;
    let typed = &draft[at + 1..];
    let at_word_start = draft[..at].chars().last().is_none_or(|c| c.is_whitespace() || c == '(');
    let name_chars = typed
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    (at_word_start && name_chars && typed.len() <= 32).then_some(typed)
}

/// `draft` with the username being typed at its end completed to `@name `.
pub fn complete_mention(draft: &str, name: &str) -> String {
    match (mention_prefix(draft), draft.rfind('@')) {
        (Some(_), Some(at)) => format!("{}@{name} ", &draft[..at]),
        _ => draft.to_owned(),
    }
}

/// Splits plain text into text, mentions (`@name`), channels (`#name`) and bare
/// `http(s)://` links.
fn enrich(text: &str, out: &mut Vec<Inline>) {
    let mut plain = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let at_word_start = plain.chars().last().is_none_or(|p| !p.is_alphanumeric());
        if c == '@' && at_word_start {
            let name = name_after_sigil(rest, |c| c.is_ascii_alphanumeric());
            if (3..=32).contains(&name.len()) {
                flush(&mut plain, out);
                out.push(Inline::Mention(name.to_ascii_lowercase()));
                rest = &rest[1 + name.len()..];
                continue;
            }
        }
        if c == '#' && at_word_start {
            let name = name_after_sigil(rest, char::is_alphanumeric);
            // A channel's name, not an issue number ("#12") or a lone "#".
            if (1..=crate::rules::DisplayName::MAX_CHARS).contains(&name.chars().count())
                && !name.chars().all(|c| c.is_ascii_digit())
            {
                flush(&mut plain, out);
                out.push(Inline::ChannelRef(name.to_owned()));
                rest = &rest[1 + name.len()..];
                continue;
            }
        }
        if (c == 'h' || c == 'H') && at_word_start {
            let lower = rest.get(..8).unwrap_or(rest).to_ascii_lowercase();
            if lower.starts_with("https://") || lower.starts_with("http://") {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '<' || c == '>')
                    .unwrap_or(rest.len());
                // Trailing punctuation ends the sentence, not the link.
                let url = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'', '"']);
                if let Some(href) = safe_href(url) {
                    flush(&mut plain, out);
                    out.push(Inline::Link {
                        href,
                        children: vec![Inline::Text(url.to_owned())],
                    });
                    rest = &rest[url.len()..];
                    continue;
                }
            }
        }
        plain.push(c);
        rest = &rest[c.len_utf8()..];
    }
    flush(&mut plain, out);
}

/// The name right after the sigil (`@`, `#`) that `rest` starts with: letters (as `letter`
/// says), digits and `.`, `-`, `_`, but not ending in one of those three (that ends the
/// sentence). Empty when none follows.
fn name_after_sigil(rest: &str, letter: impl Fn(char) -> bool) -> &str {
    let after = &rest[1..];
    let end = after
        .char_indices()
        .find(|&(_, c)| !(letter(c) || matches!(c, '.' | '-' | '_')))
        .map_or(after.len(), |(i, _)| i);
    after[..end].trim_end_matches(['.', '-', '_'])
}

fn flush(plain: &mut String, out: &mut Vec<Inline>) {
    if plain.is_empty() {
        return;
    }
    let text = std::mem::take(plain);
    match out.last_mut() {
        Some(Inline::Text(previous)) => previous.push_str(&text),
        _ => out.push(Inline::Text(text)),
    }
}

/// What is open while the parser's events come in.
enum Open {
    Blocks(Vec<Block>),
    Paragraph(Vec<Inline>),
    Quote(Vec<Block>),
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
    Item(Vec<Block>, Vec<Inline>),
    Code {
        language: Option<String>,
        text: String,
    },
    Strong(Vec<Inline>),
    Emphasis(Vec<Inline>),
    Strike(Vec<Inline>),
    /// A link: `None` when its target is unsafe (its text stays, as text).
    Link(Option<String>, Vec<Inline>),
    /// Anything not enabled (tables, footnotes): its content, as plain inline text.
    Plain(Vec<Inline>),
}

impl Open {
    /// The inline content of a container that holds some (an item's loose text).
    fn inlines(&mut self) -> Option<&mut Vec<Inline>> {
        match self {
            Open::Paragraph(c)
            | Open::Strong(c)
            | Open::Emphasis(c)
            | Open::Strike(c)
            | Open::Link(_, c)
            | Open::Plain(c)
            | Open::Item(_, c) => Some(c),
            Open::Blocks(_) | Open::Quote(_) | Open::List { .. } | Open::Code { .. } => None,
        }
    }
}

struct Builder {
    stack: Vec<Open>,
    /// Containers opened beyond [`MAX_DEPTH`] and not yet closed: their content goes to
    /// the deepest open container instead, and their ends are skipped.
    flattened: usize,
    /// Whether flattening opened a paragraph to hold text in a block container (closed
    /// when the flattened part ends).
    flat_paragraph: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            stack: vec![Open::Blocks(Vec::new())],
            flattened: 0,
            flat_paragraph: false,
        }
    }
}

impl Builder {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.text(&text),
            Event::Code(code) => self.inline(Inline::Code(code.into_string())),
            // HTML is shown as the text it is.
            Event::Html(html) | Event::InlineHtml(html) => self.literal(&html),
            // In chat, a new line is a new line (as in Slack or Zulip), not a space.
            Event::SoftBreak => self.inline(Inline::LineBreak),
            Event::HardBreak => self.inline(Inline::LineBreak),
            Event::Rule => self.block(Block::Rule),
            Event::TaskListMarker(done) => self.literal(if done { "[x] " } else { "[ ] " }),
            Event::FootnoteReference(name) => self.literal(&format!("[^{name}]")),
            Event::InlineMath(math) | Event::DisplayMath(math) => self.literal(&math),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        // The root is not a level: the stack holds it and at most MAX_DEPTH containers.
        if self.flattened > 0 || self.stack.len() > MAX_DEPTH {
            if self.flattened == 0 && !self.takes_inlines() {
                self.stack.push(Open::Paragraph(Vec::new()));
                self.flat_paragraph = true;
            }
            self.flattened += 1;
            return;
        }
        let open = match tag {
            Tag::Paragraph | Tag::Heading { .. } => Open::Paragraph(Vec::new()),
            Tag::BlockQuote(_) => Open::Quote(Vec::new()),
            Tag::CodeBlock(kind) => Open::Code {
                language: match kind {
                    CodeBlockKind::Fenced(lang) => {
                        let lang = lang.split_whitespace().next().unwrap_or_default();
                        (!lang.is_empty()).then(|| lang.to_owned())
                    }
                    CodeBlockKind::Indented => None,
                },
                text: String::new(),
            },
            Tag::List(start) => Open::List {
                start,
                items: Vec::new(),
            },
            Tag::Item => Open::Item(Vec::new(), Vec::new()),
            Tag::Emphasis => Open::Emphasis(Vec::new()),
            Tag::Strong => Open::Strong(Vec::new()),
            Tag::Strikethrough => Open::Strike(Vec::new()),
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => Open::Link(safe_href(&dest_url), Vec::new()),
            // Anything else (tables, footnotes, metadata: not enabled) holds its text.
            _ => Open::Plain(Vec::new()),
        };
        self.stack.push(open);
    }

    fn end(&mut self, tag: TagEnd) {
        if self.flattened > 0 {
            self.flattened -= 1;
            // A flattened block still ends its line; a flattened inline just ends.
            // (One break, however many blocks end together: a thousand closing quotes are
            // not a thousand empty lines.)
            if matches!(
                tag,
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::CodeBlock | TagEnd::BlockQuote(_)
            ) && !self.ends_with_break()
            {
                self.inline(Inline::LineBreak);
            }
            if self.flattened == 0 && std::mem::take(&mut self.flat_paragraph) {
                self.end(TagEnd::Paragraph);
            }
            return;
        }
        if self.stack.len() <= 1 {
            return; // never close the root
        }
        let Some(open) = self.stack.pop() else { return };
        match open {
            Open::Paragraph(inlines) => {
                let inlines = if matches!(tag, TagEnd::Heading(_)) {
                    vec![Inline::Strong(inlines)]
                } else {
                    inlines
                };
                // Inside a list item, a paragraph's text joins the item's loose text.
                self.block(Block::Paragraph(inlines));
            }
            Open::Quote(blocks) => self.block(Block::Quote(blocks)),
            Open::Code { language, text } => self.block(Block::Code { language, text }),
            Open::List { start, items } => self.block(Block::List { start, items }),
            Open::Item(mut blocks, loose) => {
                if !loose.is_empty() {
                    blocks.insert(0, Block::Paragraph(loose));
                }
                if let Some(Open::List { items, .. }) = self.stack.last_mut() {
                    items.push(blocks);
                }
            }
            Open::Strong(c) => self.inline(Inline::Strong(c)),
            Open::Emphasis(c) => self.inline(Inline::Emphasis(c)),
            Open::Strike(c) => self.inline(Inline::Strike(c)),
            Open::Link(Some(href), children) => self.inline(Inline::Link { href, children }),
            Open::Link(None, children) | Open::Plain(children) => children.into_iter().for_each(|c| self.inline(c)),
            Open::Blocks(blocks) => blocks.into_iter().for_each(|b| self.block(b)),
        }
    }

    /// Text from the source: code keeps it as is; elsewhere mentions and links are found.
    fn text(&mut self, text: &str) {
        if let Some(Open::Code { text: code, .. }) = self.stack.last_mut() {
            code.push_str(text);
            return;
        }
        let mut inlines = Vec::new();
        if matches!(self.stack.last(), Some(Open::Link(..))) {
            inlines.push(Inline::Text(text.to_owned()));
        } else {
            enrich(text, &mut inlines);
        }
        for inline in inlines {
            self.inline(inline);
        }
    }

    /// Text shown as typed (HTML, markers).
    fn literal(&mut self, text: &str) {
        if let Some(Open::Code { text: code, .. }) = self.stack.last_mut() {
            code.push_str(text);
            return;
        }
        self.inline(Inline::Text(text.to_owned()));
    }

    /// Whether the deepest open container's inline content ends with a line break.
    fn ends_with_break(&mut self) -> bool {
        let last = self.stack.last_mut().and_then(Open::inlines).and_then(|c| c.last());
        matches!(last, Some(Inline::LineBreak))
    }

    /// Whether the deepest open container holds inline content.
    fn takes_inlines(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(
                Open::Paragraph(_)
                    | Open::Strong(_)
                    | Open::Emphasis(_)
                    | Open::Strike(_)
                    | Open::Link(..)
                    | Open::Plain(_)
                    | Open::Item(..)
                    | Open::Code { .. }
            )
        )
    }

    fn inline(&mut self, inline: Inline) {
        if let Some(Open::Code { text, .. }) = self.stack.last_mut() {
            if let Inline::Text(t) | Inline::Code(t) = &inline {
                text.push_str(t);
            }
            return;
        }
        let Some(target) = self.stack.last_mut().and_then(Open::inlines) else {
            // Inline content straight in a block container (HTML blocks): a paragraph.
            self.stack.push(Open::Paragraph(Vec::new()));
            self.inline(inline);
            if let Some(Open::Paragraph(c)) = self.stack.pop() {
                self.block(Block::Paragraph(c));
            }
            return;
        };
        match (target.last_mut(), inline) {
            (Some(Inline::Text(previous)), Inline::Text(text)) => previous.push_str(&text),
            (_, inline) => target.push(inline),
        }
    }

    fn block(&mut self, block: Block) {
        match self.stack.last_mut() {
            Some(Open::Blocks(b) | Open::Quote(b)) => b.push(block),
            Some(Open::Item(blocks, loose)) => {
                if !loose.is_empty() {
                    blocks.push(Block::Paragraph(std::mem::take(loose)));
                }
                blocks.push(block);
            }
            Some(Open::List { items, .. }) => items.push(vec![block]),
            // A block inside inline content cannot come from the parser; keep its text.
            _ => {
                if let Some(Open::Blocks(root)) = self.stack.first_mut() {
                    root.push(block);
                }
            }
        }
    }

    fn finish(mut self) -> Vec<Block> {
        while self.flattened > 0 {
            self.end(TagEnd::Paragraph);
        }
        while self.stack.len() > 1 {
            self.end(TagEnd::Paragraph);
        }
        match self.stack.pop() {
            Some(Open::Blocks(blocks)) => blocks,
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_named_with_a_hash_is_a_channel_reference() {
        assert_eq!(
            parse("see #design-review, and #12 or # alone"),
            vec![Block::Paragraph(vec![
                Inline::Text("see ".into()),
                Inline::ChannelRef("design-review".into()),
                Inline::Text(", and #12 or # alone".into()),
            ])]
        );
        // Not inside a word or a code span; too long a name is text.
        assert_eq!(parse("a#b `#c`").len(), 1);
        assert!(!format!("{:?}", parse("a#b `#c`")).contains("ChannelRef"));
        let long = format!("#{}", "x".repeat(40));
        assert!(!format!("{:?}", parse(&long)).contains("ChannelRef"));
        assert_eq!(plain_text("in #ops today"), "in #ops today");
    }

    #[test]
    fn plain_text_drops_the_markdown_and_keeps_the_words() {
        assert_eq!(plain_text("Did the **release** go _out_?"), "Did the release go out?");
        assert_eq!(
            plain_text("see [the docs](https://example.com) and `cargo test`"),
            "see the docs and cargo test"
        );
        assert_eq!(plain_text("> quoted\n\n- one\n- two"), "quoted one two");
        assert_eq!(plain_text("# Title\nline one  \nline two"), "Title line one line two");
        assert_eq!(plain_text("hi @Ann ~~no~~"), "hi @ann no");
        // HTML stays text, as everywhere.
        assert_eq!(plain_text("<b>x</b>"), "<b>x</b>");
    }

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    #[test]
    fn emphasis_code_and_links() {
        let blocks = parse("**bold** _it_ ~~gone~~ `x<y` [site](https://example.com)");
        assert_eq!(
            blocks,
            vec![Block::Paragraph(vec![
                Inline::Strong(vec![text("bold")]),
                text(" "),
                Inline::Emphasis(vec![text("it")]),
                text(" "),
                Inline::Strike(vec![text("gone")]),
                text(" "),
                Inline::Code("x<y".into()),
                text(" "),
                Inline::Link {
                    href: "https://example.com".into(),
                    children: vec![text("site")]
                },
            ])]
        );
    }

    #[test]
    fn html_stays_text() {
        let blocks = parse("<script>alert(1)</script> and <img src=x onerror=alert(1)>");
        let all = format!("{blocks:?}");
        assert!(all.contains("<script>"), "{all}");
        assert!(all.contains("onerror"), "{all}");
        assert!(!all.contains("Link"), "{all}");
    }

    #[test]
    fn unsafe_link_targets_become_text() {
        for body in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](java\tscript:alert(1))",
            "[x](data:text/html,<script>alert(1)</script>)",
            "[x](vbscript:msgbox)",
            "![x](javascript:alert(1))",
            "<javascript:alert(1)>",
            "[x](//evil.example)",
        ] {
            let all = format!("{:?}", parse(body));
            assert!(!all.contains("Link"), "{body}: {all}");
        }
        assert_eq!(safe_href(" https://a.b/c "), Some("https://a.b/c".into()));
        assert_eq!(
            safe_href("mailto:ada@example.com"),
            Some("mailto:ada@example.com".into())
        );
        assert_eq!(safe_href("https://"), None);
    }

    #[test]
    fn bare_links_and_mentions_are_found_in_text_but_not_in_code() {
        let blocks = parse("hi @Ada_L, see https://example.com/a?b=1. `@bob https://x.y`");
        assert_eq!(
            blocks,
            vec![Block::Paragraph(vec![
                text("hi "),
                Inline::Mention("ada_l".into()),
                text(", see "),
                Inline::Link {
                    href: "https://example.com/a?b=1".into(),
                    children: vec![text("https://example.com/a?b=1")]
                },
                text(". "),
                Inline::Code("@bob https://x.y".into()),
            ])]
        );
        assert_eq!(mentions("@ada and @bob and @ada, mail me@host.com"), vec!["ada", "bob"]);
    }

    #[test]
    fn a_name_being_typed_is_found_and_completed() {
        assert_eq!(mention_prefix("hi @ad"), Some("ad"));
        assert_eq!(mention_prefix("@"), Some(""));
        assert_eq!(mention_prefix("mail me@host"), None, "not at a word start");
        assert_eq!(mention_prefix("hi @ada and"), None, "not at the end");
        assert_eq!(mention_prefix("no mention"), None);
        assert_eq!(complete_mention("thanks @ad", "ada_l"), "thanks @ada_l ");
        assert_eq!(complete_mention("thanks", "ada"), "thanks");
    }

    #[test]
    fn blocks_lists_quotes_and_code() {
        let blocks = parse("# Title\n\n> quoted\n\n- one\n- two\n\n3. three\n\n```rust\nfn main() {}\n```\n\n---");
        assert_eq!(
            blocks,
            vec![
                Block::Paragraph(vec![Inline::Strong(vec![text("Title")])]),
                Block::Quote(vec![Block::Paragraph(vec![text("quoted")])]),
                Block::List {
                    start: None,
                    items: vec![
                        vec![Block::Paragraph(vec![text("one")])],
                        vec![Block::Paragraph(vec![text("two")])]
                    ]
                },
                Block::List {
                    start: Some(3),
                    items: vec![vec![Block::Paragraph(vec![text("three")])]]
                },
                Block::Code {
                    language: Some("rust".into()),
                    text: "fn main() {}\n".into()
                },
                Block::Rule,
            ]
        );
    }

    #[test]
    fn any_input_parses_without_panicking() {
        for body in [
            "", "*", "**", "[", "[](", "> > >", "1.", "```", "<", "@", "@@@@", "h", "http://", "\u{0}",
        ] {
            let _ = parse(body);
        }
    }

    fn links(blocks: &[Block]) -> Vec<String> {
        fn inl(list: &[Inline], out: &mut Vec<String>) {
            for i in list {
                match i {
                    Inline::Link { href, children } => {
                        out.push(href.clone());
                        inl(children, out);
                    }
                    Inline::Strong(c) | Inline::Emphasis(c) | Inline::Strike(c) => inl(c, out),
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        for b in blocks {
            match b {
                Block::Paragraph(i) => inl(i, &mut out),
                Block::Quote(inner) => out.extend(links(inner)),
                Block::List { items, .. } => items.iter().for_each(|item| out.extend(links(item))),
                _ => {}
            }
        }
        out
    }

    /// How deep a tree nests (a paragraph of text is 2: the block and its inline). At most
    /// MAX_DEPTH + 4: the open containers, the paragraph they end in, a link found in its
    /// text, and that link's text.
    fn depth(blocks: &[Block]) -> usize {
        fn inl(list: &[Inline]) -> usize {
            list.iter()
                .map(|i| match i {
                    Inline::Strong(c) | Inline::Emphasis(c) | Inline::Strike(c) => 1 + inl(c),
                    Inline::Link { children, .. } => 1 + inl(children),
                    _ => 1,
                })
                .max()
                .unwrap_or(0)
        }
        blocks
            .iter()
            .map(|b| match b {
                Block::Paragraph(i) => 1 + inl(i),
                Block::Quote(inner) => 1 + depth(inner),
                Block::List { items, .. } => 1 + items.iter().map(|item| 1 + depth(item)).max().unwrap_or(0),
                Block::Code { .. } | Block::Rule => 1,
            })
            .max()
            .unwrap_or(0)
    }

    /// Everything of the tree as text, in order (what a reader sees, without the markup).
    fn words(blocks: &[Block]) -> String {
        format!("{blocks:?}")
    }

    #[test]
    fn nesting_bombs_are_flattened_below_the_cap() {
        for bomb in [
            format!("{}deep @ada", ">".repeat(3990)),
            format!("{}deep @ada", "- ".repeat(1990)),
            format!("{}deep @ada", "> - ".repeat(1000)),
            format!("{}deep @ada{}", "*".repeat(2000), "*".repeat(2000)),
            format!("{}deep @ada{}", "**_~~".repeat(500), "~~_**".repeat(500)),
            format!("{}deep @ada{}", "[".repeat(1500), "](https://x.y)".repeat(1500)),
            format!("{}deep @ada", "1. ".repeat(1300)),
        ] {
            let blocks = parse(&bomb);
            // The cap on open containers, plus the paragraph they end in (in an item of
            // its own when the last was a list), a link found in its text, and its text.
            assert!(
                depth(&blocks) <= MAX_DEPTH + 4,
                "depth {} for {:.20}",
                depth(&blocks),
                bomb
            );
            assert!(words(&blocks).contains("deep"), "the text survives: {:.20}", bomb);
            // A mention in a link's text is the link's (as without the cap).
            if !bomb.starts_with('[') {
                assert_eq!(mentions(&bomb), vec!["ada"], "mentions are still found: {:.20}", bomb);
            }
            // Flattening keeps it small: no wall of empty lines, whatever was nested.
            let breaks = format!("{blocks:?}").matches("LineBreak").count();
            assert!(breaks <= 2 * MAX_DEPTH, "{breaks} line breaks for {:.20}", bomb);
        }
    }

    #[test]
    fn nesting_within_the_cap_keeps_its_structure() {
        let blocks = parse("> > - **_quoted_ list**");
        assert_eq!(
            blocks,
            vec![Block::Quote(vec![Block::Quote(vec![Block::List {
                start: None,
                items: vec![vec![Block::Paragraph(vec![Inline::Strong(vec![
                    Inline::Emphasis(vec![text("quoted")]),
                    text(" list")
                ])])]]
            }])])]
        );
        // Past the cap, a deeper quote's lines stay readable as text of the last level.
        let blocks = parse(&format!("{}a\nb", ">".repeat(MAX_DEPTH + 4)));
        assert!(depth(&blocks) <= MAX_DEPTH + 4, "{blocks:?}");
        assert!(
            words(&blocks).contains('a') && words(&blocks).contains('b'),
            "{blocks:?}"
        );
    }

    proptest::proptest! {
        #[test]
        fn no_input_nests_deeper_than_the_cap(
            body in "(>|> |- |\\* |1\\. |\\*|_|~~|\\[|\\]\\(https://a\\.b\\)|`|  |\\n|a|@ada ){0,600}"
        ) {
            let blocks = parse(&body);
            proptest::prop_assert!(depth(&blocks) <= MAX_DEPTH + 4, "depth {} for {:?}", depth(&blocks), body);
        }

        #[test]
        fn long_repeats_of_any_opener_stay_under_the_cap(
            unit in "(>|> |- |\\* |1\\. |\\*|_|~~|\\[|  )",
            times in 1usize..3000,
        ) {
            let body = format!("{}x", unit.repeat(times));
            let blocks = parse(&body);
            proptest::prop_assert!(depth(&blocks) <= MAX_DEPTH + 4, "depth {} for {:?} x {}", depth(&blocks), unit, times);
        }

        #[test]
        fn every_link_of_any_input_is_safe(body in "(\\[|\\]|\\(|\\)|<|>|\\*|_|`|@|:|/|javascript|https|data|h|t|p|s|a|\\s|\\n|-|>|#|!|\\\\){0,40}") {
            for href in links(&parse(&body)) {
                let lower = href.to_ascii_lowercase();
                proptest::prop_assert!(
                    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:"),
                    "unsafe href {:?} from {:?}", href, body
                );
            }
        }
    }
}
