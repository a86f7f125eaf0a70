//! The "Export my data" dialog: what the archive holds, and its download with a progress bar.

use leptos::prelude::*;
use leptos::task::spawn_local;

/// The dialog, opened from the account menu.
#[component]
pub fn ExportDialog(open: RwSignal<bool>) -> impl IntoView {
    // While downloading: the share received so far (0 to 1), when the size is known.
    let progress = RwSignal::new(None::<f64>);
    let note = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    crate::ui::dialog::close_on_escape(open);
    crate::ui::dialog::focus_in_and_back();
    let start = move |_| {
        progress.set(Some(0.0));
        note.set(Some("Preparing your archive…".into()));
        error.set(None);
        spawn_local(async move {
            #[cfg(feature = "browser")]
            let done = download(move |share| progress.set(Some(share))).await;
            #[cfg(not(feature = "browser"))]
            let done: Result<f64, String> = Err("downloads happen in the browser".into());
            match done {
                Ok(bytes) => note.set(Some(format!("Downloaded ({})", size(bytes)))),
                Err(e) => {
                    note.set(None);
                    error.set(Some(e));
                }
            }
            progress.set(None);
        });
    };
    view! {
        <div class="overlay">
            <div class="dialog export-dialog" data-testid="export-dialog" role="dialog" aria-labelledby="export-title">
                <h2 id="export-title">"Export my data"</h2>
                <p>"A zip archive of what you put into Parley:"</p>
                <ul class="export-contents">
                    <li>"your profile and the spaces you are in"</li>
                    <li>"every message you wrote (not deleted ones), with its channel and time"</li>
                    <li>"your reactions"</li>
                    <li>"the files you uploaded"</li>
                </ul>
                <p class="hint">"You can make three archives, then one every ten minutes."</p>
                {move || {
                    progress
                        .get()
                        .map(|share| {
                            view! {
                                <progress data-testid="export-progress" max="1" value=share aria-label="Download progress"></progress>
                            }
                        })
                }}
                <p role="status" class="hint" data-testid="export-note">{move || note.get()}</p>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <div class="dialog-actions">
                    <button data-testid="export-start" disabled=move || progress.get().is_some() on:click=start>
                        "Download my data"
                    </button>
                    <button class="secondary" on:click=move |_| open.set(false)>
                        "Close"
                    </button>
                </div>
            </div>
        </div>
    }
}

fn size(bytes: f64) -> String {
    if bytes >= 1_048_576.0 {
        format!("{:.1} MB", bytes / 1_048_576.0)
    } else {
        format!("{} KB", (bytes / 1024.0).ceil())
    }
}

/// Downloads the archive (XMLHttpRequest: it reports progress), then hands it to the
/// browser as a file under the name the server gives. Returns its size.
#[cfg(feature = "browser")]
async fn download(progress: impl Fn(f64) + 'static) -> Result<f64, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let unreachable = |_| "could not reach the server; check your connection and try again".to_owned();
    let base = crate::server_url().unwrap_or_default().trim_end_matches('/').to_owned();
    let xhr = web_sys::XmlHttpRequest::new().map_err(unreachable)?;
    xhr.open_with_async("GET", &format!("{base}/api/export"), true)
        .map_err(unreachable)?;
    xhr.set_with_credentials(crate::server_url().is_some());
    xhr.set_response_type(web_sys::XmlHttpRequestResponseType::Blob);
    let on_progress = Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
        if ev.length_computable() && ev.total() > 0.0 {
            progress(ev.loaded() / ev.total());
        }
    });
    xhr.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    let (done, finished) = futures::channel::oneshot::channel::<()>();
    let done = std::cell::RefCell::new(Some(done));
    let on_end = Closure::<dyn Fn()>::new(move || {
        if let Some(done) = done.borrow_mut().take() {
            let _ = done.send(());
        }
    });
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    xhr.send().map_err(unreachable)?;
    let _ = finished.await;
    drop((on_progress, on_end));
    match xhr.status().unwrap_or(0) {
        200 => {}
        0 => return Err("could not reach the server; check your connection and try again".into()),
        429 | 503 => {
            let wait = xhr
                .get_response_header("retry-after")
                .ok()
                .flatten()
                .unwrap_or_default();
            return Err(format!("too many exports for now; try again in {wait} seconds"));
        }
        status => return Err(format!("the archive could not be made ({status}); please try again")),
    }
    let blob: web_sys::Blob = xhr
        .response()
        .ok()
        .and_then(|r| r.dyn_into().ok())
        .ok_or("the archive did not arrive whole")?;
    let name = xhr
        .get_response_header("content-disposition")
        .ok()
        .flatten()
        .and_then(|d| Some(d.split("filename=\"").nth(1)?.trim_end_matches('"').to_owned()))
        .unwrap_or_else(|| "parley-export.zip".to_owned());
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| "the archive could not be saved")?;
    let anchor: web_sys::HtmlAnchorElement = leptos::prelude::document()
        .create_element("a")
        .ok()
        .and_then(|a| a.dyn_into().ok())
        .ok_or("the archive could not be saved")?;
    anchor.set_href(&url);
    anchor.set_download(&name);
    anchor.click();
    // The browser has taken the file once the click is handled.
    gloo_timers::future::TimeoutFuture::new(1_000).await;
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(blob.size())
}
