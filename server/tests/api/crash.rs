//! Guarantee 1, with the real binary: a message acknowledged to its sender survives a
//! crash (SIGKILL) right after the ack, and under load at random moments, cycle after
//! cycle. And the `rebuild-projections` subcommand works.

use crate::helpers::{database_in, post_to};
use parley::{ChannelId, MessageId, MessageView, Position};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The real binary, running on a port of its own.
pub struct Server {
    pub child: Child,
    pub base: String,
}

fn start(database_url: &str) -> Server {
    // Several writers post as one user as fast as they can.
    start_with(
        database_url,
        &[("PARLEY_POST_RATE", "0"), ("PARLEY_MAX_SOCKETS_PER_USER", "0")],
    )
}

/// Starts the binary on `database_url` with settings of the test's own (`env`; an empty
/// value removes the variable), and returns once it listens.
pub fn start_with(database_url: &str, env: &[(&str, &str)]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parley-server"));
    for (name, value) in env {
        if value.is_empty() {
            command.env_remove(name);
        } else {
            command.env(name, value);
        }
    }
    let mut child = command
        .args(["--port", "0", "--database-url", database_url])
        .env(
            "RUST_LOG",
            std::env::var("PARLEY_CRASH_RUST_LOG").unwrap_or_else(|_| "info".into()),
        )
        .env("NO_COLOR", "1")
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
    // Keep draining stdout so the server never blocks on a full pipe; with
    // PARLEY_CRASH_LOG=<file>, append the servers' logs to it.
    std::thread::spawn(move || {
        let mut log = std::env::var("PARLEY_CRASH_LOG")
            .ok()
            .and_then(|path| std::fs::OpenOptions::new().create(true).append(true).open(path).ok());
        for line in lines.map_while(Result::ok) {
            if let Some(file) = log.as_mut() {
                use std::io::Write;
                let _ = writeln!(file, "{line}");
            }
        }
    });
    Server { child, base }
}

async fn post(client: &reqwest::Client, base: &str, body: &str) -> (MessageId, Position) {
    let id = MessageId::new();
    (id, post_to(client, base, id, body).await)
}

async fn history(client: &reqwest::Client, base: &str) -> Vec<MessageView> {
    history_before(client, base, None).await
}

async fn history_before(client: &reqwest::Client, base: &str, before: Option<Position>) -> Vec<MessageView> {
    let args = serde_json::json!({ "channel": ChannelId::GENERAL, "before": before, "limit": 200 });
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

/// Signs the harness's user up or in (`function`) on the server at `base`.
async fn sign(client: &reqwest::Client, base: &str, function: &str) {
    let signed = client
        .post(format!("{base}/api/{function}"))
        .json(&serde_json::json!({ "username": "crash", "password": crate::helpers::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 200);
}

/// The session cookie the jar holds for `base`, for a socket's handshake.
fn cookie_of(jar: &reqwest::cookie::Jar, base: &str) -> String {
    use reqwest::cookie::CookieStore;
    let url = base.parse().unwrap();
    jar.cookies(&url).unwrap().to_str().unwrap().to_owned()
}

/// The whole of `#general`, oldest first, page by page.
async fn whole_history(client: &reqwest::Client, base: &str) -> Vec<MessageView> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = history_before(client, base, before).await;
        let Some(first) = page.first() else { break };
        before = Some(first.position);
        all.splice(0..0, page);
    }
    all
}

/// A small deterministic generator (xorshift), so a failing run can be replayed from its seed.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// One posting client: posts until the server goes away; returns what was acknowledged,
/// and the message it was waiting for when the server died (its fate unknown).
async fn post_until_killed(
    client: reqwest::Client,
    base: String,
    tag: String,
) -> (Vec<(MessageId, Position)>, Option<MessageId>) {
    let mut acked = Vec::new();
    for i in 0.. {
        let id = MessageId::new();
        let args = serde_json::json!({ "channel": ChannelId::GENERAL, "message_id": id, "body": format!("{tag} {i}") });
        match client.post(format!("{base}/api/post_message")).json(&args).send().await {
            Ok(response) if response.status() == 200 => match response.json().await {
                Ok(position) => acked.push((id, position)),
                Err(_) => return (acked, Some(id)),
            },
            _ => return (acked, Some(id)),
        }
    }
    (acked, None)
}

/// A socket client following `#general` from `cursor` until the server goes away: the
/// message events it got, in the order it got them.
async fn follow_until_killed(base: &str, cookie: &str, cursor: Position) -> Vec<(Position, MessageId)> {
    use futures::{SinkExt, StreamExt};
    use parley::protocol::{ClientFrame, ServerFrame};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("{}/ws", base.replacen("http://", "ws://", 1))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    let mut seen = Vec::new();
    let Ok((mut socket, _)) = tokio_tungstenite::connect_async(request).await else {
        return seen;
    };
    let subscribe = ClientFrame::Subscribe {
        channel: ChannelId::GENERAL,
        after: cursor,
        id: 0,
    };
    if socket.send(Message::text(subscribe.to_json())).await.is_err() {
        return seen;
    }
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Text(text) = message
            && let Ok(ServerFrame::Event { event, .. }) = ServerFrame::parse(&text)
            && let parley::Event::MessagePosted { message_id, .. } = event.event
        {
            seen.push((event.position, message_id));
        }
    }
    seen
}

/// Posts a message again with the id it had: the answer says where it is, whether the
/// first try was stored before the kill or not.
async fn resend(client: &reqwest::Client, base: &str, id: MessageId) -> Position {
    post_to(client, base, id, "resent after a kill").await
}

/// The harness: the server under load from posting clients and a following socket, killed
/// (SIGKILL) at a random moment, restarted, again and again. `PARLEY_CRASH_CYCLES` sets
/// the number of cycles (default 8; the long mode is 200), `PARLEY_CRASH_SEED` replays a run.
/// Afterwards: every acknowledged message is in the log exactly once, where it was acked;
/// the read models equal a rebuild; the following client, resuming from its cursor after
/// each restart, got every message once, in log order.
#[tokio::test]
async fn killed_under_load_at_random_moments_loses_and_repeats_nothing() {
    let cycles: u32 = std::env::var("PARLEY_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let seed: u64 = std::env::var("PARLEY_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
        .max(1);
    eprintln!("crash harness: {cycles} cycles, PARLEY_CRASH_SEED={seed}");
    let mut dice = Dice(seed);
    let dir = tempfile::tempdir().unwrap();
    let database_url = database_in(&dir).await;
    let (client, jar) = crate::helpers::browser();

    let mut acked: Vec<(MessageId, Position)> = Vec::new();
    let mut unknown: Vec<MessageId> = Vec::new();
    let mut followed: Vec<(Position, MessageId)> = Vec::new();
    let mut started = std::time::Instant::now();
    for cycle in 0..cycles {
        let mut server = start(&database_url);
        let function = if cycle == 0 { "sign_up" } else { "sign_in" };
        sign(&client, &server.base, function).await;
        // What was in flight at the last kill goes again, with its id: once, either way.
        for id in unknown.drain(..) {
            acked.push((id, resend(&client, &server.base, id).await));
        }
        let cookie = cookie_of(&jar, &server.base);
        let cursor = followed.last().map_or(Position::ZERO, |(p, _)| *p);
        let base = server.base.clone();
        let follower = tokio::spawn(async move { follow_until_killed(&base, &cookie, cursor).await });
        let posters: Vec<_> = (0..4)
            .map(|p| {
                tokio::spawn(post_until_killed(
                    client.clone(),
                    server.base.clone(),
                    format!("c{cycle} p{p}"),
                ))
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(20 + dice.below(300))).await;
        server.child.kill().unwrap(); // SIGKILL, mid-load
        server.child.wait().unwrap();
        for poster in posters {
            let (done, in_flight) = poster.await.unwrap();
            acked.extend(done);
            unknown.extend(in_flight);
        }
        followed.extend(follower.await.unwrap());
        if started.elapsed() > std::time::Duration::from_secs(30) {
            eprintln!(
                "crash harness: {} cycles done, {} messages acknowledged",
                cycle + 1,
                acked.len()
            );
            started = std::time::Instant::now();
        }
    }

    let mut server = start(&database_url);
    sign(&client, &server.base, "sign_in").await;
    for id in unknown.drain(..) {
        acked.push((id, resend(&client, &server.base, id).await));
    }
    // An ack means durable, not yet folded: give the read models a moment to hold them all.
    let mut stored = whole_history(&client, &server.base).await;
    for _ in 0..100 {
        let folded: std::collections::HashSet<MessageId> = stored.iter().map(|m| m.message_id).collect();
        if acked.iter().all(|(id, _)| folded.contains(id)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        stored = whole_history(&client, &server.base).await;
    }

    // Every acknowledged message once, where it was acknowledged; nothing twice.
    let mut ids = std::collections::HashSet::new();
    for message in &stored {
        assert!(ids.insert(message.message_id), "{} is stored twice", message.message_id);
    }
    let at: std::collections::HashMap<MessageId, Position> =
        stored.iter().map(|m| (m.message_id, m.position)).collect();
    for (id, position) in &acked {
        if at.get(id) != Some(position) {
            // Tell a lost event from a read model behind the log.
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&database_url).await.unwrap();
            let in_log: Option<i64> = sqlx::query_scalar("SELECT position FROM events WHERE client_message_id = $1")
                .bind(id.to_string())
                .fetch_optional(&pool)
                .await
                .unwrap();
            let checkpoint: Option<i64> = sqlx::query_scalar("SELECT position FROM projection_checkpoints")
                .fetch_optional(&pool)
                .await
                .unwrap();
            let row: Option<(String, String)> =
                sqlx::query_as("SELECT message_id, channel_id FROM messages WHERE position = $1")
                    .bind(position.0 as i64)
                    .fetch_optional(&pool)
                    .await
                    .unwrap();
            let event: Option<(String, String, String)> =
                sqlx::query_as("SELECT stream_id, event_type, payload FROM events WHERE position = $1")
                    .bind(position.0 as i64)
                    .fetch_optional(&pool)
                    .await
                    .unwrap();
            panic!(
                "acknowledged message {id} at {position}: read model has {:?}, the log has {in_log:?}; \
                 checkpoint {checkpoint:?}, messages row {row:?}, event {event:?}",
                at.get(id)
            );
        }
    }

    // The follower converges: what it got over all the restarts, plus a last catch-up,
    // is the channel's messages in log order, each once.
    let cookie = cookie_of(&jar, &server.base);
    let cursor = followed.last().map_or(Position::ZERO, |(p, _)| *p);
    let base = server.base.clone();
    let follower = tokio::spawn(async move { follow_until_killed(&base, &cookie, cursor).await });
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    followed.extend(follower.await.unwrap());
    let expected: Vec<(Position, MessageId)> = stored.iter().map(|m| (m.position, m.message_id)).collect();
    assert_eq!(followed, expected, "the following client has a gap or a duplicate");

    // The read models equal a rebuild from the log.
    let output = Command::new(env!("CARGO_BIN_EXE_parley-server"))
        .args(["--database-url", &database_url, "rebuild-projections"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut server = start(&database_url);
    sign(&client, &server.base, "sign_in").await;
    assert_eq!(whole_history(&client, &server.base).await, stored);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    eprintln!(
        "crash harness: {cycles} kills survived, {} messages acknowledged, all present once",
        acked.len()
    );
}
