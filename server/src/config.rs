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
        }
    }
}
