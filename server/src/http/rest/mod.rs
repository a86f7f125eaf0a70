//! The REST door for bots and integrations (`/api/v1`), authenticated by personal API
//! tokens, with its OpenAPI document generated from this code (utoipa) and a Swagger UI page.
//! Every error is JSON of one shape: `{"error": {"code": "...", "message": "..."}}`.

use crate::http::AppState;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use parley::api::PostRequest;
use parley::{ChannelId, DomainError, MessageId, MessageView, Position};
use parley_app::api::Me;
use parley_engine::engine::{Engine, EngineError};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::SwaggerUi;

mod changes;
mod files;
mod integrations;
mod spaces;
mod topics;

/// The most messages one page returns, and the default.
const MAX_LIMIT: u32 = 200;
const DEFAULT_LIMIT: u32 = 50;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Parley REST API",
        version = "1",
        description = "Post and read messages as a user, with a personal API token (create one in the app: \
                       your name in the header, then API tokens). Send it as `Authorization: Bearer pt_…`."
    ),
    paths(
        list_channels, list_messages, post_message, list_pins, pin_message, unpin_message, get_user, search,
        incoming_hook, changes::edit_message, changes::delete_message, changes::add_reaction,
        changes::remove_reaction, changes::thread, spaces::list_spaces, spaces::create_channel,
        spaces::channel_members, spaces::set_topic, spaces::archive_channel, files::upload, files::download,
        integrations::list_webhooks, integrations::create_webhook, integrations::delete_webhook,
        integrations::act_on_webhook, integrations::list_bots, integrations::create_bot,
        integrations::create_incoming_hook, integrations::create_command, integrations::rotate_bot,
        integrations::delete_bot, topics::list_topics, topics::create_topic, topics::publish
    ),
    components(schemas(
        ApiChannel, ApiMessage, ApiReaction, ApiAttachment, NewMessage, Posted, ApiUser, ApiStatus, ApiSearchHit,
        IncomingMessage, changes::EditMessage, changes::Changed, spaces::ApiSpace, spaces::NewChannel,
        spaces::ApiMember, spaces::NewTopic, integrations::ApiWebhook, integrations::NewWebhook,
        integrations::MadeWebhook, integrations::WebhookRequest, integrations::ApiBot, integrations::MadeBot,
        integrations::NewBot, integrations::NewHook, integrations::NewCommand, topics::ApiTopic,
        topics::NewEvent, topics::PublishedEvent, ApiError, ErrorBody
    )),
    modifiers(&BearerToken),
    security(("token" = []))
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The routes of `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/channels", get(list_channels))
        .route("/api/v1/users/{username}", get(get_user))
        .route("/api/v1/search", get(search))
        .route(
            "/api/v1/channels/{channel_id}/messages",
            get(list_messages).post(post_message),
        )
        .route(
            "/api/v1/channels/{channel_id}/messages/{message_id}",
            axum::routing::patch(changes::edit_message).delete(changes::delete_message),
        )
        .route(
            "/api/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
            axum::routing::put(changes::add_reaction).delete(changes::remove_reaction),
        )
        .route(
            "/api/v1/channels/{channel_id}/messages/{message_id}/thread",
            get(changes::thread),
        )
        .route(
            "/api/v1/channels/{channel_id}/topic",
            axum::routing::put(spaces::set_topic),
        )
        .route(
            "/api/v1/channels/{channel_id}/archive",
            axum::routing::post(spaces::archive_channel),
        )
        .route(
            "/api/v1/files",
            axum::routing::post(files::upload).layer(axum::extract::DefaultBodyLimit::max(
                parley::attachment::MAX_FILE_BYTES as usize + 1,
            )),
        )
        .route("/api/v1/files/{file_id}", get(files::download))
        .route("/api/v1/spaces", get(spaces::list_spaces))
        .route(
            "/api/v1/spaces/{space_id}/topics",
            get(topics::list_topics).post(topics::create_topic),
        )
        .route(
            "/api/v1/spaces/{space_id}/topics/{topic}/events",
            axum::routing::post(topics::publish)
                .layer(axum::extract::DefaultBodyLimit::max(2 * parley::topic::MAX_EVENT_BYTES)),
        )
        .route(
            "/api/v1/spaces/{space_id}/webhooks",
            get(integrations::list_webhooks).post(integrations::create_webhook),
        )
        .route(
            "/api/v1/spaces/{space_id}/webhooks/{webhook_id}",
            axum::routing::delete(integrations::delete_webhook),
        )
        .route(
            "/api/v1/spaces/{space_id}/webhooks/{webhook_id}/actions",
            axum::routing::post(integrations::act_on_webhook),
        )
        .route(
            "/api/v1/spaces/{space_id}/bots",
            get(integrations::list_bots).post(integrations::create_bot),
        )
        .route(
            "/api/v1/spaces/{space_id}/incoming-webhooks",
            axum::routing::post(integrations::create_incoming_hook),
        )
        .route(
            "/api/v1/spaces/{space_id}/commands",
            axum::routing::post(integrations::create_command),
        )
        .route(
            "/api/v1/spaces/{space_id}/bots/{user_id}/rotate",
            axum::routing::post(integrations::rotate_bot),
        )
        .route(
            "/api/v1/spaces/{space_id}/bots/{user_id}",
            axum::routing::delete(integrations::delete_bot),
        )
        .route(
            "/api/v1/spaces/{space_id}/channels",
            axum::routing::post(spaces::create_channel),
        )
        .route(
            "/api/v1/spaces/{space_id}/channels/{channel_id}/members",
            get(spaces::channel_members),
        )
        .route("/api/v1/channels/{channel_id}/pins", get(list_pins))
        .route(
            "/api/v1/hooks/{hook_id}/{secret}",
            axum::routing::post(incoming_hook).layer(axum::extract::DefaultBodyLimit::max(
                parley::incoming::MAX_REQUEST_BYTES,
            )),
        )
        .route(
            "/api/v1/channels/{channel_id}/pins/{message_id}",
            axum::routing::put(pin_message).delete(unpin_message),
        )
        // Swagger UI at /api/v1/docs/ (its assets are in the binary), over the document
        // it serves at /api/v1/openapi.json; under a policy of its own (its scripts are
        // files of ours, its styles partly inline).
        .merge(docs())
}

/// What the Swagger UI's pages may load: scripts only from our origin, no inline script.
const DOCS_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; object-src 'none'; \
    base-uri 'self'; form-action 'self'";

fn docs() -> axum::Router<AppState> {
    let docs: axum::Router<AppState> = SwaggerUi::new("/api/v1/docs")
        .url("/api/v1/openapi.json", ApiDoc::openapi())
        .into();
    docs.layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(DOCS_POLICY),
    ))
}

/// A channel the token's user can read.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiChannel {
    #[schema(format = Uuid)]
    pub channel_id: String,
    /// `general` for the lobby; the other people's usernames for a direct conversation.
    pub name: String,
    /// `lobby`, `space` or `direct`.
    pub kind: String,
    #[schema(format = Uuid)]
    pub space_id: Option<String>,
    pub space_name: Option<String>,
    /// One line about what goes on here now (space channels; empty when none).
    pub topic: String,
    /// What the channel is for (empty when none).
    pub description: String,
    /// Only the people added to it may read it.
    pub private: bool,
}

/// A message, oldest first in pages.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiMessage {
    /// Its place in the log: pages go back with `before=<position>`.
    pub position: u64,
    #[schema(format = Uuid)]
    pub message_id: String,
    #[schema(format = Uuid)]
    pub channel_id: String,
    pub author: String,
    /// Markdown; empty once deleted.
    pub body: String,
    pub sent_at_ms: i64,
    pub edited: bool,
    pub deleted: bool,
    /// The thread's root, for a reply.
    #[schema(format = Uuid)]
    pub reply_to: Option<String>,
    pub replies: u32,
    pub reactions: Vec<ApiReaction>,
    pub attachments: Vec<ApiAttachment>,
    /// Pinned to its channel.
    pub pinned: bool,
    /// `message`, or `topic`: a notice that `author` set the channel's topic to `body`.
    pub kind: String,
}

/// A person, as the token's user may see them: the status and time zone only to those who
/// share a space or a conversation with them.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiUser {
    #[schema(format = Uuid)]
    pub user_id: String,
    pub username: String,
    /// What the person is called in the app (none: the username).
    pub display_name: Option<String>,
    pub status: Option<ApiStatus>,
    /// An IANA name such as `Europe/Paris`.
    pub time_zone: Option<String>,
    /// The spaces the token's user and this person both belong to.
    pub spaces_in_common: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiStatus {
    pub emoji: Option<String>,
    pub text: String,
    /// When it stops showing (ms since the epoch), if it does.
    pub until_ms: Option<i64>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiReaction {
    pub emoji: String,
    pub users: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiAttachment {
    /// SHA-256 of the bytes; download from `/files/<file_id>` (with a session).
    pub file_id: String,
    pub name: String,
    pub mime: String,
    pub size: u64,
}

/// A message to post.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NewMessage {
    /// Your id for it (a UUID; v7 recommended): sending the same id again stores it once
    /// and answers with the first position. Without one, each request posts anew.
    #[schema(format = Uuid)]
    pub message_id: Option<String>,
    /// Markdown, 1 to 4,000 characters.
    pub body: String,
    /// Reply in the thread of this message.
    #[schema(format = Uuid)]
    pub reply_to: Option<String>,
    /// Files to send with it, by the id `POST /api/v1/files` gave (your own uploads).
    #[serde(default)]
    pub attachments: Option<Vec<String>>,
}

/// A message stored.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Posted {
    #[schema(format = Uuid)]
    pub message_id: String,
    pub position: u64,
}

/// Every error.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiError {
    pub error: ErrorBody,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// `unauthorized`, `forbidden`, `not_found`, `invalid`, `conflict`, `too_many_requests`
    /// or `internal`.
    pub code: String,
    /// For people.
    pub message: String,
}

/// An error on its way out, and for a refusal that passes with time, when to try again.
pub struct Refusal(StatusCode, &'static str, String, Option<u64>);

impl Refusal {
    fn invalid(message: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, "invalid", message.into(), None)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = ApiError {
            error: ErrorBody {
                code: self.1.to_owned(),
                message: self.2,
            },
        };
        let mut response = (self.0, Json(body)).into_response();
        if let Some(secs) = self.3 {
            response.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl From<EngineError> for Refusal {
    fn from(e: EngineError) -> Self {
        match &e {
            EngineError::Unauthorized | EngineError::Disabled => {
                Self(StatusCode::UNAUTHORIZED, "unauthorized", e.user_message(), None)
            }
            EngineError::Domain(
                DomainError::NoSuchChannel
                | DomainError::NoSuchUser(_)
                | DomainError::NoSuchMessage
                | DomainError::NoSuchSpace,
            ) => Self(StatusCode::NOT_FOUND, "not_found", e.user_message(), None),
            EngineError::Domain(DomainError::NotAllowed | DomainError::NotAMember | DomainError::NotYourMessage) => {
                Self(StatusCode::FORBIDDEN, "forbidden", e.user_message(), None)
            }
            e if e.retry_after().is_some() => Self(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                e.user_message(),
                e.retry_after(),
            ),
            EngineError::Append(parley_engine::log::store::AppendError::IdInUse) => {
                Self(StatusCode::CONFLICT, "conflict", e.user_message(), None)
            }
            e if e.is_user_error() => Self::invalid(e.user_message()),
            other => {
                tracing::error!(error = %other, "REST request failed");
                Self(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    other.user_message(),
                    None,
                )
            }
        }
    }
}

async fn bearer(engine: &Engine, headers: &HeaderMap) -> Result<Me, Refusal> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            Refusal(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send a personal API token: Authorization: Bearer pt_…".into(),
                None,
            )
        })?;
    Ok(engine.authenticate_token(token.trim()).await?)
}

fn space_of(raw: &str) -> Result<parley::SpaceId, Refusal> {
    raw.parse()
        .map_err(|_| Refusal(StatusCode::NOT_FOUND, "not_found", "no such space".into(), None))
}

/// An optional UUID a request names (a message's, an event's): `what` says which, if bad.
fn optional_id<T: std::str::FromStr>(raw: Option<&str>, what: &str) -> Result<Option<T>, Refusal> {
    raw.map(|raw| {
        raw.parse::<T>()
            .map_err(|_| Refusal::invalid(format!("{what} must be a UUID")))
    })
    .transpose()
}

fn channel_of(raw: &str) -> Result<ChannelId, Refusal> {
    raw.parse()
        .map_err(|_| Refusal(StatusCode::NOT_FOUND, "not_found", "no such channel".into(), None))
}

/// A space's channel as REST shows it.
fn space_channel(space: &parley::api::SpaceView, c: parley::api::ChannelView) -> ApiChannel {
    ApiChannel {
        channel_id: c.channel_id.to_string(),
        name: c.name,
        kind: "space".into(),
        space_id: Some(space.space_id.to_string()),
        space_name: Some(space.name.clone()),
        topic: c.topic,
        description: c.description,
        private: c.private,
    }
}

fn api_message(m: MessageView) -> ApiMessage {
    ApiMessage {
        position: m.position.0,
        message_id: m.message_id.to_string(),
        channel_id: m.channel_id.to_string(),
        author: m.author,
        body: m.body,
        sent_at_ms: m.sent_at_ms,
        edited: m.edited,
        deleted: m.deleted,
        reply_to: m.reply_to.map(|r| r.to_string()),
        replies: m.replies,
        pinned: m.pinned,
        kind: match m.kind {
            parley::MessageKind::Message => "message".into(),
            parley::MessageKind::Topic => "topic".into(),
        },
        reactions: m
            .reactions
            .into_iter()
            .map(|r| ApiReaction {
                emoji: r.emoji,
                users: r.users,
            })
            .collect(),
        attachments: m
            .attachments
            .into_iter()
            .map(|a| ApiAttachment {
                file_id: a.file_id,
                name: a.name,
                mime: a.mime,
                size: a.size,
            })
            .collect(),
    }
}

/// The channels the token's user can read.
#[utoipa::path(
    get,
    path = "/api/v1/channels",
    responses(
        (status = 200, description = "Lobby, space channels and direct conversations", body = [ApiChannel]),
        (status = 401, description = "No valid token", body = ApiError),
    )
)]
async fn list_channels(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<ApiChannel>>, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    // The lobby is for people, not bots.
    let lobby = !state.engine.acts_as_bot(&me).await?;
    let mut channels = vec![ApiChannel {
        channel_id: ChannelId::GENERAL.to_string(),
        name: "general".into(),
        kind: "lobby".into(),
        space_id: None,
        space_name: None,
        topic: String::new(),
        description: String::new(),
        private: false,
    }];
    channels.retain(|_| lobby);
    for space in state.engine.my_spaces(&me).await? {
        channels.extend(space.channels.iter().cloned().map(|c| space_channel(&space, c)));
    }
    channels.extend(state.engine.my_directs(&me).await?.into_iter().map(|d| ApiChannel {
        channel_id: d.channel_id.to_string(),
        name: d.with.join(", "),
        kind: "direct".into(),
        space_id: None,
        space_name: None,
        topic: String::new(),
        description: String::new(),
        private: false,
    }));
    Ok(Json(channels))
}

/// A message a search found.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiSearchHit {
    #[schema(format = Uuid)]
    pub channel_id: String,
    pub channel_name: String,
    #[schema(format = Uuid)]
    pub message_id: String,
    pub position: u64,
    pub author: String,
    pub sent_at_ms: i64,
    /// The matching part of the body, as plain text (no Markdown).
    pub snippet: String,
    /// The words of the snippet that matched, in order.
    pub matched: Vec<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
struct SearchParams {
    /// Words and filters: `from:@name in:#channel has:file has:link before:/after:/on:YYYY-MM-DD
    /// mentions:me sort:new` (at most 200 characters).
    q: String,
    /// Minutes east of UTC that dates are days in (default 0: UTC).
    offset_minutes: Option<i32>,
}

/// Searches the channels the token's user can read: best match first, or newest first
/// with `sort:new` (and for filters without words); at most 30.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    params(SearchParams),
    responses(
        (status = 200, description = "The messages found", body = [ApiSearchHit]),
        (status = 400, description = "A filter it cannot take, or too long", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
    )
)]
async fn search(
    State(state): State<AppState>,
    params: Result<Query<SearchParams>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Json<Vec<ApiSearchHit>>, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let Query(params) = params.map_err(|e| Refusal::invalid(e.body_text()))?;
    let hits = state
        .engine
        .search(&me, &params.q, params.offset_minutes.unwrap_or(0))
        .await?;
    Ok(Json(
        hits.into_iter()
            .map(|hit| ApiSearchHit {
                channel_id: hit.channel_id.to_string(),
                channel_name: hit.channel_name,
                message_id: hit.message_id.to_string(),
                position: hit.position.0,
                author: hit.author,
                sent_at_ms: hit.sent_at_ms,
                snippet: hit.snippet.iter().map(|(text, _)| text.as_str()).collect(),
                matched: hit
                    .snippet
                    .into_iter()
                    .filter(|(_, matched)| *matched)
                    .map(|(text, _)| text)
                    .collect(),
            })
            .collect(),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct Page {
    /// Messages before this position (default: the newest).
    before: Option<u64>,
    /// How many, 1 to 200 (default 50).
    limit: Option<u32>,
}

/// A page of a channel's messages, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/users/{username}",
    params(("username" = String, Path, description = "The person's username")),
    responses(
        (status = 200, description = "Their profile, as you may see it", body = ApiUser),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 404, description = "No such user", body = ApiError),
    )
)]
async fn get_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Result<Json<ApiUser>, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let card = state.engine.user_card(&me, &username).await?;
    let person = card.person;
    let now = parley_engine::log::store::now_ms();
    Ok(Json(ApiUser {
        user_id: person.user_id.to_string(),
        display_name: person.profile.display_name.as_ref().map(|n| n.as_str().to_owned()),
        status: person.profile.status_at(now).map(|s| ApiStatus {
            emoji: s.emoji.as_ref().map(ToString::to_string),
            text: s.text.clone(),
            until_ms: s.until_ms,
        }),
        time_zone: person.profile.time_zone.as_ref().map(|z| z.as_str().to_owned()),
        username: person.username,
        spaces_in_common: card.spaces_in_common,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/channels/{channel_id}/messages",
    params(("channel_id" = String, Path, format = Uuid, description = "The channel"), Page),
    responses(
        (status = 200, description = "Up to `limit` messages before `before`, oldest first", body = [ApiMessage]),
        (status = 400, description = "Bad paging", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 404, description = "No such channel (or not one you can read)", body = ApiError),
    )
)]
async fn list_messages(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    page: Result<Query<Page>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Json<Vec<ApiMessage>>, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let Query(page) = page.map_err(|e| Refusal::invalid(e.body_text()))?;
    let channel = channel_of(&channel)?;
    let limit = page.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(Refusal::invalid(format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    let messages = state
        .engine
        .history(&me, channel, page.before.map(Position), limit)
        .await?;
    Ok(Json(messages.into_iter().map(api_message).collect()))
}

/// Posts a message as the token's user. Idempotent on `message_id`.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{channel_id}/messages",
    params(("channel_id" = String, Path, format = Uuid, description = "The channel")),
    request_body = NewMessage,
    responses(
        (status = 201, description = "Stored (or already stored, for a resent id)", body = Posted),
        (status = 400, description = "Empty, too long, malformed, or the channel is archived", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 404, description = "No such channel (or not one you can read)", body = ApiError),
    )
)]
async fn post_message(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: Result<Json<NewMessage>, JsonRejection>,
) -> Result<(StatusCode, Json<Posted>), Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let Json(new) = body.map_err(|e| Refusal::invalid(e.body_text()))?;
    let channel = channel_of(&channel)?;
    let message_id = optional_id::<MessageId>(new.message_id.as_deref(), "message_id")?.unwrap_or_default();
    let reply_to = optional_id::<MessageId>(new.reply_to.as_deref(), "reply_to")?;
    let request = PostRequest {
        channel,
        message_id,
        body: new.body,
        reply_to,
        also_in_channel: false,
        attachments: new.attachments.unwrap_or_default(),
        correlation_id: None,
    };
    let position = state.engine.post(&me, request).await?;
    let posted = Posted {
        message_id: message_id.to_string(),
        position: position.0,
    };
    Ok((StatusCode::CREATED, Json(posted)))
}

/// What an incoming webhook takes: Parley's shape, or the `text` (Slack, Mattermost) or
/// `content` (Discord) that existing tools send; other fields are ignored.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct IncomingMessage {
    /// Markdown, 1 to 4,000 characters (or `text`, or `content`).
    pub body: Option<String>,
    pub text: Option<String>,
    pub content: Option<String>,
    /// Your id for it (a UUID): sending the same id again stores it once.
    #[schema(format = Uuid)]
    pub id: Option<String>,
}

/// Posts a message to an incoming webhook's channel, as the webhook's bot. The address is
/// the credential: no token. Made (and rotated) by a space admin under *Bots and integrations*.
#[utoipa::path(
    post,
    path = "/api/v1/hooks/{hook_id}/{secret}",
    params(
        ("hook_id" = String, Path, description = "The webhook"),
        ("secret" = String, Path, description = "Its secret, as shown when it was made or rotated"),
    ),
    request_body = IncomingMessage,
    responses(
        (status = 201, description = "Stored (or already stored, for a resent id)", body = Posted),
        (status = 400, description = "Not JSON, no text, too long, or the channel is archived", body = ApiError),
        (status = 404, description = "No such webhook (deleted, rotated, or a wrong address)", body = ApiError),
        (status = 413, description = "Over 64 KiB"),
        (status = 429, description = "Posting too fast (see Retry-After)", body = ApiError),
    ),
    security(())
)]
async fn incoming_hook(
    State(state): State<AppState>,
    Path((hook_id, secret)): Path<(String, String)>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<Posted>), Refusal> {
    let body = body.map_err(|e| Refusal(e.status(), "invalid", e.body_text(), None))?;
    let (message_id, position) = match state.engine.incoming_post(&hook_id, &secret, &body).await {
        Err(EngineError::Unauthorized) => {
            let message = "no such webhook: it was deleted or rotated, or the address is wrong";
            return Err(Refusal(StatusCode::NOT_FOUND, "not_found", message.into(), None));
        }
        other => other?,
    };
    let posted = Posted {
        message_id: message_id.to_string(),
        position: position.0,
    };
    Ok((StatusCode::CREATED, Json(posted)))
}

/// The pinned messages of a channel, the last pinned first.
#[utoipa::path(
    get,
    path = "/api/v1/channels/{channel_id}/pins",
    params(("channel_id" = String, Path, format = Uuid, description = "The channel")),
    responses(
        (status = 200, description = "Its pinned messages, the last pinned first", body = [ApiMessage]),
        (status = 400, description = "A malformed id", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 404, description = "No such channel (or not one you can read)", body = ApiError),
    )
)]
async fn list_pins(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<ApiMessage>>, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let channel = channel_of(&channel)?;
    let pins = state.engine.pinned(&me, channel).await?;
    Ok(Json(pins.into_iter().map(api_message).collect()))
}

/// Pins a message to its channel (as the space's settings allow). Pinning twice is once.
#[utoipa::path(
    put,
    path = "/api/v1/channels/{channel_id}/pins/{message_id}",
    params(
        ("channel_id" = String, Path, format = Uuid, description = "The channel"),
        ("message_id" = String, Path, format = Uuid, description = "The message"),
    ),
    responses(
        (status = 204, description = "Pinned"),
        (status = 400, description = "Too many pins, deleted, or a malformed id", body = ApiError),
        (status = 403, description = "The space lets only moderators pin; nobody pins in the lobby", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 404, description = "No such channel (or not one you can read)", body = ApiError),
    )
)]
async fn pin_message(
    State(state): State<AppState>,
    Path((channel, message)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, Refusal> {
    set_pin(state, channel, message, headers, true).await
}

/// Unpins a message.
#[utoipa::path(
    delete,
    path = "/api/v1/channels/{channel_id}/pins/{message_id}",
    params(
        ("channel_id" = String, Path, format = Uuid, description = "The channel"),
        ("message_id" = String, Path, format = Uuid, description = "The message"),
    ),
    responses(
        (status = 204, description = "Not pinned (any more)"),
        (status = 400, description = "Deleted, or a malformed id", body = ApiError),
        (status = 403, description = "The space lets only moderators pin; nobody pins in the lobby", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 404, description = "No such channel (or not one you can read)", body = ApiError),
    )
)]
async fn unpin_message(
    State(state): State<AppState>,
    Path((channel, message)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, Refusal> {
    set_pin(state, channel, message, headers, false).await
}

async fn set_pin(
    state: AppState,
    channel: String,
    message: String,
    headers: HeaderMap,
    on: bool,
) -> Result<StatusCode, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let channel = channel_of(&channel)?;
    let message = message
        .parse::<MessageId>()
        .map_err(|_| Refusal::invalid("message_id must be a UUID"))?;
    state
        .engine
        .change_message(&me, channel, message, parley::api::ChangeRequest::Pin { on }, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
