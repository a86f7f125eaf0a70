//! The email address in the security dialog: set or remove it, and whether it is confirmed (reset links by mail go only to a confirmed one).

use crate::api::{my_email, set_email};
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::api::EmailView;

#[component]
pub fn EmailSection() -> impl IntoView {
    let view_of = RwSignal::new(None::<EmailView>);
    let field = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let show = move |view: EmailView| {
        field.set(view.email.clone().unwrap_or_default());
        view_of.set(Some(view));
    };
    Effect::new(move |_| {
        spawn_local(async move {
            match my_email().await {
                Ok(view) => show(view),
                Err(e) => error.set(Some(e.to_string())),
            }
        })
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        spawn_local(async move {
            match set_email(field.get_untracked()).await {
                Ok(view) => {
                    error.set(None);
                    show(view);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let state = move || {
        view_of.get().map(|view| match (view.mail, view.email, view.verified) {
            (false, _, _) => "This instance does not send mail: if you forget your password, an instance admin makes you a reset link.".to_owned(),
            (true, None, _) => "None yet. With a confirmed address, you can get a reset link by mail if you forget your password.".to_owned(),
            (true, Some(email), false) => format!("Not confirmed yet: open the link we mailed to {email}."),
            (true, Some(email), true) => format!("{email} is confirmed: reset links can go there."),
        })
    };
    let mail = move || view_of.with(|v| v.as_ref().is_some_and(|v| v.mail));
    view! {
        <section class="two-factor email-section" data-testid="email-section" aria-labelledby="email-title">
            <h3 id="email-title">"Email address"</h3>
            <p class="hint" data-testid="email-state">{state}</p>
            <Show when=mail>
                <form class="inline-form" on:submit=save>
                    <label>
                        "Email"
                        <input
                            type="email"
                            autocomplete="email"
                            maxlength="254"
                            data-testid="email-field"
                            prop:value=move || field.get()
                            on:input=move |ev| field.set(event_target_value(&ev))
                        />
                    </label>
                    <button type="submit" class="secondary" data-testid="email-save" disabled=move || busy.get()>
                        "Save"
                    </button>
                </form>
            </Show>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}
