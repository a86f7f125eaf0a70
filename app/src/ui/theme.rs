//! The theme choice in the account menu: System, Light or Dark, applied to the page at once and kept in a cookie, so the server paints the next visit in it.

use leptos::prelude::*;
use parley::theme::Theme;

#[component]
pub fn ThemeChoice() -> impl IntoView {
    let current = RwSignal::new(Theme::default());
    // The page's own mark, as the server rendered it (after hydration: the same in both).
    Effect::new(move |_| current.set(on_page()));
    view! {
        <div class="theme-choice" role="group" aria-label="Theme">
            <span class="theme-label">"Theme"</span>
            {Theme::ALL
                .into_iter()
                .map(|theme| {
                    view! {
                        <button
                            role="menuitemradio"
                            data-testid=format!("theme-{}", theme.as_str())
                            aria-checked=move || (current.get() == theme).to_string()
                            on:click=move |_| {
                                apply(theme);
                                current.set(theme);
                            }
                        >
                            {theme.label()}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// Marks the page with the kept theme, where the server did not (the client-only build,
/// or a page the service worker kept from before the choice).
pub fn restore() {
    #[cfg(feature = "browser")]
    {
        use wasm_bindgen::JsCast;
        let kept = document()
            .dyn_into::<web_sys::HtmlDocument>()
            .ok()
            .and_then(|html| html.cookie().ok())
            .map(|cookies| Theme::from_cookies(&cookies));
        if let Some(theme) = kept
            && theme != on_page()
        {
            apply(theme);
        }
    }
}

/// The theme the page is in now (its root element's `data-theme`).
fn on_page() -> Theme {
    #[cfg(feature = "browser")]
    {
        document()
            .document_element()
            .and_then(|root| root.get_attribute("data-theme"))
            .map(|value| Theme::parse(&value))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "browser"))]
    Theme::default()
}

/// Marks the page with the theme (the stylesheet follows the mark) and keeps it.
fn apply(theme: Theme) {
    #[cfg(feature = "browser")]
    {
        use wasm_bindgen::JsCast;
        if let Some(root) = document().document_element() {
            let _ = match theme.attribute() {
                Some(value) => root.set_attribute("data-theme", value),
                None => root.remove_attribute("data-theme"),
            };
        }
        if let Ok(html) = document().dyn_into::<web_sys::HtmlDocument>() {
            let _ = html.set_cookie(&theme.set_cookie());
        }
    }
    #[cfg(not(feature = "browser"))]
    let _ = theme;
}
