//! Presence: online if any socket is, away if all are hidden, offline after a grace period.

use crate::helpers::spawn_app;
use parley::presence::Status;
use parley::protocol::{ClientFrame, ServerFrame};

/// The next presence frame about `user`, skipping others.
async fn next_about(socket: &mut crate::helpers::Socket, user: &str) -> Status {
    loop {
        if let ServerFrame::Presence { users, .. } = socket.next().await
            && let Some((_, status)) = users.iter().find(|(u, _)| u == user)
        {
            return *status;
        }
    }
}

#[tokio::test]
async fn presence_follows_every_tab_with_a_grace_period() {
    let app = spawn_app().await;
    let bob = app.sign_up("bob").await;
    let mut watcher = app.socket().await;
    watcher.send(&ClientFrame::WatchPresence).await;
    assert!(matches!(watcher.next().await, ServerFrame::Presence { full: true, .. }));

    let mut bob_one = app.socket_as(&bob).await;
    assert_eq!(next_about(&mut watcher, "bob").await, Status::Online);
    let mut bob_two = app.socket_as(&bob).await;
    bob_one.send(&ClientFrame::Away { away: true }).await;
    watcher.expect_silence(300).await; // the other tab is in view
    bob_two.send(&ClientFrame::Away { away: true }).await;
    assert_eq!(next_about(&mut watcher, "bob").await, Status::Away);
    bob_two.send(&ClientFrame::Away { away: false }).await;
    assert_eq!(next_about(&mut watcher, "bob").await, Status::Online);

    // A newcomer learns who is here.
    let mut late = app.socket().await;
    late.expect_silence(200).await; // nothing until it asks
    late.send(&ClientFrame::WatchPresence).await;
    match late.next().await {
        ServerFrame::Presence { users, full: true } => assert!(users.contains(&("bob".into(), Status::Online))),
        other => panic!("expected presence, got {other:?}"),
    }

    drop(bob_two);
    assert_eq!(
        next_about(&mut watcher, "bob").await,
        Status::Away,
        "the tab left is hidden"
    );
    drop(bob_one);
    // Not offline at once (a reload comes back within the grace period), but then.
    watcher.expect_silence(4_000).await;
    assert_eq!(next_about(&mut watcher, "bob").await, Status::Offline);
}
