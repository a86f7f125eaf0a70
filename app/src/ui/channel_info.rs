//! The channel's details in its header: its topic and description (set by whom its space allows), its pinned messages, and the space's settings of who may pin and set topics.

use crate::api::{SpaceAction, act_on_space};
use crate::state::ChatState;
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::api::ChannelView;
use parley::space::{SpaceSettings, Who};
use parley::{MessageView, SpaceId};

/// The open channel as its space lists it, with the space, my role's rights there (tracked).
fn here(state: ChatState) -> Option<(SpaceId, ChannelView, bool, bool)> {
    let channel = state.channel.get();
    state.spaces.with(|spaces| {
        spaces.iter().find_map(|space| {
            let found = space.channels.iter().find(|c| c.channel_id == channel)?;
            let allows = |who: Who| who.admits(space.role);
            Some((
                space.space_id,
                found.clone(),
                allows(space.settings.pins),
                allows(space.settings.topics),
            ))
        })
    })
}

/// Whether I may pin in the open channel: as its space's settings say; the people of a
/// conversation may; nobody in the lobby (the server decides the same).
pub fn may_pin(state: ChatState) -> bool {
    let channel = state.channel.get_untracked();
    let direct = state
        .directs
        .with_untracked(|d| d.iter().any(|d| d.channel_id == channel));
    direct || untrack(|| here(state)).is_some_and(|(_, _, pin, _)| pin)
}

/// The topic under the channel's name (its description on hover): a button that opens both,
/// to read, or to change for those the space allows.
#[component]
pub fn TopicLine(state: ChatState) -> impl IntoView {
    let editing = RwSignal::new(false);
    let topic = move || here(state).map(|(_, c, _, _)| c.topic).unwrap_or_default();
    let description = move || here(state).map(|(_, c, _, _)| c.description).unwrap_or_default();
    let may_edit = move || here(state).is_some_and(|(_, _, _, topics)| topics);
    view! {
        {move || {
            let text = topic();
            let (may_edit, description) = (may_edit(), description());
            if text.is_empty() && description.is_empty() && !may_edit {
                return ().into_any();
            }
            let label = match (text.is_empty(), may_edit) {
                (false, _) => text.clone(),
                (true, true) => "Add a topic".to_owned(),
                (true, false) => "About this channel".to_owned(),
            };
            let title = match (description.is_empty(), may_edit) {
                (false, _) => description,
                (true, true) => "Change the topic and description".to_owned(),
                (true, false) => text.clone(),
            };
            view! {
                <button
                    class="topic"
                    class:empty=text.is_empty()
                    data-testid="channel-topic"
                    title=title
                    on:click=move |_| editing.set(true)
                >
                    {label}
                </button>
            }
                .into_any()
        }}
        {move || {
            // Opened on the channel as it was: a sidebar refresh meanwhile keeps what is typed.
            editing
                .get()
                .then(|| untrack(|| here(state)))
                .flatten()
                .map(|(space, channel, _, may_edit)| {
                    if may_edit {
                        view! { <TopicDialog state space channel editing /> }.into_any()
                    } else {
                        view! { <AboutDialog channel open=editing /> }.into_any()
                    }
                })
        }}
    }
}

/// A channel's topic and description, to read.
#[component]
fn AboutDialog(channel: ChannelView, open: RwSignal<bool>) -> impl IntoView {
    crate::ui::dialog::close_on_escape(open);
    crate::ui::dialog::focus_in_and_back();
    view! {
        <div class="overlay">
            <div class="dialog" data-testid="about-channel" role="dialog" aria-labelledby="about-title">
                <h2 id="about-title">"About #" {channel.name.clone()}</h2>
                {(!channel.topic.is_empty()).then(|| view! { <p class="about-topic">{channel.topic.clone()}</p> })}
                {(!channel.description.is_empty())
                    .then(|| view! { <p class="about-description" data-testid="about-description">{channel.description.clone()}</p> })}
                <div class="dialog-actions">
                    <button class="secondary" autofocus on:click=move |_| open.set(false)>
                        "Close"
                    </button>
                </div>
            </div>
        </div>
    }
}

#[component]
fn TopicDialog(state: ChatState, space: SpaceId, channel: ChannelView, editing: RwSignal<bool>) -> impl IntoView {
    crate::ui::dialog::close_on_escape(editing);
    crate::ui::dialog::focus_in_and_back();
    let topic = RwSignal::new(channel.topic.clone());
    let description = RwSignal::new(channel.description.clone());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let id = channel.channel_id;
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (topic, description) = (topic.get_untracked(), description.get_untracked());
        busy.set(true);
        spawn_local(async move {
            let action = SpaceAction::SetTopic {
                channel: id,
                topic: topic.clone(),
                description: description.clone(),
            };
            let done = act_on_space(space, action).await;
            busy.set(false);
            match done {
                Ok(_) => {
                    // The header shows it at once; the notice comes through the channel.
                    let (topic, description) = (topic.trim(), description.trim());
                    state.set_topic(id, topic, description);
                    editing.set(false);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <div class="overlay">
            <form class="dialog" data-testid="topic-form" role="dialog" aria-labelledby="topic-title" on:submit=save>
                <h2 id="topic-title">"#" {channel.name.clone()} ": topic and description"</h2>
                <label for="topic-field">"Topic: one line, shown under the channel's name"</label>
                <input
                    id="topic-field"
                    data-testid="topic-field"
                    autofocus
                    maxlength=parley::channel::MAX_TOPIC_CHARS
                    prop:value=move || topic.get()
                    on:input=move |ev| topic.set(event_target_value(&ev))
                />
                <label for="description-field">"Description: what the channel is for"</label>
                <textarea
                    id="description-field"
                    data-testid="description-field"
                    rows="4"
                    maxlength=parley::channel::MAX_DESCRIPTION_CHARS
                    prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))
                ></textarea>
                {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="topic-error">{e}</p> })}
                <div class="dialog-actions">
                    <button type="submit" data-testid="topic-save" disabled=move || busy.get()>
                        "Save"
                    </button>
                    <button type="button" class="secondary" on:click=move |_| editing.set(false)>
                        "Cancel"
                    </button>
                </div>
            </form>
        </div>
    }
}

/// The header's "Pinned" button and the list it opens: the channel's pinned messages, the
/// last pinned first; choosing one shows it in the channel.
#[component]
pub fn PinnedButton(state: ChatState) -> impl IntoView {
    let open = RwSignal::new(false);
    let pins = RwSignal::new(None::<Result<Vec<MessageView>, String>>);
    // The list follows the channel on screen and its pins while open.
    let pinned_here = move || state.timeline.with(|t| t.entries().filter(|e| e.pinned).count());
    Effect::new(move |_| {
        let _ = pinned_here();
        if !open.get() {
            return;
        }
        let channel = state.channel.get();
        spawn_local(async move {
            let found = crate::api::pinned(channel).await.map_err(|e| e.to_string());
            pins.set(Some(found));
        });
    });
    Effect::new(move |_| {
        let _ = state.channel.get();
        open.set(false);
    });
    let jump = move |view: MessageView| {
        open.set(false);
        state.reveal.set(Some((view.channel_id, view.message_id)));
    };
    view! {
        <div class="pins">
            <button
                class="pins-button reset"
                data-testid="pins-button"
                title="Pinned messages"
                aria-label="Pinned messages"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                "📌"
            </button>
            <Show when=move || open.get()>
                <div class="pins-panel" data-testid="pins-panel" role="region" aria-label="Pinned messages">
                    <h2>"Pinned messages"</h2>
                    {move || match pins.get() {
                        None => view! { <p class="hint">"Loading…"</p> }.into_any(),
                        Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                        Some(Ok(list)) if list.is_empty() => {
                            view! {
                                <p class="hint" data-testid="pins-none">
                                    "Nothing is pinned here yet. Pin a message from its actions to keep it at hand."
                                </p>
                            }
                                .into_any()
                        }
                        Some(Ok(list)) => {
                            view! {
                                <ol>
                                    {list
                                        .into_iter()
                                        .map(|view| {
                                            let target = view.clone();
                                            let name = state.name_of(&view.author);
                                            view! {
                                                <li>
                                                    <button class="hit" data-testid="pinned" on:click=move |_| jump(target.clone())>
                                                        <span class="where">
                                                            {name} " · " {crate::state::format_time(view.sent_at_ms)}
                                                        </span>
                                                        <span class="snippet">{parley::markdown::plain_text(&view.body)}</span>
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
                    <button class="close" on:click=move |_| open.set(false)>
                        "Close"
                    </button>
                </div>
            </Show>
        </div>
    }
}

/// The space's settings, for its admins: who may pin messages, who may set topics.
#[component]
pub fn SettingsForm(space: SpaceId, settings: SpaceSettings, state: ChatState, close: Callback<()>) -> impl IntoView {
    let pins = RwSignal::new(settings.pins);
    let topics = RwSignal::new(settings.topics);
    let error = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let settings = SpaceSettings {
            pins: pins.get_untracked(),
            topics: topics.get_untracked(),
        };
        spawn_local(async move {
            match act_on_space(space, SpaceAction::Configure { settings }).await {
                Ok(_) => {
                    state.spaces.update(|spaces| {
                        for s in spaces.iter_mut().filter(|s| s.space_id == space) {
                            s.settings = settings;
                        }
                    });
                    close.run(());
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let choice = |id: &'static str, label: &'static str, value: RwSignal<Who>| {
        view! {
            <label for=id>{label}</label>
            <select
                id=id
                data-testid=id
                on:change=move |ev| {
                    value.set(if event_target_value(&ev) == "moderators" { Who::Moderators } else { Who::Members })
                }
            >
                <option value="members" selected=move || value.get() == Who::Members>
                    "Every member"
                </option>
                <option value="moderators" selected=move || value.get() == Who::Moderators>
                    "Moderators and admins"
                </option>
            </select>
        }
    };
    view! {
        <form class="dialog" data-testid="space-settings" on:submit=save>
            <h2>"Space settings"</h2>
            {choice("settings-pins", "Who may pin messages", pins)}
            {choice("settings-topics", "Who may set a channel's topic", topics)}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="dialog-actions">
                <button type="submit" data-testid="settings-save">
                    "Save"
                </button>
                <button type="button" class="secondary" on:click=move |_| close.run(())>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}
