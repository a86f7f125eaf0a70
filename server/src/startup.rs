//! Builds the whole server from a config: database, event log, projection, live hub, engine, workers and the HTTP doors. `main` and the integration tests use the same `build`.

use crate::config::Config;
use crate::http::{cors, router};
use anyhow::Context;
use axum::Router;
use axum::serve::ListenerExt;
use leptos::config::LeptosOptions;
use parley::Position;
use parley_engine::db;
use parley_engine::engine::Engine;
use parley_engine::live::hub::Hub;
use parley_engine::log::bus::Bus;
use parley_engine::log::store::EventStore;
use parley_engine::projection::{self, Projector};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The running parts behind the doors: the engine and the background tasks.
pub struct Services {
    pub engine: Arc<Engine>,
    pub projector: Projector,
    pub db: db::Database,
    tasks: Vec<JoinHandle<()>>,
    /// What this node says to the others of its cluster when it stops (PostgreSQL).
    goodbye: Option<parley_engine::live::relay::Goodbye>,
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
        let (store, writer_task) = EventStore::start(&db, writer, bus).await?;
        let mut tasks = vec![writer_task];
        if db.backend == db::Backend::Postgres {
            tasks.push(tokio::spawn(parley_engine::log::tail::tail(store.clone(), db.clone())));
        }
        let checkpoint = projection::checkpoint(&db.pool)
            .await
            .context("Failed to read the projection checkpoint")?;
        let hub = Hub::new(checkpoint);
        if db.backend == db::Backend::Postgres {
            tasks.extend(parley_engine::live::relay::relay_typing(hub.clone(), db.clone()));
        }
        // Eager notices (typing) go from the bus to the sockets, here and on other nodes.
        tasks.push(hub.follow_eager(store.bus()));
        let projector_conn = db.projector_connection().await?;
        let projector = Projector::new(store.clone(), hub.clone(), &db, projector_conn);
        tasks.extend(
            db.checkpointer(
                store.bus().head(),
                projector.folds(),
                db::WAL_RESTART_FRAMES,
                store.write_turn().file_turn(),
            )
            .await?,
        );
        projector
            .start()
            .await
            .context("Failed to bring the read models up to date")?;
        tasks.push(tokio::spawn(projector.clone().run()));
        // On SQLite the store's writer folds each batch in its own transaction from now on.
        store.fold_in_writer(projector.writer_fold());
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
        // Bots likewise: those registered before, then every `AccountRegistered` followed.
        let bots: Vec<(String, String)> =
            sqlx::query_as("SELECT user_id, bot_space FROM accounts WHERE bot_space IS NOT NULL")
                .fetch_all(&db.pool)
                .await
                .context("Failed to read the bots")?;
        engine.log_state().add_bots(
            bots.iter()
                .filter_map(|(id, space)| Some((id.parse().ok()?, space.parse().ok()?))),
        );
        let mut goodbye = None;
        if db.backend == db::Backend::Postgres {
            let (relays, bye) = parley_engine::live::relay::relay_presence(engine.presence().clone(), db.clone());
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
        parley_engine::metrics::install();
        let services = Services::start(&config.database_url).await?;
        let listener = TcpListener::bind(config.addr())
            .await
            .with_context(|| format!("Failed to listen on {}", config.addr()))?;
        let mut leptos_options = leptos_options(listener.local_addr()?)?;
        if let Some(root) = &config.site_root {
            leptos_options.site_root = root.as_str().into();
        }
        let cors = cors(&config.cors_origins)?;
        let files = match &config.s3_bucket {
            Some(bucket) => {
                crate::http::files::Files::s3(bucket, &config.s3_settings).context("Failed to open the S3 bucket")?
            }
            None => crate::http::files::Files::local(&config.files_dir()).context("Failed to open the files folder")?,
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
        match (&config.smtp_url, &config.public_url) {
            (Some(smtp), Some(public)) => services.engine.set_mailer(
                parley_engine::engine::mail::Mailer::new(smtp, &config.mail_from, public)
                    .context("PARLEY_SMTP_URL, PARLEY_MAIL_FROM or PARLEY_PUBLIC_URL")?,
            ),
            (Some(_), None) => {
                anyhow::bail!("PARLEY_SMTP_URL needs PARLEY_PUBLIC_URL (the site's address, for links in mail)")
            }
            _ => {}
        }
        let party = parley_engine::engine::passkeys::RelyingParty::for_site(config.public_url.as_deref());
        services
            .engine
            .set_passkey_site(&party)
            .context("passkeys for PARLEY_PUBLIC_URL")?;
        services
            .engine
            .limit_posts(config.post_rate, config.post_rate.saturating_mul(5));
        let policy = Arc::new(
            parley::outbound::OutboundPolicy::parse(&config.webhook_allow)
                .map_err(|e| anyhow::anyhow!("PARLEY_WEBHOOK_ALLOW: {e}"))?,
        );
        services.engine.set_outbound_policy(policy.clone());
        let settings = parley_engine::workers::webhooks::Settings {
            base_backoff_ms: config.webhook_backoff_ms.max(1),
            max_attempts: config.webhook_max_attempts.max(1),
            timeout: std::time::Duration::from_secs(10),
            policy,
        };
        services.tasks.push(parley_engine::workers::webhooks::spawn(
            services.engine.clone(),
            &services.db,
            settings,
        ));
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
    // A build with hashed names (`.ci/build`, `LEPTOS_HASH_FILES=true cargo leptos build`) leaves their
    // list beside the binary. Run by cargo-leptos, its setting rules; run by hand or by a
    // test, the list does, if the files it names are the ones in the site folder.
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        options.hash_files = hashed_site(&options);
    }
    Ok(options)
}

/// Whether the site folder holds the hashed files the list beside the binary names.
fn hashed_site(options: &LeptosOptions) -> bool {
    let Some(list) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&*options.hash_file)))
        .and_then(|path| std::fs::read_to_string(path).ok())
    else {
        return false;
    };
    let wasm_hash = list
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(kind, _)| kind.trim() == "wasm")
        .map(|(_, hash)| hash.trim().to_owned());
    wasm_hash.is_some_and(|hash| {
        std::path::Path::new(&*options.site_root)
            .join(&*options.site_pkg_dir)
            .join(format!("{}.{hash}.wasm", options.output_name))
            .is_file()
    })
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
