//! One socket per browser, from a tab's side: the tab elected by Web Locks holds the WebSocket and relays it (the core's `parley::relay`); the others follow over a BroadcastChannel.
//!
//! Every tab asks for the lock `parley-socket` when its client starts; the browser grants it
//! to one at a time and, when that tab closes (or is discarded), to the next in line, at
//! once. The holder opens the socket (reconnecting with backoff and jitter), subscribes for
//! every tab, and passes each frame the server sends to all of them. The holder beats every
//! second; a tab in view that hears nothing from it for a few seconds (it hangs, or the
//! browser froze it) takes the lock from it (`steal`), and the old holder, when it wakes,
//! finds the lock gone and follows. A browser without Web Locks or BroadcastChannel gives
//! each tab its own socket, as before.

use crate::client::sync::Tabs;
use futures::{FutureExt, SinkExt, StreamExt};
use gloo_net::websocket::{Message, futures::WebSocket};
use gloo_timers::future::TimeoutFuture;
use leptos::task::spawn_local;
use parley::protocol::{ClientFrame, ServerFrame};
use parley::relay::{BEAT_MS, Interest, LinkNote, Out, Relay, TabId, Watch};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsValue};

const LOCK: &str = "parley-socket";
const CHANNEL: &str = "parley-socket";
const MIN_BACKOFF_MS: u32 = 250;
const MAX_BACKOFF_MS: u32 = 5_000;

/// What the link asks of the tab's client.
pub struct Hooks {
    /// A frame from the server (through this tab's socket, or the leader's).
    pub frame: Box<dyn Fn(String)>,
    /// The socket closed (here, or the leader's); `here`: this tab held it.
    pub down: Box<dyn Fn(bool)>,
    /// What this tab follows now (none before its first paint); `anew`: from its position
    /// again, for a new leader.
    pub interest: Box<dyn Fn(bool) -> Option<Interest>>,
}

/// The socket this tab holds, while it leads.
struct Leading {
    relay: Relay,
    /// Frames for the open socket, while there is one.
    outgoing: Option<futures::channel::mpsc::UnboundedSender<String>>,
}

struct Link {
    me: TabId,
    /// The other tabs; none when this tab keeps a socket of its own.
    tabs: Option<Tabs>,
    hooks: Hooks,
    leading: RefCell<Option<Leading>>,
    /// Counts the times this tab started or stopped leading: a socket loop of an earlier
    /// term ends.
    term: Cell<u64>,
    /// Who leads, and when it last spoke.
    watch: RefCell<Watch>,
    /// This tab is in line for the lock.
    queued: Cell<bool>,
    /// It asked to take the lock from a silent leader, and has not got it yet.
    taking: Cell<bool>,
    /// Signed out: no socket any more, even if this tab gets the lock.
    closed: Cell<bool>,
}

thread_local! {
    static LINK: RefCell<Option<Rc<Link>>> = const { RefCell::new(None) };
}

fn link() -> Option<Rc<Link>> {
    LINK.with(|l| l.borrow().clone())
}

/// Joins the browser's tabs and stands for the socket; one call per page.
pub fn open(hooks: Hooks) {
    if link().is_some() {
        return;
    }
    let me = (js_sys::Math::random() * 9_007_199_254_740_991.0) as TabId;
    let tabs = Tabs::open_named(CHANNEL, |text| {
        if let Some(note) = LinkNote::parse(text) {
            heard_note(note);
        }
    });
    let shared = tabs.is_some();
    let made = Rc::new(Link {
        me,
        tabs,
        hooks,
        leading: RefCell::default(),
        term: Cell::new(0),
        watch: RefCell::new(Watch::new(js_sys::Date::now())),
        queued: Cell::new(false),
        taking: Cell::new(false),
        closed: Cell::new(false),
    });
    LINK.with(|l| *l.borrow_mut() = Some(made));
    // Closing, this tab lets go of what only it followed.
    spawn_local(async move {
        browser_event("pagehide").await;
        tell(&LinkNote::Leave { tab: me });
    });
    if !(shared && ask_for_lock(false)) {
        lead();
        return;
    }
    // The holder beats; the others watch it.
    spawn_local(async move {
        loop {
            TimeoutFuture::new(BEAT_MS as u32).await;
            let Some(link) = self::link() else { return };
            if link.closed.get() {
                return;
            }
            if link.leading.borrow().is_some() {
                tell(&LinkNote::Beat { tab: link.me });
            } else if !link.taking.get()
                && link
                    .watch
                    .borrow()
                    .should_take_over(js_sys::Date::now(), !crate::client::live::page_hidden())
            {
                link.taking.set(ask_for_lock(true));
            }
        }
    });
}

/// Ends this tab's part for good (signed out, the page about to go): its socket closes if
/// it holds it, and it opens none when the lock comes to it later.
pub fn close() {
    let Some(link) = link() else { return };
    link.closed.set(true);
    if let Some(leading) = link.leading.borrow_mut().as_mut() {
        // The socket's loop sees its frames end and closes it.
        leading.outgoing = None;
    }
}

/// Another tab holds the lock now (it took it while this one hung or was frozen): this tab's
/// socket closes, and it follows that tab, in line for the lock again.
fn step_down() {
    let Some(link) = link() else { return };
    // Dropping what it led ends the socket's loop (its frames end) and closes the socket.
    if link.leading.borrow_mut().take().is_none() {
        return;
    }
    link.term.set(link.term.get() + 1);
    if !link.queued.get() && !link.closed.get() {
        ask_for_lock(false);
    }
}

/// Tells the leader what this tab follows now.
pub fn follow(interest: Interest) {
    let Some(link) = link() else { return };
    let outs = match link.leading.borrow_mut().as_mut() {
        Some(leading) => leading.relay.follow(link.me, interest),
        None => {
            tell(&LinkNote::Follow { tab: link.me, interest });
            return;
        }
    };
    dispatch(&link, outs);
}

/// Sends a frame through the socket (typing); whether it was handed on.
pub fn send(frame: ClientFrame) -> bool {
    let Some(link) = link() else { return false };
    let out = match link.leading.borrow().as_ref() {
        Some(leading) => leading.relay.pass(frame),
        None => {
            tell(&LinkNote::Send { tab: link.me, frame });
            return true;
        }
    };
    let sent = out.is_some();
    dispatch(&link, out.into_iter().collect());
    sent
}

fn tell(note: &LinkNote) {
    if let Some(link) = link()
        && let Some(tabs) = &link.tabs
    {
        tabs.tell_text(&note.to_json());
    }
}

/// A note from another tab.
fn heard_note(note: LinkNote) {
    let Some(link) = link() else { return };
    let now = js_sys::Date::now();
    match note {
        LinkNote::Heard { from, to, frame }
            if to.is_none_or(|to| to == link.me) && link.watch.borrow().takes_from(from) =>
        {
            (link.hooks.frame)(frame)
        }
        LinkNote::Down => (link.hooks.down)(false),
        LinkNote::Beat { tab } if tab != link.me => {
            link.watch.borrow_mut().beat(tab, now);
            // Only one tab can hold the lock: another beating means it was taken from this one.
            step_down();
        }
        // Another tab leads now: tell it what this one follows.
        LinkNote::Leader { tab } if tab != link.me => {
            link.watch.borrow_mut().leader(tab, now);
            step_down();
            if let Some(interest) = (link.hooks.interest)(true) {
                tell(&LinkNote::Follow { tab: link.me, interest });
            }
        }
        LinkNote::Follow { tab, interest } => {
            let outs = link
                .leading
                .borrow_mut()
                .as_mut()
                .map(|l| l.relay.follow(tab, interest))
                .unwrap_or_default();
            dispatch(&link, outs);
        }
        LinkNote::Leave { tab } => {
            let outs = link
                .leading
                .borrow_mut()
                .as_mut()
                .map(|l| l.relay.leave(tab))
                .unwrap_or_default();
            dispatch(&link, outs);
        }
        LinkNote::Send { frame, .. } => {
            let out = link.leading.borrow().as_ref().and_then(|l| l.relay.pass(frame));
            dispatch(&link, out.into_iter().collect());
        }
        _ => {}
    }
}

/// Carries out what the relay decided: frames onto the socket, answers to one tab.
fn dispatch(link: &Link, outs: Vec<Out>) {
    for out in outs {
        match out {
            Out::Socket(frame) => {
                if let Some(outgoing) = link.leading.borrow().as_ref().and_then(|l| l.outgoing.as_ref()) {
                    let _ = outgoing.unbounded_send(frame.to_json());
                }
            }
            Out::Tab(tab, frame) if tab == link.me => (link.hooks.frame)(frame.to_json()),
            Out::Tab(tab, frame) => tell(&LinkNote::Heard {
                from: link.me,
                to: Some(tab),
                frame: frame.to_json(),
            }),
            // Only for a frame just heard (see `connect`).
            Out::Pass => {}
        }
    }
}

/// Asks the browser for the socket's lock: in line (`steal` false), this tab leads when it
/// gets it (at once, or when the tab holding it goes); `steal`, at once, from a holder that
/// stopped beating. Either way, when the lock is later taken from this tab, it steps down.
/// False when the browser has no Web Locks.
fn ask_for_lock(steal: bool) -> bool {
    let Some(window) = web_sys::window() else { return false };
    let navigator = window.navigator();
    let Ok(locks) = js_sys::Reflect::get(&navigator, &"locks".into()) else {
        return false;
    };
    let Some(request) = js_sys::Reflect::get(&locks, &"request".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    else {
        return false;
    };
    let on_granted = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
        if let Some(link) = link() {
            if steal {
                link.taking.set(false);
            } else {
                link.queued.set(false);
            }
        }
        lead();
        // Held as long as the page lives: a promise that never settles.
        js_sys::Promise::new(&mut |_, _| {})
    });
    let options = js_sys::Object::new();
    if steal {
        let _ = js_sys::Reflect::set(&options, &"steal".into(), &true.into());
    }
    let Ok(held) = request.call3(&locks, &LOCK.into(), &options, &on_granted) else {
        return false;
    };
    if !steal && let Some(link) = link() {
        link.queued.set(true);
    }
    // The request's promise fails when another tab takes the lock from this one (or when
    // this one's own request to take it fails).
    if let Ok(held) = held.dyn_into::<js_sys::Promise>() {
        let lost = Closure::once(move |_: JsValue| {
            if let Some(link) = link() {
                link.taking.set(false);
            }
            step_down();
        });
        let _ = held.catch(&lost);
        // Lives as long as the request: once per time this tab gets in line.
        lost.forget();
    }
    true
}

/// This tab holds the socket from now on: it asks every tab what it follows, and keeps
/// a socket open for all of them.
fn lead() {
    let Some(link) = link() else { return };
    if link.closed.get() || link.leading.borrow().is_some() {
        return;
    }
    let term = link.term.get() + 1;
    link.term.set(term);
    link.watch.borrow_mut().leader(link.me, js_sys::Date::now());
    let mut relay = Relay::new();
    // Not yet connected: the relay answers nothing until the socket is open.
    if let Some(interest) = (link.hooks.interest)(true) {
        relay.follow(link.me, interest);
    }
    *link.leading.borrow_mut() = Some(Leading { relay, outgoing: None });
    tell(&LinkNote::Leader { tab: link.me });
    spawn_local(async move {
        let mut backoff = MIN_BACKOFF_MS;
        // Until the page signs out, or another tab takes the lock.
        let current = || !link.closed.get() && link.term.get() == term;
        while current() {
            if connect(&link).await {
                backoff = MIN_BACKOFF_MS;
            }
            if !current() {
                return;
            }
            tell(&LinkNote::Down);
            (link.hooks.down)(true);
            // Full jitter: reconnecting clients spread out instead of arriving together.
            let wait = (js_sys::Math::random() * f64::from(backoff)) as u32 + MIN_BACKOFF_MS;
            futures::select! {
                () = TimeoutFuture::new(wait).fuse() => {},
                () = browser_event("online").fuse() => {},
            }
            backoff = (backoff * 2).min(MAX_BACKOFF_MS);
        }
    });
}

/// One socket's life: subscribe for every tab, pass on what the server sends; it ends when
/// the socket does or the browser goes offline. Returns whether a channel caught up on it.
async fn connect(link: &Rc<Link>) -> bool {
    if link.closed.get() || link.leading.borrow().is_none() {
        return false;
    }
    let Ok(socket) = WebSocket::open(&socket_url()) else {
        return false;
    };
    let (mut tx, mut rx) = socket.split();
    let (outgoing, mut to_send) = futures::channel::mpsc::unbounded::<String>();
    {
        let mut leading = link.leading.borrow_mut();
        let Some(leading) = leading.as_mut() else { return false };
        // What the new socket needs first goes out first.
        for frame in leading.relay.connected() {
            let _ = outgoing.unbounded_send(frame.to_json());
        }
        leading.outgoing = Some(outgoing);
    }
    let mut caught_up = false;
    // An open socket can outlive the network; the browser's word ends it at once.
    let mut offline = Box::pin(browser_event("offline"));
    loop {
        let message = futures::select! {
            message = rx.next().fuse() => message,
            () = offline.as_mut().fuse() => None,
            text = to_send.next() => {
                let Some(text) = text else { break };
                if tx.send(Message::Text(text)).await.is_err() {
                    break;
                }
                continue;
            }
        };
        let Some(Ok(message)) = message else { break };
        let Message::Text(text) = message else {
            continue;
        };
        let outs = match ServerFrame::parse(&text) {
            Ok(frame) => {
                caught_up |= matches!(frame, ServerFrame::CaughtUp { .. });
                link.leading
                    .borrow_mut()
                    .as_mut()
                    .map(|l| l.relay.heard(&frame))
                    .unwrap_or_default()
            }
            // Not ours to judge: every tab says it could not read it.
            Err(_) => vec![Out::Pass],
        };
        if outs.contains(&Out::Pass) {
            tell(&LinkNote::Heard {
                from: link.me,
                to: None,
                frame: text.clone(),
            });
            (link.hooks.frame)(text);
        }
        dispatch(link, outs);
    }
    if let Some(leading) = link.leading.borrow_mut().as_mut() {
        leading.outgoing = None;
        leading.relay.disconnected();
    }
    caught_up
}

/// Resolves when the window fires `event` ("online", "offline", "pagehide").
pub async fn browser_event(event: &'static str) {
    match web_sys::window() {
        Some(window) => once(&window, event).await,
        None => futures::future::pending().await,
    }
}

async fn once(target: &web_sys::EventTarget, event: &str) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let options = web_sys::AddEventListenerOptions::new();
        options.set_once(true);
        let _ = target.add_event_listener_with_callback_and_add_event_listener_options(event, &resolve, &options);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The socket of the server this page talks to: its own origin, or the server a
/// client-only build was configured with (see [`crate::server_url`]).
fn socket_url() -> String {
    if let Some(server) = crate::server_url() {
        let server = server.trim_end_matches('/');
        return match server.split_once("://") {
            Some(("https", rest)) => format!("wss://{rest}/ws"),
            Some((_, rest)) => format!("ws://{rest}/ws"),
            None => format!("ws://{server}/ws"),
        };
    }
    let location = web_sys::window().map(|w| w.location());
    let host = location.as_ref().and_then(|l| l.host().ok()).unwrap_or_default();
    let secure = location.and_then(|l| l.protocol().ok()).is_some_and(|p| p == "https:");
    format!("{}://{host}/ws", if secure { "wss" } else { "ws" })
}
