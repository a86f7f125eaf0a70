//! Two-factor sign-in: enrolling an authenticator app (confirmed by a code), sign-in asking
//! for a code only after the right password, each code and recovery code working once, and
//! turning it off with the password.

use crate::helpers::{PASSWORD, TestApp, User, browser, spawn_app};
use parley::second_factor::{BAD_CODE, SECOND_FACTOR_NEEDED, SecondFactorView, TotpSetup};
use serde_json::json;
use totp_rs::{Algorithm, Secret, TOTP};

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The code an authenticator app shows at `at` (Unix seconds).
fn code_at(secret: &str, at: u64) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    let totp = TOTP::new(Algorithm::SHA1, 6, 0, 30, bytes, None, "test".into()).unwrap();
    totp.generate(at)
}

async fn sign_in(app: &TestApp, name: &str, password: &str, code: Option<&str>) -> (u16, String) {
    let body = json!({ "username": name, "password": password, "code": code });
    let response = app.call_as(&browser().0, "sign_in", body).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Enrolls with the code of now; returns the secret, the recovery codes and when.
async fn enroll(app: &TestApp, user: &User) -> (String, Vec<String>, u64) {
    let setup: TotpSetup = app
        .call_as(&user.http, "begin_totp", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(setup.uri.starts_with("otpauth://totp/Parley:"), "{}", setup.uri);
    assert!(setup.qr_png_base64.starts_with("iVBOR"), "a PNG");
    let at = now_secs();
    let codes = app
        .call_as(
            &user.http,
            "confirm_totp",
            json!({ "code": code_at(&setup.secret, at) }),
        )
        .await;
    assert_eq!(codes.status(), 200);
    (setup.secret, codes.json().await.unwrap(), at)
}

// Sign-in attempts (codes included) count 5 per name and address, then one per 12 s: each
// account below stays within them.

#[tokio::test]
async fn enrolling_needs_a_right_first_code_and_a_wrong_password_says_nothing_of_codes() {
    let app = spawn_app().await;
    let carl = app.sign_up("carl").await;
    let state: SecondFactorView = app
        .call_as(&carl.http, "second_factor", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(!state.enabled);
    let setup: TotpSetup = app
        .call_as(&carl.http, "begin_totp", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let now = now_secs();
    let right = [now - 30, now, now + 30].map(|at| code_at(&setup.secret, at));
    let wrong = ["000000", "111111", "222222", "333333"]
        .into_iter()
        .find(|c| !right.iter().any(|r| r == c))
        .unwrap();
    let refused = app.call_as(&carl.http, "confirm_totp", json!({ "code": wrong })).await;
    assert_eq!(refused.status(), 400);
    let state: SecondFactorView = app
        .call_as(&carl.http, "second_factor", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(!state.enabled, "a wrong first code does not turn it on");

    let dave = app.sign_up("dave").await;
    enroll(&app, &dave).await;
    let again = app.call_as(&dave.http, "begin_totp", json!({})).await;
    assert_eq!(again.status(), 400, "not while it is on");
    let (status, text) = sign_in(&app, "dave", "not his password", None).await;
    assert_eq!(status, 400);
    assert!(
        text.contains("wrong username or password") && !text.contains("code"),
        "{text}"
    );
}

#[tokio::test]
async fn sign_in_asks_for_a_code_after_the_right_password_and_takes_each_code_once() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let (secret, codes, at) = enroll(&app, &ada).await;
    assert_eq!(codes.len(), 10);
    let state: SecondFactorView = app
        .call_as(&ada.http, "second_factor", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        state,
        SecondFactorView {
            enabled: true,
            recovery_left: 10,
            passkeys: 0
        }
    );

    let (status, text) = sign_in(&app, "ada", PASSWORD, None).await;
    assert_eq!(status, 400);
    assert!(text.contains(SECOND_FACTOR_NEEDED), "{text}");
    // The code used to enroll was used: refused; the next one lets her in, once.
    let (status, text) = sign_in(&app, "ada", PASSWORD, Some(&code_at(&secret, at))).await;
    assert_eq!(status, 400);
    assert!(text.contains(BAD_CODE), "{text}");
    let next = code_at(&secret, at + 30);
    let (status, text) = sign_in(&app, "ada", PASSWORD, Some(&next)).await;
    assert_eq!(status, 200, "{text}");
    let (status, text) = sign_in(&app, "ada", PASSWORD, Some(&next)).await;
    assert_eq!(status, 400, "a code works once: {text}");
    assert!(text.contains(BAD_CODE), "{text}");
}

#[tokio::test]
async fn a_recovery_code_works_once_and_the_password_turns_it_off() {
    let app = spawn_app().await;
    let bob = app.sign_up("bob").await;
    let (_, codes, _) = enroll(&app, &bob).await;
    let (status, text) = sign_in(&app, "bob", PASSWORD, Some(&codes[3].to_uppercase())).await;
    assert_eq!(status, 200, "{text}");
    let (status, text) = sign_in(&app, "bob", PASSWORD, Some(&codes[3])).await;
    assert_eq!(status, 400);
    assert!(text.contains(BAD_CODE), "{text}");
    let state: SecondFactorView = app
        .call_as(&bob.http, "second_factor", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state.recovery_left, 9);

    let erin = app.sign_up("erin").await;
    enroll(&app, &erin).await;
    let off = app
        .call_as(&erin.http, "disable_totp", json!({ "password": "not her password" }))
        .await;
    assert_eq!(off.status(), 400);
    let off = app
        .call_as(&erin.http, "disable_totp", json!({ "password": PASSWORD }))
        .await;
    assert_eq!(off.status(), 200);
    let (status, text) = sign_in(&app, "erin", PASSWORD, None).await;
    assert_eq!(status, 200, "{text}");
}
