//! Signing in and up: the form, and who this browser remembers being signed in as.

use crate::api::{AppError, Me, begin_passkey_sign_in, finish_passkey_sign_in, sign_in, sign_up};
use leptos::prelude::*;
use parley::{Password, Username};

/// Where it is kept in `localStorage` (the page's head reads it too: `client/early.js`).
pub(crate) const ME_KEY: &str = "parley.me";

/// Who this browser was last signed in as. The session itself is an HttpOnly cookie no
/// script can read; this copy only lets the page open (offline too) without asking first.
pub fn remembered() -> Option<Me> {
    #[cfg(feature = "browser")]
    {
        let storage = web_sys::window()?.local_storage().ok()??;
        let raw = storage.get_item(ME_KEY).ok()??;
        serde_json::from_str(&raw).ok()
    }
    #[cfg(not(feature = "browser"))]
    None
}

/// Remembers (or, with `None`, forgets) who is signed in.
pub fn remember(me: Option<&Me>) {
    #[cfg(feature = "browser")]
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
        // Storage may be full or disabled: then the page asks the server on each load.
        let _ = match me.and_then(|me| serde_json::to_string(me).ok()) {
            Some(json) => storage.set_item(ME_KEY, &json),
            None => storage.remove_item(ME_KEY),
        };
    }
    #[cfg(not(feature = "browser"))]
    let _ = me;
}

/// The `<html>` attribute by which the server tells the page that it was rendered for a
/// visitor with no session (see [`visitor_signed_out`]).
pub const SIGNED_OUT_ATTRIBUTE: &str = "data-signed-out";

/// Whether the page was rendered for a visitor with no session cookie at all (a first
/// visit, or one after signing out): the server then draws the sign-in form in the page,
/// so that it is on screen, and can be typed into, before the WASM has arrived (seconds on
/// a slow link). On the server from the request's cookies; in the browser from the
/// attribute the server put on `<html>` (the cookie is HttpOnly), so that hydrating draws
/// the same. A client-only build has no such attribute: its form comes with its WASM.
pub fn visitor_signed_out() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .is_some_and(|parts| parley_engine::auth::token_from_headers(&parts.headers).is_none())
    }
    #[cfg(all(feature = "browser", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.document_element())
            .and_then(|html| html.get_attribute(SIGNED_OUT_ATTRIBUTE))
            .is_some_and(|value| value == "true")
    }
    #[cfg(not(any(feature = "ssr", feature = "browser")))]
    false
}

/// Whether the front page is the sign-in page alone (`ui::home`): for a visitor with no
/// session (see [`visitor_signed_out`]), unless the address is a password reset or an email
/// confirmation link, which the chat page takes (they sign in, or confirm, and go on
/// there). The server and the hydrating page decide it from the same two things.
pub fn sign_in_page() -> bool {
    visitor_signed_out() && !parley::address::carries_link_secret(&page_query())
}

/// The query of the page's address (with or without its `?`).
fn page_query() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.uri.query().map(str::to_owned))
            .unwrap_or_default()
    }
    #[cfg(all(feature = "browser", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|window| window.location().search().ok())
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "browser")))]
    String::new()
}

/// The path of the page's address (`/`, `/admin`).
pub fn page_path() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|parts| parts.uri.path().to_owned())
            .unwrap_or_default()
    }
    #[cfg(all(feature = "browser", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|window| window.location().pathname().ok())
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "browser")))]
    String::new()
}

/// What was typed into the server-drawn field `id` before the page hydrated (see
/// [`visitor_signed_out`]): hydrating sets each field from its signal, so the signal
/// starts from it. Empty on the server, and where the page has no such field yet.
fn typed_before_hydration(id: &str) -> String {
    #[cfg(feature = "browser")]
    {
        use wasm_bindgen::JsCast;
        let field = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.get_element_by_id(id))
            .and_then(|element| element.dyn_into::<web_sys::HtmlInputElement>().ok());
        if let Some(field) = field {
            return field.value();
        }
    }
    let _ = id;
    String::new()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    SignIn,
    SignUp,
    /// "Forgot your password?": a reset link by mail.
    Forgot,
}

/// The sign-in / sign-up form. Checks what it can before asking the server (the same
/// rules the server applies), and shows the server's answer in place.
#[component]
pub fn AuthForm(on_signed_in: impl Fn(Me) + Clone + Send + Sync + 'static) -> impl IntoView {
    let mode = RwSignal::new(Mode::SignIn);
    let username = RwSignal::new(typed_before_hydration("auth-username"));
    let password = RwSignal::new(typed_before_hydration("auth-password"));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Hydrated: until then (a form the server drew) its buttons are disabled: a click
    // would do nothing, and Enter would send the form to the server as a plain page (its
    // fields have no names: the page would reload with nothing typed).
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    // The password was right and the account wants a code from its authenticator app.
    let asking_code = RwSignal::new(false);
    let code = RwSignal::new(String::new());
    // What "forgot your password?" answered.
    let sent = RwSignal::new(None::<String>);

    // Signed in: what was typed for it is not kept.
    let forget_secrets = move || {
        password.set(String::new());
        code.set(String::new());
    };
    let passkey_signed_in = on_signed_in.clone();
    let submit = move || {
        if busy.get_untracked() {
            return;
        }
        let (name, secret, mode) = (username.get_untracked(), password.get_untracked(), mode.get_untracked());
        let typed = asking_code.get_untracked().then(|| code.get_untracked());
        if mode == Mode::SignUp {
            // Every rule broken at once, one per line: not one, then the next on resubmit.
            let broken: Vec<String> = [
                Username::parse(&name).err().map(|e| e.to_string()),
                Password::parse(&secret).err().map(|e| e.to_string()),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !broken.is_empty() {
                return error.set(Some(broken.join("\n")));
            }
        }
        error.set(None);
        busy.set(true);
        let on_signed_in = on_signed_in.clone();
        leptos::task::spawn_local(async move {
            let result: Result<Me, AppError> = match mode {
                Mode::SignIn => sign_in(name, secret, typed).await,
                Mode::SignUp => sign_up(name, secret).await,
                Mode::Forgot => {
                    match crate::api::request_reset(name).await {
                        Ok(()) => sent.set(Some(
                            "If this account has a confirmed email address, a link to reset its password is on its way. It works for a day."
                                .into(),
                        )),
                        Err(e) => error.set(Some(e.to_string())),
                    }
                    busy.set(false);
                    return;
                }
            };
            busy.set(false);
            match result {
                Ok(me) => {
                    forget_secrets();
                    on_signed_in(me);
                }
                Err(AppError::Invalid(e)) if e == parley::second_factor::SECOND_FACTOR_NEEDED => {
                    asking_code.set(true);
                    focus_code();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let with_passkey = {
        let on_signed_in = passkey_signed_in;
        move |_| {
            if busy.get_untracked() {
                return;
            }
            error.set(None);
            busy.set(true);
            let on_signed_in = on_signed_in.clone();
            leptos::task::spawn_local(async move {
                let result = async {
                    let challenge = begin_passkey_sign_in().await.map_err(|e| e.to_string())?;
                    let answer = crate::client::passkey::get(&challenge.options).await?;
                    finish_passkey_sign_in(challenge.ceremony, answer)
                        .await
                        .map_err(|e| e.to_string())
                }
                .await;
                busy.set(false);
                match result {
                    Ok(me) => {
                        forget_secrets();
                        on_signed_in(me);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    let switch = move |_| {
        mode.update(|m| {
            *m = if *m == Mode::SignIn { Mode::SignUp } else { Mode::SignIn };
        });
        error.set(None);
        asking_code.set(false);
        sent.set(None);
    };
    let forgot = move |_| {
        mode.set(Mode::Forgot);
        error.set(None);
        asking_code.set(false);
        sent.set(None);
    };
    let signing_up = move || mode.get() == Mode::SignUp;
    let forgetting = move || mode.get() == Mode::Forgot;

    view! {
        <div class="overlay welcome">
            <form
                class="dialog"
                data-testid="auth-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    submit();
                }
            >
                <p class="welcome-brand" aria-hidden="true">"Parley"</p>
                <h2>
                    {move || match mode.get() {
                        Mode::SignUp => "Create your account",
                        Mode::SignIn => "Welcome to Parley",
                        Mode::Forgot => "Reset your password",
                    }}
                </h2>
                <p class="hint">
                    "Chat that keeps up: what you send shows at once, waits safely while you are offline, and every tab stays in step."
                </p>
                <label for="auth-username">"Username"</label>
                <input
                    id="auth-username"
                    data-testid="auth-username"
                    autocomplete="username"
                    autocapitalize="none"
                    spellcheck="false"
                    autofocus
                    maxlength="64"
                    prop:value=move || username.get()
                    on:input=move |ev| username.set(event_target_value(&ev))
                />
                <Show when=move || !forgetting()>
                    <label for="auth-password">"Password"</label>
                    <input
                        id="auth-password"
                        data-testid="auth-password"
                        type="password"
                        autocomplete=move || if signing_up() { "new-password" } else { "current-password" }
                        maxlength="300"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))
                    />
                </Show>
                <Show when=forgetting>
                    <p class="hint">"We mail a reset link to the account's confirmed email address, if it has one."</p>
                    {move || sent.get().map(|s| view! { <p class="hint" role="status" data-testid="forgot-note">{s}</p> })}
                </Show>
                <Show when=signing_up>
                    <p class="hint">"3–32 letters, digits, '.', '-' or '_'; a password of 8 characters or more."</p>
                </Show>
                <Show when=move || asking_code.get() && !signing_up()>
                    <p class="hint">"Use your passkey (the button below), or:"</p>
                    <label for="auth-code">"Code from your authenticator app"</label>
                    <input
                        id="auth-code"
                        data-testid="auth-code"
                        autocomplete="one-time-code"
                        autocapitalize="none"
                        spellcheck="false"
                        maxlength="20"
                        aria-describedby="auth-code-hint"
                        prop:value=move || code.get()
                        on:input=move |ev| code.set(event_target_value(&ev))
                    />
                    <p class="hint" id="auth-code-hint">"Or one of your recovery codes, if you do not have the app at hand."</p>
                </Show>
                {move || {
                    error.get().map(|e| view! { <p class="error lines" role="alert" data-testid="auth-error">{e}</p> })
                }}
                <button type="submit" data-testid="auth-submit" disabled=move || busy.get() || !ready.get()>
                    {move || match mode.get() {
                        Mode::SignUp => "Sign up",
                        Mode::SignIn => "Sign in",
                        Mode::Forgot => "Send me a reset link",
                    }}
                </button>
                <Show when=move || mode.get() == Mode::SignIn>
                    <button
                        type="button"
                        class="secondary"
                        data-testid="auth-passkey"
                        disabled=move || busy.get() || !ready.get()
                        on:click=with_passkey.clone()
                    >
                        "Sign in with a passkey"
                    </button>
                </Show>
                <button
                    type="button"
                    class="secondary"
                    data-testid="auth-switch"
                    disabled=move || !ready.get()
                    on:click=switch
                >
                    {move || match mode.get() {
                        Mode::SignUp => "I have an account: sign in",
                        Mode::SignIn => "New here? Create an account",
                        Mode::Forgot => "Back to sign in",
                    }}
                </button>
                <Show when=move || mode.get() == Mode::SignIn>
                    <button type="button" class="link" data-testid="auth-forgot" disabled=move || !ready.get() on:click=forgot>
                        "Forgot your password?"
                    </button>
                </Show>
            </form>
        </div>
    }
}

/// Puts the focus in the code field once it shows.
fn focus_code() {
    #[cfg(feature = "browser")]
    request_animation_frame(|| {
        use wasm_bindgen::JsCast;
        if let Some(field) = document()
            .get_element_by_id("auth-code")
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = field.focus();
        }
    });
}

/// The page a reset link opens: a new password, twice. Used, the link signs this browser
/// in as the account (its other sessions end).
#[component]
pub fn ResetForm(token: String, on_signed_in: impl Fn(Me) + Clone + Send + Sync + 'static) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let new = password.get_untracked();
        if let Err(e) = Password::parse(&new) {
            return error.set(Some(e.to_string()));
        }
        if new != again.get_untracked() {
            return error.set(Some("the two passwords differ".into()));
        }
        busy.set(true);
        let (token, on_signed_in) = (token.clone(), on_signed_in.clone());
        leptos::task::spawn_local(async move {
            match crate::api::reset_password(token, new).await {
                Ok(me) => {
                    error.set(None);
                    on_signed_in(me);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let field = |signal: RwSignal<String>, id: &'static str, label: &'static str| {
        view! {
            <label for=id>{label}</label>
            <input
                id=id
                data-testid=id
                type="password"
                autocomplete="new-password"
                maxlength="300"
                prop:value=move || signal.get()
                on:input=move |ev| signal.set(event_target_value(&ev))
            />
        }
    };
    view! {
        <div class="overlay welcome">
            <form class="dialog" data-testid="reset-form" on:submit=submit>
                <p class="welcome-brand" aria-hidden="true">"Parley"</p>
                <h2>"Choose a new password"</h2>
                <p class="hint">"8 characters or more. Every browser signed in to your account will be signed out."</p>
                {field(password, "reset-password", "New password")}
                {field(again, "reset-again", "New password again")}
                {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="reset-error">{e}</p> })}
                <button type="submit" data-testid="reset-submit" disabled=move || busy.get()>
                    "Set the password and sign in"
                </button>
                <a href="/" class="secondary" rel="external">
                    "Back to sign in"
                </a>
            </form>
        </div>
    }
}
