//! Keyboard reach: in a message list (one Tab stop whatever its length; ↑/↓ between messages, ←/→ between one message's buttons, Tab on to the composer), and moving the focus along a row or a menu.

/// Handles a key pressed anywhere inside a message list (`ol.messages`).
pub(crate) fn list_keydown(ev: &leptos::ev::KeyboardEvent) {
    #[cfg(feature = "browser")]
    browser::keydown(ev);
    #[cfg(not(feature = "browser"))]
    let _ = ev;
}

/// Moves the focus along the elements of `container` that match `selector`, as `key` says:
/// ↓ or → the next, ↑ or ← the previous (both wrapping round), Home the first, End the
/// last. Whether the key was one of those and there was somewhere to go.
pub(crate) fn step_focus(container: Option<leptos::web_sys::Element>, selector: &str, key: &str) -> bool {
    #[cfg(feature = "browser")]
    return browser::step_focus(container, selector, key);
    #[cfg(not(feature = "browser"))]
    {
        let _ = (container, selector, key);
        false
    }
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
        // Typing (an edit box, the reaction search) keeps its own keys, and so does the
        // emoji picker (its arrows move between the emoji).
        if matches!(active.tag_name().as_str(), "TEXTAREA" | "INPUT" | "SELECT")
            || active.closest(".emoji-picker").ok().flatten().is_some()
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
            key @ ("ArrowLeft" | "ArrowRight")
                if message.is_some() && super::step_focus(message.clone(), "button, a[href]", key) =>
            {
                ev.prevent_default();
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

    pub(super) fn step_focus(container: Option<Element>, selector: &str, key: &str) -> bool {
        let Some(items) = container.and_then(|c| c.query_selector_all(selector).ok()) else {
            return false;
        };
        let Some(last) = items.length().checked_sub(1) else {
            return false;
        };
        let current = document().active_element().and_then(|a| index_of(&items, &a));
        let next = match (key, current) {
            ("Home", _) => 0,
            ("End", _) => last,
            ("ArrowDown" | "ArrowRight", Some(i)) if i < last => i + 1,
            ("ArrowDown" | "ArrowRight", _) => 0,
            ("ArrowUp" | "ArrowLeft", Some(i)) if i > 0 => i - 1,
            ("ArrowUp" | "ArrowLeft", _) => last,
            _ => return false,
        };
        focus(items.item(next));
        true
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
