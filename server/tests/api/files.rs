//! Attachments through the doors: uploads checked by their bytes, stored once by content,
//! thumbnails; files sent with a message; downloads only for those who may read the channel.

use crate::helpers::{TestApp, User, spawn_app};
use parley::attachment::Attachment;
use parley::{ChannelId, MessageId, MessageView};

pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 99]));
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub(crate) async fn upload(app: &TestApp, user: &User, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    user.http
        .post(format!("http://{}/api/files", app.addr))
        .query(&[("name", name)])
        .body(bytes)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn uploaded(app: &TestApp, user: &User, name: &str, bytes: Vec<u8>) -> Attachment {
    let response = upload(app, user, name, bytes).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub(crate) async fn get(app: &TestApp, http: &reqwest::Client, path: &str) -> reqwest::Response {
    http.get(format!("http://{}{path}", app.addr)).send().await.unwrap()
}

async fn post_files(app: &TestApp, user: &User, channel: ChannelId, body: &str, files: &[&str]) -> reqwest::Response {
    let args = serde_json::json!({
        "channel": channel, "message_id": MessageId::new(), "body": body, "attachments": files,
    });
    app.call_as(&user.http, "post_message", args).await
}

#[tokio::test]
async fn images_are_typed_by_their_bytes_stored_once_and_get_a_thumbnail() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let picture = png(800, 400);
    let file = uploaded(&app, &ada, "../holiday.png", picture.clone()).await;
    assert_eq!(file.mime, "image/png");
    assert_eq!(file.name, "holiday.png");
    assert_eq!(
        (file.width, file.height, file.size),
        (Some(800), Some(400), picture.len() as u64)
    );
    assert_eq!(file.file_id.len(), 64);
    // The same bytes under another name: the same file.
    let again = uploaded(&app, &ada, "copy.bin", picture.clone()).await;
    assert_eq!(again.file_id, file.file_id);
    assert_eq!(again.mime, "image/png", "the name does not decide the type");

    let full = get(&app, &ada.http, &format!("/files/{}", file.file_id)).await;
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["content-type"], "image/png");
    assert_eq!(full.headers()["x-content-type-options"], "nosniff");
    assert_eq!(full.bytes().await.unwrap().to_vec(), picture);
    let thumb = get(&app, &ada.http, &format!("/files/{}/thumb", file.file_id)).await;
    assert_eq!(thumb.status(), 200);
    let small = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((small.width(), small.height()), (320, 160));
}

#[tokio::test]
async fn bad_files_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let elf = [b"\x7fELF\x02\x01\x01".as_slice(), &[0u8; 64]].concat();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("tool.png", elf, 415, "cannot be sent"),
        ("empty.txt", Vec::new(), 400, "empty"),
        (
            "broken.png",
            [b"\x89PNG\r\n\x1a\n".as_slice(), &[7u8; 100]].concat(),
            400,
            "could not be read",
        ),
        ("binary.dat", vec![0xff, 0xfe, 0x00, 0x80, 0x81], 415, "cannot be sent"),
    ];
    for (name, bytes, status, says) in cases {
        let response = upload(&app, &ada, name, bytes).await;
        assert_eq!(response.status(), status, "{name}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains(says), "{name}: {body}");
    }
    let too_big = upload(&app, &ada, "big.txt", vec![b'a'; 10 * 1024 * 1024 + 1]).await;
    assert_eq!(too_big.status(), 413);
    let anonymous = reqwest::Client::new()
        .post(format!("http://{}/api/files?name=a.txt", app.addr))
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let cross_site = ada
        .http
        .post(format!("http://{}/api/files?name=a.txt", app.addr))
        .header("origin", "https://evil.example")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    // Text is accepted, served as a download of plain text (never as a page).
    let page = uploaded(&app, &ada, "page.html", b"<script>alert(1)</script>".to_vec()).await;
    assert_eq!(page.mime, "text/plain");
    let served = get(&app, &ada.http, &format!("/files/{}", page.file_id)).await;
    assert_eq!(served.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(
        served.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert!(
        served.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
}

#[tokio::test]
async fn files_are_read_like_their_channel() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let bob = app.sign_up("bob").await;
    let eve = app.sign_up("eve").await;
    let dm = app.open_direct(&ada, "bob").await;
    let file = uploaded(
        &app,
        &ada,
        "plan.pdf",
        b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF".to_vec(),
    )
    .await;
    assert_eq!(file.mime, "application/pdf");
    let path = format!("/files/{}", file.file_id);
    // Before it is sent, only its uploader sees it.
    assert_eq!(get(&app, &bob.http, &path).await.status(), 404);
    // Nobody sends a file they did not upload.
    let stolen = post_files(&app, &eve, ChannelId::GENERAL, "look", &[&file.file_id]).await;
    assert_eq!(stolen.status(), 400);
    assert!(stolen.text().await.unwrap().contains("no such file"));
    let bogus = post_files(&app, &ada, dm, "x", &["../../etc/passwd"]).await;
    assert_eq!(bogus.status(), 400);

    // Sent with no words: fine, a file says enough.
    let sent = post_files(&app, &ada, dm, "", &[&file.file_id]).await;
    assert_eq!(sent.status(), 200, "{}", sent.text().await.unwrap());
    app.wait_projected().await;
    assert_eq!(get(&app, &bob.http, &path).await.status(), 200);
    assert_eq!(
        get(&app, &eve.http, &path).await.status(),
        404,
        "eve is not in the conversation"
    );
    assert_eq!(get(&app, &reqwest::Client::new(), &path).await.status(), 401);
    let history: Vec<MessageView> = app
        .call_as(
            &bob.http,
            "history",
            serde_json::json!({ "channel": dm, "before": null, "limit": 10 }),
        )
        .await
        .json()
        .await
        .unwrap();
    let message = history.last().unwrap();
    assert_eq!(message.body, "");
    assert_eq!(message.attachments, vec![file.clone()]);

    // Deleted: the words and the files go, for everyone but the uploader.
    let delete = serde_json::json!({ "channel": dm, "message_id": message.message_id, "change": {"type": "delete"} });
    assert_eq!(app.call_as(&ada.http, "change_message", delete).await.status(), 200);
    app.wait_projected().await;
    assert_eq!(get(&app, &bob.http, &path).await.status(), 404);
    assert_eq!(get(&app, &ada.http, &path).await.status(), 200);
}

#[tokio::test]
async fn attachments_survive_a_rebuild() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada").await;
    let file = uploaded(&app, &ada, "a.png", png(10, 10)).await;
    assert_eq!(
        post_files(&app, &ada, ChannelId::GENERAL, "pic", &[&file.file_id])
            .await
            .status(),
        200
    );
    app.wait_projected().await;
    let dump = app.read_model_dump().await;
    assert!(dump.iter().any(|row| row.contains(&file.file_id)));
    let app = app.rebuilt().await;
    assert_eq!(app.read_model_dump().await, dump);
    let bob = app.sign_up("bob").await;
    assert_eq!(
        get(&app, &bob.http, &format!("/files/{}/thumb", file.file_id))
            .await
            .status(),
        200
    );
}
