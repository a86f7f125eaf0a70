//! The webhook deliverer: one task that sends each subscription the events it asked for,
//! at least once and in log order, from its own offset; signs each body (HMAC-SHA256 with
//! the subscription's secret); backs off exponentially after a failure; and parks a
//! subscription (dead letter) after too many failures on one event, without holding up
//! the others, until an admin retries or skips that event.

use crate::engine::Engine;
use crate::store::now_ms;
use hmac::{Hmac, Mac};
use parley::{ChannelId, Event, Position, RecordedEvent, SpaceId};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How deliveries retry.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// The wait after the first failure; it doubles after each next one.
    pub base_backoff_ms: u64,
    /// Failures on one event before the subscription is parked.
    pub max_attempts: u32,
    /// How long a receiver may take to answer.
    pub timeout: Duration,
}

/// Events read from the log at a time.
const PAGE: u32 = 500;
/// The longest sleep between two looks, whatever happens.
const IDLE: Duration = Duration::from_secs(1);

/// The signature header's value for `body`: `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        digest.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// Starts the deliverer. With several nodes, only the one holding the webhook lease delivers.
pub fn spawn(engine: Arc<Engine>, db: &crate::db::Database, settings: Settings) -> JoinHandle<()> {
    let mut lease = crate::cluster::Lease::new(db, crate::cluster::WEBHOOK_LEASE);
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Parley-Webhooks/1")
            .build()
        {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(error = %e, "webhooks are off: no HTTP client");
                return;
            }
        };
        let mut projected = engine.hub().watch_projected();
        let mut closing = engine.closing();
        loop {
            if !lease.held().await {
                tokio::select! {
                    () = tokio::time::sleep(crate::cluster::POLL) => continue,
                    _ = closing.wait_for(|c| *c) => return,
                }
            }
            let wait = match deliver_due(&engine, &client, settings).await {
                Ok(wait) => wait.unwrap_or(IDLE).min(IDLE),
                Err(e) => {
                    tracing::warn!(error = %e, "webhook delivery pass failed");
                    IDLE
                }
            };
            tokio::select! {
                _ = projected.changed() => {}
                () = engine.hub().webhook_change() => {}
                () = tokio::time::sleep(wait) => {}
                _ = closing.wait_for(|c| *c) => return,
            }
        }
    })
}

type Due = (String, String, String, String, String, i64, i64, i64, i64);

/// One pass over every live subscription; returns how soon one is due again, if any waits.
async fn deliver_due(
    engine: &Engine,
    client: &reqwest::Client,
    settings: Settings,
) -> anyhow::Result<Option<Duration>> {
    let rows: Vec<Due> = sqlx::query_as(
        "SELECT w.webhook_id, w.space_id, w.url, w.event_types, s.secret, s.delivered_to, s.failures, s.next_attempt_at_ms,
                s.replays
         FROM webhooks w JOIN webhook_state s ON s.webhook_id = w.webhook_id
         WHERE w.deleted = 0 AND s.dead = 0",
    )
    .fetch_all(engine.store().pool())
    .await?;
    let mut soonest: Option<Duration> = None;
    let mut spaces: HashMap<ChannelId, Option<SpaceId>> = HashMap::new();
    for (id, space, url, types, secret, offset, failures, next_at, replays) in rows {
        let now = now_ms();
        if next_at > now {
            let wait = Duration::from_millis((next_at - now) as u64);
            soonest = Some(soonest.map_or(wait, |s| s.min(wait)));
            continue;
        }
        let Ok(space) = space.parse::<SpaceId>() else { continue };
        let types: Vec<String> = serde_json::from_str(&types).unwrap_or_default();
        let subscription = Subscription {
            id,
            space,
            url,
            types,
            secret,
            replays,
        };
        let failures = u32::try_from(failures).unwrap_or(0);
        let mut offset = Position(offset.max(0) as u64);
        if let Some(wait) = deliver(
            engine,
            client,
            settings,
            &subscription,
            &mut offset,
            failures,
            &mut spaces,
        )
        .await?
        {
            soonest = Some(soonest.map_or(wait, |s| s.min(wait)));
        }
    }
    Ok(soonest)
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

/// Sends one subscription what it has not had yet, up to what the read models hold.
/// Stops at the first failure (log order), recording when to try again.
async fn deliver(
    engine: &Engine,
    client: &reqwest::Client,
    settings: Settings,
    subscription: &Subscription,
    offset: &mut Position,
    mut failures: u32,
    spaces: &mut HashMap<ChannelId, Option<SpaceId>>,
) -> anyhow::Result<Option<Duration>> {
    let pool = engine.store().pool();
    loop {
        let head = engine.hub().projected();
        let page = engine.store().read_all(*offset, PAGE).await?;
        let page: Vec<RecordedEvent> = page.into_iter().filter(|e| e.position <= head).collect();
        let Some(last) = page.last().map(|e| e.position) else {
            return Ok(None);
        };
        for event in &page {
            if !wanted(engine, subscription, &event.event, spaces).await? {
                *offset = event.position;
                continue;
            }
            match post(client, subscription, event).await {
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
                sqlx::query_scalar("SELECT space_id FROM channels WHERE channel_id = $1")
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

/// One delivery: the event as JSON, signed. Any 2xx answer is a success.
async fn post(client: &reqwest::Client, subscription: &Subscription, event: &RecordedEvent) -> Result<(), String> {
    let body = serde_json::to_vec(&serde_json::json!({
        "webhook_id": subscription.id,
        "event": event,
    }))
    .map_err(|e| e.to_string())?;
    let response = client
        .post(&subscription.url)
        .header("content-type", "application/json")
        .header("x-parley-event", event.event.event_type())
        .header("x-parley-delivery", event.event_id.to_string())
        .header("x-parley-signature", signature(&subscription.secret, &body))
        .body(body)
        .send()
        .await
        .map_err(|e| format!("could not deliver: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered {}", response.status()))
    }
}
