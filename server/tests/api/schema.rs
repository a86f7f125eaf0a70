//! Schema versions: a log whose channels were stored at version 1 of `ChannelCreated` (as
//! Parley wrote them before the type's version 2) is read through the upcaster by every
//! reader: a rebuild, the commands' aggregates, access control, sockets, export and import.

use crate::helpers::{database_in, spawn_app, spawn_app_in};
use parley::protocol::ClientFrame;
use parley::{ChannelId, ChannelKind, Event, MessageId, Position};
use parley_app::api::SpaceView;
use serde_json::{Value, json};

/// Writes every `ChannelCreated` of the log back the way version 1 stored it: an optional
/// `space_id` and optional `members`, absent when empty. Returns how many of each kind.
async fn store_channels_at_version_one(database_url: &str) -> (usize, usize, usize) {
    let pool = parley_engine::db::open(database_url).await.unwrap().pool;
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT position, schema_version, payload FROM events WHERE event_type = 'ChannelCreated' ORDER BY position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let (mut lobbies, mut spaces, mut directs) = (0, 0, 0);
    for (position, version, payload) in rows {
        assert_eq!(version, 2, "written today at version 2");
        let mut fields: serde_json::Map<String, Value> = serde_json::from_str(&payload).unwrap();
        let kind = fields.remove("kind").unwrap();
        match kind["type"].as_str() {
            Some("lobby") => lobbies += 1,
            Some("space") => {
                fields.insert("space_id".into(), kind["space_id"].clone());
                spaces += 1;
            }
            Some("direct") => {
                fields.insert("members".into(), kind["members"].clone());
                directs += 1;
            }
            other => panic!("unexpected kind {other:?}"),
        }
        sqlx::query("UPDATE events SET schema_version = 1, payload = $1 WHERE position = $2")
            .bind(Value::Object(fields).to_string())
            .bind(position)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    (lobbies, spaces, directs)
}

fn post_args(channel: ChannelId, body: &str) -> Value {
    json!({ "channel": channel, "message_id": MessageId::new(), "body": body })
}

#[tokio::test]
async fn channels_stored_at_schema_version_one_are_read_as_todays_events_everywhere() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    app.sign_up("bob").await;
    app.sign_up("eve").await;
    let space: SpaceView = app
        .call_as(&ada.http, "create_space", json!({ "name": "old times" }))
        .await
        .json()
        .await
        .unwrap();
    let in_space = space.channels[0].channel_id;
    let direct = app.open_direct(&ada, "bob").await;
    assert_eq!(
        app.call_as(&ada.http, "post_message", post_args(direct, "psst"))
            .await
            .status(),
        200
    );
    app.wait_projected().await;
    let dump = app.read_model_dump().await;
    let database_url = app.database_url.clone();
    let dir = app.stop().await;

    assert_eq!(store_channels_at_version_one(&database_url).await, (1, 1, 1));

    // A rebuild reads the old versions into the same read models.
    parley_server::startup::rebuild_projections(&database_url)
        .await
        .unwrap();
    let app = spawn_app_in(dir).await;
    assert_eq!(app.read_model_dump().await, dump);

    // Commands fold the channels from their old events: who may post is still right.
    let ada = app.sign_in("ada").await;
    let bob = app.sign_in("bob").await;
    let eve = app.sign_in("eve").await;
    assert_eq!(
        app.call_as(&bob.http, "post_message", post_args(direct, "hi ada"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.call_as(&eve.http, "post_message", post_args(direct, "me too"))
            .await
            .status(),
        400
    );
    assert_eq!(
        app.call_as(&ada.http, "post_message", post_args(in_space, "still here"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.call_as(&eve.http, "post_message", post_args(in_space, "let me in"))
            .await
            .status(),
        400
    );
    app.post("the lobby takes posts").await;

    // A socket gets today's shape, labelled with today's version.
    let mut socket = app.socket_as(&bob).await;
    socket
        .send(&ClientFrame::Subscribe {
            channel: direct,
            after: Position(0),
            id: 0,
        })
        .await;
    let created = socket.next_event().await;
    assert_eq!(created.schema_version, 2);
    let Event::ChannelCreated {
        kind: ChannelKind::Direct { members },
        ..
    } = &created.event
    else {
        panic!("expected the direct channel's creation, got {:?}", created.event);
    };
    assert!(members.contains(&bob.me.user_id) && members.contains(&ada.me.user_id));

    // Export keeps the log as stored (version 1 stays version 1); import takes it back.
    app.wait_projected().await;
    let dump = app.read_model_dump().await;
    let _dir = app.stop().await;
    let mut file = Vec::new();
    parley_server::archive::export(&database_url, &mut file).await.unwrap();
    let lines: Vec<Value> = String::from_utf8(file.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let channels: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"]["type"] == "ChannelCreated")
        .collect();
    assert_eq!(channels.len(), 3);
    assert!(
        channels
            .iter()
            .all(|l| l["schema_version"] == 1 && l["event"]["data"].get("kind").is_none())
    );

    let target_dir = tempfile::tempdir().unwrap();
    let target = database_in(&target_dir).await;
    assert_eq!(
        parley_server::archive::import(&target, file.as_slice()).await.unwrap(),
        lines.len() as u64
    );
    let moved = spawn_app_in(target_dir).await;
    assert_eq!(moved.read_model_dump().await, dump);
}

#[tokio::test]
async fn an_old_version_that_cannot_be_upcast_is_refused_on_import_with_its_line() {
    let app = spawn_app().await;
    app.post("one").await;
    let source = app.database_url.clone();
    let _dir = app.stop().await;
    let mut file = Vec::new();
    parley_server::archive::export(&source, &mut file).await.unwrap();
    let text = String::from_utf8(file).unwrap();
    let mut lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let first = &mut lines[0];
    assert_eq!(first["event"]["type"], "ChannelCreated");

    // Version 1 with both a space and members: no version 2 event says that.
    first["schema_version"] = json!(1);
    first["event"]["data"] = json!({
        "channel_id": ChannelId::new(), "name": "both", "space_id": uuid::Uuid::new_v4(), "members": [],
    });
    let both = lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n");
    // A version from the future.
    lines[0]["schema_version"] = json!(3);
    let future = lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n");

    for (bad, says) in [(both, "cannot be read"), (future, "unknown schema version 3")] {
        let dir = tempfile::tempdir().unwrap();
        let target = database_in(&dir).await;
        let error = parley_server::archive::import(&target, bad.as_bytes())
            .await
            .unwrap_err();
        let message = format!("{error:#}");
        assert!(message.starts_with("line 1:"), "{message}");
        assert!(message.contains(says), "{message}");
        let pool = parley_engine::db::open(&target).await.unwrap().pool;
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(count, 0, "nothing imported");
    }
}
