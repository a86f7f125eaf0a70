//! A restart keeps everything: the log, the read models, and the projector's place.

use crate::helpers::{spawn_app, spawn_app_in};
use parley::ChannelId;

#[tokio::test]
async fn a_restart_keeps_every_acknowledged_message() {
    let app = spawn_app().await;
    let mut acked = Vec::new();
    for i in 0..10 {
        acked.push(app.post(&format!("before restart {i}")).await);
    }
    app.wait_projected().await;
    let head = app.head().await;
    let dir = app.stop().await;

    let app = spawn_app_in(dir).await;
    assert_eq!(
        app.head().await,
        head,
        "the log is intact and #general was not created again"
    );
    let history = app.history(None, 50).await;
    let ids: Vec<_> = history.iter().map(|m| (m.message_id, m.position)).collect();
    assert_eq!(ids, acked);

    // The projector resumes from its checkpoint and keeps folding.
    let (id, position) = app.post("after restart").await;
    app.wait_projected().await;
    let history = app.history(None, 50).await;
    assert_eq!(history.last().map(|m| (m.message_id, m.position)), Some((id, position)));
    let mut socket = app.socket().await;
    let (events, _) = socket.subscribe(ChannelId::GENERAL, acked[9].1).await;
    assert_eq!(events, [position]);
}
