//! The site's files as a browser gets them: precompressed by `Accept-Encoding`, hashed names kept for good, the page gzipped and, like the rest, revalidated; sockets greet with the build.

use crate::helpers::{database_in, spawn_with};
use parley::protocol::ServerFrame;
use parley_server::config::Config;

const WASM: &str = "parley.DkQ9v3sVh4m1-Xw0_abcdE.wasm";

/// A server whose site folder holds one hashed file with its brotli and gzip copies, and
/// one file whose name has no hash.
async fn spawn_site() -> (crate::helpers::TestApp, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg").join(WASM), b"\0asm the module itself").unwrap();
    std::fs::write(site.join("pkg").join(format!("{WASM}.br")), b"brotli copy").unwrap();
    std::fs::write(site.join("pkg").join(format!("{WASM}.gz")), b"gzip copy").unwrap();
    std::fs::write(site.join("pkg").join("plain.js"), b"export {}").unwrap();
    let mut config = Config::for_tests(database_in(&dir).await);
    config.site_root = Some(site.to_string_lossy().into_owned());
    config.files_dir = Some(dir.path().join("files"));
    (spawn_with(dir, config).await, site)
}

async fn get(app: &crate::helpers::TestApp, path: &str, encodings: &str) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("http://{}{path}", app.addr));
    if !encodings.is_empty() {
        request = request.header("accept-encoding", encodings);
    }
    request.send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn package_files_come_precompressed_and_hashed_ones_are_kept_for_good() {
    let (app, _site) = spawn_site().await;
    let path = format!("/pkg/{WASM}");
    for (accepts, encoding, body) in [
        ("br, gzip", "br", &b"brotli copy"[..]),
        ("gzip, deflate", "gzip", b"gzip copy"),
        ("", "", b"\0asm the module itself"),
        ("zstd", "", b"\0asm the module itself"),
    ] {
        let response = get(&app, &path, accepts).await;
        assert_eq!(response.status(), 200, "{accepts:?}");
        assert_eq!(header(&response, "content-encoding"), encoding, "{accepts:?}");
        assert_eq!(header(&response, "content-type"), "application/wasm", "{accepts:?}");
        assert_eq!(
            header(&response, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert!(
            header(&response, "vary")
                .to_ascii_lowercase()
                .contains("accept-encoding"),
            "a cache must keep one copy per encoding: {:?}",
            response.headers()
        );
        assert_eq!(&response.bytes().await.unwrap()[..], body, "{accepts:?}");
    }
    // A name without a hash may change under the same name: asked again each time.
    let plain = get(&app, "/pkg/plain.js", "br, gzip").await;
    assert_eq!(plain.status(), 200);
    assert_eq!(header(&plain, "content-encoding"), "");
    assert_eq!(header(&plain, "cache-control"), "no-cache");
    // What is not there is not cached either.
    let missing = get(&app, "/pkg/parley.AAAAAAAAAAAAAAAAAAAAAA.wasm", "br").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(header(&missing, "cache-control"), "no-cache");
}

#[tokio::test]
async fn the_page_is_never_kept_stale_and_names_its_build() {
    let (app, _site) = spawn_site().await;
    let page = get(&app, "/", "").await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "cache-control"), "no-cache");
    let html = page.text().await.unwrap();
    let version = html
        .split(r#"name="parley-version" content=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no build named in the page: {html}"));
    assert_eq!(version.len(), 16, "{version:?}");

    // Its socket greets with the same build.
    let request = app.socket_request(&[("cookie", &app.user.cookie())]);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    use futures::StreamExt;
    let first = socket.next().await.unwrap().unwrap();
    let frame = ServerFrame::parse(first.to_text().unwrap()).unwrap();
    assert_eq!(
        frame,
        ServerFrame::Hello {
            version: version.to_owned()
        }
    );
}

#[tokio::test]
async fn the_page_comes_gzipped_to_who_takes_it_and_json_does_not() {
    let (app, _site) = spawn_site().await;
    let plain = get(&app, "/", "").await;
    assert_eq!(plain.status(), 200);
    assert_eq!(header(&plain, "content-encoding"), "");
    let html = plain.text().await.unwrap();
    assert!(html.contains(r#"data-testid="auth-form""#), "{html}");

    let zipped = get(&app, "/", "br;q=0.5, gzip").await;
    assert_eq!(zipped.status(), 200);
    assert_eq!(header(&zipped, "content-encoding"), "gzip");
    assert!(
        header(&zipped, "vary").to_ascii_lowercase().contains("accept-encoding"),
        "{:?}",
        zipped.headers()
    );
    assert_eq!(header(&zipped, "cache-control"), "no-cache");
    let bytes = zipped.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip stream");
    let mut unzipped = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut unzipped).unwrap();
    assert!(unzipped.contains(r#"data-testid="auth-form""#), "{unzipped}");
    assert!(
        bytes.len() * 2 < unzipped.len(),
        "{} bytes for {}",
        bytes.len(),
        unzipped.len()
    );

    // JSON (here the readiness probe's) goes as it is.
    let json = get(&app, "/readyz", "gzip").await;
    assert_eq!(header(&json, "content-encoding"), "");
}

#[tokio::test]
async fn the_emoji_catalogue_is_served_gzipped_to_who_takes_it_and_revalidated() {
    let app = crate::helpers::spawn_app().await;
    let url = format!("http://{}/api/emoji", app.addr);
    // reqwest here decodes nothing: the bytes are what went over the wire.
    let http = reqwest::Client::new();
    let plain = http.get(&url).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers().get("content-encoding"), None);
    let etag = plain.headers().get("etag").cloned().expect("an ETag");
    let catalogue: parley::emoji::Catalogue = plain.json().await.unwrap();
    assert_eq!(catalogue.groups.len(), 9);
    assert!(catalogue.entries().any(|e| e.emoji == "🚀"));

    let zipped = http.get(&url).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(
        zipped.headers().get("content-encoding").map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
    assert_eq!(
        zipped.headers().get("vary").map(|v| v.to_str().unwrap()),
        Some("accept-encoding")
    );
    let bytes = zipped.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip stream");
    let mut json = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut json).unwrap();
    assert_eq!(
        serde_json::from_str::<parley::emoji::Catalogue>(&json).unwrap(),
        catalogue
    );

    let again = http.get(&url).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
}
