//! A picture of the channel on screen, kept for the next load: the page's head draws it into the message list as soon as the list is parsed, before the WASM has arrived (`early.js`), and the app takes it away in the task that hydrates and draws the channel itself.

// The picture is the list's newest lines as the page last drew them (HTML the app made,
// without ids and test ids, upload previews' `blob:` addresses dropped), kept in
// `localStorage` (read synchronously while the page is parsed; IndexedDB answers too late
// for that). It holds what the IndexedDB cache holds, for the same user, and goes with it
// on signing out or in and on a reset of local data. It is inert: nothing in it can be focused or clicked, and the page's
// content policy runs no script in it.

/// Where a channel's picture is kept: this, then the channel's id.
pub const KEY_PREFIX: &str = "parley.snapshot.";

#[cfg(feature = "browser")]
pub use browser::*;

#[cfg(feature = "browser")]
mod browser {
    use super::KEY_PREFIX;
    use parley::{ChannelId, UserId};
    use serde::{Deserialize, Serialize};
    use wasm_bindgen::JsCast;

    /// At most this many lines (messages, day dividers) of a channel: more than a tall screen shows.
    const MAX_LINES: u32 = 40;
    /// At most this many bytes of HTML per channel (the newest lines that fit).
    const MAX_BYTES: usize = 64 * 1024;
    /// Pictures of at most this many channels; the oldest make room.
    const MAX_CHANNELS: usize = 6;
    /// What marks a drawn picture's lines in the page (set by `early.js`).
    const DRAWN: &str = "[data-snapshot]";

    #[derive(Serialize, Deserialize)]
    struct Picture {
        user: UserId,
        channel: ChannelId,
        /// When it was taken (ms since the epoch).
        at: f64,
        html: String,
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    /// Keeps a picture of `list` (the channel's `ol.messages`) as `user`'s view of `channel`,
    /// if `user` is still the one this browser remembers (a tab closing after another signed
    /// out keeps nothing). An empty channel forgets its picture.
    fn keep(list: &web_sys::Element, channel: ChannelId, user: UserId) {
        let Some(storage) = storage() else { return };
        if FORGOTTEN.with(std::cell::Cell::get) {
            return;
        }
        if crate::ui::auth::remembered().is_none_or(|me| me.user_id != user) {
            return;
        }
        let key = format!("{KEY_PREFIX}{channel}");
        let html = lines(list);
        if html.is_empty() {
            let _ = storage.remove_item(&key);
            return;
        }
        let picture = Picture {
            user,
            channel,
            at: js_sys::Date::now(),
            html,
        };
        let Ok(json) = serde_json::to_string(&picture) else {
            return;
        };
        // Storage full or refused: the next load reads the cache as before.
        if storage.set_item(&key, &json).is_ok() {
            trim(&storage);
        }
    }

    /// The newest lines of the list as HTML, oldest first, within the limits.
    fn lines(list: &web_sys::Element) -> String {
        let Ok(found) = list.query_selector_all(":scope > li:not(.intro):not(.new-divider)") else {
            return String::new();
        };
        let mut kept = Vec::new();
        let mut bytes = 0;
        let count = found.length();
        for i in (count.saturating_sub(MAX_LINES)..count).rev() {
            let Some(line) = found.item(i).and_then(|n| n.clone_node_with_deep(true).ok()) else {
                continue;
            };
            let Ok(line) = line.dyn_into::<web_sys::Element>() else {
                continue;
            };
            strip(&line);
            let html = line.outer_html();
            if bytes + html.len() > MAX_BYTES {
                break;
            }
            bytes += html.len();
            kept.push(html);
        }
        kept.reverse();
        kept.concat()
    }

    /// Takes out of a copied line what must stay unique in the page or dies with it, and
    /// what a picture does not show: the framework's empty markers (about thirty a line)
    /// and the actions that appear on hover. Half the bytes, and a quicker parse.
    fn strip(line: &web_sys::Element) {
        if let Ok(hidden) = line.query_selector_all(".actions") {
            for i in 0..hidden.length() {
                if let Some(hidden) = hidden.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                    hidden.remove();
                }
            }
        }
        drop_comments(line);
        let mut all = vec![line.clone()];
        if let Ok(inner) = line.query_selector_all("[id], [data-testid], [src^='blob:']") {
            all.extend((0..inner.length()).filter_map(|i| inner.item(i)?.dyn_into::<web_sys::Element>().ok()));
        }
        for element in all {
            let _ = element.remove_attribute("id");
            let _ = element.remove_attribute("data-testid");
            if element.get_attribute("src").is_some_and(|src| src.starts_with("blob:")) {
                let _ = element.remove_attribute("src");
            }
        }
    }

    fn drop_comments(node: &web_sys::Node) {
        let mut child = node.first_child();
        while let Some(at) = child {
            child = at.next_sibling();
            if at.node_type() == web_sys::Node::COMMENT_NODE {
                let _ = node.remove_child(&at);
            } else {
                drop_comments(&at);
            }
        }
    }

    /// Keeps the newest `MAX_CHANNELS` pictures (each is read only when there are more).
    fn trim(storage: &web_sys::Storage) {
        let keys = keys(storage);
        if keys.len() <= MAX_CHANNELS {
            return;
        }
        let mut kept: Vec<(f64, String)> = keys
            .into_iter()
            .map(|key| {
                let at = storage
                    .get_item(&key)
                    .ok()
                    .flatten()
                    .and_then(|json| serde_json::from_str::<Picture>(&json).ok())
                    .map_or(0.0, |p| p.at);
                (at, key)
            })
            .collect();
        kept.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, key) in kept.drain(MAX_CHANNELS..) {
            let _ = storage.remove_item(&key);
        }
    }

    fn keys(storage: &web_sys::Storage) -> Vec<String> {
        let count = storage.length().unwrap_or(0);
        (0..count)
            .filter_map(|i| storage.key(i).ok().flatten())
            .filter(|key| key.starts_with(KEY_PREFIX))
            .collect()
    }

    thread_local! {
        /// Set once this page has forgotten the pictures: it keeps none as it goes (it is
        /// about to reload, signed out or reset, and its lines are what was forgotten).
        static FORGOTTEN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Forgets every picture (signing out or in, the account gone, local data reset), and
    /// keeps none from this page from now on.
    pub fn forget_all() {
        FORGOTTEN.with(|f| f.set(true));
        if let Some(storage) = storage() {
            for key in keys(&storage) {
                let _ = storage.remove_item(&key);
            }
        }
    }

    /// Whether the page's head drew a picture (still on screen).
    pub fn drawn() -> bool {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(DRAWN).ok().flatten())
            .is_some()
    }

    /// Takes the drawn picture away, leaving the page as the server sent it: called just
    /// before hydrating, in the task that then draws the channel from the cache.
    pub fn take_away() {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        if let Ok(drawn) = document.query_selector_all(DRAWN) {
            for i in 0..drawn.length() {
                if let Some(line) = drawn.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                    line.remove();
                }
            }
        }
    }

    /// Keeps a picture of the channel on screen whenever the page is hidden: switching
    /// away, and leaving or reloading it too (the last event a page is sure to get; `pagehide`
    /// comes after it, and a second picture there would only delay the next page).
    pub fn keep_on_leaving(state: crate::state::ChatState) {
        use leptos::prelude::{GetUntracked, window_event_listener_untyped};
        // For the page's life: the handle is never removed.
        let _ = window_event_listener_untyped("visibilitychange", move |_| {
            if !crate::client::live::page_hidden() {
                return;
            }
            let Some(me) = state.me.get_untracked() else { return };
            let list = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector("ol.messages").ok().flatten());
            if let Some(list) = list {
                keep(&list, state.channel.get_untracked(), me.user_id);
            }
        });
    }
}
