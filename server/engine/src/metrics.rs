//! Operations' metrics: their names, and the process's Prometheus recorder (the server's `/metrics` renders it).
//!
//! The `metrics` crate's macros record from anywhere in the server; one Prometheus
//! recorder per process renders them. Gauges that are cheap to read at scrape time
//! (projection lag) are read then rather than kept up to date on every event.

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
/// Writes to sockets: each sends the frames ready together (one system call).
pub const SOCKET_WRITES: &str = "parley_socket_writes_total";
/// Frames written to sockets (events, answers, notes), over however many writes.
pub const SOCKET_FRAMES: &str = "parley_socket_frames_total";
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
    metrics::describe_counter!(SOCKET_WRITES, "Writes to sockets, each of the frames ready together");
    metrics::describe_counter!(SOCKET_FRAMES, "Frames written to sockets");
    metrics::describe_counter!(RESYNCS, "Sockets too slow for the live feed, caught up from the store");
    metrics::describe_counter!(UPLOADS, "Files uploaded");
    metrics::describe_counter!(PARKED, "Events the read models could not fold, parked (dead letter)");
    metrics::describe_counter!(WEBHOOK_DELIVERIES, "Webhook delivery attempts, by outcome");
}
