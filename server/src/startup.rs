//! Builds the whole server from a config: database, event store, projector, dispatcher,
//! engine and the axum router. `main` and the integration tests use the same `build`.

use crate::auth;
use crate::bus::Bus;
use crate::config::Config;
use crate::db;
use crate::dispatcher::Hub;
use crate::engine::Engine;
use crate::projector::{self, Projector};
use crate::store::EventStore;
use crate::ws;
use anyhow::Context;
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use parley::Position;
use parley_app::api::ssr::Backend;
use parley_app::{App, shell};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::util::option_layer;
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
    pub files: crate::files::Files,
    /// What `GET /metrics` must carry; none: metrics are off.
    pub metrics_token: Option<Arc<str>>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The running parts behind the doors: the engine and the background tasks.
pub struct Services {
    pub engine: Arc<Engine>,
    pub projector: Projector,
    pub db: db::Database,
    tasks: Vec<JoinHandle<()>>,
    /// What this node says to the others of its cluster when it stops (PostgreSQL).
    goodbye: Option<crate::cluster::Goodbye>,
}

impl Services {
    /// Opens the store, brings the read models up to the head of the log, and starts
    /// the writer and the projector.
    pub async fn start(database_url: &str) -> anyhow::Result<Self> {
        let db = db::open(database_url).await?;
        let head: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM events")
            .fetch_one(&db.pool)
            .await
            .context("Failed to read the head of the log")?;
        let bus = Bus::new(Position(head.unwrap_or(0) as u64));
        let writer = db.writer_connection().await?;
        let (store, writer_task) = EventStore::start(&db, writer, bus);
        let mut tasks = vec![writer_task];
        if db.backend == db::Backend::Postgres {
            tasks.push(tokio::spawn(crate::cluster::tail(store.clone(), db.clone())));
        }
        let checkpoint = projector::checkpoint(&db.pool)
            .await
            .context("Failed to read the projection checkpoint")?;
        let hub = Hub::new(checkpoint);
        if db.backend == db::Backend::Postgres {
            tasks.extend(crate::cluster::relay_typing(hub.clone(), db.clone()));
        }
        let projector_conn = db.own_connection().await?;
        let projector = Projector::new(store.clone(), hub.clone(), &db, projector_conn);
        projector
            .start()
            .await
            .context("Failed to bring the read models up to date")?;
        tasks.push(tokio::spawn(projector.clone().run()));
        // From here on, what the engine decides from follows the log.
        let engine = Arc::new(Engine::new(store, hub));
        // Admins made by `create-admin` before that: those the read models hold (they are
        // at the head, see `start` above); any later `AdminGranted` is followed.
        let granted: Vec<String> = sqlx::query_scalar("SELECT user_id FROM accounts WHERE admin = 1")
            .fetch_all(&db.pool)
            .await
            .context("Failed to read the instance admins")?;
        engine
            .log_state()
            .grant_admins(granted.iter().filter_map(|id| id.parse().ok()));
        let mut goodbye = None;
        if db.backend == db::Backend::Postgres {
            let (relays, bye) = crate::cluster::relay_presence(engine.presence().clone(), db.clone());
            tasks.extend(relays);
            goodbye = Some(bye);
        }
        engine.set_projector(projector.clone());
        engine.ensure_general().await.context("Failed to create #general")?;
        Ok(Self {
            engine,
            projector,
            tasks,
            db,
            goodbye,
        })
    }

    /// Closes the sockets, tells the other nodes this one is going (their users' presence
    /// then fades after the grace period, not after a silence), and stops the tasks.
    pub async fn stop(&self) {
        self.engine.close();
        if let Some(goodbye) = &self.goodbye {
            goodbye.say().await;
        }
        for task in &self.tasks {
            task.abort();
        }
    }
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    services: Services,
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        crate::metrics::install();
        let services = Services::start(&config.database_url).await?;
        let listener = TcpListener::bind(config.addr())
            .await
            .with_context(|| format!("Failed to listen on {}", config.addr()))?;
        let leptos_options = leptos_options(listener.local_addr()?)?;
        let cors = cors(&config.cors_origins)?;
        let files = match &config.s3_bucket {
            Some(bucket) => {
                crate::files::Files::s3(bucket, &config.s3_settings).context("Failed to open the S3 bucket")?
            }
            None => crate::files::Files::local(&config.files_dir()).context("Failed to open the files folder")?,
        };
        let router = router(leptos_options, services.engine.clone(), cors, config, files);
        let mut services = services;
        let unknown = services
            .engine
            .set_admins(config.admins.iter().cloned())
            .await
            .context("Failed to read the configured admins")?;
        for name in unknown {
            tracing::warn!(
                %name,
                "PARLEY_ADMINS names no existing account: ignored (make admins with `parley-server create-admin`)"
            );
        }
        services.engine.limit_sockets(config.max_sockets_per_user);
        services.engine.limit_logins_per_address(config.limit_per_address);
        services.engine.share_lobby_presence(config.lobby_presence);
        services.engine.limit_writes(config.write_limits);
        services
            .engine
            .limit_posts(config.post_rate, config.post_rate.saturating_mul(5));
        let policy = Arc::new(
            parley::outbound::OutboundPolicy::parse(&config.webhook_allow)
                .map_err(|e| anyhow::anyhow!("PARLEY_WEBHOOK_ALLOW: {e}"))?,
        );
        services.engine.set_outbound_policy(policy.clone());
        let settings = crate::webhooks::Settings {
            base_backoff_ms: config.webhook_backoff_ms.max(1),
            max_attempts: config.webhook_max_attempts.max(1),
            timeout: std::time::Duration::from_secs(10),
            policy,
        };
        services
            .tasks
            .push(crate::webhooks::spawn(services.engine.clone(), &services.db, settings));
        services.tasks.push(purge_sessions(services.engine.clone()));
        Ok(Self {
            listener,
            router,
            services,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn engine(&self) -> Arc<Engine> {
        self.services.engine.clone()
    }

    /// Serves until `shutdown` resolves, then closes the sockets and stops the background tasks.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self {
            listener,
            router,
            services,
        } = self;
        let engine = services.engine.clone();
        // Chat frames are small and latency is the product: no Nagle delay on any socket.
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        let router = router.into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                engine.close();
            })
            .await;
        services.stop().await;
        result.context("The server failed")
    }
}

/// Deletes expired sessions now and then (every node may: the delete is idempotent).
fn purge_sessions(engine: Arc<Engine>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut closing = engine.closing();
        loop {
            match engine.purge_expired_sessions().await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "expired sessions deleted"),
                Err(e) => tracing::warn!(error = %e, "could not delete expired sessions"),
            }
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
                _ = closing.wait_for(|c| *c) => return,
            }
        }
    })
}

/// Lets the configured origins (client-only builds hosted elsewhere) call the server.
fn cors(origins: &[String]) -> anyhow::Result<Option<CorsLayer>> {
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

fn router(
    leptos_options: LeptosOptions,
    engine: Arc<Engine>,
    cors: Option<CorsLayer>,
    config: &Config,
    files: crate::files::Files,
) -> Router {
    let routes = generate_route_list(App);
    let backend: Backend = engine.clone();
    let allowed_origins = config
        .cors_origins
        .iter()
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    let state = AppState {
        leptos_options: leptos_options.clone(),
        engine,
        allowed_origins: Arc::new(allowed_origins),
        files,
        metrics_token: config.metrics_token.as_deref().filter(|t| !t.is_empty()).map(Arc::from),
    };
    // Room for the largest file and nothing more; the rest of the API keeps axum's 2 MB.
    let upload_limit = axum::extract::DefaultBodyLimit::max(parley::attachment::MAX_FILE_BYTES as usize + 1);
    Router::new()
        .route("/ws", get(ws::handler))
        .route(
            "/api/files",
            axum::routing::post(crate::files::upload).layer(upload_limit),
        )
        .route("/files/{file_id}", get(crate::files::download))
        .route("/files/{file_id}/thumb", get(crate::files::thumbnail_of))
        .merge(crate::rest::routes())
        .route("/healthz", get(crate::metrics::healthz))
        .route("/readyz", get(crate::metrics::readyz))
        .route("/metrics", get(crate::metrics::metrics))
        .leptos_routes_with_context(&state, routes, move || provide_context(backend.clone()), {
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
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Leptos settings: from cargo-leptos's environment when it runs us, else the defaults
/// that match `[[workspace.metadata.leptos]]` in Cargo.toml.
fn leptos_options(addr: SocketAddr) -> anyhow::Result<LeptosOptions> {
    let mut options = if std::env::var_os("LEPTOS_OUTPUT_NAME").is_some() {
        leptos::config::get_configuration(None)
            .context("Failed to read the LEPTOS_* settings")?
            .leptos_options
    } else {
        // Run by hand: the defaults, with the folders the README documents taken from the
        // environment (LEPTOS_SITE_ROOT alone must be enough to serve from elsewhere).
        let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
        LeptosOptions::builder()
            .output_name("parley")
            .site_root(env("LEPTOS_SITE_ROOT", "target/site"))
            .site_pkg_dir(env("LEPTOS_SITE_PKG_DIR", "pkg"))
            .build()
    };
    options.site_addr = addr;
    Ok(options)
}

/// Empties the read models and folds the whole log into them again.
pub async fn rebuild_projections(database_url: &str) -> anyhow::Result<Position> {
    let services = Services::start(database_url).await?;
    let position = services
        .projector
        .rebuild()
        .await
        .context("Failed to rebuild the read models")?;
    services.stop().await;
    Ok(position)
}
