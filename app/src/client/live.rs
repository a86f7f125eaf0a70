//! The browser's client: paints the channel from IndexedDB, follows it from its cursor over the browser's one WebSocket (`link`), sends posts through the outbox, and keeps sibling tabs in step.

use crate::api::{AppError, ChangeRequest, change_message, history, post_message, sign_out as end_session, whoami};
use crate::client::link::{self, browser_event};
use crate::client::local::{LocalStore, OutboxItem};
use crate::client::sync::Tabs;
use crate::client::{CACHED_PAGE, Sending};
use crate::state::{ChatState, Connection};
use crate::ui::upload::OutboxFile;
use futures::{FutureExt, StreamExt};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::protocol::{ClientFrame, ServerFrame};
use parley::relay::Interest;
use parley::tabs::TabMessage;
use parley::timeline::{PendingChange, Timeline};
use parley::typing::Typists;
use parley::{ChannelId, MessageId, MessageView, Position};
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

/// At most this many frames are applied (and their events kept) as one run.
const FRAME_RUN: usize = 512;
/// How many of the newest cached messages a channel's first paint draws (more than a tall
/// screen shows); the rest of its cached page follows in the next frame.
const FIRST_PAINT: usize = 50;
/// Messages in the first page from the server, when nothing is cached.
const FIRST_PAGE: u32 = 100;
const OLDER_PAGE: u32 = 50;
const SIDEBAR_REFRESH_MS: u32 = 15_000;

/// The page's client. One per page; it lives as long as the page.
struct Client {
    state: ChatState,
    local: Option<LocalStore>,
    /// Posts this tab is sending now: never two requests for one message from one tab.
    in_flight: RefCell<HashSet<MessageId>>,
    loading_older: Cell<bool>,
    no_older: Cell<bool>,
    /// Wakes the tab's loop when another channel is opened.
    switched: futures::channel::mpsc::UnboundedSender<()>,
    /// The channel this tab has told the socket's holder it follows (none while it paints
    /// another): the channel's events count from then on.
    following: Cell<Option<ChannelId>>,
    /// Where it last followed the channel from, how many times it followed from a position,
    /// and whether that turn's catch-up came: only then is the timeline's cursor one to
    /// resume from (before, the events heard may skip some).
    since: Cell<Position>,
    turn: Cell<u64>,
    caught_up: Cell<bool>,
    /// When this tab last said its user is typing.
    typed_at: Cell<f64>,
    /// Messages waiting their turn to be sent: one at a time, in the order written, so
    /// the server stores them in that order.
    queue: RefCell<std::collections::VecDeque<(ChatState, Kept)>>,
    /// Whether a task is sending the queue now.
    draining: Cell<bool>,
    /// The files of messages the browser would not store (its storage full): a retry from
    /// this page still has them.
    unkept: RefCell<std::collections::HashMap<MessageId, Vec<OutboxFile>>>,
}

thread_local! {
    static CLIENT: RefCell<Option<Rc<Client>>> = const { RefCell::new(None) };
    static TABS: RefCell<Option<Tabs>> = const { RefCell::new(None) };
}

/// Joins the other tabs of this browser: from now on this tab hears their notes.
pub fn listen_to_tabs(state: ChatState) {
    let tabs = Tabs::open(move |note| on_note(state, note));
    TABS.with(|t| *t.borrow_mut() = tabs);
}

/// Tells the other tabs.
fn tell(note: TabMessage) {
    TABS.with(|t| {
        if let Some(tabs) = t.borrow().as_ref() {
            tabs.tell(&note);
        }
    });
}

fn client() -> Option<Rc<Client>> {
    CLIENT.with(|c| c.borrow().clone())
}

impl Client {
    /// Whether the events of `channel` count here now: it is open and followed.
    fn follows(&self, channel: ChannelId) -> bool {
        self.following.get() == Some(channel) && self.state.channel.get_untracked() == channel
    }

    async fn persist(&self, channel: ChannelId, messages: &[MessageView], cursor: Option<Position>) {
        if let Some(local) = &self.local
            && let Err(e) = local.save(channel, messages, cursor).await
        {
            leptos::logging::warn!("{e}");
        }
    }
}

/// How much history this browser keeps (`parley::cache::Budget`); a `parley.cache.channels`
/// entry in localStorage lowers the channel count (the browser test of eviction sets it).
fn cache_budget() -> parley::cache::Budget {
    let channels = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item("parley.cache.channels").ok().flatten())
        .and_then(|raw| raw.parse::<usize>().ok());
    let budget = parley::cache::Budget::default();
    parley::cache::Budget {
        channels: channels.unwrap_or(budget.channels).clamp(1, budget.channels),
        ..budget
    }
}

/// Asks the browser to keep this site's storage under pressure (the outbox holds messages
/// not yet sent): granted or not, the app works the same.
fn ask_persistent_storage() {
    let storage = web_sys::window().map(|w| w.navigator().storage());
    if let Some(storage) = storage
        && let Ok(asked) = storage.persist()
    {
        spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(asked).await;
        });
    }
}

/// Starts the client for the signed-in user. Runs until the page goes away.
pub fn start(state: ChatState) {
    if client().is_some() {
        return;
    }
    register_service_worker();
    ask_persistent_storage();
    crate::client::snapshot::keep_on_leaving(state);
    crate::state::refresh_saved(state);
    crate::state::refresh_threads(state);
    // Spaces joined and conversations opened by others show up without a reload: the
    // sidebar asks again now and then, and whenever the tab comes back into view.
    spawn_local(async move {
        loop {
            futures::select! {
                () = TimeoutFuture::new(SIDEBAR_REFRESH_MS).fuse() => {},
                () = browser_event("focus").fuse() => {},
            }
            crate::state::refresh(state);
        }
    });
    // Presence: this page going out of view (or back) is told to the server.
    state.visible.set(!page_hidden());
    spawn_local(async move {
        loop {
            browser_event("visibilitychange").await;
            state.visible.set(!page_hidden());
            follow_here();
        }
    });
    // Watch every channel of the sidebar for new messages (badges, notifications), again
    // whenever the sidebar changes; and keep the read marker of the open channel moving.
    Effect::new(move |watched: Option<Vec<ChannelId>>| {
        let _ = (state.spaces.track(), state.directs.track());
        let channels = watch_list(state);
        if watched.as_ref() != Some(&channels) {
            follow_here();
            // A channel new to the sidebar (a conversation just opened) gets its count.
            if watched.is_some() {
                crate::state::refresh_unreads(state);
            }
        }
        channels
    });
    Effect::new(move |_| mark_read(state));
    // The page opened from what this browser remembers; the server has the last word.
    spawn_local(async move {
        if let Ok(None) = whoami().await {
            signed_out_here();
        }
    });
    spawn_local(async move {
        let local = match LocalStore::opened().await {
            Ok(local) => Some(local),
            Err(e) => {
                leptos::logging::warn!("{e}; history will not be cached");
                None
            }
        };
        let (switched, mut switches) = futures::channel::mpsc::unbounded();
        let client = Rc::new(Client {
            state,
            local,
            in_flight: RefCell::default(),
            loading_older: Cell::new(false),
            no_older: Cell::new(false),
            switched,
            following: Cell::new(None),
            since: Cell::new(Position::ZERO),
            turn: Cell::new(0),
            caught_up: Cell::new(false),
            typed_at: Cell::new(f64::MIN),
            queue: RefCell::default(),
            draining: Cell::new(false),
            unkept: RefCell::default(),
        });
        CLIENT.with(|c| *c.borrow_mut() = Some(client.clone()));
        // The drafts this browser kept: each composer finds its own. Read beside the cached
        // history, not before it (one IndexedDB round trip less before the paint).
        let drafting = client.clone();
        spawn_local(async move {
            if let Some(local) = &drafting.local {
                match local.drafts().await {
                    Ok(kept) => state.drafts.update(|drafts| {
                        for draft in kept {
                            drafts.apply(draft);
                        }
                    }),
                    Err(e) => leptos::logging::warn!("{e}"),
                }
            }
        });

        // Mutes and saves set while the server could not be reached (before a reload too)
        // show as set until it has them. Beside the paint, not before it.
        spawn_local(async move {
            // Channels read while the server could not be told: read here all the same, and
            // told when the connection is back.
            for (channel, position) in crate::client::settings::kept_markers().await {
                state.unreads.update(|u| u.read(channel, position));
                wait_marker(channel, position);
                KEPT_MARKERS.with(|k| k.borrow_mut().insert(channel));
            }
            for (toggle, on) in crate::client::settings::kept().await {
                match toggle {
                    crate::client::settings::Toggle::Mute { channel } => {
                        state.unreads.update(|u| u.set_muted(channel, on));
                    }
                    crate::client::settings::Toggle::Save { message, .. } => state.saved.update(|s| {
                        if on {
                            s.insert(message);
                        } else {
                            s.remove(&message);
                        }
                    }),
                }
            }
        });

        // The server's frames, from this tab's socket or the one another tab holds for the
        // browser, applied in the order they came: those that came while the last run was
        // kept are the next run (a catch-up's hundreds of events, one IndexedDB write).
        let (frames, heard) = futures::channel::mpsc::unbounded::<String>();
        let reading = client.clone();
        spawn_local(async move {
            let mut runs = heard.ready_chunks(FRAME_RUN);
            while let Some(run) = runs.next().await {
                on_frames(&reading, run).await;
            }
        });
        link::open(link::Hooks {
            frame: Box::new(move |text| {
                let _ = frames.unbounded_send(text);
            }),
            down: Box::new(move |here| socket_down(state, here)),
            interest: Box::new(interest),
        });

        // Each channel opened: painted from what this browser has, then followed from there.
        loop {
            // Several switches since the last turn: only the channel now open counts.
            while switches.try_recv().is_ok() {}
            let channel = state.channel.get_untracked();
            client.following.set(None);
            paint(&client, channel).await;
            send_held();
            if state.channel.get_untracked() != channel {
                continue; // another channel was opened meanwhile
            }
            // In the same turn as the cursor is read: every event of the channel heard from
            // now on either comes after it or is sent again from it.
            client.following.set(Some(channel));
            client.caught_up.set(true);
            if let Some(interest) = interest(true) {
                link::follow(interest);
            }
            if switches.next().await.is_none() {
                return;
            }
        }
    });
}

/// What this tab follows: the channel on screen from the position it can resume from,
/// whether the page is out of view, and the sidebar's channels. None while a channel is
/// painted. `anew`: a new turn, following from that position again.
fn interest(anew: bool) -> Option<Interest> {
    let client = client()?;
    let state = client.state;
    let channel = client.following.get()?;
    let after = if client.caught_up.get() {
        state.timeline.with_untracked(|t| t.cursor())
    } else {
        client.since.get()
    };
    if anew {
        client.since.set(after);
        client.caught_up.set(false);
        client.turn.set(client.turn.get() + 1);
    }
    Some(Interest {
        channel,
        after,
        hidden: page_hidden(),
        watch: watch_list(state),
        turn: client.turn.get(),
    })
}

/// Tells the socket's holder whether this tab is in view and what its sidebar watches.
fn follow_here() {
    if let Some(interest) = interest(false) {
        link::follow(interest);
    }
}

/// The socket closed (`here`: this tab's own): the connection shows as down until the next
/// catch-up; when this tab held it and the session is gone (signed out elsewhere, expired),
/// say so now rather than reconnecting for ever.
fn socket_down(state: ChatState, here: bool) {
    let online = web_sys::window().is_none_or(|w| w.navigator().on_line());
    state.connection.set(if online {
        Connection::Reconnecting
    } else {
        Connection::Offline
    });
    if here && online {
        spawn_local(async move {
            if let Ok(None) = whoami().await {
                signed_out_here();
            }
        });
    }
}

/// Opens another channel: the page shows it from the cache at once, then follows it.
pub fn switch(state: ChatState, channel: ChannelId) {
    if state.channel.get_untracked() == channel {
        return;
    }
    // In the same turn as the channel: nothing reads the channel left behind as this one's
    // (its cursor would move this one's read marker) before it is painted.
    state.timeline.set(Timeline::new());
    state.channel.set(channel);
    state.unavailable.set(None);
    state.typing.set(Typists::default());
    if let Some(client) = client() {
        client.no_older.set(false);
        // The channel left behind: its events no longer count here.
        client.following.set(None);
        let _ = client.switched.unbounded_send(());
    }
}

/// Shows a channel from what this browser has: its cached history and cursor, and its
/// unsent messages; with nothing cached, the newest page from the server.
async fn paint(client: &Rc<Client>, channel: ChannelId) {
    let state = client.state;
    state.timeline.set(Timeline::new());
    state.stick.set(true);
    let mut cursor = Position::ZERO;
    if let Some(local) = &client.local {
        // The cache stays within its budget: the channels opened longest ago make room. On
        // its own task, so the cached history paints without waiting for it (the channel
        // on screen is never trimmed).
        let trimming = client.clone();
        spawn_local(async move {
            if let Some(local) = &trimming.local
                && let Err(e) = local
                    .opened_and_trim(channel, js_sys::Date::now(), cache_budget())
                    .await
            {
                leptos::logging::warn!("{e}");
            }
        });
        let page = match LocalStore::early_page(channel) {
            Some(page) => Ok(page),
            None => local.load(channel, CACHED_PAGE).await,
        };
        let mut older = Vec::new();
        if let Ok((mut messages, cached)) = page {
            cursor = cached;
            // The newest screenful first: the rest of the page (up to `CACHED_PAGE`, off
            // screen above it) joins it once that frame is painted. A reload's trace: each
            // cached message took about 1 ms to decode, render and lay out, and all 200 of
            // a long channel's page were drawn before the first frame.
            older = messages.drain(..messages.len().saturating_sub(FIRST_PAINT)).collect();
            state.timeline.update(|t| {
                messages.into_iter().for_each(|m| t.merge(m));
                t.restore_cursor(cached);
            });
        }
        mark_painted("parley:cached-history");
        if !older.is_empty() {
            after_paint().await;
            if state.channel.get_untracked() != channel {
                return;
            }
            state.timeline.update(|t| older.into_iter().for_each(|m| t.merge(m)));
        }
        if let Ok(outbox) = local.outbox().await {
            state.timeline.update(|t| {
                for item in outbox.into_iter().filter(|i| i.channel == channel) {
                    t.add_pending(item.message_id, item.author, item.body, item.reply_to);
                    t.attach(item.message_id, item.files.into_iter().map(|f| f.attachment).collect());
                    if let Some(error) = item.error {
                        t.fail(item.message_id, error);
                    }
                }
            });
        }
    }
    // Nothing cached: start from the newest page; older ones come on scroll.
    if cursor == Position::ZERO {
        match history(channel, None, FIRST_PAGE).await {
            Ok(page) if state.channel.get_untracked() == channel => {
                let newest = page.last().map(|m| m.position);
                state.timeline.update(|t| page.iter().cloned().for_each(|m| t.apply(m)));
                client.persist(channel, &page, newest).await;
            }
            // The server's answer about this channel (it does not exist, or is not this
            // user's to see), not a failure to reach it.
            Err(e @ (AppError::Invalid(_) | AppError::Forbidden(_))) if state.channel.get_untracked() == channel => {
                state.unavailable.set(Some((channel, e.to_string())));
            }
            _ => {}
        }
    }
    // Changes made here and not yet acknowledged show on their messages again.
    if let Some(local) = &client.local
        && let Ok(changes) = local.changes().await
        && state.channel.get_untracked() == channel
    {
        state.timeline.update(|t| {
            for change in changes.into_iter().filter(|c| c.channel == channel) {
                t.propose(change);
            }
        });
    }
}

/// Applies a run of the server's frames in order. The open channel's events are applied to
/// the timeline as they come and kept together: one IndexedDB transaction and one note to
/// the other tabs for the run, before any frame that keeps to the cache itself.
async fn on_frames(client: &Rc<Client>, run: Vec<String>) {
    let mut applied = Applied::default();
    for text in run {
        match ServerFrame::parse(&text) {
            Ok(ServerFrame::Event { channel, event }) if client.follows(channel) => {
                apply(client, channel, &event, &mut applied);
            }
            Ok(frame) => {
                if matches!(frame, ServerFrame::CaughtUp { .. } | ServerFrame::Erased { .. }) {
                    keep_run(client, std::mem::take(&mut applied)).await;
                }
                on_frame(client, frame).await;
            }
            Err(e) => leptos::logging::warn!("unreadable frame: {e}"),
        }
    }
    keep_run(client, applied).await;
}

/// The open channel's events applied to the timeline and not yet kept in the cache.
#[derive(Default)]
struct Applied {
    channel: Option<ChannelId>,
    /// Each changed message as it stands after each event, in order (a later copy wins).
    messages: Vec<MessageView>,
    /// Where the cache's cursor moves to: the last event's position, once caught up.
    cursor: Option<Position>,
}

/// One event of the followed channel: on screen now, kept with the rest of its run.
fn apply(client: &Rc<Client>, channel: ChannelId, event: &parley::RecordedEvent, applied: &mut Applied) {
    let state = client.state;
    match &event.event {
        parley::Event::MessagePosted { author, .. } => state.typing.update(|t| t.posted(author.as_str())),
        parley::Event::TopicChanged {
            channel_id,
            topic,
            description,
            ..
        } => state.set_topic(*channel_id, topic, description),
        _ => {}
    }
    let mut view = event.message_view();
    state.timeline.update(|t| match view.clone() {
        Some(view) => t.apply(view),
        // An edit, a delete or a reaction: the changed message is cached and shared.
        None => view = t.change(channel, event),
    });
    applied.channel = Some(channel);
    applied.messages.extend(view);
    // The cache's cursor says "everything up to here is kept": before this tab's catch-up,
    // what it heard may skip some, so the cursor stays.
    if client.caught_up.get() {
        applied.cursor = Some(event.position);
    }
}

/// Keeps a run's events in the cache (one transaction) and tells the other tabs.
async fn keep_run(client: &Rc<Client>, applied: Applied) {
    let Some(channel) = applied.channel else { return };
    client.persist(channel, &applied.messages, applied.cursor).await;
    if !applied.messages.is_empty() {
        tell(TabMessage::Applied {
            channel,
            messages: applied.messages,
        });
    }
}

/// Applies one of the server's frames other than the followed channel's events: presence,
/// typing, counts, settings, people, the catch-up's end.
async fn on_frame(client: &Rc<Client>, frame: ServerFrame) {
    let state = client.state;
    let channel = state.channel.get_untracked();
    let following = client.follows(channel);
    match frame {
        ServerFrame::Presence { users, full } => {
            state.presence.update(|known| {
                if full {
                    known.clear();
                }
                for (user, status) in users {
                    match status {
                        parley::presence::Status::Offline => known.remove(&user),
                        status => known.insert(user, status),
                    };
                }
            });
        }
        ServerFrame::Typing { channel: c, user } if c == channel => {
            let me = state.me.with_untracked(|me| me.as_ref().map(|me| me.username.clone()));
            if me.as_deref() != Some(user.as_str()) {
                state.typing.update(|t| t.saw(&user, js_sys::Date::now()));
                expire_typing(state);
            }
        }
        ServerFrame::Activity {
            channel: c,
            position,
            author,
            body,
            reply_to,
            also_in_channel,
        } => heard(state, c, position, &author, &body, reply_to, also_in_channel),
        ServerFrame::Personal { event } => match event.event {
            parley::Event::ChannelRead { channel_id, up_to, .. } => state.unreads.update(|u| u.read(channel_id, up_to)),
            parley::Event::ChannelMuted { channel_id, muted, .. } => {
                state.unreads.update(|u| u.set_muted(channel_id, muted))
            }
            parley::Event::ThreadFollowed {
                channel_id,
                root,
                following,
                ..
            } => state.threads.update(|t| {
                if following {
                    t.follow(root, channel_id, Position::ZERO);
                } else {
                    t.unfollow(root);
                }
            }),
            parley::Event::ThreadRead { root, up_to, .. } => state.threads.update(|t| t.read(root, up_to)),
            parley::Event::MessageSaved { message_id, saved, .. } => state.saved.update(|s| {
                if saved {
                    s.insert(message_id);
                } else {
                    s.remove(&message_id);
                }
            }),
            _ => {}
        },
        ServerFrame::Profile { person } => crate::client::people::heard(state, person.username, person.profile),
        ServerFrame::Erased { username, messages } => {
            crate::client::people::forget(state, &username);
            let mut changed = Vec::new();
            state
                .timeline
                .update(|t| changed = t.forget(channel, &username, messages));
            // Cached and shared like any change; other channels' caches take the
            // server's newer copies when they are next opened.
            let applied = Applied {
                channel: Some(channel),
                messages: changed,
                cursor: None,
            };
            keep_run(client, applied).await;
        }
        // This tab's turn has everything after where it followed from.
        ServerFrame::CaughtUp { channel: c, id, .. } if following && c == channel && id == client.turn.get() => {
            client.caught_up.set(true);
            let cursor = state.timeline.with_untracked(|t| t.cursor());
            client.persist(channel, &[], Some(cursor)).await;
            // New messages elsewhere while this socket was not watching are in the count.
            crate::state::refresh_unreads(state);
            state.connection.set(Connection::Online);
            flush_outbox(client).await;
        }
        ServerFrame::Refused { channel: c, error } if c == channel => {
            // Connected, but this channel is not there for this user: say so, and stop
            // waiting for a catch-up that will not come.
            state.unavailable.set(Some((channel, error)));
            state.connection.set(Connection::Online);
        }
        ServerFrame::Error { error } => leptos::logging::warn!("server: {error}"),
        ServerFrame::Hello { version } => {
            let mine = page_version();
            if !version.is_empty() && !mine.is_empty() && version != mine {
                state.update.set(true);
            }
        }
        _ => {}
    }
}

/// Says (at most every few seconds) that this user is typing in the open channel.
pub fn typing(state: ChatState) {
    let Some(client) = client() else { return };
    let now = js_sys::Date::now();
    if now - client.typed_at.get() < parley::typing::RENEW_MS {
        return;
    }
    let frame = ClientFrame::Typing {
        channel: state.channel.get_untracked(),
    };
    if link::send(frame) {
        client.typed_at.set(now);
    }
}

/// The channels to watch: the lobby and every channel and conversation in the sidebar.
fn watch_list(state: ChatState) -> Vec<ChannelId> {
    let mut channels = vec![ChannelId::GENERAL];
    state.spaces.with_untracked(|spaces| {
        channels.extend(spaces.iter().flat_map(|s| s.channels.iter().map(|c| c.channel_id)));
    });
    state
        .directs
        .with_untracked(|directs| channels.extend(directs.iter().map(|d| d.channel_id)));
    channels
}

/// A new message somewhere: count it (unless it is this user's own, or a thread reply,
/// which the counts leave out), and notify of a mention or a direct message when the page
/// is out of view and the channel is not muted.
fn heard(
    state: ChatState,
    channel: ChannelId,
    position: Position,
    author: &str,
    body: &str,
    reply_to: Option<MessageId>,
    also_in_channel: bool,
) {
    let me = state.me.with_untracked(|me| me.as_ref().map(|me| me.username.clone()));
    if me.as_deref() == Some(author) {
        return;
    }
    if let Some(root) = reply_to {
        // A reply in a thread this user started or is mentioned in follows it (on the
        // server, which has the last word: ask it).
        let followed = state.threads.with_untracked(|t| t.follows(root));
        let started = state
            .timeline
            .with_untracked(|t| t.get(root).is_some_and(|e| me.as_deref() == Some(e.author.as_str())));
        let mentioned = me
            .as_ref()
            .is_some_and(|me| parley::markdown::mentions(body).contains(me));
        if !followed && (started || mentioned) {
            crate::state::refresh_threads(state);
        }
        // A reply counts in the thread, if followed, and notifies like a mention unless the
        // thread is open in view (or the channel muted).
        let mut counted = false;
        state.threads.update(|t| counted = t.heard(root, position));
        let open = state.thread.get_untracked() == Some(root) && !page_hidden();
        let muted = state.unreads.with_untracked(|u| u.muted(channel));
        if counted && !open && !muted && page_hidden() {
            crate::client::notify::notify(channel, &format!("{author} replied in a thread you follow"), body);
        }
        // Also sent to the channel: it counts there as a message does (one notice is enough).
        if !also_in_channel || counted {
            return;
        }
    }
    let mentioned = me.is_some_and(|me| parley::markdown::mentions(body).contains(&me));
    state.unreads.update(|u| u.heard(channel, position, mentioned));
    let direct = state
        .directs
        .with_untracked(|d| d.iter().any(|d| d.channel_id == channel));
    let muted = state.unreads.with_untracked(|u| u.muted(channel));
    if (mentioned || direct) && !muted && page_hidden() {
        let title = if direct {
            format!("{author} wrote to you")
        } else {
            format!("{author} mentioned you")
        };
        crate::client::notify::notify(channel, &title, body);
    }
}

/// Moves the open channel's read marker to the newest message on screen, when the page is
/// in view and the reader is at the bottom. The first time a channel's marker is known,
/// it also places the "new messages" line there.
fn mark_read(state: ChatState) {
    let channel = state.channel.get();
    let Some(marker) = state.unreads.with(|u| u.read_up_to(channel)) else {
        return;
    };
    if state.divider.with_untracked(|d| d.map(|(c, _)| c)) != Some(channel) {
        // Nothing unread on opening: no line (messages arriving while one reads are not "new").
        let unread = state.unreads.with_untracked(|u| u.of(channel).0) > 0;
        let after = if unread { marker } else { Position(u64::MAX) };
        state.divider.set(Some((channel, after)));
    }
    let newest = state.timeline.with(|t| t.cursor());
    if !state.visible.get() || !state.stick.get() || newest <= marker {
        return;
    }
    state.unreads.update(|u| u.read(channel, newest));
    send_marker(channel, newest);
}

/// How long markers gather before they go to the server: one event per reader per channel
/// per interval at most, rather than one per message read (the log would grow with every
/// reader of every message). Badges here move at once; other tabs and devices follow.
const MARK_EVERY_MS: u32 = 1_500;

thread_local! {
    static MARKERS: RefCell<std::collections::HashMap<ChannelId, Position>> = RefCell::default();
    /// Channels whose marker waits in IndexedDB (see [`crate::client::settings::keep_marker`]).
    static KEPT_MARKERS: RefCell<std::collections::HashSet<ChannelId>> = RefCell::default();
}

/// Puts `channel`'s marker among those waiting to go (the furthest wins); returns it.
fn wait_marker(channel: ChannelId, position: Position) -> Position {
    MARKERS.with(|m| {
        let mut m = m.borrow_mut();
        let at = m.entry(channel).or_insert(position);
        *at = (*at).max(position);
        *at
    })
}

fn send_marker(channel: ChannelId, position: Position) {
    let first = MARKERS.with(|m| m.borrow().is_empty());
    wait_marker(channel, position);
    if !first {
        return; // a send is already waiting: it takes this one too
    }
    send_markers();
}

/// Sends the read markers waiting, in a moment (so a burst sends one each). Those that
/// cannot reach the server wait for the connection to come back ([`flush_outbox`]).
fn send_markers() {
    spawn_local(async move {
        TimeoutFuture::new(MARK_EVERY_MS).await;
        let due: Vec<(ChannelId, Position)> = MARKERS.with(|m| m.borrow_mut().drain().collect());
        for (channel, position) in due {
            match crate::api::mark_read(channel, position).await {
                Err(AppError::Transport(_)) => {
                    let newest = wait_marker(channel, position);
                    // Kept through a reload too: the server's older count must not undo it.
                    KEPT_MARKERS.with(|k| k.borrow_mut().insert(channel));
                    crate::client::settings::keep_marker(channel, Some(newest)).await;
                }
                done => {
                    if let Err(e) = done {
                        leptos::logging::warn!("read marker: {e}");
                    }
                    let waiting = MARKERS.with(|m| m.borrow().contains_key(&channel));
                    if !waiting && KEPT_MARKERS.with(|k| k.borrow_mut().remove(&channel)) {
                        crate::client::settings::keep_marker(channel, None).await;
                    }
                }
            }
        }
    });
}

pub(crate) fn page_hidden() -> bool {
    web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden())
}

/// Clears "typing" notes when they expire (each note renews while its typist types).
fn expire_typing(state: ChatState) {
    spawn_local(async move {
        TimeoutFuture::new(parley::typing::TTL_MS as u32 + 50).await;
        state.typing.update(|t| {
            t.prune(js_sys::Date::now());
        });
    });
}

/// Sends every message the outbox holds (written here, in another tab, or before a reload).
async fn flush_outbox(client: &Rc<Client>) {
    let Some(local) = &client.local else { return };
    let Ok(items) = local.outbox().await else {
        return;
    };
    let channel = client.state.channel.get_untracked();
    // Into the tab's queue, so they are stored in the order they were written.
    for item in items.into_iter().filter(|i| i.channel == channel) {
        let outgoing = Outgoing {
            message_id: item.message_id,
            author: item.author,
            body: item.body,
            reply_to: item.reply_to,
            also_in_channel: item.also_in_channel,
            files: Some(item.files),
        };
        post(client.state, outgoing);
    }
    flush_changes(client);
    // Read markers, mutes and saves made while the server could not be reached.
    if MARKERS.with(|m| !m.borrow().is_empty()) {
        send_markers();
    }
    spawn_local(crate::client::settings::flush());
}

thread_local! {
    /// Messages sent before the client was made (Enter pressed as the page hydrated, or in
    /// the server's page before it: `client/early.js`), sent once it has painted the open
    /// channel: the paint starts the timeline afresh, and only the client keeps and posts
    /// them.
    static HELD: RefCell<Vec<(ChatState, Sending)>> = const { RefCell::new(Vec::new()) };
}

/// Sends the messages held until the client had painted the open channel, in order.
fn send_held() {
    for (state, message) in HELD.with(|h| std::mem::take(&mut *h.borrow_mut())) {
        send(state, message);
    }
}

/// Shows your message at once as pending, tells the other tabs, and sends it; before the
/// client is made, holds it until the client has painted the open channel.
pub fn send(state: ChatState, message: Sending) {
    let Some(client) = client() else {
        HELD.with(|h| h.borrow_mut().push((state, message)));
        return;
    };
    // The next keystroke starts a new message: say so at once.
    client.typed_at.set(f64::MIN);
    let id = message.message_id;
    state.timeline.update(|t| {
        t.add_pending(id, message.author.clone(), message.body.clone(), message.reply_to);
        t.attach(id, message.files.iter().map(|f| f.attachment.clone()).collect());
        if message.also_in_channel {
            t.also_in_channel(id);
        }
    });
    tell(TabMessage::Pending {
        channel: state.channel.get_untracked(),
        message_id: id,
        author: message.author.clone(),
        body: message.body.clone(),
        reply_to: message.reply_to,
    });
    post(state, Outgoing::from(message));
}

/// Sends a failed message again, with the same id: the server stores it at most once.
pub fn retry(state: ChatState, message_id: MessageId) {
    let mut again = None;
    state.timeline.update(|t| again = t.retry(message_id));
    if let Some(entry) = again {
        tell(TabMessage::Retrying {
            channel: state.channel.get_untracked(),
            message_id,
        });
        let outgoing = Outgoing {
            message_id: entry.message_id,
            author: entry.author,
            body: entry.body,
            reply_to: entry.reply_to,
            also_in_channel: entry.also_in_channel,
            files: None,
        };
        post(state, outgoing);
    }
}

/// A message the composer sends goes with its files' bytes.
impl From<Sending> for Outgoing {
    fn from(message: Sending) -> Self {
        Outgoing {
            message_id: message.message_id,
            author: message.author,
            body: message.body,
            reply_to: message.reply_to,
            also_in_channel: message.also_in_channel,
            files: Some(message.files),
        }
    }
}

/// A message written to the outbox (or not: the browser refused it), ready for its turn.
type Kept = futures::channel::oneshot::Receiver<(OutboxItem, bool)>;

/// A message on its way to the server.
struct Outgoing {
    message_id: MessageId,
    author: String,
    body: String,
    reply_to: Option<MessageId>,
    /// A reply shown in its channel too.
    also_in_channel: bool,
    /// `None`: the files the outbox already holds for this message.
    files: Option<Vec<OutboxFile>>,
}

/// Keeps the message in the outbox at once (with its files' bytes), so it outlives a reload
/// even while it waits its turn, then queues it: messages go out one at a time, so two typed
/// quickly are stored in the order they were written (each is already on screen, pending).
/// The ack or the failure updates the timeline, the outbox and the other tabs.
fn post(state: ChatState, outgoing: Outgoing) {
    let Some(client) = client() else { return };
    // Queued or on its way already (a flush of the outbox meets messages this tab sends).
    if !client.in_flight.borrow_mut().insert(outgoing.message_id) {
        return;
    }
    let channel = state.channel.get_untracked();
    let (done, kept) = futures::channel::oneshot::channel();
    let keeping = client.clone();
    spawn_local(async move {
        let _ = done.send(keep(&keeping, channel, outgoing).await);
    });
    client.queue.borrow_mut().push_back((state, kept));
    if client.draining.replace(true) {
        return;
    }
    spawn_local(async move {
        loop {
            let next = client.queue.borrow_mut().pop_front();
            let Some((state, kept)) = next else { break };
            if let Ok((item, kept)) = kept.await {
                post_now(state, item, kept).await;
            }
        }
        client.draining.set(false);
    });
}

/// How long a message that did not reach the server waits before it goes again while the
/// socket is up (when it is down, it goes as soon as the socket is back).
const RESEND_AFTER_MS: u32 = 5_000;

/// Why a message shows failed when the browser would not store it and it could not go.
const NOT_KEPT: &str = "this browser's storage is full, so it could not be kept to send later. Retry once you are online, or free some space";

/// Writes the message (and the bytes of files still to upload) to the outbox; returns it
/// and whether the browser kept it (not when it refuses the write, its storage full).
async fn keep(client: &Rc<Client>, channel: ChannelId, outgoing: Outgoing) -> (OutboxItem, bool) {
    let Outgoing {
        message_id,
        author,
        body,
        reply_to,
        also_in_channel,
        files,
    } = outgoing;
    let unkept = client.unkept.borrow_mut().remove(&message_id);
    let files = match (files.or(unkept), &client.local) {
        (Some(files), _) => files,
        (None, Some(local)) => local
            .outbox_get(message_id)
            .await
            .ok()
            .flatten()
            .map(|item| item.files)
            .unwrap_or_default(),
        (None, None) => Vec::new(),
    };
    let item = OutboxItem {
        channel,
        message_id,
        author,
        body,
        error: None,
        reply_to,
        also_in_channel,
        files,
    };
    let Some(local) = &client.local else {
        return (item, false);
    };
    let mut kept = true;
    for file in item.files.iter().filter(|f| !f.attachment.uploaded()) {
        if let Some(blob) = crate::ui::upload::blob(&file.local_id)
            && let Err(e) = local.file_put(&file.local_id, &blob).await
        {
            leptos::logging::warn!("{e}");
            kept = false;
        }
    }
    if let Err(e) = local.outbox_put(&item).await {
        leptos::logging::warn!("{e}");
        kept = false;
    }
    (item, kept)
}

/// Sends one kept message ([`post`]'s turn): returns once it is acknowledged, refused or
/// kept for later.
async fn post_now(state: ChatState, mut item: OutboxItem, kept: bool) {
    let Some(client) = client() else { return };
    let (channel, message_id) = (item.channel, item.message_id);
    let result = deliver(&client, &mut item).await;
    client.in_flight.borrow_mut().remove(&message_id);
    match result {
        Ok(position) => {
            state.timeline.update(|t| t.ack(message_id, position));
            tell(TabMessage::Acked {
                channel,
                message_id,
                position,
            });
            if let Some(local) = &client.local {
                let _ = local.outbox_remove(message_id).await;
                for file in &item.files {
                    let _ = local.file_remove(&file.local_id).await;
                }
            }
        }
        Err(AppError::Unauthorized) => {
            signed_out_here();
        }
        Err(AppError::Transport(detail)) if !kept && client.local.is_some() => {
            // Neither sent nor kept: say so, rather than wait for a connection in memory.
            leptos::logging::warn!("not sent, and not kept: {detail}");
            client.unkept.borrow_mut().insert(message_id, item.files.clone());
            let text = NOT_KEPT.to_owned();
            state.timeline.update(|t| t.fail(message_id, text.clone()));
            tell(TabMessage::Failed {
                channel,
                message_id,
                error: text,
            });
        }
        Err(AppError::Transport(detail)) => {
            // Not delivered (offline, or the answer was lost on the way): not a failure.
            // It stays pending in the outbox and goes again when the connection is back,
            // or in a few seconds if the socket stayed up meanwhile (a resend stores once).
            leptos::logging::warn!("not sent yet: {detail}");
            if let Some(local) = &client.local {
                item.error = None;
                let _ = local.outbox_put(&item).await;
            }
            spawn_local(async move {
                TimeoutFuture::new(RESEND_AFTER_MS).await;
                if state.connection.get_untracked() == Connection::Online
                    && let Some(client) = self::client()
                {
                    flush_outbox(&client).await;
                }
            });
        }
        Err(error) => {
            let text = error.to_string();
            state.timeline.update(|t| t.fail(message_id, text.clone()));
            tell(TabMessage::Failed {
                channel,
                message_id,
                error: text.clone(),
            });
            if let Some(local) = &client.local {
                // Refused by the server: resending cannot help, the user may edit and
                // retry. Not delivered: keep it, it goes again when the connection returns.
                let _ = if matches!(error, AppError::Invalid(_)) {
                    local.outbox_remove(message_id).await
                } else {
                    item.error = Some(text);
                    local.outbox_put(&item).await
                };
            }
        }
    }
}

/// Uploads the message's files that still need it (from the page, or from IndexedDB after
/// a reload; uploading the same bytes twice stores them once), then posts the message.
async fn deliver(client: &Rc<Client>, item: &mut OutboxItem) -> Result<Position, AppError> {
    for i in 0..item.files.len() {
        if item.files[i].attachment.uploaded() {
            continue;
        }
        let local_id = item.files[i].local_id.clone();
        let name = item.files[i].attachment.name.clone();
        let mut blob = crate::ui::upload::blob(&local_id);
        if blob.is_none()
            && let Some(local) = &client.local
        {
            blob = local.file_get(&local_id).await.ok().flatten();
        }
        let Some(blob) = blob else {
            return Err(AppError::Invalid(format!(
                "the file {name} is no longer here; attach it again"
            )));
        };
        let uploaded = crate::ui::upload::upload(&blob, &name, |_| {})
            .await
            .map_err(|e| match e {
                crate::ui::upload::UploadFailure::Refused(e) => AppError::Invalid(format!("{name}: {e}")),
                crate::ui::upload::UploadFailure::Unreachable(e) => AppError::Transport(e),
            })?;
        item.files[i].attachment = uploaded;
        if let Some(local) = &client.local {
            let _ = local.outbox_put(item).await;
        }
        let attachments = item.files.iter().map(|f| f.attachment.clone()).collect();
        client.state.timeline.update(|t| t.attach(item.message_id, attachments));
    }
    let ids = item.files.iter().map(|f| f.attachment.file_id.clone()).collect();
    // Each attempt gets an id of its own, which the server's logs and the event carry.
    let correlation_id = Some(parley::CorrelationId::new());
    post_message(
        item.channel,
        item.message_id,
        item.body.clone(),
        item.reply_to,
        ids,
        correlation_id,
        item.also_in_channel,
    )
    .await
}

/// A draft typed in this tab: stored (the last one written wins in the store too, since
/// every tab applies the same rule before writing) and told to the other tabs.
pub fn draft_written(draft: parley::draft::Draft) {
    tell(TabMessage::Draft { draft: draft.clone() });
    spawn_local(async move {
        if let Some(client) = client()
            && let Some(local) = &client.local
            && let Err(e) = local.draft_put(&draft).await
        {
            leptos::logging::warn!("{e}");
        }
    });
}

/// What a sibling tab said.
fn on_note(state: ChatState, note: TabMessage) {
    match note {
        TabMessage::Draft { draft } => state.drafts.update(|drafts| {
            drafts.apply(draft);
        }),
        TabMessage::Pending {
            channel,
            message_id,
            author,
            body,
            reply_to,
        } if channel == state.channel.get_untracked() => {
            state.timeline.update(|t| {
                t.add_pending(message_id, author, body, reply_to);
            });
        }
        TabMessage::Acked {
            channel,
            message_id,
            position,
        } if channel == state.channel.get_untracked() => {
            state.timeline.update(|t| t.ack(message_id, position));
        }
        TabMessage::Failed {
            channel,
            message_id,
            error,
        } if channel == state.channel.get_untracked() => {
            state.timeline.update(|t| t.fail(message_id, error));
        }
        TabMessage::Retrying { channel, message_id } if channel == state.channel.get_untracked() => {
            state.timeline.update(|t| {
                t.retry(message_id);
            });
        }
        TabMessage::Changing { change } if change.channel == state.channel.get_untracked() => {
            state.timeline.update(|t| {
                t.propose(change);
            });
        }
        TabMessage::ChangeSettled {
            channel,
            change_id,
            stored_at,
        } if channel == state.channel.get_untracked() => state.timeline.update(|t| match stored_at {
            Some(position) => t.stored(change_id, position),
            None => {
                t.refused(change_id);
            }
        }),
        TabMessage::Applied { channel, messages } if channel == state.channel.get_untracked() => {
            // A new topic: the header asks for it (the tab that heard it had the event).
            let new_topic = messages.iter().any(|m| m.kind == parley::MessageKind::Topic);
            state.timeline.update(|t| messages.into_iter().for_each(|m| t.merge(m)));
            if new_topic {
                crate::state::refresh(state);
            }
        }
        // Another tab signed in or out: start again as whoever this browser now is.
        TabMessage::SignedIn { .. } | TabMessage::SignedOut | TabMessage::Reset => {
            link::close();
            crate::client::snapshot::forget_all();
            crate::state::reload_page();
        }
        _ => {}
    }
}

/// Tells the other tabs someone signed in here.
pub fn tell_signed_in(username: String) {
    tell(TabMessage::SignedIn { username });
}

/// Signs out: ends the session on the server, forgets this browser's local data, and
/// tells every tab, which reload to the sign-in form (closing their sockets).
pub fn sign_out() {
    // No socket from here on, not even one refused for want of a session.
    link::close();
    spawn_local(async move {
        // Offline, the server's session outlives this; the cookie is gone all the same
        // once the browser is told, and the local data is gone now.
        let _ = end_session().await;
        forget_everything().await;
        tell(TabMessage::SignedOut);
        crate::state::reload_page();
    });
}

/// The server says this browser's session is gone (expired, ended elsewhere, or its
/// account deleted here).
pub fn signed_out_here() {
    link::close();
    spawn_local(async move {
        forget_everything().await;
        tell(TabMessage::SignedOut);
        crate::state::reload_page();
    });
}

/// Clears who is signed in and every cached message, cursor and unsent message.
async fn forget_everything() {
    crate::ui::auth::remember(None);
    crate::client::snapshot::forget_all();
    let cleared = match client() {
        Some(client) => match &client.local {
            Some(local) => local.clear().await.is_ok(),
            None => false,
        },
        None => false,
    };
    // Signed out before the client started (or its store failed to open): open it to clear it.
    if !cleared && let Ok(local) = LocalStore::open().await {
        let _ = local.clear().await;
    }
    clear_offline_copies().await;
}

/// Deletes the service worker's copies of pages (a page rendered for the account that
/// signed out holds its messages); the worker takes new ones as pages are loaded again.
async fn clear_offline_copies() {
    let Some(caches) = web_sys::window().and_then(|w| w.caches().ok()) else {
        return;
    };
    let Ok(keys) = wasm_bindgen_futures::JsFuture::from(caches.keys()).await else {
        return;
    };
    for key in js_sys::Array::from(&keys).iter() {
        if let Some(name) = key.as_string()
            && name.starts_with("parley-")
        {
            let _ = wasm_bindgen_futures::JsFuture::from(caches.delete(&name)).await;
        }
    }
}

/// Edits, deletes, reacts to or pins a message, local-first: shown at once (the core's
/// `Timeline::propose`), kept in the outbox through reloads and lost connections, and sent
/// (again when the connection is back, in the order made; a resend is stored once, by the
/// change's id). A refusal takes it off the message and returns the reason.
pub async fn change(state: ChatState, message_id: MessageId, request: ChangeRequest) -> Result<(), String> {
    let Some(client) = client() else {
        return Err("the page is not ready yet".into());
    };
    let by = state
        .me
        .with_untracked(|me| me.as_ref().map(|me| me.username.clone()))
        .unwrap_or_default();
    let change = PendingChange {
        change_id: MessageId::new(),
        channel: state.channel.get_untracked(),
        message_id,
        by,
        request,
        stored_at: None,
    };
    state.timeline.update(|t| {
        t.propose(change.clone());
    });
    // The browser's other tabs show it too, and hear how it settles.
    tell(TabMessage::Changing { change: change.clone() });
    if let Some(local) = &client.local
        && let Err(e) = local.change_put(&change).await
    {
        // Not kept: it still goes now if it can.
        leptos::logging::warn!("{e}");
    }
    send_change(&client, change).await
}

/// Sends one change and settles it with the answer: stored (it shows until its event is
/// here), nothing to do, or refused (taken off); not sent (offline): kept for later.
async fn send_change(client: &Rc<Client>, change: PendingChange) -> Result<(), String> {
    if !client.in_flight.borrow_mut().insert(change.change_id) {
        return Ok(());
    }
    let answer = change_message(
        change.channel,
        change.message_id,
        change.request.clone(),
        Some(change.change_id),
    )
    .await;
    client.in_flight.borrow_mut().remove(&change.change_id);
    let state = client.state;
    let stored_at = match &answer {
        Ok(position) => *position,
        _ => None,
    };
    let settled = match answer {
        Ok(Some(position)) => {
            state.timeline.update(|t| t.stored(change.change_id, position));
            Ok(())
        }
        Ok(None) => {
            state.timeline.update(|t| {
                t.refused(change.change_id);
            });
            Ok(())
        }
        Err(AppError::Transport(detail)) => {
            // Kept in the outbox: it goes when the connection is back.
            leptos::logging::warn!("change not sent yet: {detail}");
            return Ok(());
        }
        Err(AppError::Unauthorized) => {
            signed_out_here();
            return Err(AppError::Unauthorized.to_string());
        }
        Err(error) => {
            state.timeline.update(|t| {
                t.refused(change.change_id);
            });
            Err(error.to_string())
        }
    };
    tell(TabMessage::ChangeSettled {
        channel: change.channel,
        change_id: change.change_id,
        stored_at,
    });
    if let Some(local) = &client.local {
        let _ = local.change_remove(change.change_id).await;
    }
    settled
}

/// Sends the changes the outbox holds (made here, in another tab, or before a reload), one
/// after another in the order made; a refusal is said above the composer.
fn flush_changes(client: &Rc<Client>) {
    let client = client.clone();
    spawn_local(async move {
        let Some(local) = &client.local else { return };
        let Ok(changes) = local.changes().await else { return };
        for change in changes {
            if let Err(e) = send_change(&client, change).await {
                client.state.notice.set(Some(e));
            }
        }
    });
}

/// Loads a whole thread (its root and replies) into the timeline and the cache.
pub fn load_thread(state: ChatState, root: MessageId) {
    let Some(client) = client() else { return };
    let channel = state.channel.get_untracked();
    spawn_local(async move {
        match crate::api::thread(channel, root).await {
            Ok(messages) if state.channel.get_untracked() == channel => {
                client.persist(channel, &messages, None).await;
                state.timeline.update(|t| messages.into_iter().for_each(|m| t.merge(m)));
            }
            Ok(_) => {}
            Err(e) => state.notice.set(Some(e.to_string())),
        }
    });
}

/// Loads the page of history before the oldest message shown, caches it, then calls `done`.
pub fn load_older(state: ChatState, done: impl FnOnce() + 'static) {
    let Some(client) = client() else { return };
    if client.loading_older.get() || client.no_older.get() {
        return;
    }
    let Some(before) = state.timeline.with_untracked(|t| t.oldest()) else {
        return;
    };
    client.loading_older.set(true);
    spawn_local(async move {
        let channel = state.channel.get_untracked();
        if let Ok(page) = history(channel, Some(before), OLDER_PAGE).await
            && state.channel.get_untracked() == channel
        {
            client.no_older.set(page.len() < OLDER_PAGE as usize);
            client.persist(channel, &page, None).await;
            state.timeline.update(|t| page.into_iter().for_each(|m| t.merge(m)));
            done();
        }
        client.loading_older.set(false);
    });
}

/// Forgets this browser's local data (cache, cursors, outbox) in every tab, and starts afresh.
pub fn reset() {
    let Some(client) = client() else { return };
    spawn_local(async move {
        crate::client::snapshot::forget_all();
        if let Some(local) = &client.local
            && let Err(e) = local.clear().await
        {
            leptos::logging::warn!("{e}");
        }
        tell(TabMessage::Reset);
        crate::state::reload_page();
    });
}

/// Resolves once the next frame has been painted: a task queued from the frame's animation
/// callback runs after that frame's rendering.
async fn after_paint() {
    let (done, painted) = futures::channel::oneshot::channel();
    request_animation_frame(move || {
        let _ = done.send(());
    });
    let _ = painted.await;
    TimeoutFuture::new(0).await;
}

/// Marks the next frame in the page's performance timeline (read by the browser tests
/// and the benchmark: navigation start → cached history on screen).
fn mark_painted(name: &'static str) {
    request_animation_frame(move || {
        if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
            let _ = performance.mark(name);
        }
    });
}

/// Lets the service worker cache the app's shell, so the page opens offline. Registered
/// with this page's build: a new build is a new worker, which keeps that build's files and
/// drops the old ones.
fn register_service_worker() {
    if let Some(window) = web_sys::window() {
        let navigator = window.navigator();
        if js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false) {
            let version = page_version();
            let script = if version.is_empty() {
                "/sw.js".to_owned()
            } else {
                format!("/sw.js?v={version}")
            };
            let _ = navigator.service_worker().register(&script);
        }
    }
}

/// The build of the site this page came from (the server puts it in a `<meta>`; empty for
/// a client-only build).
fn page_version() -> String {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector(&format!("meta[name=\"{}\"]", crate::SITE_VERSION_META))
                .ok()
                .flatten()
        })
        .and_then(|meta| meta.get_attribute("content"))
        .filter(|v| v.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_default()
}
