//! Desktop notifications: whether the browser allows them, asking once, and showing one for a message.

#[cfg(feature = "browser")]
use leptos::task::spawn_local;
use parley::ChannelId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Permission {
    Undecided,
    Granted,
    Denied,
}

pub(crate) fn permission() -> Permission {
    #[cfg(feature = "browser")]
    {
        use web_sys::{Notification, NotificationPermission};
        if !js_sys::Reflect::has(&js_sys::global(), &"Notification".into()).unwrap_or(false) {
            return Permission::Denied;
        }
        match Notification::permission() {
            NotificationPermission::Granted => Permission::Granted,
            NotificationPermission::Default => Permission::Undecided,
            _ => Permission::Denied,
        }
    }
    #[cfg(not(feature = "browser"))]
    Permission::Denied
}

pub(crate) fn request_permission() {
    #[cfg(feature = "browser")]
    if let Ok(promise) = web_sys::Notification::request_permission() {
        spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
}

/// Shows a browser notification for a message (the caller decides whether it deserves one);
/// clicking it brings the page forward on that channel. One per channel at a time: a newer
/// one replaces it.
pub fn notify(channel: ChannelId, title: &str, body: &str) {
    if permission() != Permission::Granted {
        return;
    }
    #[cfg(feature = "browser")]
    {
        use wasm_bindgen::JsCast;
        let options = web_sys::NotificationOptions::new();
        let body: String = body.chars().take(200).collect();
        options.set_body(&body);
        options.set_tag(&channel.to_string());
        let Ok(shown) = web_sys::Notification::new_with_options(title, &options) else {
            return;
        };
        let onclick = wasm_bindgen::closure::Closure::once_into_js(move || {
            if let Some(window) = web_sys::window() {
                let _ = window.focus();
            }
            crate::state::open(channel);
        });
        shown.set_onclick(Some(onclick.unchecked_ref()));
    }
    #[cfg(not(feature = "browser"))]
    let _ = (channel, title, body);
}
