//! REST for what a bot does to messages after posting them: edit, delete, react, and read a thread.

use super::{ApiError, ApiMessage, Refusal, api_message, bearer, channel_of};
use crate::http::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use parley::MessageId;
use parley::api::ChangeRequest;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A message's new body.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct EditMessage {
    /// Markdown, 1 to 4,000 characters.
    pub body: String,
}

/// Where a change was stored (the message's position, when there was nothing to change).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Changed {
    pub position: u64,
}

fn message_of(raw: &str) -> Result<MessageId, Refusal> {
    raw.parse()
        .map_err(|_| Refusal(StatusCode::NOT_FOUND, "not_found", "no such message".into(), None))
}

async fn change(
    state: &AppState,
    headers: &HeaderMap,
    (channel, message): (&str, &str),
    request: ChangeRequest,
) -> Result<Json<Changed>, Refusal> {
    let me = bearer(&state.engine, headers).await?;
    let (channel, message) = (channel_of(channel)?, message_of(message)?);
    let position = state
        .engine
        .change_message(&me, channel, message, request, None)
        .await?
        // Nothing to store (already so): where the log stands.
        .unwrap_or_else(|| state.engine.hub().projected());
    Ok(Json(Changed { position: position.0 }))
}

/// Replaces the body of one of the token's user's messages (the old one stays in its edit
/// history).
#[utoipa::path(
    patch,
    path = "/api/v1/channels/{channel_id}/messages/{message_id}",
    params(
        ("channel_id" = String, Path, format = Uuid, description = "The channel"),
        ("message_id" = String, Path, format = Uuid, description = "The message"),
    ),
    request_body = EditMessage,
    responses(
        (status = 200, description = "Edited", body = Changed),
        (status = 400, description = "Empty, too long, malformed, or the message is deleted", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not your message", body = ApiError),
        (status = 404, description = "No such channel or message", body = ApiError),
    )
)]
pub(super) async fn edit_message(
    State(state): State<AppState>,
    Path((channel, message)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Json<EditMessage>, JsonRejection>,
) -> Result<Json<Changed>, Refusal> {
    let Json(edit) = body.map_err(|e| Refusal::invalid(e.body_text()))?;
    change(
        &state,
        &headers,
        (&channel, &message),
        ChangeRequest::Edit { body: edit.body },
    )
    .await
}

/// Deletes a message: the token's user's own, or any in a space they moderate.
#[utoipa::path(
    delete,
    path = "/api/v1/channels/{channel_id}/messages/{message_id}",
    params(
        ("channel_id" = String, Path, format = Uuid, description = "The channel"),
        ("message_id" = String, Path, format = Uuid, description = "The message"),
    ),
    responses(
        (status = 200, description = "Deleted (or deleted already)", body = Changed),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Someone else's message, and you do not moderate here", body = ApiError),
        (status = 404, description = "No such channel or message", body = ApiError),
    )
)]
pub(super) async fn delete_message(
    State(state): State<AppState>,
    Path((channel, message)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Changed>, Refusal> {
    change(&state, &headers, (&channel, &message), ChangeRequest::Delete).await
}

/// Reacts to a message with an emoji (any of Unicode's, URL-encoded in the path).
#[utoipa::path(
    put,
    path = "/api/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
    params(
        ("channel_id" = String, Path, format = Uuid, description = "The channel"),
        ("message_id" = String, Path, format = Uuid, description = "The message"),
        ("emoji" = String, Path, description = "The emoji, e.g. %F0%9F%91%8D for 👍"),
    ),
    responses(
        (status = 200, description = "Reacted (or had already)", body = Changed),
        (status = 400, description = "Not an emoji, too many different reactions, or the message is deleted", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 404, description = "No such channel or message", body = ApiError),
    )
)]
pub(super) async fn add_reaction(
    State(state): State<AppState>,
    Path((channel, message, emoji)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Changed>, Refusal> {
    change(
        &state,
        &headers,
        (&channel, &message),
        ChangeRequest::React { emoji, on: true },
    )
    .await
}

/// Takes the token's user's reaction back.
#[utoipa::path(
    delete,
    path = "/api/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
    params(
        ("channel_id" = String, Path, format = Uuid, description = "The channel"),
        ("message_id" = String, Path, format = Uuid, description = "The message"),
        ("emoji" = String, Path, description = "The emoji, URL-encoded"),
    ),
    responses(
        (status = 200, description = "Taken back (or there was none)", body = Changed),
        (status = 400, description = "Not an emoji", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 404, description = "No such channel or message", body = ApiError),
    )
)]
pub(super) async fn remove_reaction(
    State(state): State<AppState>,
    Path((channel, message, emoji)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Changed>, Refusal> {
    change(
        &state,
        &headers,
        (&channel, &message),
        ChangeRequest::React { emoji, on: false },
    )
    .await
}

/// A thread: its root message and every reply, oldest first. Reply with
/// `POST /api/v1/channels/{channel_id}/messages` and `reply_to`.
#[utoipa::path(
    get,
    path = "/api/v1/channels/{channel_id}/messages/{message_id}/thread",
    params(
        ("channel_id" = String, Path, format = Uuid, description = "The channel"),
        ("message_id" = String, Path, format = Uuid, description = "The thread's root message"),
    ),
    responses(
        (status = 200, description = "The root, then the replies", body = [ApiMessage]),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 404, description = "No such channel or message", body = ApiError),
    )
)]
pub(super) async fn thread(
    State(state): State<AppState>,
    Path((channel, message)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Vec<ApiMessage>>, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let (channel, root) = (channel_of(&channel)?, message_of(&message)?);
    let messages = state.engine.thread(&me, channel, root).await?;
    Ok(Json(messages.into_iter().map(api_message).collect()))
}
