//! The REST door against its own OpenAPI document: API tokens (made, used, revoked),
//! idempotent posts, paging, access control, and every error in one JSON shape.

use crate::helpers::{TestApp, User, spawn_app};
use parley::{ChannelId, MessageId};
use serde_json::{Value, json};

pub(crate) async fn create_token(app: &TestApp, user: &User, name: &str) -> (String, String) {
    let response = app.call_as(&user.http, "create_token", json!({ "name": name })).await;
    assert_eq!(response.status(), 200);
    let created: Value = response.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["token"]["token_id"].as_str().unwrap().to_owned();
    (id, secret)
}

/// Checks `value` against an OpenAPI 3.1 schema of the document: types, required and
/// known properties, arrays, references. Enough to catch the code and the document drifting.
pub(crate) fn conforms(value: &Value, schema: &Value, doc: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap();
        return conforms(value, &doc["components"]["schemas"][name], doc, at);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        return options
            .iter()
            .any(|s| conforms(value, s, doc, at).is_ok())
            .then_some(())
            .ok_or_else(|| format!("{at}: {value} matches none of {options:?}"));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    if !types
        .iter()
        .any(|t| *t == kind || (*t == "number" && kind == "integer"))
    {
        return Err(format!("{at}: {kind} where the document says {types:?}"));
    }
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                conforms(item, &schema["items"], doc, &format!("{at}[{i}]"))?;
            }
        }
        Value::Object(fields) => {
            // An object the document leaves open (no `properties`: any JSON, such as a
            // topic's event data) takes any fields.
            let Some(properties) = schema["properties"].as_object().cloned() else {
                return Ok(());
            };
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap();
                if !fields.contains_key(name) {
                    return Err(format!("{at}: {name} is required"));
                }
            }
            for (name, field) in fields {
                let Some(field_schema) = properties.get(name) else {
                    return Err(format!("{at}: {name} is not in the document"));
                };
                conforms(field, field_schema, doc, &format!("{at}.{name}"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The OpenAPI document the server serves.
pub(crate) async fn openapi(app: &TestApp) -> Value {
    reqwest::get(format!("http://{}/api/v1/openapi.json", app.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The schema the document gives for a response of `method path` with `status`.
pub(crate) fn response_schema<'a>(doc: &'a Value, path: &str, method: &str, status: u16) -> &'a Value {
    let schema = &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]["schema"];
    assert!(!schema.is_null(), "the document has no {status} for {method} {path}");
    schema
}

#[tokio::test]
async fn a_bot_posts_and_reads_with_a_token_and_every_answer_matches_the_document() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let http = reqwest::Client::new();
    let doc = openapi(&app).await;
    assert_eq!(doc["info"]["title"], "Parley REST API");
    let messages_path = "/api/v1/channels/{channel_id}/messages";
    let (token_id, secret) = create_token(&app, &ada, "deploy bot").await;
    assert!(secret.starts_with("pt_"));
    let listed: Value = app
        .call_as(&ada.http, "my_tokens", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["name"], "deploy bot");
    assert!(
        !listed.to_string().contains(&secret[3..]),
        "the secret is never shown again"
    );

    let url = |path: &str| format!("http://{}{path}", app.addr);
    let channels = http
        .get(url("/api/v1/channels"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(channels.status(), 200);
    let channels: Value = channels.json().await.unwrap();
    conforms(
        &channels,
        response_schema(&doc, "/api/v1/channels", "get", 200),
        &doc,
        "channels",
    )
    .unwrap();
    assert_eq!(channels[0]["channel_id"], ChannelId::GENERAL.to_string());

    // Posting twice with one id stores once.
    let general = format!("/api/v1/channels/{}/messages", ChannelId::GENERAL);
    let message_id = MessageId::new().to_string();
    let post = || {
        http.post(url(&general))
            .bearer_auth(&secret)
            .json(&json!({ "message_id": message_id, "body": "build **green** ✅" }))
            .send()
    };
    let first = post().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    conforms(
        &first,
        response_schema(&doc, messages_path, "post", 201),
        &doc,
        "posted",
    )
    .unwrap();
    let again: Value = post().await.unwrap().json().await.unwrap();
    assert_eq!(again["position"], first["position"]);

    let page = http
        .get(url(&format!("{general}?limit=10")))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page: Value = page.json().await.unwrap();
    conforms(&page, response_schema(&doc, messages_path, "get", 200), &doc, "page").unwrap();
    let ours: Vec<&Value> = page
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["message_id"] == message_id)
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0]["author"], "ada");
    assert_eq!(ours[0]["body"], "build **green** ✅");
    // The chat's own history sees the bot's message.
    assert!(
        app.history(None, 10)
            .await
            .iter()
            .any(|m| m.message_id.to_string() == message_id)
    );

    // Revoked: it stops working at once.
    assert_eq!(
        app.call_as(&ada.http, "revoke_token", json!({ "token_id": token_id }))
            .await
            .status(),
        200
    );
    let refused = http
        .get(url("/api/v1/channels"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let refused: Value = refused.json().await.unwrap();
    conforms(
        &refused,
        response_schema(&doc, "/api/v1/channels", "get", 401),
        &doc,
        "refused",
    )
    .unwrap();
}

#[tokio::test]
async fn bad_requests_get_a_clear_json_error_and_change_nothing() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let bob = app.sign_up("bob").await;
    let eve = app.sign_up("eve").await;
    let dm = app.open_direct(&ada, "bob").await;
    let (_, eve_token) = create_token(&app, &eve, "eve's bot").await;
    let _ = bob;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("http://{}{path}", app.addr);
    let general = format!("/api/v1/channels/{}/messages", ChannelId::GENERAL);
    let head = app.head().await;

    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (http.get(url("/api/v1/channels")), 401, "unauthorized"),
        (
            http.get(url("/api/v1/channels")).bearer_auth("pt_forged"),
            401,
            "unauthorized",
        ),
        (
            http.get(url("/api/v1/channels")).bearer_auth("not-even-a-token"),
            401,
            "unauthorized",
        ),
        (
            http.post(url(&format!("/api/v1/channels/{}/messages", dm)))
                .bearer_auth(&eve_token)
                .json(&json!({ "body": "let me in" })),
            404,
            "not_found",
        ),
        (
            http.post(url("/api/v1/channels/not-a-channel/messages"))
                .bearer_auth(&eve_token)
                .json(&json!({ "body": "x" })),
            404,
            "not_found",
        ),
        (
            http.post(url(&general))
                .bearer_auth(&eve_token)
                .json(&json!({ "body": "   " })),
            400,
            "invalid",
        ),
        (
            http.post(url(&general))
                .bearer_auth(&eve_token)
                .json(&json!({ "body": "x".repeat(4_001) })),
            400,
            "invalid",
        ),
        (
            http.post(url(&general))
                .bearer_auth(&eve_token)
                .header("content-type", "application/json")
                .body("{not json"),
            400,
            "invalid",
        ),
        (
            http.post(url(&general))
                .bearer_auth(&eve_token)
                .json(&json!({ "body": "x", "message_id": "nope" })),
            400,
            "invalid",
        ),
        (
            http.get(url(&format!("{general}?limit=0"))).bearer_auth(&eve_token),
            400,
            "invalid",
        ),
        (
            http.get(url(&format!("{general}?before=minus")))
                .bearer_auth(&eve_token),
            400,
            "invalid",
        ),
    ];
    for (request, status, code) in cases {
        let response = request.send().await.unwrap();
        let got = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!((got, body["error"]["code"].as_str()), (status, Some(code)), "{body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(app.head().await, head, "nothing was appended");
}

#[tokio::test]
async fn a_script_searches_with_words_and_filters_and_every_answer_matches_the_document() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let http = reqwest::Client::new();
    let doc = openapi(&app).await;
    let (_, secret) = create_token(&app, &ada, "search bot").await;
    for body in [
        "the **deploy** is done",
        "deploy notes at https://example.org",
        "lunch?",
    ] {
        let args = json!({ "channel": ChannelId::GENERAL, "message_id": MessageId::new(), "body": body });
        assert_eq!(app.call_as(&ada.http, "post_message", args).await.status(), 200);
    }
    app.wait_projected().await;
    let search = |q: &str| {
        http.get(format!("http://{}/api/v1/search", app.addr))
            .query(&[("q", q)])
            .bearer_auth(&secret)
            .send()
    };

    let found = search("deploy").await.unwrap();
    assert_eq!(found.status(), 200);
    let found: Value = found.json().await.unwrap();
    conforms(
        &found,
        response_schema(&doc, "/api/v1/search", "get", 200),
        &doc,
        "hits",
    )
    .unwrap();
    assert_eq!(found.as_array().unwrap().len(), 2);
    let done = found
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["snippet"].as_str().unwrap().contains("deploy is done"));
    let done = done.unwrap_or_else(|| panic!("the snippet: {found}"));
    assert!(
        !done["snippet"].as_str().unwrap().contains("**"),
        "plain text, no Markdown: {done}"
    );
    assert_eq!(done["matched"], json!(["deploy"]));

    let linked: Value = search("deploy has:link from:@ada").await.unwrap().json().await.unwrap();
    assert_eq!(linked.as_array().unwrap().len(), 1);
    assert_eq!(linked[0]["author"], "ada");

    let refused = search("on:someday").await.unwrap();
    assert_eq!(refused.status(), 400);
    let refused: Value = refused.json().await.unwrap();
    conforms(
        &refused,
        response_schema(&doc, "/api/v1/search", "get", 400),
        &doc,
        "refused",
    )
    .unwrap();
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("on: wants a date")
    );

    let anonymous = http
        .get(format!("http://{}/api/v1/search?q=deploy", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
