//! The event inspector's queries: log pages with filters and paging, readers' positions,
//! events per second, a channel at a past position (time travel); admins only.

use crate::helpers::spawn_app;
use parley::{ChannelId, MessageView, Position};
use parley_app::api::LogPage;
use serde_json::json;

#[tokio::test]
async fn admins_browse_the_log_and_see_a_channel_as_it_was() {
    let app = spawn_app().await;
    let (first, _) = app.post("first words").await;
    let (second, second_at) = app.post("to be deleted").await;
    let edit = json!({ "channel": ChannelId::GENERAL, "message_id": first, "change": {"type": "edit", "body": "better words"} });
    assert_eq!(app.call("change_message", edit).await.status(), 200);
    let delete = json!({ "channel": ChannelId::GENERAL, "message_id": second, "change": {"type": "delete"} });
    assert_eq!(app.call("change_message", delete).await.status(), 200);
    app.wait_projected().await;
    let head = app.head().await;

    let page: LogPage = app.log_page(json!({})).await;
    assert_eq!(page.head, head);
    assert_eq!(page.events[0].position, head, "newest first");
    assert_eq!(page.events[0].event_type, "MessageDeleted");
    assert!(page.events[0].payload.contains(&second.to_string()));
    assert!(page.events[0].metadata.contains("correlation_id"));
    assert_eq!(page.subscribers[0].lag, 0);
    assert!(page.per_second.iter().sum::<u32>() as u64 >= head.0.min(6));

    let posts: LogPage = app.log_page(json!({ "event_type": "MessagePosted" })).await;
    assert_eq!(posts.events.len(), 2);
    assert!(posts.events.iter().all(|e| e.event_type == "MessagePosted"));
    let older: LogPage = app
        .log_page(json!({ "event_type": "MessagePosted", "before": posts.events[0].position }))
        .await;
    assert_eq!(older.events.len(), 1);
    assert_eq!(older.events[0].position, posts.events[1].position);
    let stream = ChannelId::GENERAL.stream().as_str().to_owned();
    let in_stream: LogPage = app.log_page(json!({ "stream": stream })).await;
    assert!(in_stream.events.iter().all(|e| e.stream_id == stream));

    // Time travel: just after the second post, before the edit and the delete.
    let then: Vec<MessageView> = app
        .call(
            "channel_at",
            json!({ "channel": ChannelId::GENERAL, "position": second_at }),
        )
        .await
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = then.iter().map(|m| m.body.as_str()).collect();
    // What was deleted since is shown without its words, even as it stood then.
    assert_eq!(bodies, ["first words", ""]);
    let now: Vec<MessageView> = app
        .call("channel_at", json!({ "channel": ChannelId::GENERAL, "position": head }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now[0].body, "better words");
    assert!(now[0].edited && now[1].deleted);
    assert_eq!(now, app.history(None, 10).await, "the fold equals the read model");
    let before_anything: Vec<MessageView> = app
        .call(
            "channel_at",
            json!({ "channel": ChannelId::GENERAL, "position": Position(1) }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(before_anything.is_empty());
}

#[tokio::test]
async fn the_inspector_is_for_admins_only() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let refused = app.call_as(&ada.http, "inspect_log", json!({ "filter": {} })).await;
    assert_eq!(refused.status(), 403);
    let refused = app
        .call_as(
            &ada.http,
            "channel_at",
            json!({ "channel": ChannelId::GENERAL, "position": 1 }),
        )
        .await;
    assert_eq!(refused.status(), 403);
    let am: bool = app
        .call_as(&ada.http, "am_admin", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(!am);
    let am: bool = app.call("am_admin", json!({})).await.json().await.unwrap();
    assert!(am, "the test helpers make `tester` an admin with create-admin");
}

#[tokio::test]
async fn create_admin_makes_an_account_an_admin_for_good() {
    let app = spawn_app().await;
    let bob = app.sign_up("bob").await;
    let inspect = json!({ "filter": {} });
    assert_eq!(
        app.call_as(&bob.http, "inspect_log", inspect.clone()).await.status(),
        403
    );

    // An existing account: no password needed, and granting twice changes nothing.
    assert!(!app.engine.create_admin("bob", None).await.unwrap());
    let head = app.head().await;
    assert!(!app.engine.create_admin("bob", None).await.unwrap());
    assert_eq!(app.head().await, head, "nothing appended the second time");
    assert_eq!(
        app.call_as(&bob.http, "inspect_log", inspect.clone()).await.status(),
        200
    );
    // A missing account needs a password to be made.
    assert!(app.engine.create_admin("nobody", None).await.is_err());

    // It is an event: it survives a rebuild and a restart.
    let app = app.rebuilt().await;
    let bob = app.sign_in("bob").await;
    assert_eq!(
        app.call_as(&bob.http, "inspect_log", inspect.clone()).await.status(),
        200
    );

    // The command line, on the stopped server's database: a new account, then signed in.
    let database_url = app.database_url.clone();
    let dir = app.stop().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_parley-server"))
        .args(["--database-url", &database_url, "create-admin", "carol"])
        .env("PARLEY_ADMIN_PASSWORD", crate::helpers::PASSWORD)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("created carol"));
    let app = crate::helpers::spawn_app_in(dir).await;
    let carol = app.sign_in("carol").await;
    assert_eq!(app.call_as(&carol.http, "inspect_log", inspect).await.status(), 200);
}

#[tokio::test]
async fn the_browsers_correlation_id_is_carried_into_the_event() {
    let app = spawn_app().await;
    let correlation_id = parley::CorrelationId::new();
    let args = json!({
        "channel": ChannelId::GENERAL, "message_id": parley::MessageId::new(), "body": "traced",
        "correlation_id": correlation_id,
    });
    assert_eq!(app.call("post_message", args).await.status(), 200);
    app.wait_projected().await;
    let page: LogPage = app.log_page(json!({ "event_type": "MessagePosted" })).await;
    assert!(
        page.events[0].metadata.contains(&correlation_id.to_string()),
        "{}",
        page.events[0].metadata
    );
    // Not a UUID: refused, nothing appended.
    let head = app.head().await;
    let bad = json!({
        "channel": ChannelId::GENERAL, "message_id": parley::MessageId::new(), "body": "x", "correlation_id": "nope",
    });
    assert_eq!(app.call("post_message", bad).await.status(), 400);
    assert_eq!(app.head().await, head);
}

/// Creating a space is one command written to two streams: the space's events and its
/// `#general` share one correlation id, and the channel's creation names the space's as its cause.
#[tokio::test]
async fn one_command_over_two_streams_shares_its_correlation_and_names_its_cause() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let from = app.head().await;
    let response = app
        .call_as(&ada.http, "create_space", json!({ "name": "caused" }))
        .await;
    assert_eq!(response.status(), 200);
    let events = app.engine.store().read_all(from, 10).await.unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event.event_type()).collect();
    assert_eq!(types, ["SpaceCreated", "MemberJoined", "ChannelCreated"]);
    let (space, channel) = (&events[0], &events[2]);
    assert_eq!(channel.metadata.correlation_id, space.metadata.correlation_id);
    assert_eq!(events[1].metadata.correlation_id, space.metadata.correlation_id);
    assert_eq!(channel.metadata.causation_id, Some(space.event_id));
    assert_eq!(
        space.metadata.causation_id, None,
        "a person's command has no event as its cause"
    );

    // Another command: another correlation id.
    let again = app.call_as(&ada.http, "create_space", json!({ "name": "other" })).await;
    assert_eq!(again.status(), 200);
    let next = app.engine.store().read_all(channel.position, 10).await.unwrap();
    assert_ne!(next[0].metadata.correlation_id, space.metadata.correlation_id);
}
