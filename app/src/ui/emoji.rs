//! The emoji picker: every emoji by category (a bar jumps between them), a search by name or shortcode, the recently used first, and a skin tone that sticks; the catalogue comes from the server when the picker first opens.

use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::emoji::{Catalogue, EmojiEntry, SKIN_TONES};
use std::sync::Arc;

/// The hands offered as skin tones (the default, then light to dark).
const TONE_SAMPLES: [&str; SKIN_TONES + 1] = ["✋", "✋🏻", "✋🏼", "✋🏽", "✋🏾", "✋🏿"];

/// The most results a search shows.
const MAX_FOUND: usize = 64;

#[component]
pub fn EmojiPicker(on_pick: Callback<String>, on_close: Callback<()>) -> impl IntoView {
    let catalogue = RwSignal::new(crate::client::emoji::loaded().map(Ok::<Arc<Catalogue>, String>));
    if catalogue.get_untracked().is_none() {
        spawn_local(async move {
            catalogue.set(Some(crate::client::emoji::catalogue().await));
        });
    }
    let search = RwSignal::new(String::new());
    let tone = RwSignal::new(crate::client::emoji::tone());
    let recent = crate::client::emoji::recent();
    let field = NodeRef::<leptos::html::Input>::new();
    let root = NodeRef::<leptos::html::Div>::new();
    // In the next frame: the picker's code loads on demand (ui/later.rs), and its view is
    // put in the page after it is made.
    Effect::new(move |_| {
        let (Some(field), Some(root)) = (field.get(), root.get()) else {
            return;
        };
        request_animation_frame(move || {
            let _ = field.focus();
            // Opened at the foot of the messages: the list scrolls so all of it shows.
            #[cfg(feature = "browser")]
            {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Nearest);
                root.scroll_into_view_with_scroll_into_view_options(&options);
            }
            #[cfg(not(feature = "browser"))]
            let _ = root;
        });
    });
    let pick = move |emoji: String| {
        crate::client::emoji::used(&emoji);
        on_pick.run(emoji);
    };
    let button = move |entry: &EmojiEntry| {
        let emoji = entry.in_tone(tone.get_untracked()).to_owned();
        let chosen = emoji.clone();
        let picked = emoji.clone();
        view! {
            <button
                type="button"
                class="emoji-option"
                data-testid="emoji-option"
                data-emoji=chosen.clone()
                title=entry.name.clone()
                aria-label=entry.name.clone()
                on:click=move |_| pick(picked.clone())
            >
                {emoji}
            </button>
        }
    };
    let body = move || {
        let _ = tone.get();
        let Some(loaded) = catalogue.get() else {
            return view! { <p class="hint">"Loading the emoji…"</p> }.into_any();
        };
        let catalogue = match loaded {
            Ok(catalogue) => catalogue,
            Err(e) => return view! { <p class="error" role="alert">{e}</p> }.into_any(),
        };
        let typed = search.get();
        if !typed.trim().is_empty() {
            let found: Vec<EmojiEntry> = catalogue.find(&typed, MAX_FOUND).into_iter().cloned().collect();
            if found.is_empty() {
                return view! { <p class="hint" data-testid="emoji-none">"No emoji found."</p> }.into_any();
            }
            return view! {
                <div class="emoji-grid" role="group" aria-label="Emoji found">
                    {found.iter().map(button).collect_view()}
                </div>
            }
            .into_any();
        }
        let recent_entries: Vec<EmojiEntry> = recent
            .iter()
            .filter_map(|e| {
                catalogue
                    .entries()
                    .find(|entry| entry.emoji == *e || entry.tones.contains(e))
            })
            .cloned()
            .collect();
        view! {
            {(!recent_entries.is_empty())
                .then(|| {
                    view! {
                        <h4 class="emoji-group-name">"Recently used"</h4>
                        <div class="emoji-grid" role="group" aria-label="Recently used" data-testid="emoji-recent">
                            {recent_entries.iter().map(button).collect_view()}
                        </div>
                    }
                })}
            {catalogue
                .groups
                .iter()
                .enumerate()
                .map(|(i, group)| {
                    view! {
                        <h4 class="emoji-group-name" id=format!("emoji-group-{i}")>{group.name.clone()}</h4>
                        <div class="emoji-grid" role="group" aria-label=group.name.clone()>
                            {group.emoji.iter().map(button).collect_view()}
                        </div>
                    }
                })
                .collect_view()}
        }
        .into_any()
    };
    let groups = move || {
        catalogue.get().and_then(Result::ok).map(|catalogue| {
            catalogue
                .groups
                .iter()
                .enumerate()
                .map(|(i, group)| {
                    let icon = group.emoji.first().map(|e| e.emoji.clone()).unwrap_or_default();
                    view! {
                        <button
                            type="button"
                            class="emoji-tab"
                            title=group.name.clone()
                            aria-label=group.name.clone()
                            on:click=move |_| {
                                search.set(String::new());
                                jump_to(i);
                            }
                        >
                            {icon}
                        </button>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <div
            class="emoji-picker"
            node_ref=root
            role="dialog"
            aria-label="Choose an emoji"
            data-testid="emoji-picker"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    ev.prevent_default();
                    ev.stop_propagation();
                    on_close.run(());
                }
            }
        >
            <div class="emoji-head">
                <input
                    type="search"
                    node_ref=field
                    data-testid="emoji-search"
                    placeholder="Search emoji"
                    aria-label="Search emoji"
                    prop:value=move || search.get()
                    on:input=move |ev| search.set(event_target_value(&ev))
                    on:keydown=move |ev| {
                        // Enter takes the first emoji found.
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            let first = catalogue.with_untracked(|c| {
                                c.as_ref()
                                    .and_then(|c| c.as_ref().ok())
                                    .and_then(|c| c.find(&search.get_untracked(), 1).first().map(|e| e.in_tone(tone.get_untracked()).to_owned()))
                            });
                            if let Some(emoji) = first {
                                pick(emoji);
                            }
                        }
                    }
                />
                <select
                    class="emoji-tone"
                    data-testid="emoji-tone"
                    aria-label="Skin tone"
                    on:change=move |ev| {
                        let chosen = event_target_value(&ev).parse().unwrap_or(0);
                        crate::client::emoji::set_tone(chosen);
                        tone.set(chosen);
                    }
                >
                    {TONE_SAMPLES
                        .iter()
                        .enumerate()
                        .map(|(i, sample)| {
                            view! {
                                <option value=i.to_string() selected=move || tone.get() == i>
                                    {*sample}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <nav class="emoji-tabs" aria-label="Emoji categories">
                {groups}
            </nav>
            <div class="emoji-body" on:keydown=move_focus>
                {body}
            </div>
        </div>
    }
}

/// The arrow keys move between the emoji: left and right to the previous and next, up and
/// down to the one above or below (the nearest in the row before or after).
fn move_focus(ev: leptos::ev::KeyboardEvent) {
    #[cfg(feature = "browser")]
    {
        use wasm_bindgen::JsCast;
        let key = ev.key();
        if !matches!(key.as_str(), "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown") {
            return;
        }
        // Events reach the handler delegated (from the document): the list is the one of the
        // focused emoji.
        let focused = document().active_element();
        let Some(body) = focused.as_ref().and_then(|f| f.closest(".emoji-body").ok().flatten()) else {
            return;
        };
        let Ok(list) = body.query_selector_all(".emoji-option") else {
            return;
        };
        let options: Vec<web_sys::HtmlElement> = (0..list.length())
            .filter_map(|i| list.get(i)?.dyn_into::<web_sys::HtmlElement>().ok())
            .collect();
        let Some(at) = options
            .iter()
            .position(|o| focused.as_ref().is_some_and(|f| f.is_same_node(Some(o))))
        else {
            return;
        };
        let here = &options[at];
        let (x, y) = (here.offset_left(), here.offset_top());
        let next = match key.as_str() {
            "ArrowLeft" => at.checked_sub(1),
            "ArrowRight" => Some(at + 1).filter(|i| *i < options.len()),
            "ArrowDown" => {
                let row = options[at..].iter().map(|o| o.offset_top()).find(|t| *t > y);
                row.and_then(|row| {
                    (at..options.len())
                        .filter(|i| options[*i].offset_top() == row)
                        .min_by_key(|i| (options[*i].offset_left() - x).abs())
                })
            }
            _ => {
                let row = options[..at].iter().rev().map(|o| o.offset_top()).find(|t| *t < y);
                row.and_then(|row| {
                    (0..at)
                        .filter(|i| options[*i].offset_top() == row)
                        .min_by_key(|i| (options[*i].offset_left() - x).abs())
                })
            }
        };
        if let Some(next) = next {
            ev.prevent_default();
            let _ = options[next].focus();
        }
    }
    #[cfg(not(feature = "browser"))]
    let _ = ev;
}

/// Scrolls the picker to category `i`.
fn jump_to(i: usize) {
    #[cfg(feature = "browser")]
    {
        use wasm_bindgen::JsCast;
        let heading = document()
            .get_element_by_id(&format!("emoji-group-{i}"))
            .and_then(|h| h.dyn_into::<web_sys::HtmlElement>().ok());
        // Only the picker's list scrolls (it is the heading's offset parent), not the page.
        if let Some(heading) = heading
            && let Some(body) = heading.parent_element()
        {
            body.set_scroll_top(heading.offset_top());
        }
    }
    #[cfg(not(feature = "browser"))]
    let _ = i;
}
