//! The HTTP doors: the router, its middleware (origin checks, client address, security headers) and the state every handler reaches.
//!
//! Each door is its own module: [`ws`] (the socket), [`rest`] (`/api/v1`), [`files`]
//! (uploads and downloads), [`ops`] (health, readiness, metrics); the server functions
//! come from the app (`parley_app::api`) and reach the engine, provided as their context.

pub mod assets;
pub mod emoji;
pub mod export;
pub mod files;
pub mod ops;
pub mod rest;
pub mod ws;

use crate::config::Config;
use anyhow::Context;
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use parley_app::{App, ChatPieces, PageScripts, SiteVersion, shell};
use parley_engine::auth;
use parley_engine::engine::Engine;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::util::option_layer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub engine: Arc<Engine>,
    /// Origins besides our own whose pages may call us (client-only builds hosted elsewhere).
    pub allowed_origins: Arc<Vec<String>>,
    /// Where uploaded files are kept.
    pub files: files::Files,
    /// What `GET /metrics` must carry; none: metrics are off.
    pub metrics_token: Option<Arc<str>>,
    /// Which build of the site this server serves (pages compare it with their own).
    pub site_version: SiteVersion,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Lets the configured origins (client-only builds hosted elsewhere) call the server.
pub fn cors(origins: &[String]) -> anyhow::Result<Option<CorsLayer>> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .map(|o| HeaderValue::from_str(o).with_context(|| format!("Bad CORS origin {o:?}")))
        .collect::<anyhow::Result<_>>()?;
    if origins.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::ACCEPT])
            .allow_credentials(true),
    ))
}

/// Refuses server-function calls from pages of other sites (CSRF): the session cookie
/// must only act for pages of our own origin, or of the configured ones.
async fn same_origin_only(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    if request.method() != Method::GET
        && request.uri().path().starts_with("/api/")
        && !auth::origin_allowed(request.headers(), &state.allowed_origins)
    {
        let body = serde_json::json!({ "Forbidden": "requests from other sites are refused" });
        return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    }
    next.run(request).await
}

/// Records the client's address for the engine's limits (see [`auth::CLIENT_IP_HEADER`]):
/// the peer's, or behind a trusted proxy the last `X-Forwarded-For` entry. Whatever the
/// client sent under that header is dropped first.
async fn client_address(
    State(trust_forwarded_for): State<bool>,
    mut request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .copied();
    let headers = request.headers_mut();
    let forwarded = trust_forwarded_for
        .then(|| headers.get_all("x-forwarded-for").iter().next_back().cloned())
        .flatten()
        .and_then(|v| {
            v.to_str()
                .ok()
                .and_then(|v| v.rsplit(',').next())
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse::<std::net::IpAddr>().ok());
    headers.remove(auth::CLIENT_IP_HEADER);
    if let Some(ip) = forwarded.or(peer.map(|p| p.0.ip()))
        && let Ok(value) = HeaderValue::from_str(&ip.to_string())
    {
        headers.insert(auth::CLIENT_IP_HEADER, value);
    }
    next.run(request).await
}

/// Server functions answer arguments they cannot read with 500 and an `Invalid` error;
/// it is the caller's fault, so the status says 400 (the body, the error, stays).
async fn bad_arguments_are_400(request: axum::extract::Request, next: middleware::Next) -> axum::response::Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR || !response.headers().contains_key("serverfnerror") {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server could not complete this request",
        )
            .into_response();
    };
    if bytes.starts_with(br#"{"Invalid""#) {
        parts.status = StatusCode::BAD_REQUEST;
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

pub fn router(
    leptos_options: LeptosOptions,
    engine: Arc<Engine>,
    cors: Option<CorsLayer>,
    config: &Config,
    files: files::Files,
) -> Router {
    let routes = generate_route_list(App);
    let for_server_functions = engine.clone();
    let allowed_origins = config
        .cors_origins
        .iter()
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    let site_version = SiteVersion(Arc::from(assets::site_version(
        &leptos_options.site_root,
        &leptos_options.site_pkg_dir,
    )));
    let page_scripts = PageScripts(
        assets::page_scripts(
            &leptos_options.site_root,
            &leptos_options.site_pkg_dir,
            &leptos_options.output_name,
        )
        .into_iter()
        .map(Arc::from)
        .collect(),
    );
    let chat_pieces = ChatPieces(
        assets::split_pieces(
            &leptos_options.site_root,
            &leptos_options.site_pkg_dir,
            parley_app::CHAT_SPLIT,
        )
        .into_iter()
        .map(Arc::from)
        .collect(),
    );
    let state = AppState {
        site_version: site_version.clone(),
        leptos_options: leptos_options.clone(),
        engine,
        allowed_origins: Arc::new(allowed_origins),
        files,
        metrics_token: config.metrics_token.as_deref().filter(|t| !t.is_empty()).map(Arc::from),
    };
    // Room for the largest file and nothing more; the rest of the API keeps axum's 2 MB.
    let upload_limit = axum::extract::DefaultBodyLimit::max(parley::attachment::MAX_FILE_BYTES as usize + 1);
    let pkg_path = format!("/{}", leptos_options.site_pkg_dir.trim_matches('/'));
    let pkg_prefix: Arc<str> = Arc::from(format!("{pkg_path}/"));
    let page_context = {
        let engine = for_server_functions.clone();
        let version = site_version.clone();
        move || {
            provide_context(engine.clone());
            provide_context(version.clone());
            provide_context(page_scripts.clone());
            provide_context(chat_pieces.clone());
        }
    };
    Router::new()
        .route("/ws", get(ws::handler))
        .route("/api/files", axum::routing::post(files::upload).layer(upload_limit))
        .route("/files/{file_id}", get(files::download))
        .route("/files/{file_id}/thumb", get(files::thumbnail_of))
        .route("/api/avatar", axum::routing::post(files::set_avatar))
        .route("/api/export", get(export::export))
        .route("/api/emoji", get(emoji::catalogue))
        .route("/avatars/{file_id}", get(files::avatar))
        .merge(rest::routes())
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .nest_service(
            &pkg_path,
            assets::package_files(&leptos_options.site_root, &leptos_options.site_pkg_dir),
        )
        .leptos_routes_with_context(&state, routes, page_context, {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(bad_arguments_are_400))
        .layer(middleware::from_fn_with_state(state.clone(), same_origin_only))
        .layer(middleware::from_fn_with_state(
            config.trust_forwarded_for,
            client_address,
        ))
        .layer(option_layer(cors))
        // Headers on every answer (unless a handler set its own, as downloads do): no
        // sniffing, no framing by other sites, no plugins, no `<base>` or form posts
        // elsewhere, no referrer to other sites. The app's pages set a stricter policy of
        // their own, with a script nonce (`parley_app::shell`).
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(
                        "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
                    ),
                )),
        )
        .layer(middleware::from_fn(move |request, next| {
            assets::cache_headers(pkg_prefix.clone(), request, next)
        }))
        // The app's pages, rendered per request, gzipped for a browser that takes it: the
        // page is the first thing a visit waits for (10 KB, about 3.5 gzipped). Only HTML:
        // the package's files come precompressed, and an answer that holds a secret beside
        // what its client sent (a token, a reset link) is not compressed (BREACH). A page
        // holds no secret but its nonce, which is new on every answer.
        .layer(CompressionLayer::new().compress_when(
            |_: StatusCode, _: axum::http::Version, headers: &axum::http::HeaderMap, _: &axum::http::Extensions| {
                assets::is_html(headers)
            },
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
