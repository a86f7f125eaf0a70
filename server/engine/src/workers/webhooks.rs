//! The webhook deliverer: sends each subscription the events it asked for, at least once
//! and in log order, from its own offset, each subscription in a task of its own (so a
//! receiver that never answers delays only itself); signs each body with a timestamp
//! (HMAC-SHA256 with the subscription's secret over `timestamp.body`); backs off
//! exponentially after a failure; parks a subscription (dead letter) after too many
//! failures on one event, until an admin retries or skips that event; and connects only to
//! public addresses, unless the operator allows more (checked on the address connected to).

use crate::engine::Engine;
use crate::log::store::now_ms;
use hmac::{Hmac, Mac};
use parley::outbound::OutboundPolicy;
use parley::{ChannelId, Event, Position, RecordedEvent, SpaceId};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How deliveries retry, and where they may go.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The wait after the first failure; it doubles after each next one.
    pub base_backoff_ms: u64,
    /// Failures on one event before the subscription is parked.
    pub max_attempts: u32,
    /// How long a receiver may take to answer.
    pub timeout: Duration,
    /// The addresses deliveries may connect to besides public ones.
    pub policy: Arc<OutboundPolicy>,
}

/// Events read from the log at a time.
const PAGE: u32 = 500;
/// The longest sleep between two looks, whatever happens.
const IDLE: Duration = Duration::from_secs(1);
/// The shortest time between two looks that new events bring about. A look is a query, and
/// under load the read models move with every batch the writer commits (hundreds a
/// second): new events wait at most this long for their webhooks.
const PACE: Duration = Duration::from_millis(100);
/// Subscriptions delivered to at once; the others wait for a free turn.
const CONCURRENT: usize = 32;
/// How far a receiver should accept a delivery's timestamp from its own clock (documented
/// for receivers: older ones may be replays of a captured delivery).
pub const TIMESTAMP_TOLERANCE_SECS: u64 = 300;

/// The signature header's value for a delivery sent at `timestamp` (Unix seconds):
/// `sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`. Signing the time with the
/// body lets a receiver refuse an old delivery replayed by whoever captured it.
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        digest.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// Resolves a receiver's host name and keeps only the addresses the policy allows, so
/// the connection is made to a checked address (a second lookup by the HTTP client could
/// answer differently: DNS rebinding).
struct FilteringResolver {
    policy: Arc<OutboundPolicy>,
}

impl reqwest::dns::Resolve for FilteringResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusal = None;
            let allowed: Vec<std::net::SocketAddr> = found
                .into_iter()
                .filter(|addr| match policy.check(&host, addr.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        refusal = Some(e);
                        false
                    }
                })
                .collect();
            match (allowed.is_empty(), refusal) {
                (true, Some(refusal)) => Err(refusal.into()),
                _ => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

/// The HTTP client deliveries use (see [`outbound_client`]).
fn http_client(settings: &Settings) -> reqwest::Result<reqwest::Client> {
    outbound_client(settings.policy.clone(), settings.timeout, "Parley-Webhooks/1")
}

/// An HTTP client for requests to URLs that space admins gave (webhooks, slash commands):
/// no redirects (each hop would need checking), no proxy, a timeout, and the filtering
/// resolver, so it connects only to addresses `policy` allows.
pub(crate) fn outbound_client(
    policy: Arc<OutboundPolicy>,
    timeout: Duration,
    agent: &'static str,
) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        // A proxy from the environment would connect on our behalf to whatever the URL
        // names, past the filter (which would then check only the proxy's address).
        .no_proxy()
        .dns_resolver(Arc::new(FilteringResolver { policy }))
        .user_agent(agent)
        .build()
}

/// Whether a delivery may go to `url`, as far as its text tells: a host that is an IP
/// address is checked here (no lookup happens for it); a name is checked on what it
/// resolves to, at connect time.
pub fn check_url(policy: &OutboundPolicy, url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let host = parsed.host_str().ok_or("the URL has no host")?;
    match host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        Ok(ip) => policy.check(host, ip).map_err(|e| e.to_string()),
        Err(_) => Ok(()),
    }
}

/// Starts the deliverer. With several nodes, only the one holding the webhook lease delivers.
pub fn spawn(engine: Arc<Engine>, db: &crate::db::Database, settings: Settings) -> JoinHandle<()> {
    let mut lease = crate::cluster::Lease::new(db, crate::cluster::WEBHOOK_LEASE);
    tokio::spawn(async move {
        let client = match http_client(&settings) {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(error = %e, "webhooks are off: no HTTP client");
                return;
            }
        };
        let mut projected = engine.hub().watch_projected();
        let mut closing = engine.closing();
        let finished = Arc::new(tokio::sync::Notify::new());
        // One task per subscription being delivered to now.
        let mut running: HashMap<String, JoinHandle<()>> = HashMap::new();
        let stop = |running: &mut HashMap<String, JoinHandle<()>>| running.drain().for_each(|(_, task)| task.abort());
        loop {
            running.retain(|_, task| !task.is_finished());
            if !lease.held().await {
                stop(&mut running);
                tokio::select! {
                    () = tokio::time::sleep(crate::cluster::POLL) => continue,
                    _ = closing.wait_for(|c| *c) => return,
                }
            }
            let pass = Pass {
                engine: &engine,
                client: &client,
                settings: &settings,
                finished: &finished,
            };
            let looked = tokio::time::Instant::now();
            let wait = match pass.start_due(&mut running).await {
                Ok(wait) => wait.unwrap_or(IDLE).min(IDLE),
                Err(e) => {
                    tracing::warn!(error = %e, "webhook delivery pass failed");
                    IDLE
                }
            };
            let new_events = tokio::select! {
                _ = projected.changed() => true,
                () = engine.hub().webhook_change() => false,
                () = finished.notified() => false,
                () = tokio::time::sleep(wait) => false,
                _ = closing.wait_for(|c| *c) => {
                    stop(&mut running);
                    return;
                }
            };
            if new_events {
                tokio::time::sleep_until(looked + PACE).await;
            }
        }
    })
}

/// What one look at the subscriptions needs.
struct Pass<'a> {
    engine: &'a Arc<Engine>,
    client: &'a reqwest::Client,
    settings: &'a Settings,
    /// Told when a subscription's task ends, so the next look comes at once.
    finished: &'a Arc<tokio::sync::Notify>,
}

type Due = (String, String, String, String, String, i64, i64, i64, i64);

impl Pass<'_> {
    /// Starts a task for every live subscription that is due and not being delivered to
    /// already; returns how soon one is due again, if any waits.
    async fn start_due(&self, running: &mut HashMap<String, JoinHandle<()>>) -> anyhow::Result<Option<Duration>> {
        let rows: Vec<Due> = sqlx::query_as(
            "SELECT w.webhook_id, w.space_id, w.url, w.event_types, s.secret, s.delivered_to, s.failures, s.next_attempt_at_ms,
                    s.replays
             FROM webhooks w JOIN webhook_state s ON s.webhook_id = w.webhook_id
             WHERE w.deleted = 0 AND w.paused = 0 AND s.dead = 0",
        )
        .fetch_all(self.engine.store().pool())
        .await?;
        let mut soonest: Option<Duration> = None;
        for (id, space, url, types, secret, offset, failures, next_at, replays) in rows {
            let now = now_ms();
            if next_at > now {
                let wait = Duration::from_millis((next_at - now) as u64);
                soonest = Some(soonest.map_or(wait, |s| s.min(wait)));
                continue;
            }
            if running.contains_key(&id) || running.len() >= CONCURRENT {
                continue;
            }
            let Ok(space) = space.parse::<SpaceId>() else { continue };
            let types: Vec<String> = serde_json::from_str(&types).unwrap_or_default();
            let subscription = Subscription {
                id: id.clone(),
                space,
                url,
                types,
                secret,
                replays,
            };
            let failures = u32::try_from(failures).unwrap_or(0);
            let offset = Position(offset.max(0) as u64);
            let (engine, client, settings) = (self.engine.clone(), self.client.clone(), self.settings.clone());
            let finished = self.finished.clone();
            let task = tokio::spawn(async move {
                let mut offset = offset;
                let mut spaces = HashMap::new();
                let delivery = Delivery {
                    engine: &engine,
                    client: &client,
                    settings: &settings,
                };
                if let Err(e) = delivery
                    .deliver(&subscription, &mut offset, failures, &mut spaces)
                    .await
                {
                    tracing::warn!(webhook = %subscription.id, error = %e, "webhook delivery failed to record");
                }
                finished.notify_one();
            });
            running.insert(id, task);
        }
        Ok(soonest)
    }
}

/// What one subscription's delivery needs.
struct Delivery<'a> {
    engine: &'a Engine,
    client: &'a reqwest::Client,
    settings: &'a Settings,
}

struct Subscription {
    id: String,
    space: SpaceId,
    url: String,
    types: Vec<String>,
    secret: String,
    /// Replays when this pass read it: every write of the pass checks it is still so.
    replays: i64,
}

impl Delivery<'_> {
    /// Sends one subscription what it has not had yet, up to what the read models hold.
    /// Stops at the first failure (log order), recording when to try again.
    async fn deliver(
        &self,
        subscription: &Subscription,
        offset: &mut Position,
        mut failures: u32,
        spaces: &mut HashMap<ChannelId, Option<SpaceId>>,
    ) -> anyhow::Result<Option<Duration>> {
        let (engine, client, settings) = (self.engine, self.client, self.settings);
        let pool = engine.store().pool();
        loop {
            // Paused meanwhile (by any node, from the log): the rest waits at the offset.
            if paused(pool, subscription).await? {
                return Ok(None);
            }
            let head = engine.hub().projected();
            let page = engine.store().read_all(*offset, PAGE).await?;
            let mut page: Vec<RecordedEvent> = page.into_iter().filter(|e| e.position <= head).collect();
            // A replay, or a delivery that comes late, carries no words of a deleted message.
            crate::engine::redaction::redact_page(pool, &mut page).await?;
            let Some(last) = page.last().map(|e| e.position) else {
                return Ok(None);
            };
            for event in &page {
                if !wanted(engine, subscription, &event.event, spaces).await? {
                    *offset = event.position;
                    continue;
                }
                match post(client, &settings.policy, subscription, event).await {
                    Ok(()) => {
                        metrics::counter!(crate::metrics::WEBHOOK_DELIVERIES, "outcome" => "ok").increment(1);
                        tracing::debug!(
                            webhook = %subscription.id,
                            position = %event.position,
                            correlation_id = %event.metadata.correlation_id,
                            "webhook delivered"
                        );
                        *offset = event.position;
                        failures = 0;
                        let written = sqlx::query(
                            "UPDATE webhook_state SET delivered_to = $1, delivered = delivered + 1, failures = 0,
                                next_attempt_at_ms = 0, last_error = NULL, stuck_at = NULL
                         WHERE webhook_id = $2 AND delivered_to < $3 AND replays = $4",
                        )
                        .bind(event.position.0 as i64)
                        .bind(&subscription.id)
                        .bind(event.position.0 as i64)
                        .bind(subscription.replays)
                        .execute(pool)
                        .await?;
                        if written.rows_affected() == 0 && replayed(pool, subscription).await? {
                            return Ok(Some(Duration::ZERO));
                        }
                    }
                    Err(error) => {
                        metrics::counter!(crate::metrics::WEBHOOK_DELIVERIES, "outcome" => "failed").increment(1);
                        failures += 1;
                        let dead = failures >= settings.max_attempts;
                        let wait = parley::webhook::backoff_ms(failures, settings.base_backoff_ms);
                        tracing::warn!(
                            webhook = %subscription.id,
                            position = %event.position,
                            correlation_id = %event.metadata.correlation_id,
                            failures,
                            dead,
                            %error,
                            "webhook delivery failed"
                        );
                        sqlx::query(
                        "UPDATE webhook_state SET delivered_to = CASE WHEN delivered_to > $1 THEN delivered_to ELSE $1 END, failures = $2, next_attempt_at_ms = $3,
                                dead = $4, last_error = $5, stuck_at = $6
                         WHERE webhook_id = $7 AND replays = $8",
                    )
                    .bind(offset.0 as i64)
                    .bind(i64::from(failures))
                    .bind(now_ms() + wait as i64)
                    .bind(i64::from(dead))
                    .bind(&error)
                    .bind(event.position.0 as i64)
                    .bind(&subscription.id)
                    .bind(subscription.replays)
                    .execute(pool)
                    .await?;
                        return Ok((!dead).then(|| Duration::from_millis(wait)));
                    }
                }
            }
            // Events it does not want move the offset too, so the next pass starts past them.
            let written = sqlx::query(
                "UPDATE webhook_state SET delivered_to = CASE WHEN delivered_to > $1 THEN delivered_to ELSE $1 END
             WHERE webhook_id = $2 AND replays = $3",
            )
            .bind(offset.0 as i64)
            .bind(&subscription.id)
            .bind(subscription.replays)
            .execute(pool)
            .await?;
            if written.rows_affected() == 0 {
                return Ok(Some(Duration::ZERO)); // replayed meanwhile: start again from its offset
            }
            if last >= head {
                return Ok(None);
            }
        }
    }
}

/// Whether an admin paused the subscription.
async fn paused(pool: &sqlx::AnyPool, subscription: &Subscription) -> Result<bool, sqlx::Error> {
    let paused: Option<crate::db::Flag> = sqlx::query_scalar("SELECT paused FROM webhooks WHERE webhook_id = $1")
        .bind(&subscription.id)
        .fetch_optional(pool)
        .await?;
    Ok(paused.is_some_and(|p| p.0))
}

/// Whether an admin replayed the subscription since this pass read it.
async fn replayed(pool: &sqlx::AnyPool, subscription: &Subscription) -> Result<bool, sqlx::Error> {
    let replays: Option<i64> = sqlx::query_scalar("SELECT replays FROM webhook_state WHERE webhook_id = $1")
        .bind(&subscription.id)
        .fetch_optional(pool)
        .await?;
    Ok(replays != Some(subscription.replays))
}

/// Whether the event is one of the subscription's types and happened in its space.
async fn wanted(
    engine: &Engine,
    subscription: &Subscription,
    event: &Event,
    spaces: &mut HashMap<ChannelId, Option<SpaceId>>,
) -> anyhow::Result<bool> {
    if !parley::webhook::wants(&subscription.types, event) {
        return Ok(false);
    }
    if let Some(space) = event.space_id() {
        return Ok(space == subscription.space);
    }
    let Some(channel) = event.channel_id() else {
        return Ok(false);
    };
    let space = match spaces.get(&channel) {
        Some(space) => *space,
        None => {
            let found: Option<Option<String>> =
                // A private channel's events are for its members alone: no webhook gets them.
                sqlx::query_scalar("SELECT space_id FROM channels WHERE channel_id = $1 AND private = 0")
                    .bind(channel.to_string())
                    .fetch_optional(engine.store().pool())
                    .await?;
            let space = found.flatten().and_then(|s| s.parse::<SpaceId>().ok());
            spaces.insert(channel, space);
            space
        }
    };
    Ok(space == Some(subscription.space))
}

/// One delivery: the event as JSON, signed with the time. Any 2xx answer is a success.
async fn post(
    client: &reqwest::Client,
    policy: &OutboundPolicy,
    subscription: &Subscription,
    event: &RecordedEvent,
) -> Result<(), String> {
    check_url(policy, &subscription.url).map_err(|e| format!("refused: {e}"))?;
    let body = serde_json::to_vec(&serde_json::json!({
        "webhook_id": subscription.id,
        "event": event,
    }))
    .map_err(|e| e.to_string())?;
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let response = client
        .post(&subscription.url)
        .header("content-type", "application/json")
        .header("x-parley-event", event.event.event_type())
        .header("x-parley-delivery", event.event_id.to_string())
        .header("x-parley-timestamp", timestamp.to_string())
        .header("x-parley-signature", signature(&subscription.secret, timestamp, &body))
        .body(body)
        .send()
        .await
        .map_err(|e| format!("could not deliver: {}", error_chain(&e)))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered {}", response.status()))
    }
}

/// An error with its causes, for the inspector: reqwest's own text hides why a connection
/// failed (a refusal by the address filter among them).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
