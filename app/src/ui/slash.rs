//! Slash commands in the composer: carrying out what the core's `slash` module read (a topic, an invitation, leaving, muting), and the list of commands with their help.

use crate::api::{SpaceAction, act_on_space, channel_members, members};
use crate::state::{ChatState, go, refresh};
use leptos::prelude::*;
use parley::slash::{COMMANDS, Offer, Slash};
use parley::{ChannelId, SpaceId};

/// The space of the channel on screen, the channel, whether it is private, and its
/// description (what `/topic` keeps); none for the lobby and conversations.
fn here(state: ChatState) -> Option<(SpaceId, ChannelId, bool, String)> {
    let channel = state.channel.get_untracked();
    state.spaces.with_untracked(|spaces| {
        spaces.iter().find_map(|s| {
            let view = s.channels.iter().find(|c| c.channel_id == channel)?;
            Some((s.space_id, channel, view.private, view.description.clone()))
        })
    })
}

/// Carries out a command that is not a post: what to tell the user when done, or why it
/// could not be, for the composer to show (its text then stays).
pub async fn run(state: ChatState, command: Slash) -> Result<Option<String>, String> {
    let needs_space = || "this command works in a space's channels".to_owned();
    match command {
        Slash::Post(_) | Slash::Help => Ok(None),
        Slash::Custom { name, text } => {
            let channel = state.channel.get_untracked();
            let answer = crate::api::run_command(channel, name.clone(), text)
                .await
                .map_err(|e| e.to_string())?;
            // An answer for the channel is there already, posted by the command's bot.
            Ok(answer
                .filter(|a| !a.in_channel)
                .map(|a| format!("Only you see this — /{name}: {}", a.text)))
        }
        Slash::Mute => {
            let channel = state.channel.get_untracked();
            let now = !state.unreads.with_untracked(|u| u.muted(channel));
            crate::client::settings::set(crate::client::settings::Toggle::Mute { channel }, now)
                .await
                .map_err(|e| e.to_string())?;
            state.unreads.update(|u| u.set_muted(channel, now));
            Ok(Some(
                if now {
                    "Muted this channel."
                } else {
                    "Unmuted this channel."
                }
                .into(),
            ))
        }
        Slash::SetTopic(topic) => {
            let (space, channel, _, description) = here(state).ok_or_else(needs_space)?;
            let action = SpaceAction::SetTopic {
                channel,
                topic: topic.clone(),
                description: description.clone(),
            };
            act_on_space(space, action).await.map_err(|e| e.to_string())?;
            state.set_topic(channel, &topic, &description);
            Ok(None)
        }
        Slash::Invite(name) => {
            let (space, channel, private, _) = here(state).ok_or_else(needs_space)?;
            let people = members(space).await.map_err(|e| e.to_string())?;
            let Some(person) = people.into_iter().find(|m| m.username == name) else {
                return Err(format!(
                    "@{name} is not a member of this space: send them an invite link"
                ));
            };
            if !private {
                return Err(format!(
                    "everyone in the space can read this channel: @{name} finds it in Browse"
                ));
            }
            let inside = channel_members(space, channel).await.map_err(|e| e.to_string())?;
            if inside.iter().any(|m| m.user_id == person.user_id) {
                return Err(format!("@{name} is in this channel already"));
            }
            let action = SpaceAction::AddToChannel {
                channel,
                member: person.user_id,
            };
            act_on_space(space, action).await.map_err(|e| e.to_string())?;
            Ok(Some(format!("Added @{name} to this channel.")))
        }
        Slash::Leave => {
            let (space, channel, _, _) = here(state).ok_or_else(needs_space)?;
            act_on_space(space, SpaceAction::LeaveChannel { channel })
                .await
                .map_err(|e| e.to_string())?;
            refresh(state);
            go("/");
            Ok(None)
        }
    }
}

/// The commands offered for what is typed, as the composer lists them (name, arguments,
/// help), the first one chosen by Tab or Enter.
#[component]
pub fn CommandList(commands: Memo<Vec<Offer>>, choose: Callback<Offer>) -> impl IntoView {
    view! {
        <Show when=move || commands.with(|c| !c.is_empty())>
            <ul class="mentions commands" role="listbox" data-testid="command-suggestions">
                {move || {
                    commands
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, command)| {
                            let (name, args, help) = (command.name.clone(), command.args, command.help.clone());
                            view! {
                                <li
                                    role="option"
                                    aria-selected=(i == 0).to_string()
                                    on:mousedown=move |ev| {
                                        ev.prevent_default();
                                        choose.run(command.clone());
                                    }
                                >
                                    <strong>"/" {name}</strong>
                                    " "
                                    <span class="hint">{args}</span>
                                    " — "
                                    {help}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </Show>
    }
}

/// What `/help` shows above the composer until closed.
#[component]
pub fn CommandHelpList(open: RwSignal<bool>) -> impl IntoView {
    view! {
        <Show when=move || open.get()>
            <div class="command-help" data-testid="command-help" role="note">
                <strong>"Commands"</strong>
                <ul>
                    {COMMANDS
                        .iter()
                        .map(|c| {
                            view! {
                                <li>
                                    <code>"/" {c.name} " " {c.args}</code>
                                    " — "
                                    {c.help}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                <button type="button" class="link" on:click=move |_| open.set(false)>
                    "Close"
                </button>
            </div>
        </Show>
    }
}
