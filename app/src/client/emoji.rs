//! The emoji catalogue in the browser: downloaded from the server (`/api/emoji`) the first time a picker or a `:shortcode` needs it, then kept for the page's life; and the recently used emoji and the chosen skin tone, kept in this browser's storage.

use parley::emoji::Catalogue;
use std::sync::{Arc, OnceLock};

const RECENT_KEY: &str = "parley.emoji.recent";
const TONE_KEY: &str = "parley.emoji.tone";

static CATALOGUE: OnceLock<Arc<Catalogue>> = OnceLock::new();

/// The catalogue, when it was downloaded already.
pub fn loaded() -> Option<Arc<Catalogue>> {
    CATALOGUE.get().cloned()
}

/// The catalogue: downloaded once per page.
pub async fn catalogue() -> Result<Arc<Catalogue>, String> {
    if let Some(catalogue) = loaded() {
        return Ok(catalogue);
    }
    #[cfg(feature = "browser")]
    {
        let base = crate::server_url().unwrap_or_default().trim_end_matches('/').to_owned();
        use wasm_bindgen::JsCast;
        use wasm_bindgen_futures::JsFuture;
        let failed = |_| "the emoji could not be loaded; check your connection".to_owned();
        let window = web_sys::window().ok_or("no window")?;
        let response: web_sys::Response = JsFuture::from(window.fetch_with_str(&format!("{base}/api/emoji")))
            .await
            .map_err(failed)?
            .dyn_into()
            .map_err(failed)?;
        if !response.ok() {
            return Err("the emoji could not be loaded".into());
        }
        let text = JsFuture::from(response.text().map_err(failed)?)
            .await
            .map_err(failed)?
            .as_string()
            .unwrap_or_default();
        let catalogue: Catalogue = serde_json::from_str(&text).map_err(|_| "the emoji could not be read".to_owned())?;
        Ok(CATALOGUE.get_or_init(|| Arc::new(catalogue)).clone())
    }
    #[cfg(not(feature = "browser"))]
    Err("emoji load in the browser".into())
}

#[cfg(feature = "browser")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The emoji this browser used last, the most recent first.
pub fn recent() -> Vec<String> {
    #[cfg(feature = "browser")]
    {
        storage()
            .and_then(|s| s.get_item(RECENT_KEY).ok().flatten())
            .and_then(|raw| serde_json::from_str(&raw).ok())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "browser"))]
    {
        let _ = RECENT_KEY;
        Vec::new()
    }
}

/// Remembers that `emoji` was just used.
pub fn used(emoji: &str) {
    let list = parley::emoji::used(&recent(), emoji);
    #[cfg(feature = "browser")]
    if let (Some(storage), Ok(json)) = (storage(), serde_json::to_string(&list)) {
        let _ = storage.set_item(RECENT_KEY, &json);
    }
    #[cfg(not(feature = "browser"))]
    let _ = list;
}

/// The skin tone chosen (0: default, 1–5 light to dark).
pub fn tone() -> usize {
    #[cfg(feature = "browser")]
    {
        storage()
            .and_then(|s| s.get_item(TONE_KEY).ok().flatten())
            .and_then(|raw| raw.parse().ok())
            .filter(|t| *t <= parley::emoji::SKIN_TONES)
            .unwrap_or(0)
    }
    #[cfg(not(feature = "browser"))]
    {
        let _ = TONE_KEY;
        0
    }
}

pub fn set_tone(tone: usize) {
    #[cfg(feature = "browser")]
    if let Some(storage) = storage() {
        let _ = storage.set_item(TONE_KEY, &tone.to_string());
    }
    #[cfg(not(feature = "browser"))]
    let _ = tone;
}
