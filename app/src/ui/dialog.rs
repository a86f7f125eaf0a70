//! What the dialogs share: a one-field form that shows the server's refusal in place, closing on Escape, keeping Tab inside the open dialog, giving the focus back to what opened it, and selecting a field's text (a secret to copy) on focus.

use crate::api::AppError;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Selects the whole text of the focused field (a secret or a link to copy).
pub(crate) fn select_all(ev: &leptos::ev::FocusEvent) {
    #[cfg(feature = "browser")]
    {
        use wasm_bindgen::JsCast;
        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
            input.select();
        }
    }
    #[cfg(not(feature = "browser"))]
    let _ = ev;
}

/// Closes a dialog on Escape wherever the focus is (a row removed from the dialog takes its
/// focused button with it), for as long as the calling component lives.
pub(crate) fn close_on_escape(open: RwSignal<bool>) {
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            open.set(false);
        }
    });
    on_cleanup(move || escape.remove());
}

/// Keeps Tab and Shift+Tab inside the open dialog (the last `.overlay` on the page) for as
/// long as the calling component lives: the focus never wanders to the page behind it.
/// Every dialog is drawn in an `.overlay`, so one listener serves them all. It also keeps
/// where the focus last was outside any dialog, for [`focus_in_and_back`].
pub(crate) fn trap_focus() {
    let listener = window_event_listener(leptos::ev::keydown, move |ev| {
        #[cfg(feature = "browser")]
        keep_tab_inside(&ev);
        #[cfg(not(feature = "browser"))]
        let _ = ev;
    });
    let focus = window_event_listener(leptos::ev::focusin, move |ev| {
        #[cfg(feature = "browser")]
        opener::remember(&ev);
        #[cfg(not(feature = "browser"))]
        let _ = ev;
    });
    on_cleanup(move || {
        listener.remove();
        focus.remove();
    });
}

/// The focus moves into the calling dialog when it opens (unless a field of it took it),
/// and when it closes goes back to what opened it: the button, or, for an item of a menu
/// that closed meanwhile, the menu's own button. Unless the person has put the focus
/// somewhere else by then.
pub(crate) fn focus_in_and_back() {
    #[cfg(feature = "browser")]
    {
        let back = opener::current();
        request_animation_frame(opener::enter_dialog);
        on_cleanup(move || opener::restore(back));
    }
}

#[cfg(feature = "browser")]
mod opener {
    use std::cell::RefCell;
    use wasm_bindgen::JsCast;
    use web_sys::HtmlElement;

    /// What had the focus last outside a dialog, and the menu button it was reached from.
    type Opener = (HtmlElement, Option<HtmlElement>);

    thread_local! {
        static LAST: RefCell<Option<Opener>> = const { RefCell::new(None) };
    }

    pub(super) fn remember(ev: &web_sys::FocusEvent) {
        let Some(el) = ev.target().and_then(|t| t.dyn_into::<HtmlElement>().ok()) else {
            return;
        };
        if el.closest(".overlay").ok().flatten().is_some() {
            return;
        }
        let menu_button = el
            .closest(".account, details")
            .ok()
            .flatten()
            .and_then(|menu| menu.query_selector(".account-button, summary").ok().flatten())
            .and_then(|b| b.dyn_into::<HtmlElement>().ok());
        LAST.with(|last| *last.borrow_mut() = Some((el, menu_button)));
    }

    /// Focuses the open dialog's first control, if the focus is not in it already.
    pub(super) fn enter_dialog() {
        let document = leptos::prelude::document();
        let Some(overlay) = super::open_overlay() else {
            return;
        };
        if document.active_element().is_some_and(|a| overlay.contains(Some(&a))) {
            return;
        }
        let first = overlay
            .query_selector("input:not([disabled]), textarea:not([disabled]), select, button:not([disabled]), a[href]")
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<HtmlElement>().ok());
        if let Some(first) = first {
            let _ = first.focus();
        }
    }

    pub(super) fn current() -> Option<Opener> {
        LAST.with(|last| last.borrow().clone())
    }

    pub(super) fn restore(back: Option<Opener>) {
        let Some((el, menu_button)) = back else {
            return;
        };
        // After the dialog has left the page (the cleanup runs before).
        leptos::prelude::request_animation_frame(move || {
            let document = leptos::prelude::document();
            let idle = document
                .active_element()
                .is_none_or(|a| document.body().is_some_and(|b| a.is_same_node(Some(&b))));
            if !idle {
                return;
            }
            // The first that takes the focus: an item of a menu that closed meanwhile is
            // gone or hidden, and does not.
            for target in [Some(el), menu_button].into_iter().flatten() {
                let _ = target.focus();
                if document.active_element().is_some_and(|a| a.is_same_node(Some(&target))) {
                    break;
                }
            }
        });
    }
}

/// The dialog on top (every dialog is drawn in an `.overlay`; the last one is on top).
#[cfg(feature = "browser")]
fn open_overlay() -> Option<web_sys::Element> {
    use wasm_bindgen::JsCast;
    document()
        .query_selector_all(".overlay")
        .ok()
        .and_then(|all| all.length().checked_sub(1).and_then(|last| all.item(last)))
        .and_then(|node| node.dyn_into::<web_sys::Element>().ok())
}

#[cfg(feature = "browser")]
fn keep_tab_inside(ev: &leptos::ev::KeyboardEvent) {
    use wasm_bindgen::JsCast;
    if ev.key() != "Tab" {
        return;
    }
    let Some(overlay) = open_overlay() else {
        return;
    };
    const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]), \
        textarea:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex='-1'])";
    let Ok(list) = overlay.query_selector_all(FOCUSABLE) else {
        return;
    };
    let focusable: Vec<web_sys::HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .filter(|el| el.offset_parent().is_some())
        .collect();
    let (Some(first), Some(last)) = (focusable.first(), focusable.last()) else {
        ev.prevent_default();
        return;
    };
    let active = document().active_element();
    let inside = active.as_ref().is_some_and(|a| overlay.contains(Some(a)));
    let at = |el: &web_sys::HtmlElement| active.as_ref().is_some_and(|a| a.is_same_node(Some(el)));
    let target = match (inside, ev.shift_key()) {
        (false, false) => Some(first),
        (false, true) => Some(last),
        (true, true) if at(first) => Some(last),
        (true, false) if at(last) => Some(first),
        _ => None,
    };
    if let Some(target) = target {
        ev.prevent_default();
        let _ = target.focus();
    }
}

/// A one-field form (a name), checked in place, that shows the server's refusal in place.
#[component]
pub(crate) fn NameForm<F, Fut>(
    title: &'static str,
    label: &'static str,
    submit: &'static str,
    check: fn(&str) -> Result<(), String>,
    on_submit: F,
    /// The longest input accepted (names are short; invite links and lists of names are not).
    #[prop(default = 64)]
    max_len: u32,
    close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView
where
    F: Fn(String) -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), AppError>> + 'static,
{
    let value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    view! {
        <form
            class="dialog"
            data-testid="name-form"
            on:submit=move |ev| {
                ev.prevent_default();
                let name = value.get_untracked();
                if let Err(e) = check(&name) {
                    error.set(Some(e));
                    return;
                }
                busy.set(true);
                spawn_local(async move {
                    let result = on_submit(name).await;
                    busy.set(false);
                    match result {
                        Ok(()) => close(),
                        Err(e) => error.set(Some(e.to_string())),
                    }
                });
            }
        >
            <h2>{title}</h2>
            <label for="name-field">{label}</label>
            <input
                id="name-field"
                data-testid="name-field"
                autofocus
                maxlength=max_len
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="name-error">{e}</p> })}
            <button type="submit" data-testid="name-submit" disabled=move || busy.get()>
                {submit}
            </button>
            <button type="button" class="secondary" on:click=move |_| close()>
                "Cancel"
            </button>
        </form>
    }
}

/// Asks the browser's own yes-or-no question (keyboard and screen-reader friendly); no on the server.
pub fn confirm(text: &str) -> bool {
    #[cfg(feature = "browser")]
    {
        web_sys::window()
            .and_then(|w| w.confirm_with_message(text).ok())
            .unwrap_or(false)
    }
    #[cfg(not(feature = "browser"))]
    {
        let _ = text;
        false
    }
}
