//! The engine's worker: the second wasm module, holding the vault, IndexedDB, the KDF and
//! eCash (cdk). It loads and then waits, touching nothing, until the page hands it a
//! `MessagePort` (only the tab that owns the wallet does: see `flash_browser::tabs`); then it
//! starts the engine and serves the page's protocol on that port
//! (`flash_browser::remote::serve`). It says `"ready"` once it can take the port, and
//! `"crashed:<details>"` (scrubbed) when it panics, so the page can show that the engine
//! stopped instead of waiting forever. Built by trunk as a worker (`data-type="worker"`).
#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod worker {
    use std::cell::Cell;
    use std::rc::Rc;

    use flash_browser::worker::CRASHED;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, MessagePort};

    /// Installs the panic report and the handler for the page's port, and says it is ready.
    pub fn run() {
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let reporter = scope.clone();
        std::panic::set_hook(Box::new(move |info| {
            let details = flash_browser::panic::details(info);
            web_sys::console::error_1(&JsValue::from_str(&details));
            let _ = reporter.post_message(&JsValue::from_str(&format!("{CRASHED}{details}")));
        }));
        let started = Rc::new(Cell::new(false));
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            // One engine per worker, on the first port handed over; anything else is ignored.
            if started.get() {
                return;
            }
            let Ok(port) = e.ports().get(0).dyn_into::<MessagePort>() else {
                return;
            };
            started.set(true);
            // The writer lock first: from here on, an engine started by another tab fences
            // this one's writes on this thread, the moment it starts.
            wasm_bindgen_futures::spawn_local(async move {
                flash_browser::writer::take().await;
                flash_browser::remote::serve(flash_browser::start_engine(), port);
            });
        });
        scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget(); // for the worker's life
        let _ = scope.post_message(&JsValue::from_str("ready"));
    }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    worker::run();
}
