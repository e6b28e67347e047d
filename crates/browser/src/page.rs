//! Small page-level facts and markers.

/// Marks the document as ready (`<html data-ready="1">`) once the app is mounted and
/// interactive, and records a `flash-ready` performance mark: benchmarks and end-to-end tests
/// wait on these, never on a sleep.
pub fn mark_ready() {
    if let Some(perf) = web_sys::window().and_then(|w| w.performance()) {
        let _ = perf.mark("flash-ready");
    }
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-ready", "1");
    }
}

/// Removes the static first screen of `index.html` (`#boot`), which paints before any wasm
/// has arrived. Called just before the app mounts, so the app's own header takes its place
/// in the same frame.
pub fn remove_boot_shell() {
    if let Some(boot) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("boot"))
    {
        boot.remove();
    }
}

/// Whether `<html data-ready>` is set.
pub fn is_ready() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .is_some_and(|root| root.has_attribute("data-ready"))
}

/// The browser's preferred language tag (e.g. "en-US"), for picking the UI locale.
pub fn preferred_language() -> Option<String> {
    web_sys::window().and_then(|w| w.navigator().language())
}

/// Calls `f` every time the browser says the network is back (`online` event), for the
/// whole life of the page: tokens received offline are redeemed then.
pub fn on_online(f: impl Fn() + 'static) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else {
        return;
    };
    let callback = Closure::<dyn Fn()>::new(f);
    if window
        .add_event_listener_with_callback("online", callback.as_ref().unchecked_ref())
        .is_ok()
    {
        // One listener for the page's lifetime: leaking it is the intent.
        callback.forget();
    }
}

/// The test-only trigger of the crash screen: when `localStorage["flash-test-panic"]` is
/// `"1"` (set by an end-to-end test; no other page can write this origin's storage), the key
/// is removed and the app panics on purpose, so the panic screen is tested in the release build.
pub fn test_panic_if_asked() {
    let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
        return;
    };
    if storage
        .get_item("flash-test-panic")
        .ok()
        .flatten()
        .as_deref()
        == Some("1")
    {
        let _ = storage.remove_item("flash-test-panic");
        panic!("test panic requested through localStorage");
    }
}
