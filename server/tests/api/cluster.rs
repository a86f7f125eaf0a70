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
async fn presence_of(socket: &mut crate::helpers::Socket, user: &str, limit: Duration) -> Status {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if let ServerFrame::Presence { users, .. } = socket.next_within(left).await
            && let Some((_, status)) = users.iter().find(|(u, _)| u == user)
        {
            return *status;
        }
    }
}

#[tokio::test]
async fn presence_on_one_node_is_seen_on_the_others_and_a_stopped_nodes_users_go_offline() {
    let Some(mut nodes) = cluster(3).await else { return };
    let ada = nodes[0].sign_up("ada").await;
    // The watchers (`tester`) see Ada's presence because they share a conversation.
    nodes[0].open_direct(&ada, "tester").await;
    let mut watcher = nodes[1].socket().await;
    watcher.send(&ClientFrame::WatchPresence).await;
    assert!(matches!(watcher.next().await, ServerFrame::Presence { full: true, .. }));

    let mut ada_socket = nodes[0].socket_as(&ada).await;
    assert_eq!(
        presence_of(&mut watcher, "ada", Duration::from_secs(5)).await,
        Status::Online
    );
    ada_socket.send(&ClientFrame::Away { away: true }).await;
    assert_eq!(
        presence_of(&mut watcher, "ada", Duration::from_secs(5)).await,
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

    // Her node stops (it never says goodbye): the others take it for gone after a few
    // silent seconds, and she goes offline after the grace period.
    let first = nodes.remove(0);
    let stopped = std::time::Instant::now();
    let _dir = first.stop().await;
    drop(ada_socket);
    assert_eq!(
        presence_of(&mut watcher, "ada", Duration::from_secs(15)).await,
        Status::Offline
    );
    assert!(
        stopped.elapsed() >= Duration::from_secs(4),
        "not at once: a reload elsewhere has the grace period to come back"
    );
    assert_eq!(
        presence_of(&mut late, "ada", Duration::from_secs(5)).await,
        Status::Offline
    );
}
