//! Keeps the tabs of one browser in step: notes over a BroadcastChannel.

use parley::tabs::TabMessage;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{BroadcastChannel, MessageEvent};

const NAME: &str = "parley";

pub struct Tabs {
    channel: BroadcastChannel,
    _listener: Closure<dyn FnMut(MessageEvent)>,
}

impl Tabs {
    /// Joins the browser's tabs; `on_note` gets every note another tab sends.
    pub fn open(on_note: impl Fn(TabMessage) + 'static) -> Option<Self> {
        let channel = BroadcastChannel::new(NAME).ok()?;
        let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(note) = event.data().as_string().as_deref().and_then(TabMessage::parse) {
                on_note(note);
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
        // A closed channel only means this tab is going away.
        let _ = self.channel.post_message(&note.to_json().into());
    }
}
