//! Spawning a server on a free port with a fresh database, and clients for its doors.

use futures::{SinkExt, StreamExt};
use parley::protocol::{ClientFrame, ServerFrame};
use parley::{ChannelId, MessageId, MessageView, Position};
use parley_server::Application;
use parley_server::config::Config;
use parley_server::engine::Engine;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct TestApp {
    pub addr: SocketAddr,
    pub database_url: String,
    pub engine: Arc<Engine>,
    pub dir: TempDir,
    http: reqwest::Client,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<anyhow::Result<()>>,
}

/// A server on a free port with a fresh database in a temporary folder.
pub async fn spawn_app() -> TestApp {
    spawn_app_in(tempfile::tempdir().unwrap()).await
}

/// A server on a free port with the database that `dir` holds (or a new one).
pub async fn spawn_app_in(dir: TempDir) -> TestApp {
    let database_url = format!("sqlite://{}", dir.path().join("parley.db").display());
    let app = Application::build(&Config::for_tests(database_url.clone()))
        .await
        .unwrap();
    let addr = app.local_addr();
    let engine = app.engine();
    let (shutdown, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stop.await;
    }));
    let app = TestApp {
        addr,
        database_url,
        engine,
        dir,
        http: reqwest::Client::new(),
        shutdown,
        server,
    };
    app.wait_projected().await;
    app
}

impl TestApp {
    /// Stops the server (as a restart would) and hands back its database folder.
    pub async fn stop(self) -> TempDir {
        let _ = self.shutdown.send(());
        tokio::time::timeout(Duration::from_secs(10), self.server)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        self.dir
    }

    pub async fn call(&self, function: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("http://{}/api/{function}", self.addr))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_message(&self, message_id: MessageId, author: &str, body: &str) -> reqwest::Response {
        let args = serde_json::json!({
            "channel": ChannelId::GENERAL, "message_id": message_id, "author": author, "body": body,
        });
        self.call("post_message", args).await
    }

    /// Posts a message that must be accepted; returns its id and position.
    pub async fn post(&self, body: &str) -> (MessageId, Position) {
        let id = MessageId::new();
        let response = self.post_message(id, "tester", body).await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        (id, response.json().await.unwrap())
    }

    pub async fn history(&self, before: Option<Position>, limit: u32) -> Vec<MessageView> {
        let args = serde_json::json!({ "channel": ChannelId::GENERAL, "before": before, "limit": limit });
        let response = self.call("history", args).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn head(&self) -> Position {
        self.engine.store().head().await.unwrap()
    }

    pub async fn socket(&self) -> Socket {
        let (stream, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", self.addr))
            .await
            .unwrap();
        Socket { stream }
    }

    /// Every row of the read models, in a fixed order, for comparisons.
    pub async fn read_model_dump(&self) -> Vec<String> {
        let pool = self.engine.store().pool();
        let messages: Vec<(i64, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT position, message_id, channel_id, author, body, sent_at_ms FROM messages ORDER BY position",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let channels: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT channel_id, name, created_position FROM channels ORDER BY channel_id")
                .fetch_all(pool)
                .await
                .unwrap();
        let checkpoints: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, position FROM projection_checkpoints ORDER BY name")
                .fetch_all(pool)
                .await
                .unwrap();
        let mut dump: Vec<String> = messages.iter().map(|m| format!("{m:?}")).collect();
        dump.extend(channels.iter().map(|c| format!("{c:?}")));
        dump.extend(checkpoints.iter().map(|c| format!("{c:?}")));
        dump
    }

    /// Waits until the read models have folded the whole log.
    pub async fn wait_projected(&self) {
        let head = self.head().await;
        for _ in 0..500 {
            if self.engine.hub().projected() >= head {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("projection did not reach {head}");
    }
}

/// A WebSocket client speaking the wire protocol.
pub struct Socket {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Socket {
    pub async fn send(&mut self, frame: &ClientFrame) {
        self.send_text(&frame.to_json()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream.send(Message::text(text)).await.unwrap();
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.stream.send(Message::binary(bytes)).await.unwrap();
    }

    /// The next frame, within five seconds.
    pub async fn next(&mut self) -> ServerFrame {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), self.stream.next())
                .await
                .expect("no frame within 5 s")
                .expect("socket closed")
                .unwrap();
            if let Message::Text(text) = message {
                return ServerFrame::parse(&text).unwrap();
            }
        }
    }

    /// Asserts nothing arrives for `ms` milliseconds.
    pub async fn expect_silence(&mut self, ms: u64) {
        if let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(Duration::from_millis(ms), self.stream.next()).await
        {
            panic!("expected no frame, got {text}");
        }
    }

    /// Subscribes and collects the positions of the message events sent until caught up.
    pub async fn subscribe(&mut self, channel: ChannelId, after: Position) -> (Vec<Position>, Position) {
        self.send(&ClientFrame::Subscribe { channel, after }).await;
        let mut positions = Vec::new();
        loop {
            match self.next().await {
                ServerFrame::Event { event, .. } => positions.push(event.position),
                ServerFrame::CaughtUp { position, .. } => return (positions, position),
                other => panic!("unexpected frame while catching up: {other:?}"),
            }
        }
    }

    /// The position of the next event frame.
    pub async fn next_event(&mut self) -> parley::RecordedEvent {
        match self.next().await {
            ServerFrame::Event { event, .. } => *event,
            other => panic!("expected an event, got {other:?}"),
        }
    }
}
