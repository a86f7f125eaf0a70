//! Pins, topics and saved messages through the doors: who may pin and set topics (the space's settings), the pinned list, `is:pinned`, the topic's notice in the timeline, strangers refused, saved messages that are one's own, and a rebuild that agrees.

use crate::helpers::{TestApp, User, spawn_app};
use crate::spaces::{act, create_space, invite, join, post_args};
use parley::api::SearchHit;
use parley::space::{SpaceSettings, Who};
use parley::{ChannelId, MessageId, MessageKind, MessageView, Position};
use parley_app::api::{SpaceAction, SpaceView};
use serde_json::json;

async fn pin(app: &TestApp, user: &User, channel: ChannelId, id: MessageId, on: bool) -> (u16, String) {
    let args = json!({ "channel": channel, "message_id": id, "change": { "type": "pin", "on": on } });
    let response = app.call_as(&user.http, "change_message", args).await;
    (response.status().as_u16(), response.text().await.unwrap_or_default())
}

async fn pinned(app: &TestApp, user: &User, channel: ChannelId) -> (u16, Vec<MessageView>) {
    let response = app.call_as(&user.http, "pinned", json!({ "channel": channel })).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn post(app: &TestApp, user: &User, channel: ChannelId, body: &str) -> MessageId {
    let args = post_args(channel, body);
    let id: MessageId = serde_json::from_value(args["message_id"].clone()).unwrap();
    assert_eq!(app.call_as(&user.http, "post_message", args).await.status(), 200);
    id
}

async fn history(app: &TestApp, user: &User, channel: ChannelId) -> Vec<MessageView> {
    let args = json!({ "channel": channel, "before": null, "limit": 100 });
    app.call_as(&user.http, "history", args).await.json().await.unwrap()
}

/// A space of `ada`'s (its admin) with `bob` as a member, and its first channel.
async fn team(app: &TestApp) -> (User, User, SpaceView, ChannelId) {
    let ada = app.sign_up("ada").await;
    let bob = app.sign_up("bob").await;
    let space = create_space(app, &ada, "Team").await;
    let code = invite(app, &ada, space.space_id, None, None).await;
    join(app, &bob, space.space_id, &code).await.unwrap();
    let channel = space.channels[0].channel_id;
    (ada, bob, space, channel)
}

#[tokio::test]
async fn members_pin_as_the_space_allows_and_see_the_pinned_list_and_search() {
    let app = spawn_app().await;
    let (ada, bob, space, channel) = team(&app).await;
    let eve = app.sign_up("eve").await;
    let first = post(&app, &bob, channel, "the release checklist lives here").await;
    let second = post(&app, &ada, channel, "the release date is friday").await;
    app.wait_projected().await;

    // By default every member may pin; twice is once.
    assert_eq!(pin(&app, &bob, channel, first, true).await.0, 200);
    assert_eq!(pin(&app, &bob, channel, first, true).await.0, 200);
    assert_eq!(pin(&app, &ada, channel, second, true).await.0, 200);
    let (status, list) = pinned(&app, &bob, channel).await;
    assert_eq!(status, 200);
    let ids: Vec<MessageId> = list.iter().map(|m| m.message_id).collect();
    assert_eq!(ids, [second, first], "the last pinned first");
    assert!(list.iter().all(|m| m.pinned));
    let seen = history(&app, &bob, channel).await;
    assert!(seen.iter().find(|m| m.message_id == first).is_some_and(|m| m.pinned));

    // `is:pinned` finds them, and only them.
    let hits: Vec<SearchHit> = app
        .call_as(&bob.http, "search", json!({ "query": "release is:pinned" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(pin(&app, &bob, channel, second, false).await.0, 200);
    let hits: Vec<SearchHit> = app
        .call_as(&bob.http, "search", json!({ "query": "is:pinned" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hits.iter().map(|h| h.message_id).collect::<Vec<_>>(), [first]);

    // A stranger reaches nothing: not the list, not the pin.
    let (status, list) = pinned(&app, &eve, channel).await;
    assert_eq!(status, 400);
    assert!(list.is_empty());
    let (status, text) = pin(&app, &eve, channel, first, false).await;
    assert_eq!((status, text.contains("no such channel")), (400, true), "{text}");

    // The admin makes pins the moderators': the member is refused, and nothing changes.
    let strict = SpaceSettings {
        pins: Who::Moderators,
        topics: Who::Members,
    };
    let refused = act(&app, &bob, space.space_id, SpaceAction::Configure { settings: strict }).await;
    assert!(matches!(refused, Err((403, _))), "only an admin configures");
    act(&app, &ada, space.space_id, SpaceAction::Configure { settings: strict })
        .await
        .unwrap();
    let (status, text) = pin(&app, &bob, channel, first, false).await;
    assert_eq!(status, 403);
    assert!(text.contains("your role does not allow this"), "{text}");
    assert_eq!(pinned(&app, &bob, channel).await.1.len(), 1);
    let views: Vec<SpaceView> = app
        .call_as(&bob.http, "my_spaces", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(views[0].settings, strict, "members see the settings");

    // A deleted message leaves the pinned list.
    let delete = json!({ "channel": channel, "message_id": first, "change": { "type": "delete" } });
    assert_eq!(app.call_as(&ada.http, "change_message", delete).await.status(), 200);
    assert!(pinned(&app, &ada, channel).await.1.is_empty());

    // In the lobby nobody pins.
    let (lobby, _) = app.post("in the lobby").await;
    app.wait_projected().await;
    assert_eq!(pin(&app, &app.user, ChannelId::GENERAL, lobby, true).await.0, 403);

    app.wait_projected().await;
    let live = app.read_model_dump().await;
    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, live);
}

#[tokio::test]
async fn a_channel_has_at_most_so_many_pins() {
    let app = spawn_app().await;
    let (ada, _, _, channel) = team(&app).await;
    let mut ids = Vec::new();
    for n in 0..=parley::channel::MAX_PINS {
        ids.push(post(&app, &ada, channel, &format!("note {n}")).await);
    }
    app.wait_projected().await;
    for id in &ids[..parley::channel::MAX_PINS as usize] {
        assert_eq!(pin(&app, &ada, channel, *id, true).await.0, 200);
    }
    let (status, text) = pin(&app, &ada, channel, ids[parley::channel::MAX_PINS as usize], true).await;
    assert_eq!(status, 400);
    assert!(text.contains("unpin one first"), "{text}");
    assert_eq!(
        pinned(&app, &ada, channel).await.1.len(),
        parley::channel::MAX_PINS as usize
    );
}

#[tokio::test]
async fn a_topic_shows_in_the_header_and_as_a_notice_and_follows_the_settings() {
    let app = spawn_app().await;
    let (ada, bob, space, channel) = team(&app).await;
    let eve = app.sign_up("eve").await;
    let mut socket = app.socket_as(&bob).await;
    let (_, cursor) = socket.subscribe(channel, Position::ZERO).await;

    let set = |topic: &str, description: &str| SpaceAction::SetTopic {
        channel,
        topic: topic.into(),
        description: description.into(),
    };
    act(
        &app,
        &bob,
        space.space_id,
        set("  Ship 1.0 by Friday ", "What we build, and why."),
    )
    .await
    .unwrap();
    // The socket hears it as a notice of the channel.
    let event = socket.next_event().await;
    assert!(event.position > cursor);
    let notice = event.message_view().expect("a line of the timeline");
    assert_eq!(notice.kind, MessageKind::Topic);
    assert_eq!(notice.body, "Ship 1.0 by Friday");

    let views: Vec<SpaceView> = app
        .call_as(&ada.http, "my_spaces", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let shown = &views[0].channels[0];
    assert_eq!(
        (shown.topic.as_str(), shown.description.as_str()),
        ("Ship 1.0 by Friday", "What we build, and why.")
    );
    let lines = history(&app, &ada, channel).await;
    let line = lines.iter().find(|m| m.kind == MessageKind::Topic).expect("the notice");
    assert_eq!(
        (line.author.as_str(), line.body.as_str()),
        ("bob", "Ship 1.0 by Friday")
    );

    // A notice takes no change, is not unread, is not found by search.
    let args = json!({ "channel": channel, "message_id": line.message_id, "change": { "type": "delete" } });
    assert_eq!(app.call_as(&ada.http, "change_message", args).await.status(), 400);
    let hits: Vec<SearchHit> = app
        .call_as(&ada.http, "search", json!({ "query": "friday" }))
        .await
        .json()
        .await
        .unwrap();
    assert!(hits.is_empty(), "{hits:?}");
    let unreads: serde_json::Value = app.call_as(&ada.http, "unreads", json!({})).await.json().await.unwrap();
    let here = unreads
        .as_array()
        .and_then(|all| all.iter().find(|u| u["channel_id"] == json!(channel)))
        .cloned()
        .unwrap_or_default();
    assert_eq!(here["unread"], 0, "{unreads}");

    // Bad input changes nothing; a stranger is told the channel does not exist.
    let refused = act(&app, &bob, space.space_id, set("two\nlines", "")).await;
    assert!(
        matches!(&refused, Err((400, e)) if e.to_string().contains("one line")),
        "{refused:?}"
    );
    let refused = act(&app, &eve, space.space_id, set("mine now", "")).await;
    assert!(
        matches!(&refused, Err((400, e)) if e.to_string() == "no such channel"),
        "{refused:?}"
    );
    // Moderators only, now: the member is refused.
    let strict = SpaceSettings {
        pins: Who::Members,
        topics: Who::Moderators,
    };
    act(&app, &ada, space.space_id, SpaceAction::Configure { settings: strict })
        .await
        .unwrap();
    let refused = act(&app, &bob, space.space_id, set("sneaky", "")).await;
    assert!(
        matches!(&refused, Err((403, e)) if e.to_string().contains("does not allow")),
        "{refused:?}"
    );
    act(&app, &ada, space.space_id, set("", "")).await.unwrap();
    let lines = history(&app, &ada, channel).await;
    let notices: Vec<&str> = lines
        .iter()
        .filter(|m| m.kind == MessageKind::Topic)
        .map(|m| m.body.as_str())
        .collect();
    assert_eq!(notices, ["Ship 1.0 by Friday", ""]);

    app.wait_projected().await;
    let live = app.read_model_dump().await;
    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, live);
}

#[tokio::test]
async fn a_script_pins_and_lists_pins_through_rest_and_every_answer_matches_the_document() {
    let app = spawn_app().await;
    let (ada, bob, _, channel) = team(&app).await;
    let eve = app.sign_up("eve").await;
    let doc = crate::rest::openapi(&app).await;
    let (_, secret) = crate::rest::create_token(&app, &bob, "pin bot").await;
    let (_, stranger) = crate::rest::create_token(&app, &eve, "nosy bot").await;
    let id = post(&app, &ada, channel, "pin me from a script").await;
    app.wait_projected().await;
    let http = reqwest::Client::new();
    let pins_url = format!("http://{}/api/v1/channels/{channel}/pins", app.addr);
    let pin_url = format!("{pins_url}/{id}");

    let pinned = http.put(&pin_url).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(pinned.status(), 204);
    let list = http.get(&pins_url).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(list.status(), 200);
    let list: serde_json::Value = list.json().await.unwrap();
    let path = "/api/v1/channels/{channel_id}/pins";
    let schema = crate::rest::response_schema(&doc, path, "get", 200);
    crate::rest::conforms(&list, schema, &doc, "pins").unwrap();
    assert_eq!(list[0]["message_id"], json!(id));
    assert_eq!(
        (list[0]["pinned"].clone(), list[0]["kind"].clone()),
        (json!(true), json!("message"))
    );

    // A stranger's token finds no such channel; a malformed id is a clear 400; nothing changed.
    let refused = http.get(&pins_url).bearer_auth(&stranger).send().await.unwrap();
    assert_eq!(refused.status(), 404);
    let refused = http.delete(&pin_url).bearer_auth(&stranger).send().await.unwrap();
    assert_eq!(refused.status(), 404);
    let malformed = http
        .put(format!("{pins_url}/not-an-id"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: serde_json::Value = malformed.json().await.unwrap();
    let schema = crate::rest::response_schema(&doc, "/api/v1/channels/{channel_id}/pins/{message_id}", "put", 400);
    crate::rest::conforms(&body, schema, &doc, "malformed").unwrap();
    assert_eq!(pinned_count(&app, &ada, channel).await, 1);

    let unpinned = http.delete(&pin_url).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(unpinned.status(), 204);
    assert_eq!(pinned_count(&app, &ada, channel).await, 0);
}

async fn pinned_count(app: &TestApp, user: &User, channel: ChannelId) -> usize {
    pinned(app, user, channel).await.1.len()
}

#[tokio::test]
async fn saved_messages_are_ones_own_bounded_and_leave_with_access() {
    let app = spawn_app().await;
    let (ada, bob, space, channel) = team(&app).await;
    let keep = post(&app, &ada, channel, "keep this one").await;
    let other = post(&app, &ada, channel, "and this").await;
    app.wait_projected().await;
    let save = |user: &User, id: MessageId, on: bool| {
        let args = json!({ "channel": channel, "message_id": id, "on": on });
        let http = user.http.clone();
        let app = &app;
        async move {
            let response = app.call_as(&http, "save_message", args).await;
            (response.status().as_u16(), response.text().await.unwrap_or_default())
        }
    };
    let saved = |user: &User| {
        let http = user.http.clone();
        let app = &app;
        async move {
            let items: Vec<parley::api::SavedItem> =
                app.call_as(&http, "saved_items", json!({})).await.json().await.unwrap();
            items.into_iter().map(|i| i.message.message_id).collect::<Vec<_>>()
        }
    };
    let mut socket = app.socket_as(&bob).await;
    assert_eq!(save(&bob, keep, true).await.0, 200);
    assert_eq!(save(&bob, keep, true).await.0, 200, "twice is once");
    assert_eq!(save(&bob, other, true).await.0, 200);
    assert_eq!(saved(&bob).await, [other, keep], "the last saved first");
    assert!(saved(&ada).await.is_empty(), "saved messages are one's own");
    // Bob's own sockets hear of it (his other tabs mark it); it is nobody else's business.
    loop {
        if let parley::protocol::ServerFrame::Personal { event } = socket.next().await {
            assert!(matches!(event.event, parley::Event::MessageSaved { saved: true, .. }));
            break;
        }
    }
    let ids: Vec<MessageId> = app
        .call_as(&bob.http, "saved_ids", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);

    // Nothing else can be saved: a message of another channel, a notice, a made-up id.
    let (lobby, _) = app.post("lobby words").await;
    app.wait_projected().await;
    let (status, text) = save(&bob, lobby, true).await;
    assert_eq!((status, text.contains("no such message")), (400, true), "{text}");
    assert_eq!(save(&bob, MessageId::new(), true).await.0, 400);
    let topic = SpaceAction::SetTopic {
        channel,
        topic: "a notice".into(),
        description: String::new(),
    };
    act(&app, &ada, space.space_id, topic).await.unwrap();
    let notice = history(&app, &bob, channel)
        .await
        .into_iter()
        .find(|m| m.kind == MessageKind::Topic)
        .expect("the notice");
    assert_eq!(save(&bob, notice.message_id, true).await.0, 400);

    // Deleted messages leave the list; so does everything once Bob leaves the space.
    let delete = json!({ "channel": channel, "message_id": other, "change": { "type": "delete" } });
    assert_eq!(app.call_as(&ada.http, "change_message", delete).await.status(), 200);
    assert_eq!(saved(&bob).await, [keep]);
    act(&app, &bob, space.space_id, SpaceAction::Leave).await.unwrap();
    assert!(saved(&bob).await.is_empty(), "what he cannot read, he cannot see");
    // The channel is no longer his: no door answers about it, letting go included (the
    // row stays, unseen, until he joins again).
    let (status, _) = save(&bob, keep, false).await;
    assert_eq!(status, 400);

    app.wait_projected().await;
    let live = app.read_model_dump().await;
    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, live);
}
