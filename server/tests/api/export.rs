//! "Export my data": the archive holds one's profile, spaces, messages (with channel names
//! and times, deleted ones left out), reactions and uploaded files, and nobody else's; it is
//! for the signed-in user only, and bounded per user.

use crate::attacks::spawn_configured;
use crate::files::uploaded;
use crate::helpers::User;
use parley::{ChannelId, MessageId};
use serde_json::{Value, json};
use std::io::Read;

async fn export(app: &crate::helpers::TestApp, user: &User) -> reqwest::Response {
    user.http
        .get(format!("http://{}/api/export", app.addr))
        .send()
        .await
        .unwrap()
}

fn entry(archive: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> Vec<u8> {
    let mut file = archive.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).unwrap();
    bytes
}

#[tokio::test]
async fn an_export_holds_ones_own_data_with_channel_names_and_files_and_nothing_of_others() {
    // With the write budgets on, as served: an export is one of them.
    let app = spawn_configured(|c| c.write_limits = true).await;
    let ada = app.sign_up("ada").await;
    let bob = app.sign_up("bob").await;
    let ok = |response: reqwest::Response| async move {
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "{text}");
        serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)
    };
    let profile = json!({ "profile": { "display_name": "Ada Lovelace" } });
    ok(app.call_as(&ada.http, "set_profile", profile).await).await;
    let space = ok(app
        .call_as(&ada.http, "create_space", json!({ "name": "Engines" }))
        .await)
    .await;
    let channel: ChannelId = serde_json::from_value(space["channels"][0]["channel_id"].clone()).unwrap();
    let file = uploaded(&app, &ada, "notes on the engine.txt", b"note G".to_vec()).await;
    let post = |user: &User, channel: ChannelId, body: &str, files: Vec<String>| {
        let args = json!({ "channel": channel, "message_id": MessageId::new(), "body": body, "attachments": files });
        let http = user.http.clone();
        let addr = app.addr;
        async move {
            let response = http
                .post(format!("http://{addr}/api/post_message"))
                .json(&args)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            args["message_id"].as_str().unwrap().parse::<MessageId>().unwrap()
        }
    };
    post(&ada, ChannelId::GENERAL, "hello lobby", vec![]).await;
    post(&ada, channel, "the engine's plan", vec![file.file_id.clone()]).await;
    let gone = post(&ada, ChannelId::GENERAL, "words taken back", vec![]).await;
    let delete = json!({ "channel": ChannelId::GENERAL, "message_id": gone, "change": {"type": "delete"} });
    ok(app.call_as(&ada.http, "change_message", delete).await).await;
    let direct = app.open_direct(&ada, "bob").await;
    post(&ada, direct, "just between us", vec![]).await;
    let his = post(&bob, ChannelId::GENERAL, "bob's own words", vec![]).await;
    let react = json!({ "channel": ChannelId::GENERAL, "message_id": his, "change": {"type": "react", "emoji": "🎉", "on": true} });
    ok(app.call_as(&ada.http, "change_message", react).await).await;

    let anonymous = reqwest::Client::new()
        .get(format!("http://{}/api/export", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let response = export(&app, &ada).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("parley-ada-")
    );
    let length: usize = response.headers()["content-length"].to_str().unwrap().parse().unwrap();
    let bytes = response.bytes().await.unwrap().to_vec();
    assert_eq!(bytes.len(), length);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();

    let account: Value = serde_json::from_slice(&entry(&mut archive, "account.json")).unwrap();
    assert_eq!(account["username"], "ada");
    assert_eq!(account["profile"]["display_name"], "Ada Lovelace");
    assert_eq!(account["spaces"], json!([{ "name": "Engines", "role": "admin" }]));

    let messages = String::from_utf8(entry(&mut archive, "messages.jsonl")).unwrap();
    let messages: Vec<Value> = messages.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let said: Vec<(&str, &str)> = messages
        .iter()
        .map(|m| (m["channel"].as_str().unwrap(), m["body"].as_str().unwrap()))
        .collect();
    let general_name = said[0].0;
    assert_eq!(
        said,
        [
            (general_name, "hello lobby"),
            ("#general in Engines", "the engine's plan"),
            ("conversation with bob", "just between us"),
        ],
        "her messages, not deleted ones, not bob's"
    );
    assert!(messages.iter().all(|m| m["sent_at_ms"].as_i64().unwrap() > 0));
    let stored_as = messages[1]["files"][0].as_str().unwrap().to_owned();
    assert_eq!(entry(&mut archive, &stored_as), b"note G");

    let reactions = String::from_utf8(entry(&mut archive, "reactions.jsonl")).unwrap();
    let reaction: Value = serde_json::from_str(reactions.trim()).unwrap();
    assert_eq!(
        (reaction["emoji"].as_str(), reaction["message_id"].as_str()),
        (Some("🎉"), Some(his.to_string().as_str()))
    );
    let files: Value = serde_json::from_slice(&entry(&mut archive, "files.json")).unwrap();
    assert_eq!(files[0]["name"], "notes on the engine.txt");
    assert!(
        String::from_utf8(entry(&mut archive, "README.txt"))
            .unwrap()
            .contains("messages.jsonl")
    );

    // Bob's archive has his words and not hers.
    let his_archive = export(&app, &bob).await.bytes().await.unwrap().to_vec();
    let mut his_archive = zip::ZipArchive::new(std::io::Cursor::new(his_archive)).unwrap();
    let his_messages = String::from_utf8(entry(&mut his_archive, "messages.jsonl")).unwrap();
    assert!(his_messages.contains("bob's own words") && !his_messages.contains("lobby"));

    // Three exports, then one per ten minutes.
    for _ in 0..2 {
        assert_eq!(export(&app, &ada).await.status(), 200);
    }
    let again = export(&app, &ada).await;
    assert_eq!(again.status(), 429);
    assert!(again.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn an_export_of_more_than_a_page_holds_every_message_once_in_order() {
    let app = crate::helpers::spawn_app().await;
    let ada = app.sign_up("ada").await;
    let total = parley_engine::engine::export::EXPORT_PAGE as usize + 5;
    let bodies: Vec<String> = (0..total).map(|i| format!("message number {i}")).collect();
    for chunk in bodies.chunks(50) {
        let posts = chunk.iter().map(|body| {
            let args = json!({ "channel": ChannelId::GENERAL, "message_id": MessageId::new(), "body": body });
            app.call_as(&ada.http, "post_message", args)
        });
        for response in futures::future::join_all(posts).await {
            assert_eq!(response.status(), 200);
        }
    }
    let bytes = export(&app, &ada).await.bytes().await.unwrap().to_vec();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let messages = String::from_utf8(entry(&mut archive, "messages.jsonl")).unwrap();
    let rows: Vec<Value> = messages.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), total, "every message once, across pages");
    let positions: Vec<i64> = rows.iter().map(|r| r["position"].as_i64().unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "in log order");
    let mut said: Vec<&str> = rows.iter().map(|r| r["body"].as_str().unwrap()).collect();
    said.sort_unstable();
    let mut wanted: Vec<&str> = bodies.iter().map(String::as_str).collect();
    wanted.sort_unstable();
    assert_eq!(said, wanted);
}
