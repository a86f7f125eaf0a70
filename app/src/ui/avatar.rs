//! A person's avatar: their initials on the colour drawn from their name (the core's `listing::avatar`), until profiles bring pictures.

use leptos::prelude::*;

/// Decorative (`aria-hidden`): the name is always written beside it.
#[component]
pub fn Avatar(#[prop(into)] name: Signal<String>) -> impl IntoView {
    let avatar = Memo::new(move |_| parley::listing::avatar(&name.get()));
    view! {
        <span class="avatar" aria-hidden="true" style=move || format!("--hue: {}", avatar.get().hue)>
            {move || avatar.get().initials}
        </span>
    }
}
