//! The front page: the sign-in page alone for a visitor with no session (all the code a first visit runs), else the chat, whose code comes first.
//!
//! In the split build the chat page is a piece of the WASM of its own (`ui::later`): a
//! visitor with no session downloads, compiles and hydrates the sign-in form and what it
//! needs, and the chat's code comes while they type. A page drawn for someone signed in
//! fetches that piece before it hydrates (`client::start`).

use crate::api::Me;
use crate::ui::auth::{AuthForm, remember, remembered};
use leptos::prelude::*;

/// Whether the page is drawn with the chat: the front page (`/`) for someone signed in (or
/// with a link's secret). Only such a page needs the chat's piece of the WASM before it
/// hydrates (`frontend`'s entry point), and names it in its head (`shell`): the admin page
/// and the sign-in page do not wait for it.
pub fn chat_drawn() -> bool {
    crate::ui::auth::page_path() == "/" && !crate::ui::auth::sign_in_page()
}

/// `/`: the sign-in page the server drew for a visitor with no session, which turns into
/// the chat once someone is signed in (here or in another tab), or the chat itself.
#[component]
pub fn Home() -> impl IntoView {
    // Which page the server drew, so hydrating takes over the same one.
    let chat = RwSignal::new(!crate::ui::auth::sign_in_page());
    // Who signed in on this page: the chat tells the other tabs.
    let signed_in_here = StoredValue::new(None::<String>);
    let open_chat = Callback::new(move |who: Option<String>| {
        leptos::task::spawn_local(async move {
            if crate::ui::later::preload_chat().await.is_err() {
                // Offline with the chat's code never fetched: the server decides again.
                crate::state::reload_page();
                return;
            }
            signed_in_here.set_value(who);
            chat.set(true);
        });
    });
    move || {
        if chat.get() {
            crate::ui::later::chat_page_now(signed_in_here.get_value())
        } else {
            view! { <SignInPage open_chat /> }.into_any()
        }
    }
}

/// The sign-in form on a page of its own, for a visitor with no session.
#[component]
fn SignInPage(open_chat: Callback<Option<String>>) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| {
        hydrated.set(true);
        // A browser that remembers a user (the service worker's copy of the page from
        // before signing in, or a session cookie the browser lost): the chat decides, as
        // on any page (the form is hidden until then, see `client/early.js`).
        // (The chat's code is already on its way: the page's entry point asked for it.)
        if remembered().is_some() {
            open_chat.run(None);
        }
    });
    // Tab stays inside the form, as inside any dialog; the kept theme where the page was
    // drawn without it (a copy the service worker kept).
    Effect::new(move |_| crate::ui::dialog::trap_focus());
    Effect::new(move |_| crate::ui::theme::restore());
    // Signed in in another tab of this browser (it remembers the user): this one follows.
    let other_tab = window_event_listener(leptos::ev::storage, move |ev| {
        if ev.key().as_deref() == Some(crate::ui::auth::ME_KEY) && ev.new_value().is_some() {
            open_chat.run(None);
        }
    });
    on_cleanup(move || other_tab.remove());
    // Signed in here, the chat's code not come yet (a slow link): said, and nothing to click.
    let opening = RwSignal::new(false);
    view! {
        <main class="app" data-hydrated=move || hydrated.get().to_string()>
            <Show
                when=move || opening.get()
                fallback=move || {
                    view! {
                        <AuthForm on_signed_in=move |me: Me| {
                            remember(Some(&me));
                            opening.set(true);
                            open_chat.run(Some(me.username));
                        } />
                    }
                }
            >
                <div class="overlay welcome">
                    <p class="dialog loading-part" role="status" data-testid="opening-chat">
                        "Signed in: opening your chat…"
                    </p>
                </div>
            </Show>
        </main>
    }
}
