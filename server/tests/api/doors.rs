//! Bad input on every door gets a clear error and changes nothing.

use crate::helpers::spawn_app;
use parley::protocol::{ClientFrame, ServerFrame};
use parley::{ChannelId, MessageId, Position};

#[tokio::test]
async fn server_fn_refuses_bad_posts_with_a_clear_error() {
    let app = spawn_app().await;
    let head = app.head().await;
    let cases = [
        ("   ", "a message cannot be empty"),
        (&"x".repeat(4_001)[..], "at most 4000 characters"),
    ];
    for (body, expected) in cases {
        let response = app.post_message(MessageId::new(), body).await;
        assert_eq!(response.status(), 400);
        let text = response.text().await.unwrap();
        assert!(text.contains(expected), "{text:?} should say {expected:?}");
    }
    assert_eq!(app.head().await, head, "nothing was stored");
}

#[tokio::test]
async fn server_fn_refuses_malformed_arguments() {
    let app = spawn_app().await;
    let head = app.head().await;
    let bad = [
        serde_json::json!({ "channel": "not-a-uuid", "message_id": MessageId::new(), "body": "b" }),
        serde_json::json!({ "channel": ChannelId::GENERAL }),
        serde_json::json!("just a string"),
    ];
    for args in bad {
        let response = app.call("post_message", args).await;
        assert_eq!(response.status(), 400, "the caller's fault, said so");
    }
    let unknown = serde_json::json!({
        "channel": ChannelId::new(), "message_id": MessageId::new(), "body": "b",
    });
    let response = app.call("post_message", unknown).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("no such channel"));
    assert_eq!(app.head().await, head);
}

#[tokio::test]
async fn history_checks_its_limit_and_channel() {
    let app = spawn_app().await;
    for limit in [0, 201] {
        let args = serde_json::json!({ "channel": ChannelId::GENERAL, "before": null, "limit": limit });
        let response = app.call("history", args).await;
        assert_eq!(response.status(), 400);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("limit must be between 1 and 200")
        );
    }
    let args = serde_json::json!({ "channel": ChannelId::new(), "before": null, "limit": 5 });
    assert_eq!(app.call("history", args).await.status(), 400);
}

#[tokio::test]
async fn history_pages_backwards_by_position() {
    let app = spawn_app().await;
    let mut positions = Vec::new();
    for i in 0..7 {
        positions.push(app.post(&format!("p{i}")).await.1);
    }
    app.wait_projected().await;
    let newest = app.history(None, 3).await;
    assert_eq!(newest.iter().map(|m| m.position).collect::<Vec<_>>(), positions[4..]);
    let older = app.history(Some(positions[4]), 3).await;
    assert_eq!(older.iter().map(|m| m.position).collect::<Vec<_>>(), positions[1..4]);
    assert_eq!(older[0].body, "p1");
}

#[tokio::test]
async fn websocket_refuses_bad_frames_and_stays_open() {
    let app = spawn_app().await;
    let head = app.head().await;
    let mut socket = app.socket().await;
    for text in ["{", r#"{"t":"launch"}"#, r#"{"t":"subscribe","channel":"x","after":0}"#] {
        socket.send_text(text).await;
        assert!(matches!(socket.next().await, ServerFrame::Error { error } if error.contains("malformed")));
    }
    socket.send_binary(vec![1, 2, 3]).await;
    assert!(matches!(socket.next().await, ServerFrame::Error { error } if error.contains("binary")));
    socket
        .send(&ClientFrame::Subscribe {
            channel: ChannelId::new(),
            after: Position::ZERO,
            id: 0,
        })
        .await;
    assert!(matches!(socket.next().await, ServerFrame::Refused { error, .. } if error == "no such channel"));

    let message_id = MessageId::new();
    let empty = ClientFrame::Post {
        attachments: Vec::new(),
        reply_to: None,
        also_in_channel: false,
        channel: ChannelId::GENERAL,
        message_id,
        body: " ".into(),
    };
    socket.send(&empty).await;
    assert_eq!(
        socket.next().await,
        ServerFrame::Rejected {
            message_id,
            error: "a message cannot be empty".into()
        }
    );
    socket.send(&ClientFrame::Ping { nonce: 7 }).await;
    assert_eq!(
        socket.next().await,
        ServerFrame::Pong { nonce: 7 },
        "still open and answering"
    );
    assert_eq!(app.head().await, head, "nothing was stored");
}

#[tokio::test]
async fn posting_too_fast_is_refused_with_a_reason() {
    let app = spawn_app().await;
    app.engine.limit_posts(1, 3);
    let head = app.head().await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        statuses.push(app.post_message(MessageId::new(), &format!("quick {i}")).await);
    }
    let codes: Vec<u16> = statuses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(codes, [200, 200, 200, 429, 429]);
    let refused = statuses.pop().unwrap().text().await.unwrap();
    assert!(refused.contains("too fast"), "{refused}");
    assert_eq!(app.head().await.0, head.0 + 3, "only the allowed ones were stored");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/healthz", "/api/v1/channels"] {
        let response = reqwest::get(format!("http://{}{path}", app.addr)).await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
    }
    // The app's pages: scripts only with this response's nonce, which its own scripts carry.
    let page = || async {
        let response = reqwest::get(format!("http://{}/", app.addr)).await.unwrap();
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        (policy, response.text().await.unwrap())
    };
    let (policy, html) = page().await;
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce in {policy}"));
    assert!(nonce.len() >= 16, "{policy}");
    let scripts = policy
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap_or_default();
    assert!(scripts.contains("'strict-dynamic'"), "{policy}");
    assert!(
        !scripts.contains("'unsafe-inline'") && !scripts.contains("'unsafe-eval'"),
        "{policy}"
    );
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the page's scripts carry it"
    );
    let (again, _) = page().await;
    assert_ne!(again, policy, "a new nonce for every page");
}

#[tokio::test]
async fn an_account_may_hold_only_so_many_sockets() {
    let app = spawn_app().await;
    app.engine.limit_sockets(2);
    let first = app.socket().await;
    let _second = app.socket().await;
    let third = tokio_tungstenite::connect_async(app.socket_request(&[("cookie", &app.user.cookie())])).await;
    match third {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 429),
        other => panic!("a third socket was let in: {:?}", other.map(|_| ())),
    }
    // Another account is not affected; a closed socket frees its place.
    let bob = app.sign_up("bob").await;
    let _bobs = app.socket_as(&bob).await;
    drop(first);
    let mut again = None;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if let Ok((socket, _)) =
            tokio_tungstenite::connect_async(app.socket_request(&[("cookie", &app.user.cookie())])).await
        {
            again = Some(socket);
            break;
        }
    }
    assert!(again.is_some(), "the closed socket's place was not freed");
}
