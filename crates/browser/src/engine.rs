//! Starting the engine task on the page's event loop, over the browser's ports.

use flash_core::WalletHandle;

use crate::clock::BrowserClock;
use crate::idb::{IdbStore, DB_NAME};
use crate::kdf::WorkerKdf;
use crate::random::BrowserRandom;

/// Spawns the engine on the current page and returns the handle the UI keeps in context. The
/// engine opens IndexedDB itself; commands sent meanwhile wait for it.
pub fn start_engine() -> WalletHandle {
    flash_core::ecash::transport::set_timer(|ms| Box::pin(crate::timer::sleep(ms)));
    flash_core::ecash::transport::set_fetch(crate::http::fetch);
    flash_core::log::set_sink(|message| web_sys::console::warn_1(&message.into()));
    let (handle, task) = flash_core::spawn_engine(
        IdbStore::open_as_writer(DB_NAME),
        BrowserRandom,
        BrowserClock,
        WorkerKdf,
        crate::timer::sleeper(),
    );
    wasm_bindgen_futures::spawn_local(task);
    handle
}
