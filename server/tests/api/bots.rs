//! Bots and incoming webhooks through their doors: made by a space's admins only, a bot acting with its token in its own space and nowhere else, never signing in, rotated and deleted; an incoming webhook's address posting the shapes tools send (checked against the OpenAPI document), refusing bad bodies and wrong addresses without storing anything.

use crate::helpers::{TestApp, User, spawn_app};
use crate::rest::{conforms, openapi, response_schema};
use crate::spaces::{act, create_space, invite, join};
use parley::api::{BotSecret, BotView, ProfileView, SpaceAction, SpaceOutcome};
use parley::{ChannelId, MessageView, SpaceId};
use serde_json::{Value, json};

async fn bots(app: &TestApp, user: &User, space: SpaceId) -> (u16, Vec<BotView>) {
    let response = app.call_as(&user.http, "bots", json!({ "space": space })).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn answered(response: reqwest::Response) -> BotSecret {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Posts `body` to an incoming webhook's address path; the status and the JSON answer.
async fn hook(app: &TestApp, path: &str, body: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://{}{path}", app.addr))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn history(app: &TestApp, user: &User, channel: ChannelId) -> Vec<MessageView> {
    app.wait_projected().await;
    let args = json!({ "channel": channel, "before": null, "limit": 50 });
    app.call_as(&user.http, "history", args).await.json().await.unwrap()
}

async fn rest_post(app: &TestApp, token: &str, channel: ChannelId, body: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("http://{}/api/v1/channels/{channel}/messages", app.addr))
        .bearer_auth(token)
        .json(&json!({ "body": body }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_bot_acts_with_its_token_in_its_own_space_only() {
    let app = spawn_app().await;
    let (ada, bob) = (app.sign_up("ada").await, app.sign_up("bob").await);
    let team = create_space(&app, &ada, "Team").await;
    let other = create_space(&app, &bob, "Other").await;
    let code = invite(&app, &ada, team.space_id, None, None).await;
    join(&app, &bob, team.space_id, &code).await.unwrap();
    let general = team.channels[0].channel_id;

    // A member who is not an admin makes no bot, and sees none.
    let args = json!({ "space": team.space_id, "username": "deploy-bot", "name": "Deploy" });
    assert_eq!(app.call_as(&bob.http, "create_bot", args.clone()).await.status(), 403);
    assert_eq!(bots(&app, &bob, team.space_id).await.0, 403);
    // Bad names are refused, and nothing is made.
    let bad = json!({ "space": team.space_id, "username": "no spaces", "name": "Deploy" });
    assert_eq!(app.call_as(&ada.http, "create_bot", bad).await.status(), 400);
    let unnamed = json!({ "space": team.space_id, "username": "nameless", "name": " " });
    assert_eq!(app.call_as(&ada.http, "create_bot", unnamed).await.status(), 400);
    assert!(bots(&app, &ada, team.space_id).await.1.is_empty());

    let made = answered(app.call_as(&ada.http, "create_bot", args.clone()).await).await;
    assert_eq!(
        (made.bot.username.as_str(), made.bot.name.as_str()),
        ("deploy-bot", "Deploy")
    );
    assert!(made.secret.starts_with("pt_"));
    assert_eq!(
        app.call_as(&ada.http, "create_bot", args).await.status(),
        400,
        "the name is taken"
    );
    let token = made.secret;
    assert_eq!(rest_post(&app, &token, general, "deployed v1.2").await, 201);
    let posted = history(&app, &ada, general).await;
    assert_eq!(posted.last().map(|m| m.author.as_str()), Some("deploy-bot"));
    // Everyone sees it is a bot.
    let profiles: Vec<ProfileView> = app
        .call_as(&bob.http, "profiles", json!({ "usernames": ["deploy-bot", "ada"] }))
        .await
        .json()
        .await
        .unwrap();
    let bot_flags: Vec<(&str, bool)> = profiles.iter().map(|p| (p.username.as_str(), p.bot)).collect();
    assert!(bot_flags.contains(&("deploy-bot", true)) && bot_flags.contains(&("ada", false)));

    // Another space's channel does not exist for it, nor does the lobby, for a bot.
    assert_eq!(
        rest_post(&app, &token, other.channels[0].channel_id, "hello").await,
        404
    );
    assert_eq!(rest_post(&app, &token, ChannelId::GENERAL, "hello everyone").await, 404);
    let listed: Vec<Value> = reqwest::Client::new()
        .get(format!("http://{}/api/v1/channels", app.addr))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = listed.iter().filter_map(|c| c["channel_id"].as_str()).collect();
    assert_eq!(ids, [general.to_string()], "its space's channel only");
    app.post("lobby words for everyone").await;
    app.wait_projected().await;
    let found: Vec<Value> = reqwest::Client::new()
        .get(format!("http://{}/api/v1/search?q=lobby", app.addr))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(found.is_empty(), "search leaves the lobby out for a bot: {found:?}");
    // It never signs in, whatever password is tried.
    let sign_in = json!({ "username": "deploy-bot", "password": "" });
    assert_ne!(app.call("sign_in", sign_in).await.status(), 200);
    let reset = app
        .engine
        .reset_link("deploy-bot")
        .await
        .expect_err("a bot has no password to reset");
    assert!(
        reset.to_string().contains("no such user") || reset.to_string().contains("No such"),
        "{reset}"
    );

    // Rotated: the old token stops working, the new one works.
    let bot = made.bot.user_id;
    let rotated = answered(
        app.call_as(&ada.http, "rotate_bot", json!({ "space": team.space_id, "bot": bot }))
            .await,
    )
    .await;
    assert_eq!(rest_post(&app, &token, general, "old token").await, 401);
    assert_eq!(rest_post(&app, &rotated.secret, general, "new token").await, 201);
    // Another space's admin cannot touch it.
    let foreign = json!({ "space": other.space_id, "bot": bot });
    assert_ne!(app.call_as(&bob.http, "delete_bot", foreign).await.status(), 200);

    // Deleted: its token is dead, it left the space, its messages stay.
    let delete = json!({ "space": team.space_id, "bot": bot });
    assert_eq!(app.call_as(&ada.http, "delete_bot", delete).await.status(), 200);
    assert_eq!(rest_post(&app, &rotated.secret, general, "still here?").await, 401);
    assert!(bots(&app, &ada, team.space_id).await.1.is_empty());
    let members: Vec<parley::api::MemberView> = app
        .call_as(&ada.http, "members", json!({ "space": team.space_id }))
        .await
        .json()
        .await
        .unwrap();
    assert!(members.iter().all(|m| m.username != "deploy-bot"));
    let bodies: Vec<String> = history(&app, &ada, general).await.into_iter().map(|m| m.body).collect();
    assert!(bodies.contains(&"deployed v1.2".to_owned()) && bodies.contains(&"new token".to_owned()));

    app.wait_projected().await;
    let live = app.read_model_dump().await;
    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, live);
}

#[tokio::test]
async fn an_incoming_webhook_posts_what_tools_send_to_its_channel() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let team = create_space(&app, &ada, "Team").await;
    let general = team.channels[0].channel_id;
    let args = json!({ "space": team.space_id, "channel": general, "name": "CI" });
    let made = answered(app.call_as(&ada.http, "create_incoming_hook", args).await).await;
    let path = made.secret.clone();
    assert!(path.starts_with("/api/v1/hooks/"), "{path}");
    let hook_view = made.bot.hook.clone().expect("a webhook's bot names its channel");
    assert_eq!((hook_view.channel_id, hook_view.channel.as_str()), (general, "general"));
    assert_eq!(made.bot.name, "CI");

    let doc = openapi(&app).await;
    let created = response_schema(&doc, "/api/v1/hooks/{hook_id}/{secret}", "post", 201);
    // Slack's shape, Discord's, and Parley's with an id (sent twice, stored once).
    let (status, answer) = hook(&app, &path, r#"{"text": "Build #42 passed", "icon_emoji": ":tada:"}"#).await;
    assert_eq!(status, 201, "{answer}");
    conforms(&answer, created, &doc, "posted").unwrap();
    assert_eq!(hook(&app, &path, r#"{"content": "deploy done"}"#).await.0, 201);
    let id = parley::MessageId::new();
    let parley_shape = format!(r#"{{"body": "**release** notes", "id": "{id}"}}"#);
    let first = hook(&app, &path, &parley_shape).await;
    let again = hook(&app, &path, &parley_shape).await;
    assert_eq!((first.0, again.0), (201, 201));
    assert_eq!(first.1["position"], again.1["position"], "a resent id is stored once");

    // Bad bodies: a clear error in the one shape, nothing stored.
    let before = history(&app, &ada, general).await.len();
    let error = response_schema(&doc, "/api/v1/hooks/{hook_id}/{secret}", "post", 400);
    for body in [
        "text=hello",
        "[]",
        r#"{"attachments": []}"#,
        r#"{"text": 42}"#,
        r#"{"text": "x", "id": "7"}"#,
    ] {
        let (status, answer) = hook(&app, &path, body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        conforms(&answer, error, &doc, body).unwrap();
    }
    let too_long = json!({ "text": "x".repeat(4_001) }).to_string();
    assert_eq!(hook(&app, &path, &too_long).await.0, 400);
    let huge = json!({ "text": "x".repeat(70_000) }).to_string();
    assert_eq!(hook(&app, &path, &huge).await.0, 413);
    assert_eq!(history(&app, &ada, general).await.len(), before);

    // A wrong address is "no such webhook", whichever part is wrong.
    let not_found = response_schema(&doc, "/api/v1/hooks/{hook_id}/{secret}", "post", 404);
    let (prefix, secret) = path.rsplit_once('/').unwrap();
    let mut wrong = secret.to_owned();
    wrong.replace_range(0..1, if secret.starts_with('A') { "B" } else { "A" });
    for bad in [
        format!("{prefix}/{wrong}"),
        format!("{prefix}/short"),
        format!("/api/v1/hooks/nope/{secret}"),
    ] {
        let (status, answer) = hook(&app, &bad, r#"{"text": "let me in"}"#).await;
        assert_eq!(status, 404, "{bad}");
        conforms(&answer, not_found, &doc, &bad).unwrap();
    }

    // What it posted shows as its bot's, under the webhook's name.
    let messages = history(&app, &ada, general).await;
    let last = messages.last().unwrap();
    assert_eq!(
        (last.author.as_str(), last.body.as_str()),
        (made.bot.username.as_str(), "**release** notes")
    );
    assert_eq!(messages.iter().filter(|m| m.author == made.bot.username).count(), 3);

    // Rotated: the old address is dead, the new one posts.
    let rotate = json!({ "space": team.space_id, "bot": made.bot.user_id });
    let rotated = answered(app.call_as(&ada.http, "rotate_bot", rotate).await).await;
    assert_eq!(hook(&app, &path, r#"{"text": "old"}"#).await.0, 404);
    assert_eq!(hook(&app, &rotated.secret, r#"{"text": "new"}"#).await.0, 201);
    // Deleted: gone.
    let delete = json!({ "space": team.space_id, "bot": made.bot.user_id });
    assert_eq!(app.call_as(&ada.http, "delete_bot", delete).await.status(), 200);
    assert_eq!(hook(&app, &rotated.secret, r#"{"text": "after"}"#).await.0, 404);
}

#[tokio::test]
async fn an_incoming_webhook_of_a_private_channel_posts_there_and_nowhere_else() {
    let app = spawn_app().await;
    let (ada, bob) = (app.sign_up("ada").await, app.sign_up("bob").await);
    let team = create_space(&app, &ada, "Team").await;
    let code = invite(&app, &ada, team.space_id, None, None).await;
    join(&app, &bob, team.space_id, &code).await.unwrap();
    let create = SpaceAction::CreateChannel {
        name: "ops".into(),
        private: true,
    };
    let Ok(SpaceOutcome::Channel { channel_id: ops }) = act(&app, &ada, team.space_id, create).await else {
        panic!("a private channel")
    };
    // Bob, who cannot see the channel, cannot hook it (nor is he an admin).
    let args = json!({ "space": team.space_id, "channel": ops, "name": "Alerts" });
    assert_ne!(
        app.call_as(&bob.http, "create_incoming_hook", args.clone())
            .await
            .status(),
        200
    );
    let made = answered(app.call_as(&ada.http, "create_incoming_hook", args).await).await;
    assert_eq!(hook(&app, &made.secret, r#"{"text": "disk at 91%"}"#).await.0, 201);
    assert_eq!(history(&app, &ada, ops).await.len(), 1);
    let status = app
        .call_as(
            &bob.http,
            "history",
            json!({ "channel": ops, "before": null, "limit": 50 }),
        )
        .await
        .status();
    assert_eq!(status, 400, "still no such channel for Bob");
    // The channel's people list the webhook's bot: it was put in.
    let people: Vec<parley::api::MemberView> = app
        .call_as(
            &ada.http,
            "channel_members",
            json!({ "space": team.space_id, "channel": ops }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(people.iter().any(|m| m.username == made.bot.username));
    // Taken out of the channel, it can no longer post there.
    let remove = SpaceAction::RemoveFromChannel {
        channel: ops,
        member: made.bot.user_id,
    };
    act(&app, &ada, team.space_id, remove).await.unwrap();
    assert_eq!(hook(&app, &made.secret, r#"{"text": "still?"}"#).await.0, 404);
    assert_eq!(history(&app, &ada, ops).await.len(), 1);
}

#[tokio::test]
async fn a_bot_reads_and_posts_through_the_socket_with_its_token_until_it_is_rotated() {
    use parley::protocol::{ClientFrame, ServerFrame};
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let team = create_space(&app, &ada, "Team").await;
    let general = team.channels[0].channel_id;
    let args = json!({ "space": team.space_id, "username": "live-bot", "name": "Live" });
    let made = answered(app.call_as(&ada.http, "create_bot", args).await).await;

    let mut socket = app.socket_with_token(&made.secret).await;
    socket.subscribe(general, parley::Position::ZERO).await;
    // It hears what people say, live.
    let args =
        json!({ "channel": general, "message_id": parley::MessageId::new(), "body": "hello bot", "reply_to": null });
    assert_eq!(app.call_as(&ada.http, "post_message", args).await.status(), 200);
    let heard = socket.next_event().await;
    assert!(matches!(&heard.event, parley::Event::MessagePosted { body, .. } if body.as_str() == "hello bot"));
    // It posts through the socket, as itself.
    let id = parley::MessageId::new();
    socket
        .send(&ClientFrame::Post {
            channel: general,
            message_id: id,
            body: "hello ada".into(),
            reply_to: None,
            also_in_channel: false,
            attachments: Vec::new(),
        })
        .await;
    loop {
        match socket.next().await {
            ServerFrame::Ack { message_id, .. } if message_id == id => break,
            ServerFrame::Event { .. } => {}
            other => panic!("expected the post's ack, got {other:?}"),
        }
    }
    let last = history(&app, &ada, general).await.pop().unwrap();
    assert_eq!((last.author.as_str(), last.body.as_str()), ("live-bot", "hello ada"));
    // The lobby does not exist for it here either.
    socket
        .send(&ClientFrame::Subscribe {
            channel: ChannelId::GENERAL,
            after: parley::Position::ZERO,
            id: 0,
        })
        .await;
    loop {
        match socket.next().await {
            ServerFrame::Refused { error, .. } => {
                assert_eq!(error, "no such channel");
                break;
            }
            ServerFrame::Event { .. } | ServerFrame::Presence { .. } => {}
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    // A wrong token opens nothing; rotating the token closes the socket it opened.
    let refused = tokio_tungstenite::connect_async(app.socket_request(&[("authorization", "Bearer pt_nope")])).await;
    assert!(refused.is_err(), "a wrong token is refused at the handshake");
    let rotate = json!({ "space": team.space_id, "bot": made.bot.user_id });
    answered(app.call_as(&ada.http, "rotate_bot", rotate).await).await;
    socket.expect_closed().await;
}

#[tokio::test]
async fn a_restarted_server_still_knows_its_bots() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let team = create_space(&app, &ada, "Team").await;
    let general = team.channels[0].channel_id;
    let args = json!({ "space": team.space_id, "username": "night-bot", "name": "Night" });
    let token = answered(app.call_as(&ada.http, "create_bot", args).await).await.secret;
    // Started again (with its read models rebuilt): what it decides from is read back.
    let app = app.rebuilt().await;
    assert_eq!(rest_post(&app, &token, ChannelId::GENERAL, "lobby?").await, 404);
    assert_eq!(rest_post(&app, &token, general, "still at work").await, 201);
}

#[tokio::test]
async fn a_bots_profile_goes_live_to_its_space_marked_bot_and_to_nobody_else() {
    let app = spawn_app().await;
    let (ada, eve) = (app.sign_up("ada").await, app.sign_up("eve").await);
    let space = create_space(&app, &ada, "Team").await;
    let mut member = app.socket_as(&ada).await;
    let mut stranger = app.socket_as(&eve).await;
    let args = json!({ "space": space.space_id, "username": "helper-bot", "name": "Helper" });
    answered(app.call_as(&ada.http, "create_bot", args).await).await;
    loop {
        match member.next().await {
            parley::protocol::ServerFrame::Profile { person } if person.username == "helper-bot" => {
                assert!(person.bot, "a bot's live profile says it is one: {person:?}");
                break;
            }
            _ => {}
        }
    }
    // A stranger (who could meet a person in the lobby) is not told of it.
    stranger.expect_silence(300).await;
}
