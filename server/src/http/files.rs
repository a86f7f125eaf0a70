//! The file door: uploads (type from the bytes, size bounded, stored by content hash, image
//! thumbnails made) and downloads (allowed to whoever may read a channel the file was sent in).
//!
//! Blobs live behind `object_store`'s `ObjectStore` trait: a folder on local disk by
//! default, any S3-compatible bucket when configured. Both are the crate's own backends.

use crate::http::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use object_store::ObjectStore;
use object_store::path::Path as StorePath;
use parley::attachment::{self, Attachment, FileError};
use parley_app::api::Me;
use parley_engine::auth;
use parley_engine::engine::{Engine, EngineError};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Where files are kept.
#[derive(Clone)]
pub struct Files {
    store: Arc<dyn ObjectStore>,
}

/// Decoding an image may take at most this much memory (a small file can claim a huge picture).
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
const MAX_SIDE_PX: u32 = 12_000;

impl Files {
    /// Files in a folder on local disk (created if missing).
    pub fn local(dir: &std::path::Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Ok(Self { store: Arc::new(store) })
    }

    /// Files in an S3-compatible bucket; endpoint, region and keys come from the usual
    /// `AWS_*` environment variables (`AWS_ENDPOINT` for MinIO, R2, Garage…).
    /// `settings` are set on top, by object_store's names (`aws_endpoint`…).
    pub fn s3(bucket: &str, settings: &[(String, String)]) -> anyhow::Result<Self> {
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        for (name, value) in settings {
            let key: object_store::aws::AmazonS3ConfigKey = name
                .parse()
                .map_err(|e| anyhow::anyhow!("unknown S3 setting {name:?}: {e}"))?;
            builder = builder.with_config(key, value);
        }
        let store = builder.build()?;
        Ok(Self { store: Arc::new(store) })
    }

    fn blob(file_id: &str) -> StorePath {
        StorePath::from(format!("files/{file_id}"))
    }

    fn thumb(file_id: &str) -> StorePath {
        StorePath::from(format!("thumbs/{file_id}"))
    }

    fn avatar(file_id: &str) -> StorePath {
        StorePath::from(format!("avatars/{file_id}"))
    }

    /// Cuts a square picture from an uploaded image (its middle), unless done already.
    async fn make_avatar(&self, file_id: &str) -> Result<(), UploadError> {
        if self.store.head(&Self::avatar(file_id)).await.is_ok() {
            return Ok(());
        }
        let bytes = self
            .get(&Self::blob(file_id))
            .await
            .ok_or(UploadError::File(FileError::NoSuchFile))?;
        let square = tokio::task::spawn_blocking(move || avatar_picture(&bytes))
            .await
            .map_err(|e| UploadError::Internal(e.to_string()))??;
        self.store
            .put(&Self::avatar(file_id), square.into())
            .await
            .map_err(|e| UploadError::Internal(e.to_string()))?;
        Ok(())
    }

    /// Checks and stores a file; the same bytes are stored once, whoever sends them.
    pub async fn put(&self, bytes: Bytes, name: &str) -> Result<Attachment, UploadError> {
        let name = attachment::file_name(name);
        let size = bytes.len() as u64;
        // Markup (HTML, XML) is recognised by `infer` as text: it is kept as plain text.
        let sniffed = infer::get(&bytes)
            .map(|kind| kind.mime_type())
            .filter(|mime| !mime.starts_with("text/"));
        let is_utf8 = sniffed.is_none() && std::str::from_utf8(&bytes).is_ok();
        let mime = attachment::accepted_type(sniffed, is_utf8, &name, size)?;
        let file_id = hex(&Sha256::digest(&bytes));
        let (mut width, mut height) = (None, None);
        if attachment::is_image(&mime) {
            let source = bytes.clone();
            let (w, h, thumb) = tokio::task::spawn_blocking(move || thumbnail(&source))
                .await
                .map_err(|e| UploadError::Internal(e.to_string()))??;
            (width, height) = (Some(w), Some(h));
            self.store
                .put(&Self::thumb(&file_id), thumb.into())
                .await
                .map_err(|e| UploadError::Internal(e.to_string()))?;
        }
        self.store
            .put(&Self::blob(&file_id), bytes.into())
            .await
            .map_err(|e| UploadError::Internal(e.to_string()))?;
        Ok(Attachment {
            file_id,
            name,
            mime,
            size,
            width,
            height,
        })
    }

    /// An uploaded file's bytes, as stored.
    pub(crate) async fn original(&self, file_id: &str) -> Option<Bytes> {
        self.get(&Self::blob(file_id)).await
    }

    async fn get(&self, path: &StorePath) -> Option<Bytes> {
        let found = self.store.get(path).await.ok()?;
        found.bytes().await.ok()
    }
}

/// Decodes an image within the limits (a small file can claim a huge picture).
fn decode(bytes: &[u8]) -> Result<image::DynamicImage, UploadError> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| FileError::BadImage)?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    reader.limits(limits);
    Ok(reader.decode().map_err(|_| FileError::BadImage)?)
}

/// PNG when the picture has transparency, JPEG otherwise.
fn encode(picture: image::DynamicImage) -> Result<Vec<u8>, UploadError> {
    let mut out = std::io::Cursor::new(Vec::new());
    let written = if picture.color().has_alpha() {
        picture.write_to(&mut out, image::ImageFormat::Png)
    } else {
        picture.into_rgb8().write_to(&mut out, image::ImageFormat::Jpeg)
    };
    written.map_err(|e| UploadError::Internal(e.to_string()))?;
    Ok(out.into_inner())
}

/// The side of a profile picture, in pixels (shown at up to 56 CSS px, so sharp at 4×).
const AVATAR_PX: u32 = 256;

/// The middle square of an image, at [`AVATAR_PX`] (smaller images keep their size).
fn avatar_picture(bytes: &[u8]) -> Result<Vec<u8>, UploadError> {
    let picture = decode(bytes)?;
    let side = picture.width().min(picture.height());
    let square = picture.crop_imm((picture.width() - side) / 2, (picture.height() - side) / 2, side, side);
    let size = side.min(AVATAR_PX);
    encode(square.resize_exact(size, size, image::imageops::FilterType::Triangle))
}

/// The image's size, and a thumbnail (PNG when it has transparency, JPEG otherwise).
fn thumbnail(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), UploadError> {
    let picture = decode(bytes)?;
    let (width, height) = (picture.width(), picture.height());
    let (w, h) = attachment::thumbnail_size(width, height);
    let small = picture.thumbnail(w, h);
    Ok((width, height, encode(small)?))
}

/// A thumbnail's bytes are ours: JPEG unless PNG.
fn picture_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "image/jpeg"
    }
}

/// `inline` or `attachment`, with the name both as plain ASCII and exactly (RFC 6266).
fn disposition(inline: bool, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | ';') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{exact}")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("storage failed: {0}")]
    Internal(String),
}

impl IntoResponse for UploadError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::File(FileError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::File(FileError::TypeNotAllowed) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::File(_) => StatusCode::BAD_REQUEST,
            Self::Engine(EngineError::Unauthorized) => StatusCode::UNAUTHORIZED,
            Self::Engine(e) if e.retry_after().is_some() => StatusCode::TOO_MANY_REQUESTS,
            Self::Engine(e) if e.is_user_error() => StatusCode::BAD_REQUEST,
            Self::Engine(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let error = match &self {
            Self::File(e) => e.to_string(),
            Self::Engine(e) => e.user_message(),
            Self::Internal(e) => {
                tracing::error!(error = %e, "file storage failed");
                "the file could not be stored, please try again".to_owned()
            }
        };
        let mut response = (status, axum::Json(serde_json::json!({ "error": error }))).into_response();
        if let Self::Engine(e) = &self
            && let Some(wait) = e.retry_after()
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        }
        response
    }
}

#[derive(Deserialize)]
pub struct UploadQuery {
    #[serde(default)]
    name: String,
}

/// Who asks: the browser's session, or an API token (a bot or a script uploading and reading
/// files; a page cannot set that header on its own).
pub(crate) async fn signed_in(engine: &Engine, headers: &HeaderMap) -> Result<Me, EngineError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Some(token) = bearer {
        return engine.authenticate_token(token.trim()).await;
    }
    let token = auth::token_from_headers(headers);
    Ok(engine.authenticate(token.as_ref()).await?.me)
}

/// `POST /api/files?name=<file name>` with the file's bytes as the body: stores it for the
/// signed-in user and answers with its attachment (id, type, size, image size).
pub async fn upload(
    State(state): State<AppState>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Attachment>, UploadError> {
    let me = signed_in(&state.engine, &headers).await?;
    Ok(axum::Json(store_upload(&state, &me, body, &query.name).await?))
}

/// Stores an upload of `me`'s (the browser's door and REST's): spent from the budget before
/// the bytes go to storage, so a refused upload costs nothing more.
pub(crate) async fn store_upload(
    state: &AppState,
    me: &Me,
    body: Bytes,
    name: &str,
) -> Result<Attachment, UploadError> {
    state
        .engine
        .spend(me, parley_engine::engine::budget::Write::Upload)
        .await?;
    let stored = state.files.put(body, name).await?;
    state.engine.record_upload(me, &stored).await?;
    metrics::counter!(parley_engine::metrics::UPLOADS).increment(1);
    Ok(stored)
}

#[derive(Deserialize)]
pub struct AvatarQuery {
    /// The uploaded image to cut the picture from; none removes the picture.
    file: Option<String>,
}

/// `POST /api/avatar?file=<id>`: makes a square picture of an image the signed-in user
/// uploaded and sets it on their profile; without `file`, removes it. Answers with the
/// profile as others see it.
pub async fn set_avatar(
    State(state): State<AppState>,
    Query(query): Query<AvatarQuery>,
    headers: HeaderMap,
) -> Result<axum::Json<parley::api::ProfileView>, UploadError> {
    let me = signed_in(&state.engine, &headers).await?;
    // Counted before any image is decoded.
    state
        .engine
        .spend(&me, parley_engine::engine::budget::Write::Profile)
        .await?;
    if let Some(file_id) = &query.file {
        // Only an image of one's own upload (or one sent where one reads) becomes a picture.
        let readable = attachment::valid_file_id(file_id)
            .then_some(())
            .and(state.engine.readable_file(&me, file_id).await?);
        match readable {
            Some(file) if attachment::is_image(&file.mime) => state.files.make_avatar(file_id).await?,
            Some(_) => return Err(UploadError::File(FileError::BadImage)),
            None => return Err(UploadError::File(FileError::NoSuchFile)),
        }
    }
    Ok(axum::Json(state.engine.set_avatar(&me, query.file).await?))
}

/// `GET /avatars/<id>`: a profile picture, to anyone signed in (it shows wherever its
/// owner's name does). Named by the image it was cut from: cached for good.
pub async fn avatar(State(state): State<AppState>, Path(file_id): Path<String>, headers: HeaderMap) -> Response {
    if signed_in(&state.engine, &headers).await.is_err() {
        return (StatusCode::UNAUTHORIZED, "please sign in").into_response();
    }
    let found = match state.engine.picture_in_use(&file_id).await {
        Ok(true) => state.files.get(&Files::avatar(&file_id)).await,
        Ok(false) => None,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    };
    let Some(bytes) = found else {
        return (StatusCode::NOT_FOUND, "no such picture").into_response();
    };
    let kind = picture_type(&bytes);
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=31536000, immutable"),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /files/<id>`: the file, to someone who may read a channel it was sent in (or who uploaded it).
pub async fn download(State(state): State<AppState>, Path(file_id): Path<String>, headers: HeaderMap) -> Response {
    serve(&state, &file_id, &headers, false).await
}

/// `GET /files/<id>/thumb`: an image's thumbnail, on the same terms.
pub async fn thumbnail_of(State(state): State<AppState>, Path(file_id): Path<String>, headers: HeaderMap) -> Response {
    serve(&state, &file_id, &headers, true).await
}

async fn serve(state: &AppState, file_id: &str, headers: &HeaderMap, thumb: bool) -> Response {
    let me = match signed_in(&state.engine, headers).await {
        Ok(me) => me,
        Err(_) => return (StatusCode::UNAUTHORIZED, "please sign in").into_response(),
    };
    serve_to(state, &me, file_id, thumb)
        .await
        .unwrap_or_else(|| (StatusCode::NOT_FOUND, "no such file").into_response())
}

/// A file (or its thumbnail) for `me`, if `me` may read a channel it was sent in (or it
/// is `me`'s own upload); `None`: to `me`, it does not exist.
pub(crate) async fn serve_to(state: &AppState, me: &Me, file_id: &str, thumb: bool) -> Option<Response> {
    if !attachment::valid_file_id(file_id) {
        return None;
    }
    let file = state.engine.readable_file(me, file_id).await.ok()??;
    let path = if thumb {
        Files::thumb(file_id)
    } else {
        Files::blob(file_id)
    };
    let bytes = state.files.get(&path).await?;
    let mime = if thumb {
        picture_type(&bytes).to_owned()
    } else {
        file.mime.clone()
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    let inline = attachment::is_image(&mime);
    // Anything that is not an image is a download, never a page of our origin.
    let content_type = if inline || mime.starts_with("text/") || mime == "application/json" {
        format!(
            "{mime}{}",
            if mime.starts_with("text/") {
                "; charset=utf-8"
            } else {
                ""
            }
        )
    } else {
        mime.clone()
    };
    let disposition = disposition(inline, &file.name);
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_DISPOSITION, disposition),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox".to_owned(),
        ),
        // The same id is always the same bytes.
        (header::CACHE_CONTROL, "private, max-age=31536000, immutable".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    Some(response)
}
