//! Saved messages: the "Save" toggle on a message, and the list of what you saved (opened from the sidebar), each opened in its channel.

use crate::state::ChatState;
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::api::SavedItem;
use parley::{ChannelId, MessageId};

/// Saves the message for this user, or lets go of it: the mark changes at once, and back
/// with the server's reason if it refuses.
pub fn toggle(state: ChatState, channel: ChannelId, id: MessageId) {
    let on = !state.saved.with_untracked(|s| s.contains(&id));
    let set = move |on: bool| {
        state.saved.update(|s| {
            if on {
                s.insert(id);
            } else {
                s.remove(&id);
            }
        })
    };
    set(on);
    state.notice.set(None);
    spawn_local(async move {
        use crate::client::settings::{Toggle, set as ask};
        if let Err(e) = ask(Toggle::Save { channel, message: id }, on).await {
            set(!on);
            state.notice.set(Some(e.to_string()));
        }
    });
}

/// The sidebar's "Saved" button, and the list it opens.
#[component]
pub fn SavedButton(state: ChatState) -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        <button class="jump saved-open" data-testid="saved-open" on:click=move |_| open.set(true)>
            <span>"🔖 Saved messages"</span>
            <span class="count" aria-label="saved">
                {move || {
                    let n = state.saved.with(|s| s.len());
                    (n > 0).then(|| n.to_string())
                }}
            </span>
        </button>
        {move || open.get().then(|| crate::ui::later::later(move || crate::ui::later::saved(state, open)))}
    }
}

#[component]
pub(crate) fn SavedDialog(state: ChatState, open: RwSignal<bool>) -> impl IntoView {
    crate::ui::dialog::close_on_escape(open);
    crate::ui::dialog::focus_in_and_back();
    let items = RwSignal::new(None::<Result<Vec<SavedItem>, String>>);
    // Asked again when something is saved or let go of meanwhile (another tab, say).
    Effect::new(move |_| {
        let _ = state.saved.with(|s| s.len());
        spawn_local(async move {
            items.set(Some(crate::api::saved_items().await.map_err(|e| e.to_string())));
        });
    });
    let jump = move |channel: ChannelId, id: MessageId| {
        open.set(false);
        state.reveal.set(Some((channel, id)));
        if state.channel.get_untracked() != channel {
            crate::state::go(&crate::state::channel_href(channel));
        }
    };
    view! {
        <div class="overlay">
            <div class="dialog saved-dialog" data-testid="saved-dialog" role="dialog" aria-labelledby="saved-title">
                <h2 id="saved-title">"Saved messages"</h2>
                {move || match items.get() {
                    None => view! { <p class="hint">"Loading…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Some(Ok(list)) if list.is_empty() => {
                        view! {
                            <p class="hint" data-testid="saved-none">
                                "Nothing saved yet. Save a message from its actions to find it here later."
                            </p>
                        }
                            .into_any()
                    }
                    Some(Ok(list)) => {
                        view! {
                            <ol class="saved-list">
                                {list
                                    .into_iter()
                                    .map(|item| {
                                        let m = item.message;
                                        let (channel, id) = (m.channel_id, m.message_id);
                                        let name = state.name_of(&m.author);
                                        view! {
                                            <li>
                                                <button class="hit" data-testid="saved-item" on:click=move |_| jump(channel, id)>
                                                    <span class="where">
                                                        "#" {item.channel_name} " · " {name} " · "
                                                        {crate::state::format_time(m.sent_at_ms)}
                                                    </span>
                                                    <span class="snippet">{parley::markdown::plain_text(&m.body)}</span>
                                                </button>
                                                <button
                                                    class="secondary unsave"
                                                    data-testid="unsave"
                                                    aria-label="Remove from saved"
                                                    title="Remove from saved"
                                                    on:click=move |_| toggle(state, channel, id)
                                                >
                                                    "✕"
                                                </button>
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
