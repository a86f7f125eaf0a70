//! The event inspector at `/admin`, for instance admins: the log page by page (by stream,
//! by type), each event's payload and metadata, where the projection and every webhook
//! stand, events per second, and a channel as it was at any past position.

use crate::api::{
    AppError, LogFilter, LogPage, LogRow, WebhookAction, act_on_webhook, channel_at, inspect_log, retry_parked_event,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::{ChannelId, MessageView, Position, SpaceId};

#[component]
pub fn InspectorPage() -> impl IntoView {
    let page = RwSignal::new(None::<Result<LogPage, String>>);
    let stream = RwSignal::new(String::new());
    let event_type = RwSignal::new(String::new());
    let before = RwSignal::new(None::<Position>);
    let chosen = RwSignal::new(None::<LogRow>);
    let detail = NodeRef::<leptos::html::Aside>::new();
    // The event's detail where it can be seen: beside the list on a wide screen (it stays in
    // view, see `style/main.css`), under it on a phone, scrolled to.
    let show = move |row: LogRow| {
        chosen.set(Some(row));
        // Once drawn: only if its top is out of sight (on a wide screen it never is).
        #[cfg(feature = "browser")]
        request_animation_frame(move || {
            let Some(detail) = detail.get_untracked() else { return };
            let height = window()
                .inner_height()
                .ok()
                .and_then(|h| h.as_f64())
                .unwrap_or_default();
            let top = detail.get_bounding_client_rect().top();
            if top < 0.0 || top > height * 0.75 {
                detail.scroll_into_view();
            }
        });
    };
    // What the last retry of a parked event said (kept across the page's reloads).
    let retried = RwSignal::new(None::<Result<Position, String>>);
    // What the last Retry or Skip of a parked webhook did (kept across the page's refreshes).
    let unparked = RwSignal::new(None::<Result<WebhookAction, String>>);
    let denied = RwSignal::new(None::<String>);
    let load = move || {
        let filter = LogFilter {
            before: before.get_untracked(),
            stream: Some(stream.get_untracked().trim().to_owned()).filter(|s| !s.is_empty()),
            event_type: Some(event_type.get_untracked().trim().to_owned()).filter(|s| !s.is_empty()),
        };
        spawn_local(async move {
            match inspect_log(filter).await {
                // Not an admin (or not signed in): the page is not for them; say so once.
                Err(e @ (AppError::Forbidden(_) | AppError::Unauthorized)) => denied.set(Some(e.to_string())),
                answer => page.set(Some(answer.map_err(|e| e.to_string()))),
            }
        });
    };
    Effect::new(move |_| load());
    // Positions and the chart move on their own: look again every two seconds.
    #[cfg(feature = "browser")]
    spawn_local(async move {
        loop {
            gloo_timers::future::TimeoutFuture::new(2_000).await;
            if denied.get_untracked().is_some() {
                break;
            }
            if before.get_untracked().is_none() {
                load();
            }
        }
    });
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        before.set(None);
        load();
    };
    let older = move |_| {
        let last = page.with_untracked(|p| {
            p.as_ref()
                .and_then(|p| p.as_ref().ok())
                .and_then(|p| p.events.last().map(|e| e.position))
        });
        if let Some(last) = last {
            before.set(Some(last));
            load();
        }
    };
    let newest = move |_| {
        before.set(None);
        load();
    };
    let not_for_you = move || {
        view! {
            <main class="inspector">
                <div class="dead-end" role="alert" data-testid="inspector-denied">
                    <h1>"The event log is for instance admins"</h1>
                    <p>
                        "It shows everything that happened on this Parley, so only the people who run it can open it. The server said: "
                        <q>{move || denied.get().unwrap_or_default()}</q>
                    </p>
                    <a class="button" href="/" rel="external">
                        "Back to the chat"
                    </a>
                </div>
            </main>
        }
    };
    view! {
        <Show when=move || denied.with(Option::is_none) fallback=not_for_you>
        <main class="inspector" data-testid="inspector">
            <header class="inspector-head">
                <h1>"Admin: event log and accounts"</h1>
                <a href="/" class="reset" rel="external">
                    "Back to the chat"
                </a>
            </header>
            {move || match page.get() {
                None => view! { <p class="hint">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert" data-testid="inspector-error">{e}</p> }.into_any(),
                Some(Ok(p)) => view! { <Overview page=p retried=retried unparked=unparked /> }.into_any(),
            }}
            <crate::ui::admin::AccountsPanel />
            <h2>"Events"</h2>
            <form class="inspector-filter" on:submit=apply>
                <input
                    placeholder="stream, e.g. channel-…"
                    data-testid="filter-stream"
                    prop:value=move || stream.get()
                    on:input=move |ev| stream.set(event_target_value(&ev))
                />
                <input
                    placeholder="type, e.g. MessagePosted"
                    data-testid="filter-type"
                    prop:value=move || event_type.get()
                    on:input=move |ev| event_type.set(event_target_value(&ev))
                />
                <button type="submit" data-testid="filter-apply">
                    "Show"
                </button>
                <button type="button" class="secondary" on:click=newest>
                    "Newest"
                </button>
                <button type="button" class="secondary" data-testid="older" on:click=older>
                    "Older"
                </button>
            </form>
            <div class="inspector-body">
                <table class="events" data-testid="events">
                    <thead>
                        <tr>
                            <th>"#"</th>
                            <th>"time"</th>
                            <th>"stream"</th>
                            <th>"type"</th>
                            <th>"by"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            page.get()
                                .and_then(Result::ok)
                                .map(|p| p.events)
                                .unwrap_or_default()
                                .into_iter()
                                .map(|row| {
                                    let pick = row.clone();
                                    let position = row.position.0;
                                    // The whole row takes a click; its position is the
                                    // button a keyboard reaches (its click comes up to the row).
                                    view! {
                                        <tr data-testid="event-row" on:click=move |_| show(pick.clone())>
                                            <td>
                                                <button type="button" class="link event-pick" aria-label=format!("Show event {position}")>
                                                    {position}
                                                </button>
                                            </td>
                                            <td>{crate::state::format_time(row.recorded_at_ms)}</td>
                                            <td title=row.stream_id.clone() data-testid="event-stream">
                                                {match row.stream_name.clone() {
                                                    Some(name) => name.into_any(),
                                                    None => view! { <span class="mono">{row.stream_id.clone()}</span> }.into_any(),
                                                }}
                                                " v"
                                                {row.stream_version}
                                            </td>
                                            <td>{row.event_type.clone()} " v" {row.schema_version}</td>
                                            <td data-testid="event-actor">{row.actor.clone()}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()
                        }}
                    </tbody>
                </table>
                <aside class="event-detail" data-testid="event-detail" node_ref=detail>
                    {move || match chosen.get() {
                        None => view! { <p class="hint">"Pick an event to see its payload and metadata."</p> }.into_any(),
                        Some(row) => {
                            view! {
                                <h2>{row.event_type.clone()} " at " {row.position.0}</h2>
                                <h3>"Payload, as stored at version " {row.schema_version}</h3>
                                <pre data-testid="event-payload">{row.payload.clone()}</pre>
                                {row.upcast.clone().map(|upcast| match upcast.payload {
                                    Ok(payload) => view! {
                                        <h3>"Read today as version " {upcast.version}</h3>
                                        <pre data-testid="event-upcast">{payload}</pre>
                                    }.into_any(),
                                    Err(why) => view! {
                                        <h3>"Cannot be read as version " {upcast.version}</h3>
                                        <p class="error" data-testid="event-upcast">{why}</p>
                                    }.into_any(),
                                })}
                                <h3>"Metadata"</h3>
                                <pre>{row.metadata.clone()}</pre>
                            }
                                .into_any()
                        }
                    }}
                </aside>
            </div>
            <TimeTravel />
        </main>
        </Show>
    }
}

#[component]
fn Overview(
    page: LogPage,
    retried: RwSignal<Option<Result<Position, String>>>,
    unparked: RwSignal<Option<Result<WebhookAction, String>>>,
) -> impl IntoView {
    let retry = move |position: Position| {
        spawn_local(async move {
            let outcome = retry_parked_event(position).await.map(|()| position);
            retried.set(Some(outcome.map_err(|e| e.to_string())));
        });
    };
    let unpark = move |space: SpaceId, webhook_id: String, action: WebhookAction| {
        spawn_local(async move {
            let outcome = act_on_webhook(space, webhook_id, action).await;
            unparked.set(Some(outcome.map(|()| action).map_err(|e| e.to_string())));
        });
    };
    let peak = page.per_second.iter().copied().max().unwrap_or(0).max(1);
    let bars = page
        .per_second
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let h = f64::from(*n) / f64::from(peak) * 40.0;
            view! { <rect x=i * 5 y=40.0 - h width="4" height=h><title>{format!("{n} events")}</title></rect> }
        })
        .collect_view();
    let total: u32 = page.per_second.iter().sum();
    view! {
        <section class="inspector-overview">
            <div class="stat">
                <span class="label">"Head"</span>
                <span data-testid="head">{page.head.0}</span>
            </div>
            <div class="stat">
                <span class="label">"Last minute"</span>
                <span>{total} " events"</span>
                <svg class="chart" viewBox="0 0 300 40" width="300" height="40" role="img" aria-label="Events per second">
                    {bars}
                </svg>
            </div>
            <table class="subscribers" data-testid="subscribers">
                <tbody>
                    {page
                        .subscribers
                        .into_iter()
                        .map(|s| {
                            // A parked event of the read models can be folded again after a fix;
                            // a parked webhook can try its event again or skip it.
                            let event = s.parked && s.name.starts_with("read models");
                            let position = s.position;
                            let webhook = s.webhook.clone().filter(|_| s.parked);
                            view! {
                                <tr data-testid="subscriber">
                                    <td>{s.name}</td>
                                    <td>"at " {s.position.0}</td>
                                    <td data-testid="subscriber-lag">{s.lag} " behind"</td>
                                    <td>
                                        {s.parked.then_some("parked")}
                                        {event
                                            .then(|| {
                                                view! {
                                                    <button
                                                        type="button"
                                                        class="secondary"
                                                        data-testid="retry-parked"
                                                        on:click=move |_| retry(position)
                                                    >
                                                        "Retry"
                                                    </button>
                                                }
                                            })}
                                        {webhook
                                            .map(|(space, id)| {
                                                let skip_id = id.clone();
                                                view! {
                                                    <button
                                                        type="button"
                                                        class="secondary"
                                                        data-testid="webhook-retry"
                                                        on:click=move |_| unpark(space, id.clone(), WebhookAction::Retry)
                                                    >
                                                        "Retry"
                                                    </button>
                                                    <button
                                                        type="button"
                                                        class="secondary"
                                                        data-testid="webhook-skip"
                                                        on:click=move |_| unpark(space, skip_id.clone(), WebhookAction::Skip)
                                                    >
                                                        "Skip"
                                                    </button>
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            {move || {
                retried
                    .get()
                    .map(|outcome| match outcome {
                        Ok(position) => {
                            view! {
                                <p class="hint" data-testid="retry-result">
                                    "Event " {position.0} " folded; it is no longer parked."
                                </p>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="error" role="alert" data-testid="retry-result">{e}</p> }.into_any(),
                    })
            }}
            {move || {
                unparked
                    .get()
                    .map(|outcome| match outcome {
                        Ok(action) => {
                            let done = match action {
                                WebhookAction::Skip => "Webhook skipped its stuck event; it delivers again.",
                                _ => "Webhook out of the dead letter; it tries its event again.",
                            };
                            view! { <p class="hint" data-testid="webhook-result">{done}</p> }.into_any()
                        }
                        Err(e) => view! { <p class="error" role="alert" data-testid="webhook-result">{e}</p> }.into_any(),
                    })
            }}
        </section>
    }
}

/// A channel as it was at a position: its stream folded up to there.
#[component]
fn TimeTravel() -> impl IntoView {
    let channel = RwSignal::new(ChannelId::GENERAL.to_string());
    let position = RwSignal::new(String::new());
    let shown = RwSignal::new(None::<Result<Vec<MessageView>, String>>);
    let go = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let parsed = (
            channel.get_untracked().trim().parse::<ChannelId>(),
            position.get_untracked().trim().parse::<u64>(),
        );
        let (Ok(channel), Ok(at)) = parsed else {
            shown.set(Some(Err("a channel id and a position, please".into())));
            return;
        };
        spawn_local(async move {
            shown.set(Some(channel_at(channel, Position(at)).await.map_err(|e| e.to_string())));
        });
    };
    view! {
        <section class="time-travel">
            <h2>"A channel as it was"</h2>
            <form on:submit=go>
                <input
                    aria-label="Channel id"
                    data-testid="travel-channel"
                    prop:value=move || channel.get()
                    on:input=move |ev| channel.set(event_target_value(&ev))
                />
                <input
                    aria-label="Position"
                    placeholder="position"
                    data-testid="travel-position"
                    prop:value=move || position.get()
                    on:input=move |ev| position.set(event_target_value(&ev))
                />
                <button type="submit" data-testid="travel-go">
                    "Show"
                </button>
            </form>
            {move || match shown.get() {
                None => ().into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Some(Ok(messages)) => {
                    view! {
                        <ol class="travel-messages" data-testid="travel-messages">
                            {messages
                                .into_iter()
                                .map(|m| {
                                    let text = if m.deleted { "(deleted)".to_owned() } else { m.body.clone() };
                                    view! {
                                        <li data-testid="travel-message">
                                            <b>{m.author.clone()}</b>
                                            " "
                                            {text}
                                            {m.edited.then_some(" (edited)")}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ol>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}
