//! The operator's doors: liveness (`/healthz`), readiness (`/readyz`) and Prometheus metrics (`/metrics`, with the operator's token).

use super::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use metrics_exporter_prometheus::PrometheusHandle;
use parley_engine::db::Flag;
use parley_engine::metrics::{PROJECTION_LAG, READY_MAX_LAG, WEBHOOK_BACKLOG, WEBHOOK_PARKED, install};

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
    if !parley_engine::auth::same_secret(given, expected) {
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
