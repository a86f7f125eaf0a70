//! Projections: rebuilding from the log gives the same read model as live folding, and an event that cannot be folded is parked without stopping the rest.

use crate::helpers::spawn_app;
use parley::{ChannelId, MessageId, Position};
use parley_app::api::LogPage;
use serde_json::json;

#[tokio::test]
async fn rebuilding_the_read_models_gives_the_live_result() {
    let app = spawn_app().await;
    for i in 0..50 {
        app.post(&format!("message {i} with 'quotes' and \"more\"")).await;
    }
    app.wait_projected().await;
    let live = app.read_model_dump().await;
    assert!(live.len() > 50);

    let database_url = app.database_url.clone();
    let dir = app.stop().await;
    let position = parley_server::startup::rebuild_projections(&database_url)
        .await
        .unwrap();

    let app = crate::helpers::spawn_app_in(dir).await;
    assert_eq!(position, app.head().await);
    assert_eq!(app.read_model_dump().await, live);
}

/// An event the read models cannot fold (here: a row damaged on disk) is parked after a
/// few tries, and everything after it goes on; an admin sees it in the inspector and folds
/// it again once it is fixed.
#[tokio::test]
async fn an_event_that_cannot_be_folded_is_parked_and_the_rest_go_on() {
    let app = spawn_app().await;
    let pool = app.engine.store().pool().clone();
    let damaged = app.head().await.next();
    sqlx::query(
        "INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version,
                             payload, metadata, client_message_id, recorded_at_ms)
         VALUES ($1, 'damaged', 1, $2, 'MessagePosted', 1, '{\"oops\": true}', $3, NULL, 0)",
    )
    .bind(damaged.0 as i64)
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(serde_json::json!({ "actor": "test", "correlation_id": uuid::Uuid::new_v4() }).to_string())
    .execute(&pool)
    .await
    .unwrap();

    // A message after it is folded all the same, once the damaged one is parked.
    let (after, _) = app.post("after the damage").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !app.history(None, 10).await.iter().any(|m| m.message_id == after) {
        assert!(
            std::time::Instant::now() < deadline,
            "the read models are stuck behind the damaged event"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let parked = |page: LogPage| -> Vec<Position> {
        page.subscribers
            .iter()
            .filter(|s| s.parked && s.name.starts_with("read models"))
            .map(|s| s.position)
            .collect()
    };
    let page: LogPage = app.log_page(json!({})).await;
    assert_eq!(parked(page), vec![damaged]);

    // Still damaged: a retry is refused and changes nothing.
    let retry = json!({ "position": damaged });
    assert_eq!(app.call("retry_parked_event", retry.clone()).await.status(), 400);

    // Fixed: the retry folds it and takes it out of the dead letter.
    let repaired = MessageId::new();
    let payload = json!({
        "channel_id": ChannelId::GENERAL, "message_id": repaired, "author": "tester", "body": "repaired",
    });
    sqlx::query("UPDATE events SET payload = $1 WHERE position = $2")
        .bind(payload.to_string())
        .bind(damaged.0 as i64)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(app.call("retry_parked_event", retry.clone()).await.status(), 200);
    assert!(app.history(None, 10).await.iter().any(|m| m.message_id == repaired));
    let page: LogPage = app.log_page(json!({})).await;
    assert!(parked(page).is_empty());
    assert_eq!(
        app.call("retry_parked_event", retry).await.status(),
        400,
        "nothing parked there now"
    );
}
