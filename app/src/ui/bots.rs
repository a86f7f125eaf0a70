//! The "Bots and integrations" dialog of a space, for its admins: incoming webhooks (a channel's secret address that tools post to), slash commands of the space's own (a URL that answers `/name`), and bots (an account acting with its API token), each made with its secret shown once, rotated or deleted.

use crate::api::{BotSecret, BotView, bots, create_bot, create_command, create_incoming_hook, delete_bot, rotate_bot};
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::{ChannelId, SpaceId, UserId};

/// A secret shown once: what it is, and the text to copy.
#[derive(Clone)]
struct Shown {
    what: String,
    secret: String,
}

impl Shown {
    fn of(made: &BotSecret) -> Self {
        if let Some(command) = &made.bot.command {
            return Self {
                what: format!("Signing secret of /{} (shown once)", command.name),
                secret: made.secret.clone(),
            };
        }
        match &made.bot.hook {
            Some(hook) => Self {
                what: format!("Address of {} for #{} (shown once)", made.bot.name, hook.channel),
                secret: format!("{}{}", crate::state::web_origin(), made.secret),
            },
            None => Self {
                what: format!("API token of @{} (shown once)", made.bot.username),
                secret: made.secret.clone(),
            },
        }
    }
}

/// The dialog, opened from a space's menu in the sidebar; `channels` are the space's
/// channels an incoming webhook may post to.
#[component]
pub fn BotsDialog(space: SpaceId, channels: Vec<(ChannelId, String)>, open: RwSignal<bool>) -> impl IntoView {
    let list = RwSignal::new(Vec::<BotView>::new());
    let shown = RwSignal::new(None::<Shown>);
    let error = RwSignal::new(None::<String>);
    let hook_name = RwSignal::new(String::new());
    let hook_channel = RwSignal::new(channels.first().map(|(id, _)| id.to_string()).unwrap_or_default());
    let command_name = RwSignal::new(String::new());
    let command_url = RwSignal::new(String::new());
    let bot_username = RwSignal::new(String::new());
    let bot_name = RwSignal::new(String::new());
    let reload = move || {
        spawn_local(async move {
            match bots(space).await {
                Ok(found) => list.set(found),
                Err(e) => error.set(Some(e.to_string())),
            }
        })
    };
    reload();
    crate::ui::dialog::close_on_escape(open);
    crate::ui::dialog::focus_in_and_back();
    let answered = move |made: Result<BotSecret, crate::api::AppError>| match made {
        Ok(made) => {
            error.set(None);
            shown.set(Some(Shown::of(&made)));
            reload();
            true
        }
        Err(e) => {
            error.set(Some(e.to_string()));
            false
        }
    };
    let add_hook = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(channel) = hook_channel.get_untracked().parse::<ChannelId>() else {
            error.set(Some("choose a channel".into()));
            return;
        };
        let name = hook_name.get_untracked();
        spawn_local(async move {
            if answered(create_incoming_hook(space, channel, name).await) {
                hook_name.set(String::new());
            }
        });
    };
    let add_bot = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (username, name) = (bot_username.get_untracked(), bot_name.get_untracked());
        spawn_local(async move {
            if answered(create_bot(space, username, name).await) {
                bot_username.set(String::new());
                bot_name.set(String::new());
            }
        });
    };
    let add_command = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (name, url) = (command_name.get_untracked(), command_url.get_untracked());
        spawn_local(async move {
            if answered(create_command(space, name, url).await) {
                command_name.set(String::new());
                command_url.set(String::new());
            }
        });
    };
    let rotate = move |bot: UserId| {
        spawn_local(async move {
            answered(rotate_bot(space, bot).await);
        });
    };
    let delete = move |bot: UserId, name: String| {
        if !crate::ui::dialog::confirm(&format!("Delete {name}? Its token or address stops working at once.")) {
            return;
        }
        spawn_local(async move {
            if let Err(e) = delete_bot(space, bot).await {
                error.set(Some(e.to_string()));
            }
            shown.set(None);
            reload();
        });
    };
    let options = channels
        .into_iter()
        .map(|(id, name)| view! { <option value=id.to_string()>"#" {name}</option> })
        .collect_view();
    view! {
        <div class="overlay">
            <div class="dialog bots-dialog" data-testid="bots-dialog" role="dialog" aria-label="Bots and integrations">
                <h2>"Bots and integrations"</h2>
                {move || {
                    shown
                        .get()
                        .map(|s| {
                            view! {
                                <label class="secret">
                                    <span>{s.what}</span>
                                    <input readonly data-testid="bot-secret" prop:value=s.secret />
                                </label>
                            }
                        })
                }}
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <h3>"Incoming webhook"</h3>
                <p class="hint">
                    "An address that tools (CI, monitoring) post to, as JSON: "
                    <code>"{\"text\": \"Build passed\"}"</code>
                    " (Slack's shape; Discord's "
                    <code>"content"</code>
                    " and Parley's "
                    <code>"body"</code>
                    " too). It posts under the name you give, marked as a bot."
                </p>
                <form class="webhook-form" on:submit=add_hook>
                    <input
                        data-testid="hook-name"
                        placeholder="Name, e.g. CI"
                        aria-label="Webhook name"
                        maxlength="32"
                        prop:value=move || hook_name.get()
                        on:input=move |ev| hook_name.set(event_target_value(&ev))
                    />
                    <select
                        data-testid="hook-channel"
                        aria-label="Channel it posts to"
                        prop:value=move || hook_channel.get()
                        on:change=move |ev| hook_channel.set(event_target_value(&ev))
                    >
                        {options}
                    </select>
                    <button type="submit" data-testid="hook-create">
                        "Add incoming webhook"
                    </button>
                </form>
                <h3>"Slash command"</h3>
                <p class="hint">
                    "Members type "
                    <code>"/name text"</code>
                    "; the URL gets it as JSON (who, where, the text), signed like webhooks, and answers "
                    <code>"{\"text\": \"…\", \"response_type\": \"in_channel\"}"</code>
                    " (for the channel) or without "
                    <code>"response_type"</code>
                    " (for the caller alone), within 5 seconds."
                </p>
                <form class="webhook-form" on:submit=add_command>
                    <input
                        data-testid="command-name"
                        placeholder="Command, e.g. weather"
                        aria-label="Command name"
                        maxlength="33"
                        prop:value=move || command_name.get()
                        on:input=move |ev| command_name.set(event_target_value(&ev))
                    />
                    <input
                        data-testid="command-url"
                        placeholder="https://example.com/commands/weather"
                        aria-label="Command URL"
                        prop:value=move || command_url.get()
                        on:input=move |ev| command_url.set(event_target_value(&ev))
                    />
                    <button type="submit" data-testid="command-create">
                        "Add slash command"
                    </button>
                </form>
                <h3>"Bot"</h3>
                <p class="hint">
                    "An account for a program: it acts with its API token, in this space only, through the REST API and the socket. "
                    <a href="/api/v1/docs/" target="_blank" rel="noopener">"API documentation"</a>
                </p>
                <form class="webhook-form" on:submit=add_bot>
                    <input
                        data-testid="bot-username"
                        placeholder="Username, e.g. deploy-bot"
                        aria-label="Bot username"
                        maxlength="32"
                        prop:value=move || bot_username.get()
                        on:input=move |ev| bot_username.set(event_target_value(&ev))
                    />
                    <input
                        data-testid="bot-name"
                        placeholder="Name shown, e.g. Deploy"
                        aria-label="Bot name"
                        maxlength="32"
                        prop:value=move || bot_name.get()
                        on:input=move |ev| bot_name.set(event_target_value(&ev))
                    />
                    <button type="submit" data-testid="bot-create">
                        "Add bot"
                    </button>
                </form>
                <ul class="webhook-list" aria-label="Bots and webhooks">
                    <For each=move || list.get() key=|b: &BotView| (b.user_id, b.hook.as_ref().map(|h| h.hook_id.clone())) let:bot>
                        {
                            let (id, name) = (bot.user_id, bot.name.clone());
                            let what = match (&bot.hook, &bot.command) {
                                (_, Some(command)) => format!("slash command /{} → {}", command.name, command.url),
                                (Some(hook), None) => format!("incoming webhook → #{}", hook.channel),
                                (None, None) => "bot (API token)".to_owned(),
                            };
                            let renew = match (&bot.hook, &bot.command) {
                                (_, Some(_)) => "New secret",
                                (Some(_), None) => "New address",
                                (None, None) => "New token",
                            };
                            view! {
                                <li data-testid="bot">
                                    <div>
                                        <strong>{bot.name.clone()}</strong>
                                        " "
                                        <span class="hint">"@" {bot.username.clone()}</span>
                                    </div>
                                    <div class="hint">{what}</div>
                                    <div class="webhook-actions">
                                        <button class="link" data-testid="bot-rotate" on:click=move |_| rotate(id)>
                                            {renew}
                                        </button>
                                        <button
                                            class="link danger"
                                            data-testid="bot-delete"
                                            on:click=move |_| delete(id, name.clone())
                                        >
                                            "Delete"
                                        </button>
                                    </div>
                                </li>
                            }
                        }
                    </For>
                </ul>
                <button class="secondary" on:click=move |_| open.set(false)>
                    "Close"
                </button>
            </div>
        </div>
    }
}
