//! Opens the SQLite database with durable settings and applies the migrations.

use anyhow::Context;
use sqlx::ConnectOptions;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

/// Connection settings every connection shares. WAL lets readers run beside the one
/// writer; `synchronous = FULL` makes a commit durable before it returns, so an
/// acknowledged message survives a crash or a power cut.
pub fn options(database_url: &str) -> anyhow::Result<SqliteConnectOptions> {
    let options = SqliteConnectOptions::from_str(database_url)
        .with_context(|| format!("Failed to parse database URL {database_url}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    Ok(options)
}

/// Creates the database file's folder, opens a reader pool, and migrates.
pub async fn open(database_url: &str) -> anyhow::Result<(SqlitePool, SqliteConnectOptions)> {
    let options = options(database_url)?;
    let path = options.get_filename();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("Failed to create {}", dir.display()))?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options.clone())
        .await
        .with_context(|| format!("Failed to open database {database_url}"))?;
    sqlx::migrate!("../migrations/sqlite")
        .run(&pool)
        .await
        .context("Failed to migrate the database")?;
    Ok((pool, options))
}

/// A connection of its own for the projector: read models can be rebuilt from the log,
/// so their commits need not wait for the disk (`synchronous = NORMAL`, still crash-safe in WAL).
pub async fn projector_connection(options: &SqliteConnectOptions) -> anyhow::Result<SqliteConnection> {
    let options = options.clone().synchronous(SqliteSynchronous::Normal);
    options
        .connect()
        .await
        .context("Failed to open the projector connection")
}

/// A connection of its own, for the one event-store writer.
pub async fn writer_connection(options: &SqliteConnectOptions) -> anyhow::Result<SqliteConnection> {
    options.connect().await.context("Failed to open the writer connection")
}
