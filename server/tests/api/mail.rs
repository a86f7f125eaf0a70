//! Mail: an email address confirmed by the link mailed to it, and "forgot your password?"
//! mailing a reset link to a confirmed address only. The mail server is a receiver on
//! loopback started by the test (just enough SMTP for the server's client).

use crate::attacks::spawn_configured;
use crate::helpers::{PASSWORD, TestApp, browser, spawn_app};
use parley::api::EmailView;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The mails a loopback SMTP receiver got: (recipient, message as sent).
#[derive(Clone, Default)]
struct Inbox(Arc<Mutex<Vec<(String, String)>>>);

impl Inbox {
    async fn start() -> (Self, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let inbox = Self::default();
        let kept = inbox.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 localhost test receiver\r\n").await;
                    let mut to = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let command = line.to_ascii_uppercase();
                        let answer: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
                            b"250 localhost\r\n"
                        } else if command.starts_with("RCPT TO:") {
                            to = line[8..].trim().trim_matches(['<', '>']).to_owned();
                            b"250 OK\r\n"
                        } else if command == "DATA" {
                            let _ = write.write_all(b"354 go ahead\r\n").await;
                            let mut message = String::new();
                            while let Ok(Some(line)) = lines.next_line().await {
                                if line == "." {
                                    break;
                                }
                                message.push_str(&line);
                                message.push('\n');
                            }
                            kept.0.lock().unwrap().push((to.clone(), message));
                            b"250 OK\r\n"
                        } else if command == "QUIT" {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        } else {
                            b"250 OK\r\n"
                        };
                        let _ = write.write_all(answer).await;
                    }
                });
            }
        });
        (inbox, addr)
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Waits for mail number `n` (from 1); returns its recipient and the link in it.
    async fn link_of(&self, n: usize) -> (String, String) {
        for _ in 0..200 {
            if let Some((to, message)) = self.0.lock().unwrap().get(n - 1).cloned() {
                // Quoted-printable: soft line breaks and `=` written as `=3D`.
                let text = message.replace("=\n", "").replace("=3D", "=");
                let link = text
                    .split_whitespace()
                    .find(|w| w.starts_with("http"))
                    .unwrap_or_else(|| panic!("no link in {text}"))
                    .to_owned();
                return (to, link);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("mail {n} did not come");
    }
}

async fn with_mail() -> (TestApp, Inbox) {
    let (inbox, addr) = Inbox::start().await;
    let app = spawn_configured(|c| {
        c.smtp_url = Some(format!("smtp://{addr}"));
        c.public_url = Some("http://parley.test/".into());
        c.mail_from = "Parley <parley@parley.test>".into();
    })
    .await;
    (app, inbox)
}

#[tokio::test]
async fn an_address_is_confirmed_by_its_link_and_only_then_gets_reset_links() {
    let (app, inbox) = with_mail().await;
    let ada = app.sign_up("ada").await;
    let view: EmailView = app
        .call_as(&ada.http, "my_email", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        view,
        EmailView {
            email: None,
            verified: false,
            mail: true
        }
    );
    let bad = app
        .call_as(&ada.http, "set_email", json!({ "email": "not an address" }))
        .await;
    assert_eq!(bad.status(), 400);

    let set = app
        .call_as(&ada.http, "set_email", json!({ "email": " Ada@Example.ORG " }))
        .await;
    let view: EmailView = set.json().await.unwrap();
    assert_eq!(view.email.as_deref(), Some("Ada@example.org"));
    assert!(!view.verified);
    let (to, link) = inbox.link_of(1).await;
    assert_eq!(to, "Ada@example.org");
    let token = link
        .strip_prefix("http://parley.test/?verify-email=")
        .unwrap_or_else(|| panic!("{link}"));

    // Not confirmed yet: no reset link goes out, and the answer does not say so.
    let forgot = app
        .call_as(&browser().0, "request_reset", json!({ "username": "ada" }))
        .await;
    assert_eq!(forgot.status(), 200);
    let wrong = app
        .call_as(&browser().0, "verify_email", json!({ "token": "x".repeat(43) }))
        .await;
    assert_eq!(wrong.status(), 400);
    let confirmed = app
        .call_as(&browser().0, "verify_email", json!({ "token": token }))
        .await;
    assert_eq!(confirmed.status(), 200);
    assert_eq!(confirmed.json::<String>().await.unwrap(), "Ada@example.org");
    let again = app
        .call_as(&browser().0, "verify_email", json!({ "token": token }))
        .await;
    assert_eq!(again.status(), 400, "a confirmation link works once");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(inbox.count(), 1, "no reset mail for an unconfirmed address");

    // Confirmed: "forgot your password?" mails a reset link, whatever Host the request named.
    let forgot = browser()
        .0
        .post(format!("http://{}/api/request_reset", app.addr))
        .header("host", "evil.example")
        .json(&json!({ "username": "ada" }))
        .send()
        .await
        .unwrap();
    assert_eq!(forgot.status(), 200);
    let (to, link) = inbox.link_of(2).await;
    assert_eq!(to, "Ada@example.org");
    let secret = link
        .strip_prefix("http://parley.test/?reset=")
        .unwrap_or_else(|| panic!("{link}"));
    let reset = json!({ "token": secret, "new": "a brand new password" });
    assert_eq!(app.call_as(&browser().0, "reset_password", reset).await.status(), 200);
    let sign_in = json!({ "username": "ada", "password": "a brand new password" });
    assert_eq!(app.call_as(&browser().0, "sign_in", sign_in).await.status(), 200);
    let old = json!({ "username": "ada", "password": PASSWORD });
    assert_ne!(app.call_as(&browser().0, "sign_in", old).await.status(), 200);

    // Nobody by that name: the same answer, and no mail.
    let nobody = app
        .call_as(&browser().0, "request_reset", json!({ "username": "nobody" }))
        .await;
    assert_eq!(nobody.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(inbox.count(), 2);
}

#[tokio::test]
async fn without_smtp_no_address_is_taken_and_reset_asks_for_an_admin() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let view: EmailView = app
        .call_as(&ada.http, "my_email", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(!view.mail);
    let set = app
        .call_as(&ada.http, "set_email", json!({ "email": "ada@example.org" }))
        .await;
    assert_eq!(set.status(), 400);
    assert!(set.text().await.unwrap().contains("does not send mail"));
    let forgot = app
        .call_as(&browser().0, "request_reset", json!({ "username": "ada" }))
        .await;
    assert_eq!(forgot.status(), 400);
    assert!(forgot.text().await.unwrap().contains("ask an instance admin"));
}
