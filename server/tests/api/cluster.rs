//! Several nodes on one PostgreSQL: one log order seen by every node, no gap, no duplicate,
//! clients moving between nodes, and the read models written by one node at a time.
//! These run when `PARLEY_TEST_POSTGRES` names a server (the test command starts one).

use crate::helpers::{TestApp, database_in, on_postgres, post_to, spawn_node};
use parley::presence::Status;
use parley::protocol::{ClientFrame, ServerFrame};
use parley::{ChannelId, Event, MessageId, Position};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

/// `n` nodes on one fresh database, started one after the other.
async fn cluster(n: usize) -> Option<Vec<TestApp>> {
    if !on_postgres() {
        eprintln!("skipped: several nodes need PostgreSQL (PARLEY_TEST_POSTGRES)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = database_in(&dir).await;
    let mut nodes = Vec::new();
    for _ in 0..n {
        nodes.push(spawn_node(tempfile::tempdir().unwrap(), url.clone()).await);
    }
    Some(nodes)
}

async fn post_via(addr: SocketAddr, http: &reqwest::Client, body: &str) -> (MessageId, Position) {
    let id = MessageId::new();
    (id, post_to(http, &format!("http://{addr}"), id, body).await)
}

/// The advisory lock a lease is: how many sessions hold it.
async fn holders(node: &TestApp, key: i64) -> i64 {
    let (class, object) = (key >> 32, key & 0xffff_ffff);
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND classid::bigint = $1 AND objid::bigint = $2",
    )
    .bind(class)
    .bind(object)
    .fetch_one(node.engine.store().pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn appends_racing_on_three_nodes_reach_every_node_once_in_one_order() {
    let Some(nodes) = cluster(3).await else { return };
    let mut feeds: Vec<_> = nodes
        .iter()
        .map(|node| node.engine.store().bus().subscribe_committed())
        .collect();

    // 3 nodes × 4 clients × 40 messages, all at once.
    let mut posting = tokio::task::JoinSet::new();
    for (n, node) in nodes.iter().enumerate() {
        for client in 0..4 {
            let (addr, http) = (node.addr, node.user.http.clone());
            posting.spawn(async move {
                let mut acked = Vec::new();
                for i in 0..40 {
                    acked.push(post_via(addr, &http, &format!("node {n} client {client} #{i}")).await);
                }
                acked
            });
        }
    }
    let mut acked: HashMap<MessageId, Position> = HashMap::new();
    while let Some(batch) = posting.join_next().await {
        acked.extend(batch.unwrap());
    }
    assert_eq!(acked.len(), 480);
    let head = nodes[0].head().await;

    let mut orders = Vec::new();
    for feed in &mut feeds {
        let mut order = Vec::new();
        while order.last().map(|(p, _)| *p) != Some(head) {
            let event = tokio::time::timeout(Duration::from_secs(10), feed.recv())
                .await
                .expect("every commit reaches every node")
                .unwrap();
            order.push((event.position, event.event_id));
            if let Event::MessagePosted { message_id, .. } = &event.event {
                assert_eq!(
                    acked.get(message_id),
                    Some(&event.position),
                    "announced where it was acked"
                );
            }
        }
        // No gap and no duplicate: positions follow each other one by one.
        for pair in order.windows(2) {
            assert_eq!(pair[1].0, pair[0].0.next(), "gap or duplicate after {}", pair[0].0);
        }
        orders.push(order);
    }
    // One order: where two nodes' feeds overlap, they agree event by event.
    let from = orders.iter().map(|o| o[0].0).max().unwrap();
    let tail = |order: &Vec<(Position, parley::EventId)>| -> Vec<(Position, parley::EventId)> {
        order.iter().filter(|(p, _)| *p >= from).cloned().collect()
    };
    assert_eq!(tail(&orders[0]), tail(&orders[1]));
    assert_eq!(tail(&orders[0]), tail(&orders[2]));
    // Every acknowledged message was announced, on every node.
    let announced: Vec<Position> = orders[0].iter().map(|(p, _)| *p).collect();
    assert!(acked.values().all(|p| announced.contains(p)));
}

#[tokio::test]
async fn a_client_sees_posts_from_another_node_and_resumes_on_a_third_without_gap() {
    let Some(nodes) = cluster(3).await else { return };
    let mut socket = nodes[0].socket().await;
    let (_, caught_up) = socket.subscribe(ChannelId::GENERAL, Position(0)).await;

    let (id, position) = nodes[1].post("posted on node 1").await;
    let event = socket.next_event().await;
    assert_eq!(event.position, position);
    assert!(matches!(event.event, Event::MessagePosted { message_id, .. } if message_id == id));
    assert!(position > caught_up);
    drop(socket);

    // Away: five more are posted, on two nodes.
    let mut missed = Vec::new();
    for i in 0..5 {
        missed.push(nodes[i % 2].post(&format!("while away {i}")).await.1);
    }
    // Back, on the third node, from the cursor: exactly what was missed, then live.
    let mut socket = nodes[2].socket().await;
    let (mut replayed, _) = socket.subscribe(ChannelId::GENERAL, position).await;
    // What node 2 had not yet been handed when the socket caught up follows live.
    while replayed.len() < missed.len() {
        replayed.push(socket.next_event().await.position);
    }
    assert_eq!(replayed, missed);
    let (_, live) = nodes[0].post("live again").await;
    assert_eq!(socket.next_event().await.position, live);
    socket.expect_silence(300).await;
}

#[tokio::test]
async fn one_node_writes_the_read_models_and_another_takes_over_when_it_stops() {
    let Some(mut nodes) = cluster(2).await else { return };
    const PROJECTOR_LEASE: i64 = 0x7061_726c_6579_0002;
    assert_eq!(
        holders(&nodes[1], PROJECTOR_LEASE).await,
        1,
        "one projector in the cluster"
    );

    // Node 0 started first and leads; node 1 serves reads it did not fold.
    let (id, _) = nodes[1].post("folded by node 0").await;
    nodes[1].wait_projected().await;
    assert!(nodes[1].history(None, 10).await.iter().any(|m| m.message_id == id));

    let first = nodes.remove(0);
    first.stop().await;
    let stopped = std::time::Instant::now();
    let (id, _) = nodes[0].post("folded by node 1").await;
    while !nodes[0].history(None, 10).await.iter().any(|m| m.message_id == id) {
        assert!(stopped.elapsed() < Duration::from_secs(5), "node 1 did not take over");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("node 1 took over and folded within {:?}", stopped.elapsed());
    assert_eq!(holders(&nodes[0], PROJECTOR_LEASE).await, 1);
}

#[tokio::test]
async fn typing_on_one_node_reaches_a_follower_on_another_once() {
    let Some(nodes) = cluster(2).await else { return };
    let bob = nodes[1].sign_in("tester").await;
    let mut ada_socket = nodes[0].socket().await;
    let mut bob_socket = nodes[1].socket_as(&bob).await;
    ada_socket.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    bob_socket.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    ada_socket
        .send(&parley::protocol::ClientFrame::Typing {
            channel: ChannelId::GENERAL,
        })
        .await;
    assert_eq!(
        bob_socket.next().await,
        parley::protocol::ServerFrame::Typing {
            channel: ChannelId::GENERAL,
            user: "tester".into()
        }
    );
    // Once: the note does not come back to its own node's sockets a second time.
    bob_socket.expect_silence(300).await;
}

/// The next presence frame about `user`, skipping others, within `limit`.
async fn presence_of(socket: &mut crate::helpers::Socket, user: &str, limit: Duration, step: &str) -> Status {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        // Which step waited in vain, should one do so (the test failed once under load in
        // CI with only "no frame within …" to go on).
        let frame = socket
            .try_next_within(left)
            .await
            .unwrap_or_else(|| panic!("{step}: no presence of {user} within {limit:?}"));
        if let ServerFrame::Presence { users, .. } = frame
            && let Some((_, status)) = users.iter().find(|(u, _)| u == user)
        {
            return *status;
        }
    }
}

#[tokio::test]
async fn presence_on_one_node_is_seen_on_the_others_and_a_stopping_nodes_users_go_offline_after_the_grace_period() {
    let Some(mut nodes) = cluster(3).await else { return };
    let ada = nodes[0].sign_up("ada").await;
    // The watchers (`tester`) see Ada's presence because they share a conversation.
    nodes[0].open_direct(&ada, "tester").await;
    let mut watcher = nodes[1].socket().await;
    watcher.send(&ClientFrame::WatchPresence).await;
    assert!(matches!(watcher.next().await, ServerFrame::Presence { full: true, .. }));

    let mut ada_socket = nodes[0].socket_as(&ada).await;
    assert_eq!(
        presence_of(
            &mut watcher,
            "ada",
            Duration::from_secs(5),
            "online, seen on the second node"
        )
        .await,
        Status::Online
    );
    ada_socket.send(&ClientFrame::Away { away: true }).await;
    assert_eq!(
        presence_of(
            &mut watcher,
            "ada",
            Duration::from_secs(5),
            "away, seen on the second node"
        )
        .await,
        Status::Away
    );

    // A newcomer on the third node learns it from that node's merged view.
    let mut late = nodes[2].socket().await;
    late.send(&ClientFrame::WatchPresence).await;
    match late.next().await {
        ServerFrame::Presence { users, full: true } => {
            assert!(users.contains(&("ada".into(), Status::Away)), "{users:?}")
        }
        other => panic!("expected presence, got {other:?}"),
    }

    // Her node stops and says goodbye: she goes offline after the grace period (5 s), not
    // after the few silent seconds that make a node taken for gone plus the grace period.
    let first = nodes.remove(0);
    let stopped = std::time::Instant::now();
    let _dir = first.stop().await;
    drop(ada_socket);
    assert_eq!(
        presence_of(
            &mut watcher,
            "ada",
            Duration::from_secs(15),
            "offline after the goodbye, on the second node"
        )
        .await,
        Status::Offline
    );
    assert!(
        stopped.elapsed() >= Duration::from_secs(4),
        "not at once: a reload elsewhere has the grace period to come back"
    );
    assert!(
        stopped.elapsed() < Duration::from_secs(8),
        "about the grace period after the goodbye, not grace plus silence: {:?}",
        stopped.elapsed()
    );
    // The third node too, by the same goodbye or, had its note been lost, by her node's
    // silence (a few seconds more): offline in the end either way.
    assert_eq!(
        presence_of(&mut late, "ada", Duration::from_secs(10), "offline, on the third node").await,
        Status::Offline
    );
}

/// Says `note` on the channel the nodes pass presence on, as another node would.
async fn say_as_a_node(node: &TestApp, note: serde_json::Value) {
    sqlx::query("SELECT pg_notify('parley_presence', $1)")
        .bind(note.to_string())
        .execute(node.engine.store().pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_users_change_made_while_his_node_answers_a_hello_holds_on_the_others() {
    let Some(nodes) = cluster(2).await else { return };
    let zed = nodes[0].sign_up("zed").await;
    nodes[0].open_direct(&zed, "tester").await;
    let mut zed_socket = nodes[0].socket_as(&zed).await;
    // Others online on his node make its answer to a hello long enough to cross a change
    // (Zed is listed last in it).
    let mut others = Vec::new();
    for i in 0..60 {
        let user = nodes[0].sign_up(&format!("other{i}")).await;
        others.push(nodes[0].socket_as(&user).await);
    }
    // A hello (a node starting, or listening again) asks his node how its users stand. He
    // goes away while the answer is on its way: it must not overtake that change and undo
    // it on the other node.
    zed_socket.send(&ClientFrame::Away { away: false }).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    say_as_a_node(&nodes[1], serde_json::json!({ "node": "newcomer", "kind": "hello" })).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    zed_socket.send(&ClientFrame::Away { away: true }).await;
    // Settled (coalescing holds a change a second at most): a new watcher there sees him away.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut late = nodes[1].socket().await;
    late.send(&ClientFrame::WatchPresence).await;
    match late.next().await {
        ServerFrame::Presence { users, full: true } => {
            assert!(users.contains(&("zed".into(), Status::Away)), "{users:?}")
        }
        other => panic!("expected presence, got {other:?}"),
    }
}

#[tokio::test]
async fn nothing_a_node_says_after_its_goodbye_brings_its_users_back() {
    let Some(nodes) = cluster(1).await else { return };
    let bob = nodes[0].sign_up("bob").await;
    nodes[0].open_direct(&bob, "tester").await;
    let mut watcher = nodes[0].socket().await;
    watcher.send(&ClientFrame::WatchPresence).await;
    assert!(matches!(watcher.next().await, ServerFrame::Presence { full: true, .. }));
    let online = serde_json::json!({ "node": "leaving", "kind": "status", "user": "bob", "status": "online" });
    say_as_a_node(&nodes[0], online.clone()).await;
    assert_eq!(
        presence_of(&mut watcher, "bob", Duration::from_secs(5), "online on the other node").await,
        Status::Online
    );
    // The other node says goodbye; on its way out a heartbeat and Bob's status still
    // follow, and heartbeats go on (its sending task is stopped last).
    say_as_a_node(&nodes[0], serde_json::json!({ "node": "leaving", "kind": "goodbye" })).await;
    say_as_a_node(&nodes[0], online).await;
    let beats = async {
        for _ in 0..40 {
            say_as_a_node(&nodes[0], serde_json::json!({ "node": "leaving", "kind": "heartbeat" })).await;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    let offline = presence_of(&mut watcher, "bob", Duration::from_secs(9), "offline after the goodbye");
    let (status, ()) = tokio::join!(offline, beats);
    assert_eq!(status, Status::Offline);
}

// Every node decides from the log: what one node changed holds on every other before the
// change's answer returns (a node reads the log's head and follows it before deciding).
// Each test first makes node B read (and cache) the state it will then have to follow.

use crate::spaces::{act, create_space, invite, join, post_args};
use parley_app::api::{SpaceAction, SpaceOutcome};

#[tokio::test]
async fn a_member_removed_through_one_node_can_neither_read_nor_post_nor_follow_through_another() {
    let Some(nodes) = cluster(2).await else { return };
    let (a, b) = (&nodes[0], &nodes[1]);
    let (ada, bob) = (a.sign_up("ada").await, a.sign_up("bob").await);
    let space = create_space(a, &ada, "kick").await;
    let channel = space.channels[0].channel_id;
    let code = invite(a, &ada, space.space_id, None, None).await;
    join(a, &bob, space.space_id, &code).await.unwrap();
    // Bob reads, posts and follows through B: B knows him as a member.
    let mut socket = b.socket_as(&bob).await;
    socket.subscribe(channel, Position::ZERO).await;
    let posted = b
        .call_as(&bob.http, "post_message", post_args(channel, "hi from b"))
        .await;
    assert_eq!(posted.status(), 200);
    assert!(matches!(socket.next().await, ServerFrame::Event { .. }));

    act(a, &ada, space.space_id, SpaceAction::Remove { member: bob.me.user_id })
        .await
        .unwrap();
    let history = serde_json::json!({ "channel": channel, "before": null, "limit": 50 });
    let read = b.call_as(&bob.http, "history", history).await;
    assert_eq!(read.status(), 400, "read through B after removal through A");
    let post = b
        .call_as(&bob.http, "post_message", post_args(channel, "still here?"))
        .await;
    assert_eq!(post.status(), 400, "posted through B after removal through A");
    socket.expect_access_lost().await;
    a.call_as(&ada.http, "post_message", post_args(channel, "after bob left"))
        .await;
    socket.expect_silence(500).await;
}

#[tokio::test]
async fn a_channel_archived_through_one_node_takes_no_post_through_another() {
    let Some(nodes) = cluster(2).await else { return };
    let (a, b) = (&nodes[0], &nodes[1]);
    let ada = a.sign_up("ada").await;
    let space = create_space(a, &ada, "archive").await;
    let random = match act(
        a,
        &ada,
        space.space_id,
        SpaceAction::CreateChannel {
            name: "random".into(),
            private: false,
        },
    )
    .await
    {
        Ok(SpaceOutcome::Channel { channel_id }) => channel_id,
        other => panic!("expected a channel, got {other:?}"),
    };
    let before = b.call_as(&ada.http, "post_message", post_args(random, "before")).await;
    assert_eq!(before.status(), 200);

    act(a, &ada, space.space_id, SpaceAction::ArchiveChannel { channel: random })
        .await
        .unwrap();
    let after = b.call_as(&ada.http, "post_message", post_args(random, "after")).await;
    assert_eq!(
        after.status(),
        400,
        "posted through B into a channel archived through A"
    );
    assert!(after.text().await.unwrap().contains("archived"));
}

#[tokio::test]
async fn a_session_signed_out_through_one_node_closes_its_sockets_on_another() {
    let Some(nodes) = cluster(2).await else { return };
    let (a, b) = (&nodes[0], &nodes[1]);
    let ada = a.sign_up("ada").await;
    let mut socket = b.socket_as(&ada).await;
    socket.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    let out = a.call_as(&ada.http, "sign_out", serde_json::json!({})).await;
    assert_eq!(out.status(), 200);
    tokio::time::timeout(Duration::from_secs(2), socket.expect_closed())
        .await
        .expect("the socket on B closed within 2 s of the sign-out through A");

    // "Sign out everywhere else" through A closes the other session's socket on B too.
    let (one, two) = (a.sign_in("ada").await, a.sign_in("ada").await);
    let mut other = b.socket_as(&two).await;
    other.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    let ended: u64 = a
        .call_as(&one.http, "sign_out_others", serde_json::json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ended, 1);
    tokio::time::timeout(Duration::from_secs(2), other.expect_closed())
        .await
        .expect("the other session's socket on B closed");
}

#[tokio::test]
async fn a_password_changed_through_one_node_holds_on_another_and_a_session_ended_there_closes() {
    let Some(nodes) = cluster(2).await else { return };
    let (a, b) = (&nodes[0], &nodes[1]);
    let ada = a.sign_up("ada").await;
    // Node B has read ada's account (and cached it) before the change.
    let phone = b.sign_in("ada").await;
    let mut socket = b.socket_as(&phone).await;
    socket.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    let change =
        serde_json::json!({ "current": crate::helpers::PASSWORD, "new": "new horse battery", "keep_others": true });
    assert_eq!(a.call_as(&ada.http, "change_password", change).await.status(), 200);
    let sign_in = |password: &str| serde_json::json!({ "username": "ada", "password": password });
    let old = b
        .call_as(
            &crate::helpers::browser().0,
            "sign_in",
            sign_in(crate::helpers::PASSWORD),
        )
        .await;
    assert_eq!(old.status(), 400, "B still took the old password");
    let new = b
        .call_as(&crate::helpers::browser().0, "sign_in", sign_in("new horse battery"))
        .await;
    assert_eq!(new.status(), 200);

    // The phone's session, listed and ended through A, closes its socket on B.
    let listed: Vec<parley_app::api::SessionView> = a
        .call_as(&ada.http, "my_sessions", serde_json::json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    let phone_id = b
        .call_as(&phone.http, "my_sessions", serde_json::json!({}))
        .await
        .json::<Vec<parley_app::api::SessionView>>()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.current)
        .map(|s| s.session_id)
        .unwrap();
    let ended = a
        .call_as(&ada.http, "end_session", serde_json::json!({ "session_id": phone_id }))
        .await;
    assert_eq!(ended.status(), 200);
    tokio::time::timeout(Duration::from_secs(2), socket.expect_closed())
        .await
        .expect("the phone's socket on B closed within 2 s of its end through A");
}

#[tokio::test]
async fn an_account_disabled_through_one_node_is_shut_out_of_another() {
    let Some(nodes) = cluster(2).await else { return };
    let (a, b) = (&nodes[0], &nodes[1]);
    let ada = b.sign_up("ada").await;
    let mut socket = b.socket_as(&ada).await;
    socket.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    let disable = serde_json::json!({ "username": "ada", "action": "Disable" });
    assert_eq!(a.call("act_on_account", disable).await.status(), 200);
    tokio::time::timeout(Duration::from_secs(2), socket.expect_closed())
        .await
        .expect("her socket on B closed within 2 s of her account disabled through A");
    let sign_in = serde_json::json!({ "username": "ada", "password": crate::helpers::PASSWORD });
    let refused = b.call_as(&crate::helpers::browser().0, "sign_in", sign_in).await;
    assert_eq!(refused.status(), 403, "B let a disabled account sign in");
}

#[tokio::test]
async fn an_account_deleted_through_one_node_is_forgotten_by_another() {
    let Some(nodes) = cluster(2).await else { return };
    let (a, b) = (&nodes[0], &nodes[1]);
    let zelda = b.sign_up("zelda9").await;
    let bob = b.sign_up("bobby").await;
    b.open_direct(&bob, "zelda9").await;
    let args = post_args(ChannelId::GENERAL, "her words stay");
    assert_eq!(b.call_as(&zelda.http, "post_message", args).await.status(), 200);
    let mut hers = b.socket_as(&zelda).await;
    hers.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    let erase = serde_json::json!({ "username": "zelda9", "erase_messages": false });
    assert_eq!(a.call("admin_delete_account", erase).await.status(), 200);
    tokio::time::timeout(Duration::from_secs(2), hers.expect_closed())
        .await
        .expect("her socket on B closed within 2 s of her account deleted through A");
    // B serves the lobby's past without her name, from the start of the log.
    let mut his = b.socket_as(&bob).await;
    his.send(&parley::protocol::ClientFrame::Subscribe {
        channel: ChannelId::GENERAL,
        after: Position::ZERO,
        id: 0,
    })
    .await;
    let mut seen = String::new();
    loop {
        let frame = his.next().await;
        seen.push_str(&format!("{frame:?}"));
        if matches!(frame, parley::protocol::ServerFrame::CaughtUp { .. }) {
            break;
        }
    }
    assert!(seen.contains("her words stay") && !seen.contains("zelda9"), "{seen}");
    let sign_in = serde_json::json!({ "username": "zelda9", "password": crate::helpers::PASSWORD });
    let refused = b.call_as(&crate::helpers::browser().0, "sign_in", sign_in).await;
    assert_eq!(refused.status(), 400, "B let a deleted account sign in");
}

#[tokio::test]
async fn a_role_taken_through_one_node_is_refused_by_another() {
    let Some(nodes) = cluster(2).await else { return };
    let (a, b) = (&nodes[0], &nodes[1]);
    let (ada, moddy, memo) = (
        a.sign_up("ada").await,
        a.sign_up("moddy").await,
        a.sign_up("memo").await,
    );
    let space = create_space(a, &ada, "roles").await;
    let (id, general) = (space.space_id, space.channels[0].channel_id);
    let code = invite(a, &ada, id, None, None).await;
    join(a, &moddy, id, &code).await.unwrap();
    join(a, &memo, id, &code).await.unwrap();
    let promote = SpaceAction::SetRole {
        member: moddy.me.user_id,
        role: parley::Role::Moderator,
    };
    act(a, &ada, id, promote).await.unwrap();
    // Through B, moddy moderates: renames a channel (B now knows moddy's role).
    let rename = |name: &str| SpaceAction::RenameChannel {
        channel: general,
        name: name.into(),
    };
    act(b, &moddy, id, rename("lounge")).await.unwrap();
    let args = post_args(general, "memo's words");
    let message_id: parley::MessageId = serde_json::from_value(args["message_id"].clone()).unwrap();
    assert_eq!(a.call_as(&memo.http, "post_message", args).await.status(), 200);

    let demote = SpaceAction::SetRole {
        member: moddy.me.user_id,
        role: parley::Role::Member,
    };
    act(a, &ada, id, demote).await.unwrap();
    assert_eq!(act(b, &moddy, id, rename("mine")).await.unwrap_err().0, 403);
    let delete = serde_json::json!({ "channel": general, "message_id": message_id, "change": { "type": "delete" } });
    let deleted = b.call_as(&moddy.http, "change_message", delete).await;
    assert_ne!(deleted.status(), 200, "a demoted moderator deleted a message through B");
    let history = serde_json::json!({ "channel": general, "before": null, "limit": 50 });
    let page: Vec<parley::MessageView> = b.call_as(&ada.http, "history", history).await.json().await.unwrap();
    assert!(page.iter().any(|m| m.message_id == message_id && !m.deleted));
}

#[tokio::test]
async fn the_post_limit_and_the_write_budget_count_what_every_node_stored() {
    let Some(nodes) = cluster(2).await else { return };
    let (a, b) = (&nodes[0], &nodes[1]);
    for node in &nodes {
        node.engine.limit_posts(1, 3);
        node.engine.limit_writes(true);
    }
    let ada = a.sign_up("ada").await;
    let post = |node: &'static str| post_args(ChannelId::GENERAL, node);
    // Three through A use up the burst; the fourth, through B, is refused all the same.
    for _ in 0..3 {
        assert_eq!(a.call_as(&ada.http, "post_message", post("a")).await.status(), 200);
    }
    assert_eq!(b.call_as(&ada.http, "post_message", post("b")).await.status(), 429);
    // New spaces: five a minute, wherever they are made.
    for i in 0..5 {
        create_space(&nodes[i % 2], &ada, &format!("space {i}")).await;
    }
    let sixth = b
        .call_as(&ada.http, "create_space", serde_json::json!({ "name": "six" }))
        .await;
    assert_eq!(sixth.status(), 429);
    let sixth = a
        .call_as(&ada.http, "create_space", serde_json::json!({ "name": "six" }))
        .await;
    assert_eq!(sixth.status(), 429);
}

#[tokio::test]
async fn the_sockets_per_account_limit_is_shared_out_between_the_nodes() {
    let Some(nodes) = cluster(2).await else { return };
    for node in &nodes {
        node.engine.limit_sockets(2);
        // The nodes know of each other once they have heard a heartbeat.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while node.engine.presence().nodes() < 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "the nodes never heard of each other"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let (a, b) = (&nodes[0], &nodes[1]);
    let _on_a = a.socket().await;
    let _on_b = b.socket().await;
    // Two in the cluster: a third is refused on either node.
    for node in [a, b] {
        let third = tokio_tungstenite::connect_async(node.socket_request(&[("cookie", &node.user.cookie())])).await;
        match third {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 429),
            other => panic!("a third socket was let in: {:?}", other.map(|_| ())),
        }
    }
}

/// A local S3-compatible server (moto's) on loopback, for the files several nodes share.
struct LocalS3 {
    server: std::process::Child,
    endpoint: String,
}

impl LocalS3 {
    async fn start() -> Self {
        let program = std::env::var("PARLEY_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = std::process::Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {program} ({e}): install it with PARLEY_SETUP_POSTGRES=1 .ci/setup")
            });
        let endpoint = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if reqwest::get(&endpoint).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { server, endpoint }
    }

    async fn bucket(&self, name: &str) -> Vec<(String, String)> {
        let made = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(made.status().is_success(), "bucket not made: {}", made.status());
        [
            ("aws_endpoint", self.endpoint.as_str()),
            ("aws_allow_http", "true"),
            ("aws_access_key_id", "parley-test"),
            ("aws_secret_access_key", "parley-test"),
            ("aws_region", "us-east-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

impl Drop for LocalS3 {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

#[tokio::test]
async fn a_file_uploaded_through_one_node_is_served_by_another_from_the_shared_bucket() {
    if !on_postgres() {
        eprintln!("skipped: several nodes need PostgreSQL (PARLEY_TEST_POSTGRES)");
        return;
    }
    let s3 = LocalS3::start().await;
    let settings = s3.bucket("parley-files").await;
    let dir = tempfile::tempdir().unwrap();
    let url = database_in(&dir).await;
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let mut config = parley_server::config::Config::for_tests(url.clone());
        config.s3_bucket = Some("parley-files".into());
        config.s3_settings = settings.clone();
        nodes.push(crate::helpers::spawn_with(tempfile::tempdir().unwrap(), config).await);
    }
    let (a, b) = (&nodes[0], &nodes[1]);
    let ada = a.sign_up("ada").await;
    let picture = crate::files::png(640, 320);
    let file = crate::files::uploaded(a, &ada, "shared.png", picture.clone()).await;
    let args = serde_json::json!({
        "channel": ChannelId::GENERAL, "message_id": MessageId::new(), "body": "look", "attachments": [file.file_id],
    });
    assert_eq!(a.call_as(&ada.http, "post_message", args).await.status(), 200);

    // Node B has nothing on its disk: it serves the file and its thumbnail from the bucket.
    let full = crate::files::get(b, &ada.http, &format!("/files/{}", file.file_id)).await;
    assert_eq!(full.status(), 200);
    assert_eq!(full.bytes().await.unwrap().to_vec(), picture);
    let thumb = crate::files::get(b, &ada.http, &format!("/files/{}/thumb", file.file_id)).await;
    assert_eq!(thumb.status(), 200);
    // And the bucket holds it, where the store put it.
    let mut bucket = object_store::aws::AmazonS3Builder::new().with_bucket_name("parley-files");
    for (name, value) in &settings {
        bucket = bucket.with_config(name.parse().unwrap(), value);
    }
    let bucket = bucket.build().unwrap();
    let path = object_store::path::Path::from(format!("files/{}", file.file_id));
    let stored = object_store::ObjectStore::get(&bucket, &path).await.unwrap();
    assert_eq!(stored.bytes().await.unwrap().to_vec(), picture);
}

#[tokio::test]
async fn someone_taken_out_of_a_private_channel_through_one_node_is_shut_out_through_another() {
    let Some(nodes) = cluster(2).await else { return };
    let (a, b) = (&nodes[0], &nodes[1]);
    let (ada, bob) = (a.sign_up("ada").await, a.sign_up("bob").await);
    let space = create_space(a, &ada, "private").await;
    let code = invite(a, &ada, space.space_id, None, None).await;
    join(a, &bob, space.space_id, &code).await.unwrap();
    let create = SpaceAction::CreateChannel {
        name: "inner".into(),
        private: true,
    };
    let Ok(parley_app::api::SpaceOutcome::Channel { channel_id: channel }) = act(a, &ada, space.space_id, create).await
    else {
        panic!("a private channel")
    };
    let history = serde_json::json!({ "channel": channel, "before": null, "limit": 50 });
    assert_eq!(b.call_as(&bob.http, "history", history.clone()).await.status(), 400);
    // Added through A: B lets him in, and he follows it there.
    let add = SpaceAction::AddToChannel {
        channel,
        member: bob.me.user_id,
    };
    act(a, &ada, space.space_id, add).await.unwrap();
    b.wait_projected().await;
    assert_eq!(b.call_as(&bob.http, "history", history.clone()).await.status(), 200);
    let mut socket = b.socket_as(&bob).await;
    socket.subscribe(channel, Position::ZERO).await;
    // Taken out through A: B shuts every door, the socket included.
    let remove = SpaceAction::RemoveFromChannel {
        channel,
        member: bob.me.user_id,
    };
    act(a, &ada, space.space_id, remove).await.unwrap();
    socket.expect_access_lost().await;
    assert_eq!(b.call_as(&bob.http, "history", history).await.status(), 400);
    let post = b
        .call_as(&bob.http, "post_message", post_args(channel, "still here?"))
        .await;
    assert_eq!(post.status(), 400);
}

#[tokio::test]
async fn a_bot_made_through_one_node_is_a_bot_on_another_and_its_deletion_too() {
    let Some(nodes) = cluster(2).await else { return };
    let (a, b) = (&nodes[0], &nodes[1]);
    let ada = a.sign_up("ada").await;
    let space = create_space(a, &ada, "bots").await;
    let general = space.channels[0].channel_id;
    let args = serde_json::json!({ "space": space.space_id, "username": "cluster-bot", "name": "Cluster" });
    let made: parley::api::BotSecret = a.call_as(&ada.http, "create_bot", args).await.json().await.unwrap();
    let post = |node: &TestApp, channel: ChannelId| {
        let url = format!("http://{}/api/v1/channels/{channel}/messages", node.addr);
        let token = made.secret.clone();
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({ "body": "hello from the bot" }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // B followed the log: the lobby is not the bot's there either; its space's channel is.
    b.wait_projected().await;
    assert_eq!(post(b, ChannelId::GENERAL).await, 404);
    assert_eq!(post(b, general).await, 201);
    // Deleted through A: B refuses its token.
    let delete = serde_json::json!({ "space": space.space_id, "bot": made.bot.user_id });
    assert_eq!(a.call_as(&ada.http, "delete_bot", delete).await.status(), 200);
    assert_eq!(post(b, general).await, 401);
}
