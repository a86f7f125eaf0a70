//! Topics through REST and the socket: made by a space's admins with a JSON Schema, published to by any member or bot with a token (idempotent by the producer's id, checked against the schema, refused with a reason), delivered to a webhook subscribed by pattern and to no other (held while it is paused), to a socket subscribed by pattern from its offset, and shown in the inspector; every answer checked against the OpenAPI document.

use crate::helpers::{TestApp, User, spawn_app};
use crate::rest::{conforms, create_token, openapi, response_schema};
use crate::spaces::{create_space, invite, join};
use crate::webhooks::Receiver;
use parley::api::{BotSecret, SpaceAction};
use parley::protocol::{ClientFrame, ServerFrame};
use parley::{MessageId, Position};
use serde_json::{Value, json};

async fn call(app: &TestApp, method: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
    let http = reqwest::Client::new();
    let url = format!("http://{}{path}", app.addr);
    let request = if method == "GET" {
        http.get(url)
    } else {
        http.post(url).json(&body)
    };
    let response = request.bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Ada's space "Ops" with Bob in it and Eve outside, and a token for each.
struct Ops {
    ada: User,
    bob: User,
    eve: User,
    space: parley::api::SpaceView,
    admin: String,
    member: String,
    outsider: String,
}

async fn ops(app: &TestApp) -> Ops {
    let (ada, bob, eve) = (
        app.sign_up("ada").await,
        app.sign_up("bob").await,
        app.sign_up("eve").await,
    );
    let space = create_space(app, &ada, "Ops").await;
    let code = invite(app, &ada, space.space_id, None, None).await;
    join(app, &bob, space.space_id, &code).await.unwrap();
    let (_, admin) = create_token(app, &ada, "ops").await;
    let (_, member) = create_token(app, &bob, "script").await;
    let (_, outsider) = create_token(app, &eve, "script").await;
    Ops {
        ada,
        bob,
        eve,
        space,
        admin,
        member,
        outsider,
    }
}

fn documented(doc: &Value, path: &str, method: &str, (status, answer): &(u16, Value)) {
    let schema = response_schema(doc, path, method, *status);
    conforms(answer, schema, doc, path).unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn producers_publish_to_a_topic_and_a_pattern_subscription_gets_exactly_its_events() {
    let app = spawn_app().await;
    let Ops {
        ada,
        bob,
        space,
        admin,
        member,
        outsider,
        ..
    } = ops(&app).await;
    let args = json!({ "space": space.space_id, "username": "deployer", "name": "Deployer" });
    let bot: BotSecret = app.call_as(&ada.http, "create_bot", args).await.json().await.unwrap();
    let doc = openapi(&app).await;
    let topics = format!("/api/v1/spaces/{}/topics", space.space_id);
    let topics_path = "/api/v1/spaces/{space_id}/topics";

    // Made by an admin, with a schema; refused with a reason otherwise.
    let schema = json!({
        "type": "object",
        "required": ["version"],
        "properties": { "version": { "type": "string" }, "ok": { "type": "boolean" } }
    });
    let made = call(
        &app,
        "POST",
        &topics,
        &admin,
        json!({ "name": "Deploy.Prod", "schema": schema }),
    )
    .await;
    assert_eq!(made.0, 201, "{}", made.1);
    documented(&doc, topics_path, "post", &made);
    assert_eq!(made.1["name"], json!("deploy.prod"));
    assert_eq!(made.1["max_event_bytes"], json!(64 * 1024));
    let refused = call(&app, "POST", &topics, &member, json!({ "name": "mine" })).await;
    assert_eq!(refused.0, 403);
    documented(&doc, topics_path, "post", &refused);
    for bad in [
        json!({ "name": "bad name" }),
        json!({ "name": "x", "schema": { "type": 12 } }),
        json!({ "name": "deploy.prod" }),
    ] {
        let refused = call(&app, "POST", &topics, &admin, bad.clone()).await;
        assert_eq!(refused.0, 400, "{bad}: {}", refused.1);
        documented(&doc, topics_path, "post", &refused);
    }
    assert_eq!(
        call(&app, "POST", &topics, &admin, json!({ "name": "ci.build" }))
            .await
            .0,
        201
    );
    let listed = call(&app, "GET", &topics, &member, Value::Null).await;
    documented(&doc, topics_path, "get", &listed);
    let names: Vec<&str> = listed
        .1
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["ci.build", "deploy.prod"]);
    assert_eq!(call(&app, "GET", &topics, &outsider, Value::Null).await.0, 403);

    // A webhook for deploy.* only.
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let hook = json!({ "url": url, "event_types": ["deploy.*"] });
    let webhooks = format!("/api/v1/spaces/{}/webhooks", space.space_id);
    assert_eq!(call(&app, "POST", &webhooks, &admin, hook).await.0, 201);

    // Published by the bot, once for two sends of one id; the schema is kept.
    let events = format!("{topics}/deploy.prod/events");
    let events_path = "/api/v1/spaces/{space_id}/topics/{topic}/events";
    let id = MessageId::new();
    let event = json!({ "id": id, "data": { "version": "1.2.0", "ok": true } });
    let first = call(&app, "POST", &events, &bot.secret, event.clone()).await;
    assert_eq!(first.0, 201, "{}", first.1);
    documented(&doc, events_path, "post", &first);
    let again = call(&app, "POST", &events, &bot.secret, event).await;
    assert_eq!((again.0, again.1["duplicate"].clone()), (200, json!(true)));
    documented(&doc, events_path, "post", &again);
    assert_eq!(first.1["position"], again.1["position"]);
    for (bad, why) in [
        (json!({ "data": { "version": 12 } }), "schema"),
        (json!({ "data": { "ok": true } }), "schema"),
        (json!({ "data": {}, "id": "nope" }), "UUID"),
    ] {
        let refused = call(&app, "POST", &events, &member, bad.clone()).await;
        assert_eq!(refused.0, 400, "{bad}");
        assert!(
            refused.1["error"]["message"].as_str().unwrap().contains(why),
            "{}",
            refused.1
        );
        documented(&doc, events_path, "post", &refused);
    }
    let missing = call(
        &app,
        "POST",
        &format!("{topics}/nothing/events"),
        &member,
        json!({ "data": {} }),
    )
    .await;
    assert_eq!(missing.0, 400);
    let outside = call(&app, "POST", &events, &outsider, json!({ "data": { "version": "9" } })).await;
    assert_eq!(outside.0, 403);
    documented(&doc, events_path, "post", &outside);

    // Between them, events the subscription does not want: another topic, a chat message.
    let other = call(
        &app,
        "POST",
        &format!("{topics}/ci.build/events"),
        &member,
        json!({ "data": [1, 2, 3] }),
    )
    .await;
    assert_eq!(other.0, 201);
    let args = json!({ "channel": space.channels[0].channel_id, "message_id": MessageId::new(), "body": "deploying", "reply_to": null });
    assert_eq!(app.call_as(&bob.http, "post_message", args).await.status(), 200);
    let second = json!({ "data": { "version": "1.2.1" } });
    assert_eq!(call(&app, "POST", &events, &member, second).await.0, 201);

    // The receiver gets exactly the two deploy.prod events, in order, and nothing else.
    receiver.wait_for(2).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let delivered = receiver.delivered();
    let versions: Vec<&str> = delivered
        .iter()
        .map(|d| {
            assert_eq!(d["event"]["event"]["type"], json!("TopicPublished"), "{d}");
            assert_eq!(d["event"]["event"]["data"]["topic"], json!("deploy.prod"));
            d["event"]["event"]["data"]["data"]["version"].as_str().unwrap()
        })
        .collect();
    assert_eq!(versions, ["1.2.0", "1.2.1"]);

    // The inspector shows them, on their own stream.
    let page = app.log_page(json!({ "event_type": "TopicPublished" })).await;
    let streams: Vec<String> = page.events.iter().map(|e| e.stream_id.clone()).collect();
    assert_eq!(streams.len(), 3);
    assert!(streams.iter().all(|s| s.starts_with("topic-")), "{streams:?}");
}

#[tokio::test]
async fn a_schema_is_judged_by_what_its_checks_may_cost_and_a_costly_one_takes_smaller_events() {
    let app = spawn_app().await;
    let Ops {
        space, admin, member, ..
    } = ops(&app).await;
    let doc = openapi(&app).await;
    let topics = format!("/api/v1/spaces/{}/topics", space.space_id);
    let topics_path = "/api/v1/spaces/{space_id}/topics";
    let events_path = "/api/v1/spaces/{space_id}/topics/{topic}/events";

    // Refused, each with its reason, and nothing made: two ways back to the root for each
    // item (the work doubles at each level), a reference to outside, forty patterns.
    let patterns: serde_json::Map<String, Value> =
        (0..40).map(|i| (format!("p{i}"), json!({ "pattern": "^a" }))).collect();
    for (schema, why) in [
        (
            json!({ "items": { "anyOf": [{ "$ref": "#" }, { "$ref": "#" }] } }),
            "steps",
        ),
        (json!({ "$ref": "https://example.invalid/schema.json" }), "$ref"),
        (json!({ "properties": patterns }), "regular expressions"),
    ] {
        let refused = call(
            &app,
            "POST",
            &topics,
            &admin,
            json!({ "name": "hostile", "schema": schema }),
        )
        .await;
        assert_eq!(refused.0, 400, "{}", refused.1);
        let message = refused.1["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{message}");
        documented(&doc, topics_path, "post", &refused);
    }
    let listed = call(&app, "GET", &topics, &member, Value::Null).await;
    assert_eq!(listed.1, json!([]));

    // Five hundred branches applied to every item: made, but its events are small.
    let branches: Vec<Value> = (0..500).map(|_| json!({})).collect();
    let costly = json!({ "items": { "$ref": "#" }, "allOf": branches });
    let largest = parley::topic_schema::max_event_bytes(parley::topic_schema::cost(&costly).unwrap());
    assert!(largest < 8 * 1024, "{largest}");
    let made = call(
        &app,
        "POST",
        &topics,
        &admin,
        json!({ "name": "costly", "schema": costly }),
    )
    .await;
    assert_eq!(made.0, 201, "{}", made.1);
    // It says so, made and listed.
    assert_eq!(made.1["max_event_bytes"], json!(largest));
    documented(&doc, topics_path, "post", &made);
    let listed = call(&app, "GET", &topics, &member, Value::Null).await;
    assert_eq!(listed.1[0]["max_event_bytes"], json!(largest), "{}", listed.1);
    documented(&doc, topics_path, "get", &listed);
    let events = format!("{topics}/costly/events");
    let zeros = |bytes: usize| Value::Array(vec![json!(0); bytes / 2 - 1]);
    let too_large = call(&app, "POST", &events, &member, json!({ "data": zeros(largest + 2) })).await;
    assert_eq!(too_large.0, 400, "{}", too_large.1);
    let message = too_large.1["error"]["message"].as_str().unwrap();
    assert!(message.contains(&format!("at most {largest} bytes")), "{message}");
    documented(&doc, events_path, "post", &too_large);
    let within = call(&app, "POST", &events, &member, json!({ "data": zeros(largest) })).await;
    assert_eq!(within.0, 201, "{}", within.1);

    // An event nested deeper than 64 levels is refused on any topic.
    assert_eq!(
        call(&app, "POST", &topics, &admin, json!({ "name": "free" })).await.0,
        201
    );
    let mut deep = json!(0);
    for _ in 0..=parley::topic_schema::MAX_EVENT_DEPTH {
        deep = json!([deep]);
    }
    let refused = call(
        &app,
        "POST",
        &format!("{topics}/free/events"),
        &member,
        json!({ "data": deep }),
    )
    .await;
    assert_eq!(refused.0, 400, "{}", refused.1);
    assert!(refused.1["error"]["message"].as_str().unwrap().contains("levels deep"));
    let page = app.log_page(json!({ "event_type": "TopicPublished" })).await;
    assert_eq!(page.events.len(), 1, "only the event within the size was stored");
}

/// Publishes `data` to `topic` of the space as the token's holder; returns its position.
async fn publish(app: &TestApp, space: parley::SpaceId, token: &str, topic: &str, data: Value) -> u64 {
    let path = format!("/api/v1/spaces/{space}/topics/{topic}/events");
    let (status, answer) = call(app, "POST", &path, token, json!({ "data": data })).await;
    assert_eq!(status, 201, "{answer}");
    answer["position"].as_u64().unwrap()
}

/// The next frames of `socket` until the topic subscription's catch-up ends: the events it
/// got (their topic and data) and the position it caught up to.
async fn topic_frames_until_caught_up(socket: &mut crate::helpers::Socket) -> (Vec<(String, Value)>, u64) {
    let mut got = Vec::new();
    loop {
        match socket.next().await {
            ServerFrame::TopicEvent { event, pattern, .. } => {
                assert_eq!(pattern, "deploy.*");
                let parley::Event::TopicPublished { topic, data, .. } = event.event else {
                    panic!("not a topic's event: {event:?}");
                };
                got.push((topic, data));
            }
            ServerFrame::TopicsCaughtUp { position, .. } => return (got, position.0),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_socket_gets_a_patterns_topic_events_from_its_offset_then_live_each_once_and_only_in_its_space() {
    let app = spawn_app().await;
    let Ops {
        ada,
        bob,
        eve,
        space,
        admin,
        member,
        outsider,
    } = ops(&app).await;
    let topics = format!("/api/v1/spaces/{}/topics", space.space_id);
    for name in ["deploy.prod", "deploy.staging", "ci.build"] {
        assert_eq!(
            call(&app, "POST", &topics, &admin, json!({ "name": name })).await.0,
            201
        );
    }
    let s = space.space_id;
    publish(&app, s, &admin, "deploy.prod", json!({ "v": 1 })).await;
    publish(&app, s, &admin, "ci.build", json!({ "v": 2 })).await;
    let second = publish(&app, s, &member, "deploy.staging", json!({ "v": 3 })).await;
    publish(&app, s, &admin, "deploy.prod", json!({ "v": 4 })).await;

    // From the start: the past of deploy.* in log order, then live.
    let subscribe = |after: u64| ClientFrame::SubscribeTopics {
        space: s,
        pattern: "Deploy.*".into(),
        after: Position(after),
    };
    let mut socket = app.socket_with_token(&member).await;
    socket.send(&subscribe(0)).await;
    let (past, caught_up) = topic_frames_until_caught_up(&mut socket).await;
    let expected = [
        ("deploy.prod".to_owned(), json!({ "v": 1 })),
        ("deploy.staging".to_owned(), json!({ "v": 3 })),
        ("deploy.prod".to_owned(), json!({ "v": 4 })),
    ];
    assert_eq!(past, expected);
    publish(&app, s, &admin, "ci.build", json!({ "v": 5 })).await;
    let live = publish(&app, s, &admin, "deploy.staging", json!({ "v": 6 })).await;
    assert!(live > caught_up);
    match socket.next().await {
        ServerFrame::TopicEvent { event, .. } => assert_eq!(event.position.0, live),
        other => panic!("expected the live event, got {other:?}"),
    }
    socket.expect_silence(200).await;

    // Again from an offset: what came after it, nothing before, nothing twice.
    let mut again = app.socket_with_token(&member).await;
    again.send(&subscribe(second)).await;
    let (past, _) = topic_frames_until_caught_up(&mut again).await;
    let versions: Vec<&Value> = past.iter().map(|(_, data)| &data["v"]).collect();
    assert_eq!(versions, [&json!(4), &json!(6)]);

    // Refused with a reason: someone outside the space, or a bot of another space (as if
    // it did not exist), a bad pattern. The connection stays open.
    let elsewhere = create_space(&app, &eve, "Elsewhere").await;
    let args = json!({ "space": elsewhere.space_id, "username": "other-bot", "name": "Other" });
    let other_bot: BotSecret = app.call_as(&eve.http, "create_bot", args).await.json().await.unwrap();
    for token in [&outsider, &other_bot.secret] {
        let mut stranger = app.socket_with_token(token).await;
        stranger.send(&subscribe(0)).await;
        match stranger.next().await {
            ServerFrame::TopicsRefused { error, .. } => assert_eq!(error, "no such space"),
            other => panic!("an outsider got {other:?}"),
        }
        let path = format!("/api/v1/spaces/{s}/topics/deploy.prod/events");
        let (status, _) = call(&app, "POST", &path, token, json!({ "data": { "v": 0 } })).await;
        assert_eq!(status, 403, "an outsider published");
    }
    let bad = ClientFrame::SubscribeTopics {
        space: s,
        pattern: "deploy/prod".into(),
        after: Position(0),
    };
    socket.send(&bad).await;
    match socket.next().await {
        ServerFrame::TopicsRefused { error, .. } => assert!(error.contains("pattern"), "{error}"),
        other => panic!("a bad pattern got {other:?}"),
    }
    socket.send(&ClientFrame::Ping { nonce: 3 }).await;
    assert_eq!(socket.next().await, ServerFrame::Pong { nonce: 3 });

    // Removed from the space: the subscription ends, and says so; nothing more comes.
    let remove = SpaceAction::Remove { member: bob.me.user_id };
    crate::spaces::act(&app, &ada, s, remove).await.unwrap();
    match socket.next().await {
        ServerFrame::TopicsRefused { error, .. } => assert!(error.contains("no longer a member"), "{error}"),
        other => panic!("after the removal got {other:?}"),
    }
    publish(&app, s, &admin, "deploy.prod", json!({ "v": 7 })).await;
    socket.expect_silence(300).await;
}

#[tokio::test]
async fn a_paused_webhook_holds_its_events_and_gets_them_all_when_resumed() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let space = create_space(&app, &ada, "Ops").await;
    let (_, admin) = create_token(&app, &ada, "ops").await;
    let doc = openapi(&app).await;
    let topics = format!("/api/v1/spaces/{}/topics", space.space_id);
    assert_eq!(
        call(&app, "POST", &topics, &admin, json!({ "name": "ci.build" }))
            .await
            .0,
        201
    );
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let webhooks = format!("/api/v1/spaces/{}/webhooks", space.space_id);
    let hook = json!({ "url": url, "event_types": ["ci.*"] });
    let (status, made) = call(&app, "POST", &webhooks, &admin, hook).await;
    assert_eq!(status, 201, "{made}");
    let id = made["webhook"]["webhook_id"].as_str().unwrap().to_owned();
    let actions = format!("{webhooks}/{id}/actions");
    let actions_path = "/api/v1/spaces/{space_id}/webhooks/{webhook_id}/actions";

    let paused = call(&app, "POST", &actions, &admin, json!({ "action": "pause" })).await;
    assert_eq!(paused.0, 204, "{}", paused.1);
    let listed = call(&app, "GET", &webhooks, &admin, Value::Null).await;
    documented(&doc, "/api/v1/spaces/{space_id}/webhooks", "get", &listed);
    assert_eq!(listed.1[0]["paused"], json!(true));
    // The pause is in the log, for every node's deliverer.
    let page = app.log_page(json!({ "event_type": "WebhookPaused" })).await;
    assert_eq!(page.events.len(), 1);

    for n in 1..=3 {
        publish(&app, space.space_id, &admin, "ci.build", json!({ "n": n })).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(receiver.delivered().is_empty(), "a paused webhook delivered");

    let bad = call(&app, "POST", &actions, &admin, json!({ "action": "explode" })).await;
    assert_eq!(bad.0, 400);
    documented(&doc, actions_path, "post", &bad);
    let resumed = call(&app, "POST", &actions, &admin, json!({ "action": "resume" })).await;
    assert_eq!(resumed.0, 204);
    receiver.wait_for(3).await;
    let numbers: Vec<Value> = receiver
        .delivered()
        .iter()
        .map(|d| d["event"]["event"]["data"]["data"]["n"].clone())
        .collect();
    assert_eq!(numbers, [json!(1), json!(2), json!(3)]);
    let listed = call(&app, "GET", &webhooks, &admin, Value::Null).await;
    assert_eq!(listed.1[0]["paused"], json!(false));
}
