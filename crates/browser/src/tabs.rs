//! One writer across tabs. An exclusive Web Lock elects the tab that runs the engine; another
//! tab shows "open in another tab", queues for the lock (so it carries on when the owner
//! closes) and can take over, which makes the first tab lock itself. Taking over is a
//! hand-over: the taking tab asks the owner over a BroadcastChannel, the owner finishes the
//! money in motion and locks (as an idle lock does), says so, and only then is its lock
//! stolen; an owner that does not answer in time loses it anyway. Two tabs never run two
//! engines on the same proofs.

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/js/tabs.js")]
extern "C" {
    #[wasm_bindgen(js_name = locksSupported)]
    fn locks_supported() -> bool;
    #[wasm_bindgen(js_name = claim)]
    fn js_claim(name: &str, on_lost: &Closure<dyn FnMut()>) -> js_sys::Promise;
    #[wasm_bindgen(js_name = waitFor)]
    fn js_wait_for(name: &str, on_granted: &Closure<dyn FnMut()>, on_lost: &Closure<dyn FnMut()>);
    #[wasm_bindgen(js_name = askAndSteal)]
    fn js_ask_and_steal(
        name: &str,
        on_lost: &Closure<dyn FnMut()>,
        grace_ms: u32,
        ack_ms: u32,
    ) -> js_sys::Promise;
    #[wasm_bindgen(js_name = onReleaseAsked)]
    fn js_on_release_asked(on_asked: &Closure<dyn FnMut(String)>);
    #[wasm_bindgen(js_name = released)]
    fn js_released(id: &str);
}

/// How long a taking tab waits for the owner to finish before taking the wallet anyway: the
/// owner's lock waits up to [`flash_api::status::LOCK_GRACE_MS`] for running operations.
/// Counted from the owner's first answer, which it sends as soon as it is asked.
pub const HAND_OVER_MS: u32 = flash_api::status::LOCK_GRACE_MS + 5_000;

/// How long a taking tab waits for any answer: an owner that says nothing (an older build, a
/// frozen background tab) loses the wallet after this, as before hand-overs existed.
pub const ANSWER_MS: u32 = 3_000;

/// The lock's name.
const LOCK: &str = "flash-engine";

/// Whether this tab may run the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This tab holds the lock.
    Owner,
    /// Another tab holds it.
    Elsewhere,
}

/// Where fencing goes when not to this page's own writes.
type FenceHook = Option<Box<dyn Fn(bool)>>;

thread_local! {
    /// Where fencing goes: this page's IndexedDB writes (the engine on the page), or a
    /// message to the engine's worker once it runs there ([`set_fence`]).
    static FENCE: std::cell::RefCell<FenceHook> = const { std::cell::RefCell::new(None) };
}

thread_local! {
    /// Whether this tab owns the wallet now (its last fence was off).
    static OWNS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this tab holds the wallet now (granted the lock and not lost it since).
pub fn owns() -> bool {
    OWNS.with(std::cell::Cell::get)
}

/// Resolves after the Web Locks events already queued for this page have run (a
/// `navigator.locks.query()` round trip); at once where there are no Web Locks.
pub async fn locks_settled() {
    let global = js_sys::global();
    let query = js_sys::Reflect::get(&global, &JsValue::from_str("navigator"))
        .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("locks")))
        .ok()
        .filter(|l| !l.is_undefined() && !l.is_null())
        .and_then(|locks| {
            let query = js_sys::Reflect::get(&locks, &JsValue::from_str("query")).ok()?;
            let query: js_sys::Function = query.dyn_into().ok()?;
            query.call0(&locks).ok()?.dyn_into::<js_sys::Promise>().ok()
        });
    if let Some(answered) = query {
        let _ = JsFuture::from(answered).await;
    }
}

/// Sends fencing to `to` instead of this page's own writes.
pub fn set_fence(to: impl Fn(bool) + 'static) {
    FENCE.with(|f| *f.borrow_mut() = Some(Box::new(to)));
}

/// Fences (`true`) or unfences this tab's writes: through the hook when one is set, else on
/// this page's IndexedDB.
fn fence(on: bool) {
    OWNS.with(|o| o.set(!on));
    let hooked = FENCE.with(|f| {
        f.borrow().as_ref().map(|to| {
            to(on);
        })
    });
    #[cfg(feature = "engine")]
    if hooked.is_none() {
        crate::idb::fence_writes(on);
    }
    // Without the engine on this page, a fence with nowhere to go is a bug: said loudly.
    #[cfg(not(feature = "engine"))]
    if on && hooked.is_none() {
        web_sys::console::error_1(
            &"tabs: no fence hook set; the engine's writes were not fenced".into(),
        );
    }
}

/// `on_lost`, after this page's storage writes are fenced off ([`fence`]):
/// from the moment the lock is gone, nothing this tab still has in flight may write.
fn lost_closure(on_lost: impl Fn() + 'static) -> Closure<dyn FnMut()> {
    Closure::new(move || {
        fence(true);
        on_lost();
    })
}

/// Tries to become the engine's tab without waiting. `on_lost` runs if another tab takes over
/// later. Browsers without Web Locks (very old ones) make every tab an owner.
pub async fn claim(on_lost: impl Fn() + 'static) -> Claim {
    if !locks_supported() {
        OWNS.with(|o| o.set(true));
        return Claim::Owner;
    }
    let cb = lost_closure(on_lost);
    let got = JsFuture::from(js_claim(LOCK, &cb)).await;
    cb.forget(); // may run for the rest of the page's life
    match got.ok().and_then(|v| v.as_bool()) {
        Some(false) => Claim::Elsewhere,
        _ => {
            fence(false);
            Claim::Owner
        }
    }
}

/// Takes the engine over from the tab that has it: asks it to finish and lock, and takes the
/// lock once it has (or after [`HAND_OVER_MS`], or [`ANSWER_MS`] without an answer).
pub async fn take_over(on_lost: impl Fn() + 'static) {
    if !locks_supported() {
        return;
    }
    let cb = lost_closure(on_lost);
    let _ = JsFuture::from(js_ask_and_steal(LOCK, &cb, HAND_OVER_MS, ANSWER_MS)).await;
    cb.forget();
    fence(false); // this tab holds the lock now
}

/// The owner's side: `on_asked(id)` runs when another tab asks to take over; answer with
/// [`released`] once the wallet is locked.
pub fn on_release_asked(on_asked: impl Fn(String) + 'static) {
    let cb = Closure::<dyn FnMut(String)>::new(on_asked);
    js_on_release_asked(&cb);
    cb.forget(); // for the page's life
}

/// Tells the tab that asked (`id`) that this one has finished and locked.
pub fn released(id: &str) {
    js_released(id);
}

/// Queues for the engine: `on_granted` runs when the tab that has it closes, so a waiting tab
/// takes over by itself; `on_lost` runs if another tab takes it over later.
pub fn wait_for(on_granted: impl Fn() + 'static, on_lost: impl Fn() + 'static) {
    if !locks_supported() {
        return;
    }
    let granted = Closure::<dyn FnMut()>::new(move || {
        fence(false); // this tab holds the lock now
        on_granted();
    });
    let lost = lost_closure(on_lost);
    js_wait_for(LOCK, &granted, &lost);
    granted.forget(); // both may run at any time during the page's life
    lost.forget();
}
