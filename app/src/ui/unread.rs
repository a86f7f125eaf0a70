//! Unread badges and draft marks, the mute switch, and browser notifications for mentions and direct messages.

use crate::client::notify::{Permission, permission, request_permission};
use crate::state::ChatState;
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::ChannelId;

/// The count of unread messages in a channel: accent when someone mentioned you, grey when muted.
#[component]
pub fn Badge(state: ChatState, channel: ChannelId) -> impl IntoView {
    let counts = move || state.unreads.with(|u| u.of(channel));
    let muted = move || state.unreads.with(|u| u.muted(channel));
    move || {
        let (unread, mentions) = counts();
        (unread > 0).then(|| {
            view! {
                <span
                    class="badge"
                    class:mention={mentions > 0}
                    class:muted=muted()
                    data-testid="unread-badge"
                    data-mentions=mentions
                    title=format!("{unread} unread, {mentions} mentioning you")
                >
                    {unread}
                </span>
            }
        })
    }
}

/// A pencil beside a channel (not the one open) whose composer holds unsent text.
#[component]
pub fn DraftMark(state: ChatState, channel: ChannelId) -> impl IntoView {
    let key = parley::draft::key(channel, None);
    move || {
        (state.channel.get() != channel && state.drafts.with(|d| d.has(&key))).then(|| {
            view! {
                <span class="draft-mark" data-testid="draft-mark" title="Unsent draft" aria-label="unsent draft">
                    "✎"
                </span>
            }
        })
    }
}

/// The total of a space's channels (muted ones left out, mentions always in).
#[component]
pub fn SpaceBadge(state: ChatState, channels: Vec<ChannelId>) -> impl IntoView {
    let counts = move || {
        state.unreads.with(|u| {
            channels.iter().fold((0, 0), |(unread, mentions), c| {
                let (n, m) = u.of(*c);
                (unread + if u.muted(*c) { 0 } else { n }, mentions + m)
            })
        })
    };
    move || {
        let (unread, mentions) = counts();
        (unread + mentions > 0).then(|| {
            view! {
                <span class="badge" class:mention={mentions > 0} data-testid="space-badge">
                    {unread.max(mentions)}
                </span>
            }
        })
    }
}

/// Mutes or unmutes the channel on screen for this user (every tab and device follows).
#[component]
pub fn MuteButton(state: ChatState) -> impl IntoView {
    let muted = move || state.unreads.with(|u| u.muted(state.channel.get()));
    let toggle = move |_| {
        let channel = state.channel.get_untracked();
        let now = !muted();
        state.unreads.update(|u| u.set_muted(channel, now));
        spawn_local(async move {
            use crate::client::settings::{Toggle, set as ask};
            if let Err(e) = ask(Toggle::Mute { channel }, now).await {
                state.unreads.update(|u| u.set_muted(channel, !now));
                state.notice.set(Some(format!("Could not change notifications: {e}")));
            }
        });
    };
    view! {
        <button
            class="reset mute"
            data-testid="mute"
            aria-pressed=move || muted().to_string()
            title=move || if muted() { "Muted: no notifications from this channel" } else { "Mute this channel" }
            on:click=toggle
        >
            {move || if muted() { "Unmute" } else { "Mute" }}
        </button>
    }
}

/// Offers to turn on notifications, once, and only when the browser has not been asked yet.
#[component]
pub fn NotifyOffer() -> impl IntoView {
    let ask = RwSignal::new(false);
    Effect::new(move |_| ask.set(permission() == Permission::Undecided));
    let turn_on = move |_| {
        ask.set(false);
        request_permission();
    };
    view! {
        <Show when=move || ask.get()>
            <div class="notify-offer">
                <span>"Get a notification when someone mentions you or writes to you directly."</span>
                <button data-testid="enable-notifications" on:click=turn_on>
                    "Turn on"
                </button>
                <button class="reset" on:click=move |_| ask.set(false)>
                    "Not now"
                </button>
            </div>
        </Show>
    }
}
