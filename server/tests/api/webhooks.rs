//! Webhooks against a real HTTP receiver on loopback: the space's events of the asked
//! types, in log order, signed; retries with backoff; the dead letter, retry and skip; replay.

use crate::helpers::{METRICS_TOKEN, TestApp, User, spawn_app};
use axum::http::{HeaderMap, StatusCode};
use parley::{ChannelId, MessageId};
use parley_app::api::{CreatedWebhook, SpaceView, WebhookView};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as received: its headers and body.
type Request = (HeaderMap, Vec<u8>);

/// A receiver: records every request; answers 500 while `fail` is above zero (counting down).
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    got: Arc<Mutex<Vec<Request>>>,
    fail: Arc<AtomicU32>,
}

impl Receiver {
    pub(crate) async fn start(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let me = me.clone();
                async move {
                    let failing = me
                        .fail
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    me.got.lock().unwrap().push((headers, body.to_vec()));
                    if failing {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/hook")
    }

    /// The bodies of the answered-with-success requests, as JSON.
    pub(crate) fn delivered(&self) -> Vec<Value> {
        let got = self.got.lock().unwrap();
        got.iter()
            .map(|(_, body)| serde_json::from_slice(body).unwrap())
            .collect()
    }

    pub(crate) async fn wait_for(&self, count: usize) {
        for _ in 0..300 {
            if self.got.lock().unwrap().len() >= count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "the receiver got {} requests, not {count}",
            self.got.lock().unwrap().len()
        );
    }
}

async fn space(app: &TestApp, user: &User, name: &str) -> SpaceView {
    let response = app.call_as(&user.http, "create_space", json!({ "name": name })).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn post(app: &TestApp, user: &User, channel: ChannelId, body: &str) -> MessageId {
    let id = MessageId::new();
    let args = json!({ "channel": channel, "message_id": id, "body": body });
    assert_eq!(app.call_as(&user.http, "post_message", args).await.status(), 200);
    id
}

async fn hooks(app: &TestApp, user: &User, space: &SpaceView) -> Vec<WebhookView> {
    app.call_as(&user.http, "webhooks", json!({ "space": space.space_id }))
        .await
        .json()
        .await
        .unwrap()
}

/// Subscribes `url` to the space's events of `types`, as `user`; it must be accepted.
async fn subscribe(app: &TestApp, user: &User, space: &SpaceView, url: &str, types: &[&str]) -> CreatedWebhook {
    let args = json!({ "space": space.space_id, "url": url, "event_types": types });
    let response = app.call_as(&user.http, "create_webhook", args).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn bodies(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .filter_map(|v| v["event"]["event"]["data"]["body"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_webhook_gets_its_spaces_events_of_its_types_in_order_and_signed() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let ops = space(&app, &ada, "ops").await;
    let channel = ops.channels[0].channel_id;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let created = subscribe(&app, &ada, &ops, &url, &["MessagePosted", "MessageEdited"]).await;
    assert!(created.secret.starts_with("whsec_"));

    let first = post(&app, &ada, channel, "one").await;
    post(&app, &ada, ChannelId::GENERAL, "the lobby is not the space").await;
    post(&app, &ada, channel, "two").await;
    let edit = json!({ "channel": channel, "message_id": first, "change": {"type": "edit", "body": "one!"} });
    assert_eq!(app.call_as(&ada.http, "change_message", edit).await.status(), 200);
    let react =
        json!({ "channel": channel, "message_id": first, "change": {"type": "react", "emoji": "👍", "on": true} });
    assert_eq!(app.call_as(&ada.http, "change_message", react).await.status(), 200);
    post(&app, &ada, channel, "three").await;

    receiver.wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = receiver.got.lock().unwrap().clone();
    assert_eq!(got.len(), 4, "reactions and the lobby are not asked for");
    let kinds: Vec<&str> = got.iter().map(|(h, _)| h["x-parley-event"].to_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["MessagePosted", "MessagePosted", "MessageEdited", "MessagePosted"]
    );
    let positions: Vec<u64> = receiver
        .delivered()
        .iter()
        .map(|v| v["event"]["position"].as_u64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "log order: {positions:?}");
    for (headers, body) in &got {
        let signed = headers["x-parley-signature"].to_str().unwrap();
        let timestamp: u64 = headers["x-parley-timestamp"].to_str().unwrap().parse().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(now.abs_diff(timestamp) < 60, "signed now: {timestamp} against {now}");
        assert_eq!(
            signed,
            parley_engine::workers::webhooks::signature(&created.secret, timestamp, body)
        );
        assert_ne!(
            signed,
            parley_engine::workers::webhooks::signature("whsec_wrong", timestamp, body)
        );
        // A captured delivery sent again later does not verify with a new timestamp.
        assert_ne!(
            signed,
            parley_engine::workers::webhooks::signature(&created.secret, timestamp + 1, body)
        );
    }
    let view = &hooks(&app, &ada, &ops).await[0];
    assert_eq!((view.delivered, view.failures, view.dead), (4, 0, false));
}

#[tokio::test]
async fn failures_back_off_then_park_the_webhook_until_retried_or_skipped() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let ops = space(&app, &ada, "ops").await;
    let channel = ops.channels[0].channel_id;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let created = subscribe(&app, &ada, &ops, &url, &["MessagePosted"]).await;
    let hook = created.webhook.webhook_id;

    // Two failures, then it goes through: delivered once, in place.
    receiver.fail.store(2, Ordering::SeqCst);
    post(&app, &ada, channel, "a").await;
    receiver.wait_for(3).await;
    // Failing for good (3 attempts in the tests): parked, and what follows waits behind it.
    receiver.fail.store(1_000, Ordering::SeqCst);
    post(&app, &ada, channel, "b").await;
    post(&app, &ada, channel, "c").await;
    receiver.wait_for(6).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.got.lock().unwrap().len(), 6, "no more attempts once parked");
    let parked = hooks(&app, &ada, &ops).await.remove(0);
    assert!(parked.dead);
    assert_eq!(parked.delivered, 1);
    assert!(parked.last_error.unwrap_or_default().contains("500"));
    // /metrics says so too: parked, and behind by at least b and c.
    let page = metrics(&app).await;
    assert_eq!(gauge(&page, "parley_webhook_parked", &hook), Some(1.0), "{page}");
    assert!(
        gauge(&page, "parley_webhook_backlog_events", &hook) >= Some(2.0),
        "{page}"
    );

    // Retried: b and c arrive, in order.
    receiver.fail.store(0, Ordering::SeqCst);
    let retry = json!({ "space": ops.space_id, "webhook_id": hook, "action": "retry" });
    assert_eq!(app.call_as(&ada.http, "act_on_webhook", retry).await.status(), 200);
    receiver.wait_for(8).await;
    let all = bodies(&receiver.delivered());
    assert_eq!(all[all.len() - 2..], ["b", "c"]);

    // Parked again on d; skipped: e comes, d never does.
    receiver.fail.store(3, Ordering::SeqCst);
    post(&app, &ada, channel, "d").await;
    receiver.wait_for(11).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(hooks(&app, &ada, &ops).await[0].dead);
    // The instance's admin (`tester`, not in the space) may take it out of the dead letter
    // from the inspector, but not delete it; someone else may do neither.
    let act = |action: &str| json!({ "space": ops.space_id, "webhook_id": hook, "action": action });
    let eve = app.sign_up("eve").await;
    assert_eq!(
        app.call_as(&eve.http, "act_on_webhook", act("skip")).await.status(),
        403
    );
    assert_eq!(app.call("act_on_webhook", act("delete")).await.status(), 403);
    assert!(hooks(&app, &ada, &ops).await[0].dead, "nothing changed");
    let page: parley_app::api::LogPage = app.log_page(json!({})).await;
    let listed = page
        .subscribers
        .iter()
        .find(|s| s.webhook.as_ref().map(|w| &w.1) == Some(&hook));
    assert!(
        listed.is_some_and(|s| s.parked && s.name.contains("500")),
        "{:?}",
        page.subscribers
    );
    assert_eq!(app.call("act_on_webhook", act("skip")).await.status(), 200);
    post(&app, &ada, channel, "e").await;
    receiver.wait_for(12).await;
    assert_eq!(bodies(&receiver.delivered()).last().map(String::as_str), Some("e"));
    // The receiver has the request before the worker records its answer: wait for that.
    let mut view = hooks(&app, &ada, &ops).await.remove(0);
    for _ in 0..100 {
        if view.delivered == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        view = hooks(&app, &ada, &ops).await.remove(0);
    }
    assert_eq!((view.delivered, view.dead), (4, false));
    let page = metrics(&app).await;
    assert_eq!(gauge(&page, "parley_webhook_parked", &hook), Some(0.0), "{page}");
    assert_eq!(
        gauge(&page, "parley_webhook_backlog_events", &hook),
        Some(0.0),
        "caught up: {page}"
    );
    assert!(page.contains("parley_webhook_deliveries_total{outcome=\"failed\"}"));
}

async fn metrics(app: &TestApp) -> String {
    let url = format!("http://{}/metrics", app.addr);
    let http = reqwest::Client::new();
    let page = http.get(url).bearer_auth(METRICS_TOKEN).send().await.unwrap();
    page.text().await.unwrap()
}

/// One webhook's value of a gauge in a Prometheus text page.
fn gauge(page: &str, name: &str, webhook: &str) -> Option<f64> {
    let series = format!("{name}{{webhook=\"{webhook}\"}} ");
    page.lines()
        .find_map(|line| line.strip_prefix(&series))
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn only_admins_make_webhooks_and_bad_ones_are_refused() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let bob = app.sign_up("bob").await;
    let ops = space(&app, &ada, "ops").await;
    let head = app.head().await;
    let cases = [
        (
            &bob,
            json!({ "space": ops.space_id, "url": "http://127.0.0.1:9/x", "event_types": [] }),
            403,
        ),
        (
            &ada,
            json!({ "space": ops.space_id, "url": "ftp://example.com", "event_types": [] }),
            400,
        ),
        (
            &ada,
            json!({ "space": ops.space_id, "url": "http://127.0.0.1:9/x", "event_types": ["AccountRegistered"] }),
            400,
        ),
    ];
    for (user, args, status) in cases {
        let response = app.call_as(&user.http, "create_webhook", args.clone()).await;
        assert_eq!(response.status(), status, "{args}");
    }
    assert_eq!(app.head().await, head, "nothing appended");
    let listed = app
        .call_as(&bob.http, "webhooks", json!({ "space": ops.space_id }))
        .await;
    assert_eq!(listed.status(), 403, "a stranger does not see the space's webhooks");
}

#[tokio::test]
async fn a_replay_delivers_again_from_a_position_with_the_same_delivery_ids() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let ops = space(&app, &ada, "replayed").await;
    let channel = ops.channels[0].channel_id;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let created = subscribe(&app, &ada, &ops, &url, &["MessagePosted"]).await;
    let hook = created.webhook.webhook_id;
    for body in ["a", "b", "c"] {
        post(&app, &ada, channel, body).await;
    }
    receiver.wait_for(3).await;
    let first = receiver.delivered();
    let b_at = first[1]["event"]["position"].as_u64().unwrap();
    let ids = |from: usize| -> Vec<String> {
        let got = receiver.got.lock().unwrap();
        got[from..]
            .iter()
            .map(|(headers, _)| headers["x-parley-delivery"].to_str().unwrap().to_owned())
            .collect()
    };
    let original = ids(0);
    // The offset is kept once a delivery has been answered, a moment after the receiver has
    // it: read before then, it is an earlier one, and a replay past it is not past the end.
    let c_at = first[2]["event"]["position"].as_u64().unwrap();
    let mut offset = 0;
    for _ in 0..250 {
        offset = hooks(&app, &ada, &ops).await[0].offset.0;
        if offset >= c_at {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        offset >= c_at,
        "the offset reached the third delivery ({offset} < {c_at})"
    );

    let replay =
        |from: u64| json!({ "space": ops.space_id, "webhook_id": hook, "action": { "replay": { "from": from } } });
    // Refused: from nowhere, from past what it has delivered, by someone not the space's admin
    // (the instance's admin included: a replay is the space's decision).
    assert_eq!(app.call_as(&ada.http, "act_on_webhook", replay(0)).await.status(), 400);
    assert_eq!(
        app.call_as(&ada.http, "act_on_webhook", replay(offset + 2))
            .await
            .status(),
        400
    );
    let eve = app.sign_up("eve").await;
    assert_eq!(
        app.call_as(&eve.http, "act_on_webhook", replay(b_at)).await.status(),
        403
    );
    assert_eq!(app.call("act_on_webhook", replay(b_at)).await.status(), 403);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.got.lock().unwrap().len(), 3, "nothing was replayed");

    // From b: b and c again, in order, with the ids they had; then it goes on as before.
    assert_eq!(
        app.call_as(&ada.http, "act_on_webhook", replay(b_at)).await.status(),
        200
    );
    receiver.wait_for(5).await;
    assert_eq!(bodies(&receiver.delivered()[3..]), ["b", "c"]);
    assert_eq!(ids(3), original[1..]);
    post(&app, &ada, channel, "d").await;
    receiver.wait_for(6).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bodies(&receiver.delivered()[5..]), ["d"], "each once after the replay");
    let view = hooks(&app, &ada, &ops).await.remove(0);
    assert_eq!((view.delivered, view.dead), (6, false));
}

/// A server whose webhooks may go to public addresses only: the default, without the
/// tests' loopback allowance.
async fn spawn_public_only() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = parley_server::config::Config::for_tests(crate::helpers::database_in(&dir).await);
    config.files_dir = Some(dir.path().join("files"));
    config.webhook_allow = Vec::new();
    crate::helpers::spawn_with(dir, config).await
}

#[tokio::test]
async fn webhooks_to_internal_addresses_are_refused_on_the_address_connected_to() {
    // Only loopback is ever connected to in tests; private and link-local ranges are
    // checked as values by the core's unit tests (`parley::outbound`).
    let app = spawn_public_only().await;
    let eve = app.sign_up("eve").await;
    let scan = space(&app, &eve, "scanner").await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let port = url.trim_start_matches("http://127.0.0.1:").trim_end_matches("/hook");

    // An internal address typed as such is refused at once, with the reason.
    for typed in [
        url.clone(),
        format!("http://[::1]:{port}/hook"),
        format!("http://0.0.0.0:{port}/hook"),
    ] {
        let args = json!({ "space": scan.space_id, "url": typed, "event_types": ["MessagePosted"] });
        let refused = app.call_as(&eve.http, "create_webhook", args).await;
        assert_eq!(refused.status(), 400, "{typed}");
        assert!(refused.text().await.unwrap().contains("internal address"), "{typed}");
    }
    assert!(hooks(&app, &eve, &scan).await.is_empty(), "nothing was made");

    // A name is checked on what it resolves to when connecting: `localhost` is loopback.
    let by_name = format!("http://localhost:{port}/hook");
    subscribe(&app, &eve, &scan, &by_name, &["MessagePosted"]).await;
    post(&app, &eve, scan.channels[0].channel_id, "knock knock").await;
    let mut view = None;
    for _ in 0..200 {
        let found = hooks(&app, &eve, &scan).await.remove(0);
        if found.failures > 0 {
            view = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let view = view.expect("the delivery was tried and failed");
    let error = view.last_error.unwrap_or_default();
    assert!(error.contains("internal address"), "the reason is said: {error}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.got.lock().unwrap().len(), 0, "no request reached the receiver");
}

#[tokio::test]
async fn a_receiver_that_never_answers_delays_only_its_own_webhooks() {
    let app = spawn_app().await;
    // A receiver that accepts connections and never answers (the deliverer waits for its timeout).
    let stuck = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stuck_url = format!("http://{}/hook", stuck.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = stuck.accept().await {
            held.push(socket);
        }
    });
    let eve = app.sign_up("eve").await;
    let slow = space(&app, &eve, "slow").await;
    for _ in 0..3 {
        subscribe(&app, &eve, &slow, &stuck_url, &["MessagePosted"]).await;
    }
    let ada = app.sign_up("ada").await;
    let ops = space(&app, &ada, "ops").await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    subscribe(&app, &ada, &ops, &url, &["MessagePosted"]).await;

    post(&app, &eve, slow.channels[0].channel_id, "to the void").await;
    tokio::time::sleep(Duration::from_millis(100)).await; // the stuck deliveries are under way
    let posted = std::time::Instant::now();
    post(&app, &ada, ops.channels[0].channel_id, "to ops").await;
    receiver.wait_for(1).await;
    let took = posted.elapsed();
    // One stuck delivery alone would hold a shared deliverer for its 10 s timeout.
    assert!(took < Duration::from_secs(3), "delivered after {took:?}");
    assert_eq!(bodies(&receiver.delivered()), ["to ops"]);
}

#[tokio::test]
async fn a_deleted_message_is_served_by_no_door_that_serves_the_past() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let ops = space(&app, &ada, "ops").await;
    let channel = ops.channels[0].channel_id;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let created = subscribe(&app, &ada, &ops, &url, &["MessagePosted", "MessageDeleted"]).await;
    let secret = post(&app, &ada, channel, "the launch codes are 0000").await;
    post(&app, &ada, channel, "kept").await;
    receiver.wait_for(2).await;
    let from = receiver.delivered()[0]["event"]["position"].as_u64().unwrap();
    let delete = json!({ "channel": channel, "message_id": secret, "change": {"type": "delete"} });
    assert_eq!(app.call_as(&ada.http, "change_message", delete).await.status(), 200);
    receiver.wait_for(3).await;
    app.wait_projected().await;
    let said = |text: &str| text.contains("launch codes");

    // The log keeps its history.
    let log = app
        .engine
        .store()
        .read_all(parley::Position::ZERO, 1_000)
        .await
        .unwrap();
    assert!(said(&format!("{log:?}")), "the log still holds the event");

    // 1. A socket catching up from the start.
    let mut socket = app.socket_as(&ada).await;
    socket
        .send(&parley::protocol::ClientFrame::Subscribe {
            channel,
            after: parley::Position::ZERO,
            id: 0,
        })
        .await;
    let mut frames = Vec::new();
    loop {
        let frame = socket.next().await;
        let done = matches!(frame, parley::protocol::ServerFrame::CaughtUp { .. });
        frames.push(format!("{frame:?}"));
        if done {
            break;
        }
    }
    assert!(
        frames.iter().any(|f| f.contains("kept")),
        "the rest is served: {frames:?}"
    );
    assert!(!frames.iter().any(|f| said(f)), "catch-up from 0: {frames:?}");

    // 2. A webhook replay from before the message.
    let before = receiver.got.lock().unwrap().len();
    let replay = json!({ "space": ops.space_id, "webhook_id": created.webhook.webhook_id, "action": { "replay": { "from": from } } });
    assert_eq!(app.call_as(&ada.http, "act_on_webhook", replay).await.status(), 200);
    receiver.wait_for(before + 3).await;
    let replayed: Vec<String> = receiver.got.lock().unwrap()[before..]
        .iter()
        .map(|(_, body)| String::from_utf8_lossy(body).into_owned())
        .collect();
    assert!(replayed.iter().any(|b| b.contains("kept")), "{replayed:?}");
    assert!(!replayed.iter().any(|b| said(b)), "replayed: {replayed:?}");

    // 3. The inspector's log and its time travel to just after the post (admins).
    let page = app.log_page(json!({})).await;
    assert!(!said(&format!("{page:?}")), "inspector log page");
    let then: Vec<parley::MessageView> = app
        .call("channel_at", json!({ "channel": channel, "position": from }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(then.len(), 1, "the message existed then");
    assert!(!said(&format!("{then:?}")), "time travel: {then:?}");
}

#[tokio::test]
async fn a_deleted_accounts_name_is_in_no_webhook_replay() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let ops = space(&app, &ada, "ops").await;
    let channel = ops.channels[0].channel_id;
    let zelda = app.sign_up("zelda9").await;
    let code = crate::spaces::invite(&app, &ada, ops.space_id, None, None).await;
    crate::spaces::join(&app, &zelda, ops.space_id, &code).await.unwrap();
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let created = subscribe(&app, &ada, &ops, &url, &["MessagePosted", "ReactionAdded"]).await;
    let hers = post(&app, &zelda, channel, "her words stay").await;
    let react =
        json!({ "channel": channel, "message_id": hers, "change": {"type": "react", "emoji": "🎉", "on": true} });
    assert_eq!(app.call_as(&zelda.http, "change_message", react).await.status(), 200);
    receiver.wait_for(2).await;
    let from = receiver.delivered()[0]["event"]["position"].as_u64().unwrap();
    assert!(
        format!("{:?}", receiver.delivered()).contains("zelda9"),
        "delivered with her name at first"
    );

    let erase = json!({ "username": "zelda9", "erase_messages": false });
    assert_eq!(app.call("admin_delete_account", erase).await.status(), 200);
    let before = receiver.got.lock().unwrap().len();
    let replay = json!({ "space": ops.space_id, "webhook_id": created.webhook.webhook_id, "action": { "replay": { "from": from } } });
    assert_eq!(app.call_as(&ada.http, "act_on_webhook", replay).await.status(), 200);
    receiver.wait_for(before + 2).await;
    let replayed: Vec<String> = receiver.got.lock().unwrap()[before..]
        .iter()
        .map(|(_, body)| String::from_utf8_lossy(body).into_owned())
        .collect();
    assert!(replayed.iter().any(|b| b.contains("her words stay")), "{replayed:?}");
    assert!(!replayed.iter().any(|b| b.contains("zelda9")), "replayed: {replayed:?}");
}
