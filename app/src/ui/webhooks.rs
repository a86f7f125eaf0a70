//! The webhooks dialog of a space, for its admins: subscribe a URL (its signing secret shown
//! once), see how each one's deliveries stand, retry or skip the event a parked one is stuck on, and replay from a position.

use crate::api::{WebhookAction, WebhookView, act_on_webhook, create_webhook, webhooks};
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::{Position, SpaceId};

/// The dialog, opened from a space's menu in the sidebar.
#[component]
pub fn WebhooksDialog(space: SpaceId, open: RwSignal<bool>) -> impl IntoView {
    let list = RwSignal::new(Vec::<WebhookView>::new());
    let url = RwSignal::new(String::new());
    let types = RwSignal::new(String::from("MessagePosted"));
    let secret = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let reload = move || {
        spawn_local(async move {
            match webhooks(space).await {
                Ok(found) => list.set(found),
                Err(e) => error.set(Some(e.to_string())),
            }
        })
    };
    reload();
    // Delivery state moves on its own: look again while the dialog is open.
    #[cfg(feature = "browser")]
    spawn_local(async move {
        while open.get_untracked() {
            gloo_timers::future::TimeoutFuture::new(1_000).await;
            if open.get_untracked() {
                reload();
            }
        }
    });
    crate::ui::dialog::close_on_escape(open);
    crate::ui::dialog::focus_in_and_back();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let wanted: Vec<String> = types
            .get_untracked()
            .split([',', ' '])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        let target = url.get_untracked();
        spawn_local(async move {
            match create_webhook(space, target, wanted).await {
                Ok(created) => {
                    error.set(None);
                    url.set(String::new());
                    secret.set(Some(created.secret));
                    reload();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let act = move |id: String, action: WebhookAction| {
        spawn_local(async move {
            if let Err(e) = act_on_webhook(space, id, action).await {
                error.set(Some(e.to_string()));
            }
            reload();
        });
    };
    view! {
        <div class="overlay">
            <div class="dialog webhooks-dialog" data-testid="webhooks-dialog" role="dialog" aria-label="Webhooks">
                <h2>"Webhooks"</h2>
                <p class="hint">
                    "Each event of this space goes to the URL (a public address) as JSON, in order, signed: "
                    <code>"X-Parley-Signature: sha256=HMAC(secret, timestamp + \".\" + body)"</code>
                    " with the time in "
                    <code>"X-Parley-Timestamp"</code>
                    " (refuse one older than 5 minutes). Types: "
                    {parley::webhook::EVENT_TYPES.join(", ")}
                    " (none: all)."
                </p>
                {move || {
                    secret
                        .get()
                        .map(|s| {
                            view! {
                                <div class="secret">
                                    <span>"Signing secret (shown once):"</span>
                                    <input readonly data-testid="webhook-secret" prop:value=s />
                                </div>
                            }
                        })
                }}
                <form class="webhook-form" on:submit=create>
                    <input
                        data-testid="webhook-url"
                        placeholder="https://example.com/parley"
                        aria-label="URL"
                        prop:value=move || url.get()
                        on:input=move |ev| url.set(event_target_value(&ev))
                    />
                    <input
                        data-testid="webhook-types"
                        placeholder="MessagePosted, MessageEdited"
                        aria-label="Event types"
                        prop:value=move || types.get()
                        on:input=move |ev| types.set(event_target_value(&ev))
                    />
                    <button type="submit" data-testid="webhook-create">
                        "Add webhook"
                    </button>
                </form>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <ul class="webhook-list">
                    <For each=move || list.get() key=|w: &WebhookView| w.clone() let:hook>
                        {
                            let (retry, skip, delete, replay, pause) = (
                                hook.webhook_id.clone(),
                                hook.webhook_id.clone(),
                                hook.webhook_id.clone(),
                                hook.webhook_id.clone(),
                                hook.webhook_id.clone(),
                            );
                            let paused = hook.paused;
                            let from = RwSignal::new(String::new());
                            let state = if hook.dead {
                                "parked"
                            } else if hook.paused {
                                "paused"
                            } else if hook.failures > 0 {
                                "retrying"
                            } else {
                                "delivering"
                            };
                            view! {
                                <li data-testid="webhook" data-state=state>
                                    <div class="webhook-url">{hook.url.clone()}</div>
                                    <div class="hint">
                                        {if hook.event_types.is_empty() {
                                            "all events".to_owned()
                                        } else {
                                            hook.event_types.join(", ")
                                        }} " · "
                                        <span data-testid="webhook-delivered">{hook.delivered}</span>
                                        " delivered, up to position "
                                        <span data-testid="webhook-offset">{hook.offset.0}</span>
                                        " · "
                                        {state}
                                    </div>
                                    {hook
                                        .last_error
                                        .clone()
                                        .map(|e| view! { <div class="error" data-testid="webhook-error">{e}</div> })}
                                    <div class="webhook-actions">
                                        <Show when=move || hook.dead>
                                            <button
                                                class="link"
                                                data-testid="webhook-retry"
                                                on:click={
                                                    let id = retry.clone();
                                                    move |_| act(id.clone(), WebhookAction::Retry)
                                                }
                                            >
                                                "Retry"
                                            </button>
                                            <button
                                                class="link"
                                                data-testid="webhook-skip"
                                                on:click={
                                                    let id = skip.clone();
                                                    move |_| act(id.clone(), WebhookAction::Skip)
                                                }
                                            >
                                                "Skip the event"
                                            </button>
                                        </Show>
                                        <form
                                            class="webhook-replay"
                                            on:submit={
                                                let id = replay.clone();
                                                move |ev: leptos::ev::SubmitEvent| {
                                                    ev.prevent_default();
                                                    match from.get_untracked().trim().parse::<u64>() {
                                                        Ok(p) if p > 0 => {
                                                            act(id.clone(), WebhookAction::Replay { from: Position(p) })
                                                        }
                                                        _ => error.set(Some("replay from a log position: 1 or more".into())),
                                                    }
                                                }
                                            }
                                        >
                                            <input
                                                data-testid="webhook-replay-from"
                                                aria-label="Replay from position"
                                                placeholder="from position"
                                                inputmode="numeric"
                                                prop:value=move || from.get()
                                                on:input=move |ev| from.set(event_target_value(&ev))
                                            />
                                            <button class="link" type="submit" data-testid="webhook-replay">
                                                "Replay"
                                            </button>
                                        </form>
                                        <button
                                            class="link"
                                            data-testid="webhook-pause"
                                            on:click=move |_| {
                                                let action = if paused { WebhookAction::Resume } else { WebhookAction::Pause };
                                                act(pause.clone(), action)
                                            }
                                        >
                                            {if paused { "Resume" } else { "Pause" }}
                                        </button>
                                        <button
                                            class="link"
                                            data-testid="webhook-delete"
                                            on:click=move |_| act(delete.clone(), WebhookAction::Delete)
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
