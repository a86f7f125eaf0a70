//! The two backends' schemas: SQLite's migrations and PostgreSQL's are kept by hand, side by
//! side; this says when they drift apart (a table or column on one side only).

use crate::helpers::{database_in, on_postgres};
use std::collections::{BTreeMap, BTreeSet};

type Schema = BTreeMap<String, BTreeSet<String>>;

/// Where the backends differ on purpose: full-text search is an FTS5 table (and its shadow
/// tables) on SQLite, an expression index over `to_tsvector(body)` on PostgreSQL; only
/// SQLite's rebuild sets its search index aside (`suspended_schema`).
const SQLITE_ONLY_TABLES: [&str; 2] = ["messages_fts", "suspended_schema"];

fn schema(rows: Vec<(String, String)>) -> Schema {
    let mut schema = Schema::new();
    for (table, column) in rows {
        let internal = table.starts_with("_sqlx") || table.starts_with("sqlite_");
        let fts = SQLITE_ONLY_TABLES.iter().any(|t| table.starts_with(t));
        if !internal && !fts {
            schema.entry(table).or_default().insert(column);
        }
    }
    schema
}

#[tokio::test]
async fn postgres_has_the_same_tables_and_columns_as_sqlite() {
    if !on_postgres() {
        eprintln!("runs in the PostgreSQL pass (PARLEY_TEST_POSTGRES)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("schema.db").display());
    let sqlite = parley_engine::db::open(&sqlite_url).await.unwrap().pool;
    let sqlite = schema(
        sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'",
        )
        .fetch_all(&sqlite)
        .await
        .unwrap(),
    );
    let postgres = parley_engine::db::open(&database_in(&dir).await).await.unwrap().pool;
    let postgres = schema(
        sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'public'",
        )
        .fetch_all(&postgres)
        .await
        .unwrap(),
    );
    assert!(sqlite.contains_key("events") && sqlite.contains_key("webhook_state"));
    for (table, columns) in &sqlite {
        assert_eq!(
            postgres.get(table),
            Some(columns),
            "table {table}: PostgreSQL (left), SQLite (right)"
        );
    }
    let extra: Vec<&String> = postgres.keys().filter(|t| !sqlite.contains_key(*t)).collect();
    assert!(extra.is_empty(), "tables on PostgreSQL only: {extra:?}");
}
