//! "Export my data": `GET /api/export` answers with a zip archive of the signed-in user's profile, spaces, messages, reactions and uploaded files, written to a temporary file page by page and streamed with its length (so the browser can show progress).

use crate::http::AppState;
use crate::http::files::{UploadError, signed_in};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use parley_engine::engine::EngineError;
use parley_engine::engine::budget::Write as Budget;
use parley_engine::engine::export::{EXPORT_PAGE, archive_file_name};
use std::io::{Seek, Write};
use tokio::sync::Semaphore;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

/// Exports made at once on this node: each reads all of someone's data.
static EXPORTS: Semaphore = Semaphore::const_new(2);

const README: &str = "Your data from Parley, as it was when this archive was made.

account.json     your username, profile (display name, status, time zone) and spaces
messages.jsonl   every message you wrote that is not deleted, one JSON object a line,
                 with the channel's name, the time (ms since 1970, UTC) and its files
reactions.jsonl  every reaction you gave, with the message's id and channel
files.json       every file you uploaded; the files themselves are in files/
";

type Zip = ZipWriter<std::fs::File>;

/// Runs `step` on the archive off the async threads (it writes to a local temporary file).
async fn with_zip(
    zip: Zip,
    step: impl FnOnce(&mut Zip) -> Result<(), zip::result::ZipError> + Send + 'static,
) -> Result<Zip, UploadError> {
    tokio::task::spawn_blocking(move || {
        let mut zip = zip;
        step(&mut zip).map(|()| zip)
    })
    .await
    .map_err(|e| UploadError::Internal(e.to_string()))?
    .map_err(|e| UploadError::Internal(e.to_string()))
}

/// Starts an entry: text is compressed, files (often compressed already) are stored.
async fn start(zip: Zip, name: String, compress: bool) -> Result<Zip, UploadError> {
    let method = if compress {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let options = SimpleFileOptions::default().compression_method(method).large_file(true);
    with_zip(zip, move |zip| zip.start_file(name, options)).await
}

/// Appends to the entry last started.
async fn append(zip: Zip, bytes: Vec<u8>) -> Result<Zip, UploadError> {
    with_zip(zip, move |zip| zip.write_all(&bytes).map_err(Into::into)).await
}

/// One whole entry.
async fn add(zip: Zip, name: String, bytes: Vec<u8>, compress: bool) -> Result<Zip, UploadError> {
    append(start(zip, name, compress).await?, bytes).await
}

/// Appends every page `page(after)` reads, as JSON lines, to the entry last started; pages
/// follow each other by the log position `position` gives of their last row.
async fn append_pages<T: serde::Serialize, F: std::future::Future<Output = Result<Vec<T>, EngineError>>>(
    mut zip: Zip,
    mut page: impl FnMut(i64) -> F,
    position: impl Fn(&T) -> i64,
) -> Result<Zip, UploadError> {
    let mut after = 0;
    loop {
        let rows = page(after).await?;
        let mut bytes = Vec::new();
        for row in &rows {
            serde_json::to_writer(&mut bytes, row).map_err(|e| UploadError::Internal(e.to_string()))?;
            bytes.push(b'\n');
        }
        zip = append(zip, bytes).await?;
        match rows.last() {
            Some(last) if rows.len() as i64 == EXPORT_PAGE => after = position(last),
            _ => return Ok(zip),
        }
    }
}

/// `GET /api/export`: the archive, for the signed-in user (at most 3, then one per 10
/// minutes; two at once per node, 503 past that).
pub async fn export(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, UploadError> {
    let me = signed_in(&state.engine, &headers).await?;
    state.engine.spend(&me, Budget::Export).await?;
    let Ok(_turn) = EXPORTS.try_acquire() else {
        let busy = (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, HeaderValue::from_static("30"))],
            axum::Json(serde_json::json!({ "error": "other exports are being made; please try again in a minute" })),
        );
        return Ok(busy.into_response());
    };
    let engine = &state.engine;
    let file = tempfile::tempfile().map_err(|e| UploadError::Internal(e.to_string()))?;
    let mut zip = ZipWriter::new(file);
    zip = add(zip, "README.txt".into(), README.as_bytes().to_vec(), true).await?;
    let account = engine.export_account(&me).await?;
    let account = serde_json::to_vec_pretty(&account).map_err(|e| UploadError::Internal(e.to_string()))?;
    zip = add(zip, "account.json".into(), account, true).await?;
    let names = engine.export_channel_names(&me).await?;

    // Messages and reactions, a page at a time, each page appended as it is read: the
    // archive holds them all, memory one page.
    zip = start(zip, "messages.jsonl".into(), true).await?;
    zip = append_pages(zip, |after| engine.export_messages(&me, &names, after), |m| m.position).await?;
    zip = start(zip, "reactions.jsonl".into(), true).await?;
    zip = append_pages(zip, |after| engine.export_reactions(&me, &names, after), |r| r.position).await?;

    let files = engine.export_files(&me).await?;
    let index = serde_json::to_vec_pretty(&files).map_err(|e| UploadError::Internal(e.to_string()))?;
    zip = add(zip, "files.json".into(), index, true).await?;
    for file in &files {
        // A file gone from the store (or never stored) is listed but not included.
        if let Some(bytes) = state.files.original(&file.file_id).await {
            let name = archive_file_name(&file.file_id, &file.name);
            zip = add(zip, name, bytes.to_vec(), false).await?;
        }
    }

    let mut file = tokio::task::spawn_blocking(move || {
        let mut file = zip.finish()?;
        file.rewind()?;
        Ok::<_, zip::result::ZipError>(file)
    })
    .await
    .map_err(|e| UploadError::Internal(e.to_string()))?
    .map_err(|e| UploadError::Internal(e.to_string()))?;
    let length = file
        .seek(std::io::SeekFrom::End(0))
        .and_then(|length| file.rewind().map(|()| length))
        .map_err(|e| UploadError::Internal(e.to_string()))?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file)));
    let day = utc_day(parley_engine::log::store::now_ms());
    let name = format!("parley-{}-{day}.zip", me.username);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/zip")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
            (header::CONTENT_LENGTH, HeaderValue::from(length)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}

/// `YYYY-MM-DD` (UTC) of a time in ms since the epoch.
fn utc_day(ms: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or_default());
    humantime::format_rfc3339_seconds(at)
        .to_string()
        .chars()
        .take(10)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_are_named_by_their_utc_date() {
        assert_eq!(super::utc_day(0), "1970-01-01");
        assert_eq!(super::utc_day(1_764_547_200_000), "2025-12-01");
        assert_eq!(super::utc_day(951_782_400_000), "2000-02-29");
    }
}
