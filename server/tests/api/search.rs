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

    // A rebuild gives the same answers, and the search index follows posts and edits after
    // it as before (on SQLite a rebuild fills it in one pass at its end).
    let before = search(&app, &app.user, "deployment").await;
    let app = app.rebuilt().await;
    assert_eq!(search(&app, &app.user, "deployment").await, before);
    let (later, _) = app.post("the retrospective is on Tuesday").await;
    app.wait_projected().await;
    assert_eq!(search(&app, &app.user, "retrospective").await.len(), 1);
    let edit = json!({ "channel": ChannelId::GENERAL, "message_id": later, "change": { "type": "edit", "body": "the review is on Tuesday" } });
    assert_eq!(app.call("change_message", edit).await.status(), 200);
    app.wait_projected().await;
    assert!(search(&app, &app.user, "retrospective").await.is_empty());
    assert_eq!(search(&app, &app.user, "review").await.len(), 1);
}

#[tokio::test]
async fn a_rebuild_cut_short_has_its_search_index_filled_again_when_the_server_starts() {
    let app = spawn_app().await;
    app.post("the harbour opens at dawn").await;
    let database_url = app.database_url.clone();
    let dir = app.stop().await;
    // What a rebuild cut short between its first and last transactions leaves behind.
    let db = parley_engine::db::open(&database_url).await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    parley_engine::read_model::messages::suspend_indexes(&mut conn, db.backend)
        .await
        .unwrap();
    drop(conn);
    db.pool.close().await;

    let app = crate::helpers::spawn_app_in(dir).await;
    assert_eq!(search(&app, &app.user, "harbour").await.len(), 1);
    app.post("the lighthouse keeper waves").await;
    app.wait_projected().await;
    assert_eq!(search(&app, &app.user, "lighthouse").await.len(), 1);
}

async fn search_with(app: &crate::helpers::TestApp, user: &crate::helpers::User, query: &str) -> (u16, String) {
    let response = app
        .call_as(&user.http, "search", json!({ "query": query, "offset_minutes": 0 }))
        .await;
    (response.status().as_u16(), response.text().await.unwrap())
}

fn bodies(hits: &[SearchHit]) -> Vec<String> {
    hits.iter()
        .map(|h| h.snippet.iter().map(|(t, _)| t.as_str()).collect())
        .collect()
}

#[tokio::test]
async fn filters_narrow_a_search_by_author_channel_files_links_dates_and_mentions() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let bob = app.sign_up("bob").await;
    let post = |user: crate::helpers::User, channel: ChannelId, body: &'static str, files: Vec<String>| {
        let app = &app;
        async move {
            let args =
                json!({ "channel": channel, "message_id": MessageId::new(), "body": body, "attachments": files });
            let response = app.call_as(&user.http, "post_message", args).await;
            assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        }
    };
    let space: SpaceView = app
        .call_as(&ada.http, "create_space", json!({ "name": "Works" }))
        .await
        .json()
        .await
        .unwrap();
    let created = crate::spaces::act(
        &app,
        &ada,
        space.space_id,
        parley::api::SpaceAction::CreateChannel {
            name: "ops".into(),
            private: false,
        },
    )
    .await
    .unwrap();
    let parley::api::SpaceOutcome::Channel { channel_id: works } = created else {
        panic!("a channel: {created:?}");
    };
    let file = crate::files::uploaded(&app, &ada, "plan.txt", b"the plan".to_vec()).await;
    post(
        ada.clone(),
        ChannelId::GENERAL,
        "release plan, see https://example.org/plan",
        vec![],
    )
    .await;
    post(
        bob.clone(),
        ChannelId::GENERAL,
        "release party with @ada tonight",
        vec![],
    )
    .await;
    post(
        ada.clone(),
        works,
        "release checklist attached",
        vec![file.file_id.clone()],
    )
    .await;
    app.wait_projected().await;

    let found = |query: &'static str, user: crate::helpers::User| {
        let app = &app;
        async move {
            let (status, text) = search_with(app, &user, query).await;
            assert_eq!(status, 200, "{query}: {text}");
            let hits: Vec<SearchHit> = serde_json::from_str(&text).unwrap();
            let mut found = bodies(&hits);
            found.sort();
            found
        }
    };
    assert_eq!(found("release", ada.clone()).await.len(), 3);
    assert_eq!(
        found("release from:@bob", ada.clone()).await,
        ["release party with @ada tonight"]
    );
    assert_eq!(found("release in:#general", ada.clone()).await.len(), 2);
    assert_eq!(found("in:#ops", ada.clone()).await, ["release checklist attached"]);
    assert_eq!(
        found("in:#general release from:ada", ada.clone()).await,
        ["release plan, see https://example.org/plan"]
    );
    assert_eq!(found("has:file", ada.clone()).await, ["release checklist attached"]);
    assert_eq!(
        found("release has:link", ada.clone()).await,
        ["release plan, see https://example.org/plan"]
    );
    assert_eq!(
        found("mentions:me", ada.clone()).await,
        ["release party with @ada tonight"]
    );
    assert!(found("mentions:me", bob.clone()).await.is_empty());
    // Filters never reach past what the user can read: bob is not in the space.
    assert!(found("has:file", bob.clone()).await.is_empty());
    assert!(found("release in:#general from:@nobody", ada.clone()).await.is_empty());

    // Dates: today holds all three; before today, after today: none.
    let today = {
        let days = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 86_400;
        let (mut y, mut d) = (1970i64, days as i64);
        loop {
            let len = if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                366
            } else {
                365
            };
            if d < len {
                break;
            }
            d -= len;
            y += 1;
        }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let months = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let mut m = 0;
        while d >= months[m] {
            d -= months[m];
            m += 1;
        }
        format!("{y:04}-{:02}-{:02}", m + 1, d + 1)
    };
    let on: &'static str = Box::leak(format!("release on:{today}").into_boxed_str());
    let before: &'static str = Box::leak(format!("release before:{today}").into_boxed_str());
    let after: &'static str = Box::leak(format!("release after:{today}").into_boxed_str());
    assert_eq!(found(on, ada.clone()).await.len(), 3);
    assert!(found(before, ada.clone()).await.is_empty());
    assert!(found(after, ada.clone()).await.is_empty());

    // Newest first: the last one posted leads; filters alone list the newest first too.
    let (_, text) = search_with(&app, &ada, "release sort:new").await;
    let newest: Vec<SearchHit> = serde_json::from_str(&text).unwrap();
    assert_eq!(bodies(&newest)[0], "release checklist attached");
    assert!(newest.windows(2).all(|w| w[0].position > w[1].position));
    let (_, text) = search_with(&app, &ada, "from:@ada").await;
    let mine: Vec<SearchHit> = serde_json::from_str(&text).unwrap();
    assert_eq!(
        bodies(&mine),
        [
            "release checklist attached",
            "release plan, see https://example.org/plan"
        ]
    );

    // A filter it cannot take: refused with the reason.
    for (query, reason) in [
        ("release on:someday", "on: wants a date"),
        ("has:cats", "has: takes file or link"),
    ] {
        let (status, text) = search_with(&app, &ada, query).await;
        assert_eq!(status, 400, "{query}");
        assert!(text.contains(reason), "{query}: {text}");
    }
}
