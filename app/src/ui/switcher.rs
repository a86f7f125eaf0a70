//! The quick switcher: Ctrl+K (⌘K) anywhere opens a box that finds a channel or a direct
//! conversation by a few letters of its name; ↑ ↓ choose, Enter opens, Esc closes.

use crate::state::ChatState;
use crate::state::{channel_href, go};
use leptos::prelude::*;
use parley::ChannelId;

/// A place the switcher can open.
#[derive(Clone, Debug, PartialEq)]
struct Target {
    channel: ChannelId,
    /// What is matched and shown: `general`, a channel's name, `@ada, @bob`.
    name: String,
    /// Where it is: `lobby`, a space's name, `direct message`.
    place: String,
}

fn targets(state: ChatState) -> Vec<Target> {
    let mut all = vec![Target {
        channel: ChannelId::GENERAL,
        name: "general".into(),
        place: "lobby".into(),
    }];
    state.spaces.with(|spaces| {
        for space in spaces {
            all.extend(space.channels.iter().map(|c| Target {
                channel: c.channel_id,
                name: c.name.clone(),
                place: space.name.clone(),
            }));
        }
    });
    state.directs.with(|directs| {
        all.extend(directs.iter().map(|d| Target {
            channel: d.channel_id,
            name: format!("@{}", d.with.join(", @")),
            place: "direct message".into(),
        }));
    });
    all
}

/// The targets that answer `typed`, best first (at most 12).
fn ranked(state: ChatState, typed: &str) -> Vec<Target> {
    let mut found: Vec<(i64, Target)> = targets(state)
        .into_iter()
        .filter_map(|t| parley::search::switcher_rank(typed, &t.name).map(|rank| (rank, t)))
        .collect();
    found.sort_by_key(|(rank, _)| std::cmp::Reverse(*rank));
    found.into_iter().take(12).map(|(_, t)| t).collect()
}

#[component]
pub fn QuickSwitcher(state: ChatState) -> impl IntoView {
    let open = state.switcher;
    let shortcut = window_event_listener(leptos::ev::keydown, move |ev| {
        if (ev.ctrl_key() || ev.meta_key()) && !ev.alt_key() && ev.key().eq_ignore_ascii_case("k") {
            ev.prevent_default();
            open.update(|o| *o = !*o);
        }
    });
    on_cleanup(move || shortcut.remove());
    view! {
        <Show when=move || open.get() && state.me.with(Option::is_some)>
            <SwitcherBox state open />
        </Show>
    }
}

#[component]
fn SwitcherBox(state: ChatState, open: RwSignal<bool>) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let chosen = RwSignal::new(0usize);
    let found = Memo::new(move |_| ranked(state, &typed.get()));
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            let _ = el.focus();
        }
    });
    crate::ui::dialog::close_on_escape(open);
    crate::ui::dialog::focus_in_and_back();
    let go_to = move |target: &Target| {
        open.set(false);
        go(&channel_href(target.channel));
    };
    view! {
        <div class="overlay" on:click=move |_| open.set(false)>
            <div
                class="dialog switcher"
                role="dialog"
                aria-label="Go to a channel"
                data-testid="switcher"
                on:click=|ev| ev.stop_propagation()
            >
                <input
                    node_ref=input
                    data-testid="switcher-input"
                    placeholder="Go to a channel or conversation…"
                    aria-label="Channel name"
                    aria-controls="switcher-results"
                    autocomplete="off"
                    prop:value=move || typed.get()
                    on:input=move |ev| {
                        typed.set(event_target_value(&ev));
                        chosen.set(0);
                    }
                    on:keydown=move |ev| {
                        let count = found.with_untracked(Vec::len);
                        match ev.key().as_str() {
                            "ArrowDown" if count > 0 => {
                                ev.prevent_default();
                                chosen.update(|c| *c = (*c + 1) % count);
                            }
                            "ArrowUp" if count > 0 => {
                                ev.prevent_default();
                                chosen.update(|c| *c = (*c + count - 1) % count);
                            }
                            "Enter" => {
                                ev.prevent_default();
                                let target = found.with_untracked(|f| f.get(chosen.get_untracked()).cloned());
                                if let Some(target) = target {
                                    go_to(&target);
                                }
                            }
                            _ => {}
                        }
                    }
                />
                <ul class="switcher-results" id="switcher-results" role="listbox">
                    {move || {
                        let here = state.channel.get();
                        found
                            .get()
                            .into_iter()
                            .enumerate()
                            .map(|(i, target)| {
                                let selected = move || chosen.get() == i;
                                let pick = target.clone();
                                view! {
                                    <li
                                        role="option"
                                        data-testid="switcher-result"
                                        class:selected=selected
                                        class:current=target.channel == here
                                        aria-selected=move || selected().to_string()
                                        on:mouseenter=move |_| chosen.set(i)
                                        on:click=move |_| go_to(&pick)
                                    >
                                        <span class="switcher-name">
                                            {if target.name.starts_with('@') { "" } else { "# " }}
                                            {target.name.clone()}
                                        </span>
                                        <span class="switcher-place">{target.place.clone()}</span>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                    <Show when=move || found.with(Vec::is_empty)>
                        <li class="switcher-none">"No channel by that name."</li>
                    </Show>
                </ul>
                <div class="hint">"↑ ↓ to choose · Enter to open · Esc to close"</div>
            </div>
        </div>
    }
}
