//! Subscribing from a cursor: every missed event once, in log order, then live events once.

use crate::helpers::spawn_app;
use parley::protocol::{ClientFrame, ServerFrame};
use parley::{ChannelCommand, ChannelId, CorrelationId, EventMetadata, MessageId, Position};

#[tokio::test]
async fn catch_up_from_a_cursor_yields_exactly_the_missed_events_then_live_ones() {
    let app = spawn_app().await;
    let mut posted = Vec::new();
    for i in 0..5 {
        posted.push(app.post(&format!("message {i}")).await.1);
    }
    app.wait_projected().await;

    let mut socket = app.socket().await;
    let (missed, caught_up) = socket.subscribe(ChannelId::GENERAL, posted[1]).await;
    assert_eq!(missed, posted[2..], "exactly the events after the cursor");
    assert_eq!(caught_up, posted[4]);

    let (_, live) = app.post("live").await;
    assert_eq!(socket.next_event().await.position, live);
    socket.expect_silence(200).await;
}

#[tokio::test]
async fn a_subscriber_from_zero_gets_the_whole_channel_in_log_order() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.post(&format!("m{i}")).await;
    }
    app.wait_projected().await;
    let mut socket = app.socket().await;
    let (all, _) = socket.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    // #general's creation, then three messages.
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn events_posted_during_catch_up_arrive_once() {
    let app = spawn_app().await;
    let me = app.user.me.clone();
    for i in 0..600 {
        app.engine
            .post(
                &me,
                parley::api::PostRequest {
                    correlation_id: None,
                    attachments: Vec::new(),
                    reply_to: None,
                    also_in_channel: false,
                    channel: ChannelId::GENERAL,
                    message_id: MessageId::new(),
                    body: format!("bulk {i}"),
                },
            )
            .await
            .unwrap();
    }
    let mut socket = app.socket().await;
    socket
        .send(&ClientFrame::Subscribe {
            channel: ChannelId::GENERAL,
            after: Position::ZERO,
            id: 41,
        })
        .await;
    // Post more while the subscription pages through the store.
    let mut later = Vec::new();
    for i in 0..20 {
        later.push(app.post(&format!("during {i}")).await.1);
    }
    let head = app.head().await;
    let mut seen = Vec::new();
    let mut caught_up = Vec::new();
    while seen.last() != Some(&head) {
        match socket.next().await {
            ServerFrame::Event { event, .. } => seen.push(event.position),
            // The subscription's own name comes back with it (a client subscribing again
            // tells the answers apart).
            ServerFrame::CaughtUp { id, .. } => caught_up.push(id),
            other => panic!("unexpected {other:?}"),
        }
    }
    let mut deduped = seen.clone();
    deduped.dedup();
    assert_eq!(seen, deduped, "no event twice");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "log order");
    assert_eq!(seen.len(), 1 + 600 + 20, "no event missing");
    if caught_up.is_empty() {
        // Live events can all come before the catch-up's end is said.
        match socket.next().await {
            ServerFrame::CaughtUp { id, .. } => caught_up.push(id),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(caught_up, vec![41]);
    socket.expect_silence(200).await;
}

#[tokio::test]
async fn other_channels_events_are_not_sent() {
    let app = spawn_app().await;
    let other = ChannelId::new();
    let metadata = EventMetadata {
        actor: "system".into(),
        correlation_id: CorrelationId::new(),
        causation_id: None,
        client_message_id: None,
    };
    app.engine
        .execute(
            ChannelCommand::CreateChannel {
                channel_id: other,
                name: "other".into(),
                space_id: None,
                private: false,
                creator: None,
                membership: None,
            },
            metadata,
        )
        .await
        .unwrap();
    app.wait_projected().await;
    let mut socket = app.socket().await;
    let (events, _) = socket.subscribe(other, Position::ZERO).await;
    assert_eq!(events.len(), 1, "only the other channel's creation");
    app.post("in general").await;
    socket.expect_silence(300).await;
}

#[tokio::test]
async fn posts_over_the_socket_are_acked_and_idempotent() {
    let app = spawn_app().await;
    let mut socket = app.socket().await;
    let message_id = MessageId::new();
    let post = ClientFrame::Post {
        attachments: Vec::new(),
        reply_to: None,
        also_in_channel: false,
        channel: ChannelId::GENERAL,
        message_id,
        body: "over the socket".into(),
    };
    socket.send(&post).await;
    let ServerFrame::Ack {
        message_id: acked,
        position,
    } = socket.next().await
    else {
        panic!("expected an ack")
    };
    assert_eq!(acked, message_id);
    socket.send(&post).await;
    assert_eq!(
        socket.next().await,
        ServerFrame::Ack { message_id, position },
        "a resend acks the first position"
    );
    app.wait_projected().await;
    let history = app.history(None, 10).await;
    assert_eq!(history.iter().filter(|m| m.message_id == message_id).count(), 1);
}

#[tokio::test]
async fn a_client_that_stops_reading_does_not_hold_up_the_others() {
    let app = spawn_app().await;
    let mut stalled = app.socket().await;
    stalled.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    let mut healthy = app.socket().await;
    let (_, mut cursor) = healthy.subscribe(ChannelId::GENERAL, Position::ZERO).await;

    // Enough large messages to fill the stalled socket's buffers several times over.
    let body = "x".repeat(3_900);
    let mut tasks = Vec::new();
    for _ in 0..3_000 {
        let engine = app.engine.clone();
        let body = body.clone();
        let me = app.user.me.clone();
        tasks.push(tokio::spawn(async move {
            engine
                .post(
                    &me,
                    parley::api::PostRequest {
                        correlation_id: None,
                        attachments: Vec::new(),
                        reply_to: None,
                        also_in_channel: false,
                        channel: ChannelId::GENERAL,
                        message_id: MessageId::new(),
                        body,
                    },
                )
                .await
                .unwrap()
        }));
    }
    let mut last = Position::ZERO;
    for task in tasks {
        last = last.max(task.await.unwrap());
    }
    let mut received = Vec::new();
    while cursor < last {
        let event = healthy.next_event().await;
        assert!(event.position > cursor, "in order, no duplicates");
        cursor = event.position;
        received.push(event);
    }
    assert_eq!(received.len(), 3_000);
}

#[tokio::test]
async fn a_client_resumes_from_its_cursor_across_a_rebuild_of_the_read_models() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.post(&format!("before {i}")).await;
    }
    app.wait_projected().await;
    let mut socket = app.socket().await;
    let (seen, cursor) = socket.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    assert_eq!(seen.last(), Some(&cursor));
    drop(socket);

    // Away: more is posted; then the read models are emptied and folded again from the log.
    let mut missed = Vec::new();
    for i in 0..3 {
        missed.push(app.post(&format!("while away {i}")).await.1);
    }
    let app = app.rebuilt().await;
    let mut socket = app.socket().await;
    let (replayed, caught_up) = socket.subscribe(ChannelId::GENERAL, cursor).await;
    assert_eq!(replayed, missed, "exactly what was missed, once, in order");
    assert_eq!(caught_up, *missed.last().unwrap());
    let (_, live) = app.post("after the rebuild").await;
    assert_eq!(socket.next_event().await.position, live);
    socket.expect_silence(200).await;
}

/// The socket's logic without a server: `serve` over a pair of channels.
#[tokio::test]
async fn the_socket_logic_runs_over_any_pair_of_sink_and_stream() {
    use axum::extract::ws::Message;
    use futures::{SinkExt, StreamExt};
    let app = spawn_app().await;
    let (_, token) = app
        .engine
        .sign_up("ada", crate::helpers::PASSWORD, &parley_engine::auth::Client::default())
        .await
        .unwrap();
    let session = app.engine.authenticate(Some(&token)).await.unwrap();
    let (mut client, from_client) = futures::channel::mpsc::channel::<Result<Message, axum::Error>>(16);
    let (to_client, mut server) = futures::channel::mpsc::channel::<Message>(16);
    let serving = tokio::spawn(parley_server::http::ws::serve(
        to_client,
        from_client,
        app.engine.clone(),
        session,
    ));
    let mut next = async move || -> ServerFrame {
        let message = tokio::time::timeout(std::time::Duration::from_secs(5), server.next())
            .await
            .expect("a frame came")
            .expect("the socket is open");
        match message {
            Message::Text(text) => ServerFrame::parse(&text).expect("a server frame"),
            other => panic!("expected text, got {other:?}"),
        }
    };
    let send = |frame: ClientFrame| Ok(Message::Text(frame.to_json().into()));

    client
        .send(send(ClientFrame::Subscribe {
            channel: ChannelId::GENERAL,
            after: Position::ZERO,
            id: 0,
        }))
        .await
        .unwrap();
    loop {
        if let ServerFrame::CaughtUp { channel, .. } = next().await {
            assert_eq!(channel, ChannelId::GENERAL);
            break;
        }
    }
    let message_id = MessageId::new();
    client
        .send(send(ClientFrame::Post {
            attachments: Vec::new(),
            reply_to: None,
            also_in_channel: false,
            channel: ChannelId::GENERAL,
            message_id,
            body: "no server in between".into(),
        }))
        .await
        .unwrap();
    let mut acked = None;
    let mut seen = None;
    while acked.is_none() || seen.is_none() {
        match next().await {
            ServerFrame::Ack {
                message_id: id,
                position,
            } if id == message_id => acked = Some(position),
            ServerFrame::Event { event, .. } if event.event.client_message_id() == Some(message_id) => {
                seen = Some(event.position)
            }
            _ => {}
        }
    }
    assert_eq!(acked, seen, "acked where it was stored, and followed live");
    // The client goes away: the socket's work ends.
    client.close().await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), serving)
        .await
        .expect("serve returned")
        .unwrap();
}
