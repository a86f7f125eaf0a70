//! The sessions and password dialog: where the account is signed in (sign one out, or all the others), a password change, the email address, two-factor sign-in, passkeys, and deleting the account.

use crate::api::{SessionView, change_password, delete_account, end_session, my_sessions, sign_out_others};
use crate::state::{format_date, format_full};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The dialog, opened from the account menu.
#[component]
pub fn SecurityDialog(open: RwSignal<bool>) -> impl IntoView {
    let sessions = RwSignal::new(Vec::<SessionView>::new());
    let note = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let reload = move || {
        spawn_local(async move {
            match my_sessions().await {
                Ok(list) => sessions.set(list),
                Err(e) => error.set(Some(e.to_string())),
            }
        })
    };
    reload();
    crate::ui::dialog::close_on_escape(open);
    crate::ui::dialog::focus_in_and_back();
    let end = move |id: String| {
        spawn_local(async move {
            match end_session(id).await {
                Ok(()) => note.set(Some("Signed out that session".into())),
                Err(e) => error.set(Some(e.to_string())),
            }
            reload();
        });
    };
    let end_others = move |_| {
        spawn_local(async move {
            match sign_out_others().await {
                Ok(n) => note.set(Some(signed_out(n))),
                Err(e) => error.set(Some(e.to_string())),
            }
            reload();
        });
    };
    let others = move || sessions.with(|list| list.iter().any(|s| !s.current));
    view! {
        <div class="overlay">
            <div class="dialog security-dialog" data-testid="security-dialog" role="dialog" aria-labelledby="security-title">
                <h2 id="security-title">"Sessions and password"</h2>
                <h3>"Where you are signed in"</h3>
                <ul class="sessions" data-testid="session-list">
                    <For
                        each=move || sessions.get()
                        key=|s: &SessionView| (s.session_id.clone(), s.last_seen_ms)
                        let:session
                    >
                        <SessionItem session end />
                    </For>
                </ul>
                <p role="status" class="hint" data-testid="security-note">{move || note.get()}</p>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button class="secondary" data-testid="sign-out-others" disabled=move || !others() on:click=end_others>
                    "Sign out all other sessions"
                </button>
                <PasswordForm note error reload />
                <crate::ui::email::EmailSection />
                <crate::ui::two_factor::TwoFactorSection />
                <crate::ui::passkeys::PasskeysSection />
                <DeleteAccountForm />
                <button class="secondary" on:click=move |_| open.set(false)>
                    "Close"
                </button>
            </div>
        </div>
    }
}

/// One session: its browser and system, when it signed in and was last active, and a
/// button to end it (not on the current one: "Sign out" in the menu does that).
#[component]
fn SessionItem(session: SessionView, end: impl Fn(String) + Copy + Send + Sync + 'static) -> impl IntoView {
    let id = session.session_id.clone();
    let current = session.current;
    view! {
        <li data-testid="session" data-current=current.to_string()>
            <span class="session-device">
                {session.device.clone()}
                {current.then(|| view! { <span class="badge">"this browser"</span> })}
            </span>
            <span class="hint">
                "signed in "
                <time title=format_full(session.created_at_ms)>{format_date(session.created_at_ms)}</time>
                ", active "
                <time title=format_full(session.last_seen_ms)>{format_date(session.last_seen_ms)}</time>
            </span>
            {(!current)
                .then(|| {
                    let label = format!("Sign out {}", session.device);
                    view! {
                        <button class="link" data-testid="end-session" aria-label=label on:click=move |_| end(id.clone())>
                            "Sign out"
                        </button>
                    }
                })}
        </li>
    }
}

/// The current password, the new one twice, and whether the other sessions stay signed in.
#[component]
fn PasswordForm(
    note: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let keep = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if new.get_untracked() != again.get_untracked() {
            error.set(Some("the new password and its repetition differ".into()));
            return;
        }
        busy.set(true);
        let (old, fresh, keep_others) = (current.get_untracked(), new.get_untracked(), keep.get_untracked());
        spawn_local(async move {
            match change_password(old, fresh, keep_others).await {
                Ok(ended) => {
                    error.set(None);
                    let mut said = "Password changed".to_owned();
                    if ended > 0 {
                        said = format!("{said}. {}", signed_out(ended));
                    }
                    note.set(Some(said));
                    for field in [current, new, again] {
                        field.set(String::new());
                    }
                    reload();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let field = |signal: RwSignal<String>, label: &'static str, testid: &'static str, autocomplete: &'static str| {
        view! {
            <label>
                {label}
                <input
                    type="password"
                    required
                    data-testid=testid
                    autocomplete=autocomplete
                    maxlength="256"
                    prop:value=move || signal.get()
                    on:input=move |ev| signal.set(event_target_value(&ev))
                />
            </label>
        }
    };
    view! {
        <form class="password-form" data-testid="password-form" on:submit=submit>
            <h3>"Change password"</h3>
            {field(current, "Current password", "current-password", "current-password")}
            {field(new, "New password (8 characters or more)", "new-password", "new-password")}
            {field(again, "New password again", "repeat-password", "new-password")}
            <label class="check">
                <input
                    type="checkbox"
                    data-testid="keep-sessions"
                    prop:checked=move || keep.get()
                    on:change=move |ev| keep.set(event_target_checked(&ev))
                />
                "Keep my other sessions signed in"
            </label>
            <button type="submit" data-testid="change-password" disabled=move || busy.get()>
                "Change password"
            </button>
        </form>
    }
}

/// Deleting the account: the password, whether the messages go too, and a second click
/// to confirm (the first one says what will happen).
#[component]
fn DeleteAccountForm() -> impl IntoView {
    let password = RwSignal::new(String::new());
    let messages = RwSignal::new(false);
    let armed = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !armed.get_untracked() {
            armed.set(true);
            return;
        }
        busy.set(true);
        let (given, erase) = (password.get_untracked(), messages.get_untracked());
        spawn_local(async move {
            match delete_account(given, erase).await {
                Ok(()) => {
                    #[cfg(feature = "browser")]
                    crate::client::live::signed_out_here();
                }
                Err(e) => {
                    error.set(Some(e.to_string()));
                    armed.set(false);
                    busy.set(false);
                }
            }
        });
    };
    view! {
        <form class="delete-account" data-testid="delete-account-form" on:submit=submit>
            <h3>"Delete account"</h3>
            <p class="hint">
                "Your name, profile and picture are removed everywhere, your sessions end, and nobody can sign up with your username again. "
                "Your messages stay in their conversations as a deleted user's, unless you erase them too."
            </p>
            <label>
                "Password"
                <input
                    type="password"
                    required
                    data-testid="delete-password"
                    autocomplete="current-password"
                    maxlength="256"
                    prop:value=move || password.get()
                    on:input=move |ev| {
                        password.set(event_target_value(&ev));
                        armed.set(false);
                    }
                />
            </label>
            <label class="check">
                <input
                    type="checkbox"
                    data-testid="erase-messages"
                    prop:checked=move || messages.get()
                    on:change=move |ev| {
                        messages.set(event_target_checked(&ev));
                        armed.set(false);
                    }
                />
                "Erase my messages too"
            </label>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || {
                armed
                    .get()
                    .then(|| {
                        view! {
                            <p class="error" role="alert" data-testid="delete-warning">
                                "This cannot be undone. Press the button again to delete your account."
                            </p>
                        }
                    })
            }}
            <button type="submit" class="danger" data-testid="delete-account" disabled=move || busy.get()>
                {move || if armed.get() { "Delete my account for good" } else { "Delete account…" }}
            </button>
        </form>
    }
}

fn signed_out(n: u64) -> String {
    match n {
        0 => "No other sessions".to_owned(),
        1 => "Signed out 1 other session".to_owned(),
        n => format!("Signed out {n} other sessions"),
    }
}
