//! Private channels, the channel browser and deleted channels through every door: who may find, read, follow and search a private channel, who adds and removes its people, leaving and joining public channels, and a deleted channel gone from every door while the log keeps it redacted.

use crate::helpers::{TestApp, User, spawn_app};
use crate::spaces::{act, create_space, invite, join, post_args};
use parley::api::{ChannelListing, SearchHit};
use parley::protocol::{ClientFrame, ServerFrame};
use parley::{ChannelId, MessageView, Position};
use parley_app::api::{SpaceAction, SpaceOutcome, SpaceView};
use serde_json::json;

async fn spaces_of(app: &TestApp, user: &User) -> Vec<SpaceView> {
    app.call_as(&user.http, "my_spaces", json!({}))
        .await
        .json()
        .await
        .unwrap()
}

/// The channel names `user` has in the sidebar for the first space.
async fn sidebar(app: &TestApp, user: &User) -> Vec<String> {
    spaces_of(app, user).await[0]
        .channels
        .iter()
        .map(|c| c.name.clone())
        .collect()
}

async fn history(app: &TestApp, user: &User, channel: ChannelId) -> (u16, Vec<MessageView>) {
    let args = json!({ "channel": channel, "before": null, "limit": 50 });
    let response = app.call_as(&user.http, "history", args).await;
    let status = response.status().as_u16();
    (
        status,
        if status == 200 {
            response.json().await.unwrap()
        } else {
            Vec::new()
        },
    )
}

async fn search(app: &TestApp, user: &User, query: &str) -> Vec<SearchHit> {
    app.call_as(&user.http, "search", json!({ "query": query }))
        .await
        .json()
        .await
        .unwrap()
}

async fn browse(app: &TestApp, user: &User, space: parley::SpaceId) -> Vec<ChannelListing> {
    app.call_as(&user.http, "browse_channels", json!({ "space": space }))
        .await
        .json()
        .await
        .unwrap_or_default()
}

#[tokio::test]
async fn a_private_channel_is_for_those_added_only_on_every_door() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let (bob, cat) = (app.sign_up("bob").await, app.sign_up("cat").await);
    let space = create_space(&app, &ada, "Team").await;
    let code = invite(&app, &ada, space.space_id, None, None).await;
    join(&app, &bob, space.space_id, &code).await.unwrap();
    join(&app, &cat, space.space_id, &code).await.unwrap();
    let create = SpaceAction::CreateChannel {
        name: "secret".into(),
        private: true,
    };
    // A member may not make channels; the admin does.
    assert!(act(&app, &bob, space.space_id, create.clone()).await.is_err());
    let Ok(SpaceOutcome::Channel { channel_id: secret }) = act(&app, &ada, space.space_id, create).await else {
        panic!("the admin creates a private channel")
    };
    let words = "the merger closes on friday";
    assert_eq!(
        app.call_as(&ada.http, "post_message", post_args(secret, words))
            .await
            .status(),
        200
    );
    app.wait_projected().await;

    // Bob, a member of the space but not of the channel, finds nothing through any door.
    assert_eq!(sidebar(&app, &bob).await, ["general"]);
    assert!(
        browse(&app, &bob, space.space_id)
            .await
            .iter()
            .all(|l| l.channel.channel_id != secret)
    );
    assert_eq!(history(&app, &bob, secret).await.0, 400);
    let post = app
        .call_as(&bob.http, "post_message", post_args(secret, "let me in"))
        .await;
    assert_eq!(post.status(), 400);
    assert!(post.text().await.unwrap().contains("no such channel"));
    assert!(search(&app, &bob, "merger").await.is_empty());
    let mut socket = app.socket_as(&bob).await;
    socket
        .send(&ClientFrame::Subscribe {
            channel: secret,
            after: Position::ZERO,
            id: 0,
        })
        .await;
    assert!(
        matches!(socket.next().await, ServerFrame::Refused { error, .. } if error == "no such channel"),
        "the socket refuses too"
    );
    let members = json!({ "space": space.space_id, "channel": secret });
    assert_eq!(
        app.call_as(&bob.http, "channel_members", members.clone())
            .await
            .status(),
        400
    );
    // Nor may he add himself, nor be added by another member.
    let add_bob = SpaceAction::AddToChannel {
        channel: secret,
        member: bob.me.user_id,
    };
    assert!(act(&app, &bob, space.space_id, add_bob.clone()).await.is_err());
    let (status, _) = act(&app, &bob, space.space_id, SpaceAction::JoinChannel { channel: secret })
        .await
        .unwrap_err();
    assert_eq!(status, 400, "to him it does not exist");

    // The admin adds Bob: he has it in his sidebar, reads it, follows it, finds it.
    act(&app, &ada, space.space_id, add_bob).await.unwrap();
    assert_eq!(sidebar(&app, &bob).await, ["general", "secret"]);
    assert!(spaces_of(&app, &bob).await[0].channels[1].private);
    assert_eq!(history(&app, &bob, secret).await.1.len(), 1);
    assert_eq!(search(&app, &bob, "merger").await.len(), 1);
    let mut socket = app.socket_as(&bob).await;
    socket.subscribe(secret, Position::ZERO).await;
    let people: Vec<parley::api::MemberView> = app
        .call_as(&bob.http, "channel_members", members)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = people.iter().map(|m| m.username.as_str()).collect();
    assert_eq!(names, ["ada", "bob"]);
    // Cat is still outside; adding a stranger to the space is refused.
    assert_eq!(history(&app, &cat, secret).await.0, 400);
    let stranger = app.sign_up("eve").await;
    let add_stranger = SpaceAction::AddToChannel {
        channel: secret,
        member: stranger.me.user_id,
    };
    let refused = act(&app, &ada, space.space_id, add_stranger).await.unwrap_err();
    assert!(
        refused.1.to_string().contains("not a member of this space"),
        "{refused:?}"
    );

    // Taken out: his socket hears he can no longer read it, and every door is shut again.
    let remove = SpaceAction::RemoveFromChannel {
        channel: secret,
        member: bob.me.user_id,
    };
    act(&app, &ada, space.space_id, remove).await.unwrap();
    socket.expect_access_lost().await;
    assert_eq!(history(&app, &bob, secret).await.0, 400);
    assert!(search(&app, &bob, "merger").await.is_empty());
    assert_eq!(sidebar(&app, &bob).await, ["general"]);

    app.wait_projected().await;
    let live = app.read_model_dump().await;
    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, live);
}

#[tokio::test]
async fn public_channels_are_browsed_left_and_joined_and_a_deleted_one_is_gone() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let bob = app.sign_up("bob").await;
    let space = create_space(&app, &ada, "Team").await;
    let code = invite(&app, &ada, space.space_id, None, None).await;
    join(&app, &bob, space.space_id, &code).await.unwrap();
    let create = SpaceAction::CreateChannel {
        name: "random".into(),
        private: false,
    };
    let Ok(SpaceOutcome::Channel { channel_id: random }) = act(&app, &ada, space.space_id, create).await else {
        panic!("a channel")
    };
    let words = "a rather unusual marmalade";
    assert_eq!(
        app.call_as(&ada.http, "post_message", post_args(random, words))
            .await
            .status(),
        200
    );
    app.wait_projected().await;

    // Bob leaves #random: out of his sidebar and his unread counts, still in the browser.
    assert_eq!(sidebar(&app, &bob).await, ["general", "random"]);
    act(
        &app,
        &bob,
        space.space_id,
        SpaceAction::LeaveChannel { channel: random },
    )
    .await
    .unwrap();
    assert_eq!(sidebar(&app, &bob).await, ["general"]);
    let unreads: serde_json::Value = app.call_as(&bob.http, "unreads", json!({})).await.json().await.unwrap();
    assert!(!unreads.to_string().contains(&random.to_string()), "{unreads}");
    let listed = browse(&app, &bob, space.space_id).await;
    let row = listed.iter().find(|l| l.channel.channel_id == random).expect("listed");
    assert_eq!((row.joined, row.members), (false, 1));
    // A public channel stays readable: leaving is not losing access.
    assert_eq!(history(&app, &bob, random).await.0, 200);
    // A stranger browses nothing.
    let eve = app.sign_up("eve").await;
    let response = app
        .call_as(&eve.http, "browse_channels", json!({ "space": space.space_id }))
        .await;
    assert_eq!(response.status(), 403);
    act(&app, &bob, space.space_id, SpaceAction::JoinChannel { channel: random })
        .await
        .unwrap();
    assert_eq!(sidebar(&app, &bob).await, ["general", "random"]);

    // Only an admin deletes a channel; then no door has it, and the log keeps it redacted.
    let delete = SpaceAction::DeleteChannel { channel: random };
    assert!(matches!(
        act(&app, &bob, space.space_id, delete.clone()).await,
        Err((403, _))
    ));
    act(&app, &ada, space.space_id, delete).await.unwrap();
    assert_eq!(sidebar(&app, &ada).await, ["general"]);
    assert_eq!(history(&app, &ada, random).await.0, 400);
    assert!(search(&app, &ada, "marmalade").await.is_empty());
    let post = app
        .call_as(&ada.http, "post_message", post_args(random, "hello?"))
        .await;
    assert_eq!(post.status(), 400);
    app.wait_projected().await;
    let log = app.log_page(json!({})).await;
    assert!(
        !serde_json::to_string(&log).unwrap().contains("marmalade"),
        "the log keeps the post, redacted"
    );

    app.wait_projected().await;
    let live = app.read_model_dump().await;
    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, live);
}

#[tokio::test]
async fn someone_removed_from_the_space_and_invited_again_is_not_back_in_its_private_channels() {
    let app = spawn_app().await;
    let (ada, bob) = (app.sign_up("ada").await, app.sign_up("bob").await);
    let space = create_space(&app, &ada, "Team").await;
    let code = invite(&app, &ada, space.space_id, None, None).await;
    join(&app, &bob, space.space_id, &code).await.unwrap();
    let create = SpaceAction::CreateChannel {
        name: "secret".into(),
        private: true,
    };
    let Ok(SpaceOutcome::Channel { channel_id: secret }) = act(&app, &ada, space.space_id, create).await else {
        panic!("the admin creates a private channel")
    };
    let add_bob = SpaceAction::AddToChannel {
        channel: secret,
        member: bob.me.user_id,
    };
    act(&app, &ada, space.space_id, add_bob.clone()).await.unwrap();
    // He leaves a public channel too: that, on the other hand, is forgotten with the space.
    act(
        &app,
        &bob,
        space.space_id,
        SpaceAction::LeaveChannel {
            channel: space.channels[0].channel_id,
        },
    )
    .await
    .unwrap();
    assert_eq!(sidebar(&app, &bob).await, ["secret"]);

    let remove = SpaceAction::Remove { member: bob.me.user_id };
    act(&app, &ada, space.space_id, remove).await.unwrap();
    join(&app, &bob, space.space_id, &code).await.unwrap();
    assert_eq!(sidebar(&app, &bob).await, ["general"], "a fresh start in the space");
    assert_eq!(history(&app, &bob, secret).await.0, 400);
    let post = app
        .call_as(&bob.http, "post_message", post_args(secret, "still here?"))
        .await;
    assert_eq!(
        post.status(),
        400,
        "not in it through the door that decides from the log either"
    );
    let members = json!({ "space": space.space_id, "channel": secret });
    let people: Vec<parley::api::MemberView> = app
        .call_as(&ada.http, "channel_members", members)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(people.iter().map(|m| m.username.as_str()).collect::<Vec<_>>(), ["ada"]);
    // Added again, he is in again.
    act(&app, &ada, space.space_id, add_bob).await.unwrap();
    assert_eq!(history(&app, &bob, secret).await.0, 200);

    app.wait_projected().await;
    let live = app.read_model_dump().await;
    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, live);
}
