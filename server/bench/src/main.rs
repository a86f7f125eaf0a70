//! parley-bench: starts a release Parley server on a fresh SQLite database (durable settings
//! as shipped), or 1 to 3 nodes on one PostgreSQL (the cluster scenario), drives it over
//! real WebSockets as browsers do, and prints one JSON line per scenario. Figures, not
//! pass/fail: see the README's "Benchmarks" section.

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use parley::protocol::{ClientFrame, ServerFrame};
use parley::{ChannelCommand, ChannelId, CorrelationId, EventMetadata, MessageId, Position};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Sink = SplitSink<Ws, Message>;
type Source = SplitStream<Ws>;

#[derive(Parser)]
#[command(about = "Measures a Parley server: throughput, latency, fan-out, memory, catch-up, rebuild")]
struct Cli {
    /// Which scenario to run.
    #[arg(value_enum, default_value_t = Scenario::All)]
    scenario: Scenario,
    /// The server binary to start (a release build).
    #[arg(long, default_value = "target/release/parley-server")]
    server_bin: PathBuf,
    /// The WASM bundle to measure.
    #[arg(long, default_value = "target/site/pkg")]
    wasm: PathBuf,
    /// Scales every load (clients, messages, durations) for a quick run, e.g. 0.1.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// A PostgreSQL server (`postgres://user@host:port`) for the cluster scenario; each
    /// run makes a database of its own there. `.ci/postgres` starts one and prints this.
    #[arg(long, env = "PARLEY_BENCH_POSTGRES")]
    postgres: Option<String>,
    /// The steady scenarios (`steady`, `pairs`, `stalled`) offer their messages in slices
    /// of this many milliseconds: 10 sends them in bursts (80 at once at 8,000 a second),
    /// 1 spreads them about as independent clients would.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    slice_ms: u64,
}

/// `--slice-ms`, for the steady scenarios.
static SLICE_MS: AtomicU64 = AtomicU64::new(10);

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    All,
    Wasm,
    Throughput,
    Catchup,
    Fanout,
    Steady,
    Idle,
    Rebuild,
    /// Steady chat with a stalled (never reading) socket in every channel.
    Stalled,
    /// 2,000 clients in 1,000 two-person channels (direct conversations), 8,000 messages/s
    /// offered for 10 s: the rate issue #21 asks the tail to hold at.
    Pairs,
    /// 1, 2 and 3 nodes on one PostgreSQL: throughput and steady latency for each.
    Cluster,
    /// Topics' schemas at their bounds: what publishing an event as large as each allows
    /// costs the server (one node on SQLite; not part of `all`).
    Topics,
}

/// Channels made before the server starts: the steady-chat ones, and one per scenario.
const STEADY_CHANNELS: usize = 100;

/// Two-person channels for the `pairs` scenario (made only when it runs).
const PAIR_CHANNELS: usize = 1_000;

/// Where the sockets connect, and the session cookie they carry (as a signed-in browser's do).
#[derive(Clone)]
struct Endpoint {
    url: String,
    cookie: String,
}

struct Server {
    /// One process per node: one on SQLite, one or more on PostgreSQL.
    children: Vec<Child>,
    /// Each node's socket address; load spreads over them round-robin.
    endpoints: Vec<Endpoint>,
    database_url: String,
    bin: PathBuf,
    channels: Vec<ChannelId>,
    /// Two-person channels (the `pairs` scenario's), if it runs.
    pair_channels: Vec<ChannelId>,
    fanout: ChannelId,
    catchup: ChannelId,
    /// A space of the bench user's and an API token of theirs, for the topics scenario.
    topics: Option<(parley::SpaceId, String)>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Creates a fresh database with the benchmark's channels (through the real engine),
    /// then starts the server binary on it: on a fresh SQLite file, or, given a PostgreSQL
    /// server, on a fresh database there with `nodes` nodes.
    async fn start(
        bin: PathBuf,
        postgres: Option<&str>,
        nodes: usize,
        pairs: usize,
        topics: bool,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let database_url = match postgres {
            None => format!("sqlite://{}", dir.path().join("bench.db").display()),
            Some(server) => fresh_postgres_database(server).await?,
        };
        let channels: Vec<ChannelId> = (0..STEADY_CHANNELS).map(|_| ChannelId::new()).collect();
        let pair_channels: Vec<ChannelId> = (0..pairs).map(|_| ChannelId::new()).collect();
        let (fanout, catchup) = (ChannelId::new(), ChannelId::new());
        let cookie;
        let space;
        {
            let services = parley_server::startup::Services::start(&database_url).await?;
            // Every socket signs in as one bench user: the server checks the session once,
            // at the handshake, so how many users there are does not change the figures.
            let (_, token) = services
                .engine
                .sign_up("bench", "bench password", &parley_engine::auth::Client::default())
                .await?;
            cookie = format!("{}={}", parley_engine::auth::SESSION_COOKIE, token.expose());
            space = if topics {
                let me = services.engine.authenticate(Some(&token)).await?.me;
                let (space_id, _) = services.engine.create_space(&me, "bench").await?;
                let (_, secret) = services.engine.create_token(&me, "bench").await?;
                Some((space_id, secret))
            } else {
                None
            };
            for (i, channel) in channels
                .iter()
                .chain([&fanout, &catchup])
                .chain(&pair_channels)
                .enumerate()
            {
                let command = ChannelCommand::CreateChannel {
                    channel_id: *channel,
                    name: format!("bench-{i}"),
                    space_id: None,
                    private: false,
                    creator: None,
                    membership: None,
                };
                let metadata = EventMetadata {
                    actor: "bench".into(),
                    correlation_id: CorrelationId::new(),
                    causation_id: None,
                    client_message_id: None,
                };
                services.engine.execute(command, metadata).await?;
            }
            services.stop().await;
        }
        let mut children = Vec::new();
        let mut endpoints = Vec::new();
        for _ in 0..nodes.max(1) {
            let (child, url) = spawn(&bin, &database_url)?;
            children.push(child);
            endpoints.push(Endpoint {
                url,
                cookie: cookie.clone(),
            });
        }
        Ok(Self {
            children,
            endpoints,
            database_url,
            bin,
            channels,
            pair_channels,
            fanout,
            catchup,
            topics: space,
            _dir: dir,
        })
    }

    /// The first node's HTTP address (`http://127.0.0.1:port`).
    fn http(&self) -> String {
        self.endpoints[0]
            .url
            .replacen("ws://", "http://", 1)
            .trim_end_matches("/ws")
            .to_owned()
    }

    /// The node the `i`-th socket connects to.
    fn ws(&self, i: usize) -> &Endpoint {
        &self.endpoints[i % self.endpoints.len()]
    }

    fn rss_kb(&self) -> u64 {
        self.children
            .iter()
            .map(|child| proc_field(child.id(), "status", "VmRSS:").unwrap_or(0))
            .sum()
    }

    /// CPU seconds of every node together.
    fn cpu_seconds(&self) -> f64 {
        self.children
            .iter()
            .map(|child| cpu_seconds(&format!("/proc/{}/stat", child.id())))
            .sum()
    }

    /// Each thread of the server's processes so far: its name, CPU seconds and seconds
    /// spent waiting for a core, by (process, thread) id.
    fn thread_seconds(&self) -> Threads {
        let mut threads = Threads::new();
        for child in &self.children {
            threads.extend(process_threads(child.id()));
        }
        threads
    }

    fn stop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Creates a database of its own on the PostgreSQL server at `server` and returns its URL.
async fn fresh_postgres_database(server: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let server = server.trim_end_matches('/');
    let name = format!("parley_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::postgres::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .with_context(|| format!("Failed to connect to {server} (start one: .ci/postgres)"))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(format!("{server}/{name}"))
}

fn spawn(bin: &PathBuf, database_url: &str) -> anyhow::Result<(Child, String)> {
    let mut child = Command::new(bin)
        .args(["--port", "0", "--database-url", database_url])
        // PARLEY_BENCH_LOG (a RUST_LOG filter) shows the server's log on stderr.
        .env(
            "RUST_LOG",
            std::env::var("PARLEY_BENCH_LOG").unwrap_or_else(|_| "warn,parley_server=info,parley_engine=info".into()),
        )
        .env("NO_COLOR", "1")
        // The load generators post as few users, far above one person's rate limit.
        .env("PARLEY_POST_RATE", "0")
        .env("PARLEY_METRICS_TOKEN", BENCH_METRICS_TOKEN)
        .env("PARLEY_MAX_SOCKETS_PER_USER", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("Failed to start {} (build it: .ci/build --release)", bin.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let Some(line) = lines.next() else {
            bail!("the server exited before listening")
        };
        let line = line?;
        if let Some(at) = line.find("http://") {
            break line[at + "http://".len()..].trim().to_string();
        }
    };
    let show = std::env::var_os("PARLEY_BENCH_LOG").is_some();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if show {
                eprintln!("{line}");
            }
        }
    });
    Ok((child, format!("ws://{addr}/ws")))
}

/// Each thread of process `pid` now: its name, CPU seconds and seconds spent waiting for
/// a core, by (process, thread) id. Empty once the process has gone.
fn process_threads(pid: u32) -> Threads {
    let mut threads = Threads::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return threads;
    };
    for task in tasks.flatten() {
        let Some(tid) = task.file_name().to_str().and_then(|t| t.parse::<u32>().ok()) else {
            continue;
        };
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let waited = std::fs::read_to_string(task.path().join("schedstat"))
            .ok()
            .and_then(|line| schedstat_waited(&line))
            .unwrap_or(0.0);
        if let Some((name, cpu)) = thread_stat(&stat) {
            threads.insert((pid, tid), ThreadTime { name, cpu, waited });
        }
    }
    threads
}

/// A number field of /proc/<pid>/<file>, e.g. VmRSS in kB.
fn proc_field(pid: u32, file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU seconds of a process, from its /proc stat file.
fn cpu_seconds(stat_path: &str) -> f64 {
    std::fs::read_to_string(stat_path)
        .ok()
        .and_then(|text| thread_stat(&text))
        .map_or(0.0, |(_, seconds)| seconds)
}

/// A thread's (or a process's) name and CPU seconds (user and system) from its
/// `/proc/<pid>/task/<tid>/stat` (or `/proc/<pid>/stat`) line. The name is between the first `(` and the last `)`: it may hold either.
fn thread_stat(line: &str) -> Option<(String, f64)> {
    let (_, rest) = line.split_once('(')?;
    let (name, after) = rest.rsplit_once(')')?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = fields
        .get(11..13)?
        .iter()
        .map(|v| v.parse::<f64>())
        .sum::<Result<f64, _>>()
        .ok()?;
    Some((name.to_owned(), ticks / 100.0))
}

/// Seconds a thread waited for a core while it could run, from its
/// `/proc/<pid>/task/<tid>/schedstat` line (nanoseconds on a core, nanoseconds waiting on
/// the run queue, time slices).
fn schedstat_waited(line: &str) -> Option<f64> {
    let waited: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(waited as f64 / 1e9)
}

/// One thread so far: its name, CPU seconds, and seconds it waited for a core.
#[derive(Clone, Debug, PartialEq)]
struct ThreadTime {
    name: String,
    cpu: f64,
    waited: f64,
}

/// Threads by (process, thread) id.
type Threads = std::collections::HashMap<(u32, u32), ThreadTime>;

/// Where the server's CPU went between two [`Threads`] readings `wall` seconds apart,
/// grouped by thread name (Linux keeps 15 bytes of it: `sqlx-sqlite-wor` is a SQLite
/// connection's thread, `tokio-rt-worker` the runtime's, `parley-wal-sync` the WAL's sync):
/// for each name, its threads' CPU in % of one core, how many ran, and the busiest one's
/// share (the event store writer's SQLite thread is the busiest `sqlx-sqlite-wor`); and the
/// time they waited for a core while they could have run (`waited_pct`, `busiest_waited_pct`
/// for the busiest one): a thread of a chain that waits as long as it runs makes the
/// chain twice as slow as its work. Busiest names first, those under 0.5 % left out. A
/// thread started meanwhile counts from zero.
fn thread_split(before: &Threads, after: &Threads, wall: f64) -> Vec<serde_json::Value> {
    #[derive(Default)]
    struct Name {
        cpu: f64,
        waited: f64,
        threads: usize,
        busiest: f64,
        busiest_waited: f64,
    }
    let wall = wall.max(1e-9);
    let mut names: std::collections::BTreeMap<&str, Name> = Default::default();
    for (id, now) in after {
        let (cpu_then, waited_then) = before.get(id).map_or((0.0, 0.0), |t| (t.cpu, t.waited));
        let cpu = (now.cpu - cpu_then).max(0.0) / wall * 100.0;
        let waited = (now.waited - waited_then).max(0.0) / wall * 100.0;
        let entry = names.entry(now.name.as_str()).or_default();
        entry.cpu += cpu;
        entry.waited += waited;
        entry.threads += 1;
        if cpu > entry.busiest {
            (entry.busiest, entry.busiest_waited) = (cpu, waited);
        }
    }
    let mut split: Vec<_> = names.into_iter().filter(|(_, name)| name.cpu >= 0.5).collect();
    split.sort_by(|a, b| b.1.cpu.total_cmp(&a.1.cpu));
    split
        .into_iter()
        .map(|(name, n)| {
            json!({"name": name, "cpu_pct": round(n.cpu), "threads": n.threads, "busiest_pct": round(n.busiest),
                   "waited_pct": round(n.waited), "busiest_waited_pct": round(n.busiest_waited)})
        })
        .collect()
}

/// The machine's CPU time so far, all cores: `(all, stolen)` in ticks, from the first line
/// of /proc/stat (`cpu user nice system idle iowait irq softirq steal ...`). Stolen time is
/// what the hypervisor gave to other guests while this one wanted the CPU.
fn machine_ticks() -> (u64, u64) {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|text| cpu_line_ticks(text.lines().next()?))
        .unwrap_or_default()
}

fn cpu_line_ticks(line: &str) -> Option<(u64, u64)> {
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let ticks: Vec<u64> = fields.take(8).map(str::parse).collect::<Result<_, _>>().ok()?;
    (ticks.len() == 8).then(|| (ticks.iter().sum(), ticks[7]))
}

/// The share of the machine's CPU time taken by its hypervisor since `before` (a
/// [`machine_ticks`]), in %: this machine's figures move with it (27–37 % under `pairs`
/// in one sitting, about 1 % idle), so every scenario prints it beside its own.
fn steal_pct(before: (u64, u64)) -> f64 {
    let (all, stolen) = machine_ticks();
    let all = all.saturating_sub(before.0);
    if all == 0 {
        return 0.0;
    }
    round(stolen.saturating_sub(before.1) as f64 / all as f64 * 100.0)
}

/// CPU used by the server (in all, and by its threads) and by this load generator over one
/// scenario, as % of one core, and the machine's CPU time stolen by its hypervisor meanwhile.
struct CpuMeter {
    start: Instant,
    server: f64,
    threads: Threads,
    bench: f64,
    machine: (u64, u64),
}

impl CpuMeter {
    fn start(server: &Server) -> Self {
        Self {
            start: Instant::now(),
            server: server.cpu_seconds(),
            threads: server.thread_seconds(),
            bench: cpu_seconds("/proc/self/stat"),
            machine: machine_ticks(),
        }
    }

    fn report(&self, server: &Server) -> serde_json::Value {
        let wall = self.start.elapsed().as_secs_f64().max(1e-9);
        json!({
            "server_cpu_pct": round((server.cpu_seconds() - self.server) / wall * 100.0),
            "server_threads": thread_split(&self.threads, &server.thread_seconds(), wall),
            "bench_cpu_pct": round((cpu_seconds("/proc/self/stat") - self.bench) / wall * 100.0),
            "machine_steal_pct": steal_pct(self.machine),
        })
    }
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn histogram() -> Histogram<u64> {
    // 1 µs to 60 s, 3 significant digits; values are microseconds.
    Histogram::new_with_bounds(1, 60_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()))
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    round(h.value_at_quantile(q) as f64 / 1_000.0 * 100.0) / 100.0
}

async fn connect(endpoint: &Endpoint) -> anyhow::Result<(Sink, Source)> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = endpoint.url.as_str().into_client_request()?;
    request.headers_mut().insert("cookie", endpoint.cookie.parse()?);
    // As browsers do: no Nagle delay on small frames.
    let (ws, _) =
        tokio_tungstenite::connect_async_with_config(request, None, std::env::var_os("BENCH_NAGLE").is_none())
            .await
            .with_context(|| format!("Failed to connect to {}", endpoint.url))?;
    Ok(ws.split())
}

/// The token the bench's servers want for `/metrics`.
const BENCH_METRICS_TOKEN: &str = "bench-metrics-token";

/// One counter of the node's `/metrics` (a plain HTTP/1.1 GET), summed over its labels.
async fn metric(endpoint: &Endpoint, name: &str) -> Option<f64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = endpoint.url.strip_prefix("ws://")?.split('/').next()?.to_owned();
    let mut stream = TcpStream::connect(&host).await.ok()?;
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {BENCH_METRICS_TOKEN}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).await.ok()?;
    let values: Vec<f64> = text
        .lines()
        .filter(|line| line.starts_with(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse().ok())
        .collect();
    Some(values.iter().fold(0.0, |sum, v| sum + v))
}

/// The server's socket writes and the frames they carried, so far (`None` if unread).
async fn socket_writes(server: &Server) -> Option<(f64, f64)> {
    let endpoint = server.ws(0);
    Some((
        metric(endpoint, "parley_socket_writes_total").await?,
        metric(endpoint, "parley_socket_frames_total").await?,
    ))
}

/// Frames per socket write between two readings: 1 when every frame took a system call
/// of its own (the server coalesces the frames ready together).
fn frames_per_write(before: Option<(f64, f64)>, after: Option<(f64, f64)>) -> Option<f64> {
    let ((writes_0, frames_0), (writes_1, frames_1)) = (before?, after?);
    let writes = writes_1 - writes_0;
    (writes > 0.0).then(|| ((frames_1 - frames_0) / writes * 100.0).round() / 100.0)
}

/// The event store writer's time in its batches so far, its batches, and the events it
/// appended (node 0's `/metrics`; `None` if unread).
async fn writer_load(server: &Server) -> Option<WriterLoad> {
    let endpoint = server.ws(0);
    Some(WriterLoad {
        seconds: metric(endpoint, "parley_append_batch_seconds_sum").await?,
        batches: metric(endpoint, "parley_append_batch_seconds_count").await?,
        rows: metric(endpoint, "parley_events_appended_total").await?,
    })
}

/// A reading of [`writer_load`].
#[derive(Clone, Copy, Debug, PartialEq)]
struct WriterLoad {
    seconds: f64,
    batches: f64,
    rows: f64,
}

/// How busy the writer's chain was between two readings `wall` seconds apart (in % of
/// the time: near 100 it takes as many rows as it can, and any slower minute queues), and
/// its batches' mean size; `null`s if a reading is missing or nothing was written.
fn writer_busy(before: Option<WriterLoad>, after: Option<WriterLoad>, wall: f64) -> serde_json::Value {
    let figures = before.zip(after).and_then(|(before, after)| {
        let batches = after.batches - before.batches;
        (batches > 0.0).then(|| {
            (
                round((after.seconds - before.seconds) / wall.max(1e-9) * 100.0),
                round((after.rows - before.rows) / batches),
            )
        })
    });
    json!({
        "writer_busy_pct": figures.map(|(busy, _)| busy),
        "rows_per_batch": figures.map(|(_, rows)| rows),
    })
}

/// A socket whose receive buffer is as small as the kernel allows (a few KB), so that a
/// client that stops reading stalls the server's sends within a few frames, not megabytes.
async fn connect_small_window(endpoint: &Endpoint) -> anyhow::Result<(Sink, Source)> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = endpoint.url.as_str().into_client_request()?;
    request.headers_mut().insert("cookie", endpoint.cookie.parse()?);
    let host = request
        .uri()
        .authority()
        .context("no host in the socket URL")?
        .to_string();
    let addr: std::net::SocketAddr = host.parse()?;
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4_096)?;
    let stream = socket.connect(addr).await?;
    let (ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await?;
    Ok(ws.split())
}

fn post_frame(channel: ChannelId, body: String) -> (MessageId, Message) {
    let message_id = MessageId::new();
    let frame = ClientFrame::Post {
        attachments: Vec::new(),
        reply_to: None,
        also_in_channel: false,
        channel,
        message_id,
        body,
    };
    (message_id, Message::text(frame.to_json()))
}

/// Subscribes and reads until caught up; returns the stream.
async fn subscribe(sink: &mut Sink, source: &mut Source, channel: ChannelId, after: Position) -> anyhow::Result<u64> {
    sink.send(Message::text(
        ClientFrame::Subscribe { channel, after, id: 0 }.to_json(),
    ))
    .await?;
    let mut events = 0;
    while let Some(message) = source.next().await {
        if let Message::Text(text) = message? {
            if text.starts_with(r#"{"t":"event""#) {
                events += 1;
            } else if text.starts_with(r#"{"t":"caught_up""#) {
                return Ok(events);
            }
        }
    }
    bail!("socket closed before catching up")
}

/// The send time (µs since `epoch`) a benchmark body carries: "t=<µs>;...".
fn sent_at(text: &str) -> Option<u64> {
    let at = text.find("t=")? + 2;
    let end = text[at..].find(';')? + at;
    text[at..end].parse().ok()
}

// ---------------------------------------------------------------- scenarios

fn wasm(path: &PathBuf) -> anyhow::Result<serde_json::Value> {
    let brotli = |raw: &[u8]| -> anyhow::Result<usize> {
        let mut compressed = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &raw[..], &mut compressed, &params)?;
        Ok(compressed.len())
    };
    let kb = |bytes: usize| round(bytes as f64 / 1024.0);
    // The package folder: its main module (parley.<hash>.wasm), and the pieces that load
    // when a part of the app is first opened (split_<part>.<hash>.wasm, chunk_<n>.<hash>.wasm).
    let (path, pieces) = if path.is_dir() {
        let files: Vec<PathBuf> = std::fs::read_dir(path)?
            .flatten()
            .map(|entry| entry.path())
            .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
            .collect();
        let named = |p: &PathBuf, prefix: &str| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix));
        let main = files
            .iter()
            .find(|p| named(p, "parley"))
            .cloned()
            .with_context(|| format!("No parley*.wasm in {} (.ci/build --release)", path.display()))?;
        let pieces: Vec<PathBuf> = files.into_iter().filter(|p| !named(p, "parley")).collect();
        (main, pieces)
    } else {
        (path.clone(), Vec::new())
    };
    let raw =
        std::fs::read(&path).with_context(|| format!("Failed to read {} (.ci/build --release)", path.display()))?;
    let mut sizes = Vec::new();
    for piece in &pieces {
        let name = piece
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        sizes.push((name, brotli(&std::fs::read(piece)?)?));
    }
    sizes.sort_by_key(|(_, size)| std::cmp::Reverse(*size));
    // What the server sends to a browser that accepts brotli (the build's own copy).
    let served = std::fs::metadata(format!("{}.br", path.display()))
        .ok()
        .map(|m| round(m.len() as f64 / 1024.0));
    Ok(json!({
        "scenario": "wasm", "file": path.display().to_string(),
        "raw_kb": kb(raw.len()), "brotli_kb": kb(brotli(&raw)?),
        "served_brotli_kb": served,
        "goal_brotli_kb": 300,
        "pieces_on_demand": sizes.len(),
        "pieces_brotli_kb": kb(sizes.iter().map(|(_, size)| size).sum()),
        "largest_pieces_brotli_kb": sizes.iter().take(5).map(|(name, size)| json!([name, kb(*size)])).collect::<Vec<_>>(),
    }))
}

/// Many sockets posting as fast as acks come back: durable acknowledged messages per second.
async fn throughput(server: &Server, scale: f64) -> anyhow::Result<serde_json::Value> {
    let connections = ((32.0 * scale) as usize).max(1);
    let window = 256;
    let duration = Duration::from_secs_f64((5.0 * scale).max(1.0));
    let cpu = CpuMeter::start(server);
    let acked = Arc::new(AtomicU64::new(0));
    // Every socket connects before the clock starts: the figure is posting, not handshakes.
    let mut sockets = Vec::with_capacity(connections);
    for _ in 0..connections {
        sockets.push(connect(server.ws(sockets.len())).await?);
    }
    let writer_before = writer_load(server).await;
    let epoch = Instant::now();
    let deadline = epoch + duration;
    let mut tasks = Vec::new();
    for (c, (mut sink, mut source)) in sockets.into_iter().enumerate() {
        let channel = server.channels[c % server.channels.len()];
        let (acked, permits) = (acked.clone(), Arc::new(Semaphore::new(window)));
        let reader_permits = permits.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(Message::Text(text))) = source.next().await {
                if let Ok(ServerFrame::Rejected { error, .. }) = ServerFrame::parse(&text) {
                    eprintln!("rejected: {error}");
                }
                if text.starts_with(r#"{"t":"ack""#) {
                    acked.fetch_add(1, Ordering::Relaxed);
                    reader_permits.add_permits(1);
                }
            }
        });
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let Ok(permit) = permits.acquire().await else { break };
                permit.forget();
                let (_, frame) = post_frame(channel, format!("t={};throughput", epoch.elapsed().as_micros()));
                if sink.send(frame).await.is_err() {
                    break;
                }
            }
            // Let the last acks in.
            let _ = permits.acquire_many(window as u32).await;
            reader.abort();
        }));
    }
    for task in tasks {
        let _ = tokio::time::timeout(duration + Duration::from_secs(10), task).await;
    }
    let elapsed = epoch.elapsed().as_secs_f64();
    let writer_report = writer_busy(writer_before, writer_load(server).await, elapsed);
    let acked = acked.load(Ordering::Relaxed);
    let mut report = json!({
        "scenario": "throughput", "connections": connections, "window_per_connection": window,
        "acked": acked, "seconds": round(elapsed), "acked_per_s": (acked as f64 / elapsed).round(),
        "goal_acked_per_s": 25_000,
    });
    merge(&mut report, cpu.report(server));
    merge(&mut report, writer_report);
    Ok(report)
}

/// A client this many events behind: time from subscribe to caught up.
async fn catchup(server: &Server, scale: f64) -> anyhow::Result<serde_json::Value> {
    let events = ((10_000.0 * scale) as usize).max(10);
    let (mut sink, mut source) = connect(server.ws(0)).await?;
    // Fill the channel, pipelined with a window (a client that never reads its acks
    // stalls its own socket), then wait for every ack.
    let channel = server.catchup;
    let window = Arc::new(Semaphore::new(256));
    let sender_window = window.clone();
    let sender = tokio::spawn(async move {
        for i in 0..events {
            let Ok(permit) = sender_window.acquire().await else {
                break;
            };
            permit.forget();
            let (_, frame) = post_frame(channel, format!("catch-up {i}"));
            if sink.send(frame).await.is_err() {
                break;
            }
        }
        sink
    });
    let mut acks = 0;
    while acks < events {
        match source.next().await {
            Some(Ok(Message::Text(text))) if text.starts_with(r#"{"t":"ack""#) => {
                acks += 1;
                window.add_permits(1);
            }
            Some(Ok(_)) => {}
            _ => bail!("socket closed while filling the channel"),
        }
    }
    let _ = sender.await;
    tokio::time::sleep(Duration::from_millis(500)).await; // let the projector catch up
    let (mut sink, mut source) = connect(server.ws(0)).await?;
    let started = Instant::now();
    let received = subscribe(&mut sink, &mut source, server.catchup, Position::ZERO).await?;
    let elapsed = started.elapsed();
    Ok(json!({
        "scenario": "catchup", "events_behind": events, "events_received": received,
        "ms_to_caught_up": round(elapsed.as_secs_f64() * 1_000.0), "goal_ms": 500,
    }))
}

/// One channel, many subscribers, a burst of messages: deliveries per second and latency.
async fn fanout(server: &Server, scale: f64) -> anyhow::Result<serde_json::Value> {
    let subscribers = ((5_000.0 * scale) as usize).max(10);
    let messages = ((200.0 * scale) as usize).max(10);
    let epoch = Instant::now();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Histogram<u64>>();
    let connected = Arc::new(Semaphore::new(256));
    let mut readers = Vec::new();
    for _ in 0..subscribers {
        let permit = connected.clone().acquire_owned().await?;
        let (mut sink, mut source) = connect(server.ws(0)).await?;
        subscribe(&mut sink, &mut source, server.fanout, Position::ZERO).await?;
        drop(permit);
        let done = done_tx.clone();
        readers.push(tokio::spawn(async move {
            let _keep = sink;
            let mut latencies = histogram();
            let mut got = 0;
            while got < messages {
                match source.next().await {
                    Some(Ok(Message::Text(text))) => {
                        if let Some(sent) = sent_at(&text) {
                            let now = epoch.elapsed().as_micros() as u64;
                            let _ = latencies.record(now.saturating_sub(sent).max(1));
                            got += 1;
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                }
            }
            let _ = done.send(latencies);
        }));
    }
    drop(done_tx);
    let cpu = CpuMeter::start(server);
    let (mut sink, _source) = connect(server.ws(0)).await?;
    let started = Instant::now();
    for i in 0..messages {
        let (_, frame) = post_frame(server.fanout, format!("t={};fan-out {i}", epoch.elapsed().as_micros()));
        sink.send(frame).await?;
    }
    let mut all = histogram();
    let mut finished = 0;
    while let Ok(Some(latencies)) = tokio::time::timeout(Duration::from_secs(60), done_rx.recv()).await {
        all.add(&latencies).ok();
        finished += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let deliveries = all.len();
    let mut report = json!({
        "scenario": "fanout", "subscribers": subscribers, "messages": messages,
        "deliveries": deliveries, "expected": subscribers * messages, "subscribers_done": finished,
        "seconds": round(elapsed), "deliveries_per_s": (deliveries as f64 / elapsed).round(),
        "p50_ms": ms(&all, 0.5), "p99_ms": ms(&all, 0.99), "max_ms": round(all.max() as f64 / 1_000.0),
        "goal_deliveries_per_s": 100_000,
    });
    merge(&mut report, cpu.report(server));
    for reader in readers {
        reader.abort();
    }
    Ok(report)
}

/// 1,000 clients in 100 channels, 2,000 messages/s offered: send→receive latency, losses.
/// The offered load of a steady-chat run (before `--scale`).
struct Load<'a> {
    name: &'static str,
    clients: f64,
    per_s: f64,
    channels: &'a [ChannelId],
}

impl<'a> Load<'a> {
    /// 1,000 clients in the 100 steady channels, 2,000 messages/s.
    fn steady(name: &'static str, server: &'a Server) -> Self {
        Self {
            name,
            clients: 1_000.0,
            per_s: 2_000.0,
            channels: &server.channels,
        }
    }
}

async fn steady(server: &Server, scale: f64) -> anyhow::Result<serde_json::Value> {
    steady_beside_stalled(server, scale, 0, Load::steady("steady", server)).await
}

/// Two clients per channel, as in direct conversations, at four times `steady`'s rate.
async fn pairs(server: &Server, scale: f64) -> anyhow::Result<serde_json::Value> {
    let load = Load {
        name: "pairs",
        clients: 2.0 * PAIR_CHANNELS as f64,
        per_s: 8_000.0,
        channels: &server.pair_channels,
    };
    steady_beside_stalled(server, scale, 0, load).await
}

/// Steady chat while `stalled` more sockets, one per channel in turn, subscribe and then
/// never read again: the healthy clients' latency, and the server's memory, with them there.
async fn stalled(server: &Server, scale: f64) -> anyhow::Result<serde_json::Value> {
    steady_beside_stalled(server, scale, server.channels.len(), Load::steady("stalled", server)).await
}

async fn steady_beside_stalled(
    server: &Server,
    scale: f64,
    stalled: usize,
    load: Load<'_>,
) -> anyhow::Result<serde_json::Value> {
    // Sockets that stop reading once caught up; kept open (and unread) until the end.
    let mut stalled_sockets = Vec::with_capacity(stalled);
    for s in 0..stalled {
        let (mut sink, mut source) = connect_small_window(server.ws(s)).await?;
        subscribe(
            &mut sink,
            &mut source,
            server.channels[s % server.channels.len()],
            Position::ZERO,
        )
        .await?;
        stalled_sockets.push((sink, source));
    }
    let rss_before_kb = server.rss_kb();
    let channels = load.channels;
    let clients = ((load.clients * scale) as usize).max(channels.len().min(10));
    let rate = (load.per_s * scale).max(10.0);
    let duration = Duration::from_secs_f64((10.0 * scale).max(2.0));
    let epoch = Instant::now();
    let received = Arc::new(AtomicU64::new(0));
    // Readers stop together, a grace period after the last message is offered.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (lat_tx, mut lat_rx) = mpsc::unbounded_channel::<Histogram<u64>>();
    let mut senders = Vec::new();
    let mut readers = Vec::new();
    let mut per_channel = vec![0usize; channels.len()];
    for c in 0..clients {
        let channel_index = c % channels.len();
        per_channel[channel_index] += 1;
        let (mut sink, mut source) = connect(server.ws(c)).await?;
        subscribe(&mut sink, &mut source, channels[channel_index], Position::ZERO).await?;
        let (tx, mut rx) = mpsc::channel::<Message>(1_024);
        senders.push((channel_index, tx));
        tokio::spawn(async move {
            while let Some(frame) = rx.recv().await {
                if sink.send(frame).await.is_err() {
                    break;
                }
            }
        });
        let (received, lat_tx, mut stop) = (received.clone(), lat_tx.clone(), stop_rx.clone());
        readers.push(tokio::spawn(async move {
            let mut latencies = histogram();
            loop {
                tokio::select! {
                    message = source.next() => match message {
                        // Only this scenario's messages (an earlier one's may still be arriving).
                        Some(Ok(Message::Text(text)))
                            if text.starts_with(r#"{"t":"event""#) && text.contains(";steady") =>
                        {
                            if let Some(sent) = sent_at(&text) {
                                let now = epoch.elapsed().as_micros() as u64;
                                let _ = latencies.record(now.saturating_sub(sent).max(1));
                                received.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Some(Ok(_)) => {}
                        _ => break,
                    },
                    _ = stop.wait_for(|stop| *stop) => break,
                }
            }
            let _ = lat_tx.send(latencies);
        }));
    }
    drop(lat_tx);
    let writes_before = socket_writes(server).await;
    let writer_before = writer_load(server).await;
    let cpu = CpuMeter::start(server);
    // Offer `rate` messages per second from the clients in turn, in slices (`--slice-ms`).
    let started = Instant::now();
    let mut sent = 0u64;
    let mut expected = 0u64;
    let slice_ms = SLICE_MS.load(Ordering::Relaxed);
    let mut tick = tokio::time::interval(Duration::from_millis(slice_ms));
    let mut next = 0usize;
    while started.elapsed() < duration {
        tick.tick().await;
        let due = (started.elapsed().as_secs_f64() * rate) as u64;
        while sent < due {
            let (channel_index, tx) = &senders[next % senders.len()];
            next += 1;
            let body = format!("t={};steady", epoch.elapsed().as_micros());
            let (_, frame) = post_frame(channels[*channel_index], body);
            if tx.try_send(frame).is_ok() {
                expected += per_channel[*channel_index] as u64;
            }
            sent += 1;
        }
    }
    let cpu_report = cpu.report(server);
    let writer_report = writer_busy(
        writer_before,
        writer_load(server).await,
        started.elapsed().as_secs_f64(),
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop_tx.send(true);
    let mut all = histogram();
    while let Some(latencies) = lat_rx.recv().await {
        all.add(&latencies).ok();
    }
    let received = received.load(Ordering::Relaxed);
    let rss_after_kb = server.rss_kb();
    let resyncs = metric(server.ws(0), "parley_slow_client_resyncs_total").await;
    let frames_per_write = frames_per_write(writes_before, socket_writes(server).await);
    let scenario = load.name;
    let mut report = json!({
        "scenario": scenario, "stalled_sockets": stalled, "rss_before_kb": rss_before_kb,
        "rss_after_kb": rss_after_kb, "slow_client_resyncs": resyncs, "frames_per_write": frames_per_write, "clients": clients, "channels": channels.len(), "offered_per_s": rate,
        "seconds": round(duration.as_secs_f64()), "slice_ms": slice_ms, "sent": sent, "deliveries_expected": expected,
        "deliveries": received, "lost": expected.saturating_sub(received),
        "p50_ms": ms(&all, 0.5), "p99_ms": ms(&all, 0.99), "max_ms": round(all.max() as f64 / 1_000.0),
        "goal": {"p50_ms": 5, "p99_ms": 25, "lost": 0},
    });
    merge(&mut report, cpu_report);
    merge(&mut report, writer_report);
    for reader in readers {
        reader.abort();
    }
    Ok(report)
}

/// Many connected, subscribed, idle sockets: the server's memory per connection.
async fn idle(server: &Server, scale: f64) -> anyhow::Result<serde_json::Value> {
    // 20,000 asked for; this machine allows 20,000 open files per process on each side.
    let target = ((19_000.0 * scale) as usize).max(10);
    let before = server.rss_kb();
    let mut sockets = Vec::with_capacity(target);
    let mut failed = None;
    for _ in 0..target {
        match connect(server.ws(0)).await {
            Ok((mut sink, mut source)) => {
                if let Err(e) = subscribe(&mut sink, &mut source, ChannelId::GENERAL, Position::ZERO).await {
                    failed = Some(e.to_string());
                    break;
                }
                sockets.push((sink, source));
            }
            Err(e) => {
                failed = Some(format!("{e:#}"));
                break;
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.rss_kb();
    let connected = sockets.len();
    Ok(json!({
        "scenario": "idle", "connections": connected, "asked": target, "stopped_by": failed,
        "server_rss_mb_before": round(before as f64 / 1024.0), "server_rss_mb_after": round(after as f64 / 1024.0),
        "kb_per_connection": round((after.saturating_sub(before)) as f64 / connected.max(1) as f64),
        "goal_kb_per_connection": 20,
    }))
}

/// Rebuilding the read models from position 0, with the server's own subcommand, and where
/// its CPU went, thread by thread (`server_threads`). `PARLEY_BENCH_KEEP_DB=DIR` copies the
/// filled SQLite database there first, to time rebuilds of one log by hand.
fn rebuild(server: &mut Server) -> anyhow::Result<serde_json::Value> {
    server.stop();
    if let (Some(keep), Some(file)) = (
        std::env::var_os("PARLEY_BENCH_KEEP_DB"),
        server.database_url.strip_prefix("sqlite://"),
    ) {
        std::fs::create_dir_all(&keep)?;
        for suffix in ["", "-wal"] {
            let from = PathBuf::from(format!("{file}{suffix}"));
            if from.exists() {
                std::fs::copy(&from, PathBuf::from(&keep).join(format!("bench.db{suffix}")))?;
            }
        }
    }
    let started = Instant::now();
    let machine = machine_ticks();
    let mut child = Command::new(&server.bin)
        .args(["--database-url", &server.database_url, "rebuild-projections"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Its output is read beside it (a full pipe would stop it), and its threads until it
    // exits: each thread's last reading is its total (within the 50 ms between readings),
    // including the threads that end before the process.
    let read_all = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = read_all(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let stderr = read_all(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let mut threads = Threads::new();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        threads.extend(process_threads(child.id()));
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = started.elapsed().as_secs_f64();
    let text = stdout.join().unwrap_or_default();
    let events: u64 = text.split_whitespace().last().and_then(|n| n.parse().ok()).unwrap_or(0);
    if !status.success() {
        bail!("rebuild failed: {}", stderr.join().unwrap_or_default());
    }
    Ok(json!({
        "scenario": "rebuild", "events": events, "seconds_including_process_start": round(elapsed),
        "events_per_s": (events as f64 / elapsed).round(), "goal_events_per_s": 100_000,
        "machine_steal_pct": steal_pct(machine),
        // The busiest `sqlx-sqlite-wor` is the projector's connection, which writes the
        // read models; the others read the log.
        "server_threads": thread_split(&Threads::new(), &threads, elapsed),
    }))
}

/// One topic schema of the scenario: its name, the schema, and the event it gets (made to
/// be as large as the schema allows, in bytes of JSON).
type TopicCase = (&'static str, serde_json::Value, fn(usize) -> serde_json::Value);

/// An array of as many copies of `item` as fit in `bytes` of JSON.
fn filled(bytes: usize, item: serde_json::Value) -> serde_json::Value {
    let each = item.to_string().len() + 1;
    serde_json::Value::Array(vec![item; bytes.saturating_sub(2) / each])
}

/// Schemas at each of the bounds `parley::topic_schema` sets, and one past them: for each,
/// whether the server made the topic, the largest event it takes, and what publishing that
/// event 20 times took (answer time, and the server's CPU per publish).
async fn topics(server: &Server) -> anyhow::Result<serde_json::Value> {
    let (space, token) = server.topics.clone().context("no space for topics")?;
    let http = reqwest::Client::new();
    let base = format!("{}/api/v1/spaces/{space}/topics", server.http());
    let branches = |n: usize, branch: serde_json::Value| json!({ "items": { "$ref": "#" }, "allOf": vec![branch; n] });
    let patterns: Vec<serde_json::Value> = (0..32)
        .map(|i| json!({ "pattern": format!("\\w{{{}}}\\W", i + 3) }))
        .collect();
    let values: Vec<u32> = (1..=900).collect();
    let cases: Vec<TopicCase> = vec![
        ("none", serde_json::Value::Null, |n| filled(n, json!(0))),
        (
            "deploy",
            json!({ "type": "array", "items": { "type": "object", "required": ["service"],
            "properties": { "service": { "type": "string", "pattern": "^[a-z-]+$" }, "version": { "type": "string" } } } }),
            |n| filled(n, json!({ "service": "api", "version": "1.2.0" })),
        ),
        ("120 branches on every item", branches(120, json!({})), |n| {
            filled(n, json!(0))
        }),
        (
            "500 branches on every item",
            branches(500, json!({ "minimum": -1 })),
            |n| filled(n, json!(0)),
        ),
        (
            "30 two-way branches on every item",
            branches(30, json!({ "anyOf": [{ "type": "string" }, { "type": "integer" }] })),
            |n| filled(n, json!(0)),
        ),
        (
            "32 Unicode patterns on every item",
            json!({ "items": { "$ref": "#" }, "allOf": patterns }),
            |n| filled(n, json!("aaaaa")),
        ),
        (
            "enum of 900 on every item",
            json!({ "items": { "enum": values } }),
            |n| filled(n, json!(0)),
        ),
        (
            "uniqueItems at every level",
            json!({ "items": { "$ref": "#" }, "uniqueItems": true }),
            |n| {
                let mut tree = json!(0);
                loop {
                    // Two different items at each level: every level hashes all below it.
                    let next = json!([tree.clone(), [tree]]);
                    if next.to_string().len() > n {
                        return tree;
                    }
                    tree = next;
                }
            },
        ),
        (
            "two ways back to the root",
            json!({ "items": { "anyOf": [{ "$ref": "#" }, { "$ref": "#" }] } }),
            |n| filled(n, json!(0)),
        ),
    ];
    let mut reports = Vec::new();
    for (i, (name, schema, event)) in cases.into_iter().enumerate() {
        let topic = format!("bench-{i}");
        let mut made = json!({ "name": topic });
        if !schema.is_null() {
            made["schema"] = schema.clone();
        }
        let answer = http.post(&base).bearer_auth(&token).json(&made).send().await?;
        if answer.status().as_u16() != 201 {
            let why: serde_json::Value = answer.json().await.unwrap_or_default();
            reports.push(json!({ "schema": name, "refused": why["error"]["message"] }));
            continue;
        }
        let cost = if schema.is_null() {
            0
        } else {
            parley::topic_schema::cost(&schema).unwrap_or(0)
        };
        let largest = parley::topic_schema::max_event_bytes(cost);
        let data = event(largest);
        let body = json!({ "data": data });
        let bytes = data.to_string().len();
        let mut times = Vec::new();
        let mut statuses = Vec::new();
        let cpu_before = server.cpu_seconds();
        const PUBLISHES: u32 = 20;
        for _ in 0..PUBLISHES {
            let started = Instant::now();
            let answer = http
                .post(format!("{base}/{topic}/events"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await?;
            statuses.push(answer.status().as_u16());
            let _ = answer.bytes().await?;
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        let cpu_ms = (server.cpu_seconds() - cpu_before) * 1e3 / f64::from(PUBLISHES);
        times.sort_by(f64::total_cmp);
        statuses.dedup();
        reports.push(json!({
            "schema": name, "steps_per_value": cost, "largest_event_bytes": largest, "event_bytes": bytes,
            "answers": statuses, "p50_ms": round(times[times.len() / 2]), "max_ms": round(times[times.len() - 1]),
            "server_cpu_ms_per_publish": round(cpu_ms),
        }));
    }
    Ok(json!({ "scenario": "topics", "step_budget": parley::topic_schema::STEP_BUDGET, "cases": reports }))
}

fn merge(report: &mut serde_json::Value, extra: serde_json::Value) {
    if let (Some(report), serde_json::Value::Object(extra)) = (report.as_object_mut(), extra) {
        report.extend(extra);
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    SLICE_MS.store(cli.slice_ms, Ordering::Relaxed);
    // "All" is one node on SQLite; the cluster scenario needs a PostgreSQL server.
    let run = |s: Scenario| cli.scenario == Scenario::All || cli.scenario == s;
    if run(Scenario::Wasm) {
        match wasm(&cli.wasm) {
            Ok(report) => println!("{report}"),
            Err(e) => println!("{}", json!({"scenario": "wasm", "error": format!("{e:#}")})),
        }
    }
    if cli.scenario == Scenario::Wasm {
        return Ok(());
    }
    if cli.scenario == Scenario::Cluster {
        let Some(postgres) = cli.postgres.as_deref() else {
            bail!("the cluster scenario needs --postgres (start one with .ci/postgres)");
        };
        for nodes in 1..=3 {
            let server = Server::start(cli.server_bin.clone(), Some(postgres), nodes, 0, false).await?;
            let burst = throughput(&server, cli.scale).await;
            // Let every node hand out the burst before measuring latency.
            tokio::time::sleep(Duration::from_secs(3)).await;
            for report in [burst, steady(&server, cli.scale).await] {
                match report {
                    Ok(mut report) => {
                        merge(&mut report, json!({"nodes": nodes, "database": "postgres"}));
                        println!("{report}");
                    }
                    Err(e) => println!(
                        "{}",
                        json!({"scenario": "cluster", "nodes": nodes, "error": format!("{e:#}")})
                    ),
                }
            }
        }
        return Ok(());
    }
    if cli.scenario == Scenario::Topics {
        let server = Server::start(cli.server_bin.clone(), None, 1, 0, true).await?;
        match topics(&server).await {
            Ok(report) => println!("{report}"),
            Err(e) => println!("{}", json!({"scenario": "topics", "error": format!("{e:#}")})),
        }
        return Ok(());
    }
    let pairs_run = matches!(cli.scenario, Scenario::All | Scenario::Pairs);
    let mut server = Server::start(
        cli.server_bin.clone(),
        None,
        1,
        if pairs_run { PAIR_CHANNELS } else { 0 },
        false,
    )
    .await?;
    let scale = cli.scale;
    let print = |report: anyhow::Result<serde_json::Value>, name: &str| match report {
        Ok(report) => println!("{report}"),
        Err(e) => println!("{}", json!({"scenario": name, "error": format!("{e:#}")})),
    };
    if run(Scenario::Throughput) {
        print(throughput(&server, scale).await, "throughput");
    }
    if run(Scenario::Catchup) {
        print(catchup(&server, scale).await, "catchup");
    }
    if run(Scenario::Fanout) {
        print(fanout(&server, scale).await, "fanout");
    }
    if run(Scenario::Steady) {
        print(steady(&server, scale).await, "steady");
    }
    if run(Scenario::Pairs) {
        print(pairs(&server, scale).await, "pairs");
    }
    if run(Scenario::Stalled) {
        print(stalled(&server, scale).await, "stalled");
    }
    if run(Scenario::Idle) {
        print(idle(&server, scale).await, "idle");
    }
    if run(Scenario::Rebuild) {
        if cli.scenario == Scenario::Rebuild {
            // Alone, the log would be nearly empty: fill it as the throughput scenario does.
            throughput(&server, scale).await?;
        }
        print(rebuild(&mut server), "rebuild");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{
        ThreadTime, Threads, WriterLoad, cpu_line_ticks, frames_per_write, process_threads, schedstat_waited,
        thread_split, thread_stat, writer_busy,
    };
    use serde_json::json;

    #[test]
    fn frames_per_write_is_the_frames_between_two_readings_over_the_writes() {
        // 40 writes carried 46 frames between the readings.
        assert_eq!(frames_per_write(Some((10.0, 12.0)), Some((50.0, 58.0))), Some(1.15));
        // No write between them, or a reading missing: no figure.
        assert_eq!(frames_per_write(Some((10.0, 12.0)), Some((10.0, 12.0))), None);
        assert_eq!(frames_per_write(None, Some((50.0, 58.0))), None);
    }

    #[test]
    fn a_thread_stat_line_gives_its_name_and_cpu_seconds() {
        // utime 250 and stime 50 ticks (fields 14 and 15) at 100 ticks a second.
        let line = "4242 (sqlx-sqlite-wor) S 4200 4200 17 0 -1 4194368 91 0 0 0 250 50 0 0 20 0 40 0";
        assert_eq!(thread_stat(line), Some(("sqlx-sqlite-wor".to_owned(), 3.0)));
        // A name may hold parentheses and spaces.
        let line = "7 (a (b) c) R 1 1 1 0 -1 0 0 0 0 0 100 0 0 0 20 0 1 0";
        assert_eq!(thread_stat(line), Some(("a (b) c".to_owned(), 1.0)));
        assert_eq!(thread_stat("7 (cut short) R 1 1"), None);
        assert_eq!(thread_stat("no name at all"), None);
    }

    #[test]
    fn the_server_cpu_is_split_by_thread_name_busiest_first() {
        let thread = |name: &str, cpu: f64, waited: f64| ThreadTime {
            name: name.to_owned(),
            cpu,
            waited,
        };
        let before: Threads = [
            ((1, 1), thread("main", 1.0, 0.0)),
            ((1, 2), thread("tokio-rt-worker", 10.0, 4.0)),
            ((1, 3), thread("tokio-rt-worker", 10.0, 4.0)),
            ((1, 4), thread("sqlx-sqlite-wor", 5.0, 1.0)),
        ]
        .into();
        let after: Threads = [
            ((1, 1), thread("main", 1.001, 0.0)),
            ((1, 2), thread("tokio-rt-worker", 11.0, 5.2)),
            ((1, 3), thread("tokio-rt-worker", 10.5, 4.4)),
            ((1, 4), thread("sqlx-sqlite-wor", 5.2, 1.1)),
            // Started meanwhile: counts from zero.
            ((1, 5), thread("sqlx-sqlite-wor", 0.6, 0.5)),
        ]
        .into();
        assert_eq!(
            thread_split(&before, &after, 2.0),
            vec![
                json!({"name": "tokio-rt-worker", "cpu_pct": 75.0, "threads": 2, "busiest_pct": 50.0,
                       "waited_pct": 80.0, "busiest_waited_pct": 60.0}),
                json!({"name": "sqlx-sqlite-wor", "cpu_pct": 40.0, "threads": 2, "busiest_pct": 30.0,
                       "waited_pct": 30.0, "busiest_waited_pct": 25.0}),
            ]
        );
    }

    #[test]
    fn the_threads_of_a_process_are_read_by_name_and_a_gone_process_has_none() {
        let pid = std::process::id();
        let worker = std::thread::Builder::new()
            .name("bench-probe".into())
            .spawn(move || process_threads(pid))
            .expect("a thread");
        let threads = worker.join().expect("the reading");
        // The reading thread saw itself among this process's threads, under its name.
        let probe: Vec<&ThreadTime> = threads.values().filter(|t| t.name == "bench-probe").collect();
        assert_eq!(probe.len(), 1, "{threads:?}");
        assert!(probe[0].cpu >= 0.0 && probe[0].waited >= 0.0);
        assert!(threads.keys().all(|(of, _)| *of == pid));
        // Linux's largest process id is below this one.
        assert!(process_threads(u32::MAX).is_empty());
    }

    #[test]
    fn a_schedstat_line_gives_the_seconds_waited_for_a_core() {
        // 3 s on a core, 1.5 s waiting on the run queue, 812 time slices.
        assert_eq!(schedstat_waited("3000000000 1500000000 812\n"), Some(1.5));
        assert_eq!(schedstat_waited("3000000000"), None);
        assert_eq!(schedstat_waited("3000000000 soon 812"), None);
    }

    #[test]
    fn the_writer_is_as_busy_as_its_batches_took_of_the_time() {
        let load = |seconds: f64, batches: f64, rows: f64| Some(WriterLoad { seconds, batches, rows });
        // 1.8 s in 300 batches of 24,000 rows over 2 s.
        assert_eq!(
            writer_busy(load(1.0, 100.0, 1_000.0), load(2.8, 400.0, 25_000.0), 2.0),
            json!({"writer_busy_pct": 90.0, "rows_per_batch": 80.0})
        );
        // Nothing written between the readings, or a reading missing: no figure.
        let none = json!({"writer_busy_pct": null, "rows_per_batch": null});
        assert_eq!(
            writer_busy(load(1.0, 100.0, 1_000.0), load(1.0, 100.0, 1_000.0), 2.0),
            none
        );
        assert_eq!(writer_busy(None, load(2.8, 400.0, 25_000.0), 2.0), none);
    }

    #[test]
    fn the_machine_line_of_proc_stat_gives_all_ticks_and_the_stolen_ones() {
        let line = "cpu  10132153 290696 3084719 46828483 16683 0 25195 175628 0 0";
        assert_eq!(
            cpu_line_ticks(line),
            Some((
                10_132_153 + 290_696 + 3_084_719 + 46_828_483 + 16_683 + 25_195 + 175_628,
                175_628
            ))
        );
        // A core's own line, a short line or a word where a number goes: nothing.
        assert_eq!(cpu_line_ticks("cpu0 1 2 3 4 5 6 7 8"), None);
        assert_eq!(cpu_line_ticks("cpu 1 2 3"), None);
        assert_eq!(cpu_line_ticks("cpu 1 2 3 4 5 6 x 8"), None);
    }
}
