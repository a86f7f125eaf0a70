//! Export and import of the event log as JSON lines: a backup, a move between machines.
//!
//! Export writes every event in log order, one line each, shaped like a `RecordedEvent`
//! but with the type, schema version and payload exactly as stored: an event stored at an
//! old schema version is exported at that version, not upcast, so a backup is the log itself.
//! Import reads such a file into a database with no events yet, keeping positions, ids,
//! versions, metadata and times, in one transaction: every line is decoded (upcast when
//! old) and checked first (a known type and schema version, positions following each
//! other, stream versions in order), so a bad file changes nothing. The read models are
//! then rebuilt from the imported log.

use anyhow::{Context, bail};
use parley::{Event, EventId, EventMetadata, Position, StreamId};
use parley_engine::db;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{BufRead, Write};

/// Events read per query while exporting.
const PAGE: i64 = 1_000;

/// One line of an export: a stored event as it is on disk.
#[derive(Serialize, Deserialize)]
struct Line {
    position: Position,
    stream_id: StreamId,
    stream_version: u64,
    event_id: EventId,
    schema_version: u32,
    event: Stored,
    metadata: EventMetadata,
    recorded_at_ms: i64,
}

/// An event's type and payload at its stored schema version.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(rename = "type")]
    event_type: String,
    data: serde_json::Value,
}

/// Writes the whole log to `out`; returns how many events.
pub async fn export(database_url: &str, mut out: impl Write) -> anyhow::Result<u64> {
    let pool = db::open(database_url).await?.pool;
    let mut after = 0i64;
    let mut count = 0u64;
    loop {
        type Row = (i64, String, i64, String, String, i64, String, String, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT position, stream_id, stream_version, event_id, event_type, schema_version, payload, metadata,
                    recorded_at_ms
             FROM events WHERE position > $1 ORDER BY position LIMIT $2",
        )
        .bind(after)
        .bind(PAGE)
        .fetch_all(&pool)
        .await?;
        let Some(last) = rows.last().map(|r| r.0) else { break };
        for (position, stream_id, stream_version, event_id, event_type, schema_version, payload, metadata, at) in rows {
            let payload: serde_json::Value =
                serde_json::from_str(&payload).with_context(|| format!("event {position}: bad payload"))?;
            let version = u32::try_from(schema_version).unwrap_or(0);
            // Exported as stored, but only once it is known to read.
            Event::decode(&event_type, version, payload.clone())
                .with_context(|| format!("event {position} cannot be read"))?;
            let line = Line {
                position: Position(position as u64),
                stream_id: StreamId(stream_id),
                stream_version: stream_version as u64,
                event_id: event_id.parse().with_context(|| format!("event {position}: bad id"))?,
                schema_version: version,
                event: Stored {
                    event_type,
                    data: payload,
                },
                metadata: serde_json::from_str(&metadata).with_context(|| format!("event {position}: bad metadata"))?,
                recorded_at_ms: at,
            };
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
            count += 1;
        }
        after = last;
    }
    out.flush()?;
    pool.close().await;
    Ok(count)
}

/// Reads an exported log into a database that has no events yet; returns how many.
pub async fn import(database_url: &str, input: impl BufRead) -> anyhow::Result<u64> {
    let mut events = Vec::new();
    let mut versions: HashMap<String, u64> = HashMap::new();
    for (i, line) in input.lines().enumerate() {
        let line = line.with_context(|| format!("line {}: unreadable", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let recorded: Line =
            serde_json::from_str(&line).with_context(|| format!("line {}: not an exported event", i + 1))?;
        Event::decode(
            &recorded.event.event_type,
            recorded.schema_version,
            recorded.event.data.clone(),
        )
        .with_context(|| format!("line {}: not an event this version of Parley can read", i + 1))?;
        let expected = events.len() as u64 + 1;
        if recorded.position.0 != expected {
            bail!(
                "line {}: position {} where {expected} was expected (the log has no gaps)",
                i + 1,
                recorded.position
            );
        }
        let version = versions.entry(recorded.stream_id.as_str().to_owned()).or_default();
        if recorded.stream_version != *version + 1 {
            bail!(
                "line {}: version {} of stream {} where {} was expected",
                i + 1,
                recorded.stream_version,
                recorded.stream_id,
                *version + 1
            );
        }
        *version += 1;
        events.push(recorded);
    }
    let pool = db::open(database_url).await?.pool;
    let mut tx = pool.begin().await?;
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut *tx)
        .await?;
    if existing > 0 {
        bail!("the database already holds {existing} events; import into an empty one");
    }
    for recorded in &events {
        sqlx::query(
            "INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version, payload,
                                 metadata, client_message_id, recorded_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(recorded.position.0 as i64)
        .bind(recorded.stream_id.as_str())
        .bind(recorded.stream_version as i64)
        .bind(recorded.event_id.to_string())
        .bind(&recorded.event.event_type)
        .bind(i64::from(recorded.schema_version))
        .bind(recorded.event.data.to_string())
        .bind(serde_json::to_string(&recorded.metadata)?)
        .bind(recorded.metadata.client_message_id.map(|id| id.to_string()))
        .bind(recorded.recorded_at_ms)
        .execute(&mut *tx)
        .await
        .with_context(|| format!("event {} could not be stored", recorded.position))?;
    }
    tx.commit().await?;
    pool.close().await;
    crate::startup::rebuild_projections(database_url).await?;
    Ok(events.len() as u64)
}
