//! Keyboard reach in a message list: the list is one Tab stop whatever its length; ↑/↓ move between messages, ←/→ between one message's buttons, Tab goes on to the composer.

/// Handles a key pressed anywhere inside a message list (`ol.messages`).
pub(crate) fn list_keydown(ev: &leptos::ev::KeyboardEvent) {
    #[cfg(feature = "browser")]
    browser::keydown(ev);
    #[cfg(not(feature = "browser"))]
    let _ = ev;
}

/// Puts the focus in the channel's composer (the skip link's target).
pub(crate) fn focus_composer() {
    #[cfg(feature = "browser")]
    browser::focus_in(
        leptos::prelude::document()
            .query_selector("section.chat")
            .ok()
            .flatten(),
    );
}

#[cfg(feature = "browser")]
mod browser {
    use leptos::prelude::document;
    use wasm_bindgen::JsCast;
    use web_sys::{Element, HtmlElement, NodeList};

    pub(super) fn keydown(ev: &leptos::ev::KeyboardEvent) {
        let Some(list) = ev.current_target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        let Some(active) = document().active_element() else {
            return;
        };
        // Typing (an edit box, the reaction search) keeps its own keys.
        if matches!(active.tag_name().as_str(), "TEXTAREA" | "INPUT" | "SELECT")
            || ev.alt_key()
            || ev.ctrl_key()
            || ev.meta_key()
        {
            return;
        }
        let message = active
            .closest("li.msg")
            .ok()
            .flatten()
            .filter(|m| list.contains(Some(m)));
        match ev.key().as_str() {
            key @ ("ArrowUp" | "ArrowDown") => {
                let Ok(messages) = list.query_selector_all(":scope > li.msg") else {
                    return;
                };
                let Some(last) = messages.length().checked_sub(1) else {
                    return;
                };
                ev.prevent_default();
                let current = message.as_ref().and_then(|m| index_of(&messages, m));
                let next = match (key, current) {
                    (_, None) => last,
                    ("ArrowUp", Some(i)) => i.saturating_sub(1),
                    (_, Some(i)) => (i + 1).min(last),
                };
                focus(messages.item(next));
            }
            key @ ("ArrowLeft" | "ArrowRight") => {
                let Some(message) = message else { return };
                let Ok(controls) = message.query_selector_all("button, a[href]") else {
                    return;
                };
                let count = controls.length();
                if count == 0 {
                    return;
                }
                ev.prevent_default();
                let current = index_of(&controls, &active);
                let next = match (key, current) {
                    ("ArrowRight", None) => 0,
                    ("ArrowRight", Some(i)) => (i + 1) % count,
                    (_, None) => count - 1,
                    (_, Some(i)) => (i + count - 1) % count,
                };
                focus(controls.item(next));
            }
            "Escape" if message.is_some() => {
                ev.prevent_default();
                focus(Some(list.into()));
            }
            // Past the list in one step: to the composer below it.
            "Tab" if !ev.shift_key() && focus_in(list.closest(".chat, .thread").ok().flatten()) => {
                ev.prevent_default();
            }
            "Tab" if !ev.shift_key() => {}
            "Tab" if !active.is_same_node(Some(&list)) => {
                // Back out of a message: to the list, then on as the browser goes.
                ev.prevent_default();
                focus(Some(list.into()));
            }
            _ => {}
        }
    }

    /// Focuses the composer inside `area`; whether there was one.
    pub(super) fn focus_in(area: Option<Element>) -> bool {
        let composer = area.and_then(|a| a.query_selector("form.composer textarea").ok().flatten());
        let found = composer.is_some();
        focus(composer.map(Into::into));
        found
    }

    fn index_of(list: &NodeList, element: &Element) -> Option<u32> {
        (0..list.length()).find(|&i| list.item(i).is_some_and(|n| n.is_same_node(Some(element))))
    }

    fn focus(node: Option<web_sys::Node>) {
        if let Some(el) = node.and_then(|n| n.dyn_into::<HtmlElement>().ok()) {
            let _ = el.focus();
        }
    }
}
