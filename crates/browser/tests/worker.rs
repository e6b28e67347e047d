//! What the engine will need inside a dedicated Web Worker (issue 9) works there: waiting,
//! IndexedDB, randomness and the clock, in headless Chromium's worker scope (no `window`).
#![cfg(target_arch = "wasm32")]
#![allow(missing_docs, clippy::unwrap_used)] // test crate: wasm_bindgen_test fns are tests

use flash_browser::{timer, BrowserClock, BrowserRandom, IdbStore};
use flash_core::ports::{Clock, Random};
use flash_core::store::conformance;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
fn this_is_a_worker() {
    assert!(
        web_sys::window().is_none(),
        "no window in a dedicated worker"
    );
}

#[wasm_bindgen_test]
async fn sleep_waits_in_a_worker() {
    // Before, the timer used `window.setTimeout` and resolved at once without a window: every
    // mint deadline in a worker would have fired immediately.
    let before = BrowserClock.now_ms();
    timer::sleep(60).await;
    let waited = BrowserClock.now_ms() - before;
    assert!(waited >= 50, "waited {waited} ms for a 60 ms sleep");
}

#[wasm_bindgen_test]
async fn indexeddb_passes_the_storage_conformance_suite_in_a_worker() {
    let name = "flash-test-worker-conformance";
    let _ = IdbStore::delete(name).await;
    let store = IdbStore::open(name).await.expect("open in a worker");
    conformance::run(&store).await;
    drop(store);
    IdbStore::delete(name).await.expect("delete");
}

#[wasm_bindgen_test]
fn randomness_works_in_a_worker() {
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    BrowserRandom.fill(&mut a).unwrap();
    BrowserRandom.fill(&mut b).unwrap();
    assert_ne!(a, b);
}
