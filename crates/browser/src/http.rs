//! Mint requests on the page's `fetch`, reading the answer as a stream and giving up after
//! [`MAX_ANSWER_BYTES`]: cdk's own fetch reads any answer whole, so a hostile mint could
//! stream gigabytes into the wasm memory and kill the app.

use flash_core::ecash::transport::{FetchRequest, HttpError, RawResponse, MAX_ANSWER_BYTES};
use futures::future::LocalBoxFuture;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (a window's or a worker's).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &web_sys::Request) -> js_sys::Promise;
}

/// Plain words for a failed request; the browser's own text (a `TypeError` and its stack)
/// never reaches the user.
fn unreachable(_: JsValue) -> HttpError {
    HttpError::Connection("the network request failed".into())
}

fn too_large() -> HttpError {
    HttpError::Connection(format!(
        "the mint's answer is larger than {} MiB",
        MAX_ANSWER_BYTES / (1024 * 1024)
    ))
}

/// `request` through the page's fetch (the shape `transport::set_fetch` takes).
pub fn fetch(request: FetchRequest) -> LocalBoxFuture<'static, Result<RawResponse, HttpError>> {
    Box::pin(fetch_capped(request, MAX_ANSWER_BYTES))
}

/// Aborts the request when dropped: a request given up on (the transport's timeout drops
/// this future) stops at once instead of running on, holding a connection to a slow mint.
/// Aborting one that has finished does nothing.
struct AbortOnDrop(Option<web_sys::AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            controller.abort();
        }
    }
}

/// `request`, failing once the answer passes `limit` bytes.
pub async fn fetch_capped(request: FetchRequest, limit: usize) -> Result<RawResponse, HttpError> {
    let init = web_sys::RequestInit::new();
    let abort = AbortOnDrop(web_sys::AbortController::new().ok());
    if let Some(controller) = &abort.0 {
        init.set_signal(Some(&controller.signal()));
    }
    init.set_method(request.method);
    // As cdk's own transport: a redirect is refused, never followed (a 307 would re-send
    // a swap's proofs to wherever the mint's answer points).
    init.set_redirect(web_sys::RequestRedirect::Error);
    if let Some(body) = &request.body {
        init.set_body(&js_sys::Uint8Array::from(body.as_slice()).into());
    }
    let built = web_sys::Request::new_with_str_and_init(&request.url, &init)
        .map_err(|_| HttpError::Build("that mint address cannot be requested".into()))?;
    for (name, value) in &request.headers {
        built
            .headers()
            .set(name, value)
            .map_err(|_| HttpError::Build(format!("the header {name} cannot be sent")))?;
    }
    let response: web_sys::Response = JsFuture::from(global_fetch(&built))
        .await
        .map_err(unreachable)?
        .dyn_into()
        .map_err(unreachable)?;
    let status = response.status();
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|n| n.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        if let Some(body) = response.body() {
            let _ = body.cancel();
        }
        return Err(too_large());
    }
    let Some(body) = response.body() else {
        return Ok(RawResponse::new(status, Vec::new()));
    };
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut out = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(unreachable)?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        let Ok(bytes) = js_sys::Reflect::get(&chunk, &JsValue::from_str("value"))
            .and_then(|v| v.dyn_into::<js_sys::Uint8Array>())
        else {
            let _ = reader.cancel();
            return Err(HttpError::Other(
                "the mint's answer could not be read".into(),
            ));
        };
        let len = bytes.length() as usize;
        if out.len().saturating_add(len) > limit {
            let _ = reader.cancel();
            return Err(too_large());
        }
        let start = out.len();
        out.resize(start + len, 0);
        bytes.copy_to(&mut out[start..]);
    }
    Ok(RawResponse::new(status, out))
}
