//! Storage durability: ask the browser to keep our data (`navigator.storage.persist()`), and
//! report whether it agreed and how much space is used, so the UI can push for a backup when
//! the browser may evict the wallet under storage pressure.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// What the browser says about our storage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StorageInfo {
    /// Whether the browser promised not to evict our data.
    pub persisted: bool,
    /// Bytes used by this origin, when known.
    pub usage: Option<f64>,
    /// Bytes this origin may use, when known.
    pub quota: Option<f64>,
}

fn manager() -> Option<web_sys::StorageManager> {
    let nav = web_sys::window()?.navigator();
    js_sys::Reflect::has(&nav, &JsValue::from_str("storage"))
        .ok()
        .filter(|has| *has)
        .map(|_| nav.storage())
}

async fn call_bool(promise: Result<js_sys::Promise, JsValue>) -> bool {
    match promise {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Asks for persistent storage; returns whether it is granted (now or before).
pub async fn request_persistence() -> bool {
    match manager() {
        Some(m) => call_bool(m.persist()).await,
        None => false,
    }
}

/// The current durability and usage.
pub async fn info() -> StorageInfo {
    let Some(m) = manager() else {
        return StorageInfo {
            persisted: false,
            usage: None,
            quota: None,
        };
    };
    let persisted = call_bool(m.persisted()).await;
    let estimate = match m.estimate() {
        Ok(p) => JsFuture::from(p).await.ok(),
        Err(_) => None,
    };
    let field = |name: &str| {
        estimate
            .as_ref()
            .and_then(|e| js_sys::Reflect::get(e, &JsValue::from_str(name)).ok())
            .and_then(|v| v.dyn_into::<js_sys::Number>().ok())
            .map(|n| n.value_of())
    };
    StorageInfo {
        persisted,
        usage: field("usage"),
        quota: field("quota"),
    }
}
