//! The event store: atomic appends, idempotency on client message ids, version conflicts.

use crate::helpers::spawn_app;
use parley::{
    ChannelId, ChannelKind, CorrelationId, DisplayName, Event, EventMetadata, MessageBody, MessageId, Position,
    StreamId,
};
use parley_engine::log::store::{AppendError, EventStore, ExpectedVersion, NewEvent, StreamCursor};

fn posted(channel_id: ChannelId, message_id: MessageId, body: &str) -> NewEvent {
    NewEvent {
        event: Event::MessagePosted {
            attachments: Vec::new(),
            reply_to: None,
            also_in_channel: false,
            channel_id,
            message_id,
            author: DisplayName::parse("ada").unwrap(),
            body: MessageBody::parse(body).unwrap(),
            author_id: None,
        },
        metadata: EventMetadata {
            actor: "ada".into(),
            correlation_id: CorrelationId::new(),
            causation_id: None,
            client_message_id: Some(message_id),
        },
    }
}

/// Appends one post to `channel`'s stream, whatever its version.
async fn post_in(store: &EventStore, channel: ChannelId) -> Position {
    store
        .append(
            channel.stream(),
            ExpectedVersion::Any,
            vec![posted(channel, MessageId::new(), "x")],
        )
        .await
        .unwrap()
        .first
}

fn created(channel_id: ChannelId) -> NewEvent {
    NewEvent {
        event: Event::ChannelCreated {
            channel_id,
            name: "test".into(),
            kind: ChannelKind::Lobby,
            private: false,
        },
        metadata: EventMetadata {
            actor: "system".into(),
            correlation_id: CorrelationId::new(),
            causation_id: None,
            client_message_id: None,
        },
    }
}

#[tokio::test]
async fn appends_get_consecutive_positions_and_versions() {
    let app = spawn_app().await;
    let store = app.engine.store();
    let head = store.head().await.unwrap();
    let channel = ChannelId::new();
    let stream = channel.stream();
    let first = store
        .append(stream.clone(), ExpectedVersion::NoStream, vec![created(channel)])
        .await
        .unwrap();
    assert_eq!(first.first, head.next());
    assert_eq!(first.stream_version, 1);
    let batch = vec![
        posted(channel, MessageId::new(), "a"),
        posted(channel, MessageId::new(), "b"),
    ];
    let second = store
        .append(stream.clone(), ExpectedVersion::Exact(1), batch)
        .await
        .unwrap();
    assert_eq!((second.first, second.last), (head.next().next(), Position(head.0 + 3)));
    assert_eq!(second.stream_version, 3);

    let events = store
        .read_stream(&stream, Position::ZERO, Position(u64::MAX >> 1), 100)
        .await
        .unwrap();
    let versions: Vec<u64> = events.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, [1, 2, 3]);
    assert!(events.windows(2).all(|w| w[0].position < w[1].position));
}

#[tokio::test]
async fn a_resent_client_message_id_is_stored_once_and_acked_with_the_first_position() {
    let app = spawn_app().await;
    let store = app.engine.store();
    let id = MessageId::new();
    let stream = ChannelId::GENERAL.stream();
    let first = store
        .append(
            stream.clone(),
            ExpectedVersion::Any,
            vec![posted(ChannelId::GENERAL, id, "x")],
        )
        .await
        .unwrap();
    assert!(!first.duplicate);
    let head = store.head().await.unwrap();
    let again = store
        .append(stream, ExpectedVersion::Any, vec![posted(ChannelId::GENERAL, id, "x")])
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.first, first.first);
    assert_eq!(store.head().await.unwrap(), head, "the resend stored nothing");
}

#[tokio::test]
async fn a_version_conflict_is_a_typed_error_and_stores_nothing() {
    let app = spawn_app().await;
    let store = app.engine.store();
    let channel = ChannelId::new();
    store
        .append(channel.stream(), ExpectedVersion::NoStream, vec![created(channel)])
        .await
        .unwrap();
    let head = store.head().await.unwrap();

    let stale = store
        .append(
            channel.stream(),
            ExpectedVersion::Exact(0),
            vec![posted(channel, MessageId::new(), "late")],
        )
        .await;
    assert_eq!(
        stale,
        Err(AppendError::Conflict {
            stream: channel.stream(),
            expected: ExpectedVersion::Exact(0),
            actual: 1
        })
    );
    let twice = store
        .append(channel.stream(), ExpectedVersion::NoStream, vec![created(channel)])
        .await;
    assert!(matches!(twice, Err(AppendError::Conflict { actual: 1, .. })));
    assert_eq!(store.head().await.unwrap(), head);
}

#[tokio::test]
async fn concurrent_appends_are_group_committed_without_gaps() {
    let app = spawn_app().await;
    let store = app.engine.store().clone();
    let head = store.head().await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let event = posted(ChannelId::GENERAL, MessageId::new(), &format!("m{i}"));
            store
                .append(ChannelId::GENERAL.stream(), ExpectedVersion::Any, vec![event])
                .await
                .unwrap()
                .first
        }));
    }
    let mut positions = Vec::new();
    for task in tasks {
        positions.push(task.await.unwrap());
    }
    positions.sort();
    let expected: Vec<Position> = (head.0 + 1..=head.0 + 200).map(Position).collect();
    assert_eq!(positions, expected, "200 acks, 200 consecutive positions");
    // One refused request in a batch does not undo the others.
    let bad = store.append(
        StreamId("channel-x".into()),
        ExpectedVersion::Exact(9),
        vec![created(ChannelId::new())],
    );
    let good = store.append(
        ChannelId::GENERAL.stream(),
        ExpectedVersion::Any,
        vec![posted(ChannelId::GENERAL, MessageId::new(), "ok")],
    );
    let (bad, good) = tokio::join!(bad, good);
    assert!(bad.is_err());
    assert_eq!(good.unwrap().first, Position(head.0 + 201));
}

#[tokio::test]
async fn an_empty_append_is_refused() {
    let app = spawn_app().await;
    let result = app
        .engine
        .store()
        .append(ChannelId::GENERAL.stream(), ExpectedVersion::Any, vec![])
        .await;
    assert_eq!(result, Err(AppendError::Empty));
}

#[tokio::test]
async fn the_same_client_message_id_sent_concurrently_is_stored_once() {
    let app = spawn_app().await;
    let store = app.engine.store().clone();
    let head = store.head().await.unwrap();
    let id = MessageId::new();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let event = posted(ChannelId::GENERAL, id, "once");
            store
                .append(ChannelId::GENERAL.stream(), ExpectedVersion::Any, vec![event])
                .await
                .unwrap()
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    assert!(
        results.iter().all(|r| r.first == head.next()),
        "every resend acks the one position"
    );
    assert_eq!(results.iter().filter(|r| !r.duplicate).count(), 1);
    assert_eq!(store.head().await.unwrap(), head.next(), "stored once");
    // And the stream's version moved by one: the next append follows it.
    let next = store
        .append(
            ChannelId::GENERAL.stream(),
            ExpectedVersion::Any,
            vec![posted(ChannelId::GENERAL, MessageId::new(), "next")],
        )
        .await
        .unwrap();
    assert_eq!(next.stream_version, results[0].stream_version + 1);
}

#[tokio::test]
async fn several_streams_are_read_in_log_order_a_bounded_page_at_a_time_with_nothing_missed() {
    let app = spawn_app().await;
    let store = app.engine.store();
    let (a, b, other) = (ChannelId::new(), ChannelId::new(), ChannelId::new());
    let start = store.head().await.unwrap();
    // Interleaved: a gets 7 events, b 3, and a stream not asked for 5.
    let mut wanted = Vec::new();
    for i in 0..15 {
        let channel = match i % 3 {
            0 if i < 9 => b,
            0 => other,
            1 | 2 if i % 5 == 4 => other,
            _ => a,
        };
        let position = post_in(store, channel).await;
        if channel != other {
            wanted.push(position);
        }
    }
    let up_to = store.head().await.unwrap();
    let mut streams = [a.stream(), b.stream()].map(|s| (s, StreamCursor::Position(start)));
    // Pages of at most 2 a stream: each page is complete up to where it says.
    let (mut got, mut after, mut pages) = (Vec::new(), start, 0);
    while after < up_to {
        let (page, reached) = store.read_streams(&mut streams, up_to, 2).await.unwrap();
        assert!(reached > after, "a page made no progress");
        assert!(page.len() <= 2 * streams.len());
        assert!(
            streams
                .iter()
                .all(|(_, cursor)| matches!(cursor, StreamCursor::Version(_))),
            "after a page each stream is read on from its version"
        );
        assert!(page.iter().all(|e| e.position > after && e.position <= reached));
        got.extend(page.iter().map(|e| e.position));
        after = reached;
        pages += 1;
    }
    assert_eq!(got, wanted, "every event of the two streams once, in log order");
    assert!(pages > 1, "the streams fit in one page; the test shows no paging");
}

#[tokio::test]
async fn a_stream_is_read_after_any_position_up_to_a_bound_whether_or_not_the_position_is_its_own() {
    let app = spawn_app().await;
    let store = app.engine.store();
    let (mine, other) = (ChannelId::new(), ChannelId::new());
    // Interleaved: two of mine, one of the other, and so on.
    let mut all = Vec::new();
    for i in 0..12 {
        let channel = if i % 3 == 2 { other } else { mine };
        let position = post_in(store, channel).await;
        all.push((channel, position));
    }
    let head = store.head().await.unwrap();
    let first = all[0].1;
    // After each position around and between them (one of mine, one of the other's, one
    // before them all), up to several bounds: what a filter of the whole log would give.
    for after in (first.0 - 1)..=head.0 {
        for up_to in [head, Position(head.0 - 2), Position(first.0 + 4)] {
            let expected: Vec<Position> = all
                .iter()
                .filter(|(c, p)| *c == mine && p.0 > after && *p <= up_to)
                .map(|(_, p)| *p)
                .collect();
            let got: Vec<Position> = store
                .read_stream(&mine.stream(), Position(after), up_to, 100)
                .await
                .unwrap()
                .iter()
                .map(|e| e.position)
                .collect();
            assert_eq!(got, expected, "after {after}, up to {up_to}");
            // A page at a time, each page after the last event of the one before.
            let (mut paged, mut from) = (Vec::new(), Position(after));
            loop {
                let page = store.read_stream(&mine.stream(), from, up_to, 2).await.unwrap();
                let Some(last) = page.last().map(|e| e.position) else {
                    break;
                };
                paged.extend(page.iter().map(|e| e.position));
                from = last;
            }
            assert_eq!(paged, expected, "paged, after {after}, up to {up_to}");
        }
    }
}

/// On SQLite the writer's commits leave the WAL as it is; the checkpointer, on its own
/// connection, copies them into the database file soon after. Without it nothing would
/// (the read side rarely writes), and the WAL would grow without end.
#[tokio::test]
async fn committed_pages_reach_the_database_file_beside_the_writer() {
    if crate::helpers::on_postgres() {
        return;
    }
    let app = spawn_app().await;
    let file = app.dir.path().join("parley.db");
    let size = || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    app.wait_projected().await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let before = size();
    for i in 0..100 {
        app.post(&format!("message {i}: {}", "words ".repeat(100))).await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while size() <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "the database file stayed at {before} bytes: nothing copied the WAL into it"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The projector's commits (at start, in a rebuild) copy nothing from the WAL into the
/// database file either: its folds wake the checkpointer, as the writer's commits do, so a
/// rebuild's pages reach the file with no append after it.
#[tokio::test]
async fn a_rebuild_reaches_the_database_file_without_an_append() {
    if crate::helpers::on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("parley.db");
    let services = parley_server::startup::Services::start(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    let modified = || std::fs::metadata(&file).and_then(|m| m.modified()).unwrap();
    // What starting wrote (#general) is copied first.
    let mut before = modified();
    for _ in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        if modified() == before {
            break;
        }
        before = modified();
    }
    services.projector.rebuild().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while modified() == before {
        assert!(
            std::time::Instant::now() < deadline,
            "the rebuild's pages stayed in the WAL: nothing copied them into the database file"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    services.stop().await;
}

/// A database whose WAL a checkpointer looks after (restarting it past `restart_frames`
/// pages, in `turn`), two readers one of which is always inside the WAL (so SQLite never
/// starts it over by itself), and the writer's connection.
struct WalRig {
    _dir: tempfile::TempDir,
    head: tokio::sync::watch::Sender<Position>,
    _folds: tokio::sync::watch::Sender<Position>,
    checkpointer: tokio::task::JoinHandle<()>,
    reading: std::sync::Arc<std::sync::atomic::AtomicBool>,
    readers: Vec<tokio::task::JoinHandle<()>>,
    writer: sqlx::AnyConnection,
    wal: std::path::PathBuf,
    position: u64,
}

impl WalRig {
    async fn start(restart_frames: i64, turn: parley_engine::db::FileTurn) -> Self {
        use parley_engine::db::{self, WriterConnection};
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wal.db");
        let db = db::open(&format!("sqlite://{}", file.display())).await.unwrap();
        let (head, follows) = tokio::sync::watch::channel(Position(0));
        let (folds, folded) = tokio::sync::watch::channel(Position(0));
        let checkpointer = db
            .checkpointer(follows, folded, restart_frames, turn)
            .await
            .unwrap()
            .expect("SQLite has one");
        sqlx::query("CREATE TABLE filler (body TEXT NOT NULL)")
            .execute(&db.pool)
            .await
            .unwrap();
        // Two readers whose read transactions overlap: one of them is always in the WAL.
        let reading = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let mut readers = Vec::new();
        for stagger in [0, 15] {
            let (pool, reading) = (db.pool.clone(), reading.clone());
            readers.push(tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(stagger)).await;
                while reading.load(std::sync::atomic::Ordering::Relaxed) {
                    let mut tx = pool.begin().await.unwrap();
                    let _: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM filler")
                        .fetch_one(&mut *tx)
                        .await
                        .unwrap();
                    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                    tx.rollback().await.unwrap();
                }
            }));
        }
        let WriterConnection::Sqlite(writer) = db.writer_connection().await.unwrap() else {
            unreachable!("an SQLite database has an SQLite writer");
        };
        let wal = db.wal_path().unwrap().expect("SQLite has a WAL");
        Self {
            _dir: dir,
            head,
            _folds: folds,
            checkpointer,
            reading,
            readers,
            writer,
            wal,
            position: 0,
        }
    }

    /// Commits 160 KB (40 rows of 4 KB), tells the checkpointer, waits 5 ms; the WAL's
    /// size after.
    async fn commit(&mut self) -> u64 {
        use sqlx::Executor;
        let row = "x".repeat(4_000);
        self.writer.execute("BEGIN IMMEDIATE").await.unwrap();
        for _ in 0..40 {
            sqlx::query("INSERT INTO filler (body) VALUES ($1)")
                .bind(&row)
                .execute(&mut self.writer)
                .await
                .unwrap();
        }
        self.writer.execute("COMMIT").await.unwrap();
        self.position += 1;
        self.head.send_replace(Position(self.position));
        let size = std::fs::metadata(&self.wal).map(|m| m.len()).unwrap_or(0);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        size
    }

    async fn stop(self) {
        self.reading.store(false, std::sync::atomic::Ordering::Relaxed);
        for reader in self.readers {
            reader.await.unwrap();
        }
        self.checkpointer.abort();
    }
}

/// Under steady writes some reader is always inside the WAL, so SQLite never starts it
/// over by itself: passive checkpoints alone let it grow for as long as the load lasts.
/// The checkpointer empties it once it is `restart_frames` pages long, even then.
#[tokio::test]
async fn the_wal_stays_bounded_while_readers_never_stop() {
    if crate::helpers::on_postgres() {
        return;
    }
    let mut rig = WalRig::start(256, Default::default()).await;
    let mut largest = 0;
    // 24 MB of rows, 160 KB per commit.
    for _ in 0..150 {
        largest = largest.max(rig.commit().await);
    }
    rig.stop().await;
    assert!(
        largest < 8 << 20,
        "the WAL grew to {largest} bytes for 24 MB written: nothing started it over"
    );
}

/// The checkpointer starts the WAL over in the writers' turn (the writer then waits on a
/// lock that wakes it as the checkpoint ends, not in SQLite's growing sleeps): while the
/// turn is held it never does, and once it is free it does again.
#[tokio::test]
async fn the_wal_is_started_over_only_in_the_writers_turn() {
    if crate::helpers::on_postgres() {
        return;
    }
    let turn = parley_engine::db::FileTurn::default();
    let mut rig = WalRig::start(256, turn.clone()).await;
    // 9.6 MB in the turn held: the WAL holds all of it (256 pages are 1 MB).
    let held = turn.lock().await;
    let mut while_held = 0;
    for _ in 0..60 {
        while_held = rig.commit().await;
    }
    drop(held);
    // 14.4 MB more once it is free: started over, the WAL is written from its start again.
    let mut after = 0;
    for _ in 0..90 {
        after = rig.commit().await;
    }
    rig.stop().await;
    assert!(
        while_held >= 9 << 20,
        "the WAL was started over while the writers' turn was held: {while_held} bytes"
    );
    assert!(
        after < 16 << 20,
        "the WAL was not started over once the turn was free: {after} bytes"
    );
}

/// The store's writer keeps a batch's statement journal in memory, not in a temporary
/// file opened and deleted for each batch; the projector's connection (whose rebuild
/// statements can be as large as a read model) and the pool's readers keep SQLite's default.
#[tokio::test]
async fn the_writer_keeps_statement_journals_in_memory() {
    if crate::helpers::on_postgres() {
        return;
    }
    use parley_engine::db::{self, WriterConnection};
    const MEMORY: i64 = 2;
    let dir = tempfile::tempdir().unwrap();
    let db = db::open(&format!("sqlite://{}", dir.path().join("temp.db").display()))
        .await
        .unwrap();
    let WriterConnection::Sqlite(mut writer) = db.writer_connection().await.unwrap() else {
        unreachable!("an SQLite database has an SQLite writer");
    };
    async fn temp_store<'c>(conn: impl sqlx::Executor<'c, Database = sqlx::Any>) -> i64 {
        sqlx::query_scalar("PRAGMA temp_store").fetch_one(conn).await.unwrap()
    }
    assert_eq!(
        temp_store(&mut writer).await,
        MEMORY,
        "the writer's statement journals go to temporary files"
    );
    let mut projector = db.projector_connection().await.unwrap();
    assert_ne!(
        temp_store(&mut projector).await,
        MEMORY,
        "a rebuild's statements should not be journaled in memory"
    );
    let autocheckpoint: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(&mut projector)
        .await
        .unwrap();
    assert_eq!(autocheckpoint, 0, "the projector's commits copy the WAL themselves");
    assert_ne!(
        temp_store(&db.pool).await,
        MEMORY,
        "the readers' temporary tables and sorts should keep SQLite's default"
    );
}
