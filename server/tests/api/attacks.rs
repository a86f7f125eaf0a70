//! A hostile signed-in user with nothing but the public doors: each test performs an attack from the review (issue 18) and asserts it costs the server little and hurts no one else.

use crate::crash::start_with;
use crate::helpers::{PASSWORD, TestApp, browser, database_in, spawn_app, spawn_with};
use futures::{SinkExt, StreamExt};
use parley::protocol::{ClientFrame, ServerFrame};
use parley::{ChannelId, MessageId, Position};
use parley_server::config::Config;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The resident memory of a process, in bytes (Linux).
fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    kb * 1024
}

/// Signs `name` up on the server at `base`; returns the client and its session cookie.
async fn sign_up_at(base: &str, name: &str) -> (reqwest::Client, String) {
    use reqwest::cookie::CookieStore;
    let (client, jar) = browser();
    let signed = client
        .post(format!("{base}/api/sign_up"))
        .json(&json!({ "username": name, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 200);
    let cookie = jar
        .cookies(&base.parse().unwrap())
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    (client, cookie)
}

/// A new personal API token of the user `http` is signed in as.
async fn api_token(app: &TestApp, http: &reqwest::Client) -> String {
    let created: serde_json::Value = app
        .call_as(http, "create_token", json!({ "name": "bot" }))
        .await
        .json()
        .await
        .unwrap();
    created["secret"].as_str().unwrap().to_owned()
}

/// A server with a config of the test's own.
pub(crate) async fn spawn_configured(change: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(database_in(&dir).await);
    config.files_dir = Some(dir.path().join("files"));
    change(&mut config);
    spawn_with(dir, config).await
}

#[tokio::test]
async fn a_socket_flooding_posts_without_reading_holds_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = database_in(&dir).await;
    // As shipped: 10 posts a second per user, so nearly every post is refused at once and
    // the cost is the answers the client never reads.
    let mut server = start_with(&database_url, &[]);
    let pid = server.child.id();
    let (_client, cookie) = sign_up_at(&server.base, "flooder").await;

    // A socket whose receive window is tiny and which never reads.
    let addr: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4_096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (ws, _) = tokio_tungstenite::client_async(request, stream).await.unwrap();
    let (mut sink, source) = ws.split();

    let before = rss_of(pid);
    const FRAMES: usize = 60_000;
    let body = "x".repeat(1_000);
    let mut sent = 0;
    for _ in 0..FRAMES {
        let frame = ClientFrame::Post {
            channel: ChannelId::GENERAL,
            message_id: MessageId::new(),
            body: body.clone(),
            reply_to: None,
            also_in_channel: false,
            attachments: Vec::new(),
        };
        match tokio::time::timeout(Duration::from_secs(2), sink.send(Message::text(frame.to_json()))).await {
            Ok(Ok(())) => sent += 1,
            // The server stopped reading: back-pressure reached the client.
            Err(_) => break,
            Ok(Err(e)) => panic!("the socket failed: {e}"),
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let grown = rss_of(pid).saturating_sub(before);
    println!(
        "flood: {sent} of {FRAMES} frames sent before the server stopped reading; server RSS +{} KB",
        grown / 1024
    );
    assert!(
        sent < FRAMES,
        "the server read all {FRAMES} frames of a client that never reads its answers"
    );
    // 32 posts in flight and a 256-frame outbox are a few hundred KB; allow for the
    // allocator and the database's caches.
    assert!(grown < 48 * 1024 * 1024, "server RSS grew {} MB", grown / (1024 * 1024));

    // Everyone else is served meanwhile.
    let (other, _) = sign_up_at(&server.base, "bystander").await;
    let position = crate::helpers::post_to(&other, &server.base, MessageId::new(), "still here").await;
    assert!(position > Position::ZERO);
    drop((sink, source));
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_sockets_posts_are_stored_in_the_order_sent() {
    let app = spawn_app().await;
    let root = app.post("a thread to reply in").await.0;
    let mut socket = app.socket().await;
    // Pipelined: every frame sent before any answer is read. Replies take the slower path
    // (they wait for the read models to know their parent), plain posts the quick one.
    let ids: Vec<MessageId> = (0..60).map(|_| MessageId::new()).collect();
    for (i, id) in ids.iter().enumerate() {
        let frame = ClientFrame::Post {
            channel: ChannelId::GENERAL,
            message_id: *id,
            body: format!("in order {i}"),
            reply_to: (i % 2 == 0).then_some(root),
            also_in_channel: false,
            attachments: Vec::new(),
        };
        socket.send(&frame).await;
    }
    let mut acked = Vec::new();
    while acked.len() < ids.len() {
        match socket.next().await {
            ServerFrame::Ack { message_id, position } => acked.push((message_id, position)),
            other => panic!("expected an ack, got {other:?}"),
        }
    }
    let answered: Vec<MessageId> = acked.iter().map(|(id, _)| *id).collect();
    assert_eq!(answered, ids, "answers come in the order sent");
    let positions: Vec<Position> = acked.iter().map(|(_, p)| *p).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "stored in the order sent: {positions:?}"
    );
}

#[tokio::test]
async fn a_message_id_tells_nothing_of_a_message_in_another_channel() {
    let app = spawn_app().await;
    let bob = app.sign_up("bob").await;
    let eve = app.sign_up("eve").await;
    let dm = app.open_direct(&bob, "tester").await;
    let id = MessageId::new();
    let post = |channel: ChannelId, body: &str| json!({ "channel": channel, "message_id": id, "body": body });
    let private = app.call_as(&bob.http, "post_message", post(dm, "just us")).await;
    assert_eq!(private.status(), 200);
    let position: Position = private.json().await.unwrap();

    // Eve reuses the id in the lobby: refused, and nothing of the first is said.
    let probe = app
        .call_as(&eve.http, "post_message", post(ChannelId::GENERAL, "probe"))
        .await;
    assert_eq!(probe.status(), 400);
    let said = probe.text().await.unwrap();
    assert!(said.contains("already in use"), "{said}");
    assert!(!said.contains(&position.0.to_string()), "{said}");
    // Even its author, elsewhere.
    let elsewhere = app
        .call_as(&bob.http, "post_message", post(ChannelId::GENERAL, "x"))
        .await;
    assert_eq!(elsewhere.status(), 400);
    // Over REST too: a conflict.
    let token = api_token(&app, &eve.http).await;
    let rest = reqwest::Client::new()
        .post(format!(
            "http://{}/api/v1/channels/{}/messages",
            app.addr,
            ChannelId::GENERAL
        ))
        .bearer_auth(&token)
        .json(&json!({ "message_id": id, "body": "probe" }))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 409);
    assert!(!rest.text().await.unwrap().contains(&position.0.to_string()));
    // The author's own resend, in its channel, still answers the first position.
    let again = app.call_as(&bob.http, "post_message", post(dm, "just us")).await;
    assert_eq!(again.json::<Position>().await.unwrap(), position);
    let lobby = app.history(None, 50).await;
    assert!(
        lobby.iter().all(|m| m.message_id != id),
        "nothing was stored in the lobby"
    );
}

#[tokio::test]
async fn a_configured_admin_name_cannot_be_squatted_and_no_door_shows_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = database_in(&dir).await;
    let mut config = Config::for_tests(database_url.clone());
    config.files_dir = Some(dir.path().join("files"));
    config.admins = vec!["root".into()];
    let app = spawn_with(dir, config.clone()).await;
    // Nobody is `root` yet: whoever signs it up first is not an admin for it.
    let eve = app.sign_up("root").await;
    assert_eq!(
        app.call_as(&eve.http, "inspect_log", json!({ "filter": {} }))
            .await
            .status(),
        403
    );
    let am: bool = app
        .call_as(&eve.http, "am_admin", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(!am);

    // Admins see the log, but no password hash in it.
    let page = app.log_page(json!({ "event_type": "AccountRegistered" })).await;
    assert!(page.events.len() >= 2, "accounts are listed");
    let shown = format!("{page:?}");
    assert!(!shown.contains("argon2"), "hashes are not shown: {shown}");
    assert!(shown.contains("[redacted]"), "{shown}");

    // An account that exists when the list is read is an admin by it.
    let dir = app.stop().await;
    let app = spawn_with(dir, config).await;
    let root = app.sign_in("root").await;
    let am: bool = app
        .call_as(&root.http, "am_admin", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(am, "an existing account named in the list");
}

/// Signs in as `name` from `address` (the tests' server trusts `X-Forwarded-For`).
async fn sign_in_from(app: &TestApp, address: &str, name: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{}/api/sign_in", app.addr))
        .header("x-forwarded-for", address)
        .json(&json!({ "username": name, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn wrong_passwords_from_elsewhere_do_not_lock_the_owner_out() {
    let app = spawn_configured(|c| c.trust_forwarded_for = true).await;
    app.sign_up("victim").await;
    let mut limited = None;
    for _ in 0..10 {
        let attempt = sign_in_from(&app, "203.0.113.7", "victim", "wrong password!").await;
        if attempt.status() == 429 {
            limited = Some(attempt);
            break;
        }
        assert_eq!(attempt.status(), 400, "a wrong password");
    }
    let limited = limited.expect("the guesser is slowed down");
    let wait: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=13).contains(&wait), "Retry-After: {wait}");
    // Still limited from there, even with the right password...
    let still = sign_in_from(&app, "203.0.113.7", "victim", PASSWORD).await;
    assert_eq!(still.status(), 429);
    // ...but the owner, from their own address, signs in.
    let owner = sign_in_from(&app, "198.51.100.20", "victim", PASSWORD).await;
    assert_eq!(owner.status(), 200);
    // A client cannot choose its address for the engine by sending the internal header.
    let spoofed = reqwest::Client::new()
        .post(format!("http://{}/api/sign_in", app.addr))
        .header("x-forwarded-for", "203.0.113.7")
        .header(parley_engine::auth::CLIENT_IP_HEADER, "198.51.100.20")
        .json(&json!({ "username": "victim", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), 429);
}

#[tokio::test]
async fn sign_ups_and_sign_ins_from_one_address_are_limited() {
    let app = spawn_configured(|c| {
        c.trust_forwarded_for = true;
        c.limit_per_address = true;
    })
    .await;
    let sign_up = |name: String, from: &'static str| {
        let url = format!("http://{}/api/sign_up", app.addr);
        async move {
            reqwest::Client::new()
                .post(url)
                .header("x-forwarded-for", from)
                .json(&json!({ "username": name, "password": PASSWORD }))
                .send()
                .await
                .unwrap()
        }
    };
    // Finding out which names exist by signing them up: a few, then 429.
    let mut statuses = Vec::new();
    for i in 0..8 {
        statuses.push(sign_up(format!("probe{i}"), "203.0.113.9").await.status().as_u16());
    }
    assert_eq!(&statuses[..5], &[200; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    let refused = sign_up("probe9".into(), "203.0.113.9").await;
    assert!(refused.headers().contains_key("retry-after"));
    // Another address is not held up by that one.
    assert_eq!(sign_up("neighbour".into(), "198.51.100.4").await.status(), 200);
    // Many names from one address: sign-ins are limited per address too.
    let mut limited = false;
    for i in 0..40 {
        let attempt = sign_in_from(&app, "203.0.113.10", &format!("name{i}"), "wrong password!").await;
        if attempt.status() == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "30 names, then slowed down");
}

#[tokio::test]
async fn a_sign_in_flood_cannot_run_more_password_checks_than_there_are_cores() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = database_in(&dir).await;
    // Without the per-address limit: the gate alone must hold (many addresses at once).
    let mut server = start_with(&database_url, &[("PARLEY_LIMIT_PER_ADDRESS", "false")]);
    let pid = server.child.id();
    let before = rss_of(pid);
    let client = reqwest::Client::new();
    let started = Instant::now();
    let attempts: Vec<_> = (0..200)
        .map(|i| {
            let (client, url) = (client.clone(), format!("{}/api/sign_in", server.base));
            tokio::spawn(async move {
                let answer = client
                    .post(url)
                    .json(&json!({ "username": format!("random{i}"), "password": "not a password" }))
                    .send()
                    .await
                    .unwrap();
                (answer.status().as_u16(), answer.headers().contains_key("retry-after"))
            })
        })
        .collect();
    let mut peak = before;
    let mut answers = Vec::new();
    let watcher = async {
        while started.elapsed() < Duration::from_secs(5) {
            peak = peak.max(rss_of(pid));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let gathered = async {
        for attempt in attempts {
            answers.push(attempt.await.unwrap());
        }
    };
    tokio::join!(watcher, gathered);
    let busy = answers.iter().filter(|(status, _)| *status == 429).count();
    println!(
        "sign-in flood: 200 at once, {busy} told to come back (429); server RSS peak +{} KB",
        peak.saturating_sub(before) / 1024
    );
    assert!(busy > 0, "some were told to come back: {answers:?}");
    assert!(
        answers.iter().filter(|(s, _)| *s == 429).all(|(_, retry)| *retry),
        "with Retry-After"
    );
    assert!(answers.iter().all(|(s, _)| *s == 400 || *s == 429), "{answers:?}");
    // Each check holds 19 MiB; one per core at once (this machine's cores, plus slack).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let bound = (cores * 19 + 64) * 1024 * 1024;
    assert!(
        peak.saturating_sub(before) < bound,
        "RSS grew {} MB for {cores} cores",
        peak.saturating_sub(before) / (1024 * 1024)
    );
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[tokio::test]
async fn rest_answers_too_fast_with_429_and_retry_after() {
    let app = spawn_configured(|c| c.post_rate = 1).await;
    let token = api_token(&app, &app.user.http).await;
    let http = reqwest::Client::new();
    let mut last = None;
    for _ in 0..10 {
        let answer = http
            .post(format!(
                "http://{}/api/v1/channels/{}/messages",
                app.addr,
                ChannelId::GENERAL
            ))
            .bearer_auth(&token)
            .json(&json!({ "message_id": MessageId::new(), "body": "spam" }))
            .send()
            .await
            .unwrap();
        if answer.status() != 201 {
            last = Some(answer);
            break;
        }
    }
    let refused = last.expect("the limit is reached");
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn the_site_is_served_from_leptos_site_root_alone() {
    // The binary run from another folder, with only LEPTOS_SITE_ROOT set (as README says).
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("pkg")).unwrap();
    std::fs::write(site.path().join("pkg").join("probe.txt"), "from the site root").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database_url = database_in(&dir).await;
    let root = site.path().to_str().unwrap().to_owned();
    // LEPTOS_OUTPUT_NAME unset (an empty value removes it), as when run by hand.
    let mut server = start_with(
        &database_url,
        &[("LEPTOS_SITE_ROOT", root.as_str()), ("LEPTOS_OUTPUT_NAME", "")],
    );
    let got = reqwest::get(format!("{}/pkg/probe.txt", server.base)).await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.text().await.unwrap(), "from the site root");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[tokio::test]
async fn every_write_has_a_budget_and_a_message_only_so_many_reactions() {
    let app = spawn_configured(|c| c.write_limits = true).await;
    let eve = app.sign_up("eve").await;
    // Spaces: a few, then 429 with when to come back.
    let mut made = 0;
    let mut refused = None;
    for i in 0..30 {
        let answer = app
            .call_as(&eve.http, "create_space", json!({ "name": format!("squat {i}") }))
            .await;
        if answer.status() == 200 {
            made += 1;
        } else {
            refused = Some(answer);
            break;
        }
    }
    assert_eq!(made, 5);
    let refused = refused.expect("refused past the budget");
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(refused.text().await.unwrap().contains("new spaces"));

    // Reactions as fast as a script can send them: the budget stops most.
    let (id, _) = app.post("react to me").await;
    let react = |emoji: &str, on: bool| json!({ "channel": ChannelId::GENERAL, "message_id": id, "change": {"type": "react", "emoji": emoji, "on": on} });
    let mut statuses = Vec::new();
    for i in 0..300 {
        let answer = app.call_as(&eve.http, "change_message", react("👍", i % 2 == 0)).await;
        statuses.push(answer.status().as_u16());
    }
    let accepted = statuses.iter().filter(|s| **s == 200).count();
    // 60 at once, then 5 a second for as long as the 300 calls take.
    assert!((60..=150).contains(&accepted), "{accepted} accepted");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");

    // Symbols that are not emoji are refused; a message takes 20 different reactions.
    let star = app.call("change_message", react("★", true)).await;
    assert_eq!(star.status(), 400);
    let faces = [
        "😀", "😃", "😄", "😁", "😆", "😅", "🤣", "😂", "🙂", "🙃", "😉", "😊", "😇", "🥰", "😍", "🤩", "😘", "😗",
        "😚", "😙", "😋", "😛",
    ];
    let mut kept = 0;
    for face in faces {
        let answer = app.call("change_message", react(face, true)).await;
        if answer.status() == 200 {
            kept += 1;
        } else {
            assert!(answer.text().await.unwrap().contains("different reactions"));
        }
    }
    // Eve's 👍 may still be on it: 20 different in all.
    let on_it = app
        .history(None, 10)
        .await
        .into_iter()
        .find(|m| m.message_id == id)
        .unwrap();
    assert_eq!(
        on_it.reactions.len(),
        parley::channel::MAX_DISTINCT_REACTIONS,
        "{kept} kept"
    );
}

#[tokio::test]
async fn other_sessions_end_on_request_and_a_socket_closes_when_its_session_expires() {
    let app = spawn_app().await;
    // The same account on a phone: signing out everywhere else ends it and its socket.
    let phone = app.sign_in("tester").await;
    let mut phone_socket = app.socket_as(&phone).await;
    let ended: u64 = app.call("sign_out_others", json!({})).await.json().await.unwrap();
    assert_eq!(ended, 1);
    phone_socket.expect_closed().await;
    let gone: Option<parley_app::api::Me> = app
        .call_as(&phone.http, "whoami", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(gone.is_none(), "the phone is signed out");
    let here: Option<parley_app::api::Me> = app.call("whoami", json!({})).await.json().await.unwrap();
    assert!(here.is_some(), "this session stays");

    // A session that ends while its socket is open: the socket closes then, not never.
    let laptop = app.sign_in("tester").await;
    let cookie = laptop.cookie();
    let token = cookie.split_once('=').map(|(_, t)| t.to_owned()).unwrap();
    let hash = parley_engine::auth::SessionToken::from_client(&token).unwrap().hash();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let soon = now + 1_000;
    sqlx::query("UPDATE sessions SET expires_at_ms = $1 WHERE token_hash = $2")
        .bind(soon)
        .bind(&hash)
        .execute(app.engine.store().pool())
        .await
        .unwrap();
    let mut laptop_socket = app.socket_as(&laptop).await;
    laptop_socket.expect_closed().await;
    // Expired sessions are deleted, not kept for ever.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(app.engine.purge_expired_sessions().await.unwrap() >= 1);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE token_hash = $1")
        .bind(&hash)
        .fetch_one(app.engine.store().pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn the_api_docs_page_runs_no_inline_script() {
    let app = spawn_app().await;
    let page = reqwest::get(format!("http://{}/api/v1/docs/", app.addr)).await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let script = policy
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap_or_default();
    assert_eq!(script, "script-src 'self'", "{policy}");
}

#[tokio::test]
async fn a_socket_asking_for_channels_without_end_slows_only_itself() {
    let app = spawn_app().await;
    let mut prober = app.socket().await;
    // Four lists of 256 channels nobody has: 1,024 access checks asked for at once.
    let started = Instant::now();
    for _ in 0..4 {
        let channels: Vec<ChannelId> = (0..256).map(|_| ChannelId::new()).collect();
        prober.send(&ClientFrame::Watch { channels }).await;
    }
    // Meanwhile someone else is served at once.
    let other_started = Instant::now();
    let mut other = app.socket().await;
    other.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    other.send(&ClientFrame::Ping { nonce: 7 }).await;
    assert!(matches!(other.next().await, ServerFrame::Pong { nonce: 7 }));
    assert!(
        other_started.elapsed() < Duration::from_secs(3),
        "{:?}",
        other_started.elapsed()
    );
    // The prober's answers come at the socket's pace: a burst of 512, then 64 a second.
    for _ in 0..4 {
        match prober.next_within(Duration::from_secs(20)).await {
            ServerFrame::Error { error } => assert!(error.starts_with("no such channel")),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(7), "1,024 lookups answered in {took:?}");
}
