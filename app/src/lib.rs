//! Parley's Leptos app: the HTML shell, the routes, and the chat page, in three layers
//! whose dependencies point one way (ui → client → state → api):
//!
//! - [`api`]: server functions (the commands and queries the browser calls) and their
//!   error type; on the server each is the whole door, calling the engine.
//! - [`state`]: what the page's parts share (the chat state, the connection, fetching the
//!   sidebar's data, moving between channels).
//! - `client` (mostly browser only): the socket with its cache-first catch-up and the
//!   outbox ([`client::live`]), IndexedDB ([`client::local`]), notes between tabs
//!   ([`client::sync`]), desktop notifications ([`client::notify`]).
//! - [`ui`]: the components: the chat page, sidebar, search, switcher, unread badges,
//!   dialogs, the event inspector, tokens and webhooks.
// The page's view is one deeply nested type in builds without `erase_components` (release).
#![recursion_limit = "512"]

pub mod api;
pub mod client;
pub mod state;
pub mod ui;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The server a client-only (CSR) build talks to, fixed when it is built from
/// `PARLEY_SERVER_URL` (e.g. `https://chat.example.com`). `None`: the page's own origin.
pub fn server_url() -> Option<&'static str> {
    option_env!("PARLEY_SERVER_URL").filter(|url| !url.is_empty())
}

/// Which build of the site the server serves (a short hash of its files), provided to the
/// pages it renders: a page knows its own build from it, and a socket's greeting tells
/// it when the server has moved on to another one. Empty: unknown (a client-only build).
#[derive(Clone, Debug, Default)]
pub struct SiteVersion(pub std::sync::Arc<str>);

/// The `<meta>` that carries the page's [`SiteVersion`].
pub const SITE_VERSION_META: &str = "parley-version";

/// The module scripts a page runs before its WASM can start: its own (`parley.<hash>.js`)
/// and the one that fetches the WASM's pieces (`__wasm_split.<hash>.js`, which the first
/// imports). Named in the page's head with its nonce, both are fetched at once instead of
/// one after the other (a reload's trace: the loader asked for at 99 ms, 60 ms after the
/// page's script, the WASM waiting for it until 135; and Leptos's own `modulepreload` of
/// the page's script, without a nonce, fetched nothing).
#[derive(Clone, Debug, Default)]
pub struct PageScripts(pub Vec<std::sync::Arc<str>>);

/// The chat's split point in `ui::later`: the site's `pieces.json` lists its files under
/// this name (its own piece, `split_chat_page.<hash>.wasm`, and the chunks it shares).
pub const CHAT_SPLIT: &str = "chat_page";

/// The files of the WASM the chat needs (see [`CHAT_SPLIT`]), those the site has. A page
/// drawn for someone signed in names them in its head, so that they are fetched beside the
/// main module instead of once that has started (and then the chunks only once the chat's
/// loader has asked for them).
#[derive(Clone, Debug, Default)]
pub struct ChatPieces(pub Vec<std::sync::Arc<str>>);

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    send_content_security_policy(&options);
    let version = use_context::<SiteVersion>().unwrap_or_default().0.to_string();
    let pkg = options.site_pkg_dir.trim_matches('/').to_owned();
    let page_scripts = use_context::<PageScripts>()
        .unwrap_or_default()
        .0
        .iter()
        .map(|name| {
            let href = format!("/{pkg}/{name}");
            view! { <link rel="modulepreload" href=href crossorigin="anonymous" nonce=leptos::nonce::use_nonce() /> }
        })
        .collect::<Vec<_>>();
    // Only a page drawn with the chat needs its pieces (`ui::home::chat_drawn`): the sign-in
    // page needs none of them until it has hydrated, the admin page none at all, and on a
    // slow link they would only slow them down.
    let chat_pieces = use_context::<ChatPieces>()
        .filter(|_| ui::home::chat_drawn())
        .unwrap_or_default()
        .0
        .iter()
        .map(|name| {
            let href = format!("/{pkg}/{name}");
            view! { <link rel="preload" href=href r#as="fetch" crossorigin="anonymous" /> }
        })
        .collect::<Vec<_>>();
    view! {
        <!DOCTYPE html>
        <html
            lang="en"
            data-theme=chosen_theme().attribute()
            data-signed-out=ui::auth::visitor_signed_out().then_some("true")
        >
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <meta name=SITE_VERSION_META content=version />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                // Installable: a name, icons, standalone (frontend/public/manifest.webmanifest).
                <link rel="manifest" href="/manifest.webmanifest" />
                <link rel="apple-touch-icon" href="/icon-192.png" />
                <meta name="theme-color" content="#4f46e5" />
                <HashedStylesheet id="leptos" options=options.clone() />
                // Before the page's scripts: the cached history is read while they load.
                <script
                    nonce=leptos::nonce::use_nonce()
                    data-general=parley::ChannelId::GENERAL.to_string()
                    data-limit=client::CACHED_PAGE.to_string()
                    data-me-key=ui::auth::ME_KEY
                    data-snapshot-prefix=client::snapshot::KEY_PREFIX
                    inner_html=client::EARLY_READ_JS
                ></script>
                <AutoReload options=options.clone() />
                {page_scripts}
                {chat_pieces}
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The theme the reader chose (its cookie), so the first frame is painted in it.
fn chosen_theme() -> parley::theme::Theme {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|parts| {
                let cookies = parts.headers.get_all(http::header::COOKIE).iter();
                let cookies: Vec<&str> = cookies.filter_map(|v| v.to_str().ok()).collect();
                parley::theme::Theme::from_cookies(&cookies.join("; "))
            })
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    parley::theme::Theme::default()
}

/// The page's Content-Security-Policy: scripts only from this response's nonce (Leptos
/// puts it on its hydration and streaming scripts) and what those load, WebAssembly
/// compiled, everything else from this origin. Set as a header, so the server's default
/// (which has no `script-src`) does not apply to the app's pages.
#[cfg(feature = "ssr")]
fn send_content_security_policy(options: &LeptosOptions) {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    // `cargo leptos watch` reloads the page over a socket of its own port.
    let reload = std::env::var_os("LEPTOS_WATCH")
        .map(|_| format!(" ws://*:{}", options.reload_port))
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; \
         connect-src 'self'{reload}; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; \
         form-action 'self'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // The server's shell links the (hashed) stylesheet; Trunk's CSR build links its own.
    view! {
        <Title text="Parley" />
        <Router>
            <Routes fallback=|| view! { <p class="not-found">"Page not found."</p> }>
                <Route path=path!("/") view=ui::home::Home />
                <Route path=path!("/admin") view=|| ui::later::later(ui::later::inspector_page) />
            </Routes>
        </Router>
    }
}
