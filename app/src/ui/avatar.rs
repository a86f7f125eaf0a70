//! A person's avatar: their picture when they set one, else their initials on the colour drawn from their name (the core's `listing::avatar`).

use leptos::prelude::*;

/// Decorative (`aria-hidden`, no alternative text): the name is always written beside it.
/// `picture` is the id of the person's profile picture, if any.
#[component]
pub fn Avatar(
    #[prop(into)] name: Signal<String>,
    #[prop(into, optional)] picture: Signal<Option<String>>,
) -> impl IntoView {
    let avatar = Memo::new(move |_| parley::listing::avatar(&name.get()));
    let base = crate::server_url().unwrap_or_default().trim_end_matches('/').to_owned();
    move || {
        match picture.get() {
        Some(id) => view! {
            <img class="avatar picture" aria-hidden="true" alt="" data-testid="avatar-picture" src=format!("{base}/avatars/{id}") />
        }
        .into_any(),
        None => view! {
            <span class="avatar" aria-hidden="true" style=move || format!("--hue: {}", avatar.get().hue)>
                {move || avatar.get().initials}
            </span>
        }
        .into_any(),
    }
    }
}
