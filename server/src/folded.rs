//! A cache of aggregate states folded from their streams, so `decide` need not replay a
//! stream on every command.
//!
//! Loading is single-flight: when many requests miss at once (a server just started under
//! load), one reads the stream and the others wait for it, instead of each replaying the
//! same, growing stream. After an append the engine reports what it appended; the cache
//! folds it in if it directly follows what is cached, and forgets the entry otherwise, so
//! a cached state never skips an event. Events that change nothing but the version (posts)
//! may be reported in any order.

use parley::{Aggregate, Event};
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Mutex;

pub struct Folded<K, S> {
    inner: Mutex<Inner<K, S>>,
    /// Held while a stream is read: one load at a time (loads are rare: once per stream).
    loading: tokio::sync::Mutex<()>,
}

struct Inner<K, S> {
    states: HashMap<K, S>,
    /// For streams not cached: the highest version an append reported. A load that read
    /// less than this raced an append, and reads again.
    reported: HashMap<K, u64>,
}

impl<K: Hash + Eq + Clone, S: Aggregate> Default for Folded<K, S> {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                states: HashMap::new(),
                reported: HashMap::new(),
            }),
            loading: tokio::sync::Mutex::new(()),
        }
    }
}

impl<K: Hash + Eq + Clone, S: Aggregate> Folded<K, S> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, S>> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn cached(&self, key: &K) -> Option<S> {
        self.lock().states.get(key).cloned()
    }

    /// The state of `key`: cached, or folded from the events `read` returns.
    pub async fn get<E, F, Fut>(&self, key: &K, read: F) -> Result<S, E>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Vec<Event>, E>>,
    {
        if let Some(state) = self.cached(key) {
            return Ok(state);
        }
        let _loading = self.loading.lock().await;
        loop {
            if let Some(state) = self.cached(key) {
                return Ok(state);
            }
            let events = read().await?;
            let state = events.iter().fold(S::default(), |state, event| state.evolve(event));
            let mut inner = self.lock();
            if inner.reported.get(key).is_some_and(|v| *v > state.version()) {
                continue; // an append landed after the read: read again
            }
            if state.exists() {
                inner.reported.remove(key);
                inner.states.insert(key.clone(), state.clone());
            }
            return Ok(state);
        }
    }

    /// Reports that `events` were appended to `key`'s stream, which is now at `version`.
    pub fn appended(&self, key: &K, events: &[Event], version: u64) {
        let mut inner = self.lock();
        let Some(cached) = inner.states.get(key) else {
            let reported = inner.reported.entry(key.clone()).or_default();
            *reported = (*reported).max(version);
            return;
        };
        let before = version.saturating_sub(events.len() as u64);
        let next = if cached.version() == before {
            events.iter().fold(cached.clone(), |state, event| state.evolve(event))
        } else if cached.version() >= version {
            return; // already folded in (a load read it)
        } else if cached.only_counts(events) {
            cached.clone().with_version(version)
        } else {
            // An event the cache has not seen came first: read the stream again.
            inner.states.remove(key);
            inner.reported.insert(key.clone(), version);
            return;
        };
        inner.states.insert(key.clone(), next);
    }

    /// Forgets `key`: the next `get` reads its stream again.
    pub fn forget(&self, key: &K) {
        self.lock().states.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley::{ChannelId, ChannelKind, ChannelState, DisplayName, MessageBody, MessageId};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn created(channel_id: ChannelId) -> Event {
        Event::ChannelCreated {
            channel_id,
            name: "general".into(),
            kind: ChannelKind::Lobby,
        }
    }

    fn post(channel_id: ChannelId) -> Event {
        Event::MessagePosted {
            attachments: Vec::new(),
            reply_to: None,
            channel_id,
            message_id: MessageId::new(),
            author: DisplayName::parse("ada").expect("a valid name"),
            body: MessageBody::parse("hi").expect("a valid body"),
            author_id: None,
        }
    }

    #[tokio::test]
    async fn many_misses_at_once_read_the_stream_once() {
        let cache: Arc<Folded<ChannelId, ChannelState>> = Arc::default();
        let channel = ChannelId::new();
        let reads = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (cache, reads) = (cache.clone(), reads.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get(&channel, || {
                        let reads = reads.clone();
                        async move {
                            reads.fetch_add(1, Ordering::SeqCst);
                            tokio::task::yield_now().await;
                            Ok::<_, ()>(vec![created(channel)])
                        }
                    })
                    .await
            }));
        }
        for task in tasks {
            let state = task.await.expect("the task ran").expect("the read worked");
            assert_eq!(state.name.as_deref(), Some("general"));
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_load_that_raced_an_append_reads_again() {
        let cache: Folded<ChannelId, ChannelState> = Folded::default();
        let channel = ChannelId::new();
        let reads = AtomicUsize::new(0);
        let state = cache
            .get(&channel, || {
                // The first read misses the rename that is reported while it runs.
                let n = reads.fetch_add(1, Ordering::SeqCst);
                if n == 0 {
                    cache.appended(
                        &channel,
                        &[Event::ChannelRenamed {
                            channel_id: channel,
                            name: "random".into(),
                        }],
                        2,
                    );
                }
                let mut events = vec![created(channel)];
                if n > 0 {
                    events.push(Event::ChannelRenamed {
                        channel_id: channel,
                        name: "random".into(),
                    });
                }
                async move { Ok::<_, ()>(events) }
            })
            .await
            .expect("the read worked");
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        assert_eq!(state.name.as_deref(), Some("random"));
        assert_eq!(state.version, 2);
    }

    #[tokio::test]
    async fn appends_fold_in_order_posts_in_any_order_and_a_gap_forgets() {
        let cache: Folded<ChannelId, ChannelState> = Folded::default();
        let channel = ChannelId::new();
        let read = || async { Ok::<_, ()>(vec![created(channel)]) };
        cache.get(&channel, read).await.expect("read");
        // Two posts reported out of order: the version is the higher one.
        cache.appended(&channel, &[post(channel)], 3);
        cache.appended(&channel, &[post(channel)], 2);
        assert_eq!(cache.cached(&channel).map(|s| s.version), Some(3));
        // A rename that follows directly is folded in.
        let rename = Event::ChannelRenamed {
            channel_id: channel,
            name: "random".into(),
        };
        cache.appended(&channel, std::slice::from_ref(&rename), 4);
        assert_eq!(cache.cached(&channel).and_then(|s| s.name), Some("random".into()));
        // An archive after an event the cache never saw: forgotten, to be read again.
        cache.appended(&channel, &[Event::ChannelArchived { channel_id: channel }], 6);
        assert_eq!(cache.cached(&channel), None);
    }
}
