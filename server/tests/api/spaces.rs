//! Spaces through the doors: the role model, invites, and every door refusing non-members.

use crate::helpers::{TestApp, User, spawn_app};
use parley::protocol::{ClientFrame, ServerFrame};
use parley::{ChannelId, MessageId, Position, Role, SpaceId};
use parley_app::api::{AppError, MemberView, SpaceAction, SpaceOutcome, SpaceView};

pub(crate) async fn create_space(app: &TestApp, user: &User, name: &str) -> SpaceView {
    let response = app
        .call_as(&user.http, "create_space", serde_json::json!({ "name": name }))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Acts on a space; returns the HTTP status and the outcome or error.
pub(crate) async fn act(
    app: &TestApp,
    user: &User,
    space: SpaceId,
    action: SpaceAction,
) -> Result<SpaceOutcome, (u16, AppError)> {
    let args = serde_json::json!({ "space": space, "action": action });
    let response = app.call_as(&user.http, "act_on_space", args).await;
    let status = response.status().as_u16();
    if status == 200 {
        Ok(response.json().await.unwrap())
    } else {
        Err((status, response.json().await.unwrap()))
    }
}

pub(crate) async fn invite(
    app: &TestApp,
    user: &User,
    space: SpaceId,
    minutes: Option<u32>,
    uses: Option<u32>,
) -> String {
    let action = SpaceAction::CreateInvite {
        expires_in_minutes: minutes,
        max_uses: uses,
    };
    match act(app, user, space, action).await {
        Ok(SpaceOutcome::Invite { code }) => code,
        other => panic!("expected an invite, got {other:?}"),
    }
}

pub(crate) async fn join(
    app: &TestApp,
    user: &User,
    space: SpaceId,
    code: &str,
) -> Result<SpaceOutcome, (u16, AppError)> {
    act(app, user, space, SpaceAction::Join { code: code.into() }).await
}

async fn spaces_of(app: &TestApp, user: &User) -> Vec<SpaceView> {
    app.call_as(&user.http, "my_spaces", serde_json::json!({}))
        .await
        .json()
        .await
        .unwrap()
}

pub(crate) fn post_args(channel: ChannelId, body: &str) -> serde_json::Value {
    serde_json::json!({ "channel": channel, "message_id": MessageId::new(), "body": body })
}

#[tokio::test]
async fn a_new_space_has_its_creator_as_admin_and_a_general_channel() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let space = create_space(&app, &ada, "  Analytical Engines ").await;
    assert_eq!(space.name, "Analytical Engines");
    assert_eq!(space.role, Role::Admin);
    assert_eq!(space.channels.len(), 1);
    assert_eq!(space.channels[0].name, "general");
    assert_eq!(spaces_of(&app, &ada).await, vec![space.clone()]);
    let posted = app
        .call_as(
            &ada.http,
            "post_message",
            post_args(space.channels[0].channel_id, "first"),
        )
        .await;
    assert_eq!(posted.status(), 200);
    let bad = app
        .call_as(&ada.http, "create_space", serde_json::json!({ "name": "  " }))
        .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn every_door_refuses_a_non_member_even_with_the_right_ids() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let eve = app.sign_up("eve").await;
    let space = create_space(&app, &ada, "private").await;
    let channel = space.channels[0].channel_id;
    app.call_as(&ada.http, "post_message", post_args(channel, "secret plans"))
        .await;
    app.wait_projected().await;
    let head = app.head().await;

    // Server functions: post and history look exactly like a channel that does not exist.
    let response = app
        .call_as(&eve.http, "post_message", post_args(channel, "let me in"))
        .await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("no such channel"));
    let history = serde_json::json!({ "channel": channel, "before": null, "limit": 50 });
    let response = app.call_as(&eve.http, "history", history).await;
    assert_eq!(response.status(), 400);
    assert!(!response.text().await.unwrap().contains("secret"));
    let members = app
        .call_as(&eve.http, "members", serde_json::json!({ "space": space.space_id }))
        .await;
    assert_eq!(members.status(), 403);
    assert!(spaces_of(&app, &eve).await.is_empty());

    // WebSocket: subscribe and post frames.
    let mut socket = app.socket_as(&eve).await;
    socket
        .send(&ClientFrame::Subscribe {
            channel,
            after: Position::ZERO,
            id: 0,
        })
        .await;
    assert!(matches!(socket.next().await, ServerFrame::Refused { error, .. } if error == "no such channel"));
    let message_id = MessageId::new();
    socket
        .send(&ClientFrame::Post {
            attachments: Vec::new(),
            reply_to: None,
            also_in_channel: false,
            channel,
            message_id,
            body: "over the socket".into(),
        })
        .await;
    assert!(matches!(
        socket.next().await,
        ServerFrame::Rejected { message_id: m, error } if m == message_id && error.contains("no such channel")
    ));
    socket.expect_silence(300).await;
    assert_eq!(app.head().await, head, "nothing was stored");

    // Once invited, the same doors open.
    let code = invite(&app, &ada, space.space_id, None, None).await;
    join(&app, &eve, space.space_id, &code).await.unwrap();
    let (events, _) = socket.subscribe(channel, Position::ZERO).await;
    assert_eq!(events.len(), 2, "the channel's creation and ada's message");
}

#[tokio::test]
async fn roles_decide_who_may_invite_add_channels_remove_and_manage() {
    let app = spawn_app().await;
    let (ada, mod_, mem) = (
        app.sign_up("ada").await,
        app.sign_up("moddy").await,
        app.sign_up("memo").await,
    );
    let space = create_space(&app, &ada, "roles").await;
    let id = space.space_id;
    let code = invite(&app, &ada, id, None, None).await;
    join(&app, &mod_, id, &code).await.unwrap();
    join(&app, &mem, id, &code).await.unwrap();
    let set_role = SpaceAction::SetRole {
        member: mod_.me.user_id,
        role: Role::Moderator,
    };
    // Only an admin changes roles.
    assert_eq!(act(&app, &mem, id, set_role.clone()).await.unwrap_err().0, 403);
    act(&app, &ada, id, set_role).await.unwrap();

    let add = |name: &str| SpaceAction::CreateChannel {
        name: name.into(),
        private: false,
    };
    let no_invite = SpaceAction::CreateInvite {
        expires_in_minutes: None,
        max_uses: None,
    };
    // A member: no invites, no channels, no removals, no renames.
    assert_eq!(act(&app, &mem, id, no_invite.clone()).await.unwrap_err().0, 403);
    assert_eq!(act(&app, &mem, id, add("random")).await.unwrap_err().0, 403);
    let remove_mod = SpaceAction::Remove {
        member: mod_.me.user_id,
    };
    assert_eq!(act(&app, &mem, id, remove_mod.clone()).await.unwrap_err().0, 403);
    let rename = SpaceAction::Rename { name: "mine".into() };
    assert_eq!(act(&app, &mem, id, rename.clone()).await.unwrap_err().0, 403);
    // A moderator: invites and channels, removes members, but not admins; no renames.
    act(&app, &mod_, id, no_invite).await.unwrap();
    assert!(matches!(
        act(&app, &mod_, id, add("random")).await,
        Ok(SpaceOutcome::Channel { .. })
    ));
    let remove_admin = SpaceAction::Remove { member: ada.me.user_id };
    assert_eq!(act(&app, &mod_, id, remove_admin).await.unwrap_err().0, 403);
    assert_eq!(act(&app, &mod_, id, rename).await.unwrap_err().0, 403);
    let remove_mem = SpaceAction::Remove { member: mem.me.user_id };
    act(&app, &mod_, id, remove_mem).await.unwrap();
    assert!(spaces_of(&app, &mem).await.is_empty(), "removed");
    // The admin: everything.
    act(&app, &ada, id, SpaceAction::Rename { name: "Renamed".into() })
        .await
        .unwrap();
    let members: Vec<MemberView> = app
        .call_as(&ada.http, "members", serde_json::json!({ "space": id }))
        .await
        .json()
        .await
        .unwrap();
    let roles: Vec<(String, Role)> = members.into_iter().map(|m| (m.username, m.role)).collect();
    assert_eq!(
        roles,
        [("ada".to_string(), Role::Admin), ("moddy".to_string(), Role::Moderator)]
    );
    let names: Vec<String> = spaces_of(&app, &mod_).await[0]
        .channels
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(names, ["general", "random"]);
    // Channels: moderators rename and archive them; members cannot; archived ones take no posts.
    let random = spaces_of(&app, &mod_).await[0].channels[1].channel_id;
    let rename_random = SpaceAction::RenameChannel {
        channel: random,
        name: "watercooler".into(),
    };
    // (Removed from the space by now: to him the channel does not exist.)
    let refused = act(&app, &mem, id, rename_random.clone()).await.unwrap_err();
    assert_eq!(refused.0, 400, "{refused:?}");
    assert!(refused.1.to_string().contains("no such channel"));
    act(&app, &mod_, id, rename_random).await.unwrap();
    assert_eq!(spaces_of(&app, &ada).await[0].channels[1].name, "watercooler");
    let archive = SpaceAction::ArchiveChannel { channel: random };
    act(&app, &mod_, id, archive.clone()).await.unwrap();
    assert_eq!(
        spaces_of(&app, &ada).await[0].channels.len(),
        1,
        "archived channels leave the sidebar"
    );
    let post = app
        .call_as(&ada.http, "post_message", post_args(random, "hello?"))
        .await;
    assert_eq!(post.status(), 400);
    assert!(post.text().await.unwrap().contains("archived"));
    assert_eq!(act(&app, &ada, id, archive).await.unwrap_err().0, 400, "archived once");
    assert_eq!(spaces_of(&app, &ada).await[0].name, "Renamed");
    // The last admin cannot leave others behind; after deleting, nobody sees it.
    let leave = act(&app, &ada, id, SpaceAction::Leave).await.unwrap_err();
    assert!(leave.1.to_string().contains("last admin"), "{leave:?}");
    act(&app, &ada, id, SpaceAction::Delete).await.unwrap();
    assert!(spaces_of(&app, &ada).await.is_empty());
    assert!(spaces_of(&app, &mod_).await.is_empty());
}

#[tokio::test]
async fn invites_run_out_can_be_revoked_and_are_checked() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let space = create_space(&app, &ada, "invites").await;
    let id = space.space_id;
    let once = invite(&app, &ada, id, Some(60), Some(1)).await;
    assert_eq!(once.len(), 12);
    join(&app, &app.sign_up("first").await, id, &once).await.unwrap();
    let second = app.sign_up("second").await;
    let used_up = join(&app, &second, id, &once).await.unwrap_err();
    assert!(used_up.1.to_string().contains("used up"), "{used_up:?}");

    let listed: Vec<parley_app::api::InviteView> = app
        .call_as(&ada.http, "invites", serde_json::json!({ "space": id }))
        .await
        .json()
        .await
        .unwrap();
    assert!(listed.is_empty(), "a used-up invite is not listed: {listed:?}");
    let revoked = invite(&app, &ada, id, None, None).await;
    let listed: Vec<parley_app::api::InviteView> = app
        .call_as(&ada.http, "invites", serde_json::json!({ "space": id }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|i| i.code.as_str()).collect::<Vec<_>>(),
        [revoked.as_str()]
    );
    let as_member = app
        .call_as(&second.http, "invites", serde_json::json!({ "space": id }))
        .await;
    assert_eq!(as_member.status(), 403);
    act(&app, &ada, id, SpaceAction::RevokeInvite { code: revoked.clone() })
        .await
        .unwrap();
    let refused = join(&app, &second, id, &revoked).await.unwrap_err();
    assert!(refused.1.to_string().contains("revoked"), "{refused:?}");

    let wrong = join(&app, &second, id, "NOTACODE99").await.unwrap_err();
    assert!(wrong.1.to_string().contains("no such invite"), "{wrong:?}");
    let elsewhere = join(&app, &second, SpaceId::new(), &once).await.unwrap_err();
    assert!(elsewhere.1.to_string().contains("no such invite"), "{elsewhere:?}");
    let zero = SpaceAction::CreateInvite {
        expires_in_minutes: None,
        max_uses: Some(0),
    };
    assert_eq!(act(&app, &ada, id, zero).await.unwrap_err().0, 400);
    assert!(spaces_of(&app, &second).await.is_empty());
}

#[tokio::test]
async fn an_expired_invite_is_refused() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let space = create_space(&app, &ada, "expiring").await;
    let code = invite(&app, &ada, space.space_id, Some(10), None).await;
    let early = app.sign_up("early").await;
    app.engine.advance_clock(std::time::Duration::from_secs(9 * 60));
    join(&app, &early, space.space_id, &code).await.unwrap();
    app.engine.advance_clock(std::time::Duration::from_secs(60));
    let refused = join(&app, &app.sign_up("late").await, space.space_id, &code)
        .await
        .unwrap_err();
    assert!(refused.1.to_string().contains("expired"), "{refused:?}");
}

#[tokio::test]
async fn spaces_survive_a_projection_rebuild() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let space = create_space(&app, &ada, "rebuilt").await;
    let code = invite(&app, &ada, space.space_id, None, Some(5)).await;
    join(&app, &app.sign_up("bob").await, space.space_id, &code)
        .await
        .unwrap();
    app.wait_projected().await;
    let before = app.read_model_dump().await;
    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, before);
}

#[tokio::test]
async fn direct_conversations_admit_their_people_only() {
    let app = spawn_app().await;
    let (ada, bob, eve) = (
        app.sign_up("ada").await,
        app.sign_up("bob").await,
        app.sign_up("eve").await,
    );
    let open = |user: &User, with: &[&str]| {
        let args = serde_json::json!({ "usernames": with });
        let http = user.http.clone();
        let url = format!("http://{}/api/open_direct", app.addr);
        async move { http.post(url).json(&args).send().await.unwrap() }
    };
    let dm: parley_app::api::DirectView = open(&ada, &["Bob"]).await.json().await.unwrap();
    assert_eq!(dm.with, ["bob"]);
    // Opening it again, from either side, finds the same conversation.
    let again: parley_app::api::DirectView = open(&bob, &["ada"]).await.json().await.unwrap();
    assert_eq!(again.channel_id, dm.channel_id);
    assert_eq!(again.with, ["ada"]);

    let posted = app
        .call_as(&bob.http, "post_message", post_args(dm.channel_id, "just us"))
        .await;
    assert_eq!(posted.status(), 200);
    let head = app.head().await;
    let refused = app
        .call_as(&eve.http, "post_message", post_args(dm.channel_id, "me too"))
        .await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("no such channel"));
    let mut socket = app.socket_as(&eve).await;
    socket
        .send(&ClientFrame::Subscribe {
            channel: dm.channel_id,
            after: Position::ZERO,
            id: 0,
        })
        .await;
    assert!(matches!(socket.next().await, ServerFrame::Refused { error, .. } if error == "no such channel"));
    assert_eq!(app.head().await, head);

    let unknown = open(&ada, &["nobody-here"]).await;
    assert_eq!(unknown.status(), 400);
    assert!(unknown.text().await.unwrap().contains("no such user"));
    let eves: Vec<parley_app::api::DirectView> = app
        .call_as(&eve.http, "my_directs", serde_json::json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(eves.is_empty());
}

#[tokio::test]
async fn a_removed_member_stops_receiving_at_once() {
    let app = spawn_app().await;
    let (ada, bob) = (app.sign_up("ada").await, app.sign_up("bob").await);
    let space = create_space(&app, &ada, "kick").await;
    let channel = space.channels[0].channel_id;
    let code = invite(&app, &ada, space.space_id, None, None).await;
    join(&app, &bob, space.space_id, &code).await.unwrap();
    let mut socket = app.socket_as(&bob).await;
    socket.subscribe(channel, Position::ZERO).await;
    app.call_as(&ada.http, "post_message", post_args(channel, "while bob is here"))
        .await;
    assert!(matches!(socket.next().await, ServerFrame::Event { .. }));

    act(
        &app,
        &ada,
        space.space_id,
        SpaceAction::Remove { member: bob.me.user_id },
    )
    .await
    .unwrap();
    socket.expect_access_lost().await;
    app.call_as(&ada.http, "post_message", post_args(channel, "after bob left"))
        .await;
    socket.expect_silence(300).await;
    let history = serde_json::json!({ "channel": channel, "before": null, "limit": 50 });
    assert_eq!(app.call_as(&bob.http, "history", history).await.status(), 400);
}
