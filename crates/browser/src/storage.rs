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

/// The IndexedDB database the engine keeps the wallet in (its `idb` module opens it).
pub const DB_NAME: &str = "flash-web";

/// `localStorage` key saying a wallet exists on this device (not a secret: the database's
/// existence says as much), so the unlock screen can show before the engine has loaded.
const WALLET_HINT: &str = "flash-wallet";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Where the wallet most likely stands, read in milliseconds without the engine: no database
/// at all means no wallet yet; a database and the hint mean a wallet to unlock. `None` when
/// unsure (a database without the hint, or a browser that cannot list databases): then the
/// page waits for the engine. The engine's own status always replaces this guess.
pub async fn wallet_hint() -> Option<flash_api::WalletState> {
    if local_storage()?
        .get_item(WALLET_HINT)
        .ok()
        .flatten()
        .is_some()
    {
        return Some(flash_api::WalletState::Locked);
    }
    let factory = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB")).ok()?;
    let list = js_sys::Reflect::get(&factory, &JsValue::from_str("databases"))
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let promise = list
        .call0(&factory)
        .ok()?
        .dyn_into::<js_sys::Promise>()
        .ok()?;
    let names = JsFuture::from(promise)
        .await
        .ok()?
        .dyn_into::<js_sys::Array>()
        .ok()?;
    let exists = names.iter().any(|db| {
        js_sys::Reflect::get(&db, &JsValue::from_str("name"))
            .ok()
            .and_then(|n| n.as_string())
            .as_deref()
            == Some(DB_NAME)
    });
    (!exists).then_some(flash_api::WalletState::NoWallet)
}

/// Keeps the hint true to the engine's answer: set while a wallet exists, gone when none does.
pub fn remember(state: &flash_api::WalletState) {
    let Some(storage) = local_storage() else {
        return;
    };
    match state {
        flash_api::WalletState::Locked | flash_api::WalletState::Unlocked => {
            let _ = storage.set_item(WALLET_HINT, "1");
        }
        flash_api::WalletState::NoWallet => {
            let _ = storage.remove_item(WALLET_HINT);
        }
        _ => {}
    }
}
