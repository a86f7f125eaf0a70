//! Attachments: files sent with a message, named by their content's hash; which types and sizes are accepted.

use crate::rules::RuleError;
use serde::{Deserialize, Serialize};

/// The largest file accepted.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// The most files one message carries.
pub const MAX_ATTACHMENTS: usize = 10;
/// Thumbnails fit in a square of this many pixels.
pub const THUMBNAIL_PX: u32 = 320;
/// The longest file name kept (longer ones are cut, keeping the extension).
pub const MAX_NAME_CHARS: usize = 120;

/// A file sent with a message, as the message carries it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attachment {
    /// The SHA-256 of its bytes, lowercase hex: where it is stored, and its address.
    /// Empty in a message still waiting for its upload.
    pub file_id: String,
    pub name: String,
    /// The type found in its bytes (never the one the browser claimed).
    pub mime: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl Attachment {
    /// Shown inline (with a thumbnail) rather than offered as a download.
    pub fn is_image(&self) -> bool {
        is_image(&self.mime)
    }

    /// Whether the upload is done (a message waiting in the outbox may still wait for it).
    pub fn uploaded(&self) -> bool {
        valid_file_id(&self.file_id)
    }
}

/// Why a file was refused. The message is meant for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is too large ({size} bytes; at most {max})", max = MAX_FILE_BYTES)]
    TooLarge { size: u64 },
    #[error("files of this type cannot be sent (images, PDF, text, JSON, CSV and ZIP can)")]
    TypeNotAllowed,
    #[error("this image could not be read")]
    BadImage,
    #[error("at most {MAX_ATTACHMENTS} files per message")]
    TooMany,
    #[error("no such file; upload it first")]
    NoSuchFile,
}

/// The types accepted. Images are shown inline; the rest are downloads.
const IMAGES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];
const DOCUMENTS: [&str; 2] = ["application/pdf", "application/zip"];

pub fn is_image(mime: &str) -> bool {
    IMAGES.contains(&mime)
}

/// The type a file is stored and served as, from what its bytes were found to be
/// (`sniffed`, from its magic numbers) and the name it came with. Text has no magic
/// number: valid UTF-8 is text, and its extension picks among the text types.
pub fn accepted_type(sniffed: Option<&str>, is_utf8: bool, name: &str, size: u64) -> Result<String, FileError> {
    if size == 0 {
        return Err(FileError::Empty);
    }
    if size > MAX_FILE_BYTES {
        return Err(FileError::TooLarge { size });
    }
    match sniffed {
        Some(mime) if IMAGES.contains(&mime) || DOCUMENTS.contains(&mime) => Ok(mime.to_owned()),
        Some(_) => Err(FileError::TypeNotAllowed),
        None if is_utf8 => {
            let lower = name.to_ascii_lowercase();
            let mime = if lower.ends_with(".json") {
                "application/json"
            } else if lower.ends_with(".csv") {
                "text/csv"
            } else if lower.ends_with(".md") {
                "text/markdown"
            } else {
                "text/plain"
            };
            Ok(mime.to_owned())
        }
        None => Err(FileError::TypeNotAllowed),
    }
}

/// A file name as sent, made safe to show and to offer as a download name: no folders,
/// no control characters or quotes, at most [`MAX_NAME_CHARS`] (the extension kept).
pub fn file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '*' | '?' | '|'))
        .collect();
    let clean = clean.trim().trim_start_matches('.').to_owned();
    if clean.is_empty() {
        return "file".to_owned();
    }
    let chars: Vec<char> = clean.chars().collect();
    if chars.len() <= MAX_NAME_CHARS {
        return clean;
    }
    let ext: String = match clean.rfind('.') {
        Some(dot) if clean.len() - dot <= 10 => clean[dot..].to_owned(),
        _ => String::new(),
    };
    let keep = MAX_NAME_CHARS - ext.chars().count();
    chars[..keep].iter().collect::<String>() + &ext
}

/// Whether `id` is a file id: 64 lowercase hex digits.
pub fn valid_file_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks the files a post names: at most [`MAX_ATTACHMENTS`], each a file id, none twice.
pub fn check_ids(ids: &[String]) -> Result<(), FileError> {
    if ids.len() > MAX_ATTACHMENTS {
        return Err(FileError::TooMany);
    }
    if ids.iter().any(|id| !valid_file_id(id)) {
        return Err(FileError::NoSuchFile);
    }
    Ok(())
}

/// The size of a thumbnail: the image scaled down (never up) to fit [`THUMBNAIL_PX`].
pub fn thumbnail_size(width: u32, height: u32) -> (u32, u32) {
    let longest = width.max(height).max(1);
    if longest <= THUMBNAIL_PX {
        return (width.max(1), height.max(1));
    }
    let scale = |side: u32| ((u64::from(side) * u64::from(THUMBNAIL_PX)) / u64::from(longest)).max(1) as u32;
    (scale(width), scale(height))
}

/// A size for people: `812 B`, `14.2 KB`, `3.1 MB`.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// A message must say something or carry a file.
pub fn check_not_empty(body_empty: bool, files: usize) -> Result<(), RuleError> {
    if body_empty && files == 0 {
        Err(RuleError::EmptyMessage)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn types_come_from_the_bytes_and_only_some_are_accepted() {
        assert_eq!(
            accepted_type(Some("image/png"), false, "x.exe", 10),
            Ok("image/png".into())
        );
        assert_eq!(
            accepted_type(Some("application/pdf"), false, "a.pdf", 10),
            Ok("application/pdf".into())
        );
        assert_eq!(
            accepted_type(Some("application/x-executable"), false, "x.png", 10),
            Err(FileError::TypeNotAllowed)
        );
        assert_eq!(accepted_type(None, true, "notes.txt", 10), Ok("text/plain".into()));
        assert_eq!(
            accepted_type(None, true, "data.JSON", 10),
            Ok("application/json".into())
        );
        // An HTML page is text: it is stored as plain text, never served as a page.
        assert_eq!(accepted_type(None, true, "page.html", 10), Ok("text/plain".into()));
        assert_eq!(
            accepted_type(None, false, "blob.bin", 10),
            Err(FileError::TypeNotAllowed)
        );
        assert_eq!(accepted_type(None, true, "a.txt", 0), Err(FileError::Empty));
        assert_eq!(
            accepted_type(Some("image/png"), false, "a.png", MAX_FILE_BYTES + 1),
            Err(FileError::TooLarge {
                size: MAX_FILE_BYTES + 1
            })
        );
    }

    #[test]
    fn file_names_lose_folders_and_dangerous_characters() {
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(file_name("C:\\Users\\ada\\report.pdf"), "report.pdf");
        assert_eq!(file_name("a\"b<c>\n.png"), "abc.png");
        assert_eq!(file_name("   "), "file");
        assert_eq!(file_name(".hidden"), "hidden");
        let long = format!("{}.jpeg", "x".repeat(300));
        let cut = file_name(&long);
        assert_eq!(cut.chars().count(), MAX_NAME_CHARS);
        assert!(cut.ends_with(".jpeg"));
    }

    #[test]
    fn file_ids_are_sha256_hex() {
        let id = "a".repeat(64);
        assert!(valid_file_id(&id));
        assert!(!valid_file_id(&"A".repeat(64)));
        assert!(!valid_file_id("../x"));
        assert_eq!(check_ids(&[id.clone(), "nope".into()]), Err(FileError::NoSuchFile));
        assert_eq!(check_ids(&vec![id; MAX_ATTACHMENTS + 1]), Err(FileError::TooMany));
    }

    #[test]
    fn thumbnails_fit_and_never_grow() {
        assert_eq!(thumbnail_size(100, 50), (100, 50));
        assert_eq!(thumbnail_size(1280, 640), (320, 160));
        assert_eq!(thumbnail_size(10, 4000), (1, 320));
    }

    #[test]
    fn a_message_says_something_or_carries_a_file() {
        assert!(check_not_empty(true, 0).is_err());
        assert!(check_not_empty(true, 1).is_ok());
        assert!(check_not_empty(false, 0).is_ok());
        assert_eq!(human_size(2048), "2.0 KB");
    }

    proptest! {
        #[test]
        fn any_name_becomes_a_safe_one(raw in ".{0,400}") {
            let name = file_name(&raw);
            prop_assert!(!name.is_empty());
            prop_assert!(name.chars().count() <= MAX_NAME_CHARS);
            prop_assert!(!name.contains(['/', '\\', '"', '<', '>']));
            prop_assert!(!name.chars().any(char::is_control));
            prop_assert!(!name.starts_with('.'));
        }
    }
}
