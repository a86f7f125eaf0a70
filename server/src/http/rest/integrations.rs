//! REST for a space's admins scripting its integrations: webhooks (subscribe, list, delete, retry, skip, replay) and bots (bots, incoming webhooks and slash commands: make, list, rotate, delete), each secret shown once.

use super::{ApiError, Refusal, bearer, space_of};
use crate::http::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use parley::api::{BotSecret, BotView, WebhookAction, WebhookView};
use parley::{ChannelId, Position, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A webhook of a space and how its deliveries stand.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiWebhook {
    #[schema(format = Uuid)]
    pub webhook_id: String,
    pub url: String,
    /// Empty: every type.
    pub event_types: Vec<String>,
    /// Delivered up to this log position.
    pub offset: u64,
    /// Events of the log after the offset (not all of them its own).
    pub behind: u64,
    pub delivered: u64,
    /// Failed attempts in a row at the current event.
    pub failures: u32,
    /// Parked after too many failures (a dead letter) until retried or skipped.
    pub dead: bool,
    /// Paused by an admin: its events wait at its offset until resumed.
    pub paused: bool,
    pub last_error: Option<String>,
}

/// A webhook to make.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NewWebhook {
    /// A public http(s) address.
    pub url: String,
    /// `MessagePosted`, `MemberJoined`, …; none: every type.
    #[serde(default)]
    pub event_types: Vec<String>,
}

/// A webhook made, with the secret that signs its deliveries (shown this once).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct MadeWebhook {
    pub webhook: ApiWebhook,
    pub secret: String,
}

/// What to do to a webhook.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct WebhookRequest {
    /// `pause` (hold its deliveries), `resume`, `retry` (the parked event again), `skip`
    /// (give up on it) or `replay` (rewind: everything again from `from`).
    pub action: String,
    /// For `replay`: the log position to deliver again from.
    pub from: Option<u64>,
}

/// A bot of a space: a bot with a token, an incoming webhook's, or a slash command's.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiBot {
    #[schema(format = Uuid)]
    pub user_id: String,
    pub username: String,
    /// The name it shows.
    pub name: String,
    /// `bot`, `incoming_webhook` or `command`.
    pub kind: String,
    /// An incoming webhook's channel.
    #[schema(format = Uuid)]
    pub channel_id: Option<String>,
    /// A slash command's name.
    pub command: Option<String>,
    /// A slash command's URL.
    pub url: Option<String>,
}

/// A bot, incoming webhook or command made (or its secret rotated): its token, its address
/// path, or its signing secret, shown this once.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct MadeBot {
    pub bot: ApiBot,
    pub secret: String,
}

/// A bot to make.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NewBot {
    pub username: String,
    /// The name it shows.
    pub name: String,
}

/// An incoming webhook to make.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NewHook {
    #[schema(format = Uuid)]
    pub channel_id: String,
    /// The name its messages show.
    pub name: String,
}

/// A slash command to register.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NewCommand {
    /// `weather` for `/weather`.
    pub name: String,
    /// The public address that answers it.
    pub url: String,
}

fn api_webhook(w: WebhookView) -> ApiWebhook {
    ApiWebhook {
        webhook_id: w.webhook_id,
        url: w.url,
        event_types: w.event_types,
        offset: w.offset.0,
        behind: w.behind,
        delivered: w.delivered,
        failures: w.failures,
        dead: w.dead,
        paused: w.paused,
        last_error: w.last_error,
    }
}

fn api_bot(b: BotView) -> ApiBot {
    let kind = match (&b.hook, &b.command) {
        (_, Some(_)) => "command",
        (Some(_), None) => "incoming_webhook",
        (None, None) => "bot",
    };
    ApiBot {
        user_id: b.user_id.to_string(),
        username: b.username,
        name: b.name,
        kind: kind.into(),
        channel_id: b.hook.map(|h| h.channel_id.to_string()),
        url: b.command.as_ref().map(|c| c.url.clone()),
        command: b.command.map(|c| c.name),
    }
}

fn made(made: BotSecret) -> MadeBot {
    MadeBot {
        bot: api_bot(made.bot),
        secret: made.secret,
    }
}

fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, Refusal> {
    body.map(|Json(t)| t).map_err(|e| Refusal::invalid(e.body_text()))
}

/// A space's webhooks (its admins).
#[utoipa::path(
    get,
    path = "/api/v1/spaces/{space_id}/webhooks",
    params(("space_id" = String, Path, format = Uuid, description = "The space")),
    responses(
        (status = 200, description = "Its webhooks", body = [ApiWebhook]),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not an admin of the space", body = ApiError),
        (status = 404, description = "No such space", body = ApiError),
    )
)]
pub(super) async fn list_webhooks(
    State(state): State<AppState>,
    Path(space): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<ApiWebhook>>, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let hooks = state.engine.webhooks(&me, space_of(&space)?).await?;
    Ok(Json(hooks.into_iter().map(api_webhook).collect()))
}

/// Subscribes a URL to a space's events (its admins).
#[utoipa::path(
    post,
    path = "/api/v1/spaces/{space_id}/webhooks",
    params(("space_id" = String, Path, format = Uuid, description = "The space")),
    request_body = NewWebhook,
    responses(
        (status = 201, description = "Made; the secret is shown this once", body = MadeWebhook),
        (status = 400, description = "Not a public http(s) address, an unknown event type, or too many", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not an admin of the space", body = ApiError),
        (status = 404, description = "No such space", body = ApiError),
    )
)]
pub(super) async fn create_webhook(
    State(state): State<AppState>,
    Path(space): Path<String>,
    headers: HeaderMap,
    new: Result<Json<NewWebhook>, JsonRejection>,
) -> Result<(StatusCode, Json<MadeWebhook>), Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let new = body(new)?;
    let (webhook, secret) = state
        .engine
        .create_webhook(&me, space_of(&space)?, &new.url, &new.event_types)
        .await?;
    let made = MadeWebhook {
        webhook: api_webhook(webhook),
        secret,
    };
    Ok((StatusCode::CREATED, Json(made)))
}

/// Deletes a webhook (its space's admins).
#[utoipa::path(
    delete,
    path = "/api/v1/spaces/{space_id}/webhooks/{webhook_id}",
    params(
        ("space_id" = String, Path, format = Uuid, description = "The space"),
        ("webhook_id" = String, Path, format = Uuid, description = "The webhook"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "No such webhook", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not an admin of the space", body = ApiError),
    )
)]
pub(super) async fn delete_webhook(
    State(state): State<AppState>,
    Path((space, webhook)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    state
        .engine
        .webhook_action(&me, space_of(&space)?, &webhook, WebhookAction::Delete)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Retries or skips a parked webhook's event, or replays its events from a log position.
#[utoipa::path(
    post,
    path = "/api/v1/spaces/{space_id}/webhooks/{webhook_id}/actions",
    params(
        ("space_id" = String, Path, format = Uuid, description = "The space"),
        ("webhook_id" = String, Path, format = Uuid, description = "The webhook"),
    ),
    request_body = WebhookRequest,
    responses(
        (status = 204, description = "Done"),
        (status = 400, description = "No such webhook, an unknown action, or a replay without `from`", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not an admin of the space", body = ApiError),
    )
)]
pub(super) async fn act_on_webhook(
    State(state): State<AppState>,
    Path((space, webhook)): Path<(String, String)>,
    headers: HeaderMap,
    request: Result<Json<WebhookRequest>, JsonRejection>,
) -> Result<StatusCode, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let request = body(request)?;
    let action = match (request.action.as_str(), request.from) {
        ("retry", _) => WebhookAction::Retry,
        ("skip", _) => WebhookAction::Skip,
        ("pause", _) => WebhookAction::Pause,
        ("resume", _) => WebhookAction::Resume,
        ("replay", Some(from)) if from > 0 => WebhookAction::Replay { from: Position(from) },
        ("replay", _) => return Err(Refusal::invalid("replay from a log position: `from`, 1 or more")),
        _ => return Err(Refusal::invalid("the action is pause, resume, retry, skip or replay")),
    };
    state
        .engine
        .webhook_action(&me, space_of(&space)?, &webhook, action)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A space's bots, incoming webhooks and slash commands (its admins).
#[utoipa::path(
    get,
    path = "/api/v1/spaces/{space_id}/bots",
    params(("space_id" = String, Path, format = Uuid, description = "The space")),
    responses(
        (status = 200, description = "Its bots", body = [ApiBot]),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not an admin of the space", body = ApiError),
        (status = 404, description = "No such space", body = ApiError),
    )
)]
pub(super) async fn list_bots(
    State(state): State<AppState>,
    Path(space): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<ApiBot>>, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let bots = state.engine.bots(&me, space_of(&space)?).await?;
    Ok(Json(bots.into_iter().map(api_bot).collect()))
}

/// Makes a bot of the space (its admins); its API token is shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/spaces/{space_id}/bots",
    params(("space_id" = String, Path, format = Uuid, description = "The space")),
    request_body = NewBot,
    responses(
        (status = 201, description = "Made", body = MadeBot),
        (status = 400, description = "A bad or taken username, no name, or too many bots", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not an admin of the space", body = ApiError),
        (status = 404, description = "No such space", body = ApiError),
    )
)]
pub(super) async fn create_bot(
    State(state): State<AppState>,
    Path(space): Path<String>,
    headers: HeaderMap,
    new: Result<Json<NewBot>, JsonRejection>,
) -> Result<(StatusCode, Json<MadeBot>), Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let new = body(new)?;
    let bot = state
        .engine
        .create_bot(&me, space_of(&space)?, &new.username, &new.name)
        .await?;
    Ok((StatusCode::CREATED, Json(made(bot))))
}

/// Makes an incoming webhook for a channel of the space (its admins); its address path is
/// shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/spaces/{space_id}/incoming-webhooks",
    params(("space_id" = String, Path, format = Uuid, description = "The space")),
    request_body = NewHook,
    responses(
        (status = 201, description = "Made", body = MadeBot),
        (status = 400, description = "No name, an archived channel, or too many bots", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not an admin of the space", body = ApiError),
        (status = 404, description = "No such space or channel", body = ApiError),
    )
)]
pub(super) async fn create_incoming_hook(
    State(state): State<AppState>,
    Path(space): Path<String>,
    headers: HeaderMap,
    new: Result<Json<NewHook>, JsonRejection>,
) -> Result<(StatusCode, Json<MadeBot>), Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let new = body(new)?;
    let channel: ChannelId = super::channel_of(&new.channel_id)?;
    let hook = state
        .engine
        .create_incoming_hook(&me, space_of(&space)?, channel, &new.name)
        .await?;
    Ok((StatusCode::CREATED, Json(made(hook))))
}

/// Registers a slash command of the space's own (its admins); the secret that signs its
/// requests is shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/spaces/{space_id}/commands",
    params(("space_id" = String, Path, format = Uuid, description = "The space")),
    request_body = NewCommand,
    responses(
        (status = 201, description = "Registered", body = MadeBot),
        (status = 400, description = "A bad or taken name, a built-in's, or not a public http(s) address", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not an admin of the space", body = ApiError),
        (status = 404, description = "No such space", body = ApiError),
    )
)]
pub(super) async fn create_command(
    State(state): State<AppState>,
    Path(space): Path<String>,
    headers: HeaderMap,
    new: Result<Json<NewCommand>, JsonRejection>,
) -> Result<(StatusCode, Json<MadeBot>), Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let new = body(new)?;
    let command = state
        .engine
        .create_command(&me, space_of(&space)?, &new.name, &new.url)
        .await?;
    Ok((StatusCode::CREATED, Json(made(command))))
}

fn bot_of(raw: &str) -> Result<UserId, Refusal> {
    raw.parse()
        .map_err(|_| Refusal(StatusCode::NOT_FOUND, "not_found", "no such bot".into(), None))
}

/// Replaces a bot's secret (its token, address or signing secret); the old one stops working.
#[utoipa::path(
    post,
    path = "/api/v1/spaces/{space_id}/bots/{user_id}/rotate",
    params(
        ("space_id" = String, Path, format = Uuid, description = "The space"),
        ("user_id" = String, Path, format = Uuid, description = "The bot"),
    ),
    responses(
        (status = 200, description = "The new secret, shown this once", body = MadeBot),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not an admin of the space", body = ApiError),
        (status = 404, description = "No such bot in this space", body = ApiError),
    )
)]
pub(super) async fn rotate_bot(
    State(state): State<AppState>,
    Path((space, bot)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<MadeBot>, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let rotated = state.engine.rotate_bot(&me, space_of(&space)?, bot_of(&bot)?).await?;
    Ok(Json(made(rotated)))
}

/// Deletes a bot, incoming webhook or slash command of the space.
#[utoipa::path(
    delete,
    path = "/api/v1/spaces/{space_id}/bots/{user_id}",
    params(
        ("space_id" = String, Path, format = Uuid, description = "The space"),
        ("user_id" = String, Path, format = Uuid, description = "The bot"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not an admin of the space", body = ApiError),
        (status = 404, description = "No such bot in this space", body = ApiError),
    )
)]
pub(super) async fn delete_bot(
    State(state): State<AppState>,
    Path((space, bot)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    state.engine.delete_bot(&me, space_of(&space)?, bot_of(&bot)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
