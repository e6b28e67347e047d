//! Waiting: the global `setTimeout` as a future, handed to the engine as its sleep function
//! (it polls mints and bounds requests with it) so the engine itself needs no timer of its
//! own. Global, not `window.setTimeout`, so it also waits inside a Web Worker.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// `globalThis.setTimeout`: the same function on a page and in a worker.
    #[wasm_bindgen(js_name = setTimeout, catch)]
    fn set_timeout(handler: &js_sys::Function, ms: i32) -> Result<JsValue, JsValue>;
}

/// Resolves after `ms` milliseconds. Where no timer can be set it resolves at once, so a
/// deadline never hangs forever; the engine's timeouts then fire early, never late.
pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if set_timeout(&resolve, i32::try_from(ms).unwrap_or(i32::MAX)).is_err() {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// [`sleep`] in the shape the engine takes.
#[cfg(feature = "engine")]
pub fn sleeper() -> flash_core::engine::Sleep {
    std::rc::Rc::new(|ms| Box::pin(sleep(ms)))
}

/// Copies `text` to the clipboard; false when the browser refuses (no permission, http).
pub async fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let promise = window.navigator().clipboard().write_text(text);
    JsFuture::from(promise).await.is_ok()
}
