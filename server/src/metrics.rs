//! Operations: Prometheus metrics (`/metrics`), liveness (`/healthz`) and readiness (`/readyz`).
//!
//! The `metrics` crate's macros record from anywhere in the server; one Prometheus
//! recorder per process renders them. Gauges that are cheap to read at scrape time
//! (projection lag) are read then rather than kept up to date on every event.

use crate::db::Flag;
use crate::startup::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// Events appended to the log.
pub const APPENDED: &str = "parley_events_appended_total";
/// Seconds one batch of appends took to commit.
pub const APPEND_SECONDS: &str = "parley_append_batch_seconds";
/// Events projected into the read models.
pub const PROJECTED: &str = "parley_events_projected_total";
/// Events the read models are behind the log (read at scrape time).
pub const PROJECTION_LAG: &str = "parley_projection_lag_events";
/// Open WebSocket connections.
pub const SOCKETS: &str = "parley_sockets_connected";
/// Events sent to sockets (each copy counts).
pub const DELIVERIES: &str = "parley_deliveries_total";
/// Sockets too slow for the live feed, caught up from the store instead.
pub const RESYNCS: &str = "parley_slow_client_resyncs_total";
/// Files uploaded.
pub const UPLOADS: &str = "parley_uploads_total";
/// Events the read models could not fold, parked.
pub const PARKED: &str = "parley_events_parked_total";
/// Webhook delivery attempts, by `outcome` (`ok` or `failed`).
pub const WEBHOOK_DELIVERIES: &str = "parley_webhook_deliveries_total";
/// Log positions each webhook is behind the head (read at scrape time, by `webhook`).
pub const WEBHOOK_BACKLOG: &str = "parley_webhook_backlog_events";
/// 1 for a webhook parked after too many failures, 0 for one delivering (by `webhook`).
pub const WEBHOOK_PARKED: &str = "parley_webhook_parked";

/// The projection lag past which the server says it is not ready.
pub const READY_MAX_LAG: u64 = 10_000;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder (once; later calls find it).
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let buckets = [0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];
            let recorder = PrometheusBuilder::new().set_buckets(&buckets).ok()?.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(APPENDED, "Events appended to the log");
    metrics::describe_histogram!(
        APPEND_SECONDS,
        metrics::Unit::Seconds,
        "Time to commit one batch of appends"
    );
    metrics::describe_counter!(PROJECTED, "Events folded into the read models");
    metrics::describe_gauge!(PROJECTION_LAG, "Events the read models are behind the log");
    metrics::describe_gauge!(SOCKETS, "Open WebSocket connections");
    metrics::describe_counter!(DELIVERIES, "Events sent to sockets, each copy counted");
    metrics::describe_counter!(RESYNCS, "Sockets too slow for the live feed, caught up from the store");
    metrics::describe_counter!(UPLOADS, "Files uploaded");
    metrics::describe_counter!(PARKED, "Events the read models could not fold, parked (dead letter)");
    metrics::describe_counter!(WEBHOOK_DELIVERIES, "Webhook delivery attempts, by outcome");
}

/// `GET /metrics`: every metric in Prometheus's text format, for whoever carries the
/// operator's token (`Authorization: Bearer …`): the figures tell an outsider how busy the
/// instance is and which webhooks exist. Without a configured token, metrics are off.
pub async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> axum::response::Response {
    let Some(expected) = state.metrics_token.as_deref() else {
        return (
            StatusCode::NOT_FOUND,
            "metrics are off: set PARLEY_METRICS_TOKEN to read them",
        )
            .into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !crate::auth::same_secret(given, expected) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "metrics need the operator's token",
        )
            .into_response();
    }
    if let Ok(head) = state.engine.store().head().await {
        let lag = head.0.saturating_sub(state.engine.hub().projected().0);
        metrics::gauge!(PROJECTION_LAG).set(lag as f64);
    }
    let mut body = install().map(PrometheusHandle::render).unwrap_or_default();
    match webhook_gauges(&state).await {
        Ok(gauges) => body.push_str(&gauges),
        Err(e) => tracing::warn!(error = %e, "webhook gauges could not be read"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// Each live webhook's backlog and parked state, read from the database at scrape time and
/// written here rather than through the recorder, so a deleted webhook leaves no series behind.
async fn webhook_gauges(state: &AppState) -> Result<String, sqlx::Error> {
    use std::fmt::Write;
    let head = state.engine.store().head().await?;
    let hooks: Vec<(String, i64, Flag)> = sqlx::query_as(
        "SELECT w.webhook_id, s.delivered_to, s.dead FROM webhooks w JOIN webhook_state s ON s.webhook_id = w.webhook_id
         WHERE w.deleted = 0 ORDER BY w.created_position",
    )
    .fetch_all(state.engine.store().pool())
    .await?;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# HELP {WEBHOOK_BACKLOG} Log positions a webhook is behind the head"
    );
    let _ = writeln!(text, "# TYPE {WEBHOOK_BACKLOG} gauge");
    for (id, delivered_to, _) in &hooks {
        let behind = head.0.saturating_sub(u64::try_from(*delivered_to).unwrap_or(0));
        let _ = writeln!(text, "{WEBHOOK_BACKLOG}{{webhook=\"{id}\"}} {behind}");
    }
    let _ = writeln!(
        text,
        "# HELP {WEBHOOK_PARKED} Whether a webhook is parked after too many failures"
    );
    let _ = writeln!(text, "# TYPE {WEBHOOK_PARKED} gauge");
    for (id, _, dead) in &hooks {
        let _ = writeln!(text, "{WEBHOOK_PARKED}{{webhook=\"{id}\"}} {}", u8::from(dead.0));
    }
    Ok(text)
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers and the read models are close to the log's head.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let head = match state.engine.store().head().await {
        Ok(head) => head,
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            let body = serde_json::json!({ "ready": false, "reason": "the database does not answer" });
            return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body));
        }
    };
    let lag = head.0.saturating_sub(state.engine.hub().projected().0);
    if lag > READY_MAX_LAG {
        let body = serde_json::json!({ "ready": false, "reason": "the read models are catching up", "lag": lag });
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body));
    }
    (
        StatusCode::OK,
        axum::Json(serde_json::json!({ "ready": true, "lag": lag })),
    )
}
