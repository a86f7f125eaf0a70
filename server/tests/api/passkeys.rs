//! Passkeys through the server functions, with a software authenticator (P-256, as a
//! platform authenticator signs): registering given the password, signing in alone, each
//! answer working once, a cloned key refused, bad answers changing nothing, a ceremony
//! begun on one node finished on another, and an erased account's passkeys gone.

use crate::helpers::{PASSWORD, TestApp, User, browser, database_in, on_postgres, spawn_app, spawn_node};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::nid::Nid;
use openssl::pkey::Private;
use openssl::sha::sha256;
use parley::passkey::{NOT_ACCEPTED, PasskeyChallenge, PasskeyView};
use parley::second_factor::SECOND_FACTOR_NEEDED;
use serde_json::{Value, json};

/// The smallest CBOR writer the answers need: maps, byte and text strings, small integers.
enum Cbor {
    Int(i64),
    Bytes(Vec<u8>),
    Text(&'static str),
    Map(Vec<(Cbor, Cbor)>),
}

impl Cbor {
    fn head(major: u8, len: u64, out: &mut Vec<u8>) {
        match len {
            0..24 => out.push(major << 5 | len as u8),
            24..256 => out.extend([major << 5 | 24, len as u8]),
            _ => {
                out.push(major << 5 | 25);
                out.extend((len as u16).to_be_bytes());
            }
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(n) if *n >= 0 => Self::head(0, *n as u64, out),
            Cbor::Int(n) => Self::head(1, (-1 - n) as u64, out),
            Cbor::Bytes(b) => {
                Self::head(2, b.len() as u64, out);
                out.extend(b);
            }
            Cbor::Text(t) => {
                Self::head(3, t.len() as u64, out);
                out.extend(t.as_bytes());
            }
            Cbor::Map(entries) => {
                Self::head(5, entries.len() as u64, out);
                for (k, v) in entries {
                    k.write(out);
                    v.write(out);
                }
            }
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }
}

/// A platform authenticator holding one passkey for `localhost`, verifying its user.
#[derive(Clone)]
struct Authenticator {
    key: EcKey<Private>,
    credential_id: Vec<u8>,
    counter: u32,
    user_handle: Vec<u8>,
    origin: String,
}

impl Authenticator {
    fn new(app: &TestApp) -> Self {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let mut credential_id = vec![0u8; 32];
        openssl::rand::rand_bytes(&mut credential_id).unwrap();
        Self {
            key: EcKey::generate(&group).unwrap(),
            credential_id,
            counter: 0,
            user_handle: Vec::new(),
            origin: format!("http://localhost:{}", app.addr.port()),
        }
    }

    fn client_data(&self, kind: &str, options: &str) -> Vec<u8> {
        let options: Value = serde_json::from_str(options).unwrap();
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        json!({ "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false })
            .to_string()
            .into_bytes()
    }

    fn auth_data(&self, flags: u8) -> Vec<u8> {
        let mut data = sha256(b"localhost").to_vec();
        data.push(flags);
        data.extend(self.counter.to_be_bytes());
        data
    }

    /// Answers registration options (`navigator.credentials.create`), as the browser's `toJSON`.
    fn register(&mut self, options: &str) -> String {
        let parsed: Value = serde_json::from_str(options).unwrap();
        let user = parsed["publicKey"]["user"]["id"].as_str().unwrap();
        self.user_handle = URL_SAFE_NO_PAD.decode(user).unwrap();
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
        self.key
            .public_key()
            .affine_coordinates(&group, &mut x, &mut y, &mut BigNumContext::new().unwrap())
            .unwrap();
        let cose = Cbor::Map(vec![
            (Cbor::Int(1), Cbor::Int(2)),
            (Cbor::Int(3), Cbor::Int(-7)),
            (Cbor::Int(-1), Cbor::Int(1)),
            (Cbor::Int(-2), Cbor::Bytes(x.to_vec_padded(32).unwrap())),
            (Cbor::Int(-3), Cbor::Bytes(y.to_vec_padded(32).unwrap())),
        ]);
        // User present and verified, with attested credential data.
        let mut auth_data = self.auth_data(0x45);
        auth_data.extend([0u8; 16]);
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(cose.bytes());
        let attestation = Cbor::Map(vec![
            (Cbor::Text("fmt"), Cbor::Text("none")),
            (Cbor::Text("attStmt"), Cbor::Map(vec![])),
            (Cbor::Text("authData"), Cbor::Bytes(auth_data)),
        ]);
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(self.client_data("webauthn.create", options)),
                "attestationObject": URL_SAFE_NO_PAD.encode(attestation.bytes()),
            },
            "clientExtensionResults": {},
        })
        .to_string()
    }

    /// Answers sign-in options (`navigator.credentials.get`), the counter one higher.
    fn sign(&mut self, options: &str) -> String {
        self.counter += 1;
        let auth_data = self.auth_data(0x05);
        let client_data = self.client_data("webauthn.get", options);
        let mut signed = auth_data.clone();
        signed.extend(sha256(&client_data));
        let signature = EcdsaSig::sign(&sha256(&signed), &self.key).unwrap().to_der().unwrap();
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "authenticatorData": URL_SAFE_NO_PAD.encode(auth_data),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
                "signature": URL_SAFE_NO_PAD.encode(signature),
                "userHandle": URL_SAFE_NO_PAD.encode(&self.user_handle),
            },
            "clientExtensionResults": {},
        })
        .to_string()
    }
}

/// Begins registering a passkey for `user` (the password given).
async fn begin_registration(app: &TestApp, user: &User) -> PasskeyChallenge {
    let begun = app
        .call_as(&user.http, "begin_passkey", json!({ "password": PASSWORD }))
        .await;
    assert_eq!(begun.status(), 200);
    begun.json().await.unwrap()
}

async fn register(app: &TestApp, user: &User, device: &mut Authenticator, name: &str) -> PasskeyView {
    let challenge = begin_registration(app, user).await;
    let options: Value = serde_json::from_str(&challenge.options).unwrap();
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["residentKey"], "required",
        "{options}"
    );
    let answer = device.register(&challenge.options);
    let finished = app
        .call_as(
            &user.http,
            "finish_passkey",
            json!({ "ceremony": challenge.ceremony, "name": name, "credential": answer }),
        )
        .await;
    assert_eq!(finished.status(), 200);
    finished.json().await.unwrap()
}

async fn begin_sign_in(app: &TestApp, http: &reqwest::Client) -> PasskeyChallenge {
    let begun = app.call_as(http, "begin_passkey_sign_in", json!({})).await;
    assert_eq!(begun.status(), 200);
    begun.json().await.unwrap()
}

/// Finishes a sign-in in `http`; the status, and who `http` is then signed in as.
async fn finish_sign_in(app: &TestApp, http: &reqwest::Client, ceremony: &str, answer: &str) -> (u16, String) {
    let done = app
        .call_as(
            http,
            "finish_passkey_sign_in",
            json!({ "ceremony": ceremony, "credential": answer }),
        )
        .await;
    let status = done.status().as_u16();
    let text = done.text().await.unwrap();
    (status, text)
}

async fn whoami(app: &TestApp, http: &reqwest::Client) -> Value {
    app.call_as(http, "whoami", json!({})).await.json().await.unwrap()
}

#[tokio::test]
async fn a_passkey_signs_in_alone_and_each_answer_works_once() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let mut device = Authenticator::new(&app);
    let key = register(&app, &ada, &mut device, "  Laptop ").await;
    assert_eq!(key.name, "Laptop");
    assert_eq!(key.last_used_ms, None);
    assert_eq!(key.id, URL_SAFE_NO_PAD.encode(&device.credential_id));

    // A new browser, no username typed: the passkey alone signs in.
    let (http, _) = browser();
    assert_eq!(whoami(&app, &http).await, Value::Null);
    let challenge = begin_sign_in(&app, &http).await;
    let answer = device.sign(&challenge.options);
    let (status, text) = finish_sign_in(&app, &http, &challenge.ceremony, &answer).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(whoami(&app, &http).await["username"], "ada");
    let listed: Vec<PasskeyView> = app
        .call_as(&ada.http, "passkeys", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(listed[0].last_used_ms.is_some(), "{listed:?}");

    // The same answer again (a replay): its ceremony is spent.
    let (other, _) = browser();
    let (status, text) = finish_sign_in(&app, &other, &challenge.ceremony, &answer).await;
    assert_eq!(status, 400);
    assert!(text.contains(NOT_ACCEPTED), "{text}");
    assert_eq!(whoami(&app, &other).await, Value::Null);

    // A copy of the key that lags behind (its counter not past the last one seen): refused.
    let mut clone = device.clone();
    clone.counter -= 1;
    let challenge = begin_sign_in(&app, &other).await;
    let answer = clone.sign(&challenge.options);
    let (status, _) = finish_sign_in(&app, &other, &challenge.ceremony, &answer).await;
    assert_eq!(status, 400);
    assert_eq!(whoami(&app, &other).await, Value::Null);

    // The right password alone is not enough any more: the passkey is the second factor.
    let body = json!({ "username": "ada", "password": PASSWORD });
    let refused = app.call_as(&other, "sign_in", body).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains(SECOND_FACTOR_NEEDED));
    assert_eq!(whoami(&app, &other).await, Value::Null);
}

#[tokio::test]
async fn bad_answers_get_a_clear_refusal_and_change_nothing() {
    let app = spawn_app().await;
    let bob = app.sign_up("bob").await;
    let eve = app.sign_up("eve").await;

    // Adding one asks for the password.
    let wrong = app
        .call_as(&bob.http, "begin_passkey", json!({ "password": "not it at all" }))
        .await;
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().await.unwrap().contains("password is not right"));

    // A registration begun by bob cannot be finished by eve; garbage and a huge answer are refused.
    let challenge = begin_registration(&app, &bob).await;
    let mut device = Authenticator::new(&app);
    let answer = device.register(&challenge.options);
    for (who, credential) in [
        (&eve, answer.clone()),
        (&bob, "{not json".to_owned()),
        (&bob, "x".repeat(parley::passkey::MAX_CREDENTIAL_BYTES + 1)),
    ] {
        let refused = app
            .call_as(
                &who.http,
                "finish_passkey",
                json!({ "ceremony": challenge.ceremony, "name": "", "credential": credential }),
            )
            .await;
        assert_eq!(refused.status(), 400);
        assert!(refused.text().await.unwrap().contains("not registered"));
    }
    // Eve's try spent the ceremony: bob starts again (an answer for another origin is refused).
    let challenge = begin_registration(&app, &bob).await;
    let mut phishing = device.clone();
    phishing.origin = "http://localhost.evil.example".into();
    let answer = phishing.register(&challenge.options);
    let refused = app
        .call_as(
            &bob.http,
            "finish_passkey",
            json!({ "ceremony": challenge.ceremony, "name": "x", "credential": answer }),
        )
        .await;
    assert_eq!(refused.status(), 400);
    for who in [&bob, &eve] {
        let listed: Vec<PasskeyView> = app
            .call_as(&who.http, "passkeys", json!({}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed, vec![]);
    }

    // Sign-in answers: unknown ceremonies, unknown keys, garbage, a wrong signature.
    register(&app, &bob, &mut device, "Phone").await;
    let (http, _) = browser();
    let challenge = begin_sign_in(&app, &http).await;
    let mut stranger = Authenticator::new(&app);
    stranger.user_handle = device.user_handle.clone();
    let mut tampered: Value = serde_json::from_str(&device.clone().sign(&challenge.options)).unwrap();
    tampered["response"]["signature"] = json!(URL_SAFE_NO_PAD.encode([0x30, 0x06, 2, 1, 1, 2, 1, 1]));
    let cases = [
        ("0".repeat(32), device.clone().sign(&challenge.options)),
        ("short".to_owned(), device.clone().sign(&challenge.options)),
        (challenge.ceremony.clone(), stranger.sign(&challenge.options)),
    ];
    for (ceremony, answer) in cases {
        let (status, text) = finish_sign_in(&app, &http, &ceremony, &answer).await;
        assert_eq!((status, text.contains(NOT_ACCEPTED)), (400, true), "{text}");
    }
    for answer in ["[]".to_owned(), tampered.to_string()] {
        let challenge = begin_sign_in(&app, &http).await;
        let (status, text) = finish_sign_in(&app, &http, &challenge.ceremony, &answer).await;
        assert_eq!((status, text.contains(NOT_ACCEPTED)), (400, true), "{text}");
    }
    assert_eq!(whoami(&app, &http).await, Value::Null);
}

/// Rows of `table` that belong to `user`.
async fn rows_of(app: &TestApp, table: &str, user: &User) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {table} WHERE user_id = $1"
    )))
    .bind(user.me.user_id.to_string())
    .fetch_one(app.engine.store().pool())
    .await
    .unwrap()
}

const SECURITY_TABLES: [&str; 4] = ["passkeys", "passkey_ceremonies", "second_factors", "account_emails"];

#[tokio::test]
async fn an_erased_accounts_passkeys_and_other_security_state_are_forgotten() {
    let app = spawn_app().await;
    let cleo = app.sign_up("cleo").await;
    let mut device = Authenticator::new(&app);
    register(&app, &cleo, &mut device, "Key").await;
    // A registration begun, an authenticator app being set up, an email address (written
    // as the mail flow would: this test server sends no mail).
    let begun = app
        .call_as(&cleo.http, "begin_passkey", json!({ "password": PASSWORD }))
        .await;
    assert_eq!(begun.status(), 200);
    assert_eq!(app.call_as(&cleo.http, "begin_totp", json!({})).await.status(), 200);
    sqlx::query(
        "INSERT INTO account_emails (user_id, email, verified, updated_at_ms) VALUES ($1, 'cleo@example.org', 1, 0)",
    )
    .bind(cleo.me.user_id.to_string())
    .execute(app.engine.store().pool())
    .await
    .unwrap();
    for table in SECURITY_TABLES {
        assert!(rows_of(&app, table, &cleo).await > 0, "{table}");
    }
    let deleted = app
        .call_as(
            &cleo.http,
            "delete_account",
            json!({ "password": PASSWORD, "erase_messages": false }),
        )
        .await;
    assert_eq!(deleted.status(), 200);
    let (http, _) = browser();
    let challenge = begin_sign_in(&app, &http).await;
    let answer = device.sign(&challenge.options);
    let (status, _) = finish_sign_in(&app, &http, &challenge.ceremony, &answer).await;
    assert_eq!(status, 400);
    assert_eq!(whoami(&app, &http).await, Value::Null);
    for table in SECURITY_TABLES {
        assert_eq!(rows_of(&app, table, &cleo).await, 0, "{table}");
    }
}

#[tokio::test]
async fn a_passkey_ceremony_begun_on_one_node_is_finished_on_another() {
    if !on_postgres() {
        eprintln!("skipped: several nodes need PostgreSQL (PARLEY_TEST_POSTGRES)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = database_in(&dir).await;
    let a = spawn_node(tempfile::tempdir().unwrap(), url.clone()).await;
    let b = spawn_node(tempfile::tempdir().unwrap(), url).await;
    let dora = a.sign_up("dora").await;
    let mut device = Authenticator::new(&a);
    // Registration begun on a, finished on b (the same cookie works on both nodes).
    let challenge = begin_registration(&a, &dora).await;
    let answer = device.register(&challenge.options);
    let cookie = dora.cookie();
    let finished = reqwest::Client::new()
        .post(format!("http://{}/api/finish_passkey", b.addr))
        .header("cookie", cookie)
        .json(&json!({ "ceremony": challenge.ceremony, "name": "Key", "credential": answer }))
        .send()
        .await
        .unwrap();
    assert_eq!(finished.status(), 200);
    // Sign-in begun on b, finished on a; the same answer on b then is refused.
    let (http, _) = browser();
    let challenge = begin_sign_in(&b, &http).await;
    let answer = device.sign(&challenge.options);
    let (status, text) = finish_sign_in(&a, &http, &challenge.ceremony, &answer).await;
    assert_eq!(status, 200, "{text}");
    let (again, _) = browser();
    let (status, _) = finish_sign_in(&b, &again, &challenge.ceremony, &answer).await;
    assert_eq!(status, 400);
}
