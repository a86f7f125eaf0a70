//! Server functions shared by browser and server, and their error type. On the server each
//! one is the whole door: the signed-in user, then the engine's command or query.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
pub use parley::api::*;
use parley::{ChannelId, CorrelationId, MessageId, MessageView, Position, SpaceId};
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
    /// The request did not reach the server, or its answer did not come back (the browser's
    /// own words in the field, for the console; never shown to the user).
    #[error("could not reach the server; check your connection and try again")]
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

/// Opens (or finds) your direct conversation with these users.
#[server(client = ApiClient, endpoint = "open_direct", input = server_fn::codec::Json)]
pub async fn open_direct(usernames: Vec<String>) -> Result<DirectView, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    let channel = engine.open_direct(&me, &usernames).await?;
    let directs = engine.my_directs(&me).await?;
    directs
        .into_iter()
        .find(|d| d.channel_id == channel)
        .ok_or(AppError::Internal)
}

/// Your direct conversations.
#[server(client = ApiClient, endpoint = "my_directs", input = server_fn::codec::Json)]
pub async fn my_directs() -> Result<Vec<DirectView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.my_directs(&me).await?)
}

/// The live invites of a space (not revoked, expired or used up), for those who may invite.
#[server(client = ApiClient, endpoint = "invites", input = server_fn::codec::Json)]
pub async fn invites(space: SpaceId) -> Result<Vec<InviteView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.invites(&me, space).await?)
}

/// Creates a space (you are its admin) with a `#general` channel.
#[server(client = ApiClient, endpoint = "create_space", input = server_fn::codec::Json)]
pub async fn create_space(name: String) -> Result<SpaceView, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    let (space_id, _) = engine.create_space(&me, &name).await?;
    let spaces = engine.my_spaces(&me).await?;
    spaces
        .into_iter()
        .find(|s| s.space_id == space_id)
        .ok_or(AppError::Internal)
}

/// Does something to a space: rename, delete, invite, join, leave, remove, set a role, add a channel.
#[server(client = ApiClient, endpoint = "act_on_space", input = server_fn::codec::Json)]
pub async fn act_on_space(space: SpaceId, action: SpaceAction) -> Result<SpaceOutcome, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.space_action(&me, space, action).await?)
}

/// The spaces you are a member of, with their channels.
#[server(client = ApiClient, endpoint = "my_spaces", input = server_fn::codec::Json)]
pub async fn my_spaces() -> Result<Vec<SpaceView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.my_spaces(&me).await?)
}

/// The members of a space you belong to, with their roles.
#[server(client = ApiClient, endpoint = "members", input = server_fn::codec::Json)]
pub async fn members(space: SpaceId) -> Result<Vec<MemberView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.members(&me, space).await?)
}

/// The channels of a space you may open, with whether you are in each: the channel browser.
#[server(client = ApiClient, endpoint = "browse_channels", input = server_fn::codec::Json)]
pub async fn browse_channels(space: SpaceId) -> Result<Vec<parley::api::ChannelListing>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.browse_channels(&me, space).await?)
}

/// The people in a channel of a space.
#[server(client = ApiClient, endpoint = "channel_members", input = server_fn::codec::Json)]
pub async fn channel_members(space: SpaceId, channel: ChannelId) -> Result<Vec<MemberView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.channel_members(&me, space, channel).await?)
}

/// Creates an account and signs it in (sets the session cookie).
#[server(client = ApiClient, endpoint = "sign_up", input = server_fn::codec::Json)]
pub async fn sign_up(username: String, password: String) -> Result<Me, AppError> {
    let engine = ssr::engine()?;
    let headers = ssr::headers();
    let (me, token) = engine
        .sign_up(&username, &password, &auth::Client::from_headers(&headers))
        .await?;
    ssr::set_cookie(&auth::session_cookie(&token, auth::is_https(&headers)));
    Ok(me)
}

/// Signs in (sets the session cookie). The error never says whether the username exists.
#[server(client = ApiClient, endpoint = "sign_in", input = server_fn::codec::Json)]
pub async fn sign_in(
    username: String,
    password: String,
    /// For an account with two-factor sign-in: a code from the app, or a recovery code.
    #[server(default)]
    code: Option<String>,
) -> Result<Me, AppError> {
    let engine = ssr::engine()?;
    let headers = ssr::headers();
    let (me, token) = engine
        .sign_in(
            &username,
            &password,
            code.as_deref(),
            &auth::Client::from_headers(&headers),
        )
        .await?;
    ssr::set_cookie(&auth::session_cookie(&token, auth::is_https(&headers)));
    Ok(me)
}

/// Sets a new password with a reset link's secret (the `reset` in its address) and signs
/// in (sets the session cookie); every other session of the account ends.
#[server(client = ApiClient, endpoint = "reset_password", input = server_fn::codec::Json)]
pub async fn reset_password(token: String, new: String) -> Result<Me, AppError> {
    let engine = ssr::engine()?;
    let headers = ssr::headers();
    let (me, session) = engine
        .reset_password(&token, &new, &auth::Client::from_headers(&headers))
        .await?;
    ssr::set_cookie(&auth::session_cookie(&session, auth::is_https(&headers)));
    Ok(me)
}

/// Makes a one-time password reset link for an account (its address path, good for a
/// day); instance admins only.
#[server(client = ApiClient, endpoint = "make_reset_link", input = server_fn::codec::Json)]
pub async fn make_reset_link(username: String) -> Result<String, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.admin_reset_link(&me, &username).await?)
}

/// Whether this browser sends the server's cookies with this page's requests: the first
/// call sets a probe cookie (with the session cookie's attributes), the next one answers
/// whether it came back. A page on another site than the server never gets it back, so
/// it says so instead of offering a sign-in that cannot last (docs/security.md).
#[server(client = ApiClient, endpoint = "cookie_check", input = server_fn::codec::Json)]
pub async fn cookie_check() -> Result<bool, AppError> {
    let headers = ssr::headers();
    let kept = auth::has_probe_cookie(&headers);
    if !kept {
        ssr::set_cookie(&auth::probe_cookie(auth::is_https(&headers)));
    }
    Ok(kept)
}

/// Ends this browser's session (and closes its sockets); clears the cookie.
#[server(client = ApiClient, endpoint = "sign_out", input = server_fn::codec::Json)]
pub async fn sign_out() -> Result<(), AppError> {
    let engine = ssr::engine()?;
    let headers = ssr::headers();
    engine.sign_out(auth::token_from_headers(&headers).as_ref()).await?;
    ssr::set_cookie(&auth::clear_cookie(auth::is_https(&headers)));
    Ok(())
}

/// Ends every other session of this account (other browsers, devices, forgotten tabs) and
/// closes their sockets; this one stays. Returns how many ended.
#[server(client = ApiClient, endpoint = "sign_out_others", input = server_fn::codec::Json)]
pub async fn sign_out_others() -> Result<u64, AppError> {
    let (engine, session) = ssr::session().await?;
    Ok(engine.sign_out_others(&session).await?)
}

/// Saves your profile (display name, status, time zone); empty fields clear. Returns it
/// as others will see it.
#[server(client = ApiClient, endpoint = "set_profile", input = server_fn::codec::Json)]
pub async fn set_profile(profile: parley::profile::ProfileInput) -> Result<ProfileView, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.set_profile(&me, &profile).await?)
}

/// The profiles of these usernames as you may see them (at most 200; unknown names left out).
#[server(client = ApiClient, endpoint = "profiles", input = server_fn::codec::Json)]
pub async fn profiles(usernames: Vec<String>) -> Result<Vec<ProfileView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.profiles(&me, &usernames).await?)
}

/// A person's card: their profile as you may see it, and the spaces you both belong to.
#[server(client = ApiClient, endpoint = "person_card", input = server_fn::codec::Json)]
pub async fn person_card(username: String) -> Result<UserCard, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.user_card(&me, &username).await?)
}

/// This account's open sessions (browsers and devices signed in), the current one marked.
#[server(client = ApiClient, endpoint = "my_sessions", input = server_fn::codec::Json)]
pub async fn my_sessions() -> Result<Vec<SessionView>, AppError> {
    let (engine, session) = ssr::session().await?;
    Ok(engine.sessions(&session).await?)
}

/// Ends one of this account's sessions (by the id the list gives) and closes its sockets.
#[server(client = ApiClient, endpoint = "end_session", input = server_fn::codec::Json)]
pub async fn end_session(session_id: String) -> Result<(), AppError> {
    let (engine, session) = ssr::session().await?;
    Ok(engine.end_session(&session, &session_id).await?)
}

/// Replaces the password, given the current one. The account's other sessions end unless
/// `keep_others`; returns how many ended.
#[server(client = ApiClient, endpoint = "change_password", input = server_fn::codec::Json)]
pub async fn change_password(current: String, new: String, keep_others: bool) -> Result<u64, AppError> {
    let (engine, session) = ssr::session().await?;
    let client = auth::Client::from_headers(&ssr::headers());
    Ok(engine
        .change_password(&session, &current, &new, keep_others, &client)
        .await?)
}

/// Deletes the signed-in account for good, given its password: every session ends, and
/// no door shows its name or profile again. With `erase_messages`, its messages are erased
/// too; otherwise they stay, attributed to a deleted user.
#[server(client = ApiClient, endpoint = "delete_account", input = server_fn::codec::Json)]
pub async fn delete_account(password: String, erase_messages: bool) -> Result<(), AppError> {
    let (engine, session) = ssr::session().await?;
    let client = auth::Client::from_headers(&ssr::headers());
    engine
        .delete_account(&session, &password, erase_messages, &client)
        .await?;
    ssr::set_cookie(&auth::clear_cookie(auth::is_https(&ssr::headers())));
    Ok(())
}

/// This account's email address, whether it is confirmed, and whether the instance sends mail.
#[server(client = ApiClient, endpoint = "my_email", input = server_fn::codec::Json)]
pub async fn my_email() -> Result<parley::api::EmailView, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.my_email(&me).await?)
}

/// Sets (or, empty, removes) this account's email address; a confirmation link is mailed to it.
#[server(client = ApiClient, endpoint = "set_email", input = server_fn::codec::Json)]
pub async fn set_email(email: String) -> Result<parley::api::EmailView, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.set_email(&me, &email).await?)
}

/// Confirms an email address with the secret of the link mailed to it; returns the address.
#[server(client = ApiClient, endpoint = "verify_email", input = server_fn::codec::Json)]
pub async fn verify_email(token: String) -> Result<String, AppError> {
    Ok(ssr::engine()?.verify_email(&token).await?)
}

/// "Forgot your password?": mails a reset link to the account's confirmed address, if it
/// has one (the answer is the same either way).
#[server(client = ApiClient, endpoint = "request_reset", input = server_fn::codec::Json)]
pub async fn request_reset(username: String) -> Result<(), AppError> {
    let engine = ssr::engine()?;
    let client = auth::Client::from_headers(&ssr::headers());
    Ok(engine.request_reset(&username, &client).await?)
}

/// Whether this account signs in with a second factor, and how many recovery codes are left.
#[server(client = ApiClient, endpoint = "second_factor", input = server_fn::codec::Json)]
pub async fn second_factor() -> Result<parley::second_factor::SecondFactorView, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.second_factor(&me).await?)
}

/// Starts enrolling an authenticator app: its secret, link and QR code.
#[server(client = ApiClient, endpoint = "begin_totp", input = server_fn::codec::Json)]
pub async fn begin_totp() -> Result<parley::second_factor::TotpSetup, AppError> {
    let (engine, session) = ssr::session().await?;
    Ok(engine.begin_totp(&session).await?)
}

/// Confirms the enrollment with a first code; returns the recovery codes (shown once).
#[server(client = ApiClient, endpoint = "confirm_totp", input = server_fn::codec::Json)]
pub async fn confirm_totp(code: String) -> Result<Vec<String>, AppError> {
    let (engine, session) = ssr::session().await?;
    let client = auth::Client::from_headers(&ssr::headers());
    Ok(engine.confirm_totp(&session, &code, &client).await?)
}

/// Turns two-factor sign-in off, given the password.
#[server(client = ApiClient, endpoint = "disable_totp", input = server_fn::codec::Json)]
pub async fn disable_totp(password: String) -> Result<(), AppError> {
    let (engine, session) = ssr::session().await?;
    let client = auth::Client::from_headers(&ssr::headers());
    Ok(engine.disable_totp(&session, &password, &client).await?)
}

/// The account's passkeys, the newest first.
#[server(client = ApiClient, endpoint = "passkeys", input = server_fn::codec::Json)]
pub async fn passkeys() -> Result<Vec<parley::passkey::PasskeyView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.passkeys(&me).await?)
}

/// Starts registering a passkey, given the password: the options for the browser.
#[server(client = ApiClient, endpoint = "begin_passkey", input = server_fn::codec::Json)]
pub async fn begin_passkey(password: String) -> Result<parley::passkey::PasskeyChallenge, AppError> {
    let (engine, session) = ssr::session().await?;
    let client = auth::Client::from_headers(&ssr::headers());
    Ok(engine.begin_passkey(&session, &password, &client).await?)
}

/// Finishes registering a passkey with the browser's answer (`credential`, its JSON).
#[server(client = ApiClient, endpoint = "finish_passkey", input = server_fn::codec::Json)]
pub async fn finish_passkey(
    ceremony: String,
    name: String,
    credential: String,
) -> Result<parley::passkey::PasskeyView, AppError> {
    let (engine, session) = ssr::session().await?;
    Ok(engine.finish_passkey(&session, &ceremony, &name, &credential).await?)
}

/// Removes one of the account's passkeys, given the password.
#[server(client = ApiClient, endpoint = "remove_passkey", input = server_fn::codec::Json)]
pub async fn remove_passkey(id: String, password: String) -> Result<(), AppError> {
    let (engine, session) = ssr::session().await?;
    let client = auth::Client::from_headers(&ssr::headers());
    Ok(engine.remove_passkey(&session, &id, &password, &client).await?)
}

/// Starts a sign-in with a passkey: the options for the browser.
#[server(client = ApiClient, endpoint = "begin_passkey_sign_in", input = server_fn::codec::Json)]
pub async fn begin_passkey_sign_in() -> Result<parley::passkey::PasskeyChallenge, AppError> {
    let engine = ssr::engine()?;
    let client = auth::Client::from_headers(&ssr::headers());
    Ok(engine.begin_passkey_sign_in(&client).await?)
}

/// Finishes a passkey sign-in with the browser's answer and signs in (sets the session cookie).
#[server(client = ApiClient, endpoint = "finish_passkey_sign_in", input = server_fn::codec::Json)]
pub async fn finish_passkey_sign_in(ceremony: String, credential: String) -> Result<Me, AppError> {
    let engine = ssr::engine()?;
    let headers = ssr::headers();
    let (me, token) = engine
        .finish_passkey_sign_in(&ceremony, &credential, &auth::Client::from_headers(&headers))
        .await?;
    ssr::set_cookie(&auth::session_cookie(&token, auth::is_https(&headers)));
    Ok(me)
}

/// Who this browser is signed in as, if anyone.
#[server(client = ApiClient, endpoint = "whoami", input = server_fn::codec::Json)]
pub async fn whoami() -> Result<Option<Me>, AppError> {
    match ssr::signed_in().await {
        Ok((_, me)) => Ok(Some(me)),
        Err(AppError::Unauthorized) => {
            ssr::set_status(http::StatusCode::OK);
            Ok(None)
        }
        Err(e) => Err(e),
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
    #[server(default)] also_in_channel: bool,
) -> Result<Position, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    let request = PostRequest {
        channel,
        message_id,
        body,
        reply_to,
        also_in_channel,
        attachments,
        correlation_id,
    };
    Ok(engine.post(&me, request).await?)
}

/// Edits, deletes, reacts to or pins a message; returns where the change was stored, or
/// nothing when there was nothing to change (already so). `change_id`, the change's own id,
/// makes a resend store nothing more and answer where it was stored.
#[server(client = ApiClient, endpoint = "change_message", input = server_fn::codec::Json)]
pub async fn change_message(
    channel: ChannelId,
    message_id: MessageId,
    change: ChangeRequest,
    change_id: Option<MessageId>,
) -> Result<Option<Position>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine
        .change_message(&me, channel, message_id, change, change_id)
        .await?)
}

/// The earlier bodies of an edited message, oldest first.
#[server(client = ApiClient, endpoint = "edit_history", input = server_fn::codec::Json)]
pub async fn edit_history(channel: ChannelId, message_id: MessageId) -> Result<Vec<EditView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.edit_history(&me, channel, message_id).await?)
}

/// Saves a message for the signed-in user alone, or lets go of it.
#[server(client = ApiClient, endpoint = "save_message", input = server_fn::codec::Json)]
pub async fn save_message(channel: ChannelId, message_id: MessageId, on: bool) -> Result<(), AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.save_message(&me, channel, message_id, on).await?)
}

/// What the signed-in user saved and can still read, the last saved first.
#[server(client = ApiClient, endpoint = "saved_items", input = server_fn::codec::Json)]
pub async fn saved_items() -> Result<Vec<parley::api::SavedItem>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.saved_items(&me).await?)
}

/// The ids of the messages the signed-in user keeps saved.
#[server(client = ApiClient, endpoint = "saved_ids", input = server_fn::codec::Json)]
pub async fn saved_ids() -> Result<Vec<MessageId>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.saved_ids(&me).await?)
}

/// Follows a thread by hand, or stops following it.
#[server(client = ApiClient, endpoint = "follow_thread", input = server_fn::codec::Json)]
pub async fn follow_thread(channel: ChannelId, root: MessageId, on: bool) -> Result<(), AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.follow_thread(&me, channel, root, on).await?)
}

/// The signed-in user has read a followed thread up to `up_to`.
#[server(client = ApiClient, endpoint = "mark_thread_read", input = server_fn::codec::Json)]
pub async fn mark_thread_read(channel: ChannelId, root: MessageId, up_to: Position) -> Result<Position, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.mark_thread_read(&me, channel, root, up_to).await?)
}

/// The threads the signed-in user follows, with their unread replies.
#[server(client = ApiClient, endpoint = "followed_threads", input = server_fn::codec::Json)]
pub async fn followed_threads() -> Result<Vec<parley::threads::ThreadView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.followed_threads(&me).await?)
}

/// The pinned messages of a channel, the last pinned first.
#[server(client = ApiClient, endpoint = "pinned", input = server_fn::codec::Json)]
pub async fn pinned(channel: ChannelId) -> Result<Vec<MessageView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.pinned(&me, channel).await?)
}

/// Search over every channel the signed-in user can read: words and filters
/// (`parley::search::FILTER_HELP`), best match first or newest first (`sort:new`). Dates
/// are days `offset_minutes` east of UTC (the reader's time zone; UTC when left out).
#[server(client = ApiClient, endpoint = "search", input = server_fn::codec::Json)]
pub async fn search(query: String, #[server(default)] offset_minutes: i32) -> Result<Vec<SearchHit>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.search(&me, &query, offset_minutes).await?)
}

/// A thread: its root message and every reply, oldest first.
#[server(client = ApiClient, endpoint = "thread", input = server_fn::codec::Json)]
pub async fn thread(channel: ChannelId, root: MessageId) -> Result<Vec<MessageView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.thread(&me, channel, root).await?)
}

/// Unread messages and mentions in every channel the signed-in user can read.
#[server(client = ApiClient, endpoint = "unreads", input = server_fn::codec::Json)]
pub async fn unreads() -> Result<Vec<parley::unread::ChannelUnread>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.unreads(&me).await?)
}

/// The signed-in user has read `channel` up to `up_to`; returns where their marker stands.
#[server(client = ApiClient, endpoint = "mark_read", input = server_fn::codec::Json)]
pub async fn mark_read(channel: ChannelId, up_to: Position) -> Result<Position, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.mark_read(&me, channel, up_to).await?)
}

/// Silences a channel for the signed-in user (no notifications, not in the total), or not.
#[server(client = ApiClient, endpoint = "mute_channel", input = server_fn::codec::Json)]
pub async fn mute_channel(channel: ChannelId, muted: bool) -> Result<(), AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.mute_channel(&me, channel, muted).await?)
}

/// Makes a personal API token for the REST API (`Authorization: Bearer <secret>`).
#[server(client = ApiClient, endpoint = "create_token", input = server_fn::codec::Json)]
pub async fn create_token(name: String) -> Result<CreatedToken, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    let (token, secret) = engine.create_token(&me, &name).await?;
    Ok(CreatedToken { token, secret })
}

/// The signed-in user's API tokens.
#[server(client = ApiClient, endpoint = "my_tokens", input = server_fn::codec::Json)]
pub async fn my_tokens() -> Result<Vec<TokenView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.tokens(&me).await?)
}

/// Revokes one of the signed-in user's API tokens: it stops working at once.
#[server(client = ApiClient, endpoint = "revoke_token", input = server_fn::codec::Json)]
pub async fn revoke_token(token_id: String) -> Result<(), AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.revoke_token(&me, &token_id).await?)
}

/// Subscribes a URL to a space's events (all, or these types); for the space's admins.
#[server(client = ApiClient, endpoint = "create_webhook", input = server_fn::codec::Json)]
pub async fn create_webhook(space: SpaceId, url: String, event_types: Vec<String>) -> Result<CreatedWebhook, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    let (webhook, secret) = engine.create_webhook(&me, space, &url, &event_types).await?;
    Ok(CreatedWebhook { webhook, secret })
}

/// A space's webhooks and how their deliveries stand; for the space's admins.
#[server(client = ApiClient, endpoint = "webhooks", input = server_fn::codec::Json)]
pub async fn webhooks(space: SpaceId) -> Result<Vec<WebhookView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.webhooks(&me, space).await?)
}

/// Deletes a webhook, or retries or skips the event a parked one is stuck on.
#[server(client = ApiClient, endpoint = "act_on_webhook", input = server_fn::codec::Json)]
pub async fn act_on_webhook(space: SpaceId, webhook_id: String, action: WebhookAction) -> Result<(), AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.webhook_action(&me, space, &webhook_id, action).await?)
}

/// A space's bots and incoming webhooks; for its admins.
#[server(client = ApiClient, endpoint = "bots", input = server_fn::codec::Json)]
pub async fn bots(space: SpaceId) -> Result<Vec<BotView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.bots(&me, space).await?)
}

/// Makes a bot for a space (an admin of it); its API token is in the answer, this once.
#[server(client = ApiClient, endpoint = "create_bot", input = server_fn::codec::Json)]
pub async fn create_bot(space: SpaceId, username: String, name: String) -> Result<BotSecret, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.create_bot(&me, space, &username, &name).await?)
}

/// Makes an incoming webhook for a channel (an admin of its space); its address is in the
/// answer, this once.
#[server(client = ApiClient, endpoint = "create_incoming_hook", input = server_fn::codec::Json)]
pub async fn create_incoming_hook(space: SpaceId, channel: ChannelId, name: String) -> Result<BotSecret, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.create_incoming_hook(&me, space, channel, &name).await?)
}

/// Registers a slash command of a space's own (an admin of it): `/name` calls `url`; the
/// secret that signs its requests is in the answer, this once.
#[server(client = ApiClient, endpoint = "create_command", input = server_fn::codec::Json)]
pub async fn create_command(space: SpaceId, name: String, url: String) -> Result<BotSecret, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.create_command(&me, space, &name, &url).await?)
}

/// The names of a space's own slash commands, for the composer.
#[server(client = ApiClient, endpoint = "space_commands", input = server_fn::codec::Json)]
pub async fn space_commands(space: SpaceId) -> Result<Vec<String>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.commands(&me, space).await?)
}

/// Runs a space's own slash command in a channel; its answer, when it is for the caller
/// alone (one for the channel is posted there by the command's bot).
#[server(client = ApiClient, endpoint = "run_command", input = server_fn::codec::Json)]
pub async fn run_command(
    channel: ChannelId,
    name: String,
    text: String,
) -> Result<Option<parley::slash::CommandAnswer>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.run_command(&me, channel, &name, &text).await?)
}

/// Replaces a bot's token, an incoming webhook's address or a command's signing secret; the
/// old one stops working.
#[server(client = ApiClient, endpoint = "rotate_bot", input = server_fn::codec::Json)]
pub async fn rotate_bot(space: SpaceId, bot: parley::UserId) -> Result<BotSecret, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.rotate_bot(&me, space, bot).await?)
}

/// Deletes a bot or an incoming webhook.
#[server(client = ApiClient, endpoint = "delete_bot", input = server_fn::codec::Json)]
pub async fn delete_bot(space: SpaceId, bot: parley::UserId) -> Result<(), AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.delete_bot(&me, space, bot).await?)
}

/// Whether the signed-in user may open the event inspector (an instance admin).
#[server(client = ApiClient, endpoint = "am_admin", input = server_fn::codec::Json)]
pub async fn am_admin() -> Result<bool, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.is_admin(&me))
}

/// The accounts whose username contains `search` (at most 100); instance admins only.
#[server(client = ApiClient, endpoint = "list_accounts", input = server_fn::codec::Json)]
pub async fn list_accounts(search: String) -> Result<Vec<AccountRow>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.list_accounts(&me, &search).await?)
}

/// Disables, enables, grants or revokes admin on an account; instance admins only.
#[server(client = ApiClient, endpoint = "act_on_account", input = server_fn::codec::Json)]
pub async fn act_on_account(username: String, action: parley::account::AdminAction) -> Result<(), AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.act_on_account(&me, &username, action).await?)
}

/// Deletes someone's account for good (as [`delete_account`] does); instance admins only.
#[server(client = ApiClient, endpoint = "admin_delete_account", input = server_fn::codec::Json)]
pub async fn admin_delete_account(username: String, erase_messages: bool) -> Result<(), AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.admin_delete_account(&me, &username, erase_messages).await?)
}

/// A page of the event log, newest first, with the projection's and subscribers' positions; admins only.
#[server(client = ApiClient, endpoint = "inspect_log", input = server_fn::codec::Json)]
pub async fn inspect_log(filter: LogFilter) -> Result<LogPage, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.inspect_log(&me, filter).await?)
}

/// Folds a parked event (one the read models could not fold) again, after a fix; admins only.
#[server(client = ApiClient, endpoint = "retry_parked_event", input = server_fn::codec::Json)]
pub async fn retry_parked_event(position: Position) -> Result<(), AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.retry_parked(&me, position).await?)
}

/// A channel's messages as they were at a past log position, folded from the log; admins only.
#[server(client = ApiClient, endpoint = "channel_at", input = server_fn::codec::Json)]
pub async fn channel_at(channel: ChannelId, position: Position) -> Result<Vec<MessageView>, AppError> {
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.channel_at(&me, channel, position).await?)
}

/// One page of a channel's history: up to `limit` messages before `before`
/// (or the newest when `before` is absent), oldest first.
#[server(client = ApiClient, endpoint = "history", input = server_fn::codec::Json)]
pub async fn history(channel: ChannelId, before: Option<Position>, limit: u32) -> Result<Vec<MessageView>, AppError> {
    if limit == 0 || limit > MAX_HISTORY_PAGE {
        let error = AppError::Invalid(format!("limit must be between 1 and {MAX_HISTORY_PAGE}"));
        return Err(ssr::respond(error));
    }
    let (engine, me) = ssr::signed_in().await?;
    Ok(engine.history(&me, channel, before, limit).await?)
}

#[cfg(feature = "ssr")]
use parley_engine::auth;

#[cfg(feature = "ssr")]
pub mod ssr {
    //! How the server functions reach the engine (through Leptos context) and answer:
    //! the signed-in user or 401, cookies, and one mapping of the engine's errors.

    use super::AppError;
    use http::HeaderMap;
    use leptos::prelude::use_context;
    use parley::api::Me;
    use parley_engine::engine::{Engine, EngineError, Session};
    use std::sync::Arc;

    /// The engine the server provided.
    pub fn engine() -> Result<Arc<Engine>, AppError> {
        use_context::<Arc<Engine>>().ok_or(AppError::Internal)
    }

    /// The engine, and the user whose session the request's cookie carries (401 when none).
    pub async fn signed_in() -> Result<(Arc<Engine>, Me), AppError> {
        let (engine, session) = session().await?;
        Ok((engine, session.me))
    }

    /// The engine, and the session the request's cookie carries (401 when none).
    pub async fn session() -> Result<(Arc<Engine>, Session), AppError> {
        let engine = engine()?;
        let token = super::auth::token_from_headers(&headers());
        let session = engine.authenticate(token.as_ref()).await?;
        Ok((engine, session))
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
    fn retry_after(secs: u64) {
        if let (Some(response), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::HeaderValue::from_str(&secs.to_string()),
        ) {
            response.insert_header(http::header::RETRY_AFTER, value);
        }
    }

    pub fn set_status(status: http::StatusCode) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
    }

    /// Sets the HTTP status that fits the error (400 for the caller's fault) and passes it on.
    pub fn respond(error: AppError) -> AppError {
        set_status(match error {
            AppError::Invalid(_) => http::StatusCode::BAD_REQUEST,
            AppError::Unauthorized => http::StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => http::StatusCode::FORBIDDEN,
            AppError::RateLimited(_) => http::StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal | AppError::Transport(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        });
        error
    }

    impl From<EngineError> for AppError {
        /// What the user reads of an engine error, with the status that fits it (and, for a
        /// refusal that passes with time, when to try again: `Retry-After`).
        fn from(e: EngineError) -> Self {
            if let Some(secs) = e.retry_after() {
                retry_after(secs);
            }
            respond(match e.kind() {
                parley_engine::engine::ErrorKind::Unauthorized => AppError::Unauthorized,
                parley_engine::engine::ErrorKind::Forbidden => AppError::Forbidden(e.to_string()),
                parley_engine::engine::ErrorKind::RateLimited => AppError::RateLimited(e.to_string()),
                parley_engine::engine::ErrorKind::Invalid => AppError::Invalid(e.to_string()),
                parley_engine::engine::ErrorKind::Internal => {
                    tracing::error!(error = %e, "request failed");
                    AppError::Internal
                }
            })
        }
    }
}
