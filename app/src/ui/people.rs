//! People: the user card that opens from a name or an avatar (names, status, local time, spaces in common, "Message"), and the dialog where you edit your own profile.

use crate::api::{UserCard, open_direct, person_card, set_profile};
use crate::state::{ChatState, browser_time_zone, time_in};
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::profile::ProfileInput;

/// The card of the person `state.card` names, over the page.
#[component]
pub fn PersonCard(username: String, state: ChatState) -> impl IntoView {
    let open = RwSignal::new(true);
    Effect::new(move |_| {
        if !open.get() {
            state.card.set(None);
        }
    });
    crate::ui::dialog::close_on_escape(open);
    crate::ui::dialog::focus_in_and_back();
    let card = RwSignal::new(None::<Result<UserCard, String>>);
    {
        let username = username.clone();
        spawn_local(async move {
            let answer = person_card(username).await.map_err(|e| e.to_string());
            if let Ok(found) = &answer {
                if found.person.bot {
                    state.bots.update(|bots| {
                        bots.insert(found.person.username.clone());
                    });
                }
                crate::client::people::heard(state, found.person.username.clone(), found.person.profile.clone());
            }
            card.set(Some(answer));
        });
    }
    let mine = state
        .me
        .with_untracked(|me| me.as_ref().is_some_and(|me| me.username == username));
    let body = move || match card.get() {
        None => view! { <p class="hint">"Loading…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        Some(Ok(found)) => view! { <CardBody found state mine open /> }.into_any(),
    };
    view! {
        <div class="overlay">
            <div class="dialog person-card" data-testid="person-card" role="dialog" aria-label=format!("@{username}")>
                {body}
                <button class="secondary" on:click=move |_| open.set(false)>
                    "Close"
                </button>
            </div>
        </div>
    }
}

#[component]
fn CardBody(found: UserCard, state: ChatState, mine: bool, open: RwSignal<bool>) -> impl IntoView {
    let person = found.person;
    let username = person.username.clone();
    let name = Signal::derive({
        let username = username.clone();
        move || state.name_of(&username)
    });
    let status = {
        let username = username.clone();
        move || state.status_of(&username)
    };
    let picture = Signal::derive({
        let username = username.clone();
        move || state.picture_of(&username)
    });
    let local_time = person
        .profile
        .time_zone
        .as_ref()
        .and_then(|zone| time_in(zone.as_str()).map(|time| format!("{time} local time ({})", zone.as_str())));
    let spaces = found.spaces_in_common;
    let message = {
        let username = username.clone();
        move |_| {
            let username = username.clone();
            spawn_local(async move {
                match open_direct(vec![username]).await {
                    Ok(direct) => {
                        let channel = direct.channel_id;
                        state.directs.update(|directs| {
                            if !directs.iter().any(|d| d.channel_id == channel) {
                                directs.push(direct);
                            }
                        });
                        open.set(false);
                        crate::state::go(&crate::state::channel_href(channel));
                    }
                    Err(e) => state.notice.set(Some(e.to_string())),
                }
            });
        }
    };
    view! {
        <div class="card-head">
            <crate::ui::avatar::Avatar name picture />
            <div>
                <h2 data-testid="card-name">{move || name.get()}</h2>
                <p class="hint" data-testid="card-username">{format!("@{username}")}</p>
            </div>
        </div>
        {move || {
            status()
                .map(|s| {
                    let emoji = s.emoji.map(|e| e.to_string()).unwrap_or_default();
                    view! {
                        <p class="card-status" data-testid="card-status">
                            {emoji}
                            " "
                            {s.text}
                        </p>
                    }
                })
        }}
        {local_time.map(|t| view! { <p class="hint" data-testid="card-time">{t}</p> })}
        <p class="hint" data-testid="card-spaces">
            {if spaces.is_empty() {
                "No spaces in common".to_owned()
            } else {
                format!("Spaces in common: {}", spaces.join(", "))
            }}
        </p>
        {if mine {
            view! {
                <p class="hint">"This is you. Edit your profile from the account menu."</p>
            }
                .into_any()
        } else {
            view! {
                <button data-testid="card-message" on:click=message>
                    "Message"
                </button>
            }
                .into_any()
        }}
    }
}

/// A picture chosen in the file picker: opened in the cropper (`cropping` gets its
/// object URL), where its owner chooses the square to keep.
fn pick_picture(ev: leptos::ev::Event, cropping: RwSignal<Option<String>>, note: RwSignal<Option<String>>) {
    #[cfg(feature = "browser")]
    {
        use wasm_bindgen::JsCast;
        let input = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        let file = input.as_ref().and_then(|i| i.files()).and_then(|files| files.get(0));
        let Some(file) = file else { return };
        if let Ok(url) = web_sys::Url::create_object_url_with_blob(&file) {
            note.set(Some("Drag the picture, or use the arrow keys, then save it.".into()));
            end_cropping(cropping);
            cropping.set(Some(url));
        }
        // Choosing the same file again opens it again.
        if let Some(input) = input {
            input.set_value("");
        }
    }
    #[cfg(not(feature = "browser"))]
    let _ = (ev, cropping, note);
}

/// Closes the cropper and lets its image go.
fn end_cropping(cropping: RwSignal<Option<String>>) {
    if let Some(url) = cropping.get_untracked() {
        #[cfg(feature = "browser")]
        let _ = web_sys::Url::revoke_object_url(&url);
        #[cfg(not(feature = "browser"))]
        let _ = url;
        cropping.set(None);
    }
}

fn remove_picture(state: ChatState, note: RwSignal<Option<String>>, error: RwSignal<Option<String>>) {
    #[cfg(feature = "browser")]
    spawn_local(async move {
        picture_saved(state, note, error, crate::ui::upload::set_picture(None).await);
    });
    #[cfg(not(feature = "browser"))]
    let _ = (state, note, error);
}

fn picture_saved(
    state: ChatState,
    note: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
    saved: Result<crate::api::ProfileView, String>,
) {
    match saved {
        Ok(saved) => {
            error.set(None);
            note.set(Some("Picture saved".into()));
            crate::client::people::heard(state, saved.username, saved.profile);
        }
        Err(e) => {
            note.set(None);
            error.set(Some(e));
        }
    }
}

/// How long a status lasts, as offered.
const LASTS: [(&str, Option<i64>); 5] = [
    ("Don't clear", None),
    ("30 minutes", Some(30 * 60_000)),
    ("1 hour", Some(60 * 60_000)),
    ("4 hours", Some(4 * 60 * 60_000)),
    ("1 week", Some(7 * 24 * 60 * 60_000)),
];

/// Your profile: display name, status (emoji, words, how long), time zone.
#[component]
pub fn ProfileDialog(open: RwSignal<bool>, state: ChatState) -> impl IntoView {
    crate::ui::dialog::close_on_escape(open);
    crate::ui::dialog::focus_in_and_back();
    let me = state
        .me
        .with_untracked(|me| me.as_ref().map(|me| me.username.clone()))
        .unwrap_or_default();
    let now = crate::state::js_now_ms();
    let current = state
        .profiles
        .with_untracked(|p| p.get(&me).cloned())
        .unwrap_or_default();
    let status = current.status_at(now).cloned();
    let display_name = RwSignal::new(current.display_name.map(|n| n.as_str().to_owned()).unwrap_or_default());
    let emoji = RwSignal::new(
        status
            .as_ref()
            .and_then(|s| s.emoji.as_ref())
            .map(ToString::to_string)
            .unwrap_or_default(),
    );
    let text = RwSignal::new(status.as_ref().map(|s| s.text.clone()).unwrap_or_default());
    // A status that ends keeps its end unless another length is chosen.
    let kept_until = status.as_ref().and_then(|s| s.until_ms);
    let lasts = RwSignal::new(if kept_until.is_some() {
        "keep".to_owned()
    } else {
        "0".to_owned()
    });
    let zone = RwSignal::new(
        current
            .time_zone
            .map(|z| z.as_str().to_owned())
            .unwrap_or_else(browser_time_zone),
    );
    let note = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    // The object URL of an image being cut square, while the cropper is open.
    let cropping = RwSignal::new(None::<String>);
    on_cleanup(move || end_cropping(cropping));
    let on_saved = Callback::new(move |saved| {
        end_cropping(cropping);
        picture_saved(state, note, error, saved);
    });
    let on_cancel = Callback::new(move |()| {
        end_cropping(cropping);
        note.set(None);
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let until = match lasts.get_untracked().as_str() {
            "keep" => kept_until,
            choice => choice
                .parse::<usize>()
                .ok()
                .and_then(|i| LASTS.get(i))
                .and_then(|(_, ms)| ms.map(|ms| crate::state::js_now_ms() + ms)),
        };
        let input = ProfileInput {
            display_name: display_name.get_untracked(),
            status_emoji: emoji.get_untracked(),
            status_text: text.get_untracked(),
            status_until_ms: until,
            time_zone: zone.get_untracked(),
        };
        spawn_local(async move {
            match set_profile(input).await {
                Ok(saved) => {
                    error.set(None);
                    note.set(Some("Saved".into()));
                    crate::client::people::heard(state, saved.username, saved.profile);
                }
                Err(e) => {
                    note.set(None);
                    error.set(Some(e.to_string()));
                }
            }
        });
    };
    let clear_status = move |_| {
        emoji.set(String::new());
        text.set(String::new());
    };
    let text_field = move |signal: RwSignal<String>, label: &'static str, testid: &'static str, max: &'static str| {
        view! {
            <label>
                {label}
                <input
                    data-testid=testid
                    maxlength=max
                    prop:value=move || signal.get()
                    on:input=move |ev| signal.set(event_target_value(&ev))
                />
            </label>
        }
    };
    view! {
        <div class="overlay">
            <div class="dialog profile-dialog" data-testid="profile-dialog" role="dialog" aria-labelledby="profile-title">
                <h2 id="profile-title">"Your profile"</h2>
                <div class="picture-row">
                    <crate::ui::avatar::Avatar
                        name=Signal::derive({
                            let me = me.clone();
                            move || state.name_of(&me)
                        })
                        picture=Signal::derive({
                            let me = me.clone();
                            move || state.picture_of(&me)
                        })
                    />
                    <label class="picture-pick">
                        "Choose a picture"
                        <input
                            type="file"
                            accept="image/png,image/jpeg,image/gif,image/webp"
                            data-testid="picture-file"
                            on:change=move |ev| pick_picture(ev, cropping, note)
                        />
                    </label>
                    <button
                        type="button"
                        class="link"
                        data-testid="picture-remove"
                        disabled={
                            let me = me.clone();
                            move || state.picture_of(&me).is_none()
                        }
                        on:click=move |_| remove_picture(state, note, error)
                    >
                        "Remove"
                    </button>
                </div>
                {move || {
                    cropping.get().map(|url| view! { <crate::ui::crop::PictureCrop url on_saved on_cancel /> })
                }}
                <form class="profile-form" on:submit=save>
                    {text_field(display_name, "Display name (shown instead of your username)", "display-name", "32")}
                    <fieldset class="status-fields">
                        <legend>"Status"</legend>
                        <div class="status-row">
                            <input
                                class="status-emoji-field"
                                data-testid="status-emoji-field"
                                aria-label="Status emoji"
                                placeholder="🙂"
                                maxlength="10"
                                prop:value=move || emoji.get()
                                on:input=move |ev| emoji.set(event_target_value(&ev))
                            />
                            <input
                                data-testid="status-text"
                                aria-label="Status text"
                                placeholder="What's happening?"
                                maxlength="100"
                                prop:value=move || text.get()
                                on:input=move |ev| text.set(event_target_value(&ev))
                            />
                        </div>
                        <div class="status-row">
                            <label class="inline">
                                "Clear after "
                                <select data-testid="status-lasts" on:change=move |ev| lasts.set(event_target_value(&ev))>
                                    {kept_until
                                        .map(|until| {
                                            view! {
                                                <option value="keep" selected>
                                                    {format!("Keep: until {}", crate::state::format_date(until))}
                                                </option>
                                            }
                                        })}
                                    {LASTS
                                        .iter()
                                        .enumerate()
                                        .map(|(i, (label, _))| {
                                            view! {
                                                <option value=i.to_string() selected=kept_until.is_none() && i == 0>
                                                    {*label}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </label>
                            <button type="button" class="link" data-testid="clear-status" on:click=clear_status>
                                "Clear status"
                            </button>
                        </div>
                    </fieldset>
                    {text_field(zone, "Time zone (shown to others as your local time)", "time-zone", "64")}
                    <p role="status" class="hint" data-testid="profile-note">{move || note.get()}</p>
                    {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <button type="submit" data-testid="profile-save">
                        "Save"
                    </button>
                </form>
                <button class="secondary" on:click=move |_| open.set(false)>
                    "Close"
                </button>
            </div>
        </div>
    }
}
