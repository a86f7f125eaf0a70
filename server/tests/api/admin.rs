//! Instance admins and accounts: the list (search, created, last seen), disabling (sessions
//! end, sign-in and tokens refused with a clear message) and enabling, granting and revoking
//! admin rights; nobody else may, and no admin can lock themselves out.

use crate::helpers::{PASSWORD, browser, spawn_app};
use crate::rest::create_token;
use parley::api::AccountRow;
use serde_json::json;

fn act(username: &str, action: &str) -> serde_json::Value {
    json!({ "username": username, "action": action })
}

#[tokio::test]
async fn an_admin_disables_and_enables_an_account_and_grants_and_revokes_admin() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let mut adas_socket = app.socket_as(&ada).await;
    let (_, token) = create_token(&app, &ada, "ada's bot").await;
    let http = reqwest::Client::new();
    let channels = format!("http://{}/api/v1/channels", app.addr);

    // Not an admin: the list and the actions are refused.
    let listed = app.call_as(&ada.http, "list_accounts", json!({ "search": "" })).await;
    assert_eq!(listed.status(), 403);
    assert_eq!(
        app.call_as(&ada.http, "act_on_account", act("tester", "Disable"))
            .await
            .status(),
        403
    );

    // The admin (`tester`) finds her; a search is literal (no LIKE wildcards).
    let found: Vec<AccountRow> = app
        .call("list_accounts", json!({ "search": "AD" }))
        .await
        .json()
        .await
        .unwrap();
    let row = found.iter().find(|a| a.username == "ada").unwrap();
    assert!(row.created_at_ms > 0 && row.last_seen_ms.is_some() && !row.admin && !row.disabled);
    let wild: Vec<AccountRow> = app
        .call("list_accounts", json!({ "search": "%" }))
        .await
        .json()
        .await
        .unwrap();
    assert!(wild.is_empty(), "{wild:?}");
    let long = app.call("list_accounts", json!({ "search": "x".repeat(1_000) })).await;
    assert_eq!(long.status(), 400);

    // Disabled: her socket closes, her session and her token stop, and signing in says why
    // (to whoever gives the right password only).
    assert_eq!(app.call("act_on_account", act("ada", "Disable")).await.status(), 200);
    adas_socket.expect_closed().await;
    let me: Option<parley_app::api::Me> = app.call_as(&ada.http, "whoami", json!({})).await.json().await.unwrap();
    assert!(me.is_none());
    let by_token = http.get(&channels).bearer_auth(&token).send().await.unwrap();
    assert_eq!(by_token.status(), 401);
    assert!(by_token.text().await.unwrap().contains("disabled"));
    let credentials = |password: &str| json!({ "username": "ada", "password": password });
    let right = app.call_as(&browser().0, "sign_in", credentials(PASSWORD)).await;
    assert_eq!(right.status(), 403);
    assert!(right.text().await.unwrap().contains("this account is disabled"));
    let wrong = app
        .call_as(&browser().0, "sign_in", credentials("a wrong password"))
        .await;
    assert_eq!(wrong.status(), 400);
    assert!(!wrong.text().await.unwrap().contains("disabled"));
    let listed: Vec<AccountRow> = app
        .call("list_accounts", json!({ "search": "ada" }))
        .await
        .json()
        .await
        .unwrap();
    assert!(listed[0].disabled && listed[0].last_seen_ms.is_none(), "{listed:?}");

    // Enabled again: she signs in, and her token works again.
    assert_eq!(app.call("act_on_account", act("ada", "Enable")).await.status(), 200);
    let back = app.call_as(&browser().0, "sign_in", credentials(PASSWORD)).await;
    assert_eq!(back.status(), 200);
    assert_eq!(
        http.get(&channels).bearer_auth(&token).send().await.unwrap().status(),
        200
    );

    // Admin rights, given and taken.
    assert_eq!(app.call("act_on_account", act("ada", "GrantAdmin")).await.status(), 200);
    assert_eq!(
        app.call_as(&ada.http, "list_accounts", json!({ "search": "" }))
            .await
            .status(),
        401,
        "the session that was open when she was disabled stays ended"
    );
    let ada = app.sign_in("ada").await;
    assert_eq!(
        app.call_as(&ada.http, "list_accounts", json!({ "search": "" }))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.call("act_on_account", act("ada", "RevokeAdmin")).await.status(),
        200
    );
    assert_eq!(
        app.call_as(&ada.http, "list_accounts", json!({ "search": "" }))
            .await
            .status(),
        403
    );

    // No admin locks themselves out; unknown names and actions are refused.
    for action in ["Disable", "RevokeAdmin"] {
        let own = app.call("act_on_account", act("tester", action)).await;
        assert_eq!(own.status(), 400);
        assert!(own.text().await.unwrap().contains("their own"));
    }
    assert_eq!(app.call("act_on_account", act("nobody", "Disable")).await.status(), 400);
    assert_eq!(app.call("act_on_account", act("ada", "Explode")).await.status(), 400);

    // What the log holds stays after a rebuild.
    assert_eq!(app.call("act_on_account", act("ada", "Disable")).await.status(), 200);
    let app = app.rebuilt().await;
    let listed: Vec<AccountRow> = app
        .call("list_accounts", json!({ "search": "ada" }))
        .await
        .json()
        .await
        .unwrap();
    assert!(listed[0].disabled);
    assert_eq!(
        app.call_as(&browser().0, "sign_in", credentials(PASSWORD))
            .await
            .status(),
        403
    );
}

/// The secret of a reset link's path (`/?reset=<secret>`).
fn secret_of(link: &str) -> String {
    link.split_once("reset=").map(|(_, s)| s.to_owned()).unwrap()
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_ends_every_session_and_signs_in() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let mut adas_socket = app.socket_as(&ada).await;

    // Only an admin makes one; for an account that exists.
    let asked = app
        .call_as(&ada.http, "make_reset_link", json!({ "username": "ada" }))
        .await;
    assert_eq!(asked.status(), 403);
    assert_eq!(
        app.call("make_reset_link", json!({ "username": "nobody" }))
            .await
            .status(),
        400
    );
    let first: String = app
        .call("make_reset_link", json!({ "username": "ada" }))
        .await
        .json()
        .await
        .unwrap();
    let link: String = app
        .call("make_reset_link", json!({ "username": "Ada" }))
        .await
        .json()
        .await
        .unwrap();
    assert!(link.starts_with("/?reset="), "{link}");
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM password_resets")
        .fetch_all(app.engine.store().pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "a newer link replaces the older");
    assert!(!stored[0].contains(&secret_of(&link)), "stored hashed");

    let reset = |token: String, new: &str| json!({ "token": token, "new": new });
    let (phone, _) = browser();
    // The older link, a made-up one and a bad password are refused; a bad password does not
    // spend the link.
    for token in [secret_of(&first), "made-up".into(), "x".repeat(5_000)] {
        let refused = app
            .call_as(&phone, "reset_password", reset(token, "new horse battery"))
            .await;
        assert_eq!(refused.status(), 400);
        assert!(refused.text().await.unwrap().contains("reset link does not work"));
    }
    let short = app
        .call_as(&phone, "reset_password", reset(secret_of(&link), "short"))
        .await;
    assert_eq!(short.status(), 400);

    // Used: the password is new, every other session ended, this browser is signed in.
    let used = app
        .call_as(&phone, "reset_password", reset(secret_of(&link), "new horse battery"))
        .await;
    assert_eq!(used.status(), 200);
    adas_socket.expect_closed().await;
    let gone: Option<parley_app::api::Me> = app.call_as(&ada.http, "whoami", json!({})).await.json().await.unwrap();
    assert!(gone.is_none());
    let here: Option<parley_app::api::Me> = app.call_as(&phone, "whoami", json!({})).await.json().await.unwrap();
    assert_eq!(here.map(|me| me.username), Some("ada".to_owned()));
    let credentials = |password: &str| json!({ "username": "ada", "password": password });
    assert_eq!(
        app.call_as(&browser().0, "sign_in", credentials(PASSWORD))
            .await
            .status(),
        400
    );
    assert_eq!(
        app.call_as(&browser().0, "sign_in", credentials("new horse battery"))
            .await
            .status(),
        200
    );
    // Once only.
    let again = app
        .call_as(&browser().0, "reset_password", reset(secret_of(&link), "another horse"))
        .await;
    assert_eq!(again.status(), 400);

    // An expired link does not work.
    let late: String = app
        .call("make_reset_link", json!({ "username": "ada" }))
        .await
        .json()
        .await
        .unwrap();
    sqlx::query("UPDATE password_resets SET expires_at_ms = 1")
        .execute(app.engine.store().pool())
        .await
        .unwrap();
    let expired = app
        .call_as(&browser().0, "reset_password", reset(secret_of(&late), "another horse"))
        .await;
    assert_eq!(expired.status(), 400);

    // The command line makes one on the stopped server's database.
    let database_url = app.database_url.clone();
    let dir = app.stop().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_parley-server"))
        .args(["--database-url", &database_url, "reset-password", "ada"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8_lossy(&output.stdout).to_string();
    let url = printed
        .lines()
        .find(|l| l.starts_with("http://127.0.0.1:"))
        .unwrap()
        .to_owned();
    let app = crate::helpers::spawn_app_in(dir).await;
    let cli = app
        .call_as(&browser().0, "reset_password", reset(secret_of(&url), PASSWORD))
        .await;
    assert_eq!(cli.status(), 200);
    assert_eq!(
        app.call_as(&browser().0, "sign_in", credentials(PASSWORD))
            .await
            .status(),
        200
    );
    let nobody = std::process::Command::new(env!("CARGO_BIN_EXE_parley-server"))
        .args(["--database-url", &app.database_url, "reset-password", "nobody"])
        .output()
        .unwrap();
    assert!(!nobody.status.success());
}
