//! A message body on screen: the core's Markdown tree turned into elements. Every piece
//! of text is a text node (escaped by construction) and every link target was checked by
//! the core, so nothing a message holds can run in the page.

use leptos::prelude::*;
use parley::markdown::{self, Block, Inline};

/// The body of one message; mentions of `me` are marked.
#[component]
pub fn MessageBody(body: String, #[prop(into)] me: Signal<Option<String>>) -> impl IntoView {
    let blocks = markdown::parse(&body);
    view! { <div class="body">{blocks.into_iter().map(|b| block_view(b, me)).collect_view()}</div> }
}

fn block_view(block: Block, me: Signal<Option<String>>) -> AnyView {
    match block {
        Block::Paragraph(inlines) => view! { <p>{inlines_view(inlines, me)}</p> }.into_any(),
        Block::Code { language, text } => view! {
            <pre data-language=language>
                <code>{text}</code>
            </pre>
        }
        .into_any(),
        Block::Quote(blocks) => {
            view! { <blockquote>{blocks.into_iter().map(|b| block_view(b, me)).collect_view()}</blockquote> }.into_any()
        }
        Block::List {
            start: Some(start),
            items,
        } => view! {
            <ol start=start.to_string()>{items_view(items, me)}</ol>
        }
        .into_any(),
        Block::List { start: None, items } => view! { <ul>{items_view(items, me)}</ul> }.into_any(),
        Block::Rule => view! { <hr /> }.into_any(),
    }
}

fn items_view(items: Vec<Vec<Block>>, me: Signal<Option<String>>) -> impl IntoView {
    items
        .into_iter()
        .map(|item| view! { <li>{item.into_iter().map(|b| block_view(b, me)).collect_view()}</li> })
        .collect_view()
}

fn inlines_view(inlines: Vec<Inline>, me: Signal<Option<String>>) -> impl IntoView {
    inlines.into_iter().map(|i| inline(i, me)).collect_view()
}

fn inline(inline: Inline, me: Signal<Option<String>>) -> AnyView {
    match inline {
        Inline::Text(text) => text.into_any(),
        Inline::Strong(c) => view! { <strong>{inlines_view(c, me)}</strong> }.into_any(),
        Inline::Emphasis(c) => view! { <em>{inlines_view(c, me)}</em> }.into_any(),
        Inline::Strike(c) => view! { <del>{inlines_view(c, me)}</del> }.into_any(),
        Inline::Code(code) => view! { <code>{code}</code> }.into_any(),
        Inline::Link { href, children } => view! {
            <a href=href target="_blank" rel="noopener noreferrer nofollow">
                {inlines_view(children, me)}
            </a>
        }
        .into_any(),
        Inline::Mention(name) => {
            let mine = {
                let name = name.clone();
                move || me.with(|me| me.as_deref().is_some_and(|me| me.eq_ignore_ascii_case(&name)))
            };
            // Shown by display name (the username on hover), once the profile is known.
            let state = use_context::<crate::state::ChatState>();
            let username = name.to_ascii_lowercase();
            if let Some(state) = state {
                crate::client::people::want(state, [username.clone()]);
            }
            let title = format!("@{username}");
            let mention = name.clone();
            let shown = move || {
                format!(
                    "@{}",
                    state.map_or_else(|| name.clone(), |state| state.name_of(&username))
                )
            };
            view! {
                <span class="mention" class:me=mine data-mention=mention title=title>
                    {shown}
                </span>
            }
            .into_any()
        }
        Inline::ChannelRef(name) => {
            let state = use_context::<crate::state::ChatState>();
            let text = format!("#{name}");
            move || match state.and_then(|state| state.channel_named(&name)) {
                Some(channel) => view! {
                    <a class="channel-ref" data-testid="channel-ref" href=crate::state::channel_href(channel)>
                        {text.clone()}
                    </a>
                }
                .into_any(),
                None => text.clone().into_any(),
            }
        }
        .into_any(),
        Inline::LineBreak => view! { <br /> }.into_any(),
    }
}
