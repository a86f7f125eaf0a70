//! Spawning a server on a free port with a fresh database, and clients for its doors.

use futures::{SinkExt, StreamExt};
use parley::protocol::{ClientFrame, ServerFrame};
use parley::{ChannelId, MessageId, MessageView, Position};
use parley_app::api::Me;
use parley_engine::engine::Engine;
use parley_server::Application;
use parley_server::config::Config;
use reqwest::cookie::{CookieStore, Jar};
use sqlx::Connection;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct TestApp {
    pub addr: SocketAddr,
    pub database_url: String,
    pub engine: Arc<Engine>,
    pub dir: TempDir,
    /// The user the plain helpers (`post`, `history`, `socket`) act as: `tester`.
    pub user: User,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<anyhow::Result<()>>,
}

/// A signed-in browser, as far as the server can tell: a cookie jar with a session.
#[derive(Clone)]
pub struct User {
    pub me: Me,
    pub http: reqwest::Client,
    jar: Arc<Jar>,
    addr: SocketAddr,
}

impl User {
    /// The `Cookie` header this user's requests carry.
    pub fn cookie(&self) -> String {
        let url = format!("http://{}/", self.addr).parse().unwrap();
        self.jar
            .cookies(&url)
            .map(|c| c.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

/// The token `/metrics` wants in the tests (`Config::for_tests`).
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery";

/// A client with an empty cookie jar, and the jar.
pub fn browser() -> (reqwest::Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let http = reqwest::Client::builder().cookie_provider(jar.clone()).build().unwrap();
    (http, jar)
}

/// A server on a free port with a fresh database in a temporary folder.
pub async fn spawn_app() -> TestApp {
    spawn_app_in(tempfile::tempdir().unwrap()).await
}

/// A server on a free port with the database that `dir` holds (or a new one).
pub async fn spawn_app_in(dir: TempDir) -> TestApp {
    let database_url = database_in(&dir).await;
    spawn_node(dir, database_url).await
}

/// A server on a free port with the given database, which other servers (nodes) may share;
/// `dir` holds its files.
pub async fn spawn_node(dir: TempDir, database_url: String) -> TestApp {
    let mut config = Config::for_tests(database_url.clone());
    // Uploaded files stay in the test's folder, whatever the database.
    config.files_dir = Some(dir.path().join("files"));
    spawn_with(dir, config).await
}

/// A server with a config of the test's own (a limit on, a filter's default), files in `dir`.
pub async fn spawn_with(dir: TempDir, config: Config) -> TestApp {
    let database_url = config.database_url.clone();
    let app = Application::build(&config).await.unwrap();
    let addr = app.local_addr();
    let engine = app.engine();
    let (shutdown, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stop.await;
    }));
    let user = match try_sign(addr, "sign_up", "tester").await {
        Ok(user) => user,
        Err(_) => try_sign(addr, "sign_in", "tester").await.unwrap(),
    };
    // The plain helpers' user is the instance admin, as an operator makes one.
    engine.create_admin("tester", None).await.unwrap();
    let app = TestApp {
        addr,
        database_url,
        engine,
        dir,
        user,
        shutdown,
        server,
    };
    app.wait_projected().await;
    app
}

/// Whether the tests run on PostgreSQL (`PARLEY_TEST_POSTGRES`) rather than SQLite.
pub fn on_postgres() -> bool {
    std::env::var_os("PARLEY_TEST_POSTGRES").is_some()
}

/// The database the tests in `dir` use: an SQLite file in it, or, when
/// `PARLEY_TEST_POSTGRES` names a PostgreSQL server, a database of its own there (its
/// name kept in `dir`, so a restarted server finds the same one).
pub async fn database_in(dir: &TempDir) -> String {
    let Ok(server) = std::env::var("PARLEY_TEST_POSTGRES") else {
        return format!("sqlite://{}", dir.path().join("parley.db").display());
    };
    let server = server.trim_end_matches('/').to_owned();
    let marker = dir.path().join("postgres-database");
    if let Ok(name) = std::fs::read_to_string(&marker) {
        return format!("{server}/{name}");
    }
    let name = format!("parley_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::postgres::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    std::fs::write(&marker, &name).unwrap();
    format!("{server}/{name}")
}

async fn try_sign(addr: SocketAddr, function: &str, username: &str) -> Result<User, String> {
    let (http, jar) = browser();
    let response = http
        .post(format!("http://{addr}/api/{function}"))
        .json(&serde_json::json!({ "username": username, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    if response.status() != 200 {
        return Err(response.text().await.unwrap());
    }
    let me: Me = response.json().await.unwrap();
    Ok(User { me, http, jar, addr })
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

    /// Calls a server function as the test user.
    pub async fn call(&self, function: &str, body: serde_json::Value) -> reqwest::Response {
        self.call_as(&self.user.http, function, body).await
    }

    /// Calls a server function with the given client (its cookies, or none).
    pub async fn call_as(&self, http: &reqwest::Client, function: &str, body: serde_json::Value) -> reqwest::Response {
        http.post(format!("http://{}/api/{function}", self.addr))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Signs up a new user, who is then signed in.
    pub async fn sign_up(&self, username: &str) -> User {
        try_sign(self.addr, "sign_up", username).await.unwrap()
    }

    /// Signs in an existing user (in a new browser).
    pub async fn sign_in(&self, username: &str) -> User {
        try_sign(self.addr, "sign_in", username).await.unwrap()
    }

    /// Opens (or finds) `user`'s direct conversation with `with`; returns its channel.
    pub async fn open_direct(&self, user: &User, with: &str) -> ChannelId {
        let args = serde_json::json!({ "usernames": [with] });
        let dm: parley_app::api::DirectView = self
            .call_as(&user.http, "open_direct", args)
            .await
            .json()
            .await
            .unwrap();
        dm.channel_id
    }

    pub async fn post_message(&self, message_id: MessageId, body: &str) -> reqwest::Response {
        let args = serde_json::json!({ "channel": ChannelId::GENERAL, "message_id": message_id, "body": body });
        self.call("post_message", args).await
    }

    /// Posts a message that must be accepted; returns its id and position.
    pub async fn post(&self, body: &str) -> (MessageId, Position) {
        let id = MessageId::new();
        let response = self.post_message(id, body).await;
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

    /// A socket signed in as the test user.
    pub async fn socket(&self) -> Socket {
        self.socket_as(&self.user).await
    }

    pub async fn socket_as(&self, user: &User) -> Socket {
        self.socket_with(&[("cookie", &user.cookie())]).await
    }

    /// A socket opened with an API token (as a bot or a script opens one).
    pub async fn socket_with_token(&self, token: &str) -> Socket {
        self.socket_with(&[("authorization", &format!("Bearer {token}"))]).await
    }

    async fn socket_with(&self, headers: &[(&'static str, &str)]) -> Socket {
        let request = self.socket_request(headers);
        let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let mut socket = Socket { stream };
        // Every connection starts by naming the site's build (none here: no site folder).
        match socket.next().await {
            ServerFrame::Hello { .. } => {}
            other => panic!("a socket began with {other:?}, not its greeting"),
        }
        socket
    }

    /// A handshake request to `/ws` with the given headers.
    pub fn socket_request(
        &self,
        headers: &[(&'static str, &str)],
    ) -> tokio_tungstenite::tungstenite::handshake::client::Request {
        let mut request = format!("ws://{}/ws", self.addr).into_client_request().unwrap();
        for (name, value) in headers {
            request.headers_mut().insert(*name, value.parse().unwrap());
        }
        request
    }

    /// Every row of the read models, in a fixed order, for comparisons.
    pub async fn read_model_dump(&self) -> Vec<String> {
        let pool = self.engine.store().pool();
        type MessageRow = (
            i64,
            String,
            String,
            String,
            String,
            i64,
            Option<String>,
            i64,
            i64,
            i64,
            Option<String>,
            String,
        );
        let files: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT file_id, message_id, channel_id, name FROM attachments ORDER BY file_id, message_id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let messages: Vec<MessageRow> = sqlx::query_as(
            "SELECT position, message_id, channel_id, author, body, sent_at_ms, author_id, edited, deleted, revision,
                    reply_to,
                    replies || '|' || mentions || '|' || attachments || '|' || COALESCE(pinned_position, -1) || '|' || kind
                        || '|' || also_in_channel
             FROM messages ORDER BY position",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let channels: Vec<(String, String, i64, Option<String>, i64)> = sqlx::query_as(
            "SELECT channel_id, name || '|' || topic || '|' || description || '|' || private || '|' || deleted,
                    created_position, space_id, archived
             FROM channels ORDER BY channel_id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let checkpoints: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, position FROM projection_checkpoints ORDER BY name")
                .fetch_all(pool)
                .await
                .unwrap();
        let accounts: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT user_id, username, registered_position FROM accounts ORDER BY user_id")
                .fetch_all(pool)
                .await
                .unwrap();
        let spaces: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT space_id, name || '|' || pins_by || '|' || topics_by, owner, deleted, created_position
             FROM spaces ORDER BY space_id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let members: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT space_id, user_id, role, joined_position FROM space_members ORDER BY space_id, user_id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        type InviteRow = (String, String, Option<i64>, Option<i64>, i64, i64);
        let invites: Vec<InviteRow> = sqlx::query_as(
            "SELECT space_id, code, expires_at_ms, max_uses, uses, revoked FROM invites ORDER BY space_id, code",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let edits: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT position, message_id, body_before, edited_at_ms FROM message_edits ORDER BY position",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let reactions: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT message_id, emoji, user_id, username, position FROM reactions ORDER BY message_id, emoji, user_id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let markers: Vec<(String, String, i64, i64)> =
            sqlx::query_as("SELECT user_id, channel_id, up_to, muted FROM read_markers ORDER BY user_id, channel_id")
                .fetch_all(pool)
                .await
                .unwrap();
        let follows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT user_id, root_id, channel_id, following, read_up_to FROM thread_follows ORDER BY user_id, root_id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let channel_members: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT channel_id, user_id, inside FROM channel_members ORDER BY channel_id, user_id")
                .fetch_all(pool)
                .await
                .unwrap();
        let saved: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT user_id, message_id, channel_id, saved_position FROM saved_items ORDER BY user_id, message_id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let erased: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT user_id, name_hash, messages, erased_position FROM erased_accounts ORDER BY user_id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let mut dump: Vec<String> = messages.iter().map(|m| format!("{m:?}")).collect();
        dump.extend(erased.iter().map(|e| format!("{e:?}")));
        dump.extend(saved.iter().map(|s| format!("{s:?}")));
        dump.extend(channel_members.iter().map(|m| format!("{m:?}")));
        dump.extend(follows.iter().map(|f| format!("{f:?}")));
        dump.extend(markers.iter().map(|m| format!("{m:?}")));
        dump.extend(files.iter().map(|f| format!("{f:?}")));
        dump.extend(edits.iter().map(|e| format!("{e:?}")));
        dump.extend(reactions.iter().map(|r| format!("{r:?}")));
        dump.extend(spaces.iter().map(|s| format!("{s:?}")));
        dump.extend(members.iter().map(|m| format!("{m:?}")));
        dump.extend(invites.iter().map(|i| format!("{i:?}")));
        dump.extend(accounts.iter().map(|a| format!("{a:?}")));
        dump.extend(channels.iter().map(|c| format!("{c:?}")));
        dump.extend(checkpoints.iter().map(|c| format!("{c:?}")));
        dump
    }

    /// Stops the server, rebuilds the read models from the log, and starts it again on
    /// the same database.
    pub async fn rebuilt(self) -> TestApp {
        let database_url = self.database_url.clone();
        let dir = self.stop().await;
        parley_server::startup::rebuild_projections(&database_url)
            .await
            .unwrap();
        spawn_app_in(dir).await
    }

    /// A page of the event inspector as the app's admin (`tester`) sees it, for `filter`
    /// (e.g. `{}` or `{"event_type": "MessagePosted"}`).
    pub async fn log_page(&self, filter: serde_json::Value) -> parley_app::api::LogPage {
        let response = self.call("inspect_log", serde_json::json!({ "filter": filter })).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
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
        self.next_within(Duration::from_secs(5)).await
    }

    /// The next frame, which must come within `limit`.
    pub async fn next_within(&mut self, limit: Duration) -> ServerFrame {
        self.try_next_within(limit)
            .await
            .unwrap_or_else(|| panic!("no frame within {limit:?}"))
    }

    /// The next frame, if one comes within `limit`.
    pub async fn try_next_within(&mut self, limit: Duration) -> Option<ServerFrame> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let message = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?
                .expect("socket closed")
                .unwrap();
            if let Message::Text(text) = message {
                return Some(ServerFrame::parse(&text).unwrap());
            }
        }
    }

    /// Waits (five seconds at most) for the error frame saying this socket can no longer read
    /// a channel. The channel's own event that took access away (a `ChannelLeft`, a
    /// `MemberRemoved`) may come first, from the channel's feed racing the notice; nothing
    /// else may.
    pub async fn expect_access_lost(&mut self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                ServerFrame::Error { error } if error.contains("no longer read") => return,
                ServerFrame::Event { event, .. }
                    if matches!(
                        event.event,
                        parley::Event::ChannelLeft { .. }
                            | parley::Event::MemberRemoved { .. }
                            | parley::Event::MemberLeft { .. }
                    ) => {}
                other => panic!("expected to hear access was lost, got {other:?}"),
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

    /// Asserts the server closes the socket within five seconds.
    pub async fn expect_closed(&mut self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => panic!("the socket is still open"),
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Subscribes and collects the positions of the message events sent until caught up.
    pub async fn subscribe(&mut self, channel: ChannelId, after: Position) -> (Vec<Position>, Position) {
        self.send(&ClientFrame::Subscribe { channel, after, id: 0 }).await;
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

/// Posts `body` to the lobby as `id` through the server function of the server at `base`
/// (`http://host:port`), as a browser with `http`'s cookies would; it must be accepted.
/// Returns where it was stored (where it was first stored, for an id sent before).
pub async fn post_to(http: &reqwest::Client, base: &str, id: MessageId, body: &str) -> Position {
    let args = serde_json::json!({ "channel": ChannelId::GENERAL, "message_id": id, "body": body });
    let response = http
        .post(format!("{base}/api/post_message"))
        .json(&args)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}
