//! The API tokens dialog: make a token for a bot (its secret shown once), see when each was last used, revoke.

use crate::api::{TokenView, create_token, my_tokens, revoke_token};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The dialog, opened from the account menu.
#[component]
pub fn TokensDialog(open: RwSignal<bool>) -> impl IntoView {
    let tokens = RwSignal::new(Vec::<TokenView>::new());
    let name = RwSignal::new(String::new());
    let secret = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let reload = move || {
        spawn_local(async move {
            match my_tokens().await {
                Ok(list) => tokens.set(list),
                Err(e) => error.set(Some(e.to_string())),
            }
        })
    };
    reload();
    crate::ui::dialog::close_on_escape(open);
    crate::ui::dialog::focus_in_and_back();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let wanted = name.get_untracked();
        spawn_local(async move {
            match create_token(wanted).await {
                Ok(created) => {
                    error.set(None);
                    name.set(String::new());
                    secret.set(Some(created.secret));
                    reload();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let revoke = move |id: String| {
        spawn_local(async move {
            if let Err(e) = revoke_token(id).await {
                error.set(Some(e.to_string()));
            }
            secret.set(None);
            reload();
        });
    };
    view! {
        <div class="overlay">
            <div class="dialog tokens-dialog" data-testid="tokens-dialog" role="dialog" aria-label="API tokens">
                <h2>"API tokens"</h2>
                <p class="hint">
                    "A bot with a token posts and reads as you: "
                    <code>"Authorization: Bearer pt_…"</code>
                    ". See the "
                    <a href="/api/v1/docs" target="_blank" rel="noopener">
                        "REST API"
                    </a>
                    "."
                </p>
                {move || {
                    secret
                        .get()
                        .map(|s| {
                            view! {
                                <div class="secret">
                                    <span>"Copy it now: it will not be shown again."</span>
                                    <input readonly data-testid="token-secret" prop:value=s on:focus=|ev| crate::ui::dialog::select_all(&ev) />
                                </div>
                            }
                        })
                }}
                <form class="token-form" on:submit=create>
                    <input
                        data-testid="token-name"
                        placeholder="What is it for? (e.g. deploy bot)"
                        aria-label="Token name"
                        maxlength="64"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                    <button type="submit" data-testid="token-create">
                        "Create"
                    </button>
                </form>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <ul class="tokens" data-testid="token-list">
                    <For each=move || tokens.get() key=|t: &TokenView| (t.token_id.clone(), t.last_used_at_ms) let:token>
                        {
                            let id = token.token_id.clone();
                            view! {
                                <li data-testid="token">
                                    <span class="token-name">{token.name.clone()}</span>
                                    <span class="hint">
                                        {match token.last_used_at_ms {
                                            Some(_) => "used".to_owned(),
                                            None => "never used".to_owned(),
                                        }}
                                    </span>
                                    <button
                                        class="link"
                                        data-testid="token-revoke"
                                        on:click=move |_| revoke(id.clone())
                                    >
                                        "Revoke"
                                    </button>
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
