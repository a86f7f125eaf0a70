//! A space's own slash commands: registered by its admins only (no built-in's name, no internal address), run by its members against a receiver on loopback that checks the signature, the answer posted by the command's bot or shown to the caller alone, and a failing URL refused with the reason.

use crate::helpers::{TestApp, User, spawn_app};
use crate::spaces::{create_space, invite, join};
use axum::http::HeaderMap;
use parley::api::BotSecret;
use parley::slash::CommandAnswer;
use parley::{ChannelId, MessageView};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// A command's server on loopback: `/weather` answers for the channel, `/secret` for the
/// caller alone, `/broken` fails. It keeps what it was sent, with whether the signature
/// (made with the secret it is told once the command exists) was right.
#[derive(Clone, Default)]
struct CommandServer {
    secret: Arc<Mutex<String>>,
    got: Arc<Mutex<Vec<(Value, bool)>>>,
}

impl CommandServer {
    async fn start(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new().route(
            "/{name}",
            axum::routing::post(
                move |axum::extract::Path(name): axum::extract::Path<String>,
                      headers: HeaderMap,
                      body: axum::body::Bytes| {
                    let me = me.clone();
                    async move {
                        let timestamp: u64 = headers["x-parley-timestamp"].to_str().unwrap().parse().unwrap();
                        let secret = me.secret.lock().unwrap().clone();
                        let expected = parley_engine::workers::webhooks::signature(&secret, timestamp, &body);
                        let signed = headers["x-parley-signature"].to_str().unwrap() == expected;
                        let sent: Value = serde_json::from_slice(&body).unwrap();
                        me.got.lock().unwrap().push((sent.clone(), signed));
                        let text = sent["text"].as_str().unwrap_or_default().to_owned();
                        match name.as_str() {
                            "weather" => (
                                axum::http::StatusCode::OK,
                                json!({ "text": format!("sunny in {text}"), "response_type": "in_channel" })
                                    .to_string(),
                            ),
                            "secret" => (
                                axum::http::StatusCode::OK,
                                json!({ "text": "just for you" }).to_string(),
                            ),
                            _ => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, String::new()),
                        }
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }
}

async fn create(app: &TestApp, user: &User, space: parley::SpaceId, name: &str, url: &str) -> (u16, Option<BotSecret>) {
    let args = json!({ "space": space, "name": name, "url": url });
    let response = app.call_as(&user.http, "create_command", args).await;
    let status = response.status().as_u16();
    (
        status,
        if status == 200 {
            response.json().await.ok()
        } else {
            None
        },
    )
}

async fn run(app: &TestApp, user: &User, channel: ChannelId, name: &str, text: &str) -> (u16, String) {
    let args = json!({ "channel": channel, "name": name, "text": text });
    let response = app.call_as(&user.http, "run_command", args).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn history(app: &TestApp, user: &User, channel: ChannelId) -> Vec<MessageView> {
    app.wait_projected().await;
    let args = json!({ "channel": channel, "before": null, "limit": 50 });
    app.call_as(&user.http, "history", args).await.json().await.unwrap()
}

#[tokio::test]
async fn a_spaces_own_command_calls_its_url_signed_and_answers_as_told() {
    let app = spawn_app().await;
    let (ada, bob, eve) = (
        app.sign_up("ada").await,
        app.sign_up("bob").await,
        app.sign_up("eve").await,
    );
    let space = create_space(&app, &ada, "Team").await;
    let code = invite(&app, &ada, space.space_id, None, None).await;
    join(&app, &bob, space.space_id, &code).await.unwrap();
    let general = space.channels[0].channel_id;
    let server = CommandServer::default();
    let base = server.start().await;

    // Only an admin registers one; not a built-in's name; not an internal address.
    assert_eq!(
        create(&app, &bob, space.space_id, "weather", &format!("{base}/weather"))
            .await
            .0,
        403
    );
    assert_eq!(
        create(&app, &ada, space.space_id, "me", &format!("{base}/weather"))
            .await
            .0,
        400
    );
    assert_eq!(
        create(&app, &ada, space.space_id, "inner", "http://10.0.0.1/commands")
            .await
            .0,
        400
    );
    assert_eq!(
        create(&app, &ada, space.space_id, "bad", "ftp://example.com/x").await.0,
        400
    );
    let (status, made) = create(&app, &ada, space.space_id, "/Weather", &format!("{base}/weather")).await;
    assert_eq!(status, 200);
    let made = made.unwrap();
    assert_eq!(made.bot.command.as_ref().map(|c| c.name.as_str()), Some("weather"));
    assert_eq!(made.bot.name, "/weather");
    *server.secret.lock().unwrap() = made.secret.clone();
    assert_eq!(
        create(&app, &ada, space.space_id, "weather", &format!("{base}/weather"))
            .await
            .0,
        400,
        "taken"
    );
    for name in ["secret", "broken"] {
        assert_eq!(
            create(&app, &ada, space.space_id, name, &format!("{base}/{name}"))
                .await
                .0,
            200
        );
    }

    // Members see the space's commands; someone outside it does not.
    let listed = app
        .call_as(&bob.http, "space_commands", json!({ "space": space.space_id }))
        .await;
    let names: Vec<String> = listed.json().await.unwrap();
    assert_eq!(names, ["broken", "secret", "weather"]);
    let outside = app
        .call_as(&eve.http, "space_commands", json!({ "space": space.space_id }))
        .await;
    assert_eq!(outside.status(), 403);

    // For the channel: its bot posts the answer; the URL heard who asked, signed.
    let (status, answer) = run(&app, &bob, general, "weather", "Paris").await;
    assert_eq!(status, 200, "{answer}");
    let answer: Option<CommandAnswer> = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        answer.map(|a| (a.text, a.in_channel)),
        Some(("sunny in Paris".into(), true))
    );
    let last = history(&app, &ada, general).await.pop().unwrap();
    assert_eq!(
        (last.author.as_str(), last.body.as_str()),
        (made.bot.username.as_str(), "sunny in Paris")
    );
    let (sent, signed) = server.got.lock().unwrap()[0].clone();
    assert!(signed, "the request is signed with the command's secret");
    assert_eq!(
        (sent["command"].clone(), sent["user"]["username"].clone()),
        (json!("/weather"), json!("bob"))
    );

    // For the caller alone: nothing is posted.
    let before = history(&app, &ada, general).await.len();
    let (status, answer) = run(&app, &bob, general, "secret", "").await;
    assert_eq!(status, 200);
    let answer: Option<CommandAnswer> = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        answer.map(|a| (a.text, a.in_channel)),
        Some(("just for you".into(), false))
    );
    assert_eq!(history(&app, &ada, general).await.len(), before);

    // A failing URL, an unknown command, a channel the caller cannot read: refused with why.
    let (status, why) = run(&app, &bob, general, "broken", "x").await;
    assert_eq!(status, 400);
    assert!(why.contains("did not answer") && why.contains("500"), "{why}");
    assert_eq!(run(&app, &bob, general, "nothing", "x").await.0, 400);
    assert_eq!(
        run(&app, &eve, general, "weather", "x").await.0,
        400,
        "no such channel for her"
    );
    assert_eq!(history(&app, &ada, general).await.len(), before);

    // Deleted with its bot: gone from the list, runs no more.
    let delete = json!({ "space": space.space_id, "bot": made.bot.user_id });
    assert_eq!(app.call_as(&ada.http, "delete_bot", delete).await.status(), 200);
    assert_eq!(run(&app, &bob, general, "weather", "Rome").await.0, 400);
}
