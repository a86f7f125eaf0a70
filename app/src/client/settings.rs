//! One's own settings set from the page (a channel muted, a message saved, a channel read): shown at once, sent, and when the server cannot be reached, kept in IndexedDB (the last wish wins) and sent when the connection is back, after a reload too.

use crate::api::{AppError, mute_channel, save_message};
use parley::{ChannelId, MessageId, Position};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;

parley::tagged_enum! {
    #[serde(tag = "kind", rename_all = "snake_case")]
    /// A setting of one's own that is on or off.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
    pub enum Toggle {
        Mute { channel: ChannelId },
        Save { channel: ChannelId, message: MessageId },
    }
}

#[cfg(feature = "browser")]
impl Toggle {
    /// What it is about: a newer wish with the same key replaces an older one.
    fn key(self) -> String {
        match self {
            Toggle::Mute { channel } => format!("mute:{channel}"),
            Toggle::Save { message, .. } => format!("save:{message}"),
        }
    }
}

/// A wish waiting for the server, as IndexedDB keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Waiting {
    key: String,
    toggle: Toggle,
    on: bool,
}

/// A read marker waiting for the server, as IndexedDB keeps it (beside the toggles: each
/// kind of row reads only its own).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct WaitingMark {
    key: String,
    channel: ChannelId,
    read_up_to: Position,
}

thread_local! {
    /// Toggles that could not reach the server, with the state wanted last.
    static WAITING: RefCell<HashMap<Toggle, bool>> = RefCell::default();
}

async fn send(toggle: Toggle, on: bool) -> Result<(), AppError> {
    match toggle {
        Toggle::Mute { channel } => mute_channel(channel, on).await,
        Toggle::Save { channel, message } => save_message(channel, message, on).await,
    }
}

/// Asks the server for `toggle` set to `on` (already shown by the caller). Unreachable, it
/// waits and goes when the connection is back ([`flush`]); a refusal is returned, for the
/// caller to put the page back and say why.
pub async fn set(toggle: Toggle, on: bool) -> Result<(), AppError> {
    // A newer wish replaces one still waiting.
    WAITING.with(|w| w.borrow_mut().remove(&toggle));
    match send(toggle, on).await {
        Err(AppError::Transport(_)) => {
            WAITING.with(|w| w.borrow_mut().insert(toggle, on));
            keep(toggle, Some(on)).await;
            Ok(())
        }
        other => {
            keep(toggle, None).await;
            other
        }
    }
}

/// Sends the toggles waiting for the connection (set in this page, or before a reload);
/// those that still cannot go wait again.
pub async fn flush() {
    for (toggle, on) in kept().await {
        WAITING.with(|w| {
            // One set in this page since is newer.
            w.borrow_mut().entry(toggle).or_insert(on);
        });
    }
    let due: Vec<(Toggle, bool)> = WAITING.with(|w| w.borrow_mut().drain().collect());
    for (toggle, on) in due {
        match send(toggle, on).await {
            Err(AppError::Transport(_)) => WAITING.with(|w| {
                w.borrow_mut().entry(toggle).or_insert(on);
            }),
            // Stored, or refused (nothing a resend could change): no longer waiting.
            _ => keep(toggle, None).await,
        }
    }
}

/// The toggles kept waiting by this browser (shown as set when the page opens, before the
/// server has them).
pub async fn kept() -> Vec<(Toggle, bool)> {
    rows::<Waiting>().await.into_iter().map(|w| (w.toggle, w.on)).collect()
}

/// Keeps the wish for `toggle` in IndexedDB (`Some`) or lets it go (`None`).
async fn keep(toggle: Toggle, on: Option<bool>) {
    #[cfg(feature = "browser")]
    store(
        &toggle.key(),
        on.map(|on| Waiting {
            key: toggle.key(),
            toggle,
            on,
        }),
    )
    .await;
    #[cfg(not(feature = "browser"))]
    let _ = (toggle, on);
}

/// Keeps a read marker the server could not be told of (`Some`: how far `channel` was
/// read), or lets it go once it was (`None`).
pub async fn keep_marker(channel: ChannelId, read_up_to: Option<Position>) {
    #[cfg(feature = "browser")]
    {
        let key = format!("read:{channel}");
        let row = read_up_to.map(|read_up_to| WaitingMark {
            key: key.clone(),
            channel,
            read_up_to,
        });
        store(&key, row).await;
    }
    #[cfg(not(feature = "browser"))]
    let _ = (channel, read_up_to);
}

/// The read markers kept waiting by this browser: read here, the server not told yet.
pub async fn kept_markers() -> Vec<(ChannelId, Position)> {
    rows::<WaitingMark>()
        .await
        .into_iter()
        .map(|m| (m.channel, m.read_up_to))
        .collect()
}

/// The rows of one kind waiting in IndexedDB (each kind reads only its own); none where
/// there is no IndexedDB.
async fn rows<T: serde::de::DeserializeOwned>() -> Vec<T> {
    #[cfg(feature = "browser")]
    if let Ok(local) = crate::client::local::LocalStore::open().await {
        return local.settings::<T>().await.unwrap_or_default();
    }
    Vec::new()
}

/// Puts `row` under `key` in IndexedDB, or (`None`) takes the key's row away.
#[cfg(feature = "browser")]
async fn store<T: Serialize>(key: &str, row: Option<T>) {
    let Ok(local) = crate::client::local::LocalStore::open().await else {
        return;
    };
    let kept = match row {
        Some(row) => local.setting_put(&row).await,
        None => local.setting_remove(key).await,
    };
    if let Err(e) = kept {
        leptos::logging::warn!("{e}");
    }
}
