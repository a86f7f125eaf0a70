//! The example bot (`examples/echo-bot`) against a real server, as a developer runs it: it answers `!ping` once, reposts a topic's events into a channel, and after a restart goes on from where it left off with no repost twice.

use crate::helpers::{TestApp, spawn_app};
use crate::rest::create_token;
use crate::spaces::create_space;
use parley::api::BotSecret;
use parley_echo_bot::{Config, Repost};
use serde_json::{Value, json};
use std::time::Duration;

/// Starts the bot; returns once all its subscriptions caught up.
async fn start(config: Config) -> tokio::task::JoinHandle<()> {
    let (ready, started) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let outcome = parley_echo_bot::run(config, move || {
            let _ = ready.send(());
        })
        .await;
        if let Err(e) = outcome {
            panic!("the bot stopped: {e:#}");
        }
    });
    tokio::time::timeout(Duration::from_secs(10), started)
        .await
        .expect("the bot was not ready within 10 s")
        .expect("the bot stopped before it was ready");
    task
}

async fn publish(app: &TestApp, space: parley::SpaceId, token: &str, data: Value) {
    let url = format!("http://{}/api/v1/spaces/{space}/topics/deploy.prod/events", app.addr);
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "data": data }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

/// The channel's messages (author, body), oldest first, through REST.
async fn messages(app: &TestApp, token: &str, channel: parley::ChannelId) -> Vec<(String, String)> {
    let url = format!("http://{}/api/v1/channels/{channel}/messages?limit=100", app.addr);
    let answer: Value = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["author"].as_str().unwrap().to_owned(),
                m["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Waits (ten seconds at most) until the channel holds `count` messages that `pick` keeps.
async fn wait_for(
    app: &TestApp,
    token: &str,
    channel: parley::ChannelId,
    count: usize,
    pick: impl Fn(&(String, String)) -> bool,
) -> Vec<(String, String)> {
    for _ in 0..200 {
        let found: Vec<_> = messages(app, token, channel).await.into_iter().filter(&pick).collect();
        if found.len() >= count {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the channel never held {count} such messages: {:?}",
        messages(app, token, channel).await
    );
}

#[tokio::test]
async fn the_example_bot_answers_and_reposts_a_topic_from_where_it_left_off() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let space = create_space(&app, &ada, "Ops").await;
    let channel = space.channels[0].channel_id;
    let (_, admin) = create_token(&app, &ada, "ops").await;
    let topics = format!("http://{}/api/v1/spaces/{}/topics", app.addr, space.space_id);
    let made = reqwest::Client::new()
        .post(topics)
        .bearer_auth(&admin)
        .json(&json!({ "name": "deploy.prod" }))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let args = json!({ "space": space.space_id, "username": "echo", "name": "Echo" });
    let bot: BotSecret = app.call_as(&ada.http, "create_bot", args).await.json().await.unwrap();
    let state = std::env::temp_dir().join(format!("parley-echo-bot-{}.state", uuid::Uuid::now_v7()));
    let config = Config {
        base: format!("http://{}", app.addr),
        token: bot.secret.clone(),
        repost: Some(Repost {
            pattern: "deploy.*".into(),
            channel,
        }),
        state: Some(state.clone()),
    };
    let is_repost = |m: &(String, String)| m.0 == "echo" && m.1.starts_with("**deploy.prod**");

    // An event from before the bot started comes too (from the topic's start).
    publish(&app, space.space_id, &admin, json!({ "version": "1" })).await;
    let bot_task = start(config.clone()).await;
    let args = json!({ "channel": channel, "message_id": parley::MessageId::new(), "body": "!ping" });
    assert_eq!(app.call_as(&ada.http, "post_message", args).await.status(), 200);
    publish(&app, space.space_id, &admin, json!({ "version": "2" })).await;
    let pongs = wait_for(&app, &admin, channel, 1, |m| m.0 == "echo" && m.1 == "pong").await;
    assert_eq!(pongs.len(), 1);
    let reposts = wait_for(&app, &admin, channel, 2, is_repost).await;
    assert!(reposts[0].1.contains(r#""version":"1""#), "{reposts:?}");
    assert!(reposts[1].1.contains(r#""version":"2""#), "{reposts:?}");

    // Stopped, an event published meanwhile, started again: that one comes, nothing twice.
    bot_task.abort();
    let _ = bot_task.await;
    publish(&app, space.space_id, &admin, json!({ "version": "3" })).await;
    let kept: u64 = std::fs::read_to_string(&state).unwrap().trim().parse().unwrap();
    assert!(kept > 0, "the bot kept no position");
    let bot_task = start(config).await;
    let reposts = wait_for(&app, &admin, channel, 3, is_repost).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reposts_now: Vec<_> = messages(&app, &admin, channel)
        .await
        .into_iter()
        .filter(is_repost)
        .collect();
    assert_eq!(reposts_now, reposts, "a topic event was reposted twice");
    assert!(reposts[2].1.contains(r#""version":"3""#), "{reposts:?}");
    let pongs = messages(&app, &admin, channel)
        .await
        .into_iter()
        .filter(|m| m.1 == "pong")
        .count();
    assert_eq!(pongs, 1, "the old !ping was answered again");
    bot_task.abort();
    let _ = std::fs::remove_file(state);
}
