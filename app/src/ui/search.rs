//! Searching messages: a box in the header (words, and filters such as `from:@ada has:link`), results with the matched words marked, and a jump to the message in its channel.

use crate::api::SearchHit;
use crate::state::ChatState;
use leptos::prelude::*;

#[component]
pub fn SearchBox(state: ChatState) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let hits = RwSignal::new(None::<Result<Vec<SearchHit>, String>>);
    let run = move || {
        let typed = query.get_untracked();
        if typed.trim().is_empty() {
            hits.set(None);
            return;
        }
        leptos::task::spawn_local(async move {
            let found = crate::api::search(typed, crate::state::utc_offset_minutes())
                .await
                .map_err(|e| e.to_string());
            hits.set(Some(found));
        });
    };
    let jump = move |hit: SearchHit| {
        hits.set(None);
        state.reveal.set(Some((hit.channel_id, hit.message_id)));
        if state.channel.get_untracked() != hit.channel_id {
            crate::state::go(&format!("/?c={}", hit.channel_id));
        }
    };
    view! {
        <div class="search">
            <input
                type="search"
                data-testid="search"
                placeholder="Search messages"
                aria-label="Search messages"
                title=format!("Words, and filters: {}", parley::search::FILTER_HELP)
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
                on:keydown=move |ev| match ev.key().as_str() {
                    "Enter" => run(),
                    "Escape" => {
                        query.set(String::new());
                        hits.set(None);
                    }
                    _ => {}
                }
            />
            {move || {
                hits.get()
                    .map(|found| {
                        let body = match found {
                            Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                            Ok(list) if list.is_empty() => {
                                view! { <p class="none">"No messages found."</p> }.into_any()
                            }
                            Ok(list) => {
                                let n = list.len();
                                let count = if n >= parley::api::MAX_SEARCH_HITS as usize {
                                    format!("The first {n} messages found")
                                } else if n == 1 {
                                    "1 message found".to_owned()
                                } else {
                                    format!("{n} messages found")
                                };
                                let hits = list
                                    .into_iter()
                                    .map(|hit| {
                                        let target = hit.clone();
                                        view! {
                                            <li>
                                                <button
                                                    class="hit"
                                                    data-testid="search-hit"
                                                    on:click=move |_| jump(target.clone())
                                                >
                                                    <span class="where">
                                                        "#" {hit.channel_name.clone()} " · " {hit.author.clone()}
                                                        " · " {crate::state::format_time(hit.sent_at_ms)}
                                                    </span>
                                                    <span class="snippet">
                                                        {hit
                                                            .snippet
                                                            .iter()
                                                            .map(|(text, matched)| {
                                                                if *matched {
                                                                    view! { <mark>{text.clone()}</mark> }.into_any()
                                                                } else {
                                                                    text.clone().into_any()
                                                                }
                                                            })
                                                            .collect_view()}
                                                    </span>
                                                </button>
                                            </li>
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <li class="count" data-testid="search-count">{count}</li>
                                    {hits}
                                }
                                    .into_any()
                            }
                        };
                        view! {
                            <div class="search-results" data-testid="search-results">
                                <ol>{body}</ol>
                                <p class="search-help hint" data-testid="search-help">
                                    "Filters: " <code>{parley::search::FILTER_HELP}</code>
                                </p>
                                <button class="close" on:click=move |_| hits.set(None)>
                                    "Close"
                                </button>
                            </div>
                        }
                    })
            }}
        </div>
    }
}
