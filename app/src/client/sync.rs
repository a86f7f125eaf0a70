//! Keeps the tabs of one browser in step: notes over a BroadcastChannel.

use parley::tabs::TabMessage;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{BroadcastChannel, MessageEvent};

const NAME: &str = "parley";

/// A BroadcastChannel between the tabs of this browser, carrying JSON notes.
pub struct Tabs {
    channel: BroadcastChannel,
    _listener: Closure<dyn FnMut(MessageEvent)>,
}

impl Tabs {
    /// Joins the browser's tabs; `on_note` gets every note another tab sends.
    pub fn open(on_note: impl Fn(TabMessage) + 'static) -> Option<Self> {
        Self::open_named(NAME, move |text| {
            if let Some(note) = TabMessage::parse(text) {
                on_note(note);
            }
        })
    }

    /// Joins the browser's tabs on the channel `name`; `on_text` gets every text another tab
    /// posts on it.
    pub fn open_named(name: &str, on_text: impl Fn(&str) + 'static) -> Option<Self> {
        let channel = BroadcastChannel::new(name).ok()?;
        let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string() {
                on_text(&text);
            }
        });
        channel.set_onmessage(Some(listener.as_ref().unchecked_ref()));
        Some(Self {
            channel,
            _listener: listener,
        })
    }

    /// Tells every other tab (a tab does not hear its own notes).
    pub fn tell(&self, note: &TabMessage) {
        self.tell_text(&note.to_json());
    }

    pub fn tell_text(&self, text: &str) {
        // A closed channel only means this tab is going away.
        let _ = self.channel.post_message(&text.into());
    }
}
