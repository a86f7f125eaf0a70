//! Read markers and unread counts through the doors: counting, mentions, markers that only
//! move forward, mutes, the live feed to watching sockets and to the user's other sockets,
//! access control, and the same counts after the read models are rebuilt.

use crate::helpers::{TestApp, User, spawn_app};
use parley::protocol::{ClientFrame, ServerFrame};
use parley::unread::ChannelUnread;
use parley::{ChannelId, Event, MessageId, Position};

async fn unreads(app: &TestApp, user: &User) -> Vec<ChannelUnread> {
    // A post is acknowledged once stored; counts come from the read model.
    app.wait_projected().await;
    let response = app.call_as(&user.http, "unreads", serde_json::json!({})).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn general(app: &TestApp, user: &User) -> ChannelUnread {
    unreads(app, user)
        .await
        .into_iter()
        .find(|u| u.channel_id == ChannelId::GENERAL)
        .unwrap()
}

async fn post_as(app: &TestApp, user: &User, channel: ChannelId, body: &str) -> Position {
    let args = serde_json::json!({ "channel": channel, "message_id": MessageId::new(), "body": body });
    let response = app.call_as(&user.http, "post_message", args).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn mark_read(app: &TestApp, user: &User, channel: ChannelId, up_to: Position) -> reqwest::Response {
    let args = serde_json::json!({ "channel": channel, "up_to": up_to });
    app.call_as(&user.http, "mark_read", args).await
}

#[tokio::test]
async fn others_messages_count_until_read_and_mentions_count_apart() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let bob = app.sign_up("bob").await;
    assert_eq!(general(&app, &ada).await.unread, 0, "nothing posted since ada arrived");

    post_as(&app, &bob, ChannelId::GENERAL, "hello all").await;
    post_as(&app, &bob, ChannelId::GENERAL, "hey **@ada**, look").await;
    post_as(&app, &ada, ChannelId::GENERAL, "my own words never count").await;
    let last = post_as(&app, &bob, ChannelId::GENERAL, "@adam is someone else").await;
    let count = general(&app, &ada).await;
    assert_eq!((count.unread, count.mentions), (3, 1));
    assert_eq!(count.counted_to, last);

    // Read up to the mention: one left, and no mention.
    let mention_at = Position(last.0 - 2);
    let marked: Position = mark_read(&app, &ada, ChannelId::GENERAL, mention_at)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(marked, mention_at);
    let count = general(&app, &ada).await;
    assert_eq!((count.unread, count.mentions, count.read_up_to), (1, 0, mention_at));

    // A marker never moves back, and never past the head of the log.
    let back: Position = mark_read(&app, &ada, ChannelId::GENERAL, Position(1))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(back, mention_at);
    let head = app.head().await;
    let far: Position = mark_read(&app, &ada, ChannelId::GENERAL, Position(head.0 + 1_000))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(far, head);
    assert_eq!(general(&app, &ada).await.unread, 0);
    // Bob's count is his own.
    assert_eq!(general(&app, &bob).await.unread, 1);
}

#[tokio::test]
async fn thread_replies_and_deleted_messages_do_not_count() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let bob = app.sign_up("bob").await;
    let root = MessageId::new();
    let args = serde_json::json!({ "channel": ChannelId::GENERAL, "message_id": root, "body": "root" });
    assert_eq!(app.call_as(&bob.http, "post_message", args).await.status(), 200);
    let reply = serde_json::json!({
        "channel": ChannelId::GENERAL, "message_id": MessageId::new(), "body": "in the thread", "reply_to": root,
    });
    assert_eq!(app.call_as(&bob.http, "post_message", reply).await.status(), 200);
    let gone = MessageId::new();
    let args = serde_json::json!({ "channel": ChannelId::GENERAL, "message_id": gone, "body": "oops @ada" });
    assert_eq!(app.call_as(&bob.http, "post_message", args).await.status(), 200);
    let delete = serde_json::json!({ "channel": ChannelId::GENERAL, "message_id": gone, "change": {"type": "delete"} });
    assert_eq!(app.call_as(&bob.http, "change_message", delete).await.status(), 200);
    let count = general(&app, &ada).await;
    assert_eq!((count.unread, count.mentions), (1, 0));
}

#[tokio::test]
async fn markers_and_mutes_are_events_and_survive_a_rebuild() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let bob = app.sign_up("bob").await;
    let dm = app.open_direct(&ada, "bob").await;
    post_as(&app, &bob, dm, "one").await;
    let second = post_as(&app, &bob, dm, "two @ada").await;
    post_as(&app, &bob, ChannelId::GENERAL, "three").await;
    post_as(&app, &bob, ChannelId::GENERAL, "four").await;
    assert_eq!(mark_read(&app, &ada, dm, Position(second.0 - 1)).await.status(), 200);
    let mute = serde_json::json!({ "channel": ChannelId::GENERAL, "muted": true });
    assert_eq!(app.call_as(&ada.http, "mute_channel", mute).await.status(), 200);

    let before = unreads(&app, &ada).await;
    let direct = before.iter().find(|u| u.channel_id == dm).unwrap();
    assert_eq!((direct.unread, direct.mentions, direct.muted), (1, 1, false));
    assert!(
        before
            .iter()
            .any(|u| u.channel_id == ChannelId::GENERAL && u.muted && u.unread == 2)
    );
    let dump = app.read_model_dump().await;

    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, dump);
    let ada = app.sign_in("ada").await;
    assert_eq!(unreads(&app, &ada).await, before);
}

#[tokio::test]
async fn nobody_marks_or_mutes_a_channel_they_cannot_read() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let bob = app.sign_up("bob").await;
    let eve = app.sign_up("eve").await;
    let dm = app.open_direct(&ada, "bob").await;
    post_as(&app, &bob, dm, "private").await;
    let head = app.head().await;
    let refused = mark_read(&app, &eve, dm, head).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("no such channel"));
    let mute = serde_json::json!({ "channel": dm, "muted": true });
    assert_eq!(app.call_as(&eve.http, "mute_channel", mute).await.status(), 400);
    let unknown = mark_read(&app, &eve, ChannelId::new(), head).await;
    assert_eq!(unknown.status(), 400);
    let malformed = app
        .call_as(
            &eve.http,
            "mark_read",
            serde_json::json!({ "channel": "x", "up_to": -1 }),
        )
        .await;
    assert_eq!(malformed.status(), 400);
    assert_eq!(app.head().await, head, "nothing was appended");
    assert!(unreads(&app, &eve).await.iter().all(|u| u.channel_id != dm));
    let anonymous = app
        .call_as(&reqwest::Client::new(), "unreads", serde_json::json!({}))
        .await;
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn watching_sockets_hear_new_messages_and_a_users_sockets_hear_their_markers() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let bob = app.sign_up("bob").await;
    app.sign_up("eve").await;
    let dm = app.open_direct(&bob, "eve").await;
    let mut tab = app.socket_as(&ada).await;
    let mut other_device = app.socket_as(&ada).await;
    // A channel ada cannot read is refused; the lobby is watched.
    tab.send(&ClientFrame::Watch {
        channels: vec![ChannelId::GENERAL, dm],
    })
    .await;
    assert!(matches!(tab.next().await, ServerFrame::Error { error } if error.contains("no such channel")));

    let position = post_as(&app, &bob, ChannelId::GENERAL, "news for @ada").await;
    assert_eq!(
        tab.next().await,
        ServerFrame::Activity {
            channel: ChannelId::GENERAL,
            position,
            author: "bob".into(),
            body: "news for @ada".into(),
            reply_to: None,
            also_in_channel: false,
        }
    );
    // A socket that watches nothing hears of nothing.
    other_device.expect_silence(100).await;

    // Reading it on one socket's page: every socket of ada's hears where the marker went.
    assert_eq!(mark_read(&app, &ada, ChannelId::GENERAL, position).await.status(), 200);
    for socket in [&mut tab, &mut other_device] {
        match socket.next().await {
            ServerFrame::Personal { event } => assert_eq!(
                event.event,
                Event::ChannelRead {
                    user_id: ada.me.user_id,
                    channel_id: ChannelId::GENERAL,
                    up_to: position,
                }
            ),
            other => panic!("expected ada's marker, got {other:?}"),
        }
    }
    // Not bob's business.
    let mut bobs = app.socket_as(&bob).await;
    assert_eq!(
        mark_read(&app, &ada, ChannelId::GENERAL, app.head().await)
            .await
            .status(),
        200
    );
    bobs.expect_silence(200).await;

    // Watching nothing: no more news.
    tab.send(&ClientFrame::Watch { channels: vec![] }).await;
    let _ = tab.next().await; // ada's second marker
    tab.expect_silence(100).await;
    post_as(&app, &bob, ChannelId::GENERAL, "unheard").await;
    tab.expect_silence(200).await;
}
