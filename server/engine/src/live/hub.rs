//! The hub: one broadcast channel per chat channel, fed by the projection after each batch
//! is in the read model, so a query made on receipt already sees the event. Each event
//! is serialized once and the same frame goes to every subscribed socket. A slow socket
//! never blocks the hub: its receiver lags, and it catches up from the store instead.

use axum::extract::ws::Utf8Bytes;
use parley::protocol::ServerFrame;
use parley::{ChannelId, Position, RecordedEvent, SpaceId, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, watch};

/// Events buffered per channel for sockets that fall behind, before they must resync.
const CHANNEL_BUFFER: usize = 1_024;

/// A committed, projected event ready to send; or an ephemeral note (someone typing),
/// which has no position, is never stored, and may be dropped.
#[derive(Debug)]
pub struct Dispatch {
    pub position: Position,
    pub frame: Utf8Bytes,
    pub ephemeral: bool,
    /// For a new message: the short frame that sockets watching the channel get.
    pub activity: Option<Utf8Bytes>,
}

/// Events ready to hand out, with the frames of those whose channel was followed.
pub struct Prepared {
    events: Vec<Arc<RecordedEvent>>,
    frames: Vec<Option<Arc<Dispatch>>>,
}

/// Events buffered per user (read markers, mutes): rare, so a small buffer.
const USER_BUFFER: usize = 64;

/// Profile changes buffered for sockets that fall behind (each user's are budgeted).
const PROFILE_BUFFER: usize = 256;

/// A profile someone saved, as two frames: the whole of it, for the people who share a
/// space or a conversation with them, and the display name alone, for everyone else who
/// may meet them in the lobby.
#[derive(Debug)]
pub struct ProfileDispatch {
    pub username: String,
    pub full: Utf8Bytes,
    /// What everyone else gets, if anything.
    pub public: Option<Utf8Bytes>,
    /// A bot's: its space, whose members get `full` (and nobody else anything).
    pub space: Option<SpaceId>,
}

/// Topic events buffered per space for sockets that fall behind, before they read the store.
const TOPIC_BUFFER: usize = 256;

/// An event published to a topic: each socket's subscription picks it by the topic's name.
#[derive(Debug)]
pub struct TopicDispatch {
    pub topic: String,
    pub event: Arc<RecordedEvent>,
}

#[derive(Clone)]
pub struct Hub {
    channels: Arc<Mutex<HashMap<ChannelId, broadcast::Sender<Arc<Dispatch>>>>>,
    /// The topic events of each space, for the sockets subscribed to some of its topics.
    topics: Arc<Mutex<HashMap<SpaceId, broadcast::Sender<Arc<TopicDispatch>>>>>,
    /// The sockets of each user, for events about that user alone.
    users: Arc<Mutex<HashMap<UserId, broadcast::Sender<Utf8Bytes>>>>,
    profiles: broadcast::Sender<Arc<ProfileDispatch>>,
    projected: watch::Sender<Position>,
    /// Wakes the webhook deliverer when a subscription changed (retried, skipped).
    webhooks: Arc<tokio::sync::Notify>,
    /// The bots' accounts (from the node's log state): their profiles say they are bots,
    /// and go only to those who share their space.
    bots: Arc<std::sync::OnceLock<crate::engine::Bots>>,
    /// Where typing notes go for the other nodes of a cluster (none on SQLite).
    relay: Arc<std::sync::OnceLock<tokio::sync::mpsc::Sender<(ChannelId, String)>>>,
}

impl Hub {
    pub fn new(projected: Position) -> Self {
        Self {
            channels: Arc::default(),
            topics: Arc::default(),
            users: Arc::default(),
            profiles: broadcast::channel(PROFILE_BUFFER).0,
            webhooks: Arc::default(),
            relay: Arc::default(),
            bots: Arc::default(),
            projected: watch::channel(projected).0,
        }
    }

    /// Moves the projected position over an event that cannot be sent (unreadable, parked).
    pub fn advance(&self, position: Position) {
        self.projected.send_if_modified(|projected| {
            let later = position > *projected;
            if later {
                *projected = position;
            }
            later
        });
    }

    /// The last position the read models hold: catch-up reads never go past it.
    pub fn projected(&self) -> Position {
        *self.projected.borrow()
    }

    /// Follows the projected position (to wait until the read models hold a write).
    pub fn watch_projected(&self) -> watch::Receiver<Position> {
        self.projected.subscribe()
    }

    pub fn subscribe(&self, channel: ChannelId) -> broadcast::Receiver<Arc<Dispatch>> {
        let mut channels = self.channels.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        channels
            .entry(channel)
            .or_insert_with(|| broadcast::channel(CHANNEL_BUFFER).0)
            .subscribe()
    }

    /// Follows which accounts are bots (set once, by the engine).
    pub fn know_bots(&self, bots: crate::engine::Bots) {
        let _ = self.bots.set(bots);
    }

    /// The space of the bot `user`, if it is one.
    fn bot_space(&self, user: UserId) -> Option<SpaceId> {
        let bots = self.bots.get()?;
        bots.read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&user)
            .copied()
    }

    /// The events published to the topics of `space`, from now on.
    pub fn subscribe_topics(&self, space: SpaceId) -> broadcast::Receiver<Arc<TopicDispatch>> {
        let mut topics = self.topics.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        topics
            .entry(space)
            .or_insert_with(|| broadcast::channel(TOPIC_BUFFER).0)
            .subscribe()
    }

    fn send_topic(&self, event: &Arc<RecordedEvent>) {
        let parley::Event::TopicPublished { space_id, topic, .. } = &event.event else {
            return;
        };
        let mut topics = self.topics.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        topics.retain(|_, sender| sender.receiver_count() > 0);
        if let Some(sender) = topics.get(space_id) {
            let _ = sender.send(Arc::new(TopicDispatch {
                topic: topic.clone(),
                event: event.clone(),
            }));
        }
    }

    /// Tells the webhook deliverer to look again.
    pub fn webhooks_changed(&self) {
        self.webhooks.notify_one();
    }

    /// Resolves when [`Hub::webhooks_changed`] was called.
    pub async fn webhook_change(&self) {
        self.webhooks.notified().await;
    }

    /// The events about `user` alone (their read markers and mutes), as frames.
    pub fn personal(&self, user: UserId) -> broadcast::Receiver<Utf8Bytes> {
        let mut users = self.users.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        users
            .entry(user)
            .or_insert_with(|| broadcast::channel(USER_BUFFER).0)
            .subscribe()
    }

    /// Profiles as people save them (each socket picks the frame its user may see).
    pub fn profiles(&self) -> broadcast::Receiver<Arc<ProfileDispatch>> {
        self.profiles.subscribe()
    }

    /// Called by the projector once `events` are in the read models.
    /// The projected position moves first: a socket that subscribes in between then
    /// finds these events in its catch-up, and skips the live copies by position.
    pub fn publish(&self, events: &[Arc<RecordedEvent>]) {
        self.publish_prepared(self.prepare(events));
    }

    /// Serializes the frames of `events` for the channels followed now, ahead of
    /// [`Hub::publish_prepared`] (the store's writer does it while its commit syncs).
    pub fn prepare(&self, events: &[Arc<RecordedEvent>]) -> Prepared {
        let followed: std::collections::HashSet<ChannelId> = {
            let channels = self.channels.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            events
                .iter()
                .filter_map(|e| e.event.channel_id())
                .filter(|c| channels.get(c).is_some_and(|sender| sender.receiver_count() > 0))
                .collect()
        };
        let frames = events
            .iter()
            .map(|event| {
                let channel = event.event.channel_id().filter(|c| followed.contains(c))?;
                Some(Arc::new(Dispatch {
                    position: event.position,
                    frame: event_frame(channel, event),
                    ephemeral: false,
                    activity: activity_frame(channel, event),
                }))
            })
            .collect();
        Prepared {
            events: events.to_vec(),
            frames,
        }
    }

    /// Hands out prepared events (see [`Hub::publish`]).
    pub fn publish_prepared(&self, prepared: Prepared) {
        let Prepared { events, frames } = prepared;
        let Some(last) = events.last().map(|e| e.position) else {
            return;
        };
        self.projected.send_replace(last);
        let mut channels = self.channels.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        channels.retain(|_, sender| sender.receiver_count() > 0);
        for (event, frame) in events.iter().zip(frames) {
            tracing::trace!(
                position = %event.position,
                correlation_id = %event.metadata.correlation_id,
                "dispatched"
            );
            if let Some(user) = event.event.personal() {
                self.send_personal(user, event);
            }
            self.send_topic(event);
            if let parley::Event::ProfileChanged {
                user_id,
                username,
                profile,
            } = &event.event
                && self.profiles.receiver_count() > 0
            {
                let space = self.bot_space(*user_id);
                let bot = space.is_some();
                let frame = |profile: parley::profile::Profile| -> Utf8Bytes {
                    ServerFrame::Profile {
                        person: parley::api::ProfileView {
                            user_id: *user_id,
                            username: username.to_string(),
                            profile,
                            bot,
                        },
                    }
                    .to_json()
                    .into()
                };
                let _ = self.profiles.send(Arc::new(ProfileDispatch {
                    username: username.to_string(),
                    full: frame(profile.clone()),
                    // A bot is met in its space only, never in the lobby: strangers are
                    // not told of it.
                    public: (!bot).then(|| frame(profile.public())),
                    space,
                }));
            }
            if let parley::Event::AccountErased { messages, .. } = &event.event
                && let Some(username) = event.stream_id.0.strip_prefix("account-")
                && self.profiles.receiver_count() > 0
            {
                let frame: Utf8Bytes = ServerFrame::Erased {
                    username: username.to_owned(),
                    messages: *messages,
                }
                .to_json()
                .into();
                let _ = self.profiles.send(Arc::new(ProfileDispatch {
                    username: username.to_owned(),
                    full: frame,
                    // Strangers are not told a name they did not know.
                    public: None,
                    space: None,
                }));
            }
            let Some(channel) = event.event.channel_id() else {
                continue;
            };
            if let Some(sender) = channels.get(&channel) {
                // Made now if the channel was not followed when the frames were prepared.
                let dispatch = frame.unwrap_or_else(|| {
                    Arc::new(Dispatch {
                        position: event.position,
                        frame: event_frame(channel, event),
                        ephemeral: false,
                        activity: activity_frame(channel, event),
                    })
                });
                let _ = sender.send(dispatch);
            }
        }
    }

    fn send_personal(&self, user: UserId, event: &RecordedEvent) {
        let mut users = self.users.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        users.retain(|_, sender| sender.receiver_count() > 0);
        if let Some(sender) = users.get(&user) {
            let frame = ServerFrame::Personal {
                event: Box::new(event.clone()),
            };
            let _ = sender.send(frame.to_json().into());
        }
    }
}

impl Hub {
    /// Hands the bus's eager notices (typing) to the sockets here and to the other nodes,
    /// for as long as the bus lives. Lossy like the notices: one missed is not sent again.
    pub fn follow_eager(&self, bus: &crate::log::bus::Bus) -> tokio::task::JoinHandle<()> {
        let mut eager = bus.subscribe_eager();
        let hub = self.clone();
        tokio::spawn(async move {
            loop {
                match eager.recv().await {
                    Ok(notice) => match notice.as_ref() {
                        crate::log::bus::EagerNotice::Typing { channel, user } => hub.typing(*channel, user),
                    },
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        })
    }

    /// Tells the channel's subscribers that `user` is typing, here and (relayed) on the
    /// other nodes: never stored, no projection. Nobody following the channel: nothing to do.
    fn typing(&self, channel: ChannelId, user: &str) {
        if let Some(relay) = self.relay.get() {
            // Best effort, like the note itself: a full relay drops it.
            let _ = relay.try_send((channel, user.to_owned()));
        }
        self.typing_here(channel, user);
    }

    /// Sends typing notes on to the other nodes through `relay`.
    pub fn relay_typing(&self, relay: tokio::sync::mpsc::Sender<(ChannelId, String)>) {
        let _ = self.relay.set(relay);
    }

    /// A typing note for this node's sockets only (one that came from another node).
    pub fn typing_here(&self, channel: ChannelId, user: &str) {
        let channels = self.channels.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(sender) = channels.get(&channel) {
            let frame = ServerFrame::Typing {
                channel,
                user: user.to_owned(),
            };
            let _ = sender.send(Arc::new(Dispatch {
                position: Position::ZERO,
                frame: frame.to_json().into(),
                ephemeral: true,
                activity: None,
            }));
        }
    }
}

/// What a socket watching `channel` hears of a new message (nothing of other events).
fn activity_frame(channel: ChannelId, event: &RecordedEvent) -> Option<Utf8Bytes> {
    match &event.event {
        parley::Event::MessagePosted {
            author,
            body,
            reply_to,
            also_in_channel,
            ..
        } => Some(
            ServerFrame::Activity {
                channel,
                position: event.position,
                author: author.to_string(),
                body: body.to_string(),
                reply_to: *reply_to,
                also_in_channel: *also_in_channel,
            }
            .to_json()
            .into(),
        ),
        _ => None,
    }
}

pub fn event_frame(channel: ChannelId, event: &RecordedEvent) -> Utf8Bytes {
    ServerFrame::Event {
        channel,
        event: Box::new(event.clone()),
    }
    .to_json()
    .into()
}
