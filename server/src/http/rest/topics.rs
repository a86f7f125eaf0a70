//! REST for topics: a space's admins make topics (with an optional JSON Schema); any producer with a token publishes JSON events to them, idempotent by its own event id; webhooks subscribe to them by pattern (`deploy.*`).

use super::{ApiError, Refusal, bearer, space_of};
use crate::http::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use parley::MessageId;
use parley_engine::engine::topics::TopicView;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A topic of a space.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiTopic {
    /// Lowercase parts joined by dots: `deploy.prod`.
    pub name: String,
    /// The JSON Schema its events must meet, if any.
    #[schema(value_type = Option<Object>)]
    pub schema: Option<Value>,
    /// The largest event it takes, in bytes of JSON: 65536, or less where checking an event
    /// against its schema costs more. Set by the server.
    #[serde(default)]
    #[schema(read_only)]
    pub max_event_bytes: usize,
}

/// An event to publish.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NewEvent {
    /// Your id for it (a UUID): sending the same id again stores it once.
    #[schema(format = Uuid)]
    pub id: Option<String>,
    /// Any JSON, as the topic's schema allows (64 KiB at most).
    #[schema(value_type = Object)]
    pub data: Value,
}

/// An event stored.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PublishedEvent {
    /// Its place in the log: subscriptions get it from there, in order.
    pub position: u64,
    /// It had been stored before (a resend of the same id): nothing more was stored.
    pub duplicate: bool,
}

fn api_topic(t: TopicView) -> ApiTopic {
    ApiTopic {
        name: t.name,
        schema: t.schema,
        max_event_bytes: t.max_event_bytes,
    }
}

/// The topics of a space (its members).
#[utoipa::path(
    get,
    path = "/api/v1/spaces/{space_id}/topics",
    params(("space_id" = String, Path, format = Uuid, description = "The space")),
    responses(
        (status = 200, description = "Its topics", body = [ApiTopic]),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not a member of the space", body = ApiError),
        (status = 404, description = "No such space", body = ApiError),
    )
)]
pub(super) async fn list_topics(
    State(state): State<AppState>,
    Path(space): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<ApiTopic>>, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let topics = state.engine.topics(&me, space_of(&space)?).await?;
    Ok(Json(topics.into_iter().map(api_topic).collect()))
}

/// Makes a topic (the space's admins), with the JSON Schema its events must meet, if any.
#[utoipa::path(
    post,
    path = "/api/v1/spaces/{space_id}/topics",
    params(("space_id" = String, Path, format = Uuid, description = "The space")),
    request_body = ApiTopic,
    responses(
        (status = 201, description = "Made", body = ApiTopic),
        (status = 400, description = "A bad or taken name, too many topics, or not a JSON Schema", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not an admin of the space", body = ApiError),
        (status = 404, description = "No such space", body = ApiError),
    )
)]
pub(super) async fn create_topic(
    State(state): State<AppState>,
    Path(space): Path<String>,
    headers: HeaderMap,
    body: Result<Json<ApiTopic>, JsonRejection>,
) -> Result<(StatusCode, Json<ApiTopic>), Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let Json(new) = body.map_err(|e| Refusal::invalid(e.body_text()))?;
    let made = state
        .engine
        .create_topic(&me, space_of(&space)?, &new.name, new.schema)
        .await?;
    Ok((StatusCode::CREATED, Json(api_topic(made))))
}

/// Publishes an event to a topic (any member of the space, bots included). Webhooks whose
/// types match the topic (`deploy.*`, or `TopicPublished` for all) get it, in log order.
#[utoipa::path(
    post,
    path = "/api/v1/spaces/{space_id}/topics/{topic}/events",
    params(
        ("space_id" = String, Path, format = Uuid, description = "The space"),
        ("topic" = String, Path, description = "The topic, e.g. deploy.prod"),
    ),
    request_body = NewEvent,
    responses(
        (status = 201, description = "Stored", body = PublishedEvent),
        (status = 200, description = "Stored before, under the same id: nothing more stored", body = PublishedEvent),
        (status = 400, description = "No such topic, not the topic's schema, too large, or a bad id", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Not a member of the space", body = ApiError),
        (status = 409, description = "The id was used for something else", body = ApiError),
        (status = 429, description = "Publishing too fast (see Retry-After)", body = ApiError),
    )
)]
pub(super) async fn publish(
    State(state): State<AppState>,
    Path((space, topic)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Json<NewEvent>, JsonRejection>,
) -> Result<(StatusCode, Json<PublishedEvent>), Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let Json(new) = body.map_err(|e| Refusal::invalid(e.body_text()))?;
    let id = super::optional_id::<MessageId>(new.id.as_deref(), "id")?;
    let published = state
        .engine
        .publish(&me, space_of(&space)?, &topic, id, new.data)
        .await?;
    let status = if published.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let answer = PublishedEvent {
        position: published.position.0,
        duplicate: published.duplicate,
    };
    Ok((status, Json(answer)))
}
