//! A space's channels beyond the sidebar: creating one (public or private), the channel browser (join and leave), a private channel's members (added and removed by moderators), deleting a channel.

use crate::api::{
    AppError, MemberView, SpaceAction, SpaceOutcome, act_on_space, browse_channels, channel_members, members,
};
use crate::state::{ChatState, channel_href, go, refresh};
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::api::ChannelListing;
use parley::{ChannelId, SpaceId};

/// "Create a channel": its name, and whether it is private.
#[component]
pub fn NewChannelForm(space: SpaceId, state: ChatState, close: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let private = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (name, private) = (name.get_untracked(), private.get_untracked());
        busy.set(true);
        spawn_local(async move {
            let created = act_on_space(space, SpaceAction::CreateChannel { name, private }).await;
            busy.set(false);
            match created {
                Ok(SpaceOutcome::Channel { channel_id }) => {
                    refresh(state);
                    go(&channel_href(channel_id));
                    close.run(());
                }
                Ok(_) => close.run(()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <form class="dialog" data-testid="new-channel-form" on:submit=submit>
            <h2>"Create a channel"</h2>
            <label for="channel-name-field">"Its name: lowercase letters, digits, '-' or '_'"</label>
            <input
                id="channel-name-field"
                data-testid="name-field"
                autofocus
                maxlength="32"
                prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev))
            />
            <label class="check">
                <input
                    type="checkbox"
                    data-testid="channel-private"
                    prop:checked=move || private.get()
                    on:change=move |ev| private.set(event_target_checked(&ev))
                />
                " Private: only the people you add can find and read it"
            </label>
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="name-error">{e}</p> })}
            <div class="dialog-actions">
                <button type="submit" data-testid="name-submit" disabled=move || busy.get()>
                    "Create channel"
                </button>
                <button type="button" class="secondary" on:click=move |_| close.run(())>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

/// The channel browser: every public channel of the space (and the private ones you are
/// in), each with how many are in it, to join, leave or open.
#[component]
pub fn ChannelBrowser(space: SpaceId, state: ChatState, close: Callback<()>) -> impl IntoView {
    let listing = RwSignal::new(None::<Result<Vec<ChannelListing>, String>>);
    let load = move || {
        spawn_local(async move {
            listing.set(Some(browse_channels(space).await.map_err(|e| e.to_string())));
        });
    };
    load();
    let error = RwSignal::new(None::<String>);
    let act = move |action: SpaceAction| {
        spawn_local(async move {
            match act_on_space(space, action).await {
                Ok(_) => {
                    error.set(None);
                    refresh(state);
                    load();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <div class="dialog browser-dialog" data-testid="channel-browser" role="dialog" aria-labelledby="browser-title">
            <h2 id="browser-title">"Channels"</h2>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || match listing.get() {
                None => view! { <p class="hint">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Some(Ok(list)) => {
                    view! {
                        <ul class="browser-list">
                            {list
                                .into_iter()
                                .map(|item| {
                                    let channel = item.channel.channel_id;
                                    let joined = item.joined;
                                    let people = if item.members == 1 {
                                        "1 person".to_owned()
                                    } else {
                                        format!("{} people", item.members)
                                    };
                                    view! {
                                        <li data-testid="browse-channel" data-joined=joined.to_string()>
                                            <span class="browse-name">
                                                {if item.channel.private { "🔒 " } else { "# " }}
                                                {item.channel.name.clone()}
                                            </span>
                                            <span class="hint">{people}</span>
                                            {(!item.channel.topic.is_empty())
                                                .then(|| view! { <span class="browse-topic">{item.channel.topic.clone()}</span> })}
                                            <span class="browse-actions">
                                                {if joined {
                                                    view! {
                                                        <button
                                                            class="secondary"
                                                            data-testid="browse-leave"
                                                            on:click=move |_| act(SpaceAction::LeaveChannel { channel })
                                                        >
                                                            "Leave"
                                                        </button>
                                                    }
                                                        .into_any()
                                                } else {
                                                    view! {
                                                        <button
                                                            data-testid="browse-join"
                                                            on:click=move |_| act(SpaceAction::JoinChannel { channel })
                                                        >
                                                            "Join"
                                                        </button>
                                                    }
                                                        .into_any()
                                                }}
                                                <button
                                                    class="secondary"
                                                    data-testid="browse-open"
                                                    on:click=move |_| {
                                                        close.run(());
                                                        go(&channel_href(channel));
                                                    }
                                                >
                                                    "Open"
                                                </button>
                                            </span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }
            }}
            <div class="dialog-actions">
                <button class="secondary" on:click=move |_| close.run(())>
                    "Close"
                </button>
            </div>
        </div>
    }
}

/// The people in a channel; for a private one, moderators add members of the space and
/// take people out.
#[component]
pub fn ChannelMembers(
    space: SpaceId,
    channel: ChannelId,
    private: bool,
    moderates: bool,
    state: ChatState,
    close: Callback<()>,
) -> impl IntoView {
    let inside = RwSignal::new(Vec::<MemberView>::new());
    let everyone = RwSignal::new(Vec::<MemberView>::new());
    let error = RwSignal::new(None::<String>);
    let chosen = RwSignal::new(String::new());
    let load = move || {
        spawn_local(async move {
            match channel_members(space, channel).await {
                Ok(list) => inside.set(list),
                Err(e) => error.set(Some(e.to_string())),
            }
            if private && moderates {
                match members(space).await {
                    Ok(list) => everyone.set(list),
                    Err(e) => error.set(Some(e.to_string())),
                }
            }
        });
    };
    load();
    let act = move |action: SpaceAction| {
        spawn_local(async move {
            let done: Result<_, AppError> = act_on_space(space, action).await;
            match done {
                Ok(_) => {
                    error.set(None);
                    chosen.set(String::new());
                    load();
                    refresh(state);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let me = state.me.with_untracked(|me| me.as_ref().map(|me| me.user_id));
    // Those of the space not in the channel yet: whom a moderator may add.
    let addable = move || {
        let inside = inside.get();
        everyone
            .get()
            .into_iter()
            .filter(|m| !inside.iter().any(|i| i.user_id == m.user_id))
            .collect::<Vec<_>>()
    };
    view! {
        <div class="dialog" data-testid="channel-members" role="dialog" aria-labelledby="channel-members-title">
            <h2 id="channel-members-title">"People in this channel"</h2>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <ul class="members">
                {move || {
                    inside
                        .get()
                        .into_iter()
                        .map(|m| {
                            let user = m.user_id;
                            let removable = private && moderates && Some(user) != me;
                            view! {
                                <li data-testid="channel-member">
                                    <span>{state.name_of(&m.username)} " " <span class="hint">"@" {m.username.clone()}</span></span>
                                    {removable
                                        .then(|| {
                                            view! {
                                                <button
                                                    class="secondary"
                                                    data-testid="channel-member-remove"
                                                    on:click=move |_| act(SpaceAction::RemoveFromChannel { channel, member: user })
                                                >
                                                    "Remove"
                                                </button>
                                            }
                                        })}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            {(private && moderates)
                .then(|| {
                    view! {
                        <form
                            class="add-member"
                            on:submit=move |ev| {
                                ev.prevent_default();
                                if let Ok(member) = chosen.get_untracked().parse() {
                                    act(SpaceAction::AddToChannel { channel, member });
                                }
                            }
                        >
                            <label for="add-member-field">"Add someone from the space"</label>
                            <select
                                id="add-member-field"
                                data-testid="channel-member-add"
                                on:change=move |ev| chosen.set(event_target_value(&ev))
                                prop:value=move || chosen.get()
                            >
                                <option value="">"Choose…"</option>
                                {move || {
                                    addable()
                                        .into_iter()
                                        .map(|m| view! { <option value=m.user_id.to_string()>{m.username.clone()}</option> })
                                        .collect_view()
                                }}
                            </select>
                            <button type="submit" data-testid="channel-member-submit" disabled=move || chosen.get().is_empty()>
                                "Add"
                            </button>
                        </form>
                    }
                })}
            <div class="dialog-actions">
                <button class="secondary" on:click=move |_| close.run(())>
                    "Close"
                </button>
            </div>
        </div>
    }
}
