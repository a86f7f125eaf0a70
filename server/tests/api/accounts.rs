//! Accounts and sessions: sign up, sign in, sign out, and every door refusing the anonymous.

use crate::helpers::{PASSWORD, browser, spawn_app};
use parley::protocol::{ClientFrame, ServerFrame};
use parley::{ChannelId, MessageId, Position};
use tokio_tungstenite::tungstenite;

fn credentials(username: &str, password: &str) -> serde_json::Value {
    serde_json::json!({ "username": username, "password": password })
}

#[tokio::test]
async fn sign_up_sets_an_http_only_session_cookie_and_posts_carry_the_account() {
    let app = spawn_app().await;
    let (http, _jar) = browser();
    let response = app.call_as(&http, "sign_up", credentials("Ada", PASSWORD)).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("parley_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let me: parley_app::api::Me = response.json().await.unwrap();
    assert_eq!(me.username, "ada", "usernames are case-folded");

    let whoami = app.call_as(&http, "whoami", serde_json::json!({})).await;
    assert_eq!(
        whoami.json::<Option<parley_app::api::Me>>().await.unwrap(),
        Some(me.clone())
    );

    let args = serde_json::json!({ "channel": ChannelId::GENERAL, "message_id": MessageId::new(), "body": "hi" });
    let position: Position = app.call_as(&http, "post_message", args).await.json().await.unwrap();
    app.wait_projected().await;
    let stored = app.engine.store().read_all(Position(position.0 - 1), 1).await.unwrap();
    assert!(matches!(
        &stored[0].event,
        parley::Event::MessagePosted { author, author_id: Some(id), .. } if author.as_str() == "ada" && *id == me.user_id
    ));
    let page = app.history(None, 5).await;
    assert_eq!(page.last().map(|m| m.author.as_str()), Some("ada"));
}

#[tokio::test]
async fn usernames_are_unique_and_credentials_are_checked() {
    let app = spawn_app().await;
    app.sign_up("grace").await;
    let head = app.head().await;
    let (http, _jar) = browser();
    let cases = [
        (credentials("GRACE", PASSWORD), "this username is taken"),
        (credentials("x", PASSWORD), "a username must be 3 to 32 characters"),
        (
            credentials("new user", PASSWORD),
            "a username must be 3 to 32 characters",
        ),
        (credentials("newbie", "short"), "at least 8 characters"),
        (credentials("newbie", &"p".repeat(257)), "at most 256 characters"),
    ];
    for (args, expected) in cases {
        let response = app.call_as(&http, "sign_up", args).await;
        assert_eq!(response.status(), 400);
        let text = response.text().await.unwrap();
        assert!(text.contains(expected), "{text:?} should say {expected:?}");
    }
    assert_eq!(app.head().await, head, "nothing was stored");
}

#[tokio::test]
async fn racing_sign_ups_for_one_name_make_one_account() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (http, _jar) = browser();
        let url = format!("http://{}/api/sign_up", app.addr);
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .json(&credentials("racer", PASSWORD))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut ok = 0;
    for task in tasks {
        if task.await.unwrap() == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
    app.wait_projected().await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE username = 'racer'")
        .fetch_one(app.engine.store().pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn sign_in_does_not_say_whether_the_username_exists() {
    let app = spawn_app().await;
    app.sign_up("hopper").await;
    let (http, _jar) = browser();
    let wrong_password = app
        .call_as(&http, "sign_in", credentials("hopper", "not the password"))
        .await;
    assert_eq!(wrong_password.status(), 400);
    let wrong_password = wrong_password.text().await.unwrap();
    let no_such_user = app.call_as(&http, "sign_in", credentials("nobody", PASSWORD)).await;
    assert_eq!(no_such_user.status(), 400);
    assert_eq!(no_such_user.text().await.unwrap(), wrong_password);
    assert!(wrong_password.contains("wrong username or password"));

    let right = app.call_as(&http, "sign_in", credentials("Hopper", PASSWORD)).await;
    assert_eq!(right.status(), 200);
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_username() {
    let app = spawn_app().await;
    app.sign_up("target").await;
    let (http, _jar) = browser();
    for _ in 0..5 {
        let response = app
            .call_as(&http, "sign_in", credentials("target", "guess guess"))
            .await;
        assert_eq!(response.status(), 400);
    }
    let limited = app.call_as(&http, "sign_in", credentials("target", PASSWORD)).await;
    assert_eq!(limited.status(), 429, "even the right password waits");
    assert!(limited.headers().contains_key("retry-after"), "says when to try again");
    assert!(limited.text().await.unwrap().contains("too many attempts"));
    let other = app.call_as(&http, "sign_in", credentials("tester", PASSWORD)).await;
    assert_eq!(other.status(), 200, "other accounts are not locked out");
}

#[tokio::test]
async fn every_door_refuses_the_anonymous_and_changes_nothing() {
    let app = spawn_app().await;
    let head = app.head().await;
    let anonymous = reqwest::Client::new();
    let post = serde_json::json!({ "channel": ChannelId::GENERAL, "message_id": MessageId::new(), "body": "hi" });
    let response = app.call_as(&anonymous, "post_message", post).await;
    assert_eq!(response.status(), 401);
    let error: parley_app::api::AppError = response.json().await.unwrap();
    assert_eq!(error, parley_app::api::AppError::Unauthorized);
    assert_eq!(error.to_string(), "please sign in");
    let history = serde_json::json!({ "channel": ChannelId::GENERAL, "before": null, "limit": 5 });
    assert_eq!(app.call_as(&anonymous, "history", history).await.status(), 401);
    let whoami = app.call_as(&anonymous, "whoami", serde_json::json!({})).await;
    assert_eq!(whoami.json::<Option<parley_app::api::Me>>().await.unwrap(), None);

    // A forged or unknown session is no session.
    let forged = app.socket_request(&[("cookie", &format!("parley_session={}", "A".repeat(43)))]);
    match tokio_tungstenite::connect_async(forged).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    match tokio_tungstenite::connect_async(app.socket_request(&[])).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    assert_eq!(app.head().await, head);
}

#[tokio::test]
async fn pages_of_other_sites_are_refused_on_every_door() {
    let app = spawn_app().await;
    let head = app.head().await;
    let evil = [
        ("cookie", app.user.cookie()),
        ("origin", "http://evil.example".to_string()),
    ];
    let headers: Vec<(&'static str, &str)> = evil.iter().map(|(k, v)| (*k, v.as_str())).collect();
    match tokio_tungstenite::connect_async(app.socket_request(&headers)).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    let post = serde_json::json!({ "channel": ChannelId::GENERAL, "message_id": MessageId::new(), "body": "csrf" });
    let response = app
        .user
        .http
        .post(format!("http://{}/api/post_message", app.addr))
        .header("origin", "http://evil.example")
        .json(&post)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // The same request from our own origin goes through.
    let own = format!("http://{}", app.addr);
    let response = app
        .user
        .http
        .post(format!("http://{}/api/post_message", app.addr))
        .header("origin", own.as_str())
        .json(&post)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(app.head().await.0, head.0 + 1, "only the same-origin post was stored");
}

#[tokio::test]
async fn signing_out_ends_the_session_and_closes_its_sockets() {
    let app = spawn_app().await;
    let user = app.sign_up("leaver").await;
    let mut socket = app.socket_as(&user).await;
    let (events, _) = socket.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    assert!(!events.is_empty());
    let other = app.socket().await;

    let response = app.call_as(&user.http, "sign_out", serde_json::json!({})).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    socket.expect_closed().await;

    let args = serde_json::json!({ "channel": ChannelId::GENERAL, "message_id": MessageId::new(), "body": "hi" });
    assert_eq!(app.call_as(&user.http, "post_message", args).await.status(), 401);
    // Another user's socket stays open.
    let mut other = other;
    other.send(&ClientFrame::Ping { nonce: 3 }).await;
    assert_eq!(other.next().await, ServerFrame::Pong { nonce: 3 });
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_the_other_sessions_unless_kept() {
    let app = spawn_app().await;
    let phone = app.sign_in("tester").await;
    let mut phone_socket = app.socket_as(&phone).await;
    let change = |current: &str, new: &str, keep: bool| serde_json::json!({ "current": current, "new": new, "keep_others": keep });

    // A wrong current password, or a new one that breaks the rules: refused, nothing changes.
    let wrong = app
        .call("change_password", change("not my password", "new horse battery", false))
        .await;
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().await.unwrap().contains("current password is not right"));
    let short = app.call("change_password", change(PASSWORD, "short", false)).await;
    assert_eq!(short.status(), 400);
    let garbage = app.call("change_password", serde_json::json!({ "current": 12 })).await;
    assert!(garbage.status().is_client_error(), "{}", garbage.status());
    let anonymous = app
        .call_as(
            &browser().0,
            "change_password",
            change(PASSWORD, "new horse battery", false),
        )
        .await;
    assert_eq!(anonymous.status(), 401);

    // Kept: the phone stays signed in.
    let kept = app
        .call("change_password", change(PASSWORD, "new horse battery", true))
        .await;
    assert_eq!(kept.status(), 200);
    assert_eq!(kept.json::<u64>().await.unwrap(), 0);
    phone_socket.expect_silence(300).await;
    let phone_me: Option<parley_app::api::Me> = app
        .call_as(&phone.http, "whoami", serde_json::json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(phone_me.is_some(), "kept sessions stay");
    // The old password no longer opens the account (each try here counts against the
    // sign-in limit of 5: a stolen session cannot guess the password through this door).
    let old = app
        .call_as(&browser().0, "sign_in", credentials("tester", PASSWORD))
        .await;
    assert_eq!(old.status(), 400);
    assert!(old.text().await.unwrap().contains("wrong username or password"));

    // Not kept: every other session ends, its socket closes. (The new password is the
    // current one now: this change takes it.)
    let ended = app
        .call("change_password", change("new horse battery", PASSWORD, false))
        .await;
    assert_eq!(ended.status(), 200);
    assert_eq!(ended.json::<u64>().await.unwrap(), 1);
    phone_socket.expect_closed().await;
    let here: Option<parley_app::api::Me> = app.call("whoami", serde_json::json!({})).await.json().await.unwrap();
    assert!(here.is_some(), "the session that changed it stays");

    // A rebuild of everything from the log keeps the last password.
    let app = app.rebuilt().await;
    assert_eq!(
        app.call_as(&browser().0, "sign_in", credentials("tester", PASSWORD))
            .await
            .status(),
        200
    );
    // The inspector never shows the hash.
    let page = app
        .log_page(serde_json::json!({ "event_type": "PasswordChanged" }))
        .await;
    let text = serde_json::to_string(&page).unwrap();
    assert!(text.contains("PasswordChanged") && !text.contains("argon2"), "{text}");
}

#[tokio::test]
async fn sessions_are_listed_with_their_browser_and_one_can_be_ended_but_not_anothers() {
    let app = spawn_app().await;
    let phone_agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
    let phone = reqwest::Client::builder()
        .cookie_store(true)
        .user_agent(phone_agent)
        .build()
        .unwrap();
    assert_eq!(
        app.call_as(&phone, "sign_in", credentials("tester", PASSWORD))
            .await
            .status(),
        200
    );
    let listed: Vec<parley_app::api::SessionView> = app
        .call("my_sessions", serde_json::json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed.iter().filter(|s| s.current).count(), 1);
    let on_phone = listed.iter().find(|s| !s.current).unwrap();
    assert_eq!(on_phone.device, "Safari on iPhone");
    assert!(on_phone.last_seen_ms >= on_phone.created_at_ms);
    let text = serde_json::to_string(&listed).unwrap();
    let hashes: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(app.engine.store().pool())
        .await
        .unwrap();
    assert!(
        hashes.iter().all(|h| !text.contains(h.as_str())),
        "no token hash is shown"
    );

    // Someone else cannot end it, nor learn whether it exists.
    let eve = app.sign_up("eve").await;
    let eves_try = app
        .call_as(
            &eve.http,
            "end_session",
            serde_json::json!({ "session_id": on_phone.session_id }),
        )
        .await;
    assert_eq!(eves_try.status(), 400);
    assert!(eves_try.text().await.unwrap().contains("no such session"));
    let still: Option<parley_app::api::Me> = app
        .call_as(&phone, "whoami", serde_json::json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(still.is_some());
    let made_up = app
        .call("end_session", serde_json::json!({ "session_id": "x".repeat(10_000) }))
        .await;
    assert_eq!(made_up.status(), 400);

    // Its owner can.
    let ended = app
        .call("end_session", serde_json::json!({ "session_id": on_phone.session_id }))
        .await;
    assert_eq!(ended.status(), 200);
    let gone: Option<parley_app::api::Me> = app
        .call_as(&phone, "whoami", serde_json::json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(gone.is_none(), "the phone is signed out");
    let listed: Vec<parley_app::api::SessionView> = app
        .call("my_sessions", serde_json::json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].current);
}
