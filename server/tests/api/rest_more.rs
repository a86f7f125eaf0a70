//! The REST door for what a bot does beyond posting, each answer checked against the OpenAPI document: editing, deleting and reacting to messages, reading a thread, listing spaces, making and archiving a channel, a channel's people, and its topic; refusals in the one error shape that change nothing.

use crate::helpers::{TestApp, User, spawn_app};
use crate::rest::{conforms, create_token, openapi, response_schema};
use crate::spaces::{create_space, invite, join};
use parley::api::BotSecret;
use parley::{ChannelId, MessageId, MessageView};
use serde_json::{Value, json};

/// Calls `method path` with `token` and a JSON `body`; the status and the JSON answer
/// (null when there is none).
async fn call(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let http = reqwest::Client::new();
    let url = format!("http://{}{path}", app.addr);
    let request = match method {
        "GET" => http.get(url),
        "POST" => http.post(url),
        "PUT" => http.put(url),
        "PATCH" => http.patch(url),
        _ => http.delete(url),
    };
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Asserts `answer` is what the document says `method path` answers with `status`.
fn documented(doc: &Value, path: &str, method: &str, (status, answer): &(u16, Value)) {
    let schema = response_schema(doc, path, method, *status);
    conforms(answer, schema, doc, &format!("{method} {path} {status}")).unwrap_or_else(|e| panic!("{e}"));
}

async fn bot_token(app: &TestApp, admin: &User, space: parley::SpaceId, username: &str) -> String {
    let args = json!({ "space": space, "username": username, "name": "Helper" });
    let made: BotSecret = app.call_as(&admin.http, "create_bot", args).await.json().await.unwrap();
    made.secret
}

async fn history(app: &TestApp, user: &User, channel: ChannelId) -> Vec<MessageView> {
    app.wait_projected().await;
    let args = json!({ "channel": channel, "before": null, "limit": 50 });
    app.call_as(&user.http, "history", args).await.json().await.unwrap()
}

#[tokio::test]
async fn a_bot_edits_deletes_reacts_and_reads_threads_through_rest() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let space = create_space(&app, &ada, "Team").await;
    let channel = space.channels[0].channel_id;
    let token = bot_token(&app, &ada, space.space_id, "helper-bot").await;
    let doc = openapi(&app).await;
    let messages = format!("/api/v1/channels/{channel}/messages");
    let one = "/api/v1/channels/{channel_id}/messages/{message_id}";

    let (mine, theirs) = (MessageId::new(), MessageId::new());
    let posted = call(
        &app,
        "POST",
        &messages,
        &token,
        Some(json!({ "message_id": mine, "body": "draft" })),
    )
    .await;
    assert_eq!(posted.0, 201);
    let args = json!({ "channel": channel, "message_id": theirs, "body": "ada's words", "reply_to": null });
    assert_eq!(app.call_as(&ada.http, "post_message", args).await.status(), 200);

    let edited = call(
        &app,
        "PATCH",
        &format!("{messages}/{mine}"),
        &token,
        Some(json!({ "body": "final" })),
    )
    .await;
    assert_eq!(edited.0, 200, "{}", edited.1);
    documented(&doc, one, "patch", &edited);
    // Someone else's message is not the bot's to edit or delete; nothing changes.
    let refused = call(
        &app,
        "PATCH",
        &format!("{messages}/{theirs}"),
        &token,
        Some(json!({ "body": "mine now" })),
    )
    .await;
    assert_eq!(refused.0, 403);
    documented(&doc, one, "patch", &refused);
    let refused = call(&app, "DELETE", &format!("{messages}/{theirs}"), &token, None).await;
    assert_eq!(refused.0, 403);
    documented(&doc, one, "delete", &refused);
    // Bad input: a clear error, nothing changed.
    let empty = call(
        &app,
        "PATCH",
        &format!("{messages}/{mine}"),
        &token,
        Some(json!({ "body": " " })),
    )
    .await;
    assert_eq!(empty.0, 400);
    documented(&doc, one, "patch", &empty);
    let unknown = call(
        &app,
        "PATCH",
        &format!("{messages}/{}", MessageId::new()),
        &token,
        Some(json!({ "body": "x" })),
    )
    .await;
    assert_eq!(unknown.0, 404);
    let malformed = call(&app, "DELETE", &format!("{messages}/not-an-id"), &token, None).await;
    assert_eq!(malformed.0, 404);
    documented(&doc, one, "delete", &malformed);

    // Reactions: any real emoji, URL-encoded; anything else is refused.
    let reactions = "/api/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}";
    let thumbs = format!("{messages}/{theirs}/reactions/%F0%9F%91%8D");
    let reacted = call(&app, "PUT", &thumbs, &token, None).await;
    assert_eq!(reacted.0, 200, "{}", reacted.1);
    documented(&doc, reactions, "put", &reacted);
    let not_emoji = call(
        &app,
        "PUT",
        &format!("{messages}/{theirs}/reactions/plus-one"),
        &token,
        None,
    )
    .await;
    assert_eq!(not_emoji.0, 400);
    documented(&doc, reactions, "put", &not_emoji);
    let seen = history(&app, &ada, channel).await;
    let theirs_now = seen.iter().find(|m| m.message_id == theirs).unwrap();
    assert_eq!(theirs_now.reactions.len(), 1);
    assert_eq!(theirs_now.reactions[0].users, ["helper-bot"]);
    assert_eq!(
        seen.iter().find(|m| m.message_id == mine).map(|m| m.body.as_str()),
        Some("final")
    );
    let taken_back = call(&app, "DELETE", &thumbs, &token, None).await;
    assert_eq!(taken_back.0, 200);
    documented(&doc, reactions, "delete", &taken_back);

    // A reply, then the thread as the bot reads it.
    let reply = json!({ "body": "on it", "reply_to": theirs });
    assert_eq!(call(&app, "POST", &messages, &token, Some(reply)).await.0, 201);
    app.wait_projected().await;
    let thread = call(&app, "GET", &format!("{messages}/{theirs}/thread"), &token, None).await;
    assert_eq!(thread.0, 200);
    documented(
        &doc,
        "/api/v1/channels/{channel_id}/messages/{message_id}/thread",
        "get",
        &thread,
    );
    let bodies: Vec<&str> = thread
        .1
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(bodies, ["ada's words", "on it"]);

    let deleted = call(&app, "DELETE", &format!("{messages}/{mine}"), &token, None).await;
    assert_eq!(deleted.0, 200);
    documented(&doc, one, "delete", &deleted);
    let seen = history(&app, &ada, channel).await;
    assert!(seen.iter().find(|m| m.message_id == mine).is_some_and(|m| m.deleted));
    assert!(seen.iter().find(|m| m.message_id == theirs).is_some_and(|m| !m.deleted));
}

#[tokio::test]
async fn spaces_channels_their_people_and_topics_through_rest() {
    let app = spawn_app().await;
    let (ada, bob) = (app.sign_up("ada").await, app.sign_up("bob").await);
    let space = create_space(&app, &ada, "Team").await;
    let code = invite(&app, &ada, space.space_id, None, None).await;
    join(&app, &bob, space.space_id, &code).await.unwrap();
    let (_, ada_token) = create_token(&app, &ada, "script").await;
    let (_, bob_token) = create_token(&app, &bob, "script").await;
    let bot = bot_token(&app, &ada, space.space_id, "helper-bot").await;
    let other = create_space(&app, &bob, "Elsewhere").await;
    let doc = openapi(&app).await;

    let spaces = call(&app, "GET", "/api/v1/spaces", &ada_token, None).await;
    assert_eq!(spaces.0, 200);
    documented(&doc, "/api/v1/spaces", "get", &spaces);
    assert_eq!(
        (spaces.1[0]["name"].clone(), spaces.1[0]["role"].clone()),
        (json!("Team"), json!("admin"))
    );
    let bots_spaces = call(&app, "GET", "/api/v1/spaces", &bot, None).await;
    let names: Vec<&str> = bots_spaces
        .1
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["Team"], "a bot is in its own space only");

    // Making a channel: an admin may; a member and the bot may not; a bad name says why.
    let path = "/api/v1/spaces/{space_id}/channels";
    let channels = format!("/api/v1/spaces/{}/channels", space.space_id);
    let made = call(
        &app,
        "POST",
        &channels,
        &ada_token,
        Some(json!({ "name": "ops", "private": true })),
    )
    .await;
    assert_eq!(made.0, 201, "{}", made.1);
    documented(&doc, path, "post", &made);
    assert_eq!(
        (made.1["name"].clone(), made.1["private"].clone()),
        (json!("ops"), json!(true))
    );
    for token in [&bob_token, &bot] {
        let refused = call(&app, "POST", &channels, token, Some(json!({ "name": "mine" }))).await;
        assert_eq!(refused.0, 403);
        documented(&doc, path, "post", &refused);
    }
    let bad = call(
        &app,
        "POST",
        &channels,
        &ada_token,
        Some(json!({ "name": "Not Valid" })),
    )
    .await;
    assert_eq!(bad.0, 400);
    documented(&doc, path, "post", &bad);
    let elsewhere = format!("/api/v1/spaces/{}/channels", other.space_id);
    assert_eq!(
        call(&app, "POST", &elsewhere, &ada_token, Some(json!({ "name": "x" })))
            .await
            .0,
        403
    );
    assert_eq!(
        call(
            &app,
            "POST",
            "/api/v1/spaces/nope/channels",
            &ada_token,
            Some(json!({ "name": "x" }))
        )
        .await
        .0,
        404
    );

    // A channel's people: the private one has its maker only, and Bob cannot find it.
    let ops = made.1["channel_id"].as_str().unwrap().to_owned();
    let members_path = "/api/v1/spaces/{space_id}/channels/{channel_id}/members";
    let members = format!("/api/v1/spaces/{}/channels/{ops}/members", space.space_id);
    let people = call(&app, "GET", &members, &ada_token, None).await;
    assert_eq!(people.0, 200);
    documented(&doc, members_path, "get", &people);
    assert_eq!(people.1.as_array().map(Vec::len), Some(1));
    let hidden = call(&app, "GET", &members, &bob_token, None).await;
    assert_eq!(hidden.0, 404);
    documented(&doc, members_path, "get", &hidden);

    // The topic: set by a member of the space, refused when too long, shown in the list.
    let general = space.channels[0].channel_id;
    let topic = format!("/api/v1/channels/{general}/topic");
    let set = call(&app, "PUT", &topic, &bot, Some(json!({ "topic": "Deploys at 10:00" }))).await;
    assert_eq!(set.0, 204, "{}", set.1);
    let long = call(&app, "PUT", &topic, &bot, Some(json!({ "topic": "x".repeat(300) }))).await;
    assert_eq!(long.0, 400);
    documented(&doc, "/api/v1/channels/{channel_id}/topic", "put", &long);
    let lobby = call(
        &app,
        "PUT",
        &format!("/api/v1/channels/{}/topic", ChannelId::GENERAL),
        &ada_token,
        Some(json!({ "topic": "hi" })),
    )
    .await;
    assert_eq!(lobby.0, 400, "the lobby has no topic");
    let listed = call(&app, "GET", "/api/v1/channels", &ada_token, None).await;
    let general_now = listed
        .1
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel_id"] == json!(general))
        .cloned()
        .unwrap();
    assert_eq!(general_now["topic"], json!("Deploys at 10:00"));

    // Archiving: a member or the bot may not; the admin may, once; then nothing is posted.
    let archive_path = "/api/v1/channels/{channel_id}/archive";
    let archive = format!("/api/v1/channels/{general}/archive");
    for token in [&bob_token, &bot] {
        let refused = call(&app, "POST", &archive, token, None).await;
        assert_eq!(refused.0, 403, "{}", refused.1);
        documented(&doc, archive_path, "post", &refused);
    }
    let archived = call(&app, "POST", &archive, &ada_token, None).await;
    assert_eq!(archived.0, 204, "{}", archived.1);
    let again = call(&app, "POST", &archive, &ada_token, None).await;
    assert_eq!(again.0, 400, "{}", again.1);
    documented(&doc, archive_path, "post", &again);
    let post = json!({ "body": "still here?" });
    let refused = call(
        &app,
        "POST",
        &format!("/api/v1/channels/{general}/messages"),
        &bot,
        Some(post),
    )
    .await;
    assert_eq!(refused.0, 400, "{}", refused.1);
    assert!(
        refused.1["error"]["message"].as_str().unwrap().contains("archived"),
        "{}",
        refused.1
    );
    let hidden = call(
        &app,
        "POST",
        &format!("/api/v1/channels/{ops}/archive"),
        &bob_token,
        None,
    )
    .await;
    assert_eq!(hidden.0, 404, "a private channel Bob is not in does not exist for him");
}

#[tokio::test]
async fn a_bot_uploads_a_file_sends_it_and_reads_files_of_its_channels_only() {
    let app = spawn_app().await;
    let (ada, eve) = (app.sign_up("ada").await, app.sign_up("eve").await);
    let space = create_space(&app, &ada, "Team").await;
    let channel = space.channels[0].channel_id;
    let token = bot_token(&app, &ada, space.space_id, "files-bot").await;
    let (_, eve_token) = create_token(&app, &eve, "script").await;
    let doc = openapi(&app).await;
    let http = reqwest::Client::new();
    let upload = |token: String, bytes: &'static [u8]| {
        let request = http
            .post(format!("http://{}/api/v1/files?name=report.txt", app.addr))
            .bearer_auth(token)
            .body(bytes);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    let stored = upload(token.clone(), b"all systems go\n").await;
    assert_eq!(stored.0, 201, "{}", stored.1);
    documented(&doc, "/api/v1/files", "post", &stored);
    let file_id = stored.1["file_id"].as_str().unwrap().to_owned();
    let empty = upload(token.clone(), b"").await;
    assert_eq!(empty.0, 400);
    documented(&doc, "/api/v1/files", "post", &empty);
    assert_eq!(upload("pt_nope".into(), b"x").await.0, 401);

    // Sent with a message: everyone in the channel sees it; the bot reads it back.
    let messages = format!("/api/v1/channels/{channel}/messages");
    let post = json!({ "body": "today's report", "attachments": [file_id] });
    assert_eq!(call(&app, "POST", &messages, &token, Some(post)).await.0, 201);
    let last = history(&app, &ada, channel).await.pop().unwrap();
    assert_eq!(
        last.attachments.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["report.txt"]
    );
    let url = format!("http://{}/api/v1/files/{file_id}", app.addr);
    let got = http.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"all systems go\n");
    // To someone outside the space it does not exist; without a token, sign in first.
    let hidden = call(&app, "GET", &format!("/api/v1/files/{file_id}"), &eve_token, None).await;
    assert_eq!(hidden.0, 404);
    documented(&doc, "/api/v1/files/{file_id}", "get", &hidden);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401);
    // Nor can Eve send the bot's file from her own upload list: it is not hers.
    let theirs = json!({ "body": "look", "attachments": [file_id] });
    let refused = call(
        &app,
        "POST",
        &format!("/api/v1/channels/{}/messages", ChannelId::GENERAL),
        &eve_token,
        Some(theirs),
    )
    .await;
    assert_eq!(refused.0, 400, "{}", refused.1);
}

#[tokio::test]
async fn a_spaces_admin_scripts_its_webhooks_and_bots_through_rest() {
    let app = spawn_app().await;
    let (ada, bob) = (app.sign_up("ada").await, app.sign_up("bob").await);
    let space = create_space(&app, &ada, "Team").await;
    let code = invite(&app, &ada, space.space_id, None, None).await;
    join(&app, &bob, space.space_id, &code).await.unwrap();
    let (_, admin) = create_token(&app, &ada, "ops").await;
    let (_, member) = create_token(&app, &bob, "script").await;
    let doc = openapi(&app).await;
    let base = format!("/api/v1/spaces/{}", space.space_id);

    // Webhooks: made, listed, replayed, deleted by the admin; a member gets 403.
    let webhooks = format!("{base}/webhooks");
    let new = json!({ "url": "http://127.0.0.1:9/hook", "event_types": ["MessagePosted"] });
    let made = call(&app, "POST", &webhooks, &admin, Some(new.clone())).await;
    assert_eq!(made.0, 201, "{}", made.1);
    documented(&doc, "/api/v1/spaces/{space_id}/webhooks", "post", &made);
    assert!(made.1["secret"].as_str().unwrap().starts_with("whsec_"));
    let refused = call(&app, "POST", &webhooks, &member, Some(new)).await;
    assert_eq!(refused.0, 403);
    documented(&doc, "/api/v1/spaces/{space_id}/webhooks", "post", &refused);
    let listed = call(&app, "GET", &webhooks, &admin, None).await;
    documented(&doc, "/api/v1/spaces/{space_id}/webhooks", "get", &listed);
    assert_eq!(listed.1.as_array().map(Vec::len), Some(1));
    assert_eq!(call(&app, "GET", &webhooks, &member, None).await.0, 403);
    let id = made.1["webhook"]["webhook_id"].as_str().unwrap().to_owned();
    let actions = format!("{webhooks}/{id}/actions");
    let replay = call(
        &app,
        "POST",
        &actions,
        &admin,
        Some(json!({ "action": "replay", "from": 1 })),
    )
    .await;
    assert_eq!(replay.0, 204, "{}", replay.1);
    let unknown = call(&app, "POST", &actions, &admin, Some(json!({ "action": "explode" }))).await;
    assert_eq!(unknown.0, 400);
    documented(
        &doc,
        "/api/v1/spaces/{space_id}/webhooks/{webhook_id}/actions",
        "post",
        &unknown,
    );
    assert_eq!(
        call(&app, "DELETE", &format!("{webhooks}/{id}"), &member, None).await.0,
        403
    );
    assert_eq!(
        call(&app, "DELETE", &format!("{webhooks}/{id}"), &admin, None).await.0,
        204
    );
    assert_eq!(
        call(&app, "GET", &webhooks, &admin, None)
            .await
            .1
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    // Bots of every kind: made, listed, rotated, deleted.
    let bots = format!("{base}/bots");
    let bot = call(
        &app,
        "POST",
        &bots,
        &admin,
        Some(json!({ "username": "ops-bot", "name": "Ops" })),
    )
    .await;
    assert_eq!(bot.0, 201, "{}", bot.1);
    documented(&doc, "/api/v1/spaces/{space_id}/bots", "post", &bot);
    let general = space.channels[0].channel_id;
    let hook = call(
        &app,
        "POST",
        &format!("{base}/incoming-webhooks"),
        &admin,
        Some(json!({ "channel_id": general, "name": "CI" })),
    )
    .await;
    assert_eq!(hook.0, 201, "{}", hook.1);
    documented(&doc, "/api/v1/spaces/{space_id}/incoming-webhooks", "post", &hook);
    let address = hook.1["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        call(&app, "POST", &address, "", Some(json!({ "text": "green" })))
            .await
            .0,
        201
    );
    let command = call(
        &app,
        "POST",
        &format!("{base}/commands"),
        &admin,
        Some(json!({ "name": "deploy", "url": "http://127.0.0.1:9/deploy" })),
    )
    .await;
    assert_eq!(command.0, 201, "{}", command.1);
    documented(&doc, "/api/v1/spaces/{space_id}/commands", "post", &command);
    let refused = call(
        &app,
        "POST",
        &bots,
        &member,
        Some(json!({ "username": "mine-bot", "name": "Mine" })),
    )
    .await;
    assert_eq!(refused.0, 403);
    documented(&doc, "/api/v1/spaces/{space_id}/bots", "post", &refused);
    let listed = call(&app, "GET", &bots, &admin, None).await;
    documented(&doc, "/api/v1/spaces/{space_id}/bots", "get", &listed);
    let kinds: Vec<&str> = listed
        .1
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["bot", "incoming_webhook", "command"]);

    let old_token = bot.1["secret"].as_str().unwrap().to_owned();
    let bot_id = bot.1["bot"]["user_id"].as_str().unwrap().to_owned();
    let rotated = call(&app, "POST", &format!("{bots}/{bot_id}/rotate"), &admin, None).await;
    assert_eq!(rotated.0, 200);
    documented(
        &doc,
        "/api/v1/spaces/{space_id}/bots/{user_id}/rotate",
        "post",
        &rotated,
    );
    let messages = format!("/api/v1/channels/{general}/messages");
    assert_eq!(
        call(&app, "POST", &messages, &old_token, Some(json!({ "body": "old" })))
            .await
            .0,
        401
    );
    let new_token = rotated.1["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        call(&app, "POST", &messages, &new_token, Some(json!({ "body": "new" })))
            .await
            .0,
        201
    );
    let gone = call(
        &app,
        "DELETE",
        &format!("{bots}/{}", uuid::Uuid::now_v7()),
        &admin,
        None,
    )
    .await;
    assert_eq!(gone.0, 404);
    documented(&doc, "/api/v1/spaces/{space_id}/bots/{user_id}", "delete", &gone);
    assert_eq!(
        call(&app, "DELETE", &format!("{bots}/{bot_id}"), &admin, None).await.0,
        204
    );
    assert_eq!(
        call(&app, "POST", &messages, &new_token, Some(json!({ "body": "after" })))
            .await
            .0,
        401
    );
}
