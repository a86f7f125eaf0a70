//! REST for the spaces a bot or person is in: the spaces and their channels, making a channel, who is in one, and setting its topic.

use super::{ApiChannel, ApiError, Refusal, bearer, channel_of, space_channel, space_of};
use crate::http::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use parley::Role;
use parley::api::{SpaceAction, SpaceOutcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A space the token's user belongs to, with the channels they may read in it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiSpace {
    #[schema(format = Uuid)]
    pub space_id: String,
    pub name: String,
    /// `admin`, `moderator` or `member`: what the token's user may do here.
    pub role: String,
    pub channels: Vec<ApiChannel>,
}

/// A channel to make in a space (its admins and moderators).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NewChannel {
    /// 1 to 32 lowercase letters, digits, `-` or `_`.
    pub name: String,
    /// Only the people added to it may read it (its maker is the first).
    #[serde(default)]
    pub private: bool,
}

/// Someone in a channel.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiMember {
    #[schema(format = Uuid)]
    pub user_id: String,
    pub username: String,
    /// Their role in the space.
    pub role: String,
}

/// A channel's topic and description.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NewTopic {
    /// One line, at most 250 characters (empty: none).
    pub topic: String,
    /// At most 1,000 characters (empty: none).
    #[serde(default)]
    pub description: String,
}

/// The spaces of the token's user, each with its channels they may read.
#[utoipa::path(
    get,
    path = "/api/v1/spaces",
    responses(
        (status = 200, description = "The spaces", body = [ApiSpace]),
        (status = 401, description = "No valid token", body = ApiError),
    )
)]
pub(super) async fn list_spaces(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<ApiSpace>>, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let spaces = state.engine.my_spaces(&me).await?;
    Ok(Json(
        spaces
            .into_iter()
            .map(|space| ApiSpace {
                space_id: space.space_id.to_string(),
                name: space.name.clone(),
                role: Role::as_str(space.role).to_owned(),
                channels: space
                    .channels
                    .iter()
                    .cloned()
                    .map(|c| space_channel(&space, c))
                    .collect(),
            })
            .collect(),
    ))
}

/// Makes a channel in a space (its admins and moderators).
#[utoipa::path(
    post,
    path = "/api/v1/spaces/{space_id}/channels",
    params(("space_id" = String, Path, format = Uuid, description = "The space")),
    request_body = NewChannel,
    responses(
        (status = 201, description = "Made", body = ApiChannel),
        (status = 400, description = "A bad name, or one taken", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not a member, or a member who may not make channels", body = ApiError),
        (status = 404, description = "No such space", body = ApiError),
    )
)]
pub(super) async fn create_channel(
    State(state): State<AppState>,
    Path(space): Path<String>,
    headers: HeaderMap,
    body: Result<Json<NewChannel>, JsonRejection>,
) -> Result<(StatusCode, Json<ApiChannel>), Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let Json(new) = body.map_err(|e| Refusal::invalid(e.body_text()))?;
    let space = space_of(&space)?;
    let action = SpaceAction::CreateChannel {
        name: new.name,
        private: new.private,
    };
    let SpaceOutcome::Channel { channel_id } = state.engine.space_action(&me, space, action).await? else {
        return Err(Refusal::invalid("no channel was made"));
    };
    let made = state
        .engine
        .my_spaces(&me)
        .await?
        .into_iter()
        .find(|s| s.space_id == space)
        .and_then(|s| {
            let view = s.channels.iter().find(|c| c.channel_id == channel_id)?.clone();
            Some(space_channel(&s, view))
        })
        .ok_or_else(|| Refusal::invalid("the new channel is missing"))?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Who is in a channel of a space (a private channel's people; for a public one, the
/// space's members who have not left it).
#[utoipa::path(
    get,
    path = "/api/v1/spaces/{space_id}/channels/{channel_id}/members",
    params(
        ("space_id" = String, Path, format = Uuid, description = "The space"),
        ("channel_id" = String, Path, format = Uuid, description = "The channel"),
    ),
    responses(
        (status = 200, description = "Its people", body = [ApiMember]),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 404, description = "No such space or channel (or not one you can read)", body = ApiError),
    )
)]
pub(super) async fn channel_members(
    State(state): State<AppState>,
    Path((space, channel)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Vec<ApiMember>>, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let (space, channel) = (space_of(&space)?, channel_of(&channel)?);
    let people = state.engine.channel_members(&me, space, channel).await?;
    Ok(Json(
        people
            .into_iter()
            .map(|m| ApiMember {
                user_id: m.user_id.to_string(),
                username: m.username,
                role: Role::as_str(m.role).to_owned(),
            })
            .collect(),
    ))
}

/// Sets a space channel's topic and description (its members or moderators, as the space's
/// settings say); the channel shows a notice of the change.
#[utoipa::path(
    put,
    path = "/api/v1/channels/{channel_id}/topic",
    params(("channel_id" = String, Path, format = Uuid, description = "The channel")),
    request_body = NewTopic,
    responses(
        (status = 204, description = "Set"),
        (status = 400, description = "Too long, more than one line, or not a space's channel", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "The space lets only moderators set topics", body = ApiError),
        (status = 404, description = "No such channel (or not one you can read)", body = ApiError),
    )
)]
pub(super) async fn set_topic(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: Result<Json<NewTopic>, JsonRejection>,
) -> Result<StatusCode, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let Json(new) = body.map_err(|e| Refusal::invalid(e.body_text()))?;
    let channel = channel_of(&channel)?;
    let Some(space) = state.engine.authorize_channel(&me, channel).await?.space_id else {
        return Err(Refusal::invalid("only a space's channel has a topic"));
    };
    let action = SpaceAction::SetTopic {
        channel,
        topic: new.topic,
        description: new.description,
    };
    state.engine.space_action(&me, space, action).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Archives a space's channel (its admins and moderators): it stays readable, and nothing
/// more is posted to it.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{channel_id}/archive",
    params(("channel_id" = String, Path, format = Uuid, description = "The channel")),
    responses(
        (status = 204, description = "Archived"),
        (status = 400, description = "Archived already, or not a space's channel", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not a moderator or an admin of the space", body = ApiError),
        (status = 404, description = "No such channel (or not one you can read)", body = ApiError),
    )
)]
pub(super) async fn archive_channel(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let channel = channel_of(&channel)?;
    let Some(space) = state.engine.authorize_channel(&me, channel).await?.space_id else {
        return Err(Refusal::invalid("only a space's channel can be archived"));
    };
    state
        .engine
        .space_action(&me, space, SpaceAction::ArchiveChannel { channel })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
