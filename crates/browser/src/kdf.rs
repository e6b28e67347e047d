//! The KDF port in a Web Worker: Argon2id runs off the page's thread, so typing, animations and
//! the "unlocking…" state stay live however costly the parameters. One short-lived worker per
//! derivation (unlocks are rare; the worker's small module loads in milliseconds). Where no
//! worker can start, it runs inline rather than failing.

use flash_core::vault::{InlineKdf, Kdf, KdfParams, VaultError};
use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

/// The worker's loader, emitted by trunk (`data-type="worker" data-loader-shim`).
pub const WORKER_URL: &str = "/kdf-worker_loader.js";

/// Argon2id in a Web Worker.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkerKdf;

fn set(obj: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

fn request(passphrase: &[u8], salt: &[u8], params: &KdfParams) -> Object {
    let msg = Object::new();
    set(&msg, "id", &JsValue::from_f64(1.0));
    set(&msg, "pass", &Uint8Array::from(passphrase).into());
    set(&msg, "salt", &Uint8Array::from(salt).into());
    set(&msg, "version", &JsValue::from(params.version));
    set(&msg, "m_kib", &JsValue::from(params.m_kib));
    set(&msg, "t", &JsValue::from(params.t));
    set(&msg, "p", &JsValue::from(params.p));
    msg
}

/// How long one derivation may take in the worker before it is given up (a phone at the
/// maximum parameters stays well inside this; a hung worker does not hold the unlock forever).
const KDF_TIMEOUT_MS: f64 = 60_000.0;

/// Why the worker path failed: no worker could start here (then the page derives inline), or
/// it started and then crashed or hung (then the page must not retry on its own thread: the
/// same parameters would freeze or kill the page).
enum WorkerFailure {
    Unavailable,
    Crashed(String),
}

/// Runs one derivation in a fresh worker; resolves to the worker's reply object.
async fn in_worker(msg: Object) -> Result<JsValue, WorkerFailure> {
    let worker = web_sys::Worker::new(WORKER_URL).map_err(|_| WorkerFailure::Unavailable)?;
    let w = worker.clone();
    // Whether the worker loaded and took the request: a failure before that means no worker
    // can run here (the page may derive inline); after it, the derivation itself died.
    let started = std::rc::Rc::new(std::cell::Cell::new(false));
    let started_in_worker = started.clone();
    let promise = Promise::new(&mut |resolve, reject| {
        let started = started_in_worker.clone();
        let w2 = w.clone();
        let msg = msg.clone();
        let reject_on_error = reject.clone();
        let reject_timeout = reject.clone();
        let on_message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                let data = e.data();
                if data.as_string().as_deref() == Some("ready") {
                    started.set(true);
                    if let Err(err) = w2.post_message(&msg) {
                        let _ = reject.call1(&JsValue::NULL, &err);
                    }
                } else {
                    let _ = resolve.call1(&JsValue::NULL, &data);
                }
            });
        w.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let on_error = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let _ = reject_on_error.call1(&JsValue::NULL, &e);
        });
        w.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        let reject_on_timeout = reject_timeout.clone();
        let on_timeout = Closure::once_into_js(move || {
            let _ = reject_on_timeout.call1(&JsValue::NULL, &JsValue::from_str("timed out"));
        });
        let global = js_sys::global();
        if let Ok(set_timeout) = Reflect::get(&global, &JsValue::from_str("setTimeout")) {
            if let Some(f) = set_timeout.dyn_ref::<js_sys::Function>() {
                let _ = f.call2(&global, &on_timeout, &JsValue::from_f64(KDF_TIMEOUT_MS));
            }
        }
    });
    let result = JsFuture::from(promise).await;
    worker.terminate();
    result.map_err(|e| {
        if started.get() {
            WorkerFailure::Crashed(e.as_string().unwrap_or_else(|| "the worker stopped".into()))
        } else {
            WorkerFailure::Unavailable
        }
    })
}

impl Kdf for WorkerKdf {
    async fn derive(
        &self,
        passphrase: &[u8],
        salt: &[u8],
        params: &KdfParams,
    ) -> Result<Zeroizing<[u8; 32]>, VaultError> {
        let reply = match in_worker(request(passphrase, salt, params)).await {
            Ok(reply) => reply,
            // No worker here (blocked, or an old browser): correctness over smoothness.
            Err(WorkerFailure::Unavailable) => {
                return InlineKdf.derive(passphrase, salt, params).await
            }
            // It ran and died (out of memory) or hung: never again on the page's thread.
            Err(WorkerFailure::Crashed(why)) => return Err(VaultError::Kdf(why)),
        };
        let key = Reflect::get(&reply, &JsValue::from_str("key")).unwrap_or(JsValue::UNDEFINED);
        if key.is_undefined() {
            let error = Reflect::get(&reply, &JsValue::from_str("error"))
                .ok()
                .and_then(|e| e.as_string())
                .unwrap_or_else(|| "no key".into());
            return Err(VaultError::Kdf(error));
        }
        let bytes = Uint8Array::new(&key).to_vec();
        let arr: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::Kdf("the worker returned a key of the wrong length".into()))?;
        Ok(Zeroizing::new(arr))
    }
}
