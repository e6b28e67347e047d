//! The KDF worker: receives `{id, pass, salt, version, m_kib, t, p}`, answers `{id, key}` or
//! `{id, error}`. It says `"ready"` once it can take requests (the page waits for that, so no
//! request is lost while the module loads). Built by trunk as a worker (`data-type="worker"`).
#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod worker {
    use flash_core::vault::kdf::{derive, KdfParams};
    use js_sys::{Object, Reflect, Uint8Array};
    use wasm_bindgen::prelude::*;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};
    use zeroize::Zeroize;

    fn field(data: &JsValue, name: &str) -> JsValue {
        Reflect::get(data, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    fn number(data: &JsValue, name: &str) -> u32 {
        field(data, name).as_f64().unwrap_or(0.0) as u32
    }

    fn answer(data: &JsValue) -> Object {
        let reply = Object::new();
        let _ = Reflect::set(&reply, &JsValue::from_str("id"), &field(data, "id"));
        let mut pass = Uint8Array::new(&field(data, "pass")).to_vec();
        let salt = Uint8Array::new(&field(data, "salt")).to_vec();
        let params = KdfParams {
            version: number(data, "version"),
            m_kib: number(data, "m_kib"),
            t: number(data, "t"),
            p: number(data, "p"),
        };
        let result = derive(&pass, &salt, &params);
        pass.zeroize();
        let (key, value) = match result {
            Ok(k) => ("key", JsValue::from(Uint8Array::from(&k[..]))),
            Err(e) => ("error", JsValue::from_str(&e.to_string())),
        };
        let _ = Reflect::set(&reply, &JsValue::from_str(key), &value);
        reply
    }

    /// Installs the message handler and announces readiness.
    pub fn run() {
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let replies = scope.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let _ = replies.post_message(&answer(&e.data()));
        });
        scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let _ = scope.post_message(&JsValue::from_str("ready"));
    }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    worker::run();
}
