//! Parley's WASM entry points: `hydrate` for the server-rendered page, `mount` for the CSR build.
// The page's view is one deeply nested type in builds without `erase_components` (release).
#![recursion_limit = "512"]

/// Called by the script cargo-leptos puts in the server-rendered page. The sign-in page the
/// server draws for a visitor with no session needs nothing but this module: it hydrates at
/// once. A page drawn with the chat first fetches the chat's code (in the split build a
/// piece of its own) while the browser's store opens; the admin page does not wait for it.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    if parley_app::ui::auth::sign_in_page() {
        leptos::mount::hydrate_body(parley_app::App);
        // The chat's code comes while the visitor types: the network has nothing else to do.
        leptos::task::spawn_local(async {
            let _ = parley_app::ui::later::preload_chat().await;
        });
        return;
    }
    let chat = parley_app::ui::home::chat_drawn();
    let code = async move { !chat || parley_app::ui::later::preload_chat().await.is_ok() };
    parley_app::client::start(code, |came| {
        if came {
            leptos::mount::hydrate_body(parley_app::App);
        } else {
            // The server's page stays as drawn (and inert): say why, and offer to retry.
            leptos::mount::mount_to_body(parley_app::ui::later::missing_chat);
        }
    });
}

/// Renders the whole app in the browser (no server rendering), talking to
/// `PARLEY_SERVER_URL` when it was set at build time.
#[cfg(feature = "csr")]
pub fn mount() {
    console_error_panic_hook::set_once();
    if let Some(url) = parley_app::server_url() {
        leptos::server_fn::client::set_server_url(url);
    }
    parley_app::client::start(async { true }, |_| leptos::mount::mount_to_body(parley_app::App));
}
