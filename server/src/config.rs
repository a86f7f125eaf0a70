//! Settings from flags or environment variables, with defaults that need nothing set.

use clap::{Args, Parser, Subcommand};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[derive(Debug, Parser)]
#[command(name = "parley-server", version, about = "Parley: real-time chat on an event log")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve Parley (the default).
    Serve,
    /// Empty every read model and fold the whole log into it again, then exit.
    RebuildProjections,
    /// Create or update the database's tables, then exit.
    Migrate,
    /// Write the whole event log as JSON lines (one event per line) to a file, or `-` for stdout.
    Export { file: String },
    /// Read an exported event log into a database with no events, then rebuild the read models.
    Import { file: String },
    /// Make an account an instance admin (the event inspector at /admin), creating it if
    /// needed with the password in PARLEY_ADMIN_PASSWORD or read from standard input.
    CreateAdmin { username: String },
    /// Print a one-time link (good for 24 hours) with which the account sets a new
    /// password; its sessions end when it is used.
    ResetPassword { username: String },
}

#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "PARLEY_BIND", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PARLEY_PORT", default_value_t = 3000)]
    pub port: u16,
    /// Database to use; created with its folder on first start.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/parley.db")]
    pub database_url: String,
    /// Origins (e.g. `https://app.example.com`) of client-only builds allowed to call the
    /// server functions from another origin; comma separated. Empty: same origin only.
    #[arg(long, env = "PARLEY_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, env = "PARLEY_LOG_JSON", default_value_t = false)]
    pub log_json: bool,
    /// The site folder cargo-leptos built (the page's script, WASM and styles in `pkg/`).
    /// Default: `target/site`, or what cargo-leptos says when it runs the server.
    #[arg(long, env = "LEPTOS_SITE_ROOT")]
    pub site_root: Option<String>,
    /// Folder for uploaded files. Default: `files/` beside the SQLite database.
    #[arg(long, env = "PARLEY_FILES_DIR")]
    pub files_dir: Option<std::path::PathBuf>,
    /// Keep uploaded files in this S3-compatible bucket instead of on disk (endpoint,
    /// region and keys from the `AWS_*` environment variables).
    #[arg(long, env = "PARLEY_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// Settings of the bucket's client on top of the `AWS_*` environment, by object_store's
    /// names (`aws_endpoint`, `aws_access_key_id`…): how the tests point it at a local server.
    #[arg(skip)]
    pub s3_settings: Vec<(String, String)>,
    /// Messages each user may post per second, after a burst of five times as many (0: no limit).
    #[arg(long, env = "PARLEY_POST_RATE", default_value_t = 10)]
    pub post_rate: u32,
    /// WebSocket connections one account may have open at once (0: no limit).
    #[arg(long, env = "PARLEY_MAX_SOCKETS_PER_USER", default_value_t = 50)]
    pub max_sockets_per_user: usize,
    /// The instance's admins (who may open the event inspector at `/admin`), comma separated:
    /// user ids, or usernames of accounts that exist when the server starts (a name signed
    /// up later is not made an admin). `create-admin` is the safer way.
    #[arg(long, env = "PARLEY_ADMINS", value_delimiter = ',')]
    pub admins: Vec<String>,
    /// The wait after a webhook's first failed delivery, in milliseconds (it doubles after each next one).
    #[arg(long, env = "PARLEY_WEBHOOK_BACKOFF_MS", default_value_t = 1_000)]
    pub webhook_backoff_ms: u64,
    /// Failed deliveries of one event before a webhook is parked (dead letter).
    #[arg(long, env = "PARLEY_WEBHOOK_MAX_ATTEMPTS", default_value_t = parley::webhook::MAX_ATTEMPTS)]
    pub webhook_max_attempts: u32,
    /// Internal hosts and networks webhooks may be delivered to (`hooks.internal`,
    /// `10.1.0.0/16`, `127.0.0.1`); comma separated. Empty: public addresses only.
    #[arg(long, env = "PARLEY_WEBHOOK_ALLOW", value_delimiter = ',')]
    pub webhook_allow: Vec<String>,
    /// A token that `GET /metrics` must carry (`Authorization: Bearer …`). Unset: metrics
    /// answer only requests from the loopback interface.
    #[arg(long, env = "PARLEY_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Limit sign-in and sign-up attempts per client address too (besides per username
    /// and address). Off only for tests, which sign up many users from one address.
    #[arg(long, env = "PARLEY_LIMIT_PER_ADDRESS", default_value_t = true, action = clap::ArgAction::Set)]
    pub limit_per_address: bool,
    /// Take the client's address from the last entry of `X-Forwarded-For` (set this only
    /// behind a reverse proxy that sets it; otherwise clients could choose their address).
    #[arg(long, env = "PARLEY_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
    /// Count the lobby as shared for presence: everyone signed in sees who else is online.
    /// Off: you see the presence of people you share a space or a conversation with.
    #[arg(long, env = "PARLEY_LOBBY_PRESENCE", default_value_t = false, action = clap::ArgAction::Set)]
    pub lobby_presence: bool,
    /// The SMTP server mail goes out through (email confirmations, password reset links):
    /// `smtps://user:password@mail.example.org`, `smtp://user:password@host:587?tls=required`
    /// (STARTTLS), or `smtp://127.0.0.1:25` (no TLS, a local relay). Unset: no mail; reset
    /// links come from an admin only. Needs PARLEY_PUBLIC_URL.
    #[arg(long, env = "PARLEY_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Whom mail comes from: `Parley <parley@example.org>`.
    #[arg(long, env = "PARLEY_MAIL_FROM", default_value = "Parley <parley@localhost>")]
    pub mail_from: String,
    /// The site's public address, for links in mail (`https://chat.example.org`), and
    /// whom passkeys are made for (its host name; browsers refuse an IP address: without
    /// a name, passkeys work on `localhost` only). Never taken from a request's Host
    /// header, which a sender of requests chooses.
    #[arg(long, env = "PARLEY_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Per-user budgets for every write but posts (edits and reactions, spaces, invites,
    /// webhooks, uploads, conversations, tokens). Off only for tests that write a lot.
    #[arg(long, env = "PARLEY_WRITE_LIMITS", default_value_t = true, action = clap::ArgAction::Set)]
    pub write_limits: bool,
}

impl Config {
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }

    /// A config for tests: loopback, a free port, the given database.
    pub fn for_tests(database_url: String) -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            database_url,
            cors_origins: Vec::new(),
            log_json: false,
            site_root: None,
            files_dir: None,
            s3_bucket: None,
            s3_settings: Vec::new(),
            // `tester` is made an admin by `create-admin` once signed up (helpers).
            admins: Vec::new(),
            post_rate: 0,
            max_sockets_per_user: 0,
            webhook_backoff_ms: 50,
            webhook_max_attempts: 3,
            // The tests' receivers listen on loopback.
            webhook_allow: vec!["127.0.0.1".into(), "::1".into()],
            metrics_token: Some("test-metrics-token".into()),
            limit_per_address: false,
            trust_forwarded_for: false,
            lobby_presence: false,
            write_limits: false,
            smtp_url: None,
            mail_from: "Parley <parley@localhost>".into(),
            public_url: None,
        }
    }

    /// Where uploaded files go on disk: the configured folder, or `files/` beside the
    /// SQLite database. With another database there is nothing to put them beside, so the
    /// fallback is `data/files` under the working directory, said in the log at start
    /// (set `PARLEY_FILES_DIR`, or a bucket, for several nodes).
    pub fn files_dir(&self) -> std::path::PathBuf {
        if let Some(dir) = &self.files_dir {
            return dir.clone();
        }
        let path = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))
            .map(|rest| rest.split('?').next().unwrap_or_default());
        match path.map(std::path::Path::new).and_then(std::path::Path::parent) {
            Some(parent) if !parent.as_os_str().is_empty() => parent.join("files"),
            _ => {
                let fallback = std::path::PathBuf::from("data/files");
                tracing::warn!(
                    dir = %fallback.display(),
                    "no PARLEY_FILES_DIR and no SQLite file to keep files beside: using the working directory's data/files"
                );
                fallback
            }
        }
    }
}
