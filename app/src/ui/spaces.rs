//! The sidebar: the lobby and your spaces with their channels; new spaces and channels, invite links, members.

use crate::api::{
    AppError, DirectView, InviteView, MemberView, SpaceAction, SpaceOutcome, SpaceView, act_on_space, create_space,
    invites, members, my_spaces, open_direct,
};
use crate::state::ChatState;
use crate::state::{channel_href, go, refresh};
use crate::ui::dialog::{NameForm, select_all};
use crate::ui::unread::{Badge, DraftMark, NotifyOffer, SpaceBadge};
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::space::{Right, valid_space_name};
use parley::{ChannelId, Role, SpaceId};

/// Refreshes the sidebar, then opens the first channel of `space` (or the lobby).
async fn open_space(state: ChatState, space: SpaceId) -> Result<(), AppError> {
    let spaces = my_spaces().await?;
    let first = spaces
        .iter()
        .find(|s| s.space_id == space)
        .and_then(|s| s.channels.first())
        .map(|c| c.channel_id);
    state.spaces.set(spaces);
    go(&first.map_or_else(|| "/".to_owned(), channel_href));
    Ok(())
}

fn check_space_name(name: &str) -> Result<(), String> {
    if valid_space_name(name) {
        Ok(())
    } else {
        Err("a space name must be 1 to 64 characters".into())
    }
}

/// The channel on screen: its name, and its space's name (none for the lobby).
pub fn channel_title(state: ChatState) -> (String, Option<String>) {
    let channel = state.channel.get();
    if channel == ChannelId::GENERAL {
        return ("general".to_owned(), None);
    }
    if let Some(direct) = state
        .directs
        .with(|d| d.iter().find(|d| d.channel_id == channel).cloned())
    {
        return (
            format!("@{}", direct.with.join(", @")),
            Some("direct message".to_owned()),
        );
    }
    state.spaces.with(|spaces| {
        spaces
            .iter()
            .find_map(|space| {
                let found = space.channels.iter().find(|c| c.channel_id == channel)?;
                Some((found.name.clone(), Some(space.name.clone())))
            })
            .unwrap_or_else(|| ("…".to_owned(), None))
    })
}

/// Follows an invite link: joins the space (a member already is one), then opens its first channel.
pub fn join_by_invite(state: ChatState, space: SpaceId, code: String) {
    spawn_local(async move {
        let joined = act_on_space(space, SpaceAction::Join { code }).await;
        if let Err(e) = &joined
            && !e.to_string().contains("already a member")
        {
            state.problem.set(Some(format!(
                "This invite link did not let you in: {e}. Ask for a new one."
            )));
            return;
        }
        if let Err(e) = open_space(state, space).await {
            leptos::logging::warn!("spaces: {e}");
        }
    });
}

/// Shows a space's invite dialog: its live invites, and `link` when one was just made.
fn show_invites(dialog: RwSignal<Option<Dialog>>, space: SpaceId, link: Option<String>) {
    spawn_local(async move {
        match invites(space).await {
            Ok(invites) => dialog.set(Some(Dialog::Invites { space, link, invites })),
            Err(e) => alert(&e.to_string()),
        }
    });
}

fn invite_link(space: SpaceId, code: &str) -> String {
    format!("{}/?space={space}&invite={code}", crate::state::web_origin())
}

/// Runs an action from the members list, then shows the list again as it now stands.
fn members_action(state: ChatState, dialog: RwSignal<Option<Dialog>>, space: SpaceId, action: SpaceAction) {
    spawn_local(async move {
        if let Err(e) = act_on_space(space, action).await {
            alert(&e.to_string());
        }
        refresh(state);
        let view = my_spaces()
            .await
            .ok()
            .and_then(|spaces| spaces.into_iter().find(|s| s.space_id == space));
        match (view, members(space).await) {
            (Some(space), Ok(members)) => dialog.set(Some(Dialog::Members { space, members })),
            _ => dialog.set(None),
        }
    });
}

pub use parley::space::parse_invite_link as parse_invite;

fn alert(text: &str) {
    #[cfg(feature = "browser")]
    if let Some(window) = web_sys::window() {
        let _ = window.alert_with_message(text);
    }
    #[cfg(not(feature = "browser"))]
    let _ = text;
}

/// What a dialog of the sidebar is asking for.
#[derive(Clone, Debug, PartialEq)]
pub enum Dialog {
    NewSpace,
    NewDirect,
    JoinSpace,
    RenameSpace(SpaceId),
    /// Who may pin and who may set topics.
    Settings(SpaceId, parley::space::SpaceSettings),
    RenameChannel(SpaceId, ChannelId),
    /// The space's channels, to join and leave.
    Browse(SpaceId),
    /// The people in a channel (added and removed by moderators, for a private one).
    ChannelMembers {
        space: SpaceId,
        channel: ChannelId,
        private: bool,
        moderates: bool,
    },
    NewChannel(SpaceId),
    Invites {
        space: SpaceId,
        link: Option<String>,
        invites: Vec<InviteView>,
    },
    Members {
        space: SpaceView,
        members: Vec<MemberView>,
    },
}

#[component]
pub fn Sidebar(state: ChatState) -> impl IntoView {
    let dialog = RwSignal::new(None::<Dialog>);
    let signed_in = move || state.me.with(Option::is_some);

    view! {
        <nav class="sidebar" aria-label="Spaces and channels">
            <div class="brand">"Parley"</div>
            <Show when=signed_in>
                <button
                    class="jump"
                    data-testid="jump"
                    title="Go to a channel or conversation (Ctrl+K)"
                    on:click=move |_| state.switcher.set(true)
                >
                    <span>"Jump to…"</span>
                    <kbd>"Ctrl K"</kbd>
                </button>
                <crate::ui::threads::ThreadsButton state />
                <crate::ui::saved::SavedButton state />
            </Show>
            <section class="space">
                <h2>"Lobby"</h2>
                <a href="/" class=link_class(state, ChannelId::GENERAL) data-testid="channel-link">
                    <span class="link-name">"# general"</span>
                    <DraftMark state channel=ChannelId::GENERAL />
                    <Badge state channel=ChannelId::GENERAL />
                </a>
            </section>
            <For
                each=move || state.spaces.get()
                key=|space: &SpaceView| (space.space_id, space.name.clone(), space.role, space.channels.len())
                let:space
            >
                <SpaceSection space=space.clone() state dialog />
            </For>
            <Show when=signed_in>
                <div class="space-actions">
                    <button class="new-space" data-testid="new-space" on:click=move |_| dialog.set(Some(Dialog::NewSpace))>
                        "+ New space"
                    </button>
                    <button class="new-space" data-testid="join-space" on:click=move |_| dialog.set(Some(Dialog::JoinSpace))>
                        "Join a space"
                    </button>
                </div>
            </Show>
            <section class="space" data-testid="directs">
                <h2>"Direct messages"</h2>
                <For
                    each=move || state.directs.get()
                    key=|direct: &DirectView| direct.channel_id
                    let:direct
                >
                    <a
                        href=channel_href(direct.channel_id)
                        class=link_class(state, direct.channel_id)
                        data-testid="direct-link"
                    >
                        <span class="link-name">"@ " {direct.with.join(", ")}</span>
                        <DraftMark state channel=direct.channel_id />
                        <Badge state channel=direct.channel_id />
                    </a>
                </For>
                <Show when=signed_in>
                    <div class="space-actions">
                        <button data-testid="new-direct" on:click=move |_| dialog.set(Some(Dialog::NewDirect))>
                            "+ Message someone"
                        </button>
                    </div>
                </Show>
            </section>
            <Show when=move || state.me.with(Option::is_some)>
                <NotifyOffer />
            </Show>
        </nav>
        {move || dialog.get().map(|d| crate::ui::later::later(move || crate::ui::later::sidebar_dialog(d.clone(), dialog, state)))}
    }
}

#[component]
fn SpaceSection(space: SpaceView, state: ChatState, dialog: RwSignal<Option<Dialog>>) -> impl IntoView {
    let id = space.space_id;
    let can_manage = space.role.can(Right::ManageChannels);
    let can_invite = space.role.can(Right::Invite);
    let is_admin = space.role.can(Right::ManageSpace);
    let settings = space.settings;
    let delete = move |_| {
        if !crate::ui::dialog::confirm("Delete this space and all its channels for everyone?") {
            return;
        }
        spawn_local(async move {
            match act_on_space(id, SpaceAction::Delete).await {
                Ok(_) => {
                    refresh(state);
                    go("/");
                }
                Err(e) => alert(&e.to_string()),
            }
        });
    };
    let invite = move |_| show_invites(dialog, id, None);
    let show_members = {
        let space = space.clone();
        move |_| {
            let space = space.clone();
            spawn_local(async move {
                match members(space.space_id).await {
                    Ok(members) => dialog.set(Some(Dialog::Members { space, members })),
                    Err(e) => alert(&e.to_string()),
                }
            });
        }
    };
    let webhooks_open = RwSignal::new(false);
    let bots_open = RwSignal::new(false);
    let hookable: Vec<(parley::ChannelId, String)> =
        space.channels.iter().map(|c| (c.channel_id, c.name.clone())).collect();
    let leave = move |_: leptos::ev::MouseEvent| {
        if !crate::ui::dialog::confirm("Leave this space? You will need a new invite to come back.") {
            return;
        }
        spawn_local(async move {
            match act_on_space(id, SpaceAction::Leave).await {
                Ok(_) => {
                    refresh(state);
                    go("/");
                }
                Err(e) => alert(&e.to_string()),
            }
        });
    };
    view! {
        <section class="space" data-testid="space" data-space-id=id.to_string()>
            <h2>
                <span class="space-name">{space.name.clone()}</span>
                <span class="role" data-testid="my-role">{Role::as_str(space.role)}</span>
                <SpaceBadge state channels=space.channels.iter().map(|c| c.channel_id).collect() />
            </h2>
            {space
                .channels
                .iter()
                .map(|channel| {
                    let channel_id = channel.channel_id;
                    view! {
                        <a
                            href=channel_href(channel_id)
                            class=link_class(state, channel_id)
                            data-testid="channel-link"
                        >
                            <span class="link-name">
                                {if channel.private { "🔒 " } else { "# " }}
                                {channel.name.clone()}
                            </span>
                            <DraftMark state channel=channel_id />
                            <Badge state channel=channel_id />
                        </a>
                    }
                })
                .collect_view()}
            <div class="space-actions">
                {can_manage
                    .then(|| {
                        view! {
                            <button
                                data-testid="new-channel"
                                on:click=move |_| dialog.set(Some(Dialog::NewChannel(id)))
                            >
                                "+ Channel"
                            </button>
                        }
                    })}
                {can_invite.then(|| view! { <button data-testid="invite" on:click=invite>"Invite"</button> })}
                <button data-testid="browse-channels" on:click=move |_| dialog.set(Some(Dialog::Browse(id)))>
                    "Browse"
                </button>
                // The rest, rarer (and one destructive), behind one button.
                <details class="more" data-testid="space-menu">
                    <summary title="More for this space" aria-label="More for this space">
                        "⋯"
                    </summary>
                    <div class="more-menu" on:click=|ev| close_details(&ev)>
                        <button
                            data-testid="members"
                            on:click=show_members
                        >
                            "Members"
                        </button>
                        {is_admin
                            .then(|| {
                                view! {
                                    <button
                                        data-testid="rename-space"
                                        on:click=move |_| dialog.set(Some(Dialog::RenameSpace(id)))
                                    >
                                        "Rename space"
                                    </button>
                                    <button
                                        data-testid="space-settings-open"
                                        on:click=move |_| dialog.set(Some(Dialog::Settings(id, settings)))
                                    >
                                        "Space settings"
                                    </button>
                                    <button
                                        data-testid="webhooks"
                                        on:click=move |_| webhooks_open.set(true)
                                    >
                                        "Webhooks"
                                    </button>
                                    <button
                                        data-testid="bots"
                                        on:click=move |_| bots_open.set(true)
                                    >
                                        "Bots and integrations"
                                    </button>
                                }
                            })}
                        <hr />
                        <button
                            class="danger"
                            data-testid="leave"
                            on:click=leave
                        >
                            "Leave space…"
                        </button>
                        {is_admin
                            .then(|| {
                                view! {
                                    <button
                                        class="danger"
                                        data-testid="delete-space"
                                        on:click=delete
                                    >
                                        "Delete space…"
                                    </button>
                                }
                            })}
                    </div>
                </details>
            </div>
            <Show when=move || webhooks_open.get()>
                {crate::ui::later::later(move || crate::ui::later::webhooks(id, webhooks_open))}
            </Show>
            <Show when=move || bots_open.get()>
                {
                    let channels = hookable.clone();
                    crate::ui::later::later(move || crate::ui::later::bots(id, channels.clone(), bots_open))
                }
            </Show>
        </section>
    }
}

/// The channel on screen's menu, for the members of its space: its people, leaving it; for
/// those who may manage channels, renaming and archiving; for admins, deleting it.
#[component]
pub fn ChannelActions(state: ChatState) -> impl IntoView {
    let dialog = RwSignal::new(None::<Dialog>);
    // The space of the channel on screen, my role there, and whether the channel is private.
    let here = move || {
        let channel = state.channel.get();
        state.spaces.with(|spaces| {
            spaces.iter().find_map(|s| {
                let found = s.channels.iter().find(|c| c.channel_id == channel)?;
                Some((s.space_id, channel, s.role, found.private))
            })
        })
    };
    let managed = move || here().filter(|(_, _, role, _)| role.can(Right::ManageChannels));
    let archive = move |_| {
        let Some((space, channel, _, _)) = managed() else {
            return;
        };
        if !crate::ui::dialog::confirm("Archive this channel? Its history stays; nothing new can be posted.") {
            return;
        }
        spawn_local(async move {
            match act_on_space(space, SpaceAction::ArchiveChannel { channel }).await {
                Ok(_) => {
                    refresh(state);
                    go("/");
                }
                Err(e) => alert(&e.to_string()),
            }
        });
    };
    let delete = move |_| {
        let Some((space, channel, _, _)) = here() else { return };
        if !crate::ui::dialog::confirm("Delete this channel and all its messages, for everyone? This cannot be undone.")
        {
            return;
        }
        spawn_local(async move {
            match act_on_space(space, SpaceAction::DeleteChannel { channel }).await {
                Ok(_) => {
                    refresh(state);
                    go("/");
                }
                Err(e) => alert(&e.to_string()),
            }
        });
    };
    let leave = move |_| {
        let Some((space, channel, _, private)) = here() else {
            return;
        };
        if private && !crate::ui::dialog::confirm("Leave this private channel? Someone will have to add you again.") {
            return;
        }
        spawn_local(async move {
            match act_on_space(space, SpaceAction::LeaveChannel { channel }).await {
                Ok(_) => {
                    refresh(state);
                    go("/");
                }
                Err(e) => alert(&e.to_string()),
            }
        });
    };
    view! {
        <Show when=move || here().is_some()>
            // Rarely needed: one small button in the header opens it.
            <details class="more" data-testid="channel-menu">
                <summary class="reset" title="Channel settings" aria-label="Channel settings">
                    "⋯"
                </summary>
                <div class="more-menu" on:click=|ev| close_details(&ev)>
                    <button
                        class="reset"
                        data-testid="channel-people"
                        on:click=move |_| {
                            if let Some((space, channel, role, private)) = here() {
                                let moderates = role.can(Right::ManageChannels);
                                dialog.set(Some(Dialog::ChannelMembers { space, channel, private, moderates }));
                            }
                        }
                    >
                        "People"
                    </button>
                    <button class="reset" data-testid="leave-channel" on:click=leave>
                        "Leave channel"
                    </button>
                    <Show when=move || managed().is_some()>
                        <button
                            class="reset"
                            data-testid="rename-channel"
                            on:click=move |_| {
                                if let Some((space, channel, _, _)) = managed() {
                                    dialog.set(Some(Dialog::RenameChannel(space, channel)));
                                }
                            }
                        >
                            "Rename channel"
                        </button>
                        <button class="reset danger" data-testid="archive-channel" on:click=archive>
                            "Archive channel…"
                        </button>
                    </Show>
                    <Show when=move || here().is_some_and(|(_, _, role, _)| role.can(Right::ManageSpace))>
                        <button class="reset danger" data-testid="delete-channel" on:click=delete>
                            "Delete channel…"
                        </button>
                    </Show>
                </div>
            </details>
        </Show>
        <Show when=move || state.me.with(Option::is_some) && state.unavailable_reason().is_none()>
            <crate::ui::unread::MuteButton state />
        </Show>
        {move || dialog.get().map(|d| crate::ui::later::later(move || crate::ui::later::sidebar_dialog(d.clone(), dialog, state)))}
    }
}

/// Closes the `<details>` menu a click landed in (each menu's items bubble their clicks to it).
fn close_details(ev: &leptos::ev::MouseEvent) {
    #[cfg(feature = "browser")]
    {
        use wasm_bindgen::JsCast;
        if let Some(details) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("details").ok().flatten())
        {
            let _ = details.remove_attribute("open");
        }
    }
    #[cfg(not(feature = "browser"))]
    let _ = ev;
}

/// The class of a channel's link: marked when it is the one on screen.
fn link_class(state: ChatState, channel: ChannelId) -> impl Fn() -> &'static str + Send + Sync + 'static {
    move || {
        if state.channel.get() == channel {
            "channel-link current"
        } else {
            "channel-link"
        }
    }
}

#[component]
pub fn SidebarDialog(d: Dialog, dialog: RwSignal<Option<Dialog>>, state: ChatState) -> impl IntoView {
    crate::ui::dialog::focus_in_and_back();
    let close = move || dialog.set(None);
    let body = match d {
        Dialog::NewSpace => view! {
            <NameForm
                title="Create a space"
                label="Its name"
                submit="Create space"
                check=check_space_name
                on_submit=move |name: String| async move {
                    let space = create_space(name).await?;
                    let first = space.channels.first().map(|c| c.channel_id);
                    state.spaces.update(|spaces| spaces.push(space));
                    if let Some(channel) = first {
                        go(&channel_href(channel));
                    }
                    Ok(())
                }
                close
            />
        }
        .into_any(),
        Dialog::JoinSpace => view! {
            <NameForm
                title="Join a space"
                label="The invite link you were given"
                submit="Join"
                max_len=512
                check=|text: &str| {
                    if parse_invite(text).is_some() { Ok(()) } else { Err("this is not an invite link".into()) }
                }
                on_submit=move |text: String| async move {
                    if let Some((space, code)) = parse_invite(&text) {
                        act_on_space(space, SpaceAction::Join { code }).await?;
                        open_space(state, space).await?;
                    }
                    Ok(())
                }
                close
            />
        }
        .into_any(),
        Dialog::Settings(space, settings) => view! {
            <crate::ui::channel_info::SettingsForm space settings state close=Callback::new(move |()| close()) />
        }
        .into_any(),
        Dialog::RenameSpace(space) => view! {
            <NameForm
                title="Rename the space"
                label="Its new name"
                submit="Rename"
                check=check_space_name
                on_submit=move |name: String| async move {
                    act_on_space(space, SpaceAction::Rename { name }).await?;
                    refresh(state);
                    Ok(())
                }
                close
            />
        }
        .into_any(),
        Dialog::RenameChannel(space, channel) => view! {
            <NameForm
                title="Rename the channel"
                label="Its new name: lowercase letters, digits, '-' or '_'"
                submit="Rename"
                check=|_: &str| Ok(())
                on_submit=move |name: String| async move {
                    act_on_space(space, SpaceAction::RenameChannel { channel, name }).await?;
                    refresh(state);
                    Ok(())
                }
                close
            />
        }
        .into_any(),
        Dialog::NewDirect => view! {
            <NameForm
                title="Message someone"
                label="Their usernames, separated by commas"
                submit="Open conversation"
                max_len=300
                check=|names: &str| {
                    if names.split(',').any(|n| !n.trim().is_empty()) { Ok(()) } else { Err("name someone".into()) }
                }
                on_submit=move |names: String| async move {
                    let usernames = names
                        .split(',')
                        .map(|n| n.trim().to_owned())
                        .filter(|n| !n.is_empty())
                        .collect();
                    let direct = open_direct(usernames).await?;
                    let channel = direct.channel_id;
                    state
                        .directs
                        .update(|directs| {
                            if !directs.iter().any(|d| d.channel_id == channel) {
                                directs.push(direct);
                            }
                        });
                    go(&channel_href(channel));
                    Ok(())
                }
                close
            />
        }
        .into_any(),
        Dialog::NewChannel(space) => view! {
            <crate::ui::channels::NewChannelForm space state close=Callback::new(move |()| close()) />
        }
        .into_any(),
        Dialog::Browse(space) => view! {
            <crate::ui::channels::ChannelBrowser space state close=Callback::new(move |()| close()) />
        }
        .into_any(),
        Dialog::ChannelMembers {
            space,
            channel,
            private,
            moderates,
        } => view! {
            <crate::ui::channels::ChannelMembers
                space
                channel
                private
                moderates
                state
                close=Callback::new(move |()| close())
            />
        }
        .into_any(),
        Dialog::Invites { space, link, invites } => {
            let expiry = RwSignal::new("10080".to_owned());
            let uses = RwSignal::new(String::new());
            let create = move |_| {
                let expires_in_minutes = expiry.get_untracked().parse().ok();
                let max_uses = uses.get_untracked().parse().ok();
                spawn_local(async move {
                    let action = SpaceAction::CreateInvite {
                        expires_in_minutes,
                        max_uses,
                    };
                    match act_on_space(space, action).await {
                        Ok(SpaceOutcome::Invite { code }) => {
                            show_invites(dialog, space, Some(invite_link(space, &code)))
                        }
                        Ok(_) => {}
                        Err(e) => alert(&e.to_string()),
                    }
                });
            };
            view! {
                <div class="dialog" data-testid="invite-dialog">
                    <h2>"Invite people"</h2>
                    <div class="invite-options">
                        <label>
                            "Expires "
                            <select data-testid="invite-expiry" on:change=move |ev| expiry.set(event_target_value(&ev))>
                                <option value="60">"in an hour"</option>
                                <option value="1440">"in a day"</option>
                                <option value="10080" selected>"in 7 days"</option>
                                <option value="">"never"</option>
                            </select>
                        </label>
                        <label>
                            "Uses "
                            <select data-testid="invite-uses" on:change=move |ev| uses.set(event_target_value(&ev))>
                                <option value="" selected>"no limit"</option>
                                <option value="1">"1"</option>
                                <option value="5">"5"</option>
                                <option value="25">"25"</option>
                            </select>
                        </label>
                    </div>
                    <button type="button" data-testid="invite-create" on:click=create>
                        "Create a link"
                    </button>
                    {link
                        .map(|link| {
                            let until = invites
                                .iter()
                                .find(|i| link.ends_with(&format!("invite={}", i.code)))
                                .and_then(|i| i.expires_at_ms)
                                .map(|ms| format!(" until {}", crate::state::format_date(ms)))
                                .unwrap_or_default();
                            let copied = RwSignal::new(None::<bool>);
                            let copy = {
                                let link = link.clone();
                                move |_| {
                                    let link = link.clone();
                                    spawn_local(async move {
                                        copied.set(Some(crate::state::copy_text(&link).await));
                                    });
                                }
                            };
                            view! {
                                <p data-testid="invite-until">"Anyone with this link can join" {until} ":"</p>
                                <div class="copy-row">
                                    <input
                                        readonly
                                        data-testid="invite-link"
                                        aria-label="Invite link"
                                        prop:value=link
                                        on:focus=|ev| select_all(&ev)
                                    />
                                    <button type="button" data-testid="invite-copy" on:click=copy>
                                        {move || match copied.get() {
                                            Some(true) => "Copied",
                                            _ => "Copy",
                                        }}
                                    </button>
                                </div>
                                {move || {
                                    (copied.get() == Some(false))
                                        .then(|| {
                                            view! {
                                                <p class="hint" role="status">
                                                    "Your browser did not allow copying: select the link and copy it."
                                                </p>
                                            }
                                        })
                                }}
                            }
                        })}
                    <ul class="members" data-testid="invites">
                        {invites
                            .into_iter()
                            .map(|invite| {
                                let code = invite.code.clone();
                                let revoke = move |_| {
                                    let code = code.clone();
                                    spawn_local(async move {
                                        match act_on_space(space, SpaceAction::RevokeInvite { code }).await {
                                            Ok(_) => show_invites(dialog, space, None),
                                            Err(e) => alert(&e.to_string()),
                                        }
                                    });
                                };
                                let used = match invite.max_uses {
                                    Some(max) => format!("{} of {max} used", invite.uses),
                                    None => format!("{} used", invite.uses),
                                };
                                let expires = match invite.expires_at_ms {
                                    Some(ms) => format!("expires {}", crate::state::format_date(ms)),
                                    None => "never expires".to_owned(),
                                };
                                let limits = format!("{used} · {expires}");
                                view! {
                                    <li data-testid="invite-row">
                                        <code class="member-name">{invite.code.clone()}</code>
                                        <span class="role">{limits}</span>
                                        <button class="link" data-testid="invite-revoke" on:click=revoke>
                                            "Revoke"
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                    <button type="button" class="secondary" on:click=move |_| close()>
                        "Done"
                    </button>
                </div>
            }
            .into_any()
        }
        Dialog::Members { space, members } => view! {
            <div class="dialog" data-testid="members-dialog">
                <h2>"Members of " {space.name.clone()}</h2>
                <ul class="members">
                    {members
                        .into_iter()
                        .map(|m| {
                            let me = state.me.get_untracked().map(|me| me.user_id);
                            let mine = me == Some(m.user_id);
                            let can_set = space.role.can(Right::ChangeRoles) && !mine;
                            let can_remove = space.role.can(Right::RemoveMembers) && !mine && m.role < space.role;
                            let (space_id, member) = (space.space_id, m.user_id);
                            let on_role = move |ev: leptos::ev::Event| {
                                let role = match event_target_value(&ev).as_str() {
                                    "admin" => Role::Admin,
                                    "moderator" => Role::Moderator,
                                    _ => Role::Member,
                                };
                                members_action(state, dialog, space_id, SpaceAction::SetRole { member, role });
                            };
                            let remove = move |_| {
                                if crate::ui::dialog::confirm("Remove this member from the space?") {
                                    members_action(state, dialog, space_id, SpaceAction::Remove { member });
                                }
                            };
                            view! {
                                <li data-testid="member">
                                    <span class="member-name" title=format!("@{}", m.username)>
                                        {
                                            crate::client::people::want(state, [m.username.clone()]);
                                            let username = m.username.clone();
                                            move || state.name_of(&username)
                                        }
                                    </span>
                                    {if can_set {
                                        view! {
                                            <select data-testid="member-role" on:change=on_role aria-label="Role">
                                                {[Role::Admin, Role::Moderator, Role::Member]
                                                    .into_iter()
                                                    .map(|r| {
                                                        view! {
                                                            <option value=Role::as_str(r) selected=r == m.role>
                                                                {Role::as_str(r)}
                                                            </option>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </select>
                                        }
                                            .into_any()
                                    } else {
                                        view! { <span class="role">{Role::as_str(m.role)}</span> }.into_any()
                                    }}
                                    {can_remove
                                        .then(|| {
                                            view! {
                                                <button class="link" data-testid="member-remove" on:click=remove>
                                                    "Remove"
                                                </button>
                                            }
                                        })}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                <button type="button" on:click=move |_| close()>
                    "Close"
                </button>
            </div>
        }
        .into_any(),
    };
    view! {
        <div
            class="overlay"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    close();
                }
            }
        >
            {body}
        </div>
    }
}
