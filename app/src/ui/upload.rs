//! Files chosen to send: shown as chips with a progress bar while they upload, kept in the
//! browser (IndexedDB) once sent so that a reload does not lose them, and shown in messages.

use leptos::prelude::*;
use parley::attachment::{self, Attachment};
use serde::{Deserialize, Serialize};

/// A file chosen in the composer.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub local_id: String,
    pub name: String,
    pub mime: String,
    pub size: u64,
    /// 0 to 1.
    pub progress: f64,
    pub uploaded: Option<Attachment>,
    pub error: Option<String>,
}

/// A file of a message in the outbox: its blob is kept in IndexedDB under `local_id`
/// until the upload is done and the attachment has its id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxFile {
    pub local_id: String,
    pub attachment: Attachment,
}

impl Draft {
    /// What the message carries for this file (no id yet if still uploading).
    pub fn outbox_file(&self) -> OutboxFile {
        OutboxFile {
            local_id: self.local_id.clone(),
            attachment: self.uploaded.clone().unwrap_or_else(|| Attachment {
                file_id: String::new(),
                name: self.name.clone(),
                mime: self.mime.clone(),
                size: self.size,
                width: None,
                height: None,
            }),
        }
    }
}

/// The chips of the files chosen for the next message.
#[component]
pub fn DraftChips(drafts: RwSignal<Vec<Draft>>) -> impl IntoView {
    view! {
        <Show when=move || drafts.with(|d| !d.is_empty())>
            <ul class="drafts" data-testid="drafts">
                <For each=move || drafts.get() key=|d: &Draft| (d.local_id.clone(), (d.progress * 100.0) as u32, d.uploaded.is_some(), d.error.clone())
                    let:draft
                >
                    {
                        let id = draft.local_id.clone();
                        let percent = (draft.progress * 100.0).round() as u32;
                        let state = if draft.error.is_some() {
                            "failed"
                        } else if draft.uploaded.is_some() {
                            "uploaded"
                        } else {
                            "uploading"
                        };
                        view! {
                            <li class="draft" data-testid="draft" data-state=state>
                                <span class="draft-name">{draft.name.clone()}</span>
                                <span class="draft-size">{attachment::human_size(draft.size)}</span>
                                {match draft.error.clone() {
                                    Some(e) => view! { <span class="error" role="alert">{e}</span> }.into_any(),
                                    None => {
                                        view! {
                                            <progress
                                                max="100"
                                                value=percent
                                                data-testid="upload-progress"
                                                aria-label="Upload"
                                            ></progress>
                                        }
                                            .into_any()
                                    }
                                }}
                                <button
                                    type="button"
                                    class="reset"
                                    aria-label="Remove file"
                                    on:click=move |_| forget(drafts, &id)
                                >
                                    "×"
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
        </Show>
    }
}

fn forget(drafts: RwSignal<Vec<Draft>>, local_id: &str) {
    drafts.update(|d| d.retain(|d| d.local_id != local_id));
    #[cfg(feature = "browser")]
    browser::BLOBS.with(|b| b.borrow_mut().remove(local_id));
}

/// The files of a message: thumbnails for images (the full picture on click), download
/// links for the rest, and a note for files still uploading.
#[component]
pub fn AttachmentList(files: Vec<Attachment>) -> impl IntoView {
    let base = crate::server_url().unwrap_or_default().trim_end_matches('/').to_owned();
    files
        .into_iter()
        .map(|file| {
            let href = format!("{base}/files/{}", file.file_id);
            if !file.uploaded() {
                view! {
                    <span class="file uploading" data-testid="attachment-pending">
                        {file.name.clone()}
                        " · uploading…"
                    </span>
                }
                .into_any()
            } else if file.is_image() {
                let (w, h) = attachment::thumbnail_size(file.width.unwrap_or(1), file.height.unwrap_or(1));
                view! {
                    <a class="thumb" href=href.clone() target="_blank" rel="noopener noreferrer">
                        <img
                            src=format!("{href}/thumb")
                            alt=file.name.clone()
                            width=w
                            height=h
                            loading="lazy"
                            data-testid="attachment-image"
                        />
                    </a>
                }
                .into_any()
            } else {
                view! {
                    <a class="file" href=href download=file.name.clone() data-testid="attachment-file">
                        <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
                            <path
                                d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zM14 2v6h6"
                                fill="none"
                                stroke="currentColor"
                                stroke-width="2"
                                stroke-linejoin="round"
                            ></path>
                        </svg>
                        {file.name.clone()}
                        <span class="file-size">{attachment::human_size(file.size)}</span>
                    </a>
                }
                .into_any()
            }
        })
        .collect_view()
}

/// Makes `picture` (an image, cut square in the browser) the signed-in user's picture:
/// uploads it, then asks the server to make the picture from it; the profile as others
/// now see it, or why not.
#[cfg(feature = "browser")]
pub async fn upload_picture(picture: &web_sys::Blob, name: &str) -> Result<crate::api::ProfileView, String> {
    if picture.size() as u64 > attachment::MAX_FILE_BYTES {
        return Err(attachment::FileError::TooLarge {
            size: picture.size() as u64,
        }
        .to_string());
    }
    let uploaded = browser::upload(picture, name, |_| {})
        .await
        .map_err(|e| e.to_string())?;
    set_picture(Some(&uploaded.file_id)).await
}

/// Sets (or with `None` removes) the signed-in user's picture, cut from an uploaded image.
#[cfg(feature = "browser")]
pub async fn set_picture(file_id: Option<&str>) -> Result<crate::api::ProfileView, String> {
    let base = crate::server_url().unwrap_or_default().trim_end_matches('/').to_owned();
    let query = file_id.map(|id| format!("?file={id}")).unwrap_or_default();
    // XMLHttpRequest as for uploads (the app's one way of calling the file door).
    let unreachable = |_| "could not reach the server; check your connection and try again".to_owned();
    let xhr = web_sys::XmlHttpRequest::new().map_err(unreachable)?;
    xhr.open_with_async("POST", &format!("{base}/api/avatar{query}"), true)
        .map_err(unreachable)?;
    xhr.set_with_credentials(crate::server_url().is_some());
    let (done, finished) = futures::channel::oneshot::channel::<()>();
    let done = std::cell::RefCell::new(Some(done));
    let on_end = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
        if let Some(done) = done.borrow_mut().take() {
            let _ = done.send(());
        }
    });
    {
        use wasm_bindgen::JsCast;
        xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    }
    xhr.send().map_err(unreachable)?;
    let _ = finished.await;
    drop(on_end);
    let status = xhr.status().unwrap_or(0);
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    match status {
        200 => serde_json::from_str(&text).map_err(|e| e.to_string()),
        0 => Err("could not reach the server; check your connection and try again".to_owned()),
        _ => Err(serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("the server refused the picture ({status})"))),
    }
}

/// Takes files from the picker, a drop or a paste: each becomes a chip and starts uploading.
#[cfg(feature = "browser")]
pub fn add_files(drafts: RwSignal<Vec<Draft>>, files: web_sys::FileList) {
    for i in 0..files.length() {
        let Some(file) = files.get(i) else { continue };
        let local_id = uuid::Uuid::now_v7().to_string();
        let size = file.size() as u64;
        let too_many = drafts.with_untracked(|d| d.len()) >= attachment::MAX_ATTACHMENTS;
        let error = if too_many {
            Some(attachment::FileError::TooMany.to_string())
        } else if size > attachment::MAX_FILE_BYTES {
            Some(attachment::FileError::TooLarge { size }.to_string())
        } else {
            None
        };
        let draft = Draft {
            local_id: local_id.clone(),
            name: attachment::file_name(&file.name()),
            mime: file.type_(),
            size,
            progress: 0.0,
            uploaded: None,
            error: error.clone(),
        };
        let name = draft.name.clone();
        drafts.update(|d| d.push(draft));
        if error.is_some() {
            continue;
        }
        let blob: web_sys::Blob = file.into();
        browser::BLOBS.with(|b| b.borrow_mut().insert(local_id.clone(), blob.clone()));
        leptos::task::spawn_local(async move {
            let id = local_id.clone();
            let result = browser::upload(&blob, &name, move |p| {
                drafts.update(|d| {
                    if let Some(d) = d.iter_mut().find(|d| d.local_id == id) {
                        d.progress = p;
                    }
                });
            })
            .await;
            drafts.update(|d| {
                if let Some(d) = d.iter_mut().find(|d| d.local_id == local_id) {
                    match result {
                        Ok(file) => {
                            d.progress = 1.0;
                            d.uploaded = Some(file);
                        }
                        // Offline: the file goes with the message, from the outbox, later.
                        Err(browser::UploadFailure::Unreachable(_)) => {}
                        Err(browser::UploadFailure::Refused(e)) => d.error = Some(e),
                    }
                }
            });
        });
    }
}

/// The blob of a chosen file, while the page holds it.
#[cfg(feature = "browser")]
pub fn blob(local_id: &str) -> Option<web_sys::Blob> {
    browser::BLOBS.with(|b| b.borrow().get(local_id).cloned())
}

#[cfg(feature = "browser")]
pub use browser::{UploadFailure, upload};

#[cfg(feature = "browser")]
mod browser {
    use parley::attachment::Attachment;
    use std::cell::RefCell;
    use std::collections::HashMap;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    thread_local! {
        /// Files chosen in the composer, until sent or removed.
        pub static BLOBS: RefCell<HashMap<String, web_sys::Blob>> = RefCell::default();
    }

    /// Why an upload did not succeed.
    #[derive(Debug)]
    pub enum UploadFailure {
        /// The server could not be reached: try again later.
        Unreachable(String),
        /// The server refused the file: trying again cannot help.
        Refused(String),
    }

    impl std::fmt::Display for UploadFailure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                Self::Unreachable(e) | Self::Refused(e) => f.write_str(e),
            }
        }
    }

    /// Uploads a file, reporting progress from 0 to 1. XMLHttpRequest rather than `fetch`:
    /// only it reports how much of a request body has been sent.
    pub async fn upload(
        blob: &web_sys::Blob,
        name: &str,
        progress: impl Fn(f64) + 'static,
    ) -> Result<Attachment, UploadFailure> {
        let unreachable = |e: wasm_bindgen::JsValue| UploadFailure::Unreachable(format!("{e:?}"));
        let base = crate::server_url().unwrap_or_default().trim_end_matches('/');
        let name: String = js_sys::encode_uri_component(name).into();
        let url = format!("{base}/api/files?name={name}");
        let xhr = web_sys::XmlHttpRequest::new().map_err(unreachable)?;
        xhr.open_with_async("POST", &url, true).map_err(unreachable)?;
        xhr.set_with_credentials(crate::server_url().is_some());
        let on_progress = Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                progress(ev.loaded() / ev.total());
            }
        });
        if let Ok(target) = xhr.upload() {
            target.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        }
        let (done, finished) = futures::channel::oneshot::channel::<()>();
        let done = RefCell::new(Some(done));
        let on_end = Closure::<dyn Fn()>::new(move || {
            if let Some(done) = done.borrow_mut().take() {
                let _ = done.send(());
            }
        });
        xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
        xhr.send_with_opt_blob(Some(blob)).map_err(unreachable)?;
        let _ = finished.await;
        drop((on_progress, on_end));
        let status = xhr.status().unwrap_or(0);
        let text = xhr.response_text().ok().flatten().unwrap_or_default();
        match status {
            200 => serde_json::from_str(&text).map_err(|e| UploadFailure::Refused(e.to_string())),
            0 => Err(UploadFailure::Unreachable("could not reach the server".into())),
            400..=499 => {
                let error = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v["error"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| format!("the server refused the file ({status})"));
                Err(UploadFailure::Refused(error))
            }
            _ => Err(UploadFailure::Unreachable(format!("the server failed ({status})"))),
        }
    }
}
