//! Deleting an account: its name, profile and sessions are gone from every door (history,
//! socket catch-up and live frames, search, conversations, REST, the inspector), a rebuild
//! of the read models comes out the same, and its messages go too when asked.

use crate::helpers::{PASSWORD, TestApp, User, browser, spawn_app};
use crate::rest::create_token;
use parley::protocol::ServerFrame;
use parley::{ChannelId, MessageId, Position};
use serde_json::{Value, json};

const NAME: &str = "zelda9";
const DISPLAY: &str = "Zelda Quill";
const GONE: &str = parley::redact::ERASED_NAME;

async fn ok(response: reqwest::Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn post_as(app: &TestApp, user: &User, channel: ChannelId, body: &str) -> MessageId {
    let id = MessageId::new();
    let args = json!({ "channel": channel, "message_id": id, "body": body });
    ok(app.call_as(&user.http, "post_message", args).await).await;
    id
}

/// Everything a signed-in `user` (and the admin) can read that might name her, as text.
async fn every_door(app: &TestApp, user: &User, token: &str, channels: &[ChannelId]) -> String {
    let mut seen = Vec::new();
    for channel in channels {
        let args = json!({ "channel": channel, "before": null, "limit": 100 });
        seen.push(ok(app.call_as(&user.http, "history", args).await).await.to_string());
        let rest = reqwest::Client::new()
            .get(format!("http://{}/api/v1/channels/{channel}/messages", app.addr))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        seen.push(rest.text().await.unwrap());
        let mut socket = app.socket_as(user).await;
        socket
            .send(&parley::protocol::ClientFrame::Subscribe {
                channel: *channel,
                after: Position::ZERO,
                id: 0,
            })
            .await;
        loop {
            let frame = socket.next().await;
            seen.push(format!("{frame:?}"));
            if matches!(frame, ServerFrame::CaughtUp { .. }) {
                break;
            }
        }
        let at = app.head().await;
        let past = json!({ "channel": channel, "position": at });
        seen.push(ok(app.call("channel_at", past).await).await.to_string());
    }
    for query in ["words", "from:@zelda9"] {
        let hits = app.call_as(&user.http, "search", json!({ "query": query })).await;
        seen.push(hits.text().await.unwrap());
    }
    seen.push(
        ok(app.call_as(&user.http, "my_directs", json!({})).await)
            .await
            .to_string(),
    );
    seen.push(
        ok(app
            .call_as(&user.http, "profiles", json!({ "usernames": [NAME] }))
            .await)
        .await
        .to_string(),
    );
    seen.push(
        ok(app.call("list_accounts", json!({ "search": "" })).await)
            .await
            .to_string(),
    );
    seen.push(serde_json::to_string(&app.log_page(json!({})).await).unwrap());
    seen.join("\n")
}

fn assert_forgotten(seen: &str) {
    for trace in [NAME, DISPLAY, "her status"] {
        assert!(!seen.contains(trace), "{trace:?} is still served:\n{seen}");
    }
}

#[tokio::test]
async fn a_deleted_account_is_served_by_no_door_and_a_rebuild_keeps_it_so() {
    let app = spawn_app().await;
    let zelda = app.sign_up(NAME).await;
    let bob = app.sign_up("bobby").await;
    let (_, token) = create_token(&app, &bob, "bob's script").await;
    let (_, hers) = create_token(&app, &zelda, "her script").await;
    let direct = app.open_direct(&zelda, "bobby").await;
    let mut bobs_socket = app.socket_as(&bob).await;
    let mut her_socket = app.socket_as(&zelda).await;
    let profile = json!({ "profile": { "display_name": DISPLAY, "status_text": "her status" } });
    ok(app.call_as(&zelda.http, "set_profile", profile).await).await;
    // Bob's socket hears of it (he knows her from their conversation).
    loop {
        if let ServerFrame::Profile { person } = bobs_socket.next().await {
            assert_eq!(person.username, NAME);
            break;
        }
    }
    post_as(&app, &zelda, ChannelId::GENERAL, "her kept words").await;
    let his = post_as(&app, &bob, ChannelId::GENERAL, "his words").await;
    let react = json!({ "channel": ChannelId::GENERAL, "message_id": his, "change": {"type": "react", "emoji": "🎉", "on": true} });
    ok(app.call_as(&zelda.http, "change_message", react).await).await;
    post_as(&app, &zelda, direct, "her direct words").await;
    let before = every_door(&app, &bob, &token, &[ChannelId::GENERAL, direct]).await;
    assert!(
        before.contains(NAME) && before.contains(DISPLAY),
        "the doors show her before"
    );

    // A wrong password changes nothing.
    let wrong = json!({ "password": "not her password", "erase_messages": false });
    assert_eq!(app.call_as(&zelda.http, "delete_account", wrong).await.status(), 400);
    let me: Option<parley_app::api::Me> = app
        .call_as(&zelda.http, "whoami", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(me.is_some());

    let delete = json!({ "password": PASSWORD, "erase_messages": false });
    ok(app.call_as(&zelda.http, "delete_account", delete).await).await;
    her_socket.expect_closed().await;
    loop {
        match bobs_socket.next().await {
            ServerFrame::Erased { username, messages } => {
                assert_eq!((username.as_str(), messages), (NAME, false));
                break;
            }
            ServerFrame::Presence { .. } | ServerFrame::Profile { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }

    // Her session, her token and her password open nothing; nobody takes her name.
    let me: Option<parley_app::api::Me> = app
        .call_as(&zelda.http, "whoami", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(me.is_none());
    let by_token = reqwest::Client::new()
        .get(format!("http://{}/api/v1/channels", app.addr))
        .bearer_auth(&hers)
        .send()
        .await
        .unwrap();
    assert_eq!(by_token.status(), 401);
    for (function, name) in [("sign_in", NAME), ("sign_up", NAME), ("sign_up", GONE)] {
        let again = json!({ "username": name, "password": PASSWORD });
        let response = app.call_as(&browser().0, function, again).await;
        assert_ne!(response.status(), 200, "{function} {name}");
    }
    let lookup = reqwest::Client::new()
        .get(format!("http://{}/api/v1/users/{NAME}", app.addr))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.status(), 404);
    let card = app.call_as(&bob.http, "person_card", json!({ "username": NAME })).await;
    assert_ne!(card.status(), 200);
    let dm = app
        .call_as(&bob.http, "open_direct", json!({ "usernames": [NAME] }))
        .await;
    assert_ne!(dm.status(), 200, "nobody opens a new conversation with her");

    let after = every_door(&app, &bob, &token, &[ChannelId::GENERAL, direct]).await;
    assert_forgotten(&after);
    for kept in ["her kept words", "her direct words", "🎉", GONE] {
        assert!(after.contains(kept), "{kept:?} should stay:\n{after}");
    }

    let dump = app.read_model_dump().await;
    let app = app.rebuilt().await;
    assert_eq!(
        app.read_model_dump().await,
        dump,
        "a rebuild folds her deletion the same"
    );
    let bob = app.sign_in("bobby").await;
    assert_forgotten(&every_door(&app, &bob, &token, &[ChannelId::GENERAL, direct]).await);
}

#[tokio::test]
async fn her_messages_go_too_when_asked_and_only_an_admin_deletes_someone_else() {
    let app = spawn_app().await;
    let zelda = app.sign_up(NAME).await;
    let bob = app.sign_up("bobby").await;
    let (_, token) = create_token(&app, &bob, "bob's script").await;
    let secret = post_as(&app, &zelda, ChannelId::GENERAL, "her secret words").await;
    let react = json!({ "channel": ChannelId::GENERAL, "message_id": secret, "change": {"type": "react", "emoji": "👍", "on": true} });
    ok(app.call_as(&bob.http, "change_message", react).await).await;

    let erase = json!({ "username": NAME, "erase_messages": true });
    assert_eq!(
        app.call_as(&bob.http, "admin_delete_account", erase.clone())
            .await
            .status(),
        403
    );
    let myself = json!({ "username": "tester", "erase_messages": false });
    assert_ne!(app.call("admin_delete_account", myself).await.status(), 200);
    let nobody = json!({ "username": "nobody", "erase_messages": false });
    let missing = app.call("admin_delete_account", nobody).await;
    let (status, text) = (missing.status(), missing.text().await.unwrap());
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("no such user: nobody"), "{text}");
    ok(app.call("admin_delete_account", erase.clone()).await).await;
    assert_eq!(
        app.call("admin_delete_account", erase).await.status(),
        400,
        "deleted already"
    );

    let seen = every_door(&app, &bob, &token, &[ChannelId::GENERAL]).await;
    assert_forgotten(&seen);
    assert!(!seen.contains("her secret words"), "{seen}");
    let history = app.history(None, 50).await;
    let gone = history.iter().find(|m| m.message_id == secret).unwrap();
    assert!(
        gone.deleted && gone.body.is_empty() && gone.reactions.is_empty(),
        "{gone:?}"
    );
    assert_eq!(gone.author, GONE);

    let dump = app.read_model_dump().await;
    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, dump);
}
