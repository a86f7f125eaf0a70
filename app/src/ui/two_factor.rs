//! Two-factor sign-in in the security dialog: enrolling an authenticator app (QR code, secret, a first code), the recovery codes shown once, and turning it off.

use crate::api::{begin_totp, confirm_totp, disable_totp, second_factor};
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::second_factor::{SecondFactorView, TotpSetup};

/// Where the section stands.
#[derive(Clone, PartialEq)]
enum Step {
    Loading,
    Shown(SecondFactorView),
    Enrolling(TotpSetup),
    /// Just enabled: the recovery codes, this once.
    Codes(Vec<String>),
}

#[component]
pub fn TwoFactorSection() -> impl IntoView {
    let step = RwSignal::new(Step::Loading);
    let error = RwSignal::new(None::<String>);
    let code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let load = move || {
        spawn_local(async move {
            match second_factor().await {
                Ok(view) => step.set(Step::Shown(view)),
                Err(e) => error.set(Some(e.to_string())),
            }
        })
    };
    Effect::new(move |_| load());
    let begin = move |_| {
        busy.set(true);
        spawn_local(async move {
            match begin_totp().await {
                Ok(setup) => {
                    error.set(None);
                    step.set(Step::Enrolling(setup));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        spawn_local(async move {
            match confirm_totp(code.get_untracked()).await {
                Ok(codes) => {
                    error.set(None);
                    code.set(String::new());
                    step.set(Step::Codes(codes));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let turn_off = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        spawn_local(async move {
            match disable_totp(password.get_untracked()).await {
                Ok(()) => {
                    error.set(None);
                    password.set(String::new());
                    load();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let body = move || {
        match step.get() {
        Step::Loading => view! { <p class="hint">"…"</p> }.into_any(),
        Step::Shown(SecondFactorView { enabled: false, passkeys, .. }) => view! {
            <p class="hint" data-testid="totp-state">
                {if passkeys == 0 {
                    "Off: signing in asks for your password only."
                } else {
                    "No authenticator app: signing in with your password asks for one of your passkeys."
                }}
            </p>
            <button class="secondary" data-testid="totp-begin" disabled=move || busy.get() on:click=begin>
                "Set up an authenticator app"
            </button>
        }
        .into_any(),
        Step::Shown(SecondFactorView { recovery_left, .. }) => view! {
            <p class="hint" data-testid="totp-state">
                {format!("On: signing in asks for a code from your app. {recovery_left} recovery codes left.")}
            </p>
            <form class="inline-form" on:submit=turn_off>
                <label>
                    "Password, to turn it off"
                    <input
                        type="password"
                        required
                        autocomplete="current-password"
                        maxlength="256"
                        data-testid="totp-off-password"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))
                    />
                </label>
                <button type="submit" class="secondary" data-testid="totp-disable" disabled=move || busy.get()>
                    "Turn off"
                </button>
            </form>
        }
        .into_any(),
        Step::Enrolling(setup) => view! {
            <p class="hint">
                "Scan this with your authenticator app (or type the key in), then enter the code it shows."
            </p>
            <img
                class="totp-qr"
                data-testid="totp-qr"
                alt="QR code for your authenticator app"
                width="180"
                height="180"
                src=format!("data:image/png;base64,{}", setup.qr_png_base64)
            />
            <p class="hint">"Key: " <code class="totp-secret" data-testid="totp-secret">{setup.secret.clone()}</code></p>
            <form class="inline-form" on:submit=confirm>
                <label>
                    "Code from the app"
                    <input
                        inputmode="numeric"
                        autocomplete="one-time-code"
                        required
                        maxlength="12"
                        data-testid="totp-code"
                        prop:value=move || code.get()
                        on:input=move |ev| code.set(event_target_value(&ev))
                    />
                </label>
                <button type="submit" data-testid="totp-confirm" disabled=move || busy.get()>
                    "Turn on"
                </button>
            </form>
        }
        .into_any(),
        Step::Codes(codes) => view! {
            <p class="hint" role="status">
                "Two-factor sign-in is on. Keep these recovery codes somewhere safe: each signs you in once without the app. They are shown only now."
            </p>
            <ul class="recovery-codes" data-testid="recovery-codes">
                {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
            </ul>
            <button class="secondary" data-testid="recovery-done" on:click=move |_| load()>
                "I have saved them"
            </button>
        }
        .into_any(),
    }
    };
    view! {
        <section class="two-factor" data-testid="two-factor" aria-labelledby="two-factor-title">
            <h3 id="two-factor-title">"Two-factor sign-in"</h3>
            {body}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}
