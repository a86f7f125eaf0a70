//! The site's static files: brotli or gzip copies chosen by `Accept-Encoding`, hashed names cached for good, everything else revalidated.
//!
//! cargo-leptos writes the site (`hash-files`: `parley.<hash>.wasm`; a release build with
//! `--precompress` adds `.br` and `.gz` beside each file). A hashed name never changes
//! content, so browsers keep it a year without asking; the page, the service worker and
//! every other answer are revalidated each time, so a new deploy is seen at once.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::path::Path;
use tower_http::services::ServeDir;

/// For a file whose name carries its content's hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For everything else: the browser may keep a copy but must ask before using it.
pub const REVALIDATE: &str = "no-cache";

/// The site's package folder (`/pkg`): precompressed copies when the build made them,
/// the file itself otherwise.
pub fn package_files(site_root: &str, pkg_dir: &str) -> ServeDir {
    ServeDir::new(Path::new(site_root).join(pkg_dir))
        .precompressed_br()
        .precompressed_gzip()
}

/// Whether a path's file name carries a content hash as cargo-leptos writes it: the name,
/// a dot, 22 characters of unpadded base64url (an MD5), a dot and the extension.
pub fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut parts = name.rsplit('.');
    let (Some(_extension), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !stem.is_empty()
        && hash.len() == 22
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// How long a browser may keep the answer to `path` without asking again.
pub fn cache_control(path: &str, pkg_prefix: &str) -> &'static str {
    if path.starts_with(pkg_prefix) && is_hashed(path) {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

/// Sets `Cache-Control` on every answer that has none, and `Vary: Accept-Encoding` on the
/// package's files (whose body depends on it).
pub async fn cache_headers(pkg_prefix: std::sync::Arc<str>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let success = response.status().is_success();
    let headers = response.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        let policy = if success {
            cache_control(&path, &pkg_prefix)
        } else {
            REVALIDATE
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    if path.starts_with(&*pkg_prefix) {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Whether an answer is an HTML page (its `Content-Type`).
pub fn is_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().to_ascii_lowercase().starts_with("text/html"))
}

/// The files of the site's package folder (none when it cannot be read).
fn package_entries(site_root: &str, pkg_dir: &str) -> impl Iterator<Item = std::fs::DirEntry> {
    std::fs::read_dir(Path::new(site_root).join(pkg_dir))
        .into_iter()
        .flatten()
        .flatten()
}

/// The module scripts a page of the site runs, named in its head so they are fetched at
/// once: the page's script (`<output>.<hash>.js`) and the script that fetches the WASM's
/// pieces (`__wasm_split.<hash>.js`, which the first imports), those the site has.
pub fn page_scripts(site_root: &str, pkg_dir: &str, output_name: &str) -> Vec<String> {
    let mut names: Vec<String> = package_entries(site_root, pkg_dir)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| is_page_script(name, output_name))
        .collect();
    names.sort();
    names
}

fn is_page_script(name: &str, output_name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".js") else {
        return false;
    };
    let own = stem.strip_prefix(output_name).and_then(|rest| rest.strip_prefix('.'));
    let loader = stem.strip_prefix("__wasm_split.");
    own.or(loader)
        .is_some_and(|hash| is_hashed(name) && !hash.contains('.'))
}

/// The files of the WASM a split point needs (`split_<name>.<hash>.wasm` and the chunks it
/// shares), as the site's build listed them in the package's `pieces.json` (see
/// `.ci/site-files.mjs`): a page drawn for someone signed in asks for the chat's beside the
/// main module instead of after it. None when the site has no such list (a build without
/// split pieces, or unhashed names); only hashed `.wasm` file names are taken from it.
pub fn split_pieces(site_root: &str, pkg_dir: &str, split: &str) -> Vec<String> {
    let path = Path::new(site_root).join(pkg_dir).join("pieces.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    let mut pieces: std::collections::HashMap<String, Vec<String>> = match serde_json::from_str(&text) {
        Ok(pieces) => pieces,
        Err(e) => {
            tracing::warn!(path = %path.display(), "the site's list of pieces cannot be read: {e}");
            return Vec::new();
        }
    };
    pieces
        .remove(split)
        .unwrap_or_default()
        .into_iter()
        .filter(|name| is_piece_file(name))
        .collect()
}

/// A plain hashed `.wasm` file name (nothing that would leave the package or an attribute).
fn is_piece_file(name: &str) -> bool {
    name.ends_with(".wasm")
        && is_hashed(name)
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A short name for what the site folder holds (its files' names, sizes and times): it
/// changes with every build, so a page can tell that the server now serves another one.
pub fn site_version(site_root: &str, pkg_dir: &str) -> String {
    let mut entries: Vec<(String, u64, u128)> = package_entries(site_root, pkg_dir)
        .filter_map(|entry| {
            let meta = entry.metadata().ok()?;
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            Some((entry.file_name().to_string_lossy().into_owned(), meta.len(), modified))
        })
        .collect();
    if entries.is_empty() {
        return String::new();
    }
    entries.sort();
    let mut hash = Sha256::new();
    for (name, len, modified) in entries {
        hash.update(format!("{name}:{len}:{modified}\n"));
    }
    hash.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_scripts_are_found_by_their_names_alone() {
        let page = |name| is_page_script(name, "parley");
        assert!(page("__wasm_split.HcrYs2SGIeWu09DUSf-2Hw.js"));
        assert!(page("parley.vSCHCtp-0nhP_F_CE2JDsA.js"));
        assert!(!page("__wasm_split.HcrYs2SGIeWu09DUSf-2Hw.js.br"));
        assert!(!page("parley.vSCHCtp-0nhP_F_CE2JDsA.js.gz"));
        assert!(!page("parley.js"));
        assert!(!page("other.vSCHCtp-0nhP_F_CE2JDsA.js"));
        assert!(!page("parley.vSCHCtp-0nhP_F_CE2JDsA.css"));
        assert!(!page("chunk_13.DymW0smz9_Ngg6CapUtLRg.wasm"));
        let dir = std::env::temp_dir().join(format!("parley-scripts-{}", uuid::Uuid::new_v4()));
        let pkg = dir.join("pkg");
        std::fs::create_dir_all(&pkg).ok();
        let site = dir.to_string_lossy().into_owned();
        assert!(page_scripts(&site, "pkg", "parley").is_empty());
        let loader = "__wasm_split.HcrYs2SGIeWu09DUSf-2Hw.js";
        let script = "parley.vSCHCtp-0nhP_F_CE2JDsA.js";
        for name in [
            script,
            loader,
            "parley.vSCHCtp-0nhP_F_CE2JDsA.wasm",
            "__wasm_split.HcrYs2SGIeWu09DUSf-2Hw.js.br",
        ] {
            std::fs::write(pkg.join(name), "").ok();
        }
        assert_eq!(
            page_scripts(&site, "pkg", "parley"),
            vec![loader.to_owned(), script.to_owned()]
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_split_points_files_are_read_from_the_sites_list() {
        assert!(is_piece_file("split_chat_page.HcrYs2SGIeWu09DUSf-2Hw.wasm"));
        assert!(is_piece_file("chunk_4.DymW0smz9_Ngg6CapUtLRg.wasm"));
        assert!(!is_piece_file("split_chat_page.wasm"));
        assert!(!is_piece_file("split_chat_page.HcrYs2SGIeWu09DUSf-2Hw.js"));
        assert!(!is_piece_file("../chunk_4.DymW0smz9_Ngg6CapUtLRg.wasm"));
        assert!(!is_piece_file("x\"y.DymW0smz9_Ngg6CapUtLRg.wasm"));
        let dir = std::env::temp_dir().join(format!("parley-pieces-{}", uuid::Uuid::new_v4()));
        let pkg = dir.join("pkg");
        std::fs::create_dir_all(&pkg).ok();
        let site = dir.to_string_lossy().into_owned();
        // No list: nothing to name.
        assert!(split_pieces(&site, "pkg", "chat_page").is_empty());
        std::fs::write(pkg.join("pieces.json"), "not json").ok();
        assert!(split_pieces(&site, "pkg", "chat_page").is_empty());
        let chat = "split_chat_page.HcrYs2SGIeWu09DUSf-2Hw.wasm";
        let chunk = "chunk_4.DymW0smz9_Ngg6CapUtLRg.wasm";
        let list = serde_json::json!({
            "chat_page": [chat, chunk, "../outside.DymW0smz9_Ngg6CapUtLRg.wasm"],
            "dialogs": ["split_dialogs.HcrYs2SGIeWu09DUSf-2Hw.wasm", chunk],
        });
        std::fs::write(pkg.join("pieces.json"), list.to_string()).ok();
        assert_eq!(
            split_pieces(&site, "pkg", "chat_page"),
            vec![chat.to_owned(), chunk.to_owned()]
        );
        assert!(split_pieces(&site, "pkg", "tokens").is_empty());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn html_is_told_by_its_content_type() {
        let with = |value: &'static str| {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static(value));
            is_html(&headers)
        };
        assert!(with("text/html; charset=utf-8"));
        assert!(with("Text/HTML"));
        assert!(!with("application/json"));
        assert!(!with("application/wasm"));
        assert!(!with("text/plain"));
        assert!(!is_html(&axum::http::HeaderMap::new()));
    }

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("/pkg/parley.DkQ9v3sVh4m1-Xw0_abcdE.wasm"));
        assert!(is_hashed("parley.DkQ9v3sVh4m1-Xw0_abcdE.css"));
        assert!(!is_hashed("/pkg/parley.wasm"));
        assert!(!is_hashed("/pkg/parley.short.js"));
        assert!(!is_hashed("/pkg/.DkQ9v3sVh4m1-Xw0_abcdE.js"));
        assert!(!is_hashed("/pkg/parley.DkQ9v3sVh4m1-Xw0_abc/E.js"));
        assert!(!is_hashed("/pkg/parley.DkQ9v3sVh4m1+Xw0_abcdE.js"));
    }

    #[test]
    fn only_hashed_package_files_are_kept_for_good() {
        assert_eq!(
            cache_control("/pkg/parley.DkQ9v3sVh4m1-Xw0_abcdE.wasm", "/pkg/"),
            IMMUTABLE
        );
        assert_eq!(cache_control("/pkg/parley.wasm", "/pkg/"), REVALIDATE);
        assert_eq!(cache_control("/sw.js", "/pkg/"), REVALIDATE);
        assert_eq!(cache_control("/", "/pkg/"), REVALIDATE);
        assert_eq!(
            cache_control("/other/parley.DkQ9v3sVh4m1-Xw0_abcdE.wasm", "/pkg/"),
            REVALIDATE
        );
    }

    #[test]
    fn the_version_follows_the_files() {
        let dir = std::env::temp_dir().join(format!("parley-site-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("pkg")).expect("make a site");
        let root = dir.to_string_lossy().into_owned();
        assert_eq!(site_version(&root, "pkg"), "", "no files, no version");
        std::fs::write(dir.join("pkg/parley.css"), "body {}").expect("write");
        let first = site_version(&root, "pkg");
        assert_eq!(first.len(), 16);
        assert_eq!(site_version(&root, "pkg"), first, "the same files, the same version");
        std::fs::write(dir.join("pkg/parley.css"), "body { color: red }").expect("write");
        assert_ne!(site_version(&root, "pkg"), first, "another build, another version");
        let _ = std::fs::remove_dir_all(dir);
    }
}
