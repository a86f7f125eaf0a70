//! The client: what talks to the server and to the browser's storage, below the components.

pub mod drafts;
pub mod emoji;
#[cfg(feature = "browser")]
pub(crate) mod link;
#[cfg(feature = "browser")]
pub(crate) mod live;
#[cfg(feature = "browser")]
pub(crate) mod local;
pub mod notify;
pub mod passkey;
pub mod people;
pub mod settings;
pub mod snapshot;
#[cfg(feature = "browser")]
pub(crate) mod sync;

/// A message as the composer sends it (`live::send`).
pub struct Sending {
    pub message_id: parley::MessageId,
    pub author: String,
    pub body: String,
    pub reply_to: Option<parley::MessageId>,
    /// A reply shown in its channel too.
    pub also_in_channel: bool,
    pub files: Vec<crate::ui::upload::OutboxFile>,
}

/// Messages painted from the cache on load.
pub(crate) const CACHED_PAGE: u32 = 200;

/// The script the server's page runs in its head to begin reading the cached history
/// before the WASM arrives (see `LocalStore::open_early`). Only the server renders the
/// page's head, so the WASM build drops it.
pub(crate) const EARLY_READ_JS: &str = include_str!("early.js");

/// What was typed in the channel's message box of the server's page before the app came,
/// and whether Enter was pressed there (`window.parleyTyped`, kept by `early.js`). Taken
/// once.
#[cfg(feature = "browser")]
pub(crate) fn early_typing() -> Option<(String, bool)> {
    use wasm_bindgen::JsValue;
    let window = web_sys::window()?;
    let key = JsValue::from_str("parleyTyped");
    let typed = js_sys::Reflect::get(&window, &key).ok().filter(JsValue::is_object)?;
    let _ = js_sys::Reflect::set(&window, &key, &JsValue::UNDEFINED);
    // No longer waiting: the app has it.
    if let Some(box_) = window.document().and_then(|d| d.get_element_by_id("composer")) {
        let _ = box_.remove_attribute("aria-busy");
    }
    let field = |name: &str| js_sys::Reflect::get(&typed, &JsValue::from_str(name)).ok();
    let text = field("text")?.as_string()?;
    let send = field("send").and_then(|send| send.as_bool()).unwrap_or(false);
    Some((text, send))
}

/// Starts a page drawn for someone signed in: opens the browser's store and reads the
/// cached history of the channel in the address (see [`local::LocalStore::open_early`])
/// while `code` fetches the rest of the app's code (the chat page's piece of the WASM),
/// then calls `render` (hydrate or mount) with whether that code came, once the store has
/// answered, or after [`EARLY_WAIT_MS`] if it has not (a first visit creates the store), so
/// the read goes on while the page hydrates.
#[cfg(feature = "browser")]
pub fn start(code: impl std::future::Future<Output = bool> + 'static, render: impl FnOnce(bool) + 'static) {
    let query = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let (answered, opened) = futures::channel::oneshot::channel();
    local::LocalStore::open_early(parley::ChannelId::in_query(&query), CACHED_PAGE, answered);
    // With the channel's picture on screen (`snapshot`), waiting for the store shows
    // nothing blank: the picture goes and the channel is drawn from the cache in one task.
    let wait = if snapshot::drawn() {
        SNAPSHOT_WAIT_MS
    } else {
        EARLY_WAIT_MS
    };
    wasm_bindgen_futures::spawn_local(async move {
        let waited = gloo_timers::future::TimeoutFuture::new(wait);
        let (came, _) = futures::join!(code, futures::future::select(opened, waited));
        if came {
            snapshot::take_away();
        }
        render(came);
    });
}

/// How long the page waits for the store before it hydrates anyway.
#[cfg(feature = "browser")]
const EARLY_WAIT_MS: u32 = 30;
/// The same, with the channel's picture on screen.
#[cfg(feature = "browser")]
const SNAPSHOT_WAIT_MS: u32 = 1_000;
