//! Opens the database named by the URL, SQLite (embedded) or PostgreSQL (several nodes),
//! with durable settings, and applies that backend's migrations.
//!
//! Reads and the read models go through one `Any` pool and portable SQL (`$1` parameters
//! work on both); the event store's writer on PostgreSQL has a native connection.

use anyhow::Context;
use parley::Position;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Executor, SqlSafeStr};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Which database the URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(database_url: &str) -> Self {
        if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }

    /// Starts a transaction that writes. SQLite takes its write lock at once, so two
    /// writers never deadlock upgrading a read lock.
    pub fn begin_write(self) -> &'static str {
        match self {
            Self::Sqlite => "BEGIN IMMEDIATE",
            Self::Postgres => "BEGIN",
        }
    }
}

/// Picks the SQL text for the backend at hand, where the two dialects differ.
#[macro_export]
macro_rules! dialect {
    ($backend:expr, sqlite: $sqlite:expr, postgres: $postgres:expr $(,)?) => {
        match $backend {
            $crate::db::Backend::Sqlite => $sqlite,
            $crate::db::Backend::Postgres => $postgres,
        }
    };
}

/// The open database: a pool for reads and read-model writes, and how to open more.
#[derive(Clone, Debug)]
pub struct Database {
    pub pool: AnyPool,
    pub backend: Backend,
    url: String,
}

/// SQLite settings every connection shares. WAL lets readers run beside the one writer;
/// `synchronous = FULL` makes a commit durable before it returns (the event store's writer
/// is the exception: its commits are synced beside it, see `EventStore::start`).
/// When the WAL is emptied (see [`WAL_RESTART_FRAMES`]) its file is cut back to 64 MB,
/// so a burst does not leave it at its largest for good.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                              PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                              PRAGMA journal_size_limit = 67108864;";

/// On the store's writer: a statement that writes many rows keeps the pages it changes in
/// a statement journal (to undo that statement alone), which SQLite otherwise spills into
/// a temporary file, opened, written and deleted for each large statement: under
/// `throughput`, 9 % of the writer's SQLite thread (2 % in memory). In memory it holds at
/// most the pages one batch changes (at most 512 appends and their fold). Not on the
/// projector's connection: a rebuild's statements can be as large as a read model (its
/// peak memory grew by 8–11 MB for 170,000 events, and the rebuild was no faster).
const SQLITE_WRITER_PRAGMAS: &str = "PRAGMA temp_store = MEMORY;";

/// How long the checkpointer lets commits gather before it copies them into the file.
const CHECKPOINT_PACE: Duration = Duration::from_millis(100);

/// The turn every writer of the database file in this process takes, as a lock that wakes
/// the next one at once (see `log::store::WriteTurn`). The checkpointer's `RESTART` takes it
/// too: the writer waited for it in SQLite's busy handler before, whose sleeps grow (1, 2,
/// 5, 10, 15 ms…), and woke up to as long again after the checkpoint had ended (its batches
/// waited 8, 18 or 33 ms, about once a second under `pairs`).
pub type FileTurn = std::sync::Arc<tokio::sync::Mutex<()>>;

/// The WAL's length in pages (of 4 KB) past which the checkpointer also empties it.
/// SQLite starts the WAL over only when a commit begins while no reader still reads any
/// of it: under steady load there always is one, so with passive checkpoints alone the
/// WAL grew for as long as the load lasted (377 MB after a 130,000-post benchmark, and
/// every read and a restart's recovery went through it).
pub const WAL_RESTART_FRAMES: i64 = 16_384;

fn sqlite_options(database_url: &str) -> anyhow::Result<SqliteConnectOptions> {
    let options = SqliteConnectOptions::from_str(database_url)
        .with_context(|| format!("Failed to parse database URL {database_url}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    Ok(options)
}

fn postgres_options(database_url: &str) -> anyhow::Result<PgConnectOptions> {
    PgConnectOptions::from_str(database_url).with_context(|| format!("Failed to parse database URL {database_url}"))
}

/// Each backend's migrations, embedded by the build script (`build.rs`).
mod migrations {
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
}

/// A backend's migrations, as sqlx's `migrate!` would embed them: the same versions,
/// descriptions and checksums (a database migrated by either is up to date for the other).
fn migrator(backend: Backend) -> Migrator {
    let embedded = match backend {
        Backend::Sqlite => migrations::SQLITE,
        Backend::Postgres => migrations::POSTGRES,
    };
    Migrator::with_migrations(
        embedded
            .iter()
            .map(|&(version, description, sql)| {
                let no_tx = sql.starts_with("-- no-transaction");
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    no_tx,
                )
            })
            .collect(),
    )
}

/// Opens the database (creating an SQLite file and its folder if needed) and migrates.
pub async fn open(database_url: &str) -> anyhow::Result<Database> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of(database_url);
    match backend {
        Backend::Sqlite => {
            let options = sqlite_options(database_url)?;
            let path = options.get_filename();
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("Failed to create {}", dir.display()))?;
            }
            let mut conn = options
                .connect()
                .await
                .with_context(|| format!("Failed to open database {database_url}"))?;
            migrator(Backend::Sqlite)
                .run(&mut conn)
                .await
                .context("Failed to migrate the database")?;
            conn.close().await.ok();
        }
        Backend::Postgres => {
            let mut conn = postgres_options(database_url)?
                .connect()
                .await
                .with_context(|| format!("Failed to open database {database_url}"))?;
            // sqlx takes an advisory lock while it migrates: nodes starting together wait.
            migrator(Backend::Postgres)
                .run(&mut conn)
                .await
                .context("Failed to migrate the database")?;
            conn.close().await.ok();
        }
    }
    let options = AnyConnectOptions::from_str(database_url)
        .with_context(|| format!("Failed to parse database URL {database_url}"))?;
    let pool = AnyPoolOptions::new()
        .max_connections(8)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    conn.execute(SQLITE_PRAGMAS).await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("Failed to open database {database_url}"))?;
    Ok(Database {
        pool,
        backend,
        url: database_url.to_owned(),
    })
}

impl Database {
    /// A connection of its own, outside the pool: for the projector, and for a lease.
    /// On SQLite the read models can be rebuilt from the log, and the checkpoint commits
    /// with them, so their commits need not wait for the disk (`synchronous = NORMAL`,
    /// still crash-safe in WAL).
    pub async fn own_connection(&self) -> anyhow::Result<AnyConnection> {
        let mut conn = AnyConnection::connect(&self.url)
            .await
            .context("Failed to open a connection")?;
        if self.backend == Backend::Sqlite {
            conn.execute(SQLITE_PRAGMAS).await?;
            conn.execute("PRAGMA synchronous = NORMAL").await?;
        }
        Ok(conn)
    }

    /// The projector's connection: [`Self::own_connection`], and on SQLite its commits do not
    /// copy the WAL into the database file either (`checkpointer` does, woken by its folds).
    /// Copying inside a commit cost a rebuild 15–30 ms every 1,000 pages (about a fifth of
    /// its time), on the one thread that writes the read models.
    pub async fn projector_connection(&self) -> anyhow::Result<AnyConnection> {
        let mut conn = self.own_connection().await?;
        if self.backend == Backend::Sqlite {
            conn.execute("PRAGMA wal_autocheckpoint = 0").await?;
        }
        Ok(conn)
    }

    /// The connection of the one event-store writer of this node: on SQLite the same kind
    /// as the read models' (the writer folds them in its transaction; the event store makes
    /// its commits durable itself, see `EventStore::start`), on PostgreSQL a native one (its
    /// appends bind arrays).
    pub async fn writer_connection(&self) -> anyhow::Result<WriterConnection> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let mut conn = AnyConnection::connect(&self.url)
                    .await
                    .context("Failed to open the writer connection")?;
                conn.execute(SQLITE_PRAGMAS).await?;
                conn.execute(SQLITE_WRITER_PRAGMAS).await?;
                // Its commits do not copy the WAL into the database file: `checkpointer` does.
                conn.execute("PRAGMA wal_autocheckpoint = 0").await?;
                WriterConnection::Sqlite(conn)
            }
            Backend::Postgres => WriterConnection::Postgres(
                postgres_options(&self.url)?
                    .connect()
                    .await
                    .context("Failed to open the writer connection")?,
            ),
        })
    }

    /// On SQLite, what copies the writer's and the projector's commits from the WAL into the
    /// database file, on a connection and thread of its own: by default SQLite does it inside
    /// the commit that takes the WAL past 1,000 pages, and the writer's batch then waited
    /// 20–30 ms for it (every third batch under load). It runs a while after each new head
    /// or each of the projector's own folds (`folds`: at start, in a rebuild), at most once
    /// per `CHECKPOINT_PACE`, as a passive checkpoint: it never waits for, nor blocks, the
    /// writer or a reader. Once the WAL is `restart_frames` pages long it checkpoints with
    /// `RESTART` instead, in the writers' `turn`: the next commit waits while the last pages
    /// are copied and the readers still in the WAL finish, and then writes the WAL from its
    /// start again. `None` on PostgreSQL.
    pub async fn checkpointer(
        &self,
        mut head: watch::Receiver<Position>,
        mut folds: watch::Receiver<Position>,
        restart_frames: i64,
        turn: FileTurn,
    ) -> anyhow::Result<Option<JoinHandle<()>>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let mut conn = self.own_connection().await?;
        // A `RESTART` waits for the write lock, then (holding it, so commits wait too) for
        // the readers still in the WAL: each wait ends after a quarter second, not the ten
        // seconds others wait, and the next checkpoint tries again.
        conn.execute("PRAGMA busy_timeout = 250").await?;
        Ok(Some(tokio::spawn(async move {
            loop {
                let written = tokio::select! {
                    changed = head.changed() => changed,
                    changed = folds.changed() => changed,
                };
                if written.is_err() {
                    break;
                }
                tokio::time::sleep(CHECKPOINT_PACE).await;
                head.borrow_and_update();
                folds.borrow_and_update();
                if let Err(e) = checkpoint(&mut conn, restart_frames, &turn).await {
                    tracing::warn!(error = %e, "WAL checkpoint failed; the next one tries again");
                }
            }
        })))
    }

    /// On SQLite, the write-ahead log's file (the database file's name and `-wal`), which
    /// the event store syncs after its writer's commits. `None` on PostgreSQL.
    pub fn wal_path(&self) -> anyhow::Result<Option<std::path::PathBuf>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let mut wal = sqlite_options(&self.url)?.get_filename().as_os_str().to_owned();
        wal.push("-wal");
        Ok(Some(wal.into()))
    }

    /// The URL, for listeners that open their own connection.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// One passive checkpoint, and a `RESTART` one (in the writers' `turn`) if the WAL is
/// `restart_frames` pages long.
async fn checkpoint(conn: &mut AnyConnection, restart_frames: i64, turn: &FileTurn) -> Result<(), sqlx::Error> {
    // (busy, pages in the WAL, pages copied into the file)
    let (_, frames, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(&mut *conn)
        .await?;
    if frames >= restart_frames {
        // Like SQLite's own wait (`busy_timeout` above): a turn held longer (a rebuild's
        // transaction) skips this one, and the next checkpoint tries again.
        let Ok(_turn) = tokio::time::timeout(Duration::from_millis(250), turn.lock()).await else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(RESTART)")
            .fetch_one(&mut *conn)
            .await?;
        tracing::debug!(frames, busy, us = started.elapsed().as_micros() as u64, "WAL restarted");
    }
    Ok(())
}

/// The writer's connection.
pub enum WriterConnection {
    Sqlite(AnyConnection),
    Postgres(PgConnection),
}

/// A yes/no column. Both backends store flags as integers 0 and 1 (SQLite has no boolean
/// type, and the `Any` driver does not turn its integers into `bool`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flag(pub bool);

impl sqlx::Type<sqlx::Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <i64 as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <i64 as sqlx::Type<sqlx::Any>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(Self(<i64 as sqlx::Decode<'r, sqlx::Any>>::decode(value)? != 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// What the build script embeds is each folder as sqlx reads it at run time: every file,
    /// its version, description and checksum (so a database migrated by an older build, with
    /// sqlx's `migrate!`, is up to date, and an edited migration is refused as sqlx would).
    #[tokio::test]
    async fn the_embedded_migrations_are_the_folders_as_sqlx_reads_them() {
        let key = |m: &Migration| {
            (
                m.version,
                m.description.to_string(),
                m.checksum.to_vec(),
                m.no_tx,
                m.migration_type,
            )
        };
        for (backend, dir) in [(Backend::Sqlite, "sqlite"), (Backend::Postgres, "postgres")] {
            let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(dir);
            let read = Migrator::new(folder).await.expect("sqlx reads the folder");
            let embedded = migrator(backend);
            assert!(
                embedded.iter().count() >= 19,
                "{dir}: {} embedded",
                embedded.iter().count()
            );
            assert_eq!(
                embedded.iter().map(key).collect::<Vec<_>>(),
                read.iter().map(key).collect::<Vec<_>>(),
                "{dir}"
            );
        }
    }
}
