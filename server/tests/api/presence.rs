//! Presence: online if any socket is, away if all are hidden, offline after a grace period;
//! seen only by people who share a space or a conversation; coalesced per user.

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
    // The watcher (`tester`) sees Bob's presence because they share a conversation.
    app.open_direct(&bob, "tester").await;
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

#[tokio::test]
async fn strangers_see_no_presence_and_a_flood_of_flips_reaches_watchers_coalesced() {
    let app = spawn_app().await;
    let eve = app.sign_up("eve").await;
    let stranger = app.sign_up("stranger").await;
    app.open_direct(&eve, "tester").await;
    let mut watcher = app.socket().await;
    watcher.send(&ClientFrame::WatchPresence).await;
    assert!(matches!(watcher.next().await, ServerFrame::Presence { full: true, .. }));

    // Someone `tester` shares nothing with (the lobby does not count): never told.
    let _stranger_socket = app.socket_as(&stranger).await;
    let mut eve_socket = app.socket_as(&eve).await;
    assert_eq!(next_about(&mut watcher, "eve").await, Status::Online);
    let mut late = app.socket().await;
    late.send(&ClientFrame::WatchPresence).await;
    match late.next().await {
        ServerFrame::Presence { users, full: true } => {
            assert!(users.iter().any(|(u, _)| u == "eve"), "{users:?}");
            assert!(!users.iter().any(|(u, _)| u == "stranger"), "{users:?}");
        }
        other => panic!("expected presence, got {other:?}"),
    }

    // A thousand away flips: a frame or two, and the last word is right.
    for i in 0..1_000 {
        eve_socket.send(&ClientFrame::Away { away: i % 2 == 0 }).await;
    }
    eve_socket.send(&ClientFrame::Away { away: true }).await;
    let mut frames = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(3_000);
    while let Ok(frame) = tokio::time::timeout_at(deadline, watcher.next()).await {
        if let ServerFrame::Presence { users, .. } = frame {
            assert!(!users.iter().any(|(u, _)| u == "stranger"), "{users:?}");
            frames.extend(users.into_iter().filter(|(u, _)| u == "eve"));
        }
    }
    assert!(frames.len() <= 4, "{} frames about eve: {frames:?}", frames.len());
    assert_eq!(frames.last(), Some(&("eve".to_string(), Status::Away)), "{frames:?}");
}
