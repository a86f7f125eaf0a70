//! A cache of aggregate states folded from their streams, so `decide` need not replay a
//! stream on every command.
//!
//! Loading is single-flight: when many requests miss at once (a server just started under
//! load), one reads the stream and the others wait for it, instead of each replaying the
//! same, growing stream. Once cached, a state follows the log: the bus hands every
//! committed event to [`Folded::follow`], in log order, whichever node wrote it, so a
//! cached state never skips an event and every node's cache says the same.

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
    /// The stream being read, and the highest version followed while it is: a load that
    /// read less than this raced a commit, and reads again.
    in_load: Option<(K, u64)>,
}

impl<K: Hash + Eq + Clone, S: Aggregate> Default for Folded<K, S> {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                states: HashMap::new(),
                in_load: None,
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
            {
                let mut inner = self.lock();
                if let Some(state) = inner.states.get(key) {
                    return Ok(state.clone());
                }
                inner.in_load = Some((key.clone(), 0));
            }
            let events = read().await;
            let mut inner = self.lock();
            let followed = inner.in_load.take().map_or(0, |(_, version)| version);
            let state = events?.iter().fold(S::default(), |state, event| state.evolve(event));
            if followed > state.version() {
                continue; // a commit landed after the read: read again
            }
            if state.exists() {
                inner.states.insert(key.clone(), state.clone());
            }
            return Ok(state);
        }
    }

    /// Follows one committed event of `key`'s stream, which it brought to `version`.
    /// Events come in log order, so a cached state takes the next one; one that does not
    /// follow on (never expected: the bus hands out every event once, in order) makes the
    /// cache forget the stream, to read it again.
    pub fn follow(&self, key: &K, event: &Event, version: u64) {
        let mut inner = self.lock();
        if let Some((loading, followed)) = inner.in_load.as_mut()
            && loading == key
        {
            *followed = (*followed).max(version);
        }
        let Some(cached) = inner.states.remove(key) else {
            return;
        };
        if cached.version() + 1 == version {
            inner.states.insert(key.clone(), cached.evolve(event));
        } else if cached.version() >= version {
            inner.states.insert(key.clone(), cached); // already folded in (a load read it)
        } else {
            tracing::warn!(
                version,
                cached = cached.version(),
                "a cached state missed an event: read again"
            );
        }
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
            private: false,
        }
    }

    fn post(channel_id: ChannelId) -> Event {
        Event::MessagePosted {
            attachments: Vec::new(),
            reply_to: None,
            also_in_channel: false,
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
                // The first read misses the rename that is committed while it runs.
                let n = reads.fetch_add(1, Ordering::SeqCst);
                if n == 0 {
                    cache.follow(
                        &channel,
                        &Event::ChannelRenamed {
                            channel_id: channel,
                            name: "random".into(),
                        },
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
    async fn committed_events_fold_in_order_and_a_gap_forgets() {
        let cache: Folded<ChannelId, ChannelState> = Folded::default();
        let channel = ChannelId::new();
        let read = || async { Ok::<_, ()>(vec![created(channel)]) };
        cache.get(&channel, read).await.expect("read");
        cache.follow(&channel, &post(channel), 2);
        // One the cache has folded already (a load read it) changes nothing.
        cache.follow(&channel, &post(channel), 2);
        assert_eq!(cache.cached(&channel).map(|s| s.version), Some(2));
        let rename = Event::ChannelRenamed {
            channel_id: channel,
            name: "random".into(),
        };
        cache.follow(&channel, &rename, 3);
        assert_eq!(cache.cached(&channel).and_then(|s| s.name), Some("random".into()));
        // An archive after an event the cache never saw: forgotten, to be read again.
        cache.follow(&channel, &Event::ChannelArchived { channel_id: channel }, 5);
        assert_eq!(cache.cached(&channel), None);
        // Streams not cached are not kept track of.
        cache.follow(&ChannelId::new(), &post(channel), 7);
        assert!(cache.lock().states.is_empty());
    }
}
