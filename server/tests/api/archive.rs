//! Export and import of the log: a round trip gives the same log and the same read models;
//! a bad file or a database that already has events is refused and nothing changes.

use crate::helpers::{database_in, spawn_app};
use parley::ChannelId;

#[tokio::test]
async fn an_exported_log_imports_into_an_empty_database_with_identical_read_models() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let (message_id, _) = app.post("exported **words**").await;
    let react = serde_json::json!({
        "channel": ChannelId::GENERAL, "message_id": message_id, "change": {"type": "react", "emoji": "🎉", "on": true},
    });
    assert_eq!(app.call_as(&ada.http, "change_message", react).await.status(), 200);
    assert_eq!(
        app.call_as(&ada.http, "create_space", serde_json::json!({ "name": "moved" }))
            .await
            .status(),
        200
    );
    app.wait_projected().await;
    let dump = app.read_model_dump().await;
    let source = app.database_url.clone();
    let head = app.head().await;
    let dir = app.stop().await;

    let mut file = Vec::new();
    let exported = parley_server::archive::export(&source, &mut file).await.unwrap();
    assert_eq!(exported, head.0);
    assert_eq!(String::from_utf8(file.clone()).unwrap().lines().count() as u64, head.0);

    let target_dir = tempfile::tempdir().unwrap();
    let target = database_in(&target_dir).await;
    let imported = parley_server::archive::import(&target, file.as_slice()).await.unwrap();
    assert_eq!(imported, head.0);
    let mut again = Vec::new();
    parley_server::archive::export(&target, &mut again).await.unwrap();
    assert_eq!(again, file, "the same log, event for event");
    let moved = crate::helpers::spawn_app_in(target_dir).await;
    // The new server signs up `tester` again only if missing: the imported one signs in.
    assert_eq!(moved.read_model_dump().await, dump);

    // Into a database with events: refused.
    let refused = parley_server::archive::import(&source, file.as_slice()).await;
    assert!(refused.unwrap_err().to_string().contains("already holds"));
    drop(dir);
}

#[tokio::test]
async fn a_damaged_file_is_refused_with_its_line_and_imports_nothing() {
    let app = spawn_app().await;
    app.post("one").await;
    app.post("two").await;
    let source = app.database_url.clone();
    let _dir = app.stop().await;
    let mut file = Vec::new();
    parley_server::archive::export(&source, &mut file).await.unwrap();
    let text = String::from_utf8(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    let damaged = [
        // A line cut short.
        format!("{}\n{}\n", lines[0], &lines[1][..lines[1].len() / 2]),
        // A gap in the positions.
        format!("{}\n{}\n", lines[0], lines[2]),
        // An event type this version does not know.
        format!("{}\n", lines[0].replace("ChannelCreated", "ChannelExploded")),
        // A message body no door would accept.
        lines
            .iter()
            .map(|l| l.replace("\"body\":\"two\"", &format!("\"body\":\"{}\"", "x".repeat(5_000))))
            .collect::<Vec<_>>()
            .join("\n"),
    ];
    for (i, bad) in damaged.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let target = database_in(&dir).await;
        let error = parley_server::archive::import(&target, bad.as_bytes())
            .await
            .unwrap_err();
        assert!(format!("{error:#}").contains("line"), "case {i}: {error:#}");
        let mut out = Vec::new();
        assert_eq!(
            parley_server::archive::export(&target, &mut out).await.unwrap(),
            0,
            "case {i}"
        );
    }
}
