//! Search: full-text over the channels a user can read, and nothing else.

use crate::helpers::spawn_app;
use parley::{ChannelId, MessageId};
use parley_app::api::{SearchHit, SpaceView};
use serde_json::json;

async fn search(app: &crate::helpers::TestApp, user: &crate::helpers::User, query: &str) -> Vec<SearchHit> {
    let response = app.call_as(&user.http, "search", json!({ "query": query })).await;
    assert_eq!(response.status(), 200, "{query:?}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn search_finds_words_in_readable_channels_only_and_follows_edits_and_deletes() {
    let app = spawn_app().await;
    let eve = app.sign_up("eve").await;
    let (lobby, _) = app.post("The deployment is on Friday, café open").await;
    app.post("nothing to see").await;
    // A space eve is not in.
    let space: SpaceView = app
        .call("create_space", json!({ "name": "Secret" }))
        .await
        .json()
        .await
        .unwrap();
    let secret = space.channels[0].channel_id;
    let post = json!({ "channel": secret, "message_id": MessageId::new(), "body": "deployment keys rotate Friday" });
    assert_eq!(app.call("post_message", post).await.status(), 200);
    app.wait_projected().await;

    let mine = search(&app, &app.user, "deploy fri").await;
    assert_eq!(mine.len(), 2, "prefix match on the last word: {mine:?}");
    assert!(mine.iter().any(|h| h.channel_id == secret));
    let hit = mine.iter().find(|h| h.message_id == lobby).unwrap();
    assert_eq!(hit.channel_id, ChannelId::GENERAL);
    let marked: Vec<&str> = hit
        .snippet
        .iter()
        .filter(|(_, m)| *m)
        .map(|(t, _)| t.as_str())
        .collect();
    assert_eq!(marked, ["deployment", "Friday"]);
    assert_eq!(search(&app, &app.user, "cafe").await.len(), 1, "accents do not matter");

    let theirs = search(&app, &eve, "deployment").await;
    assert_eq!(theirs.len(), 1, "eve does not see the space she is not in");
    assert_eq!(theirs[0].message_id, lobby);

    // Whatever is typed is a valid query.
    for odd in [
        "\"",
        "NEAR(",
        "a OR",
        "*",
        "body:x",
        "-",
        "((",
        "'; DROP TABLE messages; --",
    ] {
        search(&app, &eve, odd).await;
    }
    let long = app
        .call_as(&eve.http, "search", json!({ "query": "x".repeat(201) }))
        .await;
    assert_eq!(long.status(), 400);

    // Edits replace what is found; deleted messages are not found.
    let edit = json!({ "channel": ChannelId::GENERAL, "message_id": lobby, "change": { "type": "edit", "body": "moved to Monday" } });
    assert_eq!(app.call("change_message", edit).await.status(), 200);
    assert!(search(&app, &eve, "friday").await.is_empty());
    assert_eq!(search(&app, &eve, "monday").await.len(), 1);
    let delete = json!({ "channel": ChannelId::GENERAL, "message_id": lobby, "change": { "type": "delete" } });
    assert_eq!(app.call("change_message", delete).await.status(), 200);
    assert!(search(&app, &eve, "monday").await.is_empty());

    // A rebuild gives the same answers.
    let before = search(&app, &app.user, "deployment").await;
    let app = app.rebuilt().await;
    assert_eq!(search(&app, &app.user, "deployment").await, before);
}
