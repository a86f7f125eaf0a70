//! What "export my data" reads: one's profile, spaces, messages (with their channels' names and times), reactions and uploads, page by page from the read models.

use super::{Engine, EngineError};
use parley::ChannelId;
use parley::api::Me;
use serde::Serialize;
use std::collections::HashMap;

/// The most rows one page of an export reads.
pub const EXPORT_PAGE: i64 = 1_000;

/// Who the archive is of, as it was when made.
#[derive(Debug, Serialize)]
pub struct ExportedAccount {
    pub user_id: String,
    pub username: String,
    pub profile: parley::profile::Profile,
    /// The spaces one is a member of, with one's role.
    pub spaces: Vec<ExportedSpace>,
    pub exported_at_ms: i64,
}

#[derive(Debug, Serialize)]
pub struct ExportedSpace {
    pub name: String,
    pub role: String,
}

/// One message one wrote, with where and when.
#[derive(Debug, Serialize)]
pub struct ExportedMessage {
    pub position: i64,
    pub message_id: String,
    pub channel: String,
    pub sent_at_ms: i64,
    pub body: String,
    pub edited: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The files sent with it, as `files/` in the archive names them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// One reaction one gave.
#[derive(Debug, Serialize)]
pub struct ExportedReaction {
    pub position: i64,
    pub message_id: String,
    pub channel: String,
    pub emoji: String,
}

/// One file one uploaded.
#[derive(Debug, Serialize)]
pub struct ExportedFile {
    pub file_id: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub uploaded_at_ms: i64,
}

/// Channel ids to what the archive calls them: `#name in Space`, `#general`, or
/// `conversation with a, b`.
pub type ChannelNames = HashMap<ChannelId, String>;

type MessageRow = (i64, String, String, String, i64, i64, Option<String>, String);

impl Engine {
    /// `me`'s account: profile and spaces.
    pub async fn export_account(&self, me: &Me) -> Result<ExportedAccount, EngineError> {
        let pool = self.store.pool();
        let profile: Option<String> = sqlx::query_scalar("SELECT profile FROM accounts WHERE user_id = $1")
            .bind(me.user_id.to_string())
            .fetch_optional(pool)
            .await?;
        let profile = profile
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default();
        let spaces: Vec<(String, String)> = sqlx::query_as(
            "SELECT s.name, m.role FROM space_members m JOIN spaces s ON s.space_id = m.space_id
             WHERE m.user_id = $1 AND s.deleted = 0 ORDER BY s.name",
        )
        .bind(me.user_id.to_string())
        .fetch_all(pool)
        .await?;
        Ok(ExportedAccount {
            user_id: me.user_id.to_string(),
            username: me.username.clone(),
            profile,
            spaces: spaces
                .into_iter()
                .map(|(name, role)| ExportedSpace { name, role })
                .collect(),
            exported_at_ms: crate::log::store::now_ms(),
        })
    }

    /// The names of every channel `me` wrote or reacted in.
    pub async fn export_channel_names(&self, me: &Me) -> Result<ChannelNames, EngineError> {
        let pool = self.store.pool();
        let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT c.channel_id, c.name, s.name FROM channels c LEFT JOIN spaces s ON s.space_id = c.space_id
             WHERE c.channel_id IN (
                SELECT channel_id FROM messages WHERE author_id = $1
                UNION SELECT m.channel_id FROM reactions r JOIN messages m ON m.message_id = r.message_id
                      WHERE r.user_id = $2)",
        )
        .bind(me.user_id.to_string())
        .bind(me.user_id.to_string())
        .fetch_all(pool)
        .await?;
        let mut names: ChannelNames = rows
            .into_iter()
            .filter_map(|(id, name, space)| {
                let label = match space {
                    Some(space) => format!("#{name} in {space}"),
                    None => format!("#{name}"),
                };
                Some((id.parse().ok()?, label))
            })
            .collect();
        for direct in crate::read_model::channels::directs_of(pool, me.user_id).await? {
            names.insert(
                direct.channel_id,
                format!("conversation with {}", direct.with.join(", ")),
            );
        }
        Ok(names)
    }

    /// A page of the messages `me` wrote (not deleted), after log position `after`.
    pub async fn export_messages(
        &self,
        me: &Me,
        names: &ChannelNames,
        after: i64,
    ) -> Result<Vec<ExportedMessage>, EngineError> {
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT position, message_id, channel_id, body, sent_at_ms, edited, reply_to, attachments
             FROM messages WHERE author_id = $1 AND deleted = 0 AND kind = '' AND position > $2 ORDER BY position LIMIT $3",
        )
        .bind(me.user_id.to_string())
        .bind(after)
        .bind(EXPORT_PAGE)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(position, message_id, channel, body, sent_at_ms, edited, reply_to, attachments)| {
                    let files: Vec<parley::attachment::Attachment> =
                        serde_json::from_str(&attachments).unwrap_or_default();
                    ExportedMessage {
                        position,
                        message_id,
                        channel: channel_name(names, &channel),
                        sent_at_ms,
                        body,
                        edited: edited != 0,
                        reply_to,
                        files: files.iter().map(archive_file_name_of).collect(),
                    }
                },
            )
            .collect())
    }

    /// A page of the reactions `me` gave, after log position `after`.
    pub async fn export_reactions(
        &self,
        me: &Me,
        names: &ChannelNames,
        after: i64,
    ) -> Result<Vec<ExportedReaction>, EngineError> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT r.position, r.message_id, m.channel_id, r.emoji FROM reactions r
             JOIN messages m ON m.message_id = r.message_id
             WHERE r.user_id = $1 AND r.position > $2 ORDER BY r.position LIMIT $3",
        )
        .bind(me.user_id.to_string())
        .bind(after)
        .bind(EXPORT_PAGE)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(position, message_id, channel, emoji)| ExportedReaction {
                position,
                message_id,
                channel: channel_name(names, &channel),
                emoji,
            })
            .collect())
    }

    /// Every file `me` uploaded.
    pub async fn export_files(&self, me: &Me) -> Result<Vec<ExportedFile>, EngineError> {
        let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT file_id, name, mime, size, uploaded_at_ms FROM uploads WHERE user_id = $1 ORDER BY uploaded_at_ms",
        )
        .bind(me.user_id.to_string())
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(file_id, name, mime, size, uploaded_at_ms)| ExportedFile {
                file_id,
                name,
                mime,
                size,
                uploaded_at_ms,
            })
            .collect())
    }
}

fn channel_name(names: &ChannelNames, id: &str) -> String {
    id.parse::<ChannelId>()
        .ok()
        .and_then(|id| names.get(&id).cloned())
        .unwrap_or_else(|| format!("channel {id}"))
}

/// Where a file sits in the archive: `files/<id prefix>-<its name, made safe>`.
pub fn archive_file_name(file_id: &str, name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let safe = safe.trim_start_matches('.');
    let prefix: String = file_id.chars().take(12).collect();
    format!("files/{prefix}-{safe}")
}

fn archive_file_name_of(file: &parley::attachment::Attachment) -> String {
    archive_file_name(&file.file_id, &file.name)
}

#[cfg(test)]
mod tests {
    use super::archive_file_name;

    #[test]
    fn archive_names_stay_inside_their_folder() {
        assert_eq!(
            archive_file_name("abcdef0123456789", "plan.pdf"),
            "files/abcdef012345-plan.pdf"
        );
        for evil in ["../../etc/passwd", "/abs", "..\\win", "a/b/c"] {
            let name = archive_file_name("ff", evil);
            let parts: Vec<&str> = name.split(['/', '\\']).collect();
            assert_eq!(parts.len(), 2, "{name}");
            assert!(parts[0] == "files" && parts[1].starts_with("ff-"), "{name}");
        }
    }
}
