//! Operations doors: liveness, readiness, and Prometheus metrics that move with the work done.

use crate::helpers::{METRICS_TOKEN, spawn_app};
use parley::{ChannelId, Position};

/// The value of a metric (summed over its labels) in a Prometheus text page.
fn value(page: &str, name: &str) -> f64 {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| line.split([' ', '{']).next() == Some(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("http://{}{path}", app.addr);
    let health = http.get(url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = http.get(url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["ready"], true);

    let scrape = || async {
        let metrics = http
            .get(url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(metrics.status(), 200);
        metrics.text().await.unwrap()
    };
    // Without the operator's token, or with a wrong one, nothing is told.
    let open = http.get(url("/metrics")).send().await.unwrap();
    assert_eq!(open.status(), 401);
    let wrong = http.get(url("/metrics")).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(!wrong.text().await.unwrap().contains("parley_"));
    let before = scrape().await;
    let mut socket = app.socket().await;
    socket.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    app.post("counted").await;
    let _ = socket.next_event().await;
    app.wait_projected().await;
    let after = scrape().await;
    // Other tests in this process record too: each figure moves at least as far as ours.
    for name in [
        "parley_events_appended_total",
        "parley_events_projected_total",
        "parley_deliveries_total",
    ] {
        assert!(
            value(&after, name) >= value(&before, name) + 1.0,
            "{name} did not move:\n{after}"
        );
    }
    assert!(value(&after, "parley_sockets_connected") >= 1.0);
    assert!(after.contains("parley_append_batch_seconds_bucket"));
    assert!(after.contains("# TYPE parley_projection_lag_events gauge"));
}
