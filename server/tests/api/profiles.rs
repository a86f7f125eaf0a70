//! Profiles: saved through the server function, checked field by field; seen whole by the
//! people who share a space or a conversation with the person and by name alone by others,
//! through every door (server functions, the socket, REST), live and after a rebuild.

use crate::helpers::{Socket, TestApp, User, spawn_app};
use crate::rest::{conforms, create_token, response_schema};
use crate::spaces::{create_space, invite, join};
use parley::api::{ProfileView, UserCard};
use parley::protocol::ServerFrame;
use serde_json::{Value, json};
use std::time::Duration;

fn profile(name: &str, emoji: &str, text: &str, zone: &str) -> Value {
    json!({ "profile": {
        "display_name": name, "status_emoji": emoji, "status_text": text, "time_zone": zone,
    }})
}

async fn profiles_as(app: &TestApp, user: &User, names: &[&str]) -> Vec<ProfileView> {
    let response = app.call_as(&user.http, "profiles", json!({ "usernames": names })).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The next profile frame a socket gets (other frames are skipped).
async fn next_profile(socket: &mut Socket) -> ProfileView {
    loop {
        if let ServerFrame::Profile { person } = socket.next_within(Duration::from_secs(5)).await {
            return person;
        }
    }
}

#[tokio::test]
async fn a_profile_is_checked_saved_and_shown_whole_only_to_the_people_who_share_a_space() {
    let app = spawn_app().await;
    let (ada, bob, eve) = (
        app.sign_up("ada").await,
        app.sign_up("bob").await,
        app.sign_up("eve").await,
    );
    let space = create_space(&app, &ada, "Engines").await;
    let code = invite(&app, &ada, space.space_id, None, None).await;
    join(&app, &bob, space.space_id, &code).await.unwrap();
    let mut bobs = app.socket_as(&bob).await;
    let mut eves = app.socket_as(&eve).await;

    // Bad fields are refused with the reason, and change nothing.
    for (bad, reason) in [
        (profile(&"x".repeat(33), "", "", ""), "at most 32"),
        (profile("", "★", "", ""), "one emoji"),
        (profile("", "", &"y".repeat(101), ""), "at most 100"),
        (profile("", "", "", "../../etc/passwd"), "time zone"),
        (
            json!({ "profile": { "status_text": "x", "status_until_ms": 1 } }),
            "cannot end before",
        ),
        (json!({ "profile": "not an object" }), ""),
    ] {
        let answer = app.call_as(&ada.http, "set_profile", bad).await;
        assert_eq!(answer.status(), 400);
        assert!(answer.text().await.unwrap().contains(reason), "{reason}");
    }
    let unchanged = profiles_as(&app, &bob, &["ada"]).await;
    assert_eq!(unchanged[0].profile, parley::profile::Profile::default());

    let saved = app
        .call_as(
            &ada.http,
            "set_profile",
            profile(" Ada Lovelace ", "🧮", "computing", "Europe/London"),
        )
        .await;
    assert_eq!(saved.status(), 200);
    let saved: ProfileView = saved.json().await.unwrap();
    assert_eq!(saved.profile.name_or("ada"), "Ada Lovelace");

    // Bob shares a space with her: he sees it all, live and when he asks.
    let live = next_profile(&mut bobs).await;
    assert_eq!(live, saved);
    assert_eq!(profiles_as(&app, &bob, &["ada", "nobody"]).await, vec![saved.clone()]);
    // Eve shares only the lobby: the name, not the status nor the time zone.
    let public = next_profile(&mut eves).await;
    assert_eq!(public.profile.name_or("ada"), "Ada Lovelace");
    assert_eq!((&public.profile.status, &public.profile.time_zone), (&None, &None));
    let asked = profiles_as(&app, &eve, &["ada"]).await;
    assert_eq!(asked[0].profile, public.profile);

    // Cards: spaces in common for Bob, none for Eve; an unknown name is no such user.
    let card: UserCard = app
        .call_as(&bob.http, "person_card", json!({ "username": "Ada" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(card.spaces_in_common, vec!["Engines".to_owned()]);
    assert_eq!(card.person, saved);
    let eves_card: UserCard = app
        .call_as(&eve.http, "person_card", json!({ "username": "ada" }))
        .await
        .json()
        .await
        .unwrap();
    assert!(eves_card.spaces_in_common.is_empty());
    assert_eq!(eves_card.person.profile.status, None);
    let nobody = app
        .call_as(&bob.http, "person_card", json!({ "username": "nobody" }))
        .await;
    assert_eq!(nobody.status(), 400);
    let too_many: Vec<String> = (0..201).map(|i| format!("user{i}")).collect();
    let flood = app
        .call_as(&bob.http, "profiles", json!({ "usernames": too_many }))
        .await;
    assert_eq!(flood.status(), 400);

    // Saving the same profile again stores nothing; a rebuild keeps the last one.
    let head = app.head().await;
    let again = app
        .call_as(
            &ada.http,
            "set_profile",
            profile("Ada Lovelace", "🧮", "computing", "Europe/London"),
        )
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(app.head().await, head);
    let app = app.rebuilt().await;
    let bob = app.sign_in("bob").await;
    assert_eq!(profiles_as(&app, &bob, &["ada"]).await, vec![saved]);
}

#[tokio::test]
async fn a_bot_looks_a_person_up_through_rest_as_the_document_says() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let bob = app.sign_up("bob").await;
    let space = create_space(&app, &ada, "Ops").await;
    let code = invite(&app, &ada, space.space_id, None, None).await;
    join(&app, &bob, space.space_id, &code).await.unwrap();
    let saved = app
        .call_as(
            &bob.http,
            "set_profile",
            profile("Bob B.", "🚀", "deploying", "America/New_York"),
        )
        .await;
    assert_eq!(saved.status(), 200);

    let http = reqwest::Client::new();
    let url = |path: &str| format!("http://{}{path}", app.addr);
    let doc = crate::rest::openapi(&app).await;
    let (_, secret) = create_token(&app, &ada, "lookup bot").await;
    let found = http
        .get(url("/api/v1/users/bob"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), 200);
    let found: Value = found.json().await.unwrap();
    conforms(
        &found,
        response_schema(&doc, "/api/v1/users/{username}", "get", 200),
        &doc,
        "user",
    )
    .unwrap();
    assert_eq!(found["display_name"], "Bob B.");
    assert_eq!(found["status"]["text"], "deploying");
    assert_eq!(found["time_zone"], "America/New_York");
    assert_eq!(found["spaces_in_common"], json!(["Ops"]));

    let missing = http
        .get(url("/api/v1/users/nobody"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    conforms(
        &body,
        response_schema(&doc, "/api/v1/users/{username}", "get", 404),
        &doc,
        "404",
    )
    .unwrap();
    let anonymous = http.get(url("/api/v1/users/bob")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn a_picture_is_cut_square_from_ones_own_image_and_shown_to_anyone_signed_in() {
    use crate::files::{get, png, uploaded};
    let app = spawn_app().await;
    let (ada, bob) = (app.sign_up("ada").await, app.sign_up("bob").await);
    let photo = uploaded(&app, &ada, "me.png", png(300, 200)).await;
    let avatar = |user: &User, file: Option<&str>| {
        let mut request = user.http.post(format!("http://{}/api/avatar", app.addr));
        if let Some(file) = file {
            request = request.query(&[("file", file)]);
        }
        request.send()
    };

    // Someone else's file that was never sent, a text file, a made-up id: refused.
    assert_eq!(avatar(&bob, Some(&photo.file_id)).await.unwrap().status(), 400);
    let text = uploaded(&app, &ada, "notes.txt", b"plain words".to_vec()).await;
    assert_eq!(avatar(&ada, Some(&text.file_id)).await.unwrap().status(), 400);
    assert_eq!(avatar(&ada, Some("../../etc/passwd")).await.unwrap().status(), 400);

    let set = avatar(&ada, Some(&photo.file_id)).await.unwrap();
    assert_eq!(set.status(), 200);
    let view: ProfileView = set.json().await.unwrap();
    assert_eq!(view.profile.avatar.as_deref(), Some(photo.file_id.as_str()));
    // Bob, who shares only the lobby with her, sees it; so does the picture's address.
    let seen = profiles_as(&app, &bob, &["ada"]).await;
    assert_eq!(seen[0].profile.avatar, view.profile.avatar);
    let picture = get(&app, &bob.http, &format!("/avatars/{}", photo.file_id)).await;
    assert_eq!(picture.status(), 200);
    assert_eq!(picture.headers()["content-type"], "image/jpeg", "no transparency: JPEG");
    assert!(
        picture.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let decoded = image::load_from_memory(&picture.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (200, 200), "the middle square");
    let anonymous = get(&app, &reqwest::Client::new(), &format!("/avatars/{}", photo.file_id)).await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        get(&app, &bob.http, &format!("/avatars/{}", text.file_id))
            .await
            .status(),
        404
    );

    // Saving the rest of the profile keeps it; removing it removes it.
    let kept: ProfileView = app
        .call_as(&ada.http, "set_profile", profile("Ada", "", "", ""))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept.profile.avatar, view.profile.avatar);
    let removed: ProfileView = avatar(&ada, None).await.unwrap().json().await.unwrap();
    assert_eq!(removed.profile.avatar, None);
    assert_eq!(removed.profile.name_or("ada"), "Ada");
}
