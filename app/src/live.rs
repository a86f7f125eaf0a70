//! The browser's live connection: loads recent history, then follows the channel over a
//! WebSocket from the timeline's cursor, reconnecting with backoff; and sends posts.

use crate::api::{history, post_message};
use crate::chat::{ChatState, Connection};
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{Message, futures::WebSocket};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::MessageId;
use parley::protocol::{ClientFrame, ServerFrame};

const FIRST_PAGE: u32 = 100;
const MIN_BACKOFF_MS: u32 = 250;
const MAX_BACKOFF_MS: u32 = 10_000;

/// Starts following the page's channel. Runs until the page goes away.
pub fn start(state: ChatState) {
    spawn_local(async move {
        if let Ok(page) = history(state.channel, None, FIRST_PAGE).await {
            state
                .timeline
                .update(|t| page.into_iter().for_each(|m| t.apply(m)));
        }
        let mut backoff = MIN_BACKOFF_MS;
        loop {
            if follow(state).await {
                backoff = MIN_BACKOFF_MS;
            }
            state.connection.set(Connection::Reconnecting);
            // Full jitter: reconnecting clients spread out instead of arriving together.
            let wait = (js_sys::Math::random() * f64::from(backoff)) as u32 + MIN_BACKOFF_MS;
            TimeoutFuture::new(wait).await;
            backoff = (backoff * 2).min(MAX_BACKOFF_MS);
        }
    });
}

/// One connection's life. Returns whether it got as far as being caught up.
async fn follow(state: ChatState) -> bool {
    let Ok(socket) = WebSocket::open(&socket_url()) else {
        return false;
    };
    let (mut tx, mut rx) = socket.split();
    let after = state.timeline.with_untracked(|t| t.cursor());
    let subscribe = ClientFrame::Subscribe {
        channel: state.channel,
        after,
    };
    if tx.send(Message::Text(subscribe.to_json())).await.is_err() {
        return false;
    }
    let mut caught_up = false;
    while let Some(Ok(message)) = rx.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        match ServerFrame::parse(&text) {
            Ok(ServerFrame::Event { event, .. }) => {
                if let Some(view) = event.message_view() {
                    state.timeline.update(|t| t.apply(view));
                }
            }
            Ok(ServerFrame::CaughtUp { .. }) => {
                caught_up = true;
                state.connection.set(Connection::Online);
            }
            Ok(ServerFrame::Error { error }) => leptos::logging::warn!("server: {error}"),
            Ok(_) => {}
            Err(e) => leptos::logging::warn!("unreadable frame: {e}"),
        }
    }
    caught_up
}

/// Sends a post through the server function and records the ack or the failure.
pub fn post(state: ChatState, message_id: MessageId, author: String, body: String) {
    spawn_local(async move {
        match post_message(state.channel, message_id, author, body).await {
            Ok(position) => state.timeline.update(|t| t.ack(message_id, position)),
            Err(e) => state.timeline.update(|t| t.fail(message_id, e.to_string())),
        }
    });
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
    let host = location
        .as_ref()
        .and_then(|l| l.host().ok())
        .unwrap_or_default();
    let secure = location
        .and_then(|l| l.protocol().ok())
        .is_some_and(|p| p == "https:");
    format!("{}://{host}/ws", if secure { "wss" } else { "ws" })
}
