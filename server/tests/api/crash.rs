//! Guarantee 1, with the real binary: a message acknowledged to its sender survives a
//! crash (SIGKILL) right after the ack. And the `rebuild-projections` subcommand works.

use crate::helpers::database_in;
use parley::{ChannelId, MessageId, MessageView, Position};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Server {
    child: Child,
    base: String,
}

fn start(database_url: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_parley-server"))
        .args(["--port", "0", "--database-url", database_url])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        // Several writers post as one user as fast as they can.
        .env("PARLEY_POST_RATE", "0")
        .env("PARLEY_MAX_SOCKETS_PER_USER", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines.next().expect("the server exited before listening").unwrap();
        if let Some(at) = line.find("http://") {
            break line[at..].trim().to_string();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Server { child, base }
}

async fn post(client: &reqwest::Client, base: &str, body: &str) -> (MessageId, Position) {
    let id = MessageId::new();
    let args = serde_json::json!({
        "channel": ChannelId::GENERAL, "message_id": id, "body": body,
    });
    let response = client
        .post(format!("{base}/api/post_message"))
        .json(&args)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    (id, response.json().await.unwrap())
}

async fn history(client: &reqwest::Client, base: &str) -> Vec<MessageView> {
    let args = serde_json::json!({ "channel": ChannelId::GENERAL, "before": null, "limit": 200 });
    let response = client
        .post(format!("{base}/api/history"))
        .json(&args)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn acknowledged_messages_survive_a_kill_right_after_the_ack() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = database_in(&dir).await;
    let (client, _jar) = crate::helpers::browser();

    let mut server = start(&database_url);
    let signed_up = client
        .post(format!("{}/api/sign_up", server.base))
        .json(&serde_json::json!({ "username": "crash", "password": crate::helpers::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), 200);
    let mut acked = Vec::new();
    // Many concurrent posts, so several group commits are in flight when the kill lands.
    let mut tasks = Vec::new();
    for i in 0..100 {
        let (client, base) = (client.clone(), server.base.clone());
        tasks.push(tokio::spawn(async move {
            post(&client, &base, &format!("durable {i}")).await
        }));
    }
    for task in tasks {
        acked.push(task.await.unwrap());
    }
    server.child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.child.wait().unwrap();

    let mut server = start(&database_url);
    let stored = history(&client, &server.base).await;
    for (id, position) in &acked {
        assert!(
            stored.iter().any(|m| m.message_id == *id && m.position == *position),
            "acked message {id} at {position} was lost"
        );
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    // The read models can be rebuilt from the log by the subcommand.
    let output = Command::new(env!("CARGO_BIN_EXE_parley-server"))
        .args(["--database-url", &database_url, "rebuild-projections"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("rebuilt up to position"));
    let mut server = start(&database_url);
    assert_eq!(history(&client, &server.base).await, stored);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
