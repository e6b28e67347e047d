//! Service worker registration and the "new version available — reload" flow.
//!
//! The worker (`/sw.js`, generated at build time with a cache name derived from the build's
//! content hashes) precaches the app shell. A new deploy installs a new worker that waits; we
//! tell the UI, and when the user agrees we ask the waiting worker to take over and reload once
//! it controls the page. Wallet data never passes through the worker or its cache.

use thiserror::Error;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState};

/// Why the offline app could not be installed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SwError {
    /// No service workers here (old browser, or a non-secure origin such as plain http on a LAN IP).
    #[error("this browser cannot keep Flash for offline use here; open it over https (or localhost) in a current browser")]
    Unsupported,
    /// The browser refused the worker script.
    #[error("offline support could not be installed ({0}); the app still works online — reload to retry")]
    Register(String),
}

/// The message the worker understands as "activate now".
pub const SKIP_WAITING: &str = "SKIP_WAITING";

fn container() -> Result<ServiceWorkerContainer, SwError> {
    let window = web_sys::window().ok_or(SwError::Unsupported)?;
    let nav = window.navigator();
    let has = js_sys::Reflect::has(&nav, &JsValue::from_str("serviceWorker")).unwrap_or(false);
    if !has || !window.is_secure_context() {
        return Err(SwError::Unsupported);
    }
    Ok(nav.service_worker())
}

/// Whether this page can register a service worker.
pub fn supported() -> bool {
    container().is_ok()
}

/// Registers the worker at `script_url` and calls `on_update` when a new version is installed
/// and waiting while an older one controls the page.
pub async fn register(script_url: &str, on_update: impl Fn() + 'static) -> Result<(), SwError> {
    let container = container()?;
    let reg: ServiceWorkerRegistration = JsFuture::from(container.register(script_url))
        .await
        .map_err(|e| SwError::Register(js_message(&e)))?
        .unchecked_into();
    let on_update = std::rc::Rc::new(on_update);
    let controlled = container.controller().is_some();
    if reg.waiting().is_some() && controlled {
        on_update();
    }
    let reg_for_found = reg.clone();
    let found = Closure::<dyn FnMut()>::new(move || {
        let Some(installing) = reg_for_found.installing() else {
            return;
        };
        let worker = installing.clone();
        let cb = on_update.clone();
        let changed = Closure::<dyn FnMut()>::new(move || {
            let has_controller = container_controller_exists();
            if worker.state() == ServiceWorkerState::Installed && has_controller {
                cb();
            }
        });
        installing.set_onstatechange(Some(changed.as_ref().unchecked_ref()));
        changed.forget(); // lives as long as that worker object
    });
    reg.set_onupdatefound(Some(found.as_ref().unchecked_ref()));
    found.forget(); // lives as long as the page
    Ok(())
}

fn container_controller_exists() -> bool {
    container().is_ok_and(|c| c.controller().is_some())
}

/// Activates the waiting worker and reloads the page once it has taken control.
pub async fn apply_update() -> Result<(), SwError> {
    let container = container()?;
    let reg: ServiceWorkerRegistration = JsFuture::from(
        container
            .ready()
            .map_err(|e| SwError::Register(js_message(&e)))?,
    )
    .await
    .map_err(|e| SwError::Register(js_message(&e)))?
    .unchecked_into();
    let reload = Closure::<dyn FnMut()>::new(|| {
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    });
    container.set_oncontrollerchange(Some(reload.as_ref().unchecked_ref()));
    reload.forget();
    match reg.waiting() {
        Some(waiting) => waiting
            .post_message(&JsValue::from_str(SKIP_WAITING))
            .map_err(|e| SwError::Register(js_message(&e))),
        None => {
            // Nothing waiting (already activated elsewhere): a plain reload picks it up.
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
            Ok(())
        }
    }
}

fn js_message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".to_string())
}
