//! Cutting one's profile picture by hand before it is saved: the chosen image in a square frame, dragged (or moved with the arrow keys) and zoomed (a slider, or + and −); exactly what the frame shows is uploaded.

use crate::api::ProfileView;
use leptos::html;
use leptos::prelude::*;
use parley::crop::{Crop, MAX_ZOOM};

/// The frame's side on screen, in CSS pixels.
const STAGE_PX: f64 = 224.0;

/// The side of the picture uploaded (the server keeps pictures at 256 pixels).
#[cfg(feature = "browser")]
const PICTURE_PX: f64 = 256.0;

/// The cropper for the image at `url` (an object URL of the file chosen). Saving uploads
/// the square and sets it as the picture; `on_saved` gets the outcome, `on_cancel` is
/// called when the person gives up.
#[component]
pub fn PictureCrop(
    url: String,
    on_saved: Callback<Result<ProfileView, String>>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let image = NodeRef::<html::Img>::new();
    let crop = RwSignal::new(None::<Crop>);
    let dragging = RwSignal::new(None::<(f64, f64)>);
    let busy = RwSignal::new(false);
    let scale = move || crop.get().map(|c| STAGE_PX / c.side()).unwrap_or(1.0);
    let loaded = move |_| {
        if let Some(img) = image.get_untracked() {
            crop.set(Some(Crop::new(img.natural_width(), img.natural_height())));
        }
    };
    let change = move |f: &dyn Fn(Crop) -> Crop| crop.update(|c| *c = c.map(f));
    let picture_style = move || {
        crop.get()
            .map(|c| {
                let (x, y, _) = c.rect();
                let (width, height) = c.image_size();
                let s = STAGE_PX / c.side();
                format!(
                    "width: {:.2}px; height: {:.2}px; transform: translate({:.2}px, {:.2}px)",
                    width * s,
                    height * s,
                    -x * s,
                    -y * s
                )
            })
            .unwrap_or_else(|| "visibility: hidden".to_owned())
    };
    let on_down = move |ev: leptos::ev::PointerEvent| {
        #[cfg(feature = "browser")]
        if let Some(stage) = ev
            .current_target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
        {
            let _ = stage.set_pointer_capture(ev.pointer_id());
        }
        dragging.set(Some((f64::from(ev.client_x()), f64::from(ev.client_y()))));
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        let Some((from_x, from_y)) = dragging.get_untracked() else {
            return;
        };
        let (x, y) = (f64::from(ev.client_x()), f64::from(ev.client_y()));
        dragging.set(Some((x, y)));
        let s = scale();
        // The picture follows the pointer: the frame moves the other way.
        change(&|c| c.moved((from_x - x) / s, (from_y - y) / s));
    };
    let on_up = move |_: leptos::ev::PointerEvent| dragging.set(None);
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let Some(c) = crop.get_untracked() else { return };
        let step = c.step();
        let changed = match ev.key().as_str() {
            "ArrowLeft" => c.moved(-step, 0.0),
            "ArrowRight" => c.moved(step, 0.0),
            "ArrowUp" => c.moved(0.0, -step),
            "ArrowDown" => c.moved(0.0, step),
            "+" | "=" => c.zoomed(c.zoom() + 0.25),
            "-" | "_" => c.zoomed(c.zoom() - 0.25),
            _ => return,
        };
        ev.prevent_default();
        crop.set(Some(changed));
    };
    let save = move |_| {
        let Some(c) = crop.get_untracked() else { return };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        #[cfg(feature = "browser")]
        if let Some(img) = image.get_untracked() {
            leptos::task::spawn_local(async move {
                let saved = match cut(&img, c).await {
                    Ok(blob) => crate::ui::upload::upload_picture(&blob, "picture.png").await,
                    Err(e) => Err(e),
                };
                busy.set(false);
                on_saved.run(saved);
            });
        } else {
            busy.set(false);
        }
        #[cfg(not(feature = "browser"))]
        let _ = (c, on_saved);
    };
    view! {
        <div class="picture-crop" data-testid="picture-crop">
            <div
                class="crop-stage"
                tabindex="0"
                role="group"
                aria-label="Your picture: drag it, or use the arrow keys to choose what shows; + and − zoom"
                data-testid="crop-stage"
                style=format!("width: {STAGE_PX}px; height: {STAGE_PX}px")
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=on_up
                on:pointercancel=on_up
                on:keydown=on_key
            >
                <img node_ref=image src=url alt="" draggable="false" on:load=loaded style=picture_style />
            </div>
            <label class="crop-zoom">
                "Zoom"
                <input
                    type="range"
                    min="1"
                    max=MAX_ZOOM.to_string()
                    step="0.05"
                    data-testid="crop-zoom"
                    prop:value=move || crop.get().map(|c| c.zoom()).unwrap_or(1.0).to_string()
                    on:input=move |ev| {
                        if let Ok(zoom) = event_target_value(&ev).parse::<f64>() {
                            change(&|c| c.zoomed(zoom));
                        }
                    }
                />
            </label>
            <div class="crop-actions">
                <button
                    type="button"
                    data-testid="crop-save"
                    disabled=move || busy.get() || crop.get().is_none()
                    on:click=save
                >
                    {move || if busy.get() { "Saving…" } else { "Save picture" }}
                </button>
                <button type="button" class="secondary" data-testid="crop-cancel" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
            </div>
        </div>
    }
}

/// Draws the square `crop` of `img` into a canvas of at most [`PICTURE_PX`] and returns it as a PNG.
#[cfg(feature = "browser")]
async fn cut(img: &web_sys::HtmlImageElement, crop: Crop) -> Result<web_sys::Blob, String> {
    use wasm_bindgen::JsCast;
    let failed = |_| "the picture could not be cut; try another image".to_owned();
    let canvas: web_sys::HtmlCanvasElement = document()
        .create_element("canvas")
        .map_err(failed)?
        .dyn_into()
        .map_err(|_| "no canvas".to_owned())?;
    let (x, y, side) = crop.rect();
    let out = side.round().clamp(1.0, PICTURE_PX);
    canvas.set_width(out as u32);
    canvas.set_height(out as u32);
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(failed)?
        .ok_or("no canvas")?
        .dyn_into()
        .map_err(|_| "no canvas".to_owned())?;
    context
        .draw_image_with_html_image_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
            img, x, y, side, side, 0.0, 0.0, out, out,
        )
        .map_err(failed)?;
    let (sender, made) = futures::channel::oneshot::channel::<Option<web_sys::Blob>>();
    let callback = wasm_bindgen::closure::Closure::once(move |blob: wasm_bindgen::JsValue| {
        let _ = sender.send(blob.dyn_into::<web_sys::Blob>().ok());
    });
    canvas.to_blob(callback.as_ref().unchecked_ref()).map_err(failed)?;
    made.await
        .ok()
        .flatten()
        .ok_or_else(|| "the picture could not be cut; try another image".to_owned())
}
