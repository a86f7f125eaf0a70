//! Files in the engine: who uploaded what, which files a post may carry, who may download one.

use super::{Engine, EngineError};
use parley::ChannelId;
use parley::api::Me;
use parley::attachment::{self, Attachment};

/// A row of `uploads`: name, type, size, width, height.
type UploadRow = (String, String, i64, Option<i64>, Option<i64>);

/// What a download needs to know of a file.
pub struct FileInfo {
    pub mime: String,
    pub name: String,
}

impl Engine {
    /// Remembers that `me` uploaded this file (so that only they may send it, until they do).
    pub async fn record_upload(&self, me: &Me, file: &Attachment) -> Result<(), EngineError> {
        sqlx::query(
            "INSERT INTO uploads (file_id, user_id, name, mime, size, width, height, uploaded_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (file_id, user_id) DO UPDATE SET name = excluded.name, uploaded_at_ms = excluded.uploaded_at_ms",
        )
        .bind(&file.file_id)
        .bind(me.user_id.to_string())
        .bind(&file.name)
        .bind(&file.mime)
        .bind(file.size as i64)
        .bind(file.width.map(i64::from))
        .bind(file.height.map(i64::from))
        .bind(super::now_ms())
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// The files a post names, as `me` uploaded them: the metadata is the server's, never
    /// the sender's word. A file `me` did not upload does not exist.
    pub(super) async fn uploaded(&self, me: &Me, ids: &[String]) -> Result<Vec<Attachment>, EngineError> {
        attachment::check_ids(ids).map_err(|e| EngineError::BadRequest(e.to_string()))?;
        let mut files = Vec::with_capacity(ids.len());
        for id in ids {
            if files.iter().any(|f: &Attachment| f.file_id == *id) {
                continue;
            }
            let row: Option<UploadRow> = sqlx::query_as(
                "SELECT name, mime, size, width, height FROM uploads WHERE file_id = $1 AND user_id = $2",
            )
            .bind(id)
            .bind(me.user_id.to_string())
            .fetch_optional(self.store.pool())
            .await?;
            let Some((name, mime, size, width, height)) = row else {
                return Err(EngineError::BadRequest(attachment::FileError::NoSuchFile.to_string()));
            };
            files.push(Attachment {
                file_id: id.clone(),
                name,
                mime,
                size: size.max(0) as u64,
                width: width.and_then(|w| u32::try_from(w).ok()),
                height: height.and_then(|h| u32::try_from(h).ok()),
            });
        }
        Ok(files)
    }

    /// The file, if `me` may download it: it was sent in a channel they can read, or they
    /// uploaded it themselves.
    pub async fn readable_file(&self, me: &Me, file_id: &str) -> Result<Option<FileInfo>, EngineError> {
        let sent: Vec<(String, String)> =
            sqlx::query_as("SELECT DISTINCT channel_id, name FROM attachments WHERE file_id = $1 LIMIT 50")
                .bind(file_id)
                .fetch_all(self.store.pool())
                .await?;
        let mime: Option<String> = sqlx::query_scalar("SELECT mime FROM uploads WHERE file_id = $1 LIMIT 1")
            .bind(file_id)
            .fetch_optional(self.store.pool())
            .await?;
        let Some(mime) = mime else { return Ok(None) };
        for (channel, name) in sent {
            let Ok(channel) = channel.parse::<ChannelId>() else {
                continue;
            };
            if self.authorize_channel(me, channel).await.is_ok() {
                return Ok(Some(FileInfo { mime, name }));
            }
        }
        let own: Option<String> = sqlx::query_scalar("SELECT name FROM uploads WHERE file_id = $1 AND user_id = $2")
            .bind(file_id)
            .bind(me.user_id.to_string())
            .fetch_optional(self.store.pool())
            .await?;
        Ok(own.map(|name| FileInfo { mime, name }))
    }
}
