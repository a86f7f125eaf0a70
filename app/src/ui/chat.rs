//! The chat page: a channel's messages, the composer, who is signed in and the connection state.

use crate::api::Me;
use crate::state::{ChatState, Connection, format_time};
use crate::ui::auth::AuthForm;
use crate::ui::spaces::{ChannelActions, Sidebar};
use leptos::html;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use parley::listing::Place;
use parley::slash::{Offer, Slash};
use parley::timeline::{Delivery, Entry, Timeline};
use parley::{ChannelId, MessageBody, MessageId, SpaceId};
use std::collections::HashMap;

#[component]
pub fn ChatPage(
    /// Who just signed in on the page this chat replaced (the sign-in page, `ui::home`):
    /// told to the other tabs once they can be.
    signed_in: Option<String>,
) -> impl IntoView {
    // One route, so the page (and its client) lives on as the reader moves between
    // channels: `/?c=<channel>` opens a channel, `/?space=<id>&invite=<code>` joins a space.
    let params = use_query_map();
    let routed_channel = move || params.with(|p| ChannelId::in_address(p.get("c").as_deref()));
    let state = ChatState {
        channel: RwSignal::new(routed_channel()),
        timeline: RwSignal::new(Timeline::new()),
        connection: RwSignal::new(Connection::Connecting),
        me: RwSignal::new(None),
        stick: RwSignal::new(true),
        spaces: RwSignal::new(Vec::new()),
        directs: RwSignal::new(Vec::new()),
        notice: RwSignal::new(None),
        reveal: RwSignal::new(None),
        thread: RwSignal::new(None),
        typing: RwSignal::new(Default::default()),
        presence: RwSignal::new(Default::default()),
        unreads: RwSignal::new(Default::default()),
        divider: RwSignal::new(None),
        visible: RwSignal::new(true),
        edit_request: RwSignal::new(None),
        switcher: RwSignal::new(false),
        update: RwSignal::new(false),
        unavailable: RwSignal::new(None),
        problem: RwSignal::new(None),
        profiles: RwSignal::new(Default::default()),
        bots: RwSignal::new(Default::default()),
        drafts: RwSignal::new(Default::default()),
        saved: RwSignal::new(Default::default()),
        threads: RwSignal::new(Default::default()),
        thread_after: RwSignal::new(None),
        people_asked: StoredValue::new(Default::default()),
        card: RwSignal::new(None),
    };
    let hydrated = RwSignal::new(false);
    // A visitor with no session at all on a reset or confirmation link: the server draws
    // the sign-in form here (see `visitor_signed_out`), and hydrating takes it over. Other
    // visitors with no session get the sign-in page instead (`ui::home`), which this page
    // replaces once someone is signed in.
    let signed_out_page = crate::ui::auth::visitor_signed_out() && !crate::ui::auth::sign_in_page();
    #[cfg(not(feature = "browser"))]
    let _ = &signed_in;
    // A client-only build on another site than its server: its sign-in could never last.
    let cross_site = RwSignal::new(false);
    // For what the page's parts below look up without being handed it (a `#channel` in a
    // message links to the channel it names).
    provide_context(state);

    // Effects run only in the browser: this is where the page comes alive. Signed in
    // (as this browser remembers): start the client at once, from the local cache, and let
    // the server confirm the session meanwhile. Not signed in: show the sign-in form.
    Effect::new(move |_| {
        let me = crate::ui::auth::remembered();
        state.me.set(me.clone());
        hydrated.set(true);
        #[cfg(feature = "browser")]
        {
            if crate::server_url().is_some() {
                leptos::task::spawn_local(async move {
                    // The first call sets the probe cookie; the second says whether it came back.
                    let _ = crate::api::cookie_check().await;
                    if let Ok(false) = crate::api::cookie_check().await {
                        cross_site.set(true);
                    }
                });
            }
            crate::client::live::listen_to_tabs(state);
            if let Some(username) = signed_in.clone() {
                crate::client::live::tell_signed_in(username);
            }
            if me.is_some() {
                crate::client::live::start(state);
                crate::state::refresh(state);
            }
        }
    });
    // The profiles of the people on screen (and one's own), fetched once per name.
    Effect::new(move |_| {
        let me = state.me.with(|me| me.as_ref().map(|me| me.username.clone()));
        let mut names: Vec<String> = state.timeline.with(|t| t.entries().map(|e| e.author.clone()).collect());
        names.extend(me);
        crate::client::people::want(state, names);
    });
    // Tab stays inside whichever dialog is open.
    Effect::new(move |_| crate::ui::dialog::trap_focus());
    Effect::new(move |_| crate::ui::theme::restore());
    // Following a link to another channel: switch to it without reloading.
    Effect::new(move |_| {
        let channel = routed_channel();
        state.thread.set(None);
        #[cfg(feature = "browser")]
        crate::client::live::switch(state, channel);
        // A thread chosen in the Threads view opens once its channel is on screen.
        if let Some((after, root)) = state.thread_after.get_untracked()
            && after == channel
        {
            state.thread_after.set(None);
            open_thread(state, root);
        }
        #[cfg(not(feature = "browser"))]
        let _ = channel;
    });
    // An invite link: join once signed in, then open the space.
    Effect::new(move |_| {
        let (space, code) = params.with(|p| (p.get("space"), p.get("invite")));
        if code.is_none() || !state.me.with(Option::is_some) {
            return;
        }
        match (space.and_then(|s| s.parse::<SpaceId>().ok()), code) {
            (Some(space), Some(code)) => crate::ui::spaces::join_by_invite(state, space, code),
            _ => state.problem.set(Some(
                "This invite link is incomplete: ask for a new one, and copy all of it.".to_owned(),
            )),
        }
    });
    let signed_in = move || state.me.with(Option::is_some);
    // An email confirmation link (`/?verify-email=<secret>`): confirmed once hydrated (in
    // any browser, signed in or not), then said, and the address cleaned.
    let confirmed = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let Some(token) = params.with(|p| p.get(parley::address::VERIFY_EMAIL)) else {
            return;
        };
        if !hydrated.get() {
            return;
        }
        leptos::task::spawn_local(async move {
            match crate::api::verify_email(token).await {
                Ok(email) => confirmed.set(Some(format!(
                    "Your email address {email} is confirmed: password reset links can go there."
                ))),
                Err(e) => state.problem.set(Some(e.to_string())),
            }
            crate::state::go("/");
        });
    });
    // A password reset link (`/?reset=<secret>`): its form, over whatever else.
    let reset_token = move || params.with(|p| p.get(parley::address::RESET));
    // The open channel is not there for this user: why (the server's words).
    let unavailable = move || state.unavailable_reason();
    // On a phone the sidebar is a drawer, opened from the header; opening a channel (or
    // Escape) closes it.
    let drawer = RwSignal::new(false);
    Effect::new(move |_| {
        state.channel.track();
        drawer.set(false);
    });
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && drawer.get_untracked() {
            drawer.set(false);
        }
    });
    on_cleanup(move || escape.remove());
    let title = move || match unavailable() {
        Some(_) => ("unavailable".to_owned(), None),
        None => crate::ui::spaces::channel_title(state),
    };
    let page_title = move || {
        let (unread, mentions) = state.unreads.with(parley::unread::Unreads::total);
        let (name, space) = title();
        let place = match space {
            Some(space) if !name.starts_with('@') => format!("#{name} · {space}"),
            _ if name.starts_with('@') => name,
            _ => format!("#{name}"),
        };
        parley::unread::title(unread, mentions, &place)
    };

    view! {
        <leptos_meta::Title text=page_title />
        <main
            class="app"
            class:with-thread=move || state.thread.with(Option::is_some)
            class:drawer-open=move || drawer.get()
            data-hydrated=move || hydrated.get().to_string()
        >
            <a
                class="skip"
                href="#composer"
                on:click=move |ev| {
                    ev.prevent_default();
                    crate::ui::keys::focus_composer();
                }
            >
                "Skip to the message box"
            </a>
            <Sidebar state />
            <div class="scrim" aria-hidden="true" on:click=move |_| drawer.set(false)></div>
            <crate::ui::switcher::QuickSwitcher state />
            {move || state.card.get().map(|username| crate::ui::later::later(move || crate::ui::later::person_card(username.clone(), state)))}
            <section class="chat">
                <header class="topbar">
                    <Show when=signed_in>
                        <button
                            class="drawer-button"
                            data-testid="open-sidebar"
                            aria-label="Channels"
                            title="Channels"
                            aria-expanded=move || drawer.get().to_string()
                            on:click=move |_| drawer.update(|open| *open = !*open)
                        >
                            "☰"
                            {move || {
                                let (unread, mentions) = state.unreads.with(parley::unread::Unreads::total);
                                let class = if mentions > 0 { "drawer-dot mention" } else { "drawer-dot" };
                                (unread > 0).then(|| view! { <span class=class aria-hidden="true"></span> })
                            }}
                        </button>
                    </Show>
                    <div class="title-block">
                    <h1
                        class="channel-name"
                        data-testid="channel-title"
                        title=move || {
                            let (name, space) = title();
                            space.map(|space| format!("#{name} in {space}")).unwrap_or(format!("#{name}"))
                        }
                    >
                        <span class="hash">"#"</span>
                        {move || title().0}
                        {move || title().1.map(|space| view! { <span class="space-of">{space}</span> })}
                    </h1>
                    <Show when=move || unavailable().is_none()>
                        <crate::ui::channel_info::TopicLine state />
                    </Show>
                    </div>
                    <Show when=move || signed_in() && unavailable().is_none()>
                        <crate::ui::channel_info::PinnedButton state />
                    </Show>
                    <ChannelActions state />
                    <Show when=signed_in>
                        <crate::ui::search::SearchBox state />
                    </Show>
                    <Show when=signed_in>
                        <span
                            class=move || format!("conn conn-{}", state.connection.get().label())
                            data-testid="connection"
                            title="Connection to the server"
                        >
                            {move || state.connection.get().label()}
                        </span>
                    </Show>
                    <Show when=signed_in>
                        <crate::ui::account::AccountMenu state />
                    </Show>
                </header>
                <Show when=move || state.update.get()>
                    <div class="update" role="status" data-testid="update">
                        <span>"A new version of Parley is available."</span>
                        <button class="primary" on:click=move |_| crate::state::reload_page()>
                            "Reload"
                        </button>
                    </div>
                </Show>
                <Show when=move || confirmed.with(Option::is_some)>
                    <div class="update" role="status" data-testid="email-confirmed">
                        <span>{move || confirmed.get().unwrap_or_default()}</span>
                        <button class="secondary" on:click=move |_| confirmed.set(None)>
                            "Dismiss"
                        </button>
                    </div>
                </Show>
                <Show when=move || state.problem.with(Option::is_some)>
                    <div class="update problem" role="alert" data-testid="problem">
                        <span>{move || state.problem.get().unwrap_or_default()}</span>
                        <button class="secondary" on:click=move |_| state.problem.set(None)>
                            "Dismiss"
                        </button>
                    </div>
                </Show>
                <Show when=move || unavailable().is_none() fallback=move || view! { <Unavailable why=unavailable /> }>
                    <MessageList state />
                    <Composer state hydrated reply_to=None />
                </Show>
            </section>
            {move || state.thread.get().map(|root| view! { <ThreadPanel state root hydrated /> })}
            <Show when=move || {
                (hydrated.get() || signed_out_page) && !signed_in() && !cross_site.get() && reset_token().is_none()
            }>
                <AuthForm on_signed_in=move |me| signed_in_here(state, me) />
            </Show>
            {move || {
                reset_token()
                    .filter(|_| hydrated.get())
                    .map(|token| {
                        view! {
                            <crate::ui::auth::ResetForm
                                token
                                on_signed_in=move |me| {
                                    signed_in_here(state, me);
                                    crate::state::go("/");
                                }
                            />
                        }
                    })
            }}
            <Show when=move || cross_site.get()>
                <div class="overlay">
                    <div class="dialog" role="alert" data-testid="cross-site">
                        <h2>"This copy of Parley cannot sign you in here"</h2>
                        <p>
                            "It is hosted on another site than its server ("
                            {crate::server_url().unwrap_or_default()}
                            "), and your browser keeps a site's sign-in for that site's own pages. "
                            "Open Parley on its server, or host this copy on the server's site."
                        </p>
                    </div>
                </div>
            </Show>
        </main>
    }
}

/// In place of a channel that does not exist or is not the reader's to see: what happened,
/// and the way back.
#[component]
fn Unavailable(why: impl Fn() -> Option<String> + Send + Sync + 'static) -> impl IntoView {
    view! {
        <div class="dead-end" role="alert" data-testid="unavailable">
            <h2>"This channel cannot be opened"</h2>
            <p>
                "It does not exist, or you are not a member of it. The server said: "
                <q>{move || why().unwrap_or_default()}</q>
            </p>
            <p>"If someone sent you this link, ask them for an invite to its space."</p>
            <a class="button" href="/" data-testid="back-to-general">
                "Go to #general"
            </a>
        </div>
    }
}

#[component]
fn MessageList(state: ChatState) -> impl IntoView {
    let list = NodeRef::<html::Ol>::new();
    // Follow new messages while the reader is at the bottom; leave them be when they read back.
    Effect::new(move |_| {
        state.timeline.track();
        if state.stick.get_untracked()
            && let Some(el) = list.get()
        {
            el.set_scroll_top(el.scroll_height());
        }
    });
    // A search result was opened: load older pages until the message is there, then
    // bring it into view (it is marked while it is the one revealed).
    Effect::new(move |_| {
        let Some((channel, target)) = state.reveal.get() else {
            return;
        };
        if state.channel.get() != channel {
            return;
        }
        let found = state.timeline.with(|t| t.get(target).is_some());
        if found {
            state.stick.set(false);
            request_animation_frame(move || {
                let selector = format!("[data-message-id=\"{target}\"]");
                if let Ok(Some(el)) = document().query_selector(&selector) {
                    el.scroll_into_view_with_bool(false);
                }
            });
        } else if state.timeline.with(|t| !t.is_empty())
            && let Some(el) = list.get_untracked()
        {
            load_older(state, el);
        }
    });
    let on_scroll = move |_| {
        let Some(el) = list.get_untracked() else {
            return;
        };
        state
            .stick
            .set(el.scroll_height() - el.scroll_top() - el.client_height() < 80);
        if el.scroll_top() < 60 {
            load_older(state, el);
        }
    };
    // The first message of others after the read marker as it stood on opening: the
    // "new messages" line goes above it.
    let first_unread = Memo::new(move |_| {
        let (channel, marker) = state.divider.get()?;
        if channel != state.channel.get() {
            return None;
        }
        let me = state.me.with(|me| me.as_ref().map(|me| me.username.clone()));
        state.timeline.with(|t| {
            t.entries()
                .find(|e| {
                    (e.reply_to.is_none() || e.also_in_channel)
                        && e.position.is_some_and(|p| p > marker)
                        && Some(&e.author) != me.as_ref()
                })
                .map(|e| e.message_id)
        })
    });
    // The channel's own messages (replies show in their thread), each with its place:
    // whether it starts a run of its author's messages, whether a new day starts there.
    let lines = Memo::new(move |_| {
        let divider = first_unread.get();
        state.timeline.with(|t| {
            let own: Vec<&Entry> = t
                .entries()
                .filter(|e| e.reply_to.is_none() || e.also_in_channel)
                .collect();
            let items = own.iter().map(|e| parley::listing::Item {
                // A notice belongs to no run: the message after it shows its author again.
                author: if e.kind.is_message() { &e.author } else { "" },
                sent_at_ms: e.sent_at_ms,
                after_divider: divider == Some(e.message_id),
            });
            let places = parley::listing::places(items, crate::state::local_day);
            own.into_iter().cloned().zip(places).collect::<Vec<_>>()
        })
    });
    let by_id = Memo::new(move |_| {
        lines.with(|l| {
            l.iter()
                .map(|(e, _)| (e.message_id, e.clone()))
                .collect::<HashMap<_, _>>()
        })
    });
    let jump_to_latest = move |_| {
        state.reveal.set(None);
        state.stick.set(true);
        if let Some(el) = list.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    };
    view! {
        <div class="list-wrap">
            <ol
                class="messages"
                node_ref=list
                data-testid="messages"
                aria-live="polite"
                aria-label="Messages"
                tabindex="0"
                on:scroll=on_scroll
                on:keydown=|ev| crate::ui::keys::list_keydown(&ev)
            >
                <Show when=move || state.timeline.with(Timeline::is_empty)>
                    <ChannelIntro state />
                </Show>
                // By id (and author: an erased account's lines are drawn anew as the deleted
                // user's); the rest of a message's changes are followed in place.
                <For
                    each=move || lines.get()
                    key=|(e, place): &(Entry, Place)| (e.message_id, e.author.clone(), *place)
                    let:((entry, place))
                >
                    {place
                        .new_day
                        .map(|day| {
                            view! {
                                <li class="day-divider" data-testid="day-divider">
                                    <span>{crate::state::format_day(day)}</span>
                                </li>
                            }
                        })}
                    <Show when={
                        let id = entry.message_id;
                        move || first_unread.get() == Some(id)
                    }>
                        <li class="new-divider" data-testid="new-divider">
                            <span>"New messages"</span>
                        </li>
                    </Show>
                    <MessageItem entry=following(by_id, entry) heads=place.heads state />
                </For>
            </ol>
            <Show when=move || !state.stick.get()>
                <button class="jump-latest" data-testid="jump-latest" on:click=jump_to_latest>
                    "Jump to latest ↓"
                </button>
            </Show>
        </div>
    }
}

/// What an empty channel shows: whose place this is, who reads it, and what to do first.
#[component]
fn ChannelIntro(state: ChatState) -> impl IntoView {
    let private = move || {
        let channel = state.channel.get();
        state.spaces.with(|spaces| {
            spaces
                .iter()
                .flat_map(|s| s.channels.iter())
                .any(|c| c.channel_id == channel && c.private)
        })
    };
    let words = move || {
        let (name, space) = crate::ui::spaces::channel_title(state);
        if name.starts_with('@') {
            (
                format!("You and {name}"),
                "The beginning of your direct conversation: only the people in it can read it.".to_owned(),
            )
        } else if let Some(space) = space.as_deref()
            && private()
        {
            (
                format!("Welcome to 🔒 {name}"),
                format!(
                    "The very beginning of the private channel {name} in {space}. Only the people added to it can find and read it: add them from ⋯ → People."
                ),
            )
        } else if let Some(space) = space {
            (
                format!("Welcome to #{name}"),
                format!(
                    "The very beginning of #{name} in {space}. Everyone in the space can read it: say hello, or write what it is for."
                ),
            )
        } else {
            (
                format!("Welcome to #{name}"),
                "The lobby, open to everyone on this Parley. Say hello, or make a space of your own from the sidebar."
                    .to_owned(),
            )
        }
    };
    view! {
        <li class="intro" data-testid="channel-intro">
            <h3>{move || words().0}</h3>
            <p>{move || words().1}</p>
        </li>
    }
}

/// A person's name as the app shows it: their display name (the username on hover), and
/// their status's emoji; a button that opens their card.
#[component]
pub fn PersonName(username: String, state: ChatState) -> impl IntoView {
    if username == parley::redact::ERASED_NAME {
        // A deleted account: no card to open, nobody to message.
        return view! {
            <span class="author gone" data-testid="author">
                "Deleted user"
            </span>
        }
        .into_any();
    }
    let (shown, hover, open) = (username.clone(), username.clone(), username.clone());
    let username_bot = username.clone();
    let status = move || {
        state.status_of(&username).map(|status| {
            let words = status.text.clone();
            view! {
                <span class="status-emoji" data-testid="status-emoji" title=words.clone() aria-label=format!("status: {words}")>
                    {status.emoji.map(|e| e.to_string()).unwrap_or_else(|| "💬".to_owned())}
                </span>
            }
        })
    };
    view! {
        <button
            class="author"
            data-testid="author"
            title=format!("@{hover}")
            on:click=move |_| state.card.set(Some(open.clone()))
        >
            {move || state.name_of(&shown)}
        </button>
        {move || state.is_bot(&username_bot).then(|| view! { <span class="bot-badge" data-testid="bot-badge">"bot"</span> })}
        {status}
    }
    .into_any()
}

/// The reactions offered in one click (any emoji can be sent: "More" opens the picker);
/// the ones used last come first.
const QUICK_REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "🎉", "😮", "👀"];

/// The quick reactions: the recently used first, then the usual ones, six in all.
fn quick_reactions() -> Vec<String> {
    let mut quick: Vec<String> = crate::client::emoji::recent();
    quick.extend(QUICK_REACTIONS.iter().map(|e| (*e).to_owned()));
    let mut seen = std::collections::HashSet::new();
    quick.retain(|e| seen.insert(e.clone()));
    quick.truncate(QUICK_REACTIONS.len());
    quick
}

#[component]
fn MessageItem(
    /// The message as it changes: the line stays while it does (a line drawn anew would
    /// lose its focus, an open picker or a half-typed edit when an ack or a reaction comes).
    entry: Signal<Entry>,
    /// It starts a run of its author's messages: avatar and name show (see
    /// [`parley::listing::places`]). A thread's messages always do.
    #[prop(default = true)]
    heads: bool,
    state: ChatState,
) -> impl IntoView {
    let first = entry.get_untracked();
    let id = first.message_id;
    if first.kind == parley::MessageKind::Topic {
        return view! { <TopicNotice entry=first state /> }.into_any();
    }
    let author = first.author.clone();
    let is_reply = first.reply_to.is_some();
    let me = state.me.with_untracked(|me| me.as_ref().map(|me| me.username.clone()));
    let own = me.as_deref() == Some(author.as_str());
    let delivery = Memo::new(move |_| entry.with(|e| e.delivery.clone()));
    let deleted = Memo::new(move |_| entry.with(|e| e.deleted));
    let committed = Memo::new(move |_| delivery.get() == Delivery::Sent && !deleted.get());
    let pinned = Memo::new(move |_| entry.with(|e| e.pinned));
    let edited = Memo::new(move |_| entry.with(|e| e.edited));
    let body = Memo::new(move |_| entry.with(|e| e.body.clone()));
    let reactions = Memo::new(move |_| entry.with(|e| e.reactions.clone()));
    let attachments = Memo::new(move |_| entry.with(|e| e.attachments.clone()));
    let replies = Memo::new(move |_| entry.with(|e| e.replies));
    let sent_at = Memo::new(move |_| entry.with(|e| e.sent_at_ms));
    let in_thread = Memo::new(move |_| entry.with(|e| e.reply_to.filter(|_| e.also_in_channel)));
    let editing = RwSignal::new(false);
    if own {
        Effect::new(move |_| {
            if state.edit_request.get() == Some(id) && committed.get_untracked() {
                state.edit_request.set(None);
                editing.set(true);
            }
        });
    }
    let picking = RwSignal::new(false);
    // The whole emoji picker, opened from the quick reactions' "More".
    let browsing = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let history = RwSignal::new(None::<Vec<crate::api::EditView>>);
    let me_signal = Signal::derive(move || state.me.with(|me| me.as_ref().map(|me| me.username.clone())));
    let react = {
        let me = me.clone();
        move |emoji: String| {
            let Some(me) = me.clone() else { return };
            let on = !reactions.with_untracked(|all| all.iter().any(|r| r.emoji == emoji && r.users.contains(&me)));
            picking.set(false);
            browsing.set(false);
            if on {
                crate::client::emoji::used(&emoji);
            }
            let request = crate::api::ChangeRequest::React {
                emoji: emoji.clone(),
                on,
            };
            change(state, id, request);
        }
    };
    let react_in_picker = react.clone();
    let react_in_browser = react.clone();
    let channel = state.channel.get_untracked();
    view! {
        <li
            class="msg"
            tabindex="-1"
            class:pending=move || delivery.get() == Delivery::Pending
            class:failed=move || matches!(delivery.get(), Delivery::Failed(_))
            class:deleted=move || deleted.get()
            class:cont=!heads
            class:revealed=move || state.reveal.get().is_some_and(|(_, m)| m == id)
            data-testid="message"
            data-state=move || match delivery.get() {
                Delivery::Pending => "pending",
                Delivery::Sent => "sent",
                Delivery::Failed(_) => "failed",
            }
            data-changing=move || {
                state.timeline.with(|t| t.pending_changes().iter().any(|c| c.message_id == id)).to_string()
            }
            data-message-id=id.to_string()
            data-author=author.clone()
        >
            {heads
                .then(|| {
                    let author = author.clone();
                    let (named, pictured) = (author.clone(), author.clone());
                    let name = Signal::derive(move || state.name_of(&named));
                    let picture = Signal::derive(move || state.picture_of(&pictured));
                    view! {
                        <crate::ui::avatar::Avatar name picture on:click=move |_| state.card.set(Some(author.clone())) />
                    }
                })}
            <div class="meta">
                {heads.then(|| {
                    let present = author.clone();
                    let status = Signal::derive(move || {
                        state
                            .presence
                            .with(|p| p.get(&present).copied())
                            .unwrap_or(parley::presence::Status::Offline)
                            .as_str()
                    });
                    view! {
                        <span
                            class=move || format!("presence {}", status.get())
                            data-testid="presence"
                            data-status=status
                            title=status
                        ></span>
                        <PersonName username=author.clone() state />
                    }
                })}
                <time class="when" title=move || sent_at.get().map(crate::state::format_full)>
                    {move || sent_at.get().map(format_time).unwrap_or_default()}
                </time>
                {move || (delivery.get() == Delivery::Pending).then(|| view! { <span class="status">"sending…"</span> })}
                {move || {
                    in_thread
                        .get()
                        .map(|root| {
                            view! {
                                <button
                                    class="in-thread"
                                    data-testid="in-thread"
                                    title="A reply in a thread, sent to the channel too: open the thread"
                                    on:click=move |_| open_thread(state, root)
                                >
                                    "replied in a thread ↗"
                                </button>
                            }
                        })
                }}
                {move || {
                    (pinned.get() && !deleted.get())
                        .then(|| {
                            view! {
                                <span class="pinned-mark" data-testid="pinned-mark" title="Pinned to the channel">
                                    "📌 Pinned"
                                </span>
                            }
                        })
                }}
                {move || {
                    (edited.get() && !deleted.get())
                        .then(|| {
                            view! {
                                <button
                                    class="edited"
                                    data-testid="edited"
                                    title="Show earlier versions"
                                    on:click=move |_| show_history(state, id, history)
                                >
                                    "(edited)"
                                </button>
                            }
                        })
                }}
                <span class="actions">
                    {move || {
                        committed
                            .get()
                            .then(|| {
                                view! {
                                    <button
                                        data-testid="react"
                                        title="Add a reaction"
                                        aria-label="Add a reaction"
                                        on:click=move |_| picking.update(|p| *p = !*p)
                                    >
                                        "☺+"
                                    </button>
                                }
                            })
                    }}
                    {move || {
                        (committed.get() && !is_reply)
                            .then(|| {
                                view! {
                                    <button data-testid="reply" on:click=move |_| open_thread(state, id)>
                                        "Reply"
                                    </button>
                                }
                            })
                    }}
                    {move || {
                        committed
                            .get()
                            .then(|| {
                                let saved = move || state.saved.with(|s| s.contains(&id));
                                view! {
                                    <button
                                        data-testid="save"
                                        aria-pressed=move || saved().to_string()
                                        title=move || if saved() { "Remove from saved" } else { "Save for later" }
                                        on:click=move |_| crate::ui::saved::toggle(state, channel, id)
                                    >
                                        {move || if saved() { "Saved" } else { "Save" }}
                                    </button>
                                }
                            })
                    }}
                    {move || {
                        (committed.get() && crate::ui::channel_info::may_pin(state))
                            .then(|| {
                                view! {
                                    <button
                                        data-testid="pin"
                                        on:click=move |_| {
                                            let on = !pinned.get_untracked();
                                            change(state, id, crate::api::ChangeRequest::Pin { on })
                                        }
                                    >
                                        {move || if pinned.get() { "Unpin" } else { "Pin" }}
                                    </button>
                                }
                            })
                    }}
                    {move || {
                        (committed.get() && own)
                            .then(|| {
                                view! {
                                    <button data-testid="edit" on:click=move |_| editing.set(true)>
                                        "Edit"
                                    </button>
                                }
                            })
                    }}
                    {move || {
                        (committed.get() && (own || moderates(state)))
                            .then(|| {
                                view! {
                                    <Show
                                        when=move || confirming.get()
                                        fallback=move || {
                                            view! {
                                                <button data-testid="delete" on:click=move |_| confirming.set(true)>
                                                    "Delete"
                                                </button>
                                            }
                                        }
                                    >
                                        <button
                                            class="danger"
                                            data-testid="confirm-delete"
                                            on:click=move |_| {
                                                change(state, id, crate::api::ChangeRequest::Delete)
                                            }
                                        >
                                            "Delete for everyone"
                                        </button>
                                        <button on:click=move |_| confirming.set(false)>"Keep"</button>
                                    </Show>
                                }
                            })
                    }}
                </span>
            </div>
            {move || {
                if deleted.get() {
                    view! { <p class="body deleted-note">"This message was deleted."</p> }.into_any()
                } else {
                    view! {
                        <Show
                            when=move || editing.get()
                            fallback=move || view! { <crate::ui::body::MessageBody body=body.get() me=me_signal /> }
                        >
                            <EditBox state id body=body.get_untracked() editing />
                        </Show>
                    }
                        .into_any()
                }
            }}
            {move || {
                let files = attachments.get();
                (!deleted.get() && !files.is_empty())
                    .then(|| {
                        view! {
                            <div class="attachments">
                                <crate::ui::upload::AttachmentList files />
                            </div>
                        }
                    })
            }}
            {move || {
                history
                    .get()
                    .map(|versions| {
                        view! {
                            <ol class="edit-history" data-testid="edit-history">
                                {versions
                                    .into_iter()
                                    .map(|v| {
                                        view! {
                                            <li>
                                                <time>{format_time(v.replaced_at_ms)}</time>
                                                " "
                                                <span>{v.body}</span>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ol>
                        }
                    })
            }}
            <Show when=move || picking.get()>
                <div class="picker" role="menu" data-testid="picker">
                    {quick_reactions()
                        .into_iter()
                        .map(|emoji| {
                            let react = react_in_picker.clone();
                            let chosen = emoji.clone();
                            view! {
                                <button role="menuitem" on:click=move |_| react(chosen.clone())>
                                    {emoji}
                                </button>
                            }
                        })
                        .collect_view()}
                    <button
                        role="menuitem"
                        class="picker-more"
                        data-testid="picker-more"
                        aria-label="More emoji"
                        title="More emoji"
                        aria-expanded=move || browsing.get().to_string()
                        on:click=move |_| browsing.update(|b| *b = !*b)
                    >
                        "⋯"
                    </button>
                </div>
            </Show>
            {
                let react = react_in_browser;
                move || {
                    (picking.get() && browsing.get())
                        .then(|| {
                            let react = react.clone();
                            {
                                let on_pick = Callback::new(move |emoji: String| react(emoji));
                                let on_close = Callback::new(move |()| browsing.set(false));
                                crate::ui::later::later(move || crate::ui::later::emoji_picker(on_pick, on_close))
                            }
                        })
                }
            }
            {move || {
                let all = reactions.get();
                (!all.is_empty())
                    .then(|| {
                        let on = committed.get();
                        view! {
                            <div class="reactions">
                                {all
                                    .into_iter()
                                    .map(|r| {
                                        let mine = me.as_ref().is_some_and(|me| r.users.contains(me));
                                        let emoji = r.emoji.clone();
                                        let react = react.clone();
                                        view! {
                                            <button
                                                class="reaction"
                                                class:mine=mine
                                                data-testid="reaction"
                                                data-emoji=r.emoji.clone()
                                                title=r.users.join(", ")
                                                aria-pressed=mine.to_string()
                                                disabled=!on
                                                on:click=move |_| react(emoji.clone())
                                            >
                                                {r.emoji.clone()}
                                                " "
                                                <span class="count">{r.users.len()}</span>
                                            </button>
                                        }
                                    })
                                    .collect_view()}
                            </div>
                        }
                    })
            }}
            {move || {
                let n = replies.get();
                (n > 0 && !is_reply)
                    .then(|| {
                        view! {
                            <button class="replies" data-testid="replies" on:click=move |_| open_thread(state, id)>
                                {if n == 1 { "1 reply".to_string() } else { format!("{n} replies") }}
                            </button>
                        }
                    })
            }}
            {move || {
                (delivery.get() == Delivery::Pending && own)
                    .then(|| {
                        view! {
                            <Show when=move || state.connection.get() != Connection::Online>
                                <p class="waiting" data-testid="waiting">
                                    "Waiting: will send when you are back online"
                                </p>
                            </Show>
                        }
                    })
            }}
            {move || match delivery.get() {
                Delivery::Failed(e) => Some(view! {
                    <p class="error" role="alert">
                        "Not sent: " {e} " "
                        <button class="retry" on:click=move |_| retry(state, id)>
                            "Retry"
                        </button>
                    </p>
                }),
                _ => None,
            }}
            <Show when=move || {
                state.connection.get() != Connection::Online
                    && state.timeline.with(|t| t.pending_changes().iter().any(|c| c.message_id == id))
            }>
                <p class="waiting" data-testid="change-waiting">
                    "Your change will be sent when you are back online"
                </p>
            </Show>
        </li>
    }
    .into_any()
}

/// A line of the channel's own: someone set its topic.
#[component]
fn TopicNotice(entry: Entry, state: ChatState) -> impl IntoView {
    let author = entry.author.clone();
    let what = if entry.body.is_empty() {
        "cleared the topic".to_owned()
    } else {
        format!("set the topic: {}", entry.body)
    };
    view! {
        <li class="msg notice" tabindex="-1" data-testid="notice" data-message-id=entry.message_id.to_string()>
            <p class="body">
                <PersonName username=author state />
                " "
                {what}
                " "
                <time class="when" title=entry.sent_at_ms.map(crate::state::format_full)>
                    {entry.sent_at_ms.map(format_time).unwrap_or_default()}
                </time>
            </p>
        </li>
    }
}

/// Editing one's own message in place: Enter saves, Escape (or an unchanged text) cancels.
#[component]
fn EditBox(state: ChatState, id: MessageId, body: String, editing: RwSignal<bool>) -> impl IntoView {
    let draft = RwSignal::new(body.clone());
    let error = RwSignal::new(None::<String>);
    let input = NodeRef::<html::Textarea>::new();
    // Where the keyboard was (the composer, after ↑): it goes back there when the box closes.
    let before = StoredValue::new_local(None::<leptos::web_sys::HtmlElement>);
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            use leptos::wasm_bindgen::JsCast;
            let active = document().active_element().and_then(|a| a.dyn_into().ok());
            before.set_value(active);
            let _ = el.focus();
        }
    });
    let close = move || {
        editing.set(false);
        if let Some(el) = before.get_value() {
            let _ = el.focus();
        }
    };
    let save = move || {
        let text = draft.get_untracked();
        match MessageBody::parse(&text) {
            Ok(parsed) if parsed.as_str() == body.trim() => close(),
            Ok(parsed) => {
                let new_body = parsed.to_string();
                close();
                change(state, id, crate::api::ChangeRequest::Edit { body: new_body });
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    view! {
        <div class="edit-box">
            <textarea
                node_ref=input
                data-testid="edit-input"
                aria-label="Edit message"
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        close();
                    } else if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        save();
                    }
                }
            ></textarea>
            <div class="edit-hint">
                "Enter to save · Esc to cancel"
                {move || error.get().map(|e| view! { <span class="error" role="alert">" " {e}</span> })}
            </div>
        </div>
    }
}

/// Whether this user moderates the channel on screen (a moderator or admin of its space).
fn moderates(state: ChatState) -> bool {
    let channel = state.channel.get_untracked();
    state.spaces.with_untracked(|spaces| {
        spaces
            .iter()
            .find(|s| s.channels.iter().any(|c| c.channel_id == channel))
            .is_some_and(|s| s.role >= parley::Role::Moderator)
    })
}

/// Changes a message at once on screen, keeps the change until the server has it, and
/// asks the server; a refusal is shown above the composer.
fn change(state: ChatState, id: MessageId, request: crate::api::ChangeRequest) {
    state.notice.set(None);
    #[cfg(feature = "browser")]
    leptos::task::spawn_local(async move {
        if let Err(e) = crate::client::live::change(state, id, request).await {
            state.notice.set(Some(e));
        }
    });
    #[cfg(not(feature = "browser"))]
    let _ = (id, request);
}

/// Fetches and shows the earlier versions of an edited message (or hides them).
fn show_history(state: ChatState, id: MessageId, history: RwSignal<Option<Vec<crate::api::EditView>>>) {
    if history.with_untracked(Option::is_some) {
        history.set(None);
        return;
    }
    let channel = state.channel.get_untracked();
    leptos::task::spawn_local(async move {
        match crate::api::edit_history(channel, id).await {
            Ok(versions) => history.set(Some(versions)),
            Err(e) => state.notice.set(Some(e.to_string())),
        }
    });
}

fn has_modifier(ev: &leptos::ev::KeyboardEvent) -> bool {
    ev.shift_key() || ev.alt_key() || ev.ctrl_key() || ev.meta_key()
}

/// Your newest message that can still be edited: in the channel, or in the thread `reply_to`.
fn last_own_message(state: ChatState, thread: Option<MessageId>) -> Option<MessageId> {
    let me = state
        .me
        .with_untracked(|me| me.as_ref().map(|me| me.username.clone()))?;
    state.timeline.with_untracked(|t| {
        t.entries()
            .filter(|e| e.author == me && e.delivery == Delivery::Sent && !e.deleted && e.kind.is_message())
            .filter(|e| match thread {
                Some(root) => e.reply_to == Some(root),
                None => e.reply_to.is_none(),
            })
            .max_by_key(|e| e.position)
            .map(|e| e.message_id)
    })
}

#[component]
fn Composer(state: ChatState, hydrated: RwSignal<bool>, reply_to: Option<MessageId>) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    // `/help`'s list, and the commands offered for what is typed.
    let help_open = RwSignal::new(false);
    // What the last command did, when it shows nowhere else.
    let done = RwSignal::new(None::<String>);
    // The space's own commands, for the channel they were fetched for.
    let customs = RwSignal::new(None::<(ChannelId, Vec<String>)>);
    let customs_here = move || {
        let channel = state.channel.get();
        customs.with(|c| match c {
            Some((of, names)) if *of == channel => names.clone(),
            _ => Vec::new(),
        })
    };
    let commands = Memo::new(move |_| draft.with(|d| parley::slash::completions(d, &customs_here())));
    // A reply: "also send to the channel".
    let also = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let drafts = RwSignal::new(Vec::<crate::ui::upload::Draft>::new());
    let picker = NodeRef::<html::Input>::new();
    // Whose unsent text this composer shows: its channel's, or its thread's. It is restored
    // on coming back (another channel, a reload, another day) and follows what another tab
    // types in the same place.
    let key = Memo::new(move |_| parley::draft::key(state.channel.get(), reply_to));
    Effect::new(move |_| {
        let kept = state.drafts.with(|d| d.text(&key.get()).to_owned());
        if draft.with_untracked(|text| *text != kept) {
            draft.set(kept);
        }
    });
    let write = move |text: String| {
        draft.set(text.clone());
        crate::client::drafts::write(state, key.get_untracked(), text);
    };
    let submit = move || {
        let Some(author) = state.me.get_untracked().map(|me| me.username) else {
            return;
        };
        if drafts.with_untracked(|d| d.iter().any(|d| d.error.is_some())) {
            error.set(Some("Remove the files that cannot be sent first.".into()));
            return;
        }
        let files: Vec<crate::ui::upload::OutboxFile> =
            drafts.with_untracked(|d| d.iter().map(crate::ui::upload::Draft::outbox_file).collect());
        done.set(None);
        // A slash command: posts what it makes of the text, or does what it says instead.
        let own = customs_here();
        let text = match parley::slash::parse(&draft.get_untracked(), &own) {
            None => draft.get_untracked(),
            Some(Err(e)) => {
                error.set(Some(e.to_string()));
                return;
            }
            Some(Ok(Slash::Post(body))) => body,
            Some(Ok(Slash::Help)) => {
                error.set(None);
                help_open.set(true);
                write(String::new());
                return;
            }
            Some(Ok(command)) => {
                leptos::task::spawn_local(async move {
                    match crate::ui::slash::run(state, command).await {
                        Ok(told) => {
                            error.set(None);
                            done.set(told);
                            write(String::new());
                        }
                        Err(e) => error.set(Some(e)),
                    }
                });
                return;
            }
        };
        match MessageBody::parse_with_files(&text, files.len()) {
            Ok(body) => {
                error.set(None);
                write(String::new());
                drafts.set(Vec::new());
                send(
                    state,
                    crate::client::Sending {
                        message_id: MessageId::new(),
                        author,
                        body: body.to_string(),
                        reply_to,
                        also_in_channel: also.get_untracked(),
                        files,
                    },
                );
                also.set(false);
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    #[cfg(feature = "browser")]
    let take_files = move |files: Option<leptos::web_sys::FileList>| {
        if let Some(files) = files.filter(|f| f.length() > 0) {
            crate::ui::upload::add_files(drafts, files);
        }
    };
    // What was typed in the server's page before the app came (`client/early.js`): back
    // in the box once the page has hydrated, and sent if Enter was pressed there.
    #[cfg(feature = "browser")]
    if reply_to.is_none() {
        Effect::new(move |_| {
            if !hydrated.get() {
                return;
            }
            if let Some((text, send)) = crate::client::early_typing() {
                write(text);
                if send {
                    submit();
                }
            }
        });
    }
    let over = move || {
        let n = draft.with(|d| d.trim().chars().count());
        (n > MessageBody::MAX_CHARS - 200).then(|| format!("{n} / {}", MessageBody::MAX_CHARS))
    };
    // `@name` completion: people of the space, or of a private channel (fetched once), and
    // everyone in the channel's history.
    // For the channel they were fetched for: the space's people, and the private channel's.
    let members = RwSignal::new(None::<(ChannelId, Vec<String>, Option<Vec<String>>)>);
    let suggestions = Memo::new(move |_| {
        let draft = draft.get();
        let Some(prefix) = parley::markdown::mention_prefix(&draft) else {
            return Vec::new();
        };
        let prefix = prefix.to_ascii_lowercase();
        let me = state.me.with(|me| me.as_ref().map(|me| me.username.clone()));
        // `/invite` names someone of the space; a private channel's mentions, its people.
        let inviting = draft.trim_start().starts_with("/invite ");
        let channel = state.channel.get();
        let mut names: Vec<String> = members.with(|m| match m {
            Some((of, _, Some(inside))) if *of == channel && !inviting => inside.clone(),
            Some((of, space, _)) if *of == channel => space.clone(),
            _ => Vec::new(),
        });
        state
            .timeline
            .with(|t| names.extend(t.entries().map(|e| e.author.clone())));
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter(|n| n.starts_with(&prefix) && Some(n) != me.as_ref())
            .take(6)
            .collect::<Vec<_>>()
    });
    // On focus: the space's commands (asked each time: an admin may have added one), and its
    // people (once per channel).
    let load_members = move || {
        let channel = state.channel.get_untracked();
        let space = state.spaces.with_untracked(|spaces| {
            spaces.iter().find_map(|s| {
                let view = s.channels.iter().find(|c| c.channel_id == channel)?;
                Some((s.space_id, view.private))
            })
        });
        let Some((space, private)) = space else {
            return;
        };
        leptos::task::spawn_local(async move {
            if let Ok(names) = crate::api::space_commands(space).await {
                customs.set(Some((channel, names)));
            }
        });
        if members.with_untracked(|m| m.as_ref().is_none_or(|(of, _, _)| *of != channel)) {
            leptos::task::spawn_local(async move {
                let names =
                    |list: Vec<crate::api::MemberView>| list.into_iter().map(|m| m.username).collect::<Vec<_>>();
                let Ok(everyone) = crate::api::members(space).await else {
                    return;
                };
                let inside = if private {
                    match crate::api::channel_members(space, channel).await {
                        Ok(list) => Some(names(list)),
                        Err(_) => return,
                    }
                } else {
                    None
                };
                members.set(Some((channel, names(everyone), inside)));
            });
        }
    };
    let complete = move |name: String| write(parley::markdown::complete_mention(&draft.get_untracked(), &name));
    // `:shortcode` completion: the catalogue is fetched the first time one is typed.
    let emoji_ready = RwSignal::new(crate::client::emoji::loaded().is_some());
    Effect::new(move |_| {
        let typing_one = draft.with(|d| parley::emoji::shortcode_prefix(d).is_some());
        if typing_one && !emoji_ready.get_untracked() {
            leptos::task::spawn_local(async move {
                if crate::client::emoji::catalogue().await.is_ok() {
                    emoji_ready.set(true);
                }
            });
        }
    });
    let emoji_found = Memo::new(move |_| {
        let draft = draft.get();
        let Some(prefix) = parley::emoji::shortcode_prefix(&draft) else {
            return Vec::new();
        };
        if !emoji_ready.get() {
            return Vec::new();
        }
        let tone = crate::client::emoji::tone();
        crate::client::emoji::loaded()
            .map(|catalogue| {
                catalogue
                    .find(prefix, 6)
                    .into_iter()
                    .map(|e| {
                        let code = e.shortcodes.first().cloned().unwrap_or_else(|| e.name.clone());
                        (e.in_tone(tone).to_owned(), code)
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    let choose_command = Callback::new(move |command: Offer| write(parley::slash::complete(&command)));
    let complete_emoji = move |emoji: String| {
        crate::client::emoji::used(&emoji);
        write(parley::emoji::complete_shortcode(&draft.get_untracked(), &emoji));
    };
    view! {
        <form
            class="composer"
            on:submit=move |ev| {
                ev.prevent_default();
                submit();
            }
            on:dragover=move |ev| ev.prevent_default()
            on:drop=move |ev| {
                ev.prevent_default();
                #[cfg(feature = "browser")]
                take_files(ev.data_transfer().and_then(|d| d.files()));
                #[cfg(not(feature = "browser"))]
                let _ = ev;
            }
        >
            <crate::ui::upload::DraftChips drafts />
            <input
                type="file"
                multiple
                class="file-input"
                data-testid="file-input"
                node_ref=picker
                on:change=move |_| {
                    #[cfg(feature = "browser")]
                    if let Some(input) = picker.get_untracked() {
                        take_files(input.files());
                        input.set_value("");
                    }
                }
            />
            <button
                type="button"
                class="attach"
                data-testid="attach"
                aria-label="Attach files"
                title="Attach files (or drop or paste them here)"
                disabled=move || !hydrated.get() || state.me.with(Option::is_none)
                on:click=move |_| {
                    if let Some(input) = picker.get_untracked() {
                        input.click();
                    }
                }
            >
                <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                    <path
                        d="M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48"
                        fill="none"
                        stroke="currentColor"
                        stroke-width="2"
                        stroke-linecap="round"
                        stroke-linejoin="round"
                    ></path>
                </svg>
            </button>
            <textarea
                // The channel's box (the skip link's target, and where `client/early.js`
                // keeps what is typed before the app has come).
                id=reply_to.is_none().then_some("composer")
                data-testid=if reply_to.is_some() { "thread-composer" } else { "composer" }
                rows="1"
                placeholder=move || {
                    if reply_to.is_some() {
                        "Reply in thread".to_string()
                    } else {
                        format!("Message #{}", crate::ui::spaces::channel_title(state).0)
                    }
                }
                aria-label=if reply_to.is_some() { "Reply" } else { "Message" }
                prop:value=move || draft.get()
                on:input=move |ev| {
                    write(event_target_value(&ev));
                    say_typing(state);
                }
                on:focus=move |_| load_members()
                on:paste=move |ev| {
                    #[cfg(feature = "browser")]
                    {
                        let files = ev.clipboard_data().and_then(|d| d.files());
                        if files.as_ref().is_some_and(|f| f.length() > 0) {
                            ev.prevent_default();
                            take_files(files);
                        }
                    }
                    #[cfg(not(feature = "browser"))]
                    let _ = ev;
                }
                on:keydown=move |ev| {
                    let first = suggestions.with_untracked(|s| s.first().cloned());
                    let first_emoji = emoji_found.with_untracked(|s| s.first().map(|(e, _)| e.clone()));
                    // A command typed whole that needs nothing more runs on Enter; otherwise
                    // Tab or Enter completes the first one offered.
                    let first_command = commands.with_untracked(|c| c.first().cloned()).filter(|command| {
                        let whole = draft.with_untracked(|d| d.trim().eq_ignore_ascii_case(&format!("/{}", command.name)));
                        let needs_more = !command.args.is_empty() && !command.args.starts_with('[');
                        !(whole && !needs_more && ev.key() == "Enter")
                    });
                    if let (Some(command), "Tab" | "Enter") = (first_command, ev.key().as_str())
                        && !ev.shift_key()
                    {
                        ev.prevent_default();
                        choose_command.run(command);
                    } else if let (Some(emoji), "Tab" | "Enter") = (first_emoji, ev.key().as_str())
                        && !ev.shift_key()
                    {
                        ev.prevent_default();
                        complete_emoji(emoji);
                    } else if let (Some(name), "Tab" | "Enter") = (first, ev.key().as_str())
                        && !ev.shift_key()
                    {
                        ev.prevent_default();
                        complete(name);
                    } else if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    } else if ev.key() == "ArrowUp" && !has_modifier(&ev) && draft.with_untracked(String::is_empty)
                        && let Some(last) = last_own_message(state, reply_to)
                    {
                        // As in most chat apps: ↑ in an empty composer edits your last message.
                        ev.prevent_default();
                        state.edit_request.set(Some(last));
                    }
                }
                aria-autocomplete="list"
                // It takes text from the server's page on: what is typed before the app has
                // come is put back as it hydrates (the effect on `client::early_typing` above).
                disabled=move || hydrated.get() && state.me.with(Option::is_none)
            ></textarea>
            <crate::ui::slash::CommandList commands choose=choose_command />
            <crate::ui::slash::CommandHelpList open=help_open />
            <Show when=move || suggestions.with(|s| !s.is_empty())>
                <ul class="mentions" role="listbox" data-testid="mention-suggestions">
                    {move || {
                        suggestions
                            .get()
                            .into_iter()
                            .enumerate()
                            .map(|(i, name)| {
                                let chosen = name.clone();
                                view! {
                                    <li
                                        role="option"
                                        aria-selected=(i == 0).to_string()
                                        on:mousedown=move |ev| {
                                            ev.prevent_default();
                                            complete(chosen.clone());
                                        }
                                    >
                                        "@"
                                        {name}
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </Show>
            <Show when=move || emoji_found.with(|s| !s.is_empty())>
                <ul class="mentions" role="listbox" data-testid="emoji-suggestions">
                    {move || {
                        emoji_found
                            .get()
                            .into_iter()
                            .enumerate()
                            .map(|(i, (emoji, code))| {
                                let chosen = emoji.clone();
                                view! {
                                    <li
                                        role="option"
                                        aria-selected=(i == 0).to_string()
                                        on:mousedown=move |ev| {
                                            ev.prevent_default();
                                            complete_emoji(chosen.clone());
                                        }
                                    >
                                        {emoji}
                                        " :"
                                        {code}
                                        ":"
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </Show>
            <button type="submit" class="send" disabled=move || !hydrated.get()>
                "Send"
            </button>
            <div class="typing" data-testid="typing" aria-live="polite">
                {move || {
                    let now = now_ms();
                    state.typing.with(|t| t.label(now)).unwrap_or_default()
                }}
            </div>
            {reply_to
                .is_some()
                .then(|| {
                    view! {
                        <label class="also-in-channel">
                            <input
                                type="checkbox"
                                data-testid="also-in-channel"
                                prop:checked=move || also.get()
                                on:change=move |ev| also.set(event_target_checked(&ev))
                            />
                            {move || format!(" Also send to #{}", crate::ui::spaces::channel_title(state).0)}
                        </label>
                    }
                })}
            <div class="composer-note">
                {move || error.get().map(|e| view! { <span class="error" role="alert" data-testid="composer-error">{e}</span> })}
                {move || done.get().map(|d| view! { <span class="hint" role="status" data-testid="command-done">{d}</span> })}
                {move || {
                    state
                        .notice
                        .get()
                        .map(|e| view! { <span class="error" role="alert" data-testid="notice">{e}</span> })
                }}
                {move || over().map(|c| view! { <span class="count">{c}</span> })}
            </div>
        </form>
    }
}

/// Shows a message at once as pending, then sends it; the ack or the failure updates it.
fn send(state: ChatState, message: crate::client::Sending) {
    match message.reply_to {
        None => state.stick.set(true),
        // Posting in a thread follows it (the server records the same when it stores it).
        Some(root) => {
            let channel = state.channel.get_untracked();
            state
                .threads
                .update(|t| t.follow(root, channel, parley::Position::ZERO));
        }
    }
    #[cfg(feature = "browser")]
    crate::client::live::send(state, message);
    #[cfg(not(feature = "browser"))]
    let _ = message;
}

/// Tells the others in the channel that this user is typing (throttled by the client).
fn say_typing(state: ChatState) {
    #[cfg(feature = "browser")]
    crate::client::live::typing(state);
    #[cfg(not(feature = "browser"))]
    let _ = state;
}

/// The wall clock in milliseconds (0 on the server, where nobody is typing yet).
fn now_ms() -> f64 {
    #[cfg(feature = "browser")]
    return js_sys::Date::now();
    #[cfg(not(feature = "browser"))]
    0.0
}

/// Opens a message's thread beside the channel, fetching its replies.
pub(crate) fn open_thread(state: ChatState, root: MessageId) {
    state.thread.set(Some(root));
    #[cfg(feature = "browser")]
    crate::client::live::load_thread(state, root);
}

/// A thread beside the channel: its root, quoted, then its replies and a composer for more.
#[component]
fn ThreadPanel(state: ChatState, root: MessageId, hydrated: RwSignal<bool>) -> impl IntoView {
    let replies = Memo::new(move |_| state.timeline.with(|t| t.thread(root).cloned().collect::<Vec<_>>()));
    let by_id = Memo::new(move |_| {
        state.timeline.with(|t| {
            t.get(root)
                .into_iter()
                .chain(t.thread(root))
                .map(|e| (e.message_id, e.clone()))
                .collect::<HashMap<_, _>>()
        })
    });
    // Its author, while it is here (an erased account's root is drawn anew).
    let root_shown = Memo::new(move |_| by_id.with(|m| m.get(&root).map(|e| e.author.clone())));
    crate::ui::threads::mark_read_while_open(state, root);
    view! {
        <aside class="thread" data-testid="thread" aria-label="Thread">
            <header class="thread-head">
                <h2>"Thread"</h2>
                <crate::ui::threads::FollowButton state root />
                <button class="close" data-testid="close-thread" on:click=move |_| state.thread.set(None)>
                    "Close"
                </button>
            </header>
            <div class="thread-body">
                {move || {
                    root_shown
                        .get()
                        .and_then(|_| by_id.with_untracked(|m| m.get(&root).cloned()))
                        .map(|entry| {
                            view! {
                                <ol class="messages thread-root" data-testid="thread-root">
                                    <MessageItem entry=following(by_id, entry) state />
                                </ol>
                            }
                        })
                }}
                <ol
                    class="messages thread-replies"
                    data-testid="thread-replies"
                    on:keydown=|ev| crate::ui::keys::list_keydown(&ev)
                >
                    <For each=move || replies.get() key=|e: &Entry| (e.message_id, e.author.clone()) let:entry>
                        <MessageItem entry=following(by_id, entry) state />
                    </For>
                </ol>
            </div>
            <Composer state hydrated reply_to=Some(root) />
        </aside>
    }
}

/// A line's message as it changes, found by its id in `by_id`; the last copy seen while
/// the line is on its way out.
fn following(by_id: Memo<HashMap<MessageId, Entry>>, first: Entry) -> Signal<Entry> {
    let id = first.message_id;
    Memo::new(move |last: Option<&Entry>| {
        by_id
            .with(|m| m.get(&id).cloned())
            .or_else(|| last.cloned())
            .unwrap_or_else(|| first.clone())
    })
    .into()
}

fn retry(state: ChatState, message_id: MessageId) {
    #[cfg(feature = "browser")]
    crate::client::live::retry(state, message_id);
    #[cfg(not(feature = "browser"))]
    let _ = (state, message_id);
}

/// Fetches the page before the oldest message, keeping what the reader sees in place.
fn load_older(state: ChatState, list: leptos::web_sys::HtmlOListElement) {
    #[cfg(feature = "browser")]
    {
        let (height, top) = (list.scroll_height(), list.scroll_top());
        crate::client::live::load_older(state, move || {
            // The reader may have jumped to the newest message while the page was on its
            // way: then they stay there rather than being thrown back to where they were.
            request_animation_frame(move || {
                let top = if state.stick.get_untracked() {
                    list.scroll_height()
                } else {
                    list.scroll_height() - height + top
                };
                list.set_scroll_top(top);
            });
        });
    }
    #[cfg(not(feature = "browser"))]
    let _ = (state, list);
}

/// Someone signed in on this page: remember it, tell the other tabs, start the client.
fn signed_in_here(state: ChatState, me: Me) {
    crate::ui::auth::remember(Some(&me));
    state.me.set(Some(me.clone()));
    #[cfg(feature = "browser")]
    {
        crate::client::live::tell_signed_in(me.username);
        crate::client::live::start(state);
        crate::state::refresh(state);
    }
}
