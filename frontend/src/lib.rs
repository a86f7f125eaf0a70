//! Parley's WASM entry points: `hydrate` for the server-rendered page, `mount` for the CSR build.
// The page's view is one deeply nested type in builds without `erase_components` (release).
#![recursion_limit = "512"]

/// Called by the script cargo-leptos puts in the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    parley_app::client::start(|| leptos::mount::hydrate_body(parley_app::App));
}

/// Renders the whole app in the browser (no server rendering), talking to
/// `PARLEY_SERVER_URL` when it was set at build time.
#[cfg(feature = "csr")]
pub fn mount() {
    console_error_panic_hook::set_once();
    if let Some(url) = parley_app::server_url() {
        leptos::server_fn::client::set_server_url(url);
    }
    parley_app::client::start(|| leptos::mount::mount_to_body(parley_app::App));
}
