//! Server functions shared by browser and server, their error type, and (server side)
//! the backend trait the server implements for them.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use parley::{ChannelId, CorrelationId, MessageId, MessageView, Position, Role, SpaceId, UserId};
use serde::{Deserialize, Serialize};

/// The one error type of the server-function door: what the user sees.
/// Causes of internal errors are logged on the server, never sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The request was malformed or broke a rule; nothing changed.
    #[error("{0}")]
    Invalid(String),
    /// No valid session: sign in first.
    #[error("please sign in")]
    Unauthorized,
    /// Signed in, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; wait and try again.
    #[error("{0}")]
    RateLimited(String),
    /// The server failed; nothing the user did wrong.
    #[error("the server could not complete this request, please try again")]
    Internal,
    /// The request did not reach the server, or its answer did not come back.
    #[error("could not reach the server ({0})")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(e) | ServerFnErrorErr::Deserialization(e) => Self::Invalid(e),
            other => Self::Transport(other.to_string()),
        }
    }
}

impl AppError {
    /// True when the session is gone: the page should show the sign-in form.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Unauthorized)
    }
}

/// How server functions reach the server: `fetch` from the page's own origin; in a
/// client-only build hosted elsewhere, `fetch` that carries the session cookie across origins.
#[cfg(not(feature = "csr"))]
pub type ApiClient = server_fn::client::browser::BrowserClient;
#[cfg(feature = "csr")]
pub type ApiClient = cross_origin::CredentialedClient;

#[cfg(feature = "csr")]
mod cross_origin {
    //! The browser client, with `credentials: "include"`: a client-only build served from
    //! another origin must send (and store) the session cookie of the server it talks to.
    //! The server allows exactly the configured origins, with credentials (CORS).

    use futures::{Sink, Stream};
    use server_fn::Bytes;
    use server_fn::client::Client;
    use server_fn::client::browser::BrowserClient;
    use server_fn::error::FromServerFnError;
    use server_fn::request::browser::{BrowserRequest, Request};
    use server_fn::response::browser::BrowserResponse;
    use std::future::Future;

    pub struct CredentialedClient;

    fn with_credentials(request: &mut BrowserRequest) {
        let Ok(placeholder) = Request::get(&request.url()).build() else {
            return;
        };
        let raw: web_sys::Request = std::mem::replace(&mut **request, placeholder).into();
        let init = web_sys::RequestInit::new();
        init.set_credentials(web_sys::RequestCredentials::Include);
        **request = match web_sys::Request::new_with_request_and_init(&raw, &init) {
            Ok(credentialed) => Request::from(credentialed),
            Err(_) => Request::from(raw),
        };
    }

    impl<E: FromServerFnError, I: FromServerFnError, O: FromServerFnError> Client<E, I, O> for CredentialedClient {
        type Request = BrowserRequest;
        type Response = BrowserResponse;

        fn send(mut request: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
            with_credentials(&mut request);
            <BrowserClient as Client<E, I, O>>::send(request)
        }

        #[allow(clippy::type_complexity)]
        fn open_websocket(
            path: &str,
        ) -> impl Future<
            Output = Result<
                (
                    impl Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                    impl Sink<Bytes> + Send + 'static,
                ),
                E,
            >,
        > + Send {
            <BrowserClient as Client<E, I, O>>::open_websocket(path)
        }

        fn spawn(future: impl Future<Output = ()> + Send + 'static) {
            <BrowserClient as Client<E, I, O>>::spawn(future)
        }
    }
}

/// The most messages one history page may hold.
pub const MAX_HISTORY_PAGE: u32 = 200;

/// The signed-in user, as the page knows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user_id: UserId,
    pub username: String,
}

/// What a member asks of a space, as it arrives at a door. The server adds what only it
/// may choose (invite codes, the clock) and checks the member's role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SpaceAction {
    Rename {
        name: String,
    },
    Delete,
    CreateInvite {
        expires_in_minutes: Option<u32>,
        max_uses: Option<u32>,
    },
    RevokeInvite {
        code: String,
    },
    Join {
        code: String,
    },
    Leave,
    Remove {
        member: UserId,
    },
    SetRole {
        member: UserId,
        role: Role,
    },
    CreateChannel {
        name: String,
    },
    RenameChannel {
        channel: ChannelId,
        name: String,
    },
    ArchiveChannel {
        channel: ChannelId,
    },
}

/// What a space action produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SpaceOutcome {
    Done,
    Invite { code: String },
    Channel { channel_id: ChannelId },
}

/// A space as one member sees it in the sidebar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceView {
    pub space_id: SpaceId,
    pub name: String,
    pub role: Role,
    pub channels: Vec<ChannelView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelView {
    pub channel_id: ChannelId,
    pub name: String,
}

/// A direct conversation, as one of its people sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectView {
    pub channel_id: ChannelId,
    /// The other people's usernames.
    pub with: Vec<String>,
}

/// Opens (or finds) your direct conversation with these users.
#[server(client = ApiClient, endpoint = "open_direct", input = server_fn::codec::Json)]
pub async fn open_direct(usernames: Vec<String>) -> Result<DirectView, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.open_direct(&me, usernames).await.map_err(ssr::respond)
}

/// Your direct conversations.
#[server(client = ApiClient, endpoint = "my_directs", input = server_fn::codec::Json)]
pub async fn my_directs() -> Result<Vec<DirectView>, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.my_directs(&me).await.map_err(ssr::respond)
}

/// An invite of a space, as those who may invite see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteView {
    pub code: String,
    pub expires_at_ms: Option<i64>,
    pub max_uses: Option<u32>,
    pub uses: u32,
}

/// The live invites of a space (not revoked, expired or used up), for those who may invite.
#[server(client = ApiClient, endpoint = "invites", input = server_fn::codec::Json)]
pub async fn invites(space: SpaceId) -> Result<Vec<InviteView>, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.invites(&me, space).await.map_err(ssr::respond)
}

/// One member of a space.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: UserId,
    pub username: String,
    pub role: Role,
}

/// Creates a space (you are its admin) with a `#general` channel.
#[server(client = ApiClient, endpoint = "create_space", input = server_fn::codec::Json)]
pub async fn create_space(name: String) -> Result<SpaceView, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.create_space(&me, name).await.map_err(ssr::respond)
}

/// Does something to a space: rename, delete, invite, join, leave, remove, set a role, add a channel.
#[server(client = ApiClient, endpoint = "act_on_space", input = server_fn::codec::Json)]
pub async fn act_on_space(space: SpaceId, action: SpaceAction) -> Result<SpaceOutcome, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.space_action(&me, space, action).await.map_err(ssr::respond)
}

/// The spaces you are a member of, with their channels.
#[server(client = ApiClient, endpoint = "my_spaces", input = server_fn::codec::Json)]
pub async fn my_spaces() -> Result<Vec<SpaceView>, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.my_spaces(&me).await.map_err(ssr::respond)
}

/// The members of a space you belong to, with their roles.
#[server(client = ApiClient, endpoint = "members", input = server_fn::codec::Json)]
pub async fn members(space: SpaceId) -> Result<Vec<MemberView>, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.members(&me, space).await.map_err(ssr::respond)
}

/// Creates an account and signs it in (sets the session cookie).
#[server(client = ApiClient, endpoint = "sign_up", input = server_fn::codec::Json)]
pub async fn sign_up(username: String, password: String) -> Result<Me, AppError> {
    let backend = ssr::backend()?;
    let headers = ssr::headers();
    let (me, cookie) = backend
        .sign_up(&headers, username, password)
        .await
        .map_err(ssr::respond)?;
    ssr::set_cookie(&cookie);
    Ok(me)
}

/// Signs in (sets the session cookie). The error never says whether the username exists.
#[server(client = ApiClient, endpoint = "sign_in", input = server_fn::codec::Json)]
pub async fn sign_in(username: String, password: String) -> Result<Me, AppError> {
    let backend = ssr::backend()?;
    let headers = ssr::headers();
    let (me, cookie) = backend
        .sign_in(&headers, username, password)
        .await
        .map_err(ssr::respond)?;
    ssr::set_cookie(&cookie);
    Ok(me)
}

/// Ends this browser's session (and closes its sockets); clears the cookie.
#[server(client = ApiClient, endpoint = "sign_out", input = server_fn::codec::Json)]
pub async fn sign_out() -> Result<(), AppError> {
    let backend = ssr::backend()?;
    let headers = ssr::headers();
    let cookie = backend.sign_out(&headers).await.map_err(ssr::respond)?;
    ssr::set_cookie(&cookie);
    Ok(())
}

/// Ends every other session of this account (other browsers, devices, forgotten tabs) and
/// closes their sockets; this one stays. Returns how many ended.
#[server(client = ApiClient, endpoint = "sign_out_others", input = server_fn::codec::Json)]
pub async fn sign_out_others() -> Result<u64, AppError> {
    let backend = ssr::backend()?;
    backend.sign_out_others(&ssr::headers()).await.map_err(ssr::respond)
}

/// Who this browser is signed in as, if anyone.
#[server(client = ApiClient, endpoint = "whoami", input = server_fn::codec::Json)]
pub async fn whoami() -> Result<Option<Me>, AppError> {
    let backend = ssr::backend()?;
    match backend.authenticate(&ssr::headers()).await {
        Ok(me) => Ok(Some(me)),
        Err(AppError::Unauthorized) => Ok(None),
        Err(e) => Err(ssr::respond(e)),
    }
}

/// Posts a message to a channel as the signed-in user. Idempotent on `message_id`:
/// a resend returns the position of the first, and stores nothing.
#[server(client = ApiClient, endpoint = "post_message", input = server_fn::codec::Json)]
pub async fn post_message(
    channel: ChannelId,
    message_id: MessageId,
    body: String,
    #[server(default)] reply_to: Option<MessageId>,
    #[server(default)] attachments: Vec<String>,
    #[server(default)] correlation_id: Option<CorrelationId>,
) -> Result<Position, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    let request = ssr::PostRequest {
        channel,
        message_id,
        body,
        reply_to,
        attachments,
        correlation_id,
    };
    backend.post_message(&me, request).await.map_err(ssr::respond)
}

/// A change to a message as the browser asks for it, before validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChangeRequest {
    /// Replace the body (its author only).
    Edit { body: String },
    /// Delete (its author, or a moderator of the space).
    Delete,
    /// Set whether the signed-in user reacts with `emoji`.
    React { emoji: String, on: bool },
}

/// An earlier body of an edited message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditView {
    pub body: String,
    /// When it was replaced.
    pub replaced_at_ms: i64,
}

/// Edits, deletes or reacts to a message; returns the position of the change (or of
/// the channel's state, when there was nothing to change).
#[server(client = ApiClient, endpoint = "change_message", input = server_fn::codec::Json)]
pub async fn change_message(
    channel: ChannelId,
    message_id: MessageId,
    change: ChangeRequest,
) -> Result<Position, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend
        .change_message(&me, channel, message_id, change)
        .await
        .map_err(ssr::respond)
}

/// The earlier bodies of an edited message, oldest first.
#[server(client = ApiClient, endpoint = "edit_history", input = server_fn::codec::Json)]
pub async fn edit_history(channel: ChannelId, message_id: MessageId) -> Result<Vec<EditView>, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend
        .edit_history(&me, channel, message_id)
        .await
        .map_err(ssr::respond)
}

/// A message found by a search, in a channel the searcher can read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub channel_id: ChannelId,
    pub channel_name: String,
    pub message_id: MessageId,
    pub position: Position,
    pub author: String,
    pub sent_at_ms: i64,
    /// The matching part of the body: pieces of text, each matched or not.
    pub snippet: Vec<(String, bool)>,
}

/// The most results one search returns.
pub const MAX_SEARCH_HITS: u32 = 30;

/// Full-text search over every channel the signed-in user can read, best match first.
#[server(client = ApiClient, endpoint = "search", input = server_fn::codec::Json)]
pub async fn search(query: String) -> Result<Vec<SearchHit>, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.search(&me, query).await.map_err(ssr::respond)
}

/// A thread: its root message and every reply, oldest first.
#[server(client = ApiClient, endpoint = "thread", input = server_fn::codec::Json)]
pub async fn thread(channel: ChannelId, root: MessageId) -> Result<Vec<MessageView>, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.thread(&me, channel, root).await.map_err(ssr::respond)
}

/// Unread messages and mentions in every channel the signed-in user can read.
#[server(client = ApiClient, endpoint = "unreads", input = server_fn::codec::Json)]
pub async fn unreads() -> Result<Vec<parley::unread::ChannelUnread>, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.unreads(&me).await.map_err(ssr::respond)
}

/// The signed-in user has read `channel` up to `up_to`; returns where their marker stands.
#[server(client = ApiClient, endpoint = "mark_read", input = server_fn::codec::Json)]
pub async fn mark_read(channel: ChannelId, up_to: Position) -> Result<Position, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.mark_read(&me, channel, up_to).await.map_err(ssr::respond)
}

/// Silences a channel for the signed-in user (no notifications, not in the total), or not.
#[server(client = ApiClient, endpoint = "mute_channel", input = server_fn::codec::Json)]
pub async fn mute_channel(channel: ChannelId, muted: bool) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.mute_channel(&me, channel, muted).await.map_err(ssr::respond)
}

/// A personal API token, as its owner sees it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub token_id: String,
    pub name: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
}

/// A token just made: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub token: TokenView,
    pub secret: String,
}

/// Makes a personal API token for the REST API (`Authorization: Bearer <secret>`).
#[server(client = ApiClient, endpoint = "create_token", input = server_fn::codec::Json)]
pub async fn create_token(name: String) -> Result<CreatedToken, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.create_token(&me, name).await.map_err(ssr::respond)
}

/// The signed-in user's API tokens.
#[server(client = ApiClient, endpoint = "my_tokens", input = server_fn::codec::Json)]
pub async fn my_tokens() -> Result<Vec<TokenView>, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.tokens(&me).await.map_err(ssr::respond)
}

/// Revokes one of the signed-in user's API tokens: it stops working at once.
#[server(client = ApiClient, endpoint = "revoke_token", input = server_fn::codec::Json)]
pub async fn revoke_token(token_id: String) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.revoke_token(&me, token_id).await.map_err(ssr::respond)
}

/// A space's webhook as its admins see it: where it goes, what it gets, how delivery stands.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WebhookView {
    pub webhook_id: String,
    pub url: String,
    /// Empty: every type.
    pub event_types: Vec<String>,
    /// Delivered up to this log position.
    pub offset: Position,
    /// Events of the log after the offset (not all of them its own).
    pub behind: u64,
    pub delivered: u64,
    /// Failed attempts in a row at the current event.
    pub failures: u32,
    /// Parked after too many failures: nothing more goes until an admin retries or skips.
    pub dead: bool,
    pub last_error: Option<String>,
}

/// A webhook just made: the only time its signing secret is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    pub webhook: WebhookView,
    pub secret: String,
}

/// What an admin does to a webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookAction {
    Delete,
    /// Out of the dead letter: try the event it was stuck on again.
    Retry,
    /// Out of the dead letter: give up on that event and go on.
    Skip,
    /// Deliver again every event of the subscription from this log position on (a
    /// receiver that lost data); deliveries keep their ids, so a receiver can deduplicate.
    Replay {
        from: Position,
    },
}

/// Subscribes a URL to a space's events (all, or these types); for the space's admins.
#[server(client = ApiClient, endpoint = "create_webhook", input = server_fn::codec::Json)]
pub async fn create_webhook(space: SpaceId, url: String, event_types: Vec<String>) -> Result<CreatedWebhook, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend
        .create_webhook(&me, space, url, event_types)
        .await
        .map_err(ssr::respond)
}

/// A space's webhooks and how their deliveries stand; for the space's admins.
#[server(client = ApiClient, endpoint = "webhooks", input = server_fn::codec::Json)]
pub async fn webhooks(space: SpaceId) -> Result<Vec<WebhookView>, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.webhooks(&me, space).await.map_err(ssr::respond)
}

/// Deletes a webhook, or retries or skips the event a parked one is stuck on.
#[server(client = ApiClient, endpoint = "act_on_webhook", input = server_fn::codec::Json)]
pub async fn act_on_webhook(space: SpaceId, webhook_id: String, action: WebhookAction) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend
        .webhook_action(&me, space, webhook_id, action)
        .await
        .map_err(ssr::respond)
}

/// Which events of the log to show in the inspector.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFilter {
    /// Events before this position (default: the newest).
    pub before: Option<Position>,
    /// Only this stream (e.g. `channel-<id>`).
    pub stream: Option<String>,
    /// Only this type (e.g. `MessagePosted`).
    pub event_type: Option<String>,
}

/// One event as the inspector shows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogRow {
    pub position: Position,
    pub stream_id: String,
    pub stream_version: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub recorded_at_ms: i64,
    /// Payload and metadata, pretty-printed JSON, as stored.
    pub payload: String,
    pub metadata: String,
    /// For an event stored at an older schema version than its type's today: the payload
    /// upcast to today's version (or why it cannot be), as every reader sees it.
    pub upcast: Option<UpcastView>,
}

/// An old event's payload as today's readers see it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UpcastView {
    pub version: u32,
    /// Pretty-printed JSON, or why the stored payload cannot be upcast.
    pub payload: Result<String, String>,
}

/// A webhook's place in the log, for the inspector.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SubscriberView {
    pub name: String,
    pub position: Position,
    pub lag: u64,
    pub parked: bool,
    /// For a webhook: its space and id, for the inspector's Retry and Skip.
    #[serde(default)]
    pub webhook: Option<(SpaceId, String)>,
}

/// A page of the log and where every reader of it stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    pub events: Vec<LogRow>,
    pub head: Position,
    /// The read models' checkpoint.
    pub projected: Position,
    pub subscribers: Vec<SubscriberView>,
    /// Events appended in each of the last 60 seconds, oldest first.
    pub per_second: Vec<u32>,
}

/// The most events one inspector page shows.
pub const LOG_PAGE: u32 = 50;

/// Whether the signed-in user may open the event inspector (an instance admin).
#[server(client = ApiClient, endpoint = "am_admin", input = server_fn::codec::Json)]
pub async fn am_admin() -> Result<bool, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    Ok(backend.is_admin(&me))
}

/// A page of the event log, newest first, with the projection's and subscribers' positions; admins only.
#[server(client = ApiClient, endpoint = "inspect_log", input = server_fn::codec::Json)]
pub async fn inspect_log(filter: LogFilter) -> Result<LogPage, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.inspect_log(&me, filter).await.map_err(ssr::respond)
}

/// Folds a parked event (one the read models could not fold) again, after a fix; admins only.
#[server(client = ApiClient, endpoint = "retry_parked_event", input = server_fn::codec::Json)]
pub async fn retry_parked_event(position: Position) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.retry_parked(&me, position).await.map_err(ssr::respond)
}

/// A channel's messages as they were at a past log position, folded from the log; admins only.
#[server(client = ApiClient, endpoint = "channel_at", input = server_fn::codec::Json)]
pub async fn channel_at(channel: ChannelId, position: Position) -> Result<Vec<MessageView>, AppError> {
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.channel_at(&me, channel, position).await.map_err(ssr::respond)
}

/// One page of a channel's history: up to `limit` messages before `before`
/// (or the newest when `before` is absent), oldest first.
#[server(client = ApiClient, endpoint = "history", input = server_fn::codec::Json)]
pub async fn history(channel: ChannelId, before: Option<Position>, limit: u32) -> Result<Vec<MessageView>, AppError> {
    if limit == 0 || limit > MAX_HISTORY_PAGE {
        let error = AppError::Invalid(format!("limit must be between 1 and {MAX_HISTORY_PAGE}"));
        return Err(ssr::respond(error));
    }
    let backend = ssr::backend()?;
    let me = backend.authenticate(&ssr::headers()).await.map_err(ssr::respond)?;
    backend.history(&me, channel, before, limit).await.map_err(ssr::respond)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! What the server provides to the server functions, through Leptos context.

    use super::{
        AppError, ChangeRequest, CreatedToken, DirectView, EditView, InviteView, Me, MemberView, SearchHit,
        SpaceAction, SpaceOutcome, SpaceView, TokenView,
    };
    use super::{CreatedWebhook, LogFilter, LogPage, WebhookAction, WebhookView};
    use http::HeaderMap;
    use leptos::prelude::use_context;
    use parley::unread::ChannelUnread;
    use parley::{ChannelId, MessageId, MessageView, Position, SpaceId};
    use std::sync::Arc;

    /// A post as it arrives at any door, before validation. The author is whoever is signed in.
    #[derive(Clone, Debug)]
    pub struct PostRequest {
        pub channel: ChannelId,
        pub message_id: MessageId,
        pub body: String,
        /// For a reply: the message it answers (the reply goes in that message's thread).
        pub reply_to: Option<MessageId>,
        /// Files uploaded before, by id, to send with it.
        pub attachments: Vec<String>,
        /// The id the browser gave this attempt, carried into the event's metadata and
        /// every log line about it; the server makes one when none is given.
        pub correlation_id: Option<parley::CorrelationId>,
    }

    /// The commands and queries behind the server functions, implemented by the server.
    /// Methods that sign in or out return the `Set-Cookie` value to send back.
    #[async_trait::async_trait]
    pub trait ChatBackend: Send + Sync + 'static {
        async fn sign_up(
            &self,
            headers: &HeaderMap,
            username: String,
            password: String,
        ) -> Result<(Me, String), AppError>;
        async fn sign_in(
            &self,
            headers: &HeaderMap,
            username: String,
            password: String,
        ) -> Result<(Me, String), AppError>;
        async fn sign_out(&self, headers: &HeaderMap) -> Result<String, AppError>;
        async fn sign_out_others(&self, headers: &HeaderMap) -> Result<u64, AppError>;
        /// The user whose session the request's cookie carries; `Unauthorized` when none.
        async fn authenticate(&self, headers: &HeaderMap) -> Result<Me, AppError>;
        async fn post_message(&self, me: &Me, request: PostRequest) -> Result<Position, AppError>;
        async fn create_space(&self, me: &Me, name: String) -> Result<SpaceView, AppError>;
        async fn space_action(&self, me: &Me, space: SpaceId, action: SpaceAction) -> Result<SpaceOutcome, AppError>;
        async fn my_spaces(&self, me: &Me) -> Result<Vec<SpaceView>, AppError>;
        async fn open_direct(&self, me: &Me, usernames: Vec<String>) -> Result<DirectView, AppError>;
        async fn my_directs(&self, me: &Me) -> Result<Vec<DirectView>, AppError>;
        async fn members(&self, me: &Me, space: SpaceId) -> Result<Vec<MemberView>, AppError>;
        async fn invites(&self, me: &Me, space: SpaceId) -> Result<Vec<InviteView>, AppError>;
        async fn history(
            &self,
            me: &Me,
            channel: ChannelId,
            before: Option<Position>,
            limit: u32,
        ) -> Result<Vec<MessageView>, AppError>;
        async fn change_message(
            &self,
            me: &Me,
            channel: ChannelId,
            message_id: MessageId,
            change: ChangeRequest,
        ) -> Result<Position, AppError>;
        async fn edit_history(
            &self,
            me: &Me,
            channel: ChannelId,
            message_id: MessageId,
        ) -> Result<Vec<EditView>, AppError>;
        async fn search(&self, me: &Me, query: String) -> Result<Vec<SearchHit>, AppError>;
        async fn thread(&self, me: &Me, channel: ChannelId, root: MessageId) -> Result<Vec<MessageView>, AppError>;
        async fn unreads(&self, me: &Me) -> Result<Vec<ChannelUnread>, AppError>;
        async fn mark_read(&self, me: &Me, channel: ChannelId, up_to: Position) -> Result<Position, AppError>;
        async fn mute_channel(&self, me: &Me, channel: ChannelId, muted: bool) -> Result<(), AppError>;
        async fn create_token(&self, me: &Me, name: String) -> Result<CreatedToken, AppError>;
        async fn tokens(&self, me: &Me) -> Result<Vec<TokenView>, AppError>;
        async fn revoke_token(&self, me: &Me, token_id: String) -> Result<(), AppError>;
        async fn create_webhook(
            &self,
            me: &Me,
            space: SpaceId,
            url: String,
            event_types: Vec<String>,
        ) -> Result<CreatedWebhook, AppError>;
        async fn webhooks(&self, me: &Me, space: SpaceId) -> Result<Vec<WebhookView>, AppError>;
        fn is_admin(&self, me: &Me) -> bool;
        async fn inspect_log(&self, me: &Me, filter: LogFilter) -> Result<LogPage, AppError>;
        async fn retry_parked(&self, me: &Me, position: Position) -> Result<(), AppError>;
        async fn channel_at(
            &self,
            me: &Me,
            channel: ChannelId,
            position: Position,
        ) -> Result<Vec<MessageView>, AppError>;
        async fn webhook_action(
            &self,
            me: &Me,
            space: SpaceId,
            webhook_id: String,
            action: WebhookAction,
        ) -> Result<(), AppError>;
    }

    /// The request's headers (empty outside a request).
    pub fn headers() -> HeaderMap {
        use_context::<http::request::Parts>()
            .map(|parts| parts.headers)
            .unwrap_or_default()
    }

    /// Adds a `Set-Cookie` header to the response.
    pub fn set_cookie(cookie: &str) {
        if let (Some(response), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::HeaderValue::from_str(cookie),
        ) {
            response.append_header(http::header::SET_COOKIE, value);
        }
    }

    /// Adds `Retry-After` to the response: the seconds after which a refused request may
    /// succeed (with a 429).
    pub fn retry_after(secs: u64) {
        if let (Some(response), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::HeaderValue::from_str(&secs.to_string()),
        ) {
            response.insert_header(http::header::RETRY_AFTER, value);
        }
    }

    pub type Backend = Arc<dyn ChatBackend>;

    pub fn backend() -> Result<Backend, AppError> {
        use_context::<Backend>().ok_or(AppError::Internal)
    }

    /// Sets the HTTP status that fits the error (400 for the caller's fault) and passes it on.
    pub fn respond(error: AppError) -> AppError {
        let status = match error {
            AppError::Invalid(_) => http::StatusCode::BAD_REQUEST,
            AppError::Unauthorized => http::StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => http::StatusCode::FORBIDDEN,
            AppError::RateLimited(_) => http::StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal | AppError::Transport(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        };
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
        error
    }
}
