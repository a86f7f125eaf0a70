//! The account menu in the header: who is signed in, and what they do with their account and this browser (profile, sessions and password, tokens, the event log, local data, signing out).

use crate::state::ChatState;
use crate::ui::keys::step_focus;
use crate::ui::later::later;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The menu's items, as the arrow keys walk them.
const MENU_ITEM: &str = "[role=menuitem], [role=menuitemradio]";

/// A button with the signed-in name that opens the menu. Keyboard: Enter or ↓ opens it on
/// its first item, ↑/↓ move, Escape closes it and gives the focus back to the button.
#[component]
pub fn AccountMenu(state: ChatState) -> impl IntoView {
    let open = RwSignal::new(false);
    let tokens = RwSignal::new(false);
    let security = RwSignal::new(false);
    let export = RwSignal::new(false);
    let profile = RwSignal::new(false);
    let admin = RwSignal::new(false);
    let button = NodeRef::<html::Button>::new();
    let menu = NodeRef::<html::Div>::new();
    Effect::new(move |_| {
        if state.me.with(Option::is_some) {
            spawn_local(async move {
                admin.set(crate::api::am_admin().await.unwrap_or(false));
            });
        }
    });
    let username = move || {
        state
            .me
            .with(|me| me.as_ref().map(|me| me.username.clone()).unwrap_or_default())
    };
    // The display name once the profile is known (the username until then).
    let name = move || state.name_of(&username());
    let close = move |refocus: bool| {
        open.set(false);
        if refocus && let Some(button) = button.get_untracked() {
            let _ = button.focus();
        }
    };
    // Opened: the focus goes to the first item. A click anywhere else closes it.
    Effect::new(move |_| {
        if open.get() {
            request_animation_frame(move || {
                step_focus(menu.get_untracked().map(Into::into), MENU_ITEM, "Home");
            });
        }
    });
    let outside = window_event_listener(leptos::ev::pointerdown, move |ev| {
        if !open.get_untracked() {
            return;
        }
        #[cfg(feature = "browser")]
        {
            use wasm_bindgen::JsCast;
            let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
            let inside =
                |node: Option<web_sys::Element>| node.zip(target.as_ref()).is_some_and(|(el, t)| el.contains(Some(t)));
            if !inside(menu.get_untracked().map(Into::into)) && !inside(button.get_untracked().map(Into::into)) {
                open.set(false);
            }
        }
        #[cfg(not(feature = "browser"))]
        let _ = ev;
    });
    on_cleanup(move || outside.remove());
    // An item that closes the menu and opens one of the account's dialogs.
    let opens = move |dialog: RwSignal<bool>, testid: &'static str, label: &'static str, hint: &'static str| {
        view! {
            <button role="menuitem" data-testid=testid on:click=move |_| {
                close(false);
                dialog.set(true);
            }>
                {label}
                <small>{hint}</small>
            </button>
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            close(true);
        }
        key @ ("ArrowDown" | "ArrowUp" | "Home" | "End") => {
            ev.prevent_default();
            step_focus(menu.get_untracked().map(Into::into), MENU_ITEM, key);
        }
        "Tab" => open.set(false),
        _ => {}
    };
    view! {
        <div class="account">
            <button
                class="account-button"
                node_ref=button
                data-testid="account"
                aria-haspopup="menu"
                aria-expanded=move || open.get().to_string()
                title="Your account"
                on:click=move |_| open.update(|o| *o = !*o)
                on:keydown=move |ev| {
                    if ev.key() == "ArrowDown" {
                        ev.prevent_default();
                        open.set(true);
                    }
                }
            >
                <crate::ui::avatar::Avatar
                    name=Signal::derive(name)
                    picture=Signal::derive(move || state.picture_of(&username()))
                />
                <span class="me" data-testid="me">{name}</span>
            </button>
            <Show when=move || open.get()>
                <div class="menu" node_ref=menu data-testid="account-menu" on:keydown=on_key>
                    <p class="menu-note">"Signed in as " <strong>{username}</strong></p>
                    <div role="menu" aria-label="Account">
                    {opens(profile, "profile", "Profile", "your display name, status, picture and time zone")}
                    {opens(security, "security", "Sessions and password", "where you are signed in; a new password; deleting the account")}
                    {opens(tokens, "tokens", "API tokens", "for bots and integrations")}
                    {opens(export, "export", "Export my data", "a zip archive of your messages, reactions and files")}
                    <Show when=move || admin.get()>
                        <a role="menuitem" href="/admin" data-testid="inspector-link" rel="external">
                            "Admin"
                            <small>"the event log and the accounts"</small>
                        </a>
                    </Show>
                    <crate::ui::theme::ThemeChoice />
                    <hr />
                    <button role="menuitem" data-testid="reset" on:click=move |_| {
                        close(false);
                        reset_local_data();
                    }>
                        "Reset local data"
                        <small>"forget this browser's cache and unsent messages"</small>
                    </button>
                    <button role="menuitem" class="danger" data-testid="sign-out" on:click=move |_| {
                        close(false);
                        sign_out();
                    }>
                        "Sign out"
                        <small>"in every tab of this browser"</small>
                    </button>
                    </div>
                </div>
            </Show>
            <Show when=move || tokens.get()>
                {later(move || crate::ui::later::tokens(tokens))}
            </Show>
            <Show when=move || profile.get()>
                {later(move || crate::ui::later::profile(profile, state))}
            </Show>
            <Show when=move || security.get()>
                {later(move || crate::ui::later::security(security))}
            </Show>
            <Show when=move || export.get()>
                {later(move || crate::ui::later::export(export))}
            </Show>
        </div>
    }
}

fn reset_local_data() {
    #[cfg(feature = "browser")]
    crate::client::live::reset();
}

fn sign_out() {
    #[cfg(feature = "browser")]
    crate::client::live::sign_out();
}
