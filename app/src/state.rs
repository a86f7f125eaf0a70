//! What the page's parts share: the chat state and connection, fetching the sidebar's data, moving between channels, times as shown.

use crate::api::{DirectView, Me, SpaceView, my_directs, my_spaces};
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::timeline::Timeline;
use parley::{ChannelId, MessageId};

/// How the page's live connection stands, shown in the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Online,
    Reconnecting,
    /// The browser says there is no network: messages wait in the outbox.
    Offline,
}

impl Connection {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Online => "online",
            Self::Reconnecting => "reconnecting",
            Self::Offline => "offline",
        }
    }
}

/// Everything the page's parts share.
#[derive(Clone, Copy)]
pub struct ChatState {
    /// The channel on screen (from the address: `/c/<id>`, or the lobby's `#general`).
    pub channel: RwSignal<ChannelId>,
    pub timeline: RwSignal<Timeline>,
    pub connection: RwSignal<Connection>,
    /// Who this browser is signed in as (remembered locally, so the page opens offline).
    pub me: RwSignal<Option<Me>>,
    /// Whether the list follows new messages (the reader is at the bottom).
    pub stick: RwSignal<bool>,
    /// The spaces this user belongs to, with their channels.
    pub spaces: RwSignal<Vec<SpaceView>>,
    /// This user's direct conversations.
    pub directs: RwSignal<Vec<DirectView>>,
    /// Why the last change to a message (edit, delete, reaction) was refused.
    pub notice: RwSignal<Option<String>>,
    /// A message to bring into view and mark (a search result that was opened), in its channel.
    pub reveal: RwSignal<Option<(ChannelId, MessageId)>>,
    /// The thread open beside the channel: its root message.
    pub thread: RwSignal<Option<MessageId>>,
    /// Who is typing in the open channel.
    pub typing: RwSignal<parley::typing::Typists>,
    /// Who is online or away (absent: offline).
    pub presence: RwSignal<std::collections::HashMap<String, parley::presence::Status>>,
    /// Unread messages and mentions per channel, and this user's read markers and mutes.
    pub unreads: RwSignal<parley::unread::Unreads>,
    /// Where the "new messages" line goes in the open channel: after this position (the
    /// marker as it stood when the channel was opened).
    pub divider: RwSignal<Option<(ChannelId, parley::Position)>>,
    /// Whether the page is in view (not a hidden tab).
    pub visible: RwSignal<bool>,
    /// A message whose edit box should open (↑ in an empty composer asks for your last one).
    pub edit_request: RwSignal<Option<MessageId>>,
    /// Whether the quick switcher (Ctrl+K) is open.
    pub switcher: RwSignal<bool>,
    /// The server now serves a newer build of the site than this page's: offer to reload.
    pub update: RwSignal<bool>,
    /// The open channel cannot be opened (it does not exist, or this user may not see it),
    /// and the server's reason.
    pub unavailable: RwSignal<Option<(ChannelId, String)>>,
    /// What went wrong with a link the page was opened with (an invite that does not
    /// work), shown until dismissed.
    pub problem: RwSignal<Option<String>>,
    /// The profiles of the people on screen, by username (see `client::people`).
    pub profiles: RwSignal<std::collections::HashMap<String, parley::profile::Profile>>,
    /// The usernames of bots among them (a bot stays one: live profile frames do not say).
    pub bots: RwSignal<std::collections::HashSet<String>>,
    /// The usernames whose profiles were asked for already.
    pub people_asked: StoredValue<std::collections::HashSet<String>>,
    /// The person whose card is open, by username.
    pub card: RwSignal<Option<String>>,
    /// The composers' unsent texts, per channel and thread (see `client::drafts`).
    pub drafts: RwSignal<parley::draft::Drafts>,
    /// The messages this user keeps saved (asked for at start, then followed live).
    pub saved: RwSignal<std::collections::HashSet<MessageId>>,
    /// The threads this user follows, with their unread replies (asked for at start, then
    /// followed live).
    pub threads: RwSignal<parley::threads::Threads>,
    /// A thread to open once its channel is on screen (chosen in the Threads view).
    pub thread_after: RwSignal<Option<(ChannelId, MessageId)>>,
}

impl ChatState {
    /// Shows a channel's new topic in the sidebar's copy of its space (the header reads it).
    pub fn set_topic(&self, channel: ChannelId, topic: &str, description: &str) {
        self.spaces.update(|spaces| {
            for c in spaces.iter_mut().flat_map(|s| s.channels.iter_mut()) {
                if c.channel_id == channel {
                    c.topic = topic.to_owned();
                    c.description = description.to_owned();
                }
            }
        });
    }

    /// The channel a `#name` in a message means: one of that name in the open channel's
    /// space, else in any of this user's spaces (the lobby's `#general` too).
    pub fn channel_named(&self, name: &str) -> Option<ChannelId> {
        let open = self.channel.get();
        let named = |c: &&crate::api::ChannelView| c.name.eq_ignore_ascii_case(name);
        self.spaces
            .with(|spaces| {
                let here = spaces.iter().find(|s| s.channels.iter().any(|c| c.channel_id == open));
                here.and_then(|s| s.channels.iter().find(named))
                    .or_else(|| spaces.iter().flat_map(|s| &s.channels).find(named))
                    .map(|c| c.channel_id)
            })
            .or_else(|| name.eq_ignore_ascii_case("general").then_some(ChannelId::GENERAL))
    }

    /// The name to show for `username`: their display name, or the username (tracked).
    /// Whether `username` is a bot's (tracked).
    pub fn is_bot(&self, username: &str) -> bool {
        self.bots.with(|bots| bots.contains(username))
    }

    pub fn name_of(&self, username: &str) -> String {
        self.profiles
            .with(|p| p.get(username).map(|p| p.name_or(username).to_owned()))
            .unwrap_or_else(|| username.to_owned())
    }

    /// The id of `username`'s picture, if they set one (tracked).
    pub fn picture_of(&self, username: &str) -> Option<String> {
        self.profiles.with(|p| p.get(username).and_then(|p| p.avatar.clone()))
    }

    /// The status `username` shows now, if any: its emoji and words (tracked).
    pub fn status_of(&self, username: &str) -> Option<parley::profile::Status> {
        let now = js_now_ms();
        self.profiles
            .with(|p| p.get(username).and_then(|p| p.status_at(now).cloned()))
    }

    /// Why the channel on screen cannot be opened, when it cannot (the server's words).
    pub fn unavailable_reason(&self) -> Option<String> {
        let open = self.channel.get();
        self.unavailable
            .with(|u| u.as_ref().filter(|(c, _)| *c == open).map(|(_, why)| why.clone()))
    }
}

/// Fetches the spaces and direct conversations of this user into the sidebar.
pub fn refresh(state: ChatState) {
    spawn_local(async move {
        match my_spaces().await {
            Ok(spaces) => state.spaces.set(spaces),
            Err(e) => leptos::logging::warn!("spaces: {e}"),
        }
        match my_directs().await {
            Ok(directs) => state.directs.set(directs),
            Err(e) => leptos::logging::warn!("direct messages: {e}"),
        }
        fetch_unreads(state).await;
    });
}

/// Asks which messages this user keeps saved.
pub fn refresh_saved(state: ChatState) {
    spawn_local(async move {
        match crate::api::saved_ids().await {
            Ok(ids) => state.saved.set(ids.into_iter().collect()),
            Err(e) => leptos::logging::warn!("saved messages: {e}"),
        }
    });
}

/// Asks which threads this user follows, and their unread replies.
pub fn refresh_threads(state: ChatState) {
    spawn_local(async move {
        match crate::api::followed_threads().await {
            Ok(views) => state.threads.update(|t| t.replace(&views)),
            Err(e) => leptos::logging::warn!("followed threads: {e}"),
        }
    });
}

/// Counts the unread messages of every channel again.
pub fn refresh_unreads(state: ChatState) {
    spawn_local(fetch_unreads(state));
}

async fn fetch_unreads(state: ChatState) {
    // A mute set while the counts are on their way stays as set (the counts may predate it).
    let asked = state.unreads.with_untracked(parley::unread::Unreads::asked);
    match crate::api::unreads().await {
        Ok(counts) => state.unreads.update(|u| u.replace_asked_at(counts, asked)),
        Err(e) => leptos::logging::warn!("unread counts: {e}"),
    }
}

/// Loads the page again (a newer build, a piece of the WASM that could not come, a change
/// of who is signed in).
pub(crate) fn reload_page() {
    #[cfg(feature = "browser")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

/// Moves the page to `href` without reloading it.
pub(crate) fn go(href: &str) {
    leptos_router::hooks::use_navigate()(href, Default::default());
}

/// Opens a channel from outside the page's components (a notification's click): the
/// address changes as a link would change it, and the router follows.
pub fn open(channel: ChannelId) {
    #[cfg(feature = "browser")]
    if let Some(window) = web_sys::window()
        && let Ok(history) = window.history()
    {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&channel_href(channel)));
        if let Ok(event) = web_sys::PopStateEvent::new("popstate") {
            let _ = window.dispatch_event(&event);
        }
    }
    #[cfg(not(feature = "browser"))]
    let _ = channel;
}

/// The address that opens a channel.
pub fn channel_href(channel: ChannelId) -> String {
    if channel == ChannelId::GENERAL {
        "/".to_owned()
    } else {
        format!("/?c={channel}")
    }
}

/// How many minutes the browser's time zone is east of UTC now (0 on the server).
pub(crate) fn utc_offset_minutes() -> i32 {
    #[cfg(feature = "browser")]
    return -(js_sys::Date::new_0().get_timezone_offset() as i32);
    #[cfg(not(feature = "browser"))]
    0
}

/// The local day (see [`parley::listing::local_day`]) of an instant in the browser's time
/// zone; `None` on the server, which does not know the reader's zone.
pub(crate) fn local_day(ms: i64) -> Option<i64> {
    #[cfg(feature = "browser")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        Some(parley::listing::local_day(ms, -(date.get_timezone_offset() as i32)))
    }
    #[cfg(not(feature = "browser"))]
    {
        let _ = ms;
        None
    }
}

/// A day divider's words: "Today", "Yesterday", or "Monday, 30 November 2026" in the
/// browser's language.
pub(crate) fn format_day(day: i64) -> String {
    use parley::listing::DayName;
    let today = local_day(js_now_ms()).unwrap_or(day);
    match parley::listing::day_name(day, today) {
        DayName::Today => "Today".to_owned(),
        DayName::Yesterday => "Yesterday".to_owned(),
        DayName::Date => date_words(day),
    }
}

#[cfg(feature = "browser")]
fn date_words(day: i64) -> String {
    // The day's midnight read in UTC is that local day's date.
    formatted(
        (day * 86_400_000) as f64,
        &[
            ("weekday", "long"),
            ("day", "numeric"),
            ("month", "long"),
            ("year", "numeric"),
            ("timeZone", "UTC"),
        ],
    )
}

/// `ms` formatted with `options` in the browser's language, by a formatter made once per
/// set of options and language: `toLocaleString` with options makes a new one on every
/// call, the slowest part of drawing a message (each has its full date as a title).
#[cfg(feature = "browser")]
fn formatted(ms: f64, options: &'static [(&'static str, &'static str)]) -> String {
    type Formats = Vec<(
        String,
        &'static [(&'static str, &'static str)],
        js_sys::Intl::DateTimeFormat,
    )>;
    thread_local! {
        static FORMATS: std::cell::RefCell<Formats> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let language = browser_language();
    let format = FORMATS.with(|formats| {
        let mut formats = formats.borrow_mut();
        if let Some((_, _, format)) = formats.iter().find(|(l, o, _)| *l == language && *o == options) {
            return format.clone();
        }
        let object = js_sys::Object::new();
        for (key, value) in options {
            let _ = js_sys::Reflect::set(&object, &(*key).into(), &(*value).into());
        }
        let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::of1(&language.as_str().into()), &object);
        formats.push((language, options, format.clone()));
        format
    });
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    format
        .format()
        .call1(&format, &date)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

#[cfg(not(feature = "browser"))]
fn date_words(_day: i64) -> String {
    String::new()
}

/// "Monday, 30 November 2026 at 14:05": a message time's full date, shown on hover.
pub(crate) fn format_full(ms: i64) -> String {
    format_date_time(ms, &[("dateStyle", "full"), ("timeStyle", "short")])
}

/// "30 Nov 2026, 14:05": a date to read in a list (an invite's expiry).
pub(crate) fn format_date(ms: i64) -> String {
    format_date_time(ms, &[("dateStyle", "medium"), ("timeStyle", "short")])
}

fn format_date_time(ms: i64, options: &'static [(&'static str, &'static str)]) -> String {
    #[cfg(feature = "browser")]
    {
        formatted(ms as f64, options)
    }
    #[cfg(not(feature = "browser"))]
    {
        let _ = (ms, options);
        String::new()
    }
}

/// "14:05": the time now in `zone` (an IANA name), in the browser's language; none if the
/// browser does not know the zone.
pub(crate) fn time_in(zone: &str) -> Option<String> {
    #[cfg(feature = "browser")]
    {
        let options = js_sys::Object::new();
        for (key, value) in [("timeStyle", "short"), ("timeZone", zone)] {
            let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
        }
        let locales = js_sys::Array::of1(&browser_language().into());
        let format = js_sys::Intl::DateTimeFormat::new(&locales, &options);
        let date = js_sys::Date::new_0();
        let formatted = format.format().call1(&format, &date).ok()?;
        formatted.as_string()
    }
    #[cfg(not(feature = "browser"))]
    {
        let _ = zone;
        None
    }
}

/// This page's origin (`https://chat.example.com`), which links made here (invites, reset
/// links) put before their path.
pub(crate) fn web_origin() -> String {
    #[cfg(feature = "browser")]
    {
        web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "browser"))]
    String::new()
}

/// The browser's time zone (an IANA name), for a profile's default.
pub(crate) fn browser_time_zone() -> String {
    #[cfg(feature = "browser")]
    {
        let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
        js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
            .ok()
            .and_then(|z| z.as_string())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "browser"))]
    String::new()
}

/// Puts a text on the clipboard; whether the browser took it.
pub(crate) async fn copy_text(text: &str) -> bool {
    #[cfg(feature = "browser")]
    {
        // navigator.clipboard.writeText, reached by name (web-sys keeps it behind a flag).
        use wasm_bindgen::{JsCast, JsValue};
        let Some(window) = web_sys::window() else {
            return false;
        };
        let clipboard = js_sys::Reflect::get(&window.navigator(), &"clipboard".into()).unwrap_or(JsValue::UNDEFINED);
        let write = js_sys::Reflect::get(&clipboard, &"writeText".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        let Some(promise) = write
            .and_then(|f| f.call1(&clipboard, &text.into()).ok())
            .and_then(|p| p.dyn_into::<js_sys::Promise>().ok())
        else {
            return false;
        };
        wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
    }
    #[cfg(not(feature = "browser"))]
    {
        let _ = text;
        false
    }
}

#[cfg(feature = "browser")]
fn browser_language() -> String {
    web_sys::window()
        .and_then(|w| w.navigator().language())
        .unwrap_or_else(|| "en".to_owned())
}

pub(crate) fn js_now_ms() -> i64 {
    #[cfg(feature = "browser")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "browser"))]
    {
        0
    }
}

/// "14:05" in the browser's time zone.
pub(crate) fn format_time(ms: i64) -> String {
    #[cfg(feature = "browser")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
    }
    #[cfg(not(feature = "browser"))]
    {
        let _ = ms;
        String::new()
    }
}
