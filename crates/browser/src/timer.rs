//! Waiting in the page: `setTimeout` as a future, handed to the engine as its sleep function
//! (it polls mints with it) so the engine itself needs no timer of its own.

use std::rc::Rc;

use flash_core::engine::Sleep;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Resolves after `ms` milliseconds (at once when the page has no window).
pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let done = web_sys::window().and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(
                resolve.unchecked_ref(),
                i32::try_from(ms).unwrap_or(i32::MAX),
            )
            .ok()
        });
        if done.is_none() {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// [`sleep`] in the shape the engine takes.
pub fn sleeper() -> Sleep {
    Rc::new(|ms| Box::pin(sleep(ms)))
}

/// Copies `text` to the clipboard; false when the browser refuses (no permission, http).
pub async fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let promise = window.navigator().clipboard().write_text(text);
    JsFuture::from(promise).await.is_ok()
}
