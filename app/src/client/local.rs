//! The browser's local data in IndexedDB (through rexie): each channel's cached history
//! and cursor, and the outbox of messages and of changes not yet acknowledged by the server.

use parley::{ChannelId, MessageId, MessageView, Position};
use rexie::{Direction, Index, KeyRange, ObjectStore, Rexie, TransactionMode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

const DB: &str = "parley";
const MESSAGES: &str = "messages";
const OUTBOX: &str = "outbox";
const CURSORS: &str = "cursors";
const BY_CHANNEL: &str = "by_channel";
/// Files of messages in the outbox, until uploaded: `{local_id, blob}`.
const FILES: &str = "files";
/// The composers' unsent texts (`parley::draft::Draft`), by key.
const DRAFTS: &str = "drafts";
/// Changes to messages not yet acknowledged (`parley::timeline::PendingChange`), by their
/// id (a UUID v7: in the order they were made).
const CHANGES: &str = "changes";
/// One's own settings set while the server could not be reached (a channel muted, a
/// message saved), the last wish for each, by key, until the server has them.
const SETTINGS: &str = "settings";

/// Why the local data could not be read or written. The app then works without it.
#[derive(Debug)]
pub struct LocalError(String);

impl std::fmt::Display for LocalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "local data: {}", self.0)
    }
}

impl From<rexie::Error> for LocalError {
    fn from(e: rexie::Error) -> Self {
        Self(e.to_string())
    }
}

/// Waits for a transaction to end. One the browser aborted (its storage full, say) is an
/// error: rexie's `done` answers `Ok(Aborted)` for it, which would pass for stored.
async fn done(tx: rexie::Transaction) -> Result<(), LocalError> {
    if tx.done().await?.is_committed() {
        Ok(())
    } else {
        Err(LocalError(
            "the browser refused to store it (its storage may be full)".into(),
        ))
    }
}

/// A message written here and not yet acknowledged.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutboxItem {
    pub channel: ChannelId,
    pub message_id: MessageId,
    pub author: String,
    pub body: String,
    /// Why the last attempt failed, if it did.
    pub error: Option<String>,
    /// For a reply: the message it answers.
    #[serde(default)]
    pub reply_to: Option<MessageId>,
    /// A reply shown in its channel too.
    #[serde(default)]
    pub also_in_channel: bool,
    /// Files sent with it (their blobs wait in the `files` store until uploaded).
    #[serde(default)]
    pub files: Vec<crate::ui::upload::OutboxFile>,
}

#[derive(Serialize, Deserialize)]
struct CursorRow {
    channel: ChannelId,
    position: Position,
    /// When the channel was last opened in this browser (for the cache's budget).
    #[serde(default)]
    opened_ms: f64,
}

pub struct LocalStore {
    db: Rexie,
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, LocalError> {
    let json = serde_json::to_string(value).map_err(|e| LocalError(e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(|e| LocalError(format!("{e:?}")))
}

fn from_js<T: DeserializeOwned>(value: JsValue) -> Option<T> {
    let json = js_sys::JSON::stringify(&value).ok()?.as_string()?;
    serde_json::from_str(&json).ok()
}

/// The key of the `by_channel` index: `[channel, position]`.
fn channel_key(channel: ChannelId, position: f64) -> JsValue {
    let key = js_sys::Array::new();
    key.push(&JsValue::from_str(&channel.to_string()));
    key.push(&JsValue::from_f64(position));
    key.into()
}

/// What the page asked of the store before it hydrated: the store, and the newest cached
/// page of the channel in its address.
struct Early {
    store: Result<LocalStore, LocalError>,
    page: Option<(ChannelId, Result<CachedPage, LocalError>)>,
}

/// A channel's newest cached messages, oldest first, and its cursor.
type CachedPage = (Vec<MessageView>, Position);

thread_local! {
    /// The store and page asked for since the page's start (see [`LocalStore::open_early`]).
    static EARLY: std::cell::RefCell<Option<futures::channel::oneshot::Receiver<Early>>> =
        const { std::cell::RefCell::new(None) };
    /// The page read then, until its channel's first paint takes it.
    static EARLY_PAGE: std::cell::RefCell<Option<(ChannelId, CachedPage)>> = const { std::cell::RefCell::new(None) };
}

/// How long the app waits for the head's read before it reads for itself: by the time the
/// WASM runs, the head's read has answered (about 124 ms after navigation in a reload's
/// trace), so this bounds only a browser whose IndexedDB never answers the script.
const HEAD_READ_WAIT_MS: u32 = 1_000;

/// The page the script in the page's head read (`early.js`, begun before the WASM was
/// fetched), if it read `channel`'s: the same store and the same rows as
/// [`LocalStore::load`]. Taken once.
async fn read_in_head(channel: ChannelId) -> Option<CachedPage> {
    use wasm_bindgen::JsCast;
    let window = web_sys::window()?;
    let key = JsValue::from_str("parleyEarly");
    let promise = js_sys::Reflect::get(&window, &key)
        .ok()?
        .dyn_into::<js_sys::Promise>()
        .ok()?;
    let _ = js_sys::Reflect::set(&window, &key, &JsValue::UNDEFINED);
    let read = wasm_bindgen_futures::JsFuture::from(promise);
    let waited = gloo_timers::future::TimeoutFuture::new(HEAD_READ_WAIT_MS);
    let futures::future::Either::Left((Ok(answer), _)) = futures::future::select(read, waited).await else {
        return None;
    };
    let field = |name: &str| js_sys::Reflect::get(&answer, &JsValue::from_str(name)).ok();
    let read: ChannelId = field("channel")?.as_string()?.parse().ok()?;
    if read != channel {
        return None;
    }
    let rows = field("rows")?.dyn_into::<js_sys::Array>().ok()?;
    let messages = rows.iter().filter_map(from_js).collect();
    let cursor = field("cursor")
        .and_then(from_js::<CursorRow>)
        .map(|row| row.position)
        .unwrap_or_default();
    // For the browser tests: the page came from this read, not from a read of its own.
    if let Some(performance) = window.performance() {
        let _ = performance.mark("parley:cache-read-in-head");
    }
    Some((messages, cursor))
}

impl LocalStore {
    /// Opens the store and reads `channel`'s newest `limit` cached messages, starting now,
    /// before the page hydrates; `answered` fires once the store is open (or failed to
    /// open). A reload's trace showed each request's answer waiting for the page's thread
    /// to finish hydrating: the open, then the read, then the paint. Hydrating once the
    /// store is open lets the read run in the browser while the page hydrates. On the
    /// server's page the read has usually been done already, by the page's head
    /// ([`read_in_head`]); it is read here only when that has no answer for `channel`. The
    /// first [`LocalStore::opened`] takes the store; the first paint of `channel` the page
    /// ([`LocalStore::early_page`]).
    pub fn open_early(channel: ChannelId, limit: u32, answered: futures::channel::oneshot::Sender<()>) {
        let (done, early) = futures::channel::oneshot::channel();
        EARLY.with(|e| *e.borrow_mut() = Some(early));
        wasm_bindgen_futures::spawn_local(async move {
            let store = Self::open().await;
            let _ = answered.send(());
            let page = match &store {
                Ok(store) => Some((
                    channel,
                    match read_in_head(channel).await {
                        Some(page) => Ok(page),
                        None => store.load(channel, limit).await,
                    },
                )),
                Err(_) => None,
            };
            let _ = done.send(Early { store, page });
        });
    }

    /// The store opened early if it was, else opened now.
    pub async fn opened() -> Result<Self, LocalError> {
        let early = match EARLY.with(|e| e.borrow_mut().take()) {
            Some(early) => early.await.ok(),
            None => None,
        };
        let Some(Early { store, page }) = early else {
            return Self::open().await;
        };
        if let Some((channel, Ok(page))) = page {
            EARLY_PAGE.with(|p| *p.borrow_mut() = Some((channel, page)));
        }
        store
    }

    /// The page read before the page hydrated, if it is `channel`'s: once, for its first
    /// paint (nothing is written to the cache before it).
    pub fn early_page(channel: ChannelId) -> Option<CachedPage> {
        EARLY_PAGE.with(|p| {
            let mut p = p.borrow_mut();
            match p.take() {
                Some((c, page)) if c == channel => Some(page),
                _ => None,
            }
        })
    }

    pub async fn open() -> Result<Self, LocalError> {
        let db = Rexie::builder(DB)
            .version(5)
            .add_object_store(
                ObjectStore::new(MESSAGES)
                    .key_path("message_id")
                    .add_index(Index::new_array(BY_CHANNEL, ["channel_id", "position"])),
            )
            .add_object_store(ObjectStore::new(OUTBOX).key_path("message_id"))
            .add_object_store(ObjectStore::new(CURSORS).key_path("channel"))
            .add_object_store(ObjectStore::new(FILES).key_path("local_id"))
            .add_object_store(ObjectStore::new(DRAFTS).key_path("key"))
            .add_object_store(ObjectStore::new(CHANGES).key_path("change_id"))
            .add_object_store(ObjectStore::new(SETTINGS).key_path("key"))
            .build()
            .await?;
        Ok(Self { db })
    }

    /// The newest `limit` cached messages of a channel, oldest first, and its cursor.
    pub async fn load(&self, channel: ChannelId, limit: u32) -> Result<CachedPage, LocalError> {
        let tx = self.db.transaction(&[MESSAGES, CURSORS], TransactionMode::ReadOnly)?;
        let last = channel_key(channel, f64::from(u32::MAX) * f64::from(u32::MAX));
        // rexie 0.6.2 returns idb's error type from a key range.
        let range =
            |first: &JsValue| KeyRange::bound(first, &last, None, None).map_err(|e| LocalError(format!("{e:?}")));
        let index = tx.store(MESSAGES)?.index(BY_CHANNEL)?;
        // The newest `limit` in two steps, not one per message (each step of a cursor is a
        // round trip to the browser's IndexedDB, and 30 of them were most of a reload's
        // wait): a cursor from the newest end jumps to the oldest of them, then one read
        // takes everything from there on. Fewer than `limit` stored: all of them.
        let mut messages: Vec<MessageView> = Vec::new();
        if limit > 0 {
            // `advance(0)` is refused: the newest is where the cursor opens.
            let skip = (limit > 1).then_some(limit - 1);
            let first = index
                .scan(
                    Some(range(&channel_key(channel, 0.0))?),
                    Some(1),
                    skip,
                    Some(Direction::Prev),
                )
                .await?
                .into_iter()
                .next()
                .map_or_else(|| channel_key(channel, 0.0), |(key, _)| key);
            let rows = index.get_all(Some(range(&first)?), Some(limit)).await?;
            messages = rows.into_iter().filter_map(from_js).collect();
        }
        let cursor = tx
            .store(CURSORS)?
            .get(JsValue::from_str(&channel.to_string()))
            .await?
            .and_then(from_js::<CursorRow>)
            .map(|row| row.position)
            .unwrap_or_default();
        done(tx).await?;
        Ok((messages, cursor))
    }

    /// Stores committed messages and, when given, moves the channel's cursor up (never down:
    /// another tab may be further along). Both in one transaction, so the cursor never
    /// passes a message that is not stored.
    pub async fn save(
        &self,
        channel: ChannelId,
        messages: &[MessageView],
        cursor: Option<Position>,
    ) -> Result<(), LocalError> {
        let tx = self.db.transaction(&[MESSAGES, CURSORS], TransactionMode::ReadWrite)?;
        let store = tx.store(MESSAGES)?;
        for message in messages {
            store.put(&to_js(message)?, None).await?;
        }
        if let Some(position) = cursor {
            let cursors = tx.store(CURSORS)?;
            let current = cursors
                .get(JsValue::from_str(&channel.to_string()))
                .await?
                .and_then(from_js::<CursorRow>);
            if current.as_ref().is_none_or(|row| position > row.position) {
                let opened_ms = current.map_or(0.0, |row| row.opened_ms);
                let row = CursorRow {
                    channel,
                    position,
                    opened_ms,
                };
                cursors.put(&to_js(&row)?, None).await?;
            }
        }
        done(tx).await?;
        Ok(())
    }

    /// Notes that `channel` was opened now, then brings the cache within `budget`: the
    /// channels opened longest ago lose their history and cursor, the others their oldest
    /// messages (`parley::cache::trims`). The outbox and drafts are other stores.
    pub async fn opened_and_trim(
        &self,
        channel: ChannelId,
        now_ms: f64,
        budget: parley::cache::Budget,
    ) -> Result<usize, LocalError> {
        let tx = self.db.transaction(&[MESSAGES, CURSORS], TransactionMode::ReadWrite)?;
        let cursors = tx.store(CURSORS)?;
        let key = JsValue::from_str(&channel.to_string());
        let mut row = cursors
            .get(key)
            .await?
            .and_then(from_js::<CursorRow>)
            .unwrap_or(CursorRow {
                channel,
                position: Position::ZERO,
                opened_ms: 0.0,
            });
        row.opened_ms = now_ms;
        cursors.put(&to_js(&row)?, None).await?;
        let rows: Vec<CursorRow> = cursors
            .get_all(None, None)
            .await?
            .into_iter()
            .filter_map(from_js)
            .collect();
        let messages = tx.store(MESSAGES)?;
        let index = messages.index(BY_CHANNEL)?;
        let range = |channel: ChannelId| {
            KeyRange::bound(
                &channel_key(channel, 0.0),
                &channel_key(channel, f64::from(u32::MAX) * f64::from(u32::MAX)),
                None,
                None,
            )
            .map_err(|e| LocalError(format!("{e:?}")))
        };
        let mut cached = Vec::with_capacity(rows.len());
        for row in &rows {
            cached.push(parley::cache::Cached {
                channel: row.channel,
                opened_ms: row.opened_ms,
                messages: index.count(Some(range(row.channel)?)).await? as usize,
            });
        }
        let mut removed = 0;
        for trim in parley::cache::trims(&cached, budget, Some(channel)) {
            let (target, keep) = match trim {
                parley::cache::Trim::Drop(target) => (target, 0),
                parley::cache::Trim::KeepNewest(target, keep) => (target, keep),
            };
            let count = cached.iter().find(|c| c.channel == target).map_or(0, |c| c.messages);
            let excess = count.saturating_sub(keep) as u32;
            // The index runs oldest first: its first keys are the ones to go (a limit of 0
            // would mean "all" to IndexedDB).
            if excess > 0 {
                for key in index.get_all_keys(Some(range(target)?), Some(excess)).await? {
                    messages.delete(key).await?;
                    removed += 1;
                }
            }
            if keep == 0 {
                cursors.delete(JsValue::from_str(&target.to_string())).await?;
            }
        }
        done(tx).await?;
        Ok(removed)
    }

    /// Every row of `store`, in key order (rows that no longer read are left out).
    async fn all<T: DeserializeOwned>(&self, store: &str) -> Result<Vec<T>, LocalError> {
        let tx = self.db.transaction(&[store], TransactionMode::ReadOnly)?;
        let rows = tx.store(store)?.get_all(None, None).await?;
        done(tx).await?;
        Ok(rows.into_iter().filter_map(from_js).collect())
    }

    async fn put<T: Serialize>(&self, store: &str, row: &T) -> Result<(), LocalError> {
        let tx = self.db.transaction(&[store], TransactionMode::ReadWrite)?;
        tx.store(store)?.put(&to_js(row)?, None).await?;
        done(tx).await?;
        Ok(())
    }

    async fn remove(&self, store: &str, key: &str) -> Result<(), LocalError> {
        let tx = self.db.transaction(&[store], TransactionMode::ReadWrite)?;
        tx.store(store)?.delete(JsValue::from_str(key)).await?;
        done(tx).await?;
        Ok(())
    }

    pub async fn outbox(&self) -> Result<Vec<OutboxItem>, LocalError> {
        self.all(OUTBOX).await
    }

    pub async fn outbox_put(&self, item: &OutboxItem) -> Result<(), LocalError> {
        self.put(OUTBOX, item).await
    }

    pub async fn outbox_remove(&self, message_id: MessageId) -> Result<(), LocalError> {
        self.remove(OUTBOX, &message_id.to_string()).await
    }

    /// Changes not yet acknowledged, in the order they were made.
    pub async fn changes(&self) -> Result<Vec<parley::timeline::PendingChange>, LocalError> {
        self.all(CHANGES).await
    }

    pub async fn change_put(&self, change: &parley::timeline::PendingChange) -> Result<(), LocalError> {
        self.put(CHANGES, change).await
    }

    pub async fn change_remove(&self, change_id: MessageId) -> Result<(), LocalError> {
        self.remove(CHANGES, &change_id.to_string()).await
    }

    /// One outbox item, if it is there.
    pub async fn outbox_get(&self, message_id: MessageId) -> Result<Option<OutboxItem>, LocalError> {
        let tx = self.db.transaction(&[OUTBOX], TransactionMode::ReadOnly)?;
        let row = tx
            .store(OUTBOX)?
            .get(JsValue::from_str(&message_id.to_string()))
            .await?;
        done(tx).await?;
        Ok(row.and_then(from_js))
    }

    /// Keeps a file's bytes (a Blob, which IndexedDB stores as it is) until it is uploaded.
    pub async fn file_put(&self, local_id: &str, blob: &web_sys::Blob) -> Result<(), LocalError> {
        let row = js_sys::Object::new();
        let set = |key: &str, value: &JsValue| js_sys::Reflect::set(&row, &JsValue::from_str(key), value);
        set("local_id", &JsValue::from_str(local_id)).map_err(|e| LocalError(format!("{e:?}")))?;
        set("blob", blob).map_err(|e| LocalError(format!("{e:?}")))?;
        let tx = self.db.transaction(&[FILES], TransactionMode::ReadWrite)?;
        tx.store(FILES)?.put(&row.into(), None).await?;
        done(tx).await?;
        Ok(())
    }

    pub async fn file_get(&self, local_id: &str) -> Result<Option<web_sys::Blob>, LocalError> {
        use wasm_bindgen::JsCast;
        let tx = self.db.transaction(&[FILES], TransactionMode::ReadOnly)?;
        let row = tx.store(FILES)?.get(JsValue::from_str(local_id)).await?;
        done(tx).await?;
        Ok(row
            .and_then(|row| js_sys::Reflect::get(&row, &JsValue::from_str("blob")).ok())
            .and_then(|blob| blob.dyn_into::<web_sys::Blob>().ok()))
    }

    pub async fn file_remove(&self, local_id: &str) -> Result<(), LocalError> {
        let tx = self.db.transaction(&[FILES], TransactionMode::ReadWrite)?;
        tx.store(FILES)?.delete(JsValue::from_str(local_id)).await?;
        done(tx).await?;
        Ok(())
    }

    /// Every draft kept.
    pub async fn drafts(&self) -> Result<Vec<parley::draft::Draft>, LocalError> {
        self.all(DRAFTS).await
    }

    /// Keeps a draft (an empty one is deleted: nothing is left to restore).
    pub async fn draft_put(&self, draft: &parley::draft::Draft) -> Result<(), LocalError> {
        if draft.text.is_empty() {
            self.remove(DRAFTS, &draft.key).await
        } else {
            self.put(DRAFTS, draft).await
        }
    }

    /// The settings waiting for the server (rows with a `key`).
    pub async fn settings<T: DeserializeOwned>(&self) -> Result<Vec<T>, LocalError> {
        self.all(SETTINGS).await
    }

    /// Keeps a setting waiting for the server, replacing the one with its key.
    pub async fn setting_put<T: Serialize>(&self, row: &T) -> Result<(), LocalError> {
        self.put(SETTINGS, row).await
    }

    pub async fn setting_remove(&self, key: &str) -> Result<(), LocalError> {
        self.remove(SETTINGS, key).await
    }

    /// Forgets everything: cached history, cursors, the outbox (messages, their files,
    /// changes, settings), drafts.
    pub async fn clear(&self) -> Result<(), LocalError> {
        let tx = self.db.transaction(
            &[MESSAGES, OUTBOX, CURSORS, FILES, DRAFTS, CHANGES, SETTINGS],
            TransactionMode::ReadWrite,
        )?;
        for store in [MESSAGES, OUTBOX, CURSORS, FILES, DRAFTS, CHANGES, SETTINGS] {
            tx.store(store)?.clear().await?;
        }
        done(tx).await?;
        Ok(())
    }
}
