//! Projections: the writer folds in its own transaction, rebuilding from the log gives the same read model as live folding, and an event that cannot be folded is parked without stopping the rest.

use crate::helpers::spawn_app;
use parley::{ChannelId, MessageId, Position};
use parley_app::api::LogPage;
use parley_engine::db::Backend;
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

/// On SQLite the store's writer folds each batch in the transaction that appends it: no
/// reader ever sees an event committed that the read models do not hold yet (with a
/// projector folding after the commit, one does, between the two transactions).
#[tokio::test]
async fn the_read_models_commit_with_the_events_they_fold() {
    let app = spawn_app().await;
    if app.engine.store().backend() != Backend::Sqlite {
        return; // On PostgreSQL the projector's lease holder folds (several nodes write).
    }
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let pool = app.engine.store().pool().clone();
    let (done, looks) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let (posting, counted) = (done.clone(), looks.clone());
    let watching = tokio::spawn(async move {
        let mut behind = Vec::new();
        while !posting.load(Ordering::Acquire) {
            // One statement: one snapshot of both.
            let (head, checkpoint): (Option<i64>, Option<i64>) = sqlx::query_as(
                "SELECT (SELECT MAX(position) FROM events),
                        (SELECT position FROM projection_checkpoints WHERE name = 'read_models')",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            if head != checkpoint {
                behind.push((head, checkpoint));
            }
            counted.fetch_add(1, Ordering::AcqRel);
            tokio::task::yield_now().await;
        }
        behind
    });
    // Rounds of 100 posts at once, until the reader has looked often enough while they went
    // in (how many looks one round allows depends on how fast the writer is).
    let mut posted = Vec::new();
    for round in 0..20 {
        let posts = (0..100).map(|i| {
            let app = &app;
            async move { app.post(&format!("message {round}.{i}")).await }
        });
        posted.extend(futures::future::join_all(posts).await);
        if looks.load(Ordering::Acquire) >= 50 {
            break;
        }
    }
    done.store(true, Ordering::Release);
    let behind = watching.await.unwrap();
    let looks = looks.load(Ordering::Acquire);
    assert!(looks >= 50, "only {looks} looks while {} posts went in", posted.len());
    assert!(behind.is_empty(), "the read models were behind the log in {behind:?}");
    // And every post is there, with nothing waited for.
    let history = app.history(None, 200).await;
    for (id, _) in posted.iter().rev().take(100) {
        assert!(
            history.iter().any(|m| m.message_id == *id),
            "{id} is not in the history"
        );
    }
}

/// A batch the writer cannot fold (here a trigger refuses one message's row) is appended
/// all the same, without its fold: the projector folds what it can after it, and parks the
/// one at fault, which folds once the fault is gone.
#[tokio::test]
async fn a_post_the_writer_cannot_fold_is_stored_and_left_to_the_projector() {
    let app = spawn_app().await;
    if app.engine.store().backend() != Backend::Sqlite {
        return; // The writer folds on SQLite only (and the trigger is SQLite's).
    }
    let pool = app.engine.store().pool().clone();
    sqlx::query(
        "CREATE TRIGGER refuse_boom BEFORE INSERT ON messages WHEN NEW.body = 'boom'
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (boom, at) = app.post("boom").await;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE position = $1")
        .bind(at.0 as i64)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the post is in the log");

    let (after, _) = app.post("after the boom").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !app.history(None, 10).await.iter().any(|m| m.message_id == after) {
        assert!(
            std::time::Instant::now() < deadline,
            "the read models are stuck behind the refused post"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!app.history(None, 10).await.iter().any(|m| m.message_id == boom));
    let parked: Vec<i64> = sqlx::query_scalar("SELECT position FROM parked_events")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(parked, vec![at.0 as i64]);

    sqlx::query("DROP TRIGGER refuse_boom").execute(&pool).await.unwrap();
    assert_eq!(
        app.call("retry_parked_event", json!({ "position": at })).await.status(),
        200
    );
    assert!(app.history(None, 10).await.iter().any(|m| m.message_id == boom));
}
