//! Followed threads: the Follow button of an open thread, its read marker while it is open, and the Threads view (the threads you follow, with their new replies) opened from the sidebar.

use crate::state::ChatState;
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::threads::ThreadView;
use parley::{MessageId, Position};

/// Follow or stop following the open thread (posting in it or being mentioned follows it too).
#[component]
pub fn FollowButton(state: ChatState, root: MessageId) -> impl IntoView {
    let following = move || state.threads.with(|t| t.follows(root));
    let toggle = move |_| {
        let on = !following();
        let channel = state.channel.get_untracked();
        state.threads.update(|t| {
            if on {
                t.follow(root, channel, Position::ZERO);
            } else {
                t.unfollow(root);
            }
        });
        spawn_local(async move {
            if let Err(e) = crate::api::follow_thread(channel, root, on).await {
                state.notice.set(Some(e.to_string()));
                crate::state::refresh_threads(state);
            }
        });
    };
    view! {
        <button
            class="secondary follow"
            data-testid="follow-thread"
            aria-pressed=move || following().to_string()
            title=move || if following() { "Stop following: no more notifications of its replies" } else { "Follow: its new replies count as unread and notify you" }
            on:click=toggle
        >
            {move || if following() { "Following" } else { "Follow" }}
        </button>
    }
}

/// While a thread is open and the page in view, its newest reply counts as read (here at
/// once, on the server and in the other tabs through its marker).
pub fn mark_read_while_open(state: ChatState, root: MessageId) {
    Effect::new(move |sent: Option<Position>| {
        let sent = sent.unwrap_or(Position::ZERO);
        let newest = state.timeline.with(|t| {
            t.thread(root)
                .filter_map(|e| e.position)
                .max()
                .unwrap_or(Position::ZERO)
        });
        let follows = state.threads.with(|t| t.follows(root));
        if !state.visible.get() || !follows || newest <= sent {
            return sent;
        }
        state.threads.update(|t| t.read(root, newest));
        let channel = state.channel.get_untracked();
        spawn_local(async move {
            if let Err(e) = crate::api::mark_thread_read(channel, root, newest).await {
                leptos::logging::warn!("thread marker: {e}");
            }
        });
        newest
    });
}

/// The sidebar's "Threads" button (with the new replies in followed threads), and the view
/// it opens.
#[component]
pub fn ThreadsButton(state: ChatState) -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        <button class="jump threads-open" data-testid="threads-open" on:click=move |_| open.set(true)>
            <span>"🧵 Threads"</span>
            <span class="count" data-testid="threads-unread">
                {move || {
                    let n = state.threads.with(parley::threads::Threads::total);
                    (n > 0).then(|| format!("{n} new"))
                }}
            </span>
        </button>
        {move || open.get().then(|| crate::ui::later::later(move || crate::ui::later::threads(state, open)))}
    }
}

#[component]
pub(crate) fn ThreadsDialog(state: ChatState, open: RwSignal<bool>) -> impl IntoView {
    crate::ui::dialog::close_on_escape(open);
    crate::ui::dialog::focus_in_and_back();
    let views = RwSignal::new(None::<Result<Vec<ThreadView>, String>>);
    spawn_local(async move {
        let found = crate::api::followed_threads().await.map_err(|e| e.to_string());
        if let Ok(list) = &found {
            state.threads.update(|t| t.replace(list));
        }
        views.set(Some(found));
    });
    let jump = move |view: &ThreadView| {
        open.set(false);
        let (channel, root) = (view.channel_id, view.root.message_id);
        if state.channel.get_untracked() == channel {
            crate::ui::chat::open_thread(state, root);
        } else {
            state.thread_after.set(Some((channel, root)));
            crate::state::go(&crate::state::channel_href(channel));
        }
    };
    view! {
        <div class="overlay">
            <div class="dialog threads-dialog" data-testid="threads-dialog" role="dialog" aria-labelledby="threads-title">
                <h2 id="threads-title">"Threads you follow"</h2>
                {move || match views.get() {
                    None => view! { <p class="hint">"Loading…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Some(Ok(list)) if list.is_empty() => {
                        view! {
                            <p class="hint" data-testid="threads-none">
                                "No threads yet. Reply in a thread, or Follow one, to find it here."
                            </p>
                        }
                            .into_any()
                    }
                    Some(Ok(list)) => {
                        view! {
                            <ol class="saved-list">
                                {list
                                    .into_iter()
                                    .map(|view| {
                                        let root = view.root.message_id;
                                        let unread = move || state.threads.with(|t| t.unread(root));
                                        let name = state.name_of(&view.root.author);
                                        let replies = view.root.replies;
                                        let target = view.clone();
                                        view! {
                                            <li>
                                                <button class="hit" data-testid="followed-thread" on:click=move |_| jump(&target)>
                                                    <span class="where">
                                                        "#" {view.channel_name.clone()} " · " {name} " · "
                                                        {if replies == 1 { "1 reply".to_owned() } else { format!("{replies} replies") }}
                                                    </span>
                                                    <span class="snippet">{parley::markdown::plain_text(&view.root.body)}</span>
                                                </button>
                                                {move || {
                                                    let n = unread();
                                                    (n > 0)
                                                        .then(|| {
                                                            view! {
                                                                <span class="badge mention" data-testid="thread-unread">
                                                                    {n}
                                                                </span>
                                                            }
                                                        })
                                                }}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ol>
                        }
                            .into_any()
                    }
                }}
                <div class="dialog-actions">
                    <button class="secondary" on:click=move |_| open.set(false)>
                        "Close"
                    </button>
                </div>
            </div>
        </div>
    }
}
