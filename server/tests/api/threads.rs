//! Followed threads through the doors: replying, being mentioned or having started a thread follows it; following by hand; unread replies counted and read; the Threads view only of readable channels; and a rebuild that agrees.

use crate::helpers::{TestApp, User, spawn_app};
use parley::threads::ThreadView;
use parley::{ChannelId, MessageId, Position};
use serde_json::json;

async fn reply(app: &TestApp, user: &User, root: MessageId, body: &str) -> MessageId {
    let id = MessageId::new();
    let args = json!({ "channel": ChannelId::GENERAL, "message_id": id, "body": body, "reply_to": root });
    assert_eq!(app.call_as(&user.http, "post_message", args).await.status(), 200);
    id
}

async fn threads(app: &TestApp, user: &User) -> Vec<ThreadView> {
    app.wait_projected().await;
    app.call_as(&user.http, "followed_threads", json!({}))
        .await
        .json()
        .await
        .unwrap()
}

/// The unread replies `user` has in the thread of `root` (none if not followed).
async fn unread(app: &TestApp, user: &User, root: MessageId) -> Option<u32> {
    threads(app, user)
        .await
        .into_iter()
        .find(|t| t.root.message_id == root)
        .map(|t| t.unread)
}

async fn follow(app: &TestApp, user: &User, root: MessageId, on: bool) -> u16 {
    let args = json!({ "channel": ChannelId::GENERAL, "root": root, "on": on });
    app.call_as(&user.http, "follow_thread", args).await.status().as_u16()
}

#[tokio::test]
async fn replies_and_mentions_follow_a_thread_and_its_new_replies_are_counted_until_read() {
    let app = spawn_app().await;
    let (ada, bob, cat, dan) = (
        app.sign_up("ada").await,
        app.sign_up("bob").await,
        app.sign_up("cat").await,
        app.sign_up("dan").await,
    );
    let root = MessageId::new();
    let args = json!({ "channel": ChannelId::GENERAL, "message_id": root, "body": "who takes the release?" });
    assert_eq!(app.call_as(&ada.http, "post_message", args).await.status(), 200);
    app.wait_projected().await;
    assert!(
        threads(&app, &ada).await.is_empty(),
        "no replies yet: nothing to follow"
    );

    reply(&app, &bob, root, "I can, with @cat").await;
    // Bob replied, Ada started it, Cat was mentioned: all three follow; Dan does not.
    assert_eq!(unread(&app, &bob, root).await, Some(0), "one's own reply is read");
    assert_eq!(unread(&app, &ada, root).await, Some(1));
    assert_eq!(unread(&app, &cat, root).await, Some(1));
    assert_eq!(unread(&app, &dan, root).await, None);
    let listed = &threads(&app, &ada).await[0];
    assert_eq!(
        (listed.root.body.as_str(), listed.root.replies),
        ("who takes the release?", 1)
    );

    // Ada reads it; a new reply counts again; her own does not.
    let last = threads(&app, &ada).await[0].last_reply;
    let args = json!({ "channel": ChannelId::GENERAL, "root": root, "up_to": last });
    let marker: Position = app
        .call_as(&ada.http, "mark_thread_read", args)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(marker, last);
    assert_eq!(unread(&app, &ada, root).await, Some(0));
    reply(&app, &bob, root, "done").await;
    reply(&app, &ada, root, "thanks").await;
    assert_eq!(
        unread(&app, &ada, root).await,
        Some(0),
        "replying reads it up to the reply"
    );
    assert_eq!(unread(&app, &cat, root).await, Some(3));

    // Cat stops following: new replies leave her alone, until she replies herself.
    let mut socket = app.socket_as(&cat).await;
    assert_eq!(follow(&app, &cat, root, false).await, 200);
    loop {
        if let parley::protocol::ServerFrame::Personal { event } = socket.next().await {
            assert!(matches!(
                event.event,
                parley::Event::ThreadFollowed { following: false, .. }
            ));
            break;
        }
    }
    reply(&app, &bob, root, "one more").await;
    assert_eq!(unread(&app, &cat, root).await, None);
    // Dan follows by hand: the replies from then on count.
    assert_eq!(follow(&app, &dan, root, true).await, 200);
    assert_eq!(follow(&app, &dan, root, true).await, 200, "twice is once");
    reply(&app, &bob, root, "and another").await;
    assert_eq!(
        unread(&app, &dan, root).await,
        Some(5),
        "a thread followed by hand counts all it has"
    );

    // Only a thread's first message can be followed; a made-up one is refused.
    let a_reply = reply(&app, &bob, root, "a reply").await;
    app.wait_projected().await;
    assert_eq!(follow(&app, &dan, a_reply, true).await, 400);
    assert_eq!(follow(&app, &dan, MessageId::new(), true).await, 400);

    let live = app.read_model_dump().await;
    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, live);
}

#[tokio::test]
async fn a_thread_in_a_channel_one_cannot_read_is_not_listed() {
    let app = spawn_app().await;
    let (ada, eve) = (app.sign_up("ada").await, app.sign_up("eve").await);
    let space = crate::spaces::create_space(&app, &ada, "Team").await;
    let channel = space.channels[0].channel_id;
    let root = MessageId::new();
    let args = json!({ "channel": channel, "message_id": root, "body": "a question" });
    assert_eq!(app.call_as(&ada.http, "post_message", args).await.status(), 200);
    app.wait_projected().await;
    // Eve, not in the space, is mentioned in a reply: she follows nothing she cannot read.
    let args = json!({ "channel": channel, "message_id": MessageId::new(), "body": "ask @eve", "reply_to": root });
    assert_eq!(app.call_as(&ada.http, "post_message", args).await.status(), 200);
    assert!(threads(&app, &eve).await.is_empty());
    let args = json!({ "channel": channel, "root": root, "on": true });
    assert_eq!(app.call_as(&eve.http, "follow_thread", args).await.status(), 400);
    assert_eq!(threads(&app, &ada).await.len(), 1);
}

#[tokio::test]
async fn a_reply_also_sent_to_the_channel_shows_and_counts_there() {
    let app = spawn_app().await;
    let (ada, bob) = (app.sign_up("ada").await, app.sign_up("bob").await);
    let (root, _) = app.post("the plan").await;
    let unread_here = |user: &User| {
        let http = user.http.clone();
        let app = &app;
        async move {
            app.wait_projected().await;
            let counts: serde_json::Value = app.call_as(&http, "unreads", json!({})).await.json().await.unwrap();
            counts
                .as_array()
                .and_then(|all| all.iter().find(|c| c["channel_id"] == json!(ChannelId::GENERAL)))
                .map(|c| c["unread"].as_u64().unwrap_or(0))
                .unwrap_or(0)
        }
    };
    let before = unread_here(&ada).await;
    reply(&app, &bob, root, "a quiet reply").await;
    assert_eq!(unread_here(&ada).await, before, "a reply counts in its thread only");
    let loud = MessageId::new();
    let args = json!({ "channel": ChannelId::GENERAL, "message_id": loud, "body": "everyone should see this",
                       "reply_to": root, "also_in_channel": true });
    assert_eq!(app.call_as(&bob.http, "post_message", args).await.status(), 200);
    assert_eq!(
        unread_here(&ada).await,
        before + 1,
        "also sent to the channel: it counts there"
    );
    let history = app.history(None, 100).await;
    let shown = history.iter().find(|m| m.message_id == loud).expect("in the history");
    assert!(shown.also_in_channel && shown.reply_to == Some(root));
    // A message that is not a reply is simply a message.
    let plain = MessageId::new();
    let args =
        json!({ "channel": ChannelId::GENERAL, "message_id": plain, "body": "not a reply", "also_in_channel": true });
    assert_eq!(app.call_as(&bob.http, "post_message", args).await.status(), 200);
    app.wait_projected().await;
    let history = app.history(None, 100).await;
    assert!(
        !history
            .iter()
            .find(|m| m.message_id == plain)
            .expect("stored")
            .also_in_channel
    );

    let live = app.read_model_dump().await;
    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, live);
}
