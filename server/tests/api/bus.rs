//! The double emit: eager notices for what is never stored (typing), guaranteed ones after each commit.

use crate::helpers::{on_postgres, spawn_app};

#[tokio::test]
async fn a_post_is_announced_once_committed_with_its_position_and_never_eagerly() {
    let app = spawn_app().await;
    let bus = app.engine.store().bus().clone();
    let mut eager = bus.subscribe_eager();
    let mut guaranteed = bus.subscribe_committed();

    let (id, position) = app.post("double emit").await;

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
    assert!(
        eager.try_recv().is_err(),
        "a command is not announced before it is durable"
    );
}

#[tokio::test]
async fn typing_goes_out_eagerly_and_is_never_stored() {
    let app = spawn_app().await;
    let bus = app.engine.store().bus().clone();
    let mut eager = bus.subscribe_eager();
    let head = app.head().await;
    let mut socket = app.socket().await;
    socket
        .subscribe(parley::ChannelId::GENERAL, parley::Position::ZERO)
        .await;
    socket
        .send(&parley::protocol::ClientFrame::Typing {
            channel: parley::ChannelId::GENERAL,
        })
        .await;
    let notice = tokio::time::timeout(std::time::Duration::from_secs(2), eager.recv())
        .await
        .expect("the eager notice came")
        .expect("the bus is open");
    assert_eq!(
        *notice,
        parley_engine::log::bus::EagerNotice::Typing {
            channel: parley::ChannelId::GENERAL,
            user: "tester".into()
        }
    );
    assert_eq!(app.head().await, head, "nothing was stored");
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
