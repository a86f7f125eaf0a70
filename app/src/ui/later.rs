//! Parts of the page that load when first needed: the chat, its dialogs and the admin page are pieces of the WASM of their own, fetched the first time a page needs them.
//!
//! In the hydrated build with the `split` feature (`.ci/build`'s) the chat page, the
//! dialogs (one split point for all of them, see `dialogs!`) and each `part!` below are
//! split points (`wasm_split`, which Leptos's `#[lazy]` is built on, here with its
//! `fallible` option): `.ci/build` cuts what only that part reaches out of the main module
//! (`wasm-split-cli`), and calling it fetches that piece once. The main module is what the
//! sign-in page needs (`ui::home`). A piece that cannot be fetched (offline, and never
//! fetched before) is an error shown in place, not a panic, and the next call tries again.
//! On the server, in `cargo leptos watch` and in the client-only (Trunk) build, the same
//! functions are plain functions, and everything is in one module.

use crate::state::ChatState;
use leptos::prelude::*;
use parley::{ChannelId, SpaceId};
use std::future::Future;

/// A part of the page whose code could not be fetched.
#[derive(Clone, Copy, Debug)]
pub struct Missing;

#[cfg(all(feature = "hydrate", feature = "split"))]
impl From<leptos::wasm_split::SplitLoaderError> for Missing {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Missing
    }
}

/// Shows a part whose code may still be on its way: nothing until it has come, then the
/// view (a "Loading…" note only if that takes long enough to notice, see `style/main.css`),
/// or a note that it could not be fetched, with a button that tries again.
///
/// A part is drawn in the browser only, once the page is hydrated: the server renders
/// nothing in its place (the admin page, the one part a page can open on), so hydration
/// never waits for a piece, and no server-drawn field can be typed into before its code
/// has come.
pub fn later<Part, View>(part: Part) -> impl IntoView
where
    Part: Fn() -> View + Send + Sync + 'static,
    View: Future<Output = Result<AnyView, Missing>> + Send + 'static,
{
    let attempt = RwSignal::new(0_u32);
    let in_browser = RwSignal::new(false);
    Effect::new(move |_| in_browser.set(true));
    move || {
        attempt.track();
        if !in_browser.get() {
            return None;
        }
        let view = part();
        Some(view! {
            <Suspense fallback=|| view! { <p class="loading-part" role="status">"Loading…"</p> }>
                {Suspend::new(async move {
                    view.await
                        .unwrap_or_else(|Missing| {
                            view! {
                                <p class="loading-part failed" role="alert" data-testid="part-missing">
                                    "This part of Parley could not be loaded: are you offline? "
                                    <button class="link" on:click=move |_| attempt.update(|n| *n += 1)>
                                        "Try again"
                                    </button>
                                </p>
                            }
                            .into_any()
                        })
                })}
            </Suspense>
        })
    }
}

/// One part: a function from its arguments to its view. In the split build a split point
/// named after it (its own piece of WASM, `split_<name>.wasm`); elsewhere an `async fn`.
macro_rules! part {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$doc])*
        #[cfg(all(feature = "hydrate", feature = "split"))]
        #[leptos::wasm_split::wasm_split($name, wasm_split_path = ::leptos::wasm_split, fallible)]
        pub fn $name($($arg: $ty),*) -> Result<AnyView, Missing> {
            Ok($body.into_any())
        }
        $(#[$doc])*
        #[cfg(not(all(feature = "hydrate", feature = "split")))]
        pub async fn $name($($arg: $ty),*) -> Result<AnyView, Missing> {
            Ok($body.into_any())
        }
    };
}

/// The dialogs opened from the chat, in one piece of their own (`split_dialogs.wasm`),
/// fetched the first time any of them opens: one split point for all of them. With a split
/// point each, beside the chat's, `wasm-split` (which cannot put one split point inside
/// another's piece) cut the code the chat shares with some of them into a chunk for each
/// set of parts that uses it: 181 chunks, each its own fetch before the chat could start.
/// Each dialog is an `async fn` from its arguments to its view; the split point takes
/// which one, with its arguments ([`Opened`]).
macro_rules! dialogs {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block)*) => {
        /// Which dialog opens, with its arguments.
        #[allow(non_camel_case_types)]
        enum Opened {
            $($name { $($arg: $ty),* },)*
        }

        /// The view of the dialog that opens.
        #[cfg(all(feature = "hydrate", feature = "split"))]
        #[leptos::wasm_split::wasm_split(dialogs, wasm_split_path = ::leptos::wasm_split, fallible)]
        fn open_dialog(which: Opened) -> Result<AnyView, Missing> {
            Ok(match which {
                $(Opened::$name { $($arg),* } => $body.into_any(),)*
            })
        }

        /// The view of the dialog that opens.
        #[cfg(not(all(feature = "hydrate", feature = "split")))]
        async fn open_dialog(which: Opened) -> Result<AnyView, Missing> {
            Ok(match which {
                $(Opened::$name { $($arg),* } => $body.into_any(),)*
            })
        }

        $(
            $(#[$doc])*
            pub async fn $name($($arg: $ty),*) -> Result<AnyView, Missing> {
                open_dialog(Opened::$name { $($arg),* }).await
            }
        )*
    };
}

/// The chat page (`ui::home`): in the split build a piece of its own, which a page
/// fetches ([`preload_chat`]) before drawing it ([`chat_page_now`]): a visitor with no
/// session needs none of it. `signed_in`: who just signed in on this page (the chat tells
/// the other tabs). Its name is in [`crate::CHAT_SPLIT`] too.
#[cfg(all(feature = "hydrate", feature = "split"))]
#[leptos::wasm_split::wasm_split(
    chat_page,
    wasm_split_path = ::leptos::wasm_split,
    fallible,
    preload(fetch_chat_page)
)]
fn chat_page(signed_in: Option<String>) -> Result<AnyView, Missing> {
    Ok(view! { <crate::ui::chat::ChatPage signed_in /> }.into_any())
}

/// Fetches the chat page's code, once; an error if it cannot be fetched (offline, and
/// never fetched before). Elsewhere than the split build it is in the one module already.
pub async fn preload_chat() -> Result<(), Missing> {
    #[cfg(all(feature = "hydrate", feature = "split"))]
    fetch_chat_page().await?;
    Ok(())
}

/// The chat page, drawn at once: its code must have come ([`preload_chat`]); if it has
/// not, a note that it could not be fetched, with a button that loads the page again.
pub fn chat_page_now(signed_in: Option<String>) -> AnyView {
    #[cfg(all(feature = "hydrate", feature = "split"))]
    {
        use futures::FutureExt;
        // Loaded, the split function's future is ready at its first poll.
        chat_page(signed_in)
            .now_or_never()
            .and_then(Result::ok)
            .unwrap_or_else(|| missing_chat().into_any())
    }
    #[cfg(not(all(feature = "hydrate", feature = "split")))]
    view! { <crate::ui::chat::ChatPage signed_in /> }.into_any()
}

/// In place of the chat whose code could not be fetched: why, and a button that loads the
/// page again.
pub fn missing_chat() -> impl IntoView {
    view! {
        <p class="loading-part failed" role="alert" data-testid="part-missing">
            "Parley's chat could not be loaded: are you offline? "
            <button class="link" on:click=move |_| crate::state::reload_page()>
                "Try again"
            </button>
        </p>
    }
}

part! {
    /// The event inspector and the accounts panel at `/admin`.
    inspector_page() { view! { <crate::ui::inspector::InspectorPage /> } }
}

dialogs! {
    /// The account menu's API tokens.
    tokens(open: RwSignal<bool>) { view! { <crate::ui::tokens::TokensDialog open /> } }

    /// The account menu's profile: name, status, picture (with its cropper), time zone.
    profile(open: RwSignal<bool>, state: ChatState) { view! { <crate::ui::people::ProfileDialog open state /> } }

    /// The account menu's sessions, password, two-factor sign-in, passkeys, email, deletion.
    security(open: RwSignal<bool>) { view! { <crate::ui::security::SecurityDialog open /> } }

    /// The account menu's export of one's data.
    export(open: RwSignal<bool>) { view! { <crate::ui::export::ExportDialog open /> } }

    /// A space's webhooks, for its admins.
    webhooks(space: SpaceId, open: RwSignal<bool>) { view! { <crate::ui::webhooks::WebhooksDialog space open /> } }

    /// A space's bots and incoming webhooks, for its admins.
    bots(space: SpaceId, channels: Vec<(ChannelId, String)>, open: RwSignal<bool>) {
        view! { <crate::ui::bots::BotsDialog space channels open /> }
    }

    /// The sidebar's dialogs: new and joined spaces, channels, invites, members, settings.
    sidebar_dialog(
        d: crate::ui::spaces::Dialog,
        dialog: RwSignal<Option<crate::ui::spaces::Dialog>>,
        state: ChatState,
    ) {
        view! { <crate::ui::spaces::SidebarDialog d dialog state /> }
    }

    /// The followed threads, from the sidebar.
    threads(state: ChatState, open: RwSignal<bool>) { view! { <crate::ui::threads::ThreadsDialog state open /> } }

    /// The saved messages, from the sidebar.
    saved(state: ChatState, open: RwSignal<bool>) { view! { <crate::ui::saved::SavedDialog state open /> } }

    /// Every emoji, to react with one beyond the quick few.
    emoji_picker(on_pick: Callback<String>, on_close: Callback<()>) {
        view! { <crate::ui::emoji::EmojiPicker on_pick on_close /> }
    }

    /// Someone's card: their profile and the spaces in common.
    person_card(username: String, state: ChatState) { view! { <crate::ui::people::PersonCard username state /> } }
}
