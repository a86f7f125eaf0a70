//! The composer's drafts in this browser: kept as the person types (in IndexedDB, so a reload or another day finds them), told to the other tabs, and cleared when sent. Which copy wins is the core's rule (`parley::draft`).

use crate::state::ChatState;
use leptos::prelude::*;

/// Text typed in the composer of `key` (a channel's or a thread's): kept, stored, and told
/// to the other tabs. An empty text (sent, or erased) clears the draft.
pub fn write(state: ChatState, key: String, text: String) {
    let now = crate::state::js_now_ms();
    let mut written = None;
    state
        .drafts
        .update(|drafts| written = Some(drafts.write(key, text, now)));
    #[cfg(feature = "browser")]
    if let Some(draft) = written {
        crate::client::live::draft_written(draft);
    }
    #[cfg(not(feature = "browser"))]
    let _ = written;
}
