//! Topics through REST: made by a space's admins with a JSON Schema, published to by any member or bot with a token (idempotent by the producer's id, checked against the schema, refused with a reason), delivered to a webhook subscribed by pattern and to no other, and shown in the inspector; every answer checked against the OpenAPI document.

use crate::helpers::spawn_app;
use crate::rest::{conforms, create_token, openapi, response_schema};
use crate::spaces::{create_space, invite, join};
use crate::webhooks::Receiver;
use parley::MessageId;
use parley::api::BotSecret;
use serde_json::{Value, json};

async fn call(app: &crate::helpers::TestApp, method: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
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

fn documented(doc: &Value, path: &str, method: &str, (status, answer): &(u16, Value)) {
    let schema = response_schema(doc, path, method, *status);
    conforms(answer, schema, doc, path).unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn producers_publish_to_a_topic_and_a_pattern_subscription_gets_exactly_its_events() {
    let app = spawn_app().await;
    let (ada, bob, eve) = (
        app.sign_up("ada").await,
        app.sign_up("bob").await,
        app.sign_up("eve").await,
    );
    let space = create_space(&app, &ada, "Ops").await;
    let code = invite(&app, &ada, space.space_id, None, None).await;
    join(&app, &bob, space.space_id, &code).await.unwrap();
    let (_, admin) = create_token(&app, &ada, "ops").await;
    let (_, member) = create_token(&app, &bob, "script").await;
    let (_, outsider) = create_token(&app, &eve, "script").await;
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
