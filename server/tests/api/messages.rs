//! Edits, deletes and reactions: who may do what, what the read models and the feed show,
//! and that a rebuild gives the same read models.

use crate::helpers::{User, spawn_app};
use parley::{ChannelId, Event, MessageId, MessageView, Position};
use parley_app::api::{SpaceAction, SpaceOutcome, SpaceView};
use serde_json::json;

async fn change(
    app: &crate::helpers::TestApp,
    user: &User,
    id: MessageId,
    change: serde_json::Value,
) -> reqwest::Response {
    let args = json!({ "channel": ChannelId::GENERAL, "message_id": id, "change": change });
    app.call_as(&user.http, "change_message", args).await
}

async fn view(app: &crate::helpers::TestApp, id: MessageId) -> MessageView {
    app.history(None, 100)
        .await
        .into_iter()
        .find(|m| m.message_id == id)
        .expect("the message is in the history")
}

#[tokio::test]
async fn authors_edit_and_delete_their_own_messages_only() {
    let app = spawn_app().await;
    let bob = app.sign_up("bob").await;
    let (id, _) = app.post("first draft").await;

    let edit = json!({ "type": "edit", "body": "second draft" });
    let refused = change(&app, &bob, id, edit.clone()).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("only its author"));
    let refused = change(&app, &bob, id, json!({ "type": "delete" })).await;
    assert_eq!(refused.status(), 400, "in the lobby nobody moderates");
    assert_eq!(view(&app, id).await.body, "first draft", "a refusal changes nothing");

    assert_eq!(change(&app, &app.user, id, edit).await.status(), 200);
    let edited = view(&app, id).await;
    assert_eq!((edited.body.as_str(), edited.edited), ("second draft", true));
    assert!(edited.revision > edited.position);
    let args = json!({ "channel": ChannelId::GENERAL, "message_id": id });
    let history: Vec<serde_json::Value> = app.call("edit_history", args.clone()).await.json().await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["body"], "first draft", "the earlier body is kept");
    let strangers: serde_json::Value = app
        .call_as(&bob.http, "edit_history", args.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(strangers.as_array().map(Vec::len), Some(1), "lobby members may read it");

    let empty = change(&app, &app.user, id, json!({ "type": "edit", "body": "   " })).await;
    assert_eq!(empty.status(), 400);
    let unknown = change(&app, &app.user, MessageId::new(), json!({ "type": "delete" })).await;
    assert_eq!(unknown.status(), 400);
    assert!(unknown.text().await.unwrap().contains("no such message"));
    let garbage = app
        .call(
            "change_message",
            json!({ "channel": ChannelId::GENERAL, "message_id": id, "change": { "type": "explode" } }),
        )
        .await;
    assert!(!garbage.status().is_success(), "an unknown change is refused");

    assert_eq!(
        change(&app, &app.user, id, json!({ "type": "delete" })).await.status(),
        200
    );
    let deleted = view(&app, id).await;
    assert!(deleted.deleted);
    assert_eq!(
        deleted.body, "",
        "a deleted message's words are gone from the read model"
    );
    let again = change(&app, &app.user, id, json!({ "type": "edit", "body": "back" })).await;
    assert_eq!(again.status(), 400);
    let history: Vec<serde_json::Value> = app.call("edit_history", args).await.json().await.unwrap();
    assert!(history.is_empty(), "nor is its history shown");
}

#[tokio::test]
async fn reactions_are_a_state_per_user_and_reach_subscribers_live() {
    let app = spawn_app().await;
    let bob = app.sign_up("bob").await;
    let (id, _) = app.post("react to me").await;
    app.wait_projected().await;
    let mut socket = app.socket().await;
    let (_, cursor) = socket.subscribe(ChannelId::GENERAL, Position::ZERO).await;

    let on = json!({ "type": "react", "emoji": "🎉", "on": true });
    assert_eq!(change(&app, &bob, id, on.clone()).await.status(), 200);
    assert_eq!(change(&app, &bob, id, on.clone()).await.status(), 200, "twice is once");
    assert_eq!(change(&app, &app.user, id, on).await.status(), 200);
    let thumbs = json!({ "type": "react", "emoji": "👍", "on": true });
    assert_eq!(change(&app, &bob, id, thumbs).await.status(), 200);
    let bad = change(&app, &bob, id, json!({ "type": "react", "emoji": "<b>", "on": true })).await;
    assert_eq!(bad.status(), 400);

    let seen = view(&app, id).await;
    let summary: Vec<(String, Vec<String>)> = seen
        .reactions
        .iter()
        .map(|r| (r.emoji.clone(), r.users.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("🎉".into(), vec!["bob".into(), "tester".into()]),
            ("👍".into(), vec!["bob".into()])
        ]
    );
    let off = json!({ "type": "react", "emoji": "🎉", "on": false });
    assert_eq!(change(&app, &bob, id, off).await.status(), 200);
    assert!(!view(&app, id).await.reacted("bob", "🎉"));

    // The socket got the four changes, in log order, after its cursor.
    let mut kinds = Vec::new();
    while kinds.len() < 4 {
        let event = socket.next_event().await;
        assert!(event.position > cursor);
        kinds.push(event.event.event_type());
        if let Event::ReactionAdded { user, .. } = &event.event {
            assert!(["bob", "tester"].contains(&user.as_str()));
        }
    }
    assert_eq!(
        kinds,
        ["ReactionAdded", "ReactionAdded", "ReactionAdded", "ReactionRemoved"]
    );
}

#[tokio::test]
async fn moderators_delete_others_messages_in_their_space_and_a_rebuild_agrees() {
    let app = spawn_app().await;
    let member = app.sign_up("member").await;
    // A space whose admin is the tester, with `member` joined through an invite.
    let space: SpaceView = app
        .call("create_space", json!({ "name": "Team" }))
        .await
        .json()
        .await
        .unwrap();
    let channel = space.channels[0].channel_id;
    let create = SpaceAction::CreateInvite {
        expires_in_minutes: None,
        max_uses: None,
    };
    let outcome: SpaceOutcome = app
        .call("act_on_space", json!({ "space": space.space_id, "action": create }))
        .await
        .json()
        .await
        .unwrap();
    let SpaceOutcome::Invite { code } = outcome else {
        panic!("expected an invite, got {outcome:?}")
    };
    let join = json!({ "space": space.space_id, "action": SpaceAction::Join { code } });
    assert_eq!(app.call_as(&member.http, "act_on_space", join).await.status(), 200);
    let id = MessageId::new();
    let post = json!({ "channel": channel, "message_id": id, "body": "spam" });
    assert_eq!(app.call_as(&member.http, "post_message", post).await.status(), 200);

    let args = |change: serde_json::Value| json!({ "channel": channel, "message_id": id, "change": change });
    let edit = app
        .call("change_message", args(json!({ "type": "edit", "body": "ham" })))
        .await;
    assert_eq!(
        edit.status(),
        400,
        "an admin deletes, but does not put words in a member's mouth"
    );
    let delete = app.call("change_message", args(json!({ "type": "delete" }))).await;
    assert_eq!(delete.status(), 200);
    // Through another channel's id, the message does not exist.
    let elsewhere = json!({ "channel": ChannelId::GENERAL, "message_id": id, "change": { "type": "delete" } });
    assert_eq!(
        app.call_as(&member.http, "change_message", elsewhere).await.status(),
        400
    );

    app.post("in the lobby").await;
    let (lobby, _) = app.post("edited in the lobby").await;
    change(&app, &app.user, lobby, json!({ "type": "edit", "body": "edited once" })).await;
    change(
        &app,
        &member,
        lobby,
        json!({ "type": "react", "emoji": "👍", "on": true }),
    )
    .await;
    app.wait_projected().await;
    let live = app.read_model_dump().await;
    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, live);
}

#[tokio::test]
async fn replies_go_in_their_roots_thread_which_counts_them() {
    let app = spawn_app().await;
    let bob = app.sign_up("bob").await;
    let (root, _) = app.post("a question").await;
    let reply = |user: &User, parent: MessageId, body: &str| {
        let args =
            json!({ "channel": ChannelId::GENERAL, "message_id": MessageId::new(), "body": body, "reply_to": parent });
        let http = user.http.clone();
        let app = &app;
        async move { app.call_as(&http, "post_message", args).await }
    };
    assert_eq!(reply(&bob, root, "an answer").await.status(), 200);
    app.wait_projected().await;
    let answers: Vec<MessageView> = app.history(None, 100).await;
    let first_answer = answers.iter().find(|m| m.body == "an answer").unwrap().message_id;
    // Replying to a reply goes in the same thread (threads are one level deep).
    assert_eq!(reply(&app.user, first_answer, "thanks").await.status(), 200);
    let unknown = reply(&bob, MessageId::new(), "to nothing").await;
    assert_eq!(unknown.status(), 400);

    app.wait_projected().await;
    let history = app.history(None, 100).await;
    let root_view = history.iter().find(|m| m.message_id == root).unwrap();
    assert_eq!(root_view.replies, 2);
    let thanks = history.iter().find(|m| m.body == "thanks").unwrap();
    assert_eq!(thanks.reply_to, Some(root));

    let thread: Vec<MessageView> = app
        .call("thread", json!({ "channel": ChannelId::GENERAL, "root": root }))
        .await
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = thread.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["a question", "an answer", "thanks"]);

    // A space's message cannot be answered from the lobby.
    let space: SpaceView = app
        .call("create_space", json!({ "name": "Team" }))
        .await
        .json()
        .await
        .unwrap();
    let inside = MessageId::new();
    let post = json!({ "channel": space.channels[0].channel_id, "message_id": inside, "body": "inside" });
    assert_eq!(app.call("post_message", post).await.status(), 200);
    assert_eq!(reply(&app.user, inside, "from outside").await.status(), 400);

    app.wait_projected().await;
    let live = app.read_model_dump().await;
    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, live);
}

#[tokio::test]
async fn a_change_sent_again_with_its_id_is_stored_once_and_answered_with_the_first_position() {
    let app = spawn_app().await;
    let (id, _) = app.post("to go").await;
    let change_id = MessageId::new();
    let args = json!({
        "channel": ChannelId::GENERAL,
        "message_id": id,
        "change": { "type": "delete" },
        "change_id": change_id,
    });
    let first: Option<Position> = app.call("change_message", args.clone()).await.json().await.unwrap();
    // The answer was lost; the browser sends it again (the message is deleted by now).
    let again = app.call("change_message", args).await;
    assert_eq!(again.status(), 200, "a resend is not refused as a second delete");
    let again: Option<Position> = again.json().await.unwrap();
    assert!(first.is_some());
    assert_eq!(first, again);
    let page = app.log_page(json!({ "event_type": "MessageDeleted" })).await;
    assert_eq!(page.events.len(), 1, "stored once");

    // A reaction already there needs nothing stored: no position, no event.
    let (other, _) = app.post("to react to").await;
    let react = |change_id: MessageId| {
        json!({
            "channel": ChannelId::GENERAL,
            "message_id": other,
            "change": { "type": "react", "emoji": "🎉", "on": true },
            "change_id": change_id,
        })
    };
    let stored: Option<Position> = app
        .call("change_message", react(MessageId::new()))
        .await
        .json()
        .await
        .unwrap();
    assert!(stored.is_some());
    let nothing: Option<Position> = app
        .call("change_message", react(MessageId::new()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(nothing, None);
    assert_eq!(
        app.log_page(json!({ "event_type": "ReactionAdded" }))
            .await
            .events
            .len(),
        1
    );
}
