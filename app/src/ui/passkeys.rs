//! Passkeys in the security dialog: the account's passkeys (when added, when last used), adding one on this device, and removing one — both given the password.

use crate::api::{begin_passkey, finish_passkey, passkeys, remove_passkey};
use crate::state::{format_date, format_full};
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::passkey::{MAX_NAME_CHARS, PasskeyView};

#[component]
pub fn PasskeysSection() -> impl IntoView {
    let list = RwSignal::new(None::<Vec<PasskeyView>>);
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let note = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let load = move || {
        spawn_local(async move {
            match passkeys().await {
                Ok(keys) => list.set(Some(keys)),
                Err(e) => error.set(Some(e.to_string())),
            }
        })
    };
    Effect::new(move |_| load());
    let done = move |result: Result<String, String>| {
        match result {
            Ok(said) => {
                error.set(None);
                note.set(Some(said));
                password.set(String::new());
                name.set(String::new());
                load();
            }
            Err(e) => {
                note.set(None);
                error.set(Some(e));
            }
        }
        busy.set(false);
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let (typed_name, typed_password) = (name.get_untracked(), password.get_untracked());
        spawn_local(async move {
            let result = async {
                let challenge = begin_passkey(typed_password).await.map_err(|e| e.to_string())?;
                let answer = crate::client::passkey::create(&challenge.options).await?;
                let key = finish_passkey(challenge.ceremony, typed_name, answer)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(format!(
                    "Added \u{201c}{}\u{201d}: you can sign in with it now.",
                    key.name
                ))
            }
            .await;
            done(result);
        });
    };
    let remove = move |key: PasskeyView| {
        if busy.get_untracked() {
            return;
        }
        let typed = password.get_untracked();
        if typed.is_empty() {
            note.set(None);
            error.set(Some(format!(
                "enter your password to remove \u{201c}{}\u{201d}",
                key.name
            )));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let result = remove_passkey(key.id, typed)
                .await
                .map(|()| format!("Removed \u{201c}{}\u{201d}.", key.name))
                .map_err(|e| e.to_string());
            done(result);
        });
    };
    let items = move || {
        list.get().map(|keys| {
            if keys.is_empty() {
                return view! { <p class="hint" data-testid="passkey-none">"No passkeys yet."</p> }.into_any();
            }
            view! {
                <ul class="passkeys" data-testid="passkey-list">
                    {keys
                        .into_iter()
                        .map(|key| {
                            let used = key.last_used_ms;
                            let label = format!("Remove the passkey {}", key.name);
                            let name = key.name.clone();
                            view! {
                                <li data-testid="passkey">
                                    <span class="passkey-name">{name}</span>
                                    <span class="hint">
                                        "added "
                                        <time title=format_full(key.created_ms)>{format_date(key.created_ms)}</time>
                                        {match used {
                                            Some(ms) => view! {
                                                ", last used "
                                                <time title=format_full(ms)>{format_date(ms)}</time>
                                            }
                                            .into_any(),
                                            None => ", never used yet".into_any(),
                                        }}
                                    </span>
                                    <button
                                        class="link"
                                        data-testid="passkey-remove"
                                        aria-label=label
                                        disabled=move || busy.get()
                                        on:click=move |_| remove(key.clone())
                                    >
                                        "Remove"
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any()
        })
    };
    view! {
        <section class="passkeys-section" data-testid="passkeys" aria-labelledby="passkeys-title">
            <h3 id="passkeys-title">"Passkeys"</h3>
            <p class="hint">
                "Sign in with this device's fingerprint, face or screen lock instead of your password. Once you have one, signing in with your password asks for it too."
            </p>
            {items}
            <form class="inline-form" on:submit=add>
                <label>
                    "Name"
                    <input
                        data-testid="passkey-name"
                        placeholder="This laptop"
                        maxlength=MAX_NAME_CHARS.to_string()
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Password"
                    <input
                        type="password"
                        autocomplete="current-password"
                        maxlength="256"
                        data-testid="passkey-password"
                        aria-describedby="passkeys-password-hint"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))
                    />
                </label>
                <button type="submit" class="secondary" data-testid="passkey-add" disabled=move || busy.get()>
                    "Add a passkey"
                </button>
            </form>
            <p class="hint" id="passkeys-password-hint">"Your password is asked to add or to remove a passkey."</p>
            <p role="status" class="hint" data-testid="passkey-note">{move || note.get()}</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="passkey-error">{e}</p> })}
        </section>
    }
}
