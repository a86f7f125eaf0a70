//! REST for files: a bot or script uploads a file (then sends it with a message by its id) and downloads the files of channels it can read.

use super::{ApiAttachment, ApiError, Refusal, bearer};
use crate::http::AppState;
use crate::http::files::UploadError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use parley::attachment::FileError;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
pub(super) struct UploadName {
    /// The file's name, as people will see it (its type is read from its bytes).
    name: String,
}

impl From<UploadError> for Refusal {
    fn from(e: UploadError) -> Self {
        let status = match &e {
            UploadError::Engine(_) => StatusCode::OK,
            UploadError::File(FileError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::File(FileError::TypeNotAllowed) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            UploadError::File(_) => StatusCode::BAD_REQUEST,
            UploadError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        match e {
            UploadError::Engine(engine) => Refusal::from(engine),
            UploadError::Internal(why) => {
                tracing::error!(error = %why, "file storage failed");
                let message = "the file could not be stored, please try again";
                Refusal(status, "internal", message.into(), None)
            }
            other => Refusal(status, "invalid", other.to_string(), None),
        }
    }
}

/// Uploads a file for the token's user: the body is its bytes. Send it with
/// `POST /api/v1/channels/{id}/messages` and `"attachments": ["<file_id>"]`; until then
/// only its uploader can read it.
#[utoipa::path(
    post,
    path = "/api/v1/files",
    params(UploadName),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored", body = ApiAttachment),
        (status = 400, description = "Empty, or a bad name", body = ApiError),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 413, description = "Over 10 MB", body = ApiError),
        (status = 415, description = "A type that is not allowed (programs, pages)", body = ApiError),
        (status = 429, description = "Uploading too fast (see Retry-After)", body = ApiError),
    )
)]
pub(super) async fn upload(
    State(state): State<AppState>,
    Query(query): Query<UploadName>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<ApiAttachment>), Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    let stored = crate::http::files::store_upload(&state, &me, body, &query.name).await?;
    let file = ApiAttachment {
        file_id: stored.file_id,
        name: stored.name,
        mime: stored.mime,
        size: stored.size,
    };
    Ok((StatusCode::CREATED, Json(file)))
}

/// Downloads a file sent in a channel the token's user can read (or one they uploaded).
#[utoipa::path(
    get,
    path = "/api/v1/files/{file_id}",
    params(("file_id" = String, Path, description = "The file's id (SHA-256 of its bytes)")),
    responses(
        (status = 200, description = "Its bytes, with its type", content_type = "application/octet-stream"),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 404, description = "No such file (or not one you can read)", body = ApiError),
    )
)]
pub(super) async fn download(
    State(state): State<AppState>,
    Path(file_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let me = bearer(&state.engine, &headers).await?;
    crate::http::files::serve_to(&state, &me, &file_id, false)
        .await
        .ok_or_else(|| Refusal(StatusCode::NOT_FOUND, "not_found", "no such file".into(), None))
}
