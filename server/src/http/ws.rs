//! The WebSocket door. A client subscribes to a channel with the last position it has
//! applied; it gets every later event of that channel exactly once, in log order: first
//! from the store (catch-up), then live from the dispatcher. The same goes for a space's
//! topics, subscribed to by pattern. It may also post messages.
//! Each socket has a bounded outbox: a client that stops reading only delays itself.
//! The handshake must come from an allowed Origin and carry a session; the socket closes
//! when that session signs out. A socket's posts are stored in the order it sent them, and
//! only a few may be in flight: past that the socket stops reading (TCP back-pressure), so
//! a client that floods without reading the answers holds a fixed amount of memory.

use crate::http::AppState;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use parley::DomainError;
use parley::api::PostRequest;
use parley::protocol::{ClientFrame, MAX_FRAME_BYTES, ServerFrame};
use parley::topic;
use parley::{ChannelId, Position, SpaceId};
use parley_engine::auth;
use parley_engine::engine::{AccessLost, Engine, EngineError, Session};
use parley_engine::live::hub::event_frame;
use parley_engine::log::store::StreamCursor;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

/// Frames waiting to be written to one socket.
const OUTBOX: usize = 256;
/// Events read from the store per catch-up query.
const CATCH_UP_PAGE: u32 = 500;
/// Bytes read from a socket at a time; larger frames still arrive whole.
const READ_BUFFER: usize = 4 * 1024;
/// Frames are written once this many bytes wait, or at the end of a run of ready frames.
const WRITE_BUFFER: usize = 16 * 1024;
/// At most this many ready frames are taken from the socket's outbox per write.
const WRITE_RUN: usize = 64;
/// How often a socket opened with an API token checks that the token still acts.
const TOKEN_CHECK: std::time::Duration = std::time::Duration::from_secs(2);
/// Channels one socket may follow at once.
const MAX_SUBSCRIPTIONS: usize = 256;
/// Posts one socket may have sent and not yet had answered: being decided, written, or
/// waiting for room in the outbox. Beyond these the socket is not read.
pub const POSTS_IN_FLIGHT: usize = 32;
/// Channels new to a socket it may ask for (subscribe, watch) per second, after a burst
/// of two full lists: each costs an access check and maybe a read of the store. Past
/// that the socket's frames wait (it slows itself, not the server).
const LOOKUPS_PER_SECOND: u32 = 64;
const LOOKUP_BURST: u32 = 2 * MAX_SUBSCRIPTIONS as u32;

/// A socket's pace of channel lookups.
type Lookups = governor::DefaultDirectRateLimiter;

fn lookups() -> Lookups {
    let quota =
        governor::Quota::per_second(std::num::NonZeroU32::new(LOOKUPS_PER_SECOND).unwrap_or(std::num::NonZeroU32::MIN))
            .allow_burst(std::num::NonZeroU32::new(LOOKUP_BURST).unwrap_or(std::num::NonZeroU32::MIN));
    governor::RateLimiter::direct(quota)
}

/// Waits until this socket may look up `n` more channels.
async fn pace(lookups: &Lookups, n: usize) {
    let Some(n) = u32::try_from(n).ok().and_then(std::num::NonZeroU32::new) else {
        return;
    };
    // More than the burst at once cannot happen (lists are capped below it).
    let _ = lookups.until_n_ready(n).await;
}

pub async fn handler(ws: WebSocketUpgrade, headers: HeaderMap, State(state): State<AppState>) -> Response {
    // A bot or a script sends its API token (a browser cannot set this header on a socket).
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    // A page on another site must not open a socket with this browser's cookie.
    if bearer.is_none() && !auth::origin_allowed(&headers, &state.allowed_origins) {
        return (StatusCode::FORBIDDEN, "this origin may not open a socket").into_response();
    }
    let session = match bearer {
        Some(token) => state.engine.token_session(token).await,
        None => {
            state
                .engine
                .authenticate(auth::token_from_headers(&headers).as_ref())
                .await
        }
    };
    let session = match session {
        Ok(session) => session,
        Err(e) if !e.is_user_error() => {
            return (StatusCode::INTERNAL_SERVER_ERROR, e.user_message()).into_response();
        }
        Err(_) => return (StatusCode::UNAUTHORIZED, "please sign in").into_response(),
    };
    let Some(guard) = state.engine.open_socket(session.me.user_id) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "too many open connections for this account; close some tabs",
        )
            .into_response();
    };
    // tungstenite's defaults (128 KiB read and write buffers) would cost each idle
    // socket over 100 KB; frames here are small. The write buffer grows only as far as the
    // frames ready together (the writer flushes after each run of them).
    ws.max_message_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| async move {
            let (mut sink, stream) = socket.split();
            // First, which build of the site this server serves: a page of another one
            // offers to reload.
            let hello = ServerFrame::Hello {
                version: state.site_version.0.to_string(),
            };
            if sink.send(frame_message(&hello)).await.is_err() {
                drop(guard);
                return;
            }
            serve(sink, stream, state.engine, session).await;
            drop(guard);
        })
}

fn frame_message(frame: &ServerFrame) -> Message {
    Message::Text(frame.to_json().into())
}

/// Hands a frame to the socket's writer, waiting for room; an error once the socket closed.
async fn deliver(out: &mpsc::Sender<Message>, message: Message) -> Result<(), String> {
    out.send(message).await.map_err(|_| "socket closed".to_string())
}

/// Serves one socket of `session`'s until it closes: `sink` takes the frames sent to the
/// client, `stream` gives the client's. Generic, so the socket's logic runs without a
/// server (a pair of channels in a test).
pub async fn serve<W, R>(mut sink: W, mut stream: R, engine: Arc<Engine>, session: Session)
where
    W: futures::Sink<Message> + Unpin + Send + 'static,
    R: futures::Stream<Item = Result<Message, axum::Error>> + Unpin + Send,
{
    metrics::gauge!(parley_engine::metrics::SOCKETS).increment(1.0);
    let (out, mut outbox) = mpsc::channel::<Message>(OUTBOX);
    // The frames ready together go out in one write: fed, then flushed once (a burst to
    // many subscribers, an answer and its event, are a send and a TCP segment each less).
    let writer = tokio::spawn(async move {
        // Grown only as far as the longest run seen: an idle socket's stays small.
        let mut ready = Vec::new();
        let (writes, frames_written) = (
            metrics::counter!(parley_engine::metrics::SOCKET_WRITES),
            metrics::counter!(parley_engine::metrics::SOCKET_FRAMES),
        );
        'writing: while outbox.recv_many(&mut ready, WRITE_RUN).await > 0 {
            // The tasks woken with the one that sent this frame run first, so a frame they
            // send joins this write rather than taking a system call of its own (the runtime
            // runs a task woken by another on the same worker next, before them). Under
            // `pairs`, 1.1 frames a write against 1.0 (a post's answer and its event come
            // from two tasks, woken by one commit), and 9 % fewer sends.
            tokio::task::yield_now().await;
            while ready.len() < WRITE_RUN {
                let Ok(message) = outbox.try_recv() else { break };
                ready.push(message);
            }
            let frames = ready.len() as u64;
            for message in ready.drain(..) {
                if sink.feed(message).await.is_err() {
                    break 'writing;
                }
            }
            if sink.flush().await.is_err() {
                break;
            }
            writes.increment(1);
            frames_written.increment(frames);
        }
        let _ = sink.close().await;
    });

    // Posts go, in the order read, to one task that decides and submits each in turn and
    // answers them in that order (started at the first post: most sockets only read).
    let mut posting = Posting::default();

    let mut closing = engine.closing();
    // Sessions end in the log: whichever node signed this one out, this node follows it.
    let mut signed_out = engine.signed_out();
    let session_id = parley_engine::auth::session_id(&session.token_hash);
    let ended = async {
        // An API token's socket: the token is not a session of the log (it is revoked or
        // rotated in its table), so it is looked at again every few seconds.
        if session.via_token {
            loop {
                tokio::time::sleep(TOKEN_CHECK).await;
                if !engine.token_stands(&session.token_hash).await {
                    return;
                }
            }
        }
        loop {
            match signed_out.recv().await {
                Ok(id) if id == session_id => return,
                Ok(_) => {}
                // Missed some: ask whether this one still stands.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if !engine.session_stands(&session.token_hash).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    };
    tokio::pin!(ended);
    // The session's end closes the socket too: it was checked at the handshake only.
    let left_ms = (session.expires_at_ms - parley_engine::log::store::now_ms()).max(0) as u64;
    let expiry = tokio::time::sleep(std::time::Duration::from_millis(left_ms));
    tokio::pin!(expiry);
    let mut access_lost = engine.access_lost();
    let lookups = lookups();
    let mut follows: HashMap<ChannelId, Follow> = HashMap::new();
    // Topic subscriptions, by space and pattern.
    let mut topics: HashMap<(SpaceId, String), AbortHandle> = HashMap::new();
    // Channels watched for new messages (unread badges), and this user's own events.
    let mut watches: HashMap<ChannelId, Follow> = HashMap::new();
    let mut personal = engine.hub().personal(session.me.user_id);
    let mut profiles = engine.hub().profiles();
    // This socket makes its user present; it hears of others only once it asks to.
    let mut presence = Presence {
        connection: engine.presence().connect(&session.me.username),
        changes: None,
        contacts: Contacts::default(),
    };
    loop {
        enum Next {
            Room(Result<mpsc::OwnedPermit<PostRequest>, mpsc::error::SendError<()>>),
            Frame(Option<Result<Message, axum::Error>>),
            Lost(Result<AccessLost, broadcast::error::RecvError>),
            Presence(Result<parley_engine::live::presence::Change, broadcast::error::RecvError>),
            Personal(Result<Utf8Bytes, broadcast::error::RecvError>),
            Profile(Result<Arc<parley_engine::live::hub::ProfileDispatch>, broadcast::error::RecvError>),
            End,
        }
        let next = tokio::select! {
            room = posting.room(), if posting.needs_room() => Next::Room(room),
            message = stream.next(), if !posting.needs_room() => Next::Frame(message),
            _ = closing.wait_for(|closing| *closing) => Next::End,
            () = &mut ended => Next::End,
            () = &mut expiry => Next::End,
            lost = access_lost.recv() => Next::Lost(lost),
            frame = personal.recv() => Next::Personal(frame),
            profile = profiles.recv() => Next::Profile(profile),
            change = async {
                match presence.changes.as_mut() {
                    Some(changes) => changes.recv().await,
                    None => std::future::pending().await,
                }
            } => Next::Presence(change),
        };
        let message = match next {
            Next::Room(Ok(room)) => {
                posting.permit = Some(room);
                continue;
            }
            Next::Room(Err(_)) => break,
            Next::Personal(frame) => {
                match frame {
                    // Best effort like presence: the client counts again on its next refresh.
                    Ok(frame) => {
                        let _ = out.try_send(Message::Text(frame));
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => personal = engine.hub().personal(session.me.user_id),
                }
                continue;
            }
            Next::Profile(profile) => {
                match profile {
                    // Best effort like presence: the client reads profiles again when it opens.
                    // Whom it may tell all is read from the contacts as they stand (read at most
                    // once a minute here): a stranger's change never makes every socket read
                    // them again (the client asks for profiles afresh when it opens, and a
                    // new contact's come then).
                    // A bot's: for the members of its space (a question of the log state's
                    // cached space, no read), whatever the contacts say.
                    Ok(profile) if profile.space.is_some() => {
                        if let Some(space) = profile.space
                            && engine.is_member_of(&session.me, space).await
                        {
                            let _ = out.try_send(Message::Text(profile.full.clone()));
                        }
                    }
                    Ok(profile) if profile.public.is_none() => {
                        // Only for those who knew the name: as known before the change (a
                        // deleted account is nobody's contact once it is folded).
                        if presence.contacts.knows(&profile.username) == Some(true) {
                            let _ = out.try_send(Message::Text(profile.full.clone()));
                        }
                    }
                    Ok(profile) => {
                        let frame = if profile.username == session.me.username
                            || presence
                                .contacts
                                .knows_lately(&engine, &session.me, &profile.username)
                                .await
                        {
                            profile.full.clone()
                        } else if let Some(public) = &profile.public {
                            public.clone()
                        } else {
                            continue;
                        };
                        let _ = out.try_send(Message::Text(frame));
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => profiles = engine.hub().profiles(),
                }
                continue;
            }
            Next::Presence(change) => {
                let frame = match change {
                    Ok(change) => {
                        if !presence.contacts.may_see(&engine, &session.me, &change.0).await {
                            continue;
                        }
                        ServerFrame::Presence {
                            users: vec![change],
                            full: false,
                        }
                    }
                    // Missed some: start again from everyone now.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let (changes, users) = engine.presence().watch();
                        presence.changes = Some(changes);
                        let users = presence.contacts.visible(&engine, &session.me, users).await;
                        ServerFrame::Presence { users, full: true }
                    }
                    Err(broadcast::error::RecvError::Closed) => continue,
                };
                // Best effort: a slow socket misses a presence change rather than stalling.
                let _ = out.try_send(frame_message(&frame));
                continue;
            }
            Next::Lost(lost) => {
                let lost = match lost {
                    Ok(lost) => Some(lost),
                    Err(broadcast::error::RecvError::Lagged(_)) => None,
                    Err(broadcast::error::RecvError::Closed) => continue,
                };
                if revoke(&engine, &session, &mut follows, lost, Some(&out)).await.is_err() {
                    break;
                }
                let _ = revoke(&engine, &session, &mut watches, lost, None).await;
                if revoke_topics(&engine, &session, &mut topics, lost, &out).await.is_err() {
                    break;
                }
                continue;
            }
            Next::Frame(message) => message,
            Next::End => None,
        };
        let Some(Ok(message)) = message else { break };
        let reply = match message {
            Message::Text(text) => {
                let mut channels = Channels {
                    follows: &mut follows,
                    watches: &mut watches,
                    topics: &mut topics,
                    lookups: &lookups,
                };
                on_frame(
                    &text,
                    &engine,
                    &session,
                    &out,
                    &mut channels,
                    &mut presence,
                    &mut posting,
                )
                .await
            }
            Message::Binary(_) => Some(ServerFrame::Error {
                error: "binary frames are not supported; send JSON text".into(),
            }),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => None,
        };
        if let Some(frame) = reply
            && out.send(frame_message(&frame)).await.is_err()
        {
            break;
        }
    }
    for follow in follows.values().chain(watches.values()) {
        follow.task.abort();
    }
    for task in topics.values() {
        task.abort();
    }
    if let Some(poster) = &posting.poster {
        poster.abort();
    }
    engine.presence().disconnect(&presence.connection);
    drop(out);
    let _ = writer.await;
    metrics::gauge!(parley_engine::metrics::SOCKETS).decrement(1.0);
}

/// This socket's presence: its place in the book, and the changes it follows (once asked).
struct Presence {
    connection: parley_engine::live::presence::Connection,
    changes: Option<broadcast::Receiver<parley_engine::live::presence::Change>>,
    /// Whose changes it may be told.
    contacts: Contacts,
}

/// The people a socket's user may see the presence of, read from the read models and read
/// again (at most every few seconds) when someone not among them changes: a new space
/// member or conversation shows up without a reconnect.
#[derive(Default)]
struct Contacts {
    /// `None` inside: everyone (the lobby counts). `None` outside: not read yet.
    names: Option<Option<std::collections::HashSet<String>>>,
    read_at: Option<std::time::Instant>,
}

/// How long the contacts read stand before a stranger's change makes them read again.
const CONTACTS_FRESH: std::time::Duration = std::time::Duration::from_secs(5);
/// How long they stand at most: someone who left the last space shared stops being seen.
const CONTACTS_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(60);

impl Contacts {
    fn knows(&self, user: &str) -> Option<bool> {
        match &self.names {
            Some(None) => Some(true),
            Some(Some(names)) => Some(names.contains(user)),
            None => None,
        }
    }

    async fn read(&mut self, engine: &Engine, me: &parley_app::api::Me) {
        match engine.presence_contacts(me).await {
            Ok(names) => self.names = Some(names),
            Err(e) => tracing::warn!(error = %e, "could not read whose presence a socket may see"),
        }
        self.read_at = Some(std::time::Instant::now());
    }

    /// Whether `user` is among `me`'s contacts as last read, read again only when that was
    /// over [`CONTACTS_MAX_AGE`] ago (or never).
    async fn knows_lately(&mut self, engine: &Engine, me: &parley_app::api::Me, user: &str) -> bool {
        if self.read_at.is_none_or(|at| at.elapsed() >= CONTACTS_MAX_AGE) {
            self.read(engine, me).await;
        }
        self.knows(user) == Some(true)
    }

    /// Whether `me` may see `user`'s presence.
    async fn may_see(&mut self, engine: &Engine, me: &parley_app::api::Me, user: &str) -> bool {
        let fresh = self.read_at.is_some_and(|at| at.elapsed() < CONTACTS_MAX_AGE);
        if fresh && self.knows(user) == Some(true) {
            return true;
        }
        if self.read_at.is_none_or(|at| at.elapsed() >= CONTACTS_FRESH) {
            self.read(engine, me).await;
        }
        self.knows(user) == Some(true)
    }

    /// Of `users`, those `me` may see (the contacts read afresh).
    async fn visible(
        &mut self,
        engine: &Engine,
        me: &parley_app::api::Me,
        users: Vec<parley_engine::live::presence::Change>,
    ) -> Vec<parley_engine::live::presence::Change> {
        self.read(engine, me).await;
        users
            .into_iter()
            .filter(|(user, _)| self.knows(user) == Some(true))
            .collect()
    }
}

/// A channel this socket follows, and the space it belongs to.
struct Follow {
    task: AbortHandle,
    space: Option<SpaceId>,
    /// When this socket last said its user is typing here.
    typed: Option<std::time::Instant>,
}

/// The most often one socket's "typing" note goes out, per channel. Clients say it every
/// two seconds while typing (and at once when they start a new message); this only bounds
/// a client that does not behave.
const TYPING_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// The channels a socket follows (every event) and watches (new messages only), and the
/// topics it subscribed to.
struct Channels<'a> {
    follows: &'a mut HashMap<ChannelId, Follow>,
    watches: &'a mut HashMap<ChannelId, Follow>,
    topics: &'a mut HashMap<(SpaceId, String), AbortHandle>,
    lookups: &'a Lookups,
}

/// Stops following the channels this user may no longer read, and says so (when `out` is
/// given). With no details (the notices lagged), checks every channel followed again.
async fn revoke(
    engine: &Engine,
    session: &Session,
    follows: &mut HashMap<ChannelId, Follow>,
    lost: Option<AccessLost>,
    out: Option<&mpsc::Sender<Message>>,
) -> Result<(), mpsc::error::SendError<Message>> {
    let mut ended = Vec::new();
    for (channel, follow) in follows.iter() {
        let me = session.me.user_id;
        let gone = match lost {
            Some(lost) if lost.user.is_some_and(|user| user != me) => false,
            Some(AccessLost { space: Some(space), .. }) => follow.space == Some(space),
            // A channel's notice: that channel only, if this user may no longer read it.
            Some(AccessLost {
                channel: Some(lost), ..
            }) => lost == *channel && engine.authorize_channel(&session.me, *channel).await.is_err(),
            _ => engine.authorize_channel(&session.me, *channel).await.is_err(),
        };
        if gone {
            ended.push(*channel);
        }
    }
    for channel in ended {
        if let Some(follow) = follows.remove(&channel) {
            follow.task.abort();
        }
        if let Some(out) = out {
            let error = format!("you can no longer read channel {channel}");
            out.send(frame_message(&ServerFrame::Error { error })).await?;
        }
    }
    Ok(())
}

/// Ends the topic subscriptions of a space this user left or was removed from, and says so.
/// With no details (the notices lagged), asks again for every one.
async fn revoke_topics(
    engine: &Engine,
    session: &Session,
    topics: &mut HashMap<(SpaceId, String), AbortHandle>,
    lost: Option<AccessLost>,
    out: &mpsc::Sender<Message>,
) -> Result<(), mpsc::error::SendError<Message>> {
    let mut ended = Vec::new();
    for (space, pattern) in topics.keys() {
        let gone = match lost {
            Some(lost) if lost.user.is_some_and(|user| user != session.me.user_id) => false,
            Some(AccessLost { space: Some(lost), .. }) => lost == *space,
            Some(_) => false,
            None => engine.topic_streams(&session.me, *space, pattern).await.is_err(),
        };
        if gone {
            ended.push((*space, pattern.clone()));
        }
    }
    for key in ended {
        if let Some(task) = topics.remove(&key) {
            task.abort();
        }
        let (space, pattern) = key;
        let frame = ServerFrame::TopicsRefused {
            space,
            pattern,
            error: "you are no longer a member of this space".into(),
        };
        out.send(frame_message(&frame)).await?;
    }
    Ok(())
}

async fn on_frame(
    text: &str,
    engine: &Arc<Engine>,
    session: &Session,
    out: &mpsc::Sender<Message>,
    channels: &mut Channels<'_>,
    presence: &mut Presence,
    posting: &mut Posting,
) -> Option<ServerFrame> {
    let follows = &mut *channels.follows;
    let frame = match ClientFrame::parse(text) {
        Ok(frame) => frame,
        Err(e) => {
            return Some(ServerFrame::Error { error: e.to_string() });
        }
    };
    match frame {
        ClientFrame::Subscribe { channel, after, id } => {
            if !follows.contains_key(&channel) && follows.len() >= MAX_SUBSCRIPTIONS {
                return Some(ServerFrame::Refused {
                    channel,
                    error: format!("at most {MAX_SUBSCRIPTIONS} subscriptions per connection"),
                });
            }
            if !follows.contains_key(&channel) {
                pace(channels.lookups, 1).await;
            }
            // Only a member may follow a channel; to anyone else it does not exist.
            let state = match engine.authorize_channel(&session.me, channel).await {
                Ok(state) => state,
                Err(e) => {
                    let error = match e {
                        EngineError::Domain(DomainError::NoSuchChannel) => "no such channel".to_owned(),
                        other => other.user_message(),
                    };
                    return Some(ServerFrame::Refused { channel, error });
                }
            };
            if let Some(previous) = follows.remove(&channel) {
                previous.task.abort();
            }
            let task = tokio::spawn(follow(engine.clone(), channel, after, id, out.clone()));
            follows.insert(
                channel,
                Follow {
                    task: task.abort_handle(),
                    space: state.space_id,
                    typed: None,
                },
            );
            None
        }
        ClientFrame::Unsubscribe { channel } => {
            if let Some(follow) = follows.remove(&channel) {
                follow.task.abort();
            }
            None
        }
        ClientFrame::Post {
            channel,
            message_id,
            body,
            reply_to,
            also_in_channel,
            attachments,
        } => {
            let request = PostRequest {
                reply_to,
                also_in_channel,
                attachments,
                channel,
                message_id,
                body,
                correlation_id: None,
            };
            posting.send(engine, session, out, request)
        }
        ClientFrame::Ping { nonce } => Some(ServerFrame::Pong { nonce }),
        ClientFrame::Away { away } => {
            engine.presence().set_away(&presence.connection, away);
            None
        }
        ClientFrame::WatchPresence => {
            let (changes, users) = engine.presence().watch();
            presence.changes = Some(changes);
            // Only people `me` shares a space or a conversation with.
            let users = presence.contacts.visible(engine, &session.me, users).await;
            Some(ServerFrame::Presence { users, full: true })
        }
        ClientFrame::Watch { channels: wanted } => {
            if wanted.len() > MAX_SUBSCRIPTIONS {
                return Some(ServerFrame::Error {
                    error: format!("at most {MAX_SUBSCRIPTIONS} channels may be watched"),
                });
            }
            let watches = &mut *channels.watches;
            watches.retain(|channel, watch| {
                let keep = wanted.contains(channel);
                if !keep {
                    watch.task.abort();
                }
                keep
            });
            let new = wanted.iter().filter(|c| !watches.contains_key(c)).count();
            pace(channels.lookups, new).await;
            let mut refused = Vec::new();
            for channel in wanted {
                if watches.contains_key(&channel) {
                    continue;
                }
                match engine.authorize_channel(&session.me, channel).await {
                    Ok(state) => {
                        let task = tokio::spawn(watch(engine.clone(), channel, out.clone()));
                        watches.insert(
                            channel,
                            Follow {
                                task: task.abort_handle(),
                                space: state.space_id,
                                typed: None,
                            },
                        );
                    }
                    Err(_) => refused.push(channel.to_string()),
                }
            }
            (!refused.is_empty()).then(|| ServerFrame::Error {
                error: format!("no such channel: {}", refused.join(", ")),
            })
        }
        ClientFrame::SubscribeTopics { space, pattern, after } => {
            let topics = &mut *channels.topics;
            let refused = |pattern: String, error: String| Some(ServerFrame::TopicsRefused { space, pattern, error });
            let pattern = match topic::valid_pattern(&pattern) {
                Ok(valid) => valid,
                Err(e) => return refused(pattern, e.to_string()),
            };
            let key = (space, pattern.clone());
            if !topics.contains_key(&key) && topics.len() >= topic::MAX_SUBSCRIPTIONS {
                let error = format!(
                    "at most {} topic subscriptions per connection",
                    topic::MAX_SUBSCRIPTIONS
                );
                return refused(pattern, error);
            }
            pace(channels.lookups, 1).await;
            // Members and bots of the space only; to anyone else it does not exist.
            if let Err(e) = engine.topic_streams(&session.me, space, &pattern).await {
                let error = match e {
                    EngineError::Domain(DomainError::NoSuchSpace | DomainError::NotAMember) => {
                        "no such space".to_owned()
                    }
                    other => other.user_message(),
                };
                return refused(pattern, error);
            }
            if let Some(previous) = topics.remove(&key) {
                previous.abort();
            }
            let task = follow_topics(engine.clone(), session.me.clone(), space, pattern, after, out.clone());
            topics.insert(key, tokio::spawn(task).abort_handle());
            None
        }
        ClientFrame::UnsubscribeTopics { space, pattern } => {
            let key = (space, topic::valid_pattern(&pattern).unwrap_or(pattern));
            if let Some(task) = channels.topics.remove(&key) {
                task.abort();
            }
            None
        }
        ClientFrame::Typing { channel } => {
            // Only into a channel this socket follows (so membership was checked), and at
            // most four times a second per channel: a note, not a flood.
            let Some(follow) = follows.get_mut(&channel) else {
                return Some(ServerFrame::Error {
                    error: format!("subscribe to channel {channel} before typing in it"),
                });
            };
            let now = std::time::Instant::now();
            if follow.typed.is_none_or(|at| now.duration_since(at) >= TYPING_EVERY) {
                follow.typed = Some(now);
                engine.typing(channel, &session.me.username);
            }
            None
        }
    }
}

/// A socket's way to its post task: the queue, the task, and room taken in the queue
/// before the next frame is read (so a full queue stops the reading: back-pressure).
#[derive(Default)]
struct Posting {
    posts: Option<mpsc::Sender<PostRequest>>,
    poster: Option<tokio::task::JoinHandle<()>>,
    permit: Option<mpsc::OwnedPermit<PostRequest>>,
}

impl Posting {
    /// Whether room must be taken before the next frame is read: once posting started.
    fn needs_room(&self) -> bool {
        self.posts.is_some() && self.permit.is_none()
    }

    /// Waits for room in the queue (never resolves before posting started).
    fn room(&self) -> impl Future<Output = Result<mpsc::OwnedPermit<PostRequest>, mpsc::error::SendError<()>>> + use<> {
        let posts = self.posts.clone();
        async move {
            match posts {
                Some(posts) => posts.reserve_owned().await,
                None => std::future::pending().await,
            }
        }
    }

    /// Queues a post read from the socket, starting the post task at the first.
    fn send(
        &mut self,
        engine: &Arc<Engine>,
        session: &Session,
        out: &mpsc::Sender<Message>,
        request: PostRequest,
    ) -> Option<ServerFrame> {
        let message_id = request.message_id;
        if self.posts.is_none() {
            let (posts, queued) = mpsc::channel::<PostRequest>(POSTS_IN_FLIGHT);
            let task = answer_posts(engine.clone(), session.me.clone(), queued, out.clone());
            self.poster = Some(tokio::spawn(task));
            self.posts = Some(posts);
        }
        let sent = match (self.permit.take(), &self.posts) {
            // The frame was read only with room in hand (see `serve`).
            (Some(room), _) => {
                room.send(request);
                true
            }
            // The first post: the queue is new and empty.
            (None, Some(posts)) => posts.try_send(request).is_ok(),
            (None, None) => false,
        };
        (!sent).then(|| ServerFrame::Rejected {
            message_id,
            error: "too many posts in flight; wait for their answers".into(),
        })
    }
}

/// Decides and submits one socket's posts in the order they were read, and answers each
/// in that order once committed. Submitting fixes a post's place in the log, so a post
/// need not wait for the one before it to commit (pipelining), yet none overtakes another.
async fn answer_posts(
    engine: Arc<Engine>,
    me: parley_app::api::Me,
    mut queued: mpsc::Receiver<PostRequest>,
    out: mpsc::Sender<Message>,
) {
    type Answer<'a> = std::pin::Pin<Box<dyn Future<Output = ServerFrame> + Send + 'a>>;
    let engine = &*engine;
    let mut answers: futures::stream::FuturesOrdered<Answer<'_>> = futures::stream::FuturesOrdered::new();
    loop {
        tokio::select! {
            // Answers first: they free room for more.
            biased;
            Some(answer) = answers.next(), if !answers.is_empty() => {
                if out.send(frame_message(&answer)).await.is_err() {
                    return;
                }
            }
            request = queued.recv(), if answers.len() < POSTS_IN_FLIGHT => {
                let Some(request) = request else { break };
                let message_id = request.message_id;
                let rejected = move |e: EngineError| ServerFrame::Rejected {
                    message_id,
                    error: e.user_message(),
                };
                let answer: Answer<'_> = match engine.submit_post(&me, request).await {
                    Ok(committed) => Box::pin(async move {
                        match committed.await {
                            Ok(position) => ServerFrame::Ack { message_id, position },
                            Err(e) => rejected(e),
                        }
                    }),
                    Err(e) => {
                        let frame = rejected(e);
                        Box::pin(async move { frame })
                    }
                };
                answers.push_back(answer);
            }
        }
    }
    while let Some(answer) = answers.next().await {
        if out.send(frame_message(&answer)).await.is_err() {
            return;
        }
    }
}

/// Sends one channel's events after `after` to the socket: catch-up, then live.
/// Live events at or below the last position sent are skipped, so none comes twice.
/// `id` is the client's name for this subscription, echoed in its `CaughtUp`.
async fn follow(engine: Arc<Engine>, channel: ChannelId, after: Position, id: u64, out: mpsc::Sender<Message>) {
    let result: Result<(), String> = async {
        // Subscribe before reading the store, so nothing committed in between is missed.
        let mut live = engine.hub().subscribe(channel);
        let mut last = catch_up(&engine, channel, after, &out).await?;
        let caught_up = ServerFrame::CaughtUp {
            channel,
            position: last,
            id,
        };
        deliver(&out, frame_message(&caught_up)).await?;
        loop {
            match live.recv().await {
                // Someone typing: best effort, never waits for a slow socket.
                Ok(dispatch) if dispatch.ephemeral => {
                    let _ = out.try_send(Message::Text(dispatch.frame.clone()));
                }
                Ok(dispatch) if dispatch.position > last => {
                    deliver(&out, Message::Text(dispatch.frame.clone())).await?;
                    metrics::counter!(parley_engine::metrics::DELIVERIES).increment(1);
                    last = dispatch.position;
                }
                Ok(_) => {}
                // Too slow for the live feed: fetch what was missed from the store.
                Err(RecvError::Lagged(_)) => {
                    metrics::counter!(parley_engine::metrics::RESYNCS).increment(1);
                    last = catch_up(&engine, channel, last, &out).await?;
                }
                Err(RecvError::Closed) => return Ok(()),
            }
        }
    }
    .await;
    if let Err(error) = result {
        tracing::debug!(%channel, %error, "subscription ended");
    }
}

/// Sends the events of the space's topics that `pattern` matches after `after`: catch-up,
/// then live, each once. Ends (and says why) when the user may no longer read them.
async fn follow_topics(
    engine: Arc<Engine>,
    me: parley_app::api::Me,
    space: SpaceId,
    pattern: String,
    after: Position,
    out: mpsc::Sender<Message>,
) {
    let result: Result<(), String> = async {
        // Subscribe before reading the store, so nothing committed in between is missed.
        let mut live = engine.hub().subscribe_topics(space);
        let mut last = topics_catch_up(&engine, &me, space, &pattern, after, &out).await?;
        let caught_up = ServerFrame::TopicsCaughtUp {
            space,
            pattern: pattern.clone(),
            position: last,
        };
        deliver(&out, frame_message(&caught_up)).await?;
        loop {
            match live.recv().await {
                Ok(dispatch) if dispatch.event.position > last && topic::matches(&pattern, &dispatch.topic) => {
                    let frame = ServerFrame::TopicEvent {
                        space,
                        pattern: pattern.clone(),
                        event: Box::new((*dispatch.event).clone()),
                    };
                    deliver(&out, frame_message(&frame)).await?;
                    last = dispatch.event.position;
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    metrics::counter!(parley_engine::metrics::RESYNCS).increment(1);
                    last = topics_catch_up(&engine, &me, space, &pattern, last, &out).await?;
                }
                Err(RecvError::Closed) => return Ok(()),
            }
        }
    }
    .await;
    if let Err(error) = result {
        tracing::debug!(%space, %pattern, %error, "topic subscription ended");
        let frame = ServerFrame::TopicsRefused { space, pattern, error };
        let _ = out.try_send(frame_message(&frame));
    }
}

/// Sends the stored events of the matching topics after `last`, up to what is projected.
async fn topics_catch_up(
    engine: &Engine,
    me: &parley_app::api::Me,
    space: SpaceId,
    pattern: &str,
    mut last: Position,
    out: &mpsc::Sender<Message>,
) -> Result<Position, String> {
    let streams = engine
        .topic_streams(me, space, pattern)
        .await
        .map_err(|e| e.user_message())?;
    let up_to = engine.hub().projected();
    let mut cursors: Vec<_> = streams
        .into_iter()
        .map(|stream| (stream, StreamCursor::Position(last)))
        .collect();
    while last < up_to {
        let (page, reached) = engine
            .store()
            .read_streams(&mut cursors, up_to, CATCH_UP_PAGE)
            .await
            .map_err(|e| e.to_string())?;
        for event in page {
            let frame = ServerFrame::TopicEvent {
                space,
                pattern: pattern.to_owned(),
                event: Box::new(event),
            };
            deliver(out, frame_message(&frame)).await?;
        }
        // Every event of these topics up to `reached` is sent: live ones at or below it
        // are skipped.
        last = reached;
    }
    Ok(last)
}

/// Tells the socket of each new message in `channel`, best effort: a badge that misses
/// one is corrected by the next count, so a slow socket drops these rather than waits.
async fn watch(engine: Arc<Engine>, channel: ChannelId, out: mpsc::Sender<Message>) {
    let mut live = engine.hub().subscribe(channel);
    loop {
        match live.recv().await {
            Ok(dispatch) => {
                if let Some(frame) = &dispatch.activity
                    && let Err(mpsc::error::TrySendError::Closed(_)) = out.try_send(Message::Text(frame.clone()))
                {
                    return;
                }
            }
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

async fn catch_up(
    engine: &Engine,
    channel: ChannelId,
    mut last: Position,
    out: &mpsc::Sender<Message>,
) -> Result<Position, String> {
    let stream = channel.stream();
    loop {
        let up_to = engine.hub().projected();
        let mut page = engine
            .store()
            .read_stream(&stream, last, up_to, CATCH_UP_PAGE)
            .await
            .map_err(|e| e.to_string())?;
        // The past without the words of messages deleted since.
        parley_engine::engine::redaction::redact_page(engine.store().pool(), &mut page)
            .await
            .map_err(|e| e.to_string())?;
        for event in &page {
            let frame: Utf8Bytes = event_frame(channel, event);
            deliver(out, Message::Text(frame)).await?;
            last = event.position;
        }
        if page.len() < CATCH_UP_PAGE as usize {
            return Ok(last);
        }
    }
}
