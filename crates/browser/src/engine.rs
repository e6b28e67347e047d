//! Starting the engine task on the page's event loop.

use flash_core::WalletHandle;

use crate::clock::BrowserClock;

/// Spawns the engine on the current page and returns the handle the UI keeps in context.
pub fn start_engine() -> WalletHandle {
    let (handle, task) = flash_core::spawn_engine(BrowserClock);
    wasm_bindgen_futures::spawn_local(task);
    handle
}
