//! `GET /api/emoji`: the emoji catalogue the picker and `:shortcode:` completion use (`parley::emoji::Catalogue`), built once, served gzipped when the browser takes it and revalidated by its ETag, so the WASM module carries none of it.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::sync::OnceLock;

struct Served {
    json: Vec<u8>,
    gzip: Vec<u8>,
    etag: HeaderValue,
}

fn served() -> &'static Served {
    static SERVED: OnceLock<Served> = OnceLock::new();
    SERVED.get_or_init(|| {
        let json = serde_json::to_vec(&parley::emoji::Catalogue::build()).unwrap_or_default();
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let gzip = encoder
            .write_all(&json)
            .and_then(|()| encoder.finish())
            .unwrap_or_default();
        let hash: String = Sha256::digest(&json)[..8].iter().map(|b| format!("{b:02x}")).collect();
        let etag = HeaderValue::from_str(&format!("\"{hash}\"")).unwrap_or(HeaderValue::from_static("\"emoji\""));
        Served { json, gzip, etag }
    })
}

/// Whether the request's `Accept-Encoding` takes gzip (a `q=0` refuses it).
fn takes_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut pieces = part.split(';').map(str::trim);
            pieces.next().is_some_and(|coding| coding.eq_ignore_ascii_case("gzip"))
                && pieces.all(|p| p.replace(' ', "") != "q=0")
        })
}

pub async fn catalogue(headers: HeaderMap) -> Response {
    let served = served();
    let common = [
        (header::ETAG, served.etag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    if headers.get(header::IF_NONE_MATCH) == Some(&served.etag) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let json = HeaderValue::from_static("application/json");
    if takes_gzip(&headers) && !served.gzip.is_empty() {
        (
            common,
            [
                (header::CONTENT_TYPE, json),
                (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            ],
            served.gzip.clone(),
        )
            .into_response()
    } else {
        (common, [(header::CONTENT_TYPE, json)], served.json.clone()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_sent_only_to_who_takes_it() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            takes_gzip(&headers)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(!with("br"));
        assert!(!with("gzip;q=0"));
        assert!(!takes_gzip(&HeaderMap::new()));
    }
}
