//! The double emit: an eager notice before the append, a guaranteed one after commit.

use crate::helpers::{on_postgres, spawn_app};
use parley::Event;

#[tokio::test]
async fn eager_comes_before_commit_and_guaranteed_after_with_a_position() {
    let app = spawn_app().await;
    let bus = app.engine.store().bus().clone();
    let mut eager = bus.subscribe_eager();
    let mut guaranteed = bus.subscribe_committed();

    let (id, position) = app.post("double emit").await;

    let notice = eager.try_recv().expect("the eager notice went out before the ack");
    assert!(matches!(&notice.event, Event::MessagePosted { message_id, .. } if *message_id == id));
    let committed = if on_postgres() {
        // Several nodes: every node's tailer announces each commit, a moment after it.
        tokio::time::timeout(std::time::Duration::from_secs(5), guaranteed.recv())
            .await
            .expect("the guaranteed notice came")
            .expect("the bus is open")
    } else {
        // One node: its only writer announces each commit before it acks.
        guaranteed
            .try_recv()
            .expect("the guaranteed notice went out before the ack")
    };
    assert_eq!(committed.position, position);
    assert_eq!(committed.metadata.client_message_id, Some(id));
}

#[tokio::test]
async fn a_refused_command_emits_nothing() {
    let app = spawn_app().await;
    let bus = app.engine.store().bus().clone();
    let mut eager = bus.subscribe_eager();
    let mut guaranteed = bus.subscribe_committed();
    let response = app.post_message(parley::MessageId::new(), "   ").await;
    assert_eq!(response.status(), 400);
    assert!(eager.try_recv().is_err());
    assert!(guaranteed.try_recv().is_err());
}
