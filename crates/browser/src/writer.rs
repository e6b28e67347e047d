//! The engine's own claim on the wallet's storage, held by the worker that runs it. The tabs'
//! Web Lock (`tabs.rs`) decides which page runs an engine, but a page can be frozen while its
//! worker still runs; so each engine's worker also takes the `flash-writer` lock, stealing it
//! from whichever engine held it, and the moment its own is stolen it fences its IndexedDB
//! writes on its own thread ([`crate::idb::fence_writes`]), with no message from a page that
//! may not be running. Where a browser has no Web Locks in workers, the page's fence message
//! is all there is.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::channel::oneshot;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The lock every engine's worker takes before it writes.
const WRITER: &str = "flash-writer";

thread_local! {
    /// Which of this worker's takes is the current one: a hold stolen by this worker's own
    /// newer take must not fence it.
    static TAKE: Cell<u32> = const { Cell::new(0) };
}

fn request_fn() -> Option<(JsValue, Function)> {
    let navigator = Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).ok()?;
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    if locks.is_undefined() || locks.is_null() {
        return None;
    }
    let request = Reflect::get(&locks, &JsValue::from_str("request"))
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    Some((locks, request))
}

/// Fences this worker's writes now (its page lost the wallet), and makes any take still
/// waiting for its grant stale, so that grant cannot unfence it again.
pub fn fence() {
    TAKE.with(|t| t.set(t.get().wrapping_add(1)));
    crate::idb::fence_writes(true);
}

/// Takes the writer lock from whichever engine holds it and resolves once this worker holds
/// it, unfenced. When another engine takes it later, this worker's writes stop at once.
pub async fn take() {
    let Some((locks, request)) = request_fn() else {
        crate::idb::fence_writes(false);
        return;
    };
    let this_take = TAKE.with(|t| {
        let next = t.get().wrapping_add(1);
        t.set(next);
        next
    });
    let options = Object::new();
    let _ = Reflect::set(&options, &JsValue::from_str("steal"), &JsValue::TRUE);
    let (granted, is_granted) = oneshot::channel::<()>();
    let granted = Rc::new(RefCell::new(Some(granted)));
    let on_grant = granted.clone();
    // Holds the lock for as long as its promise is pending: for ever, until stolen.
    let hold = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |_lock: JsValue| {
        if let Some(tx) = on_grant.borrow_mut().take() {
            let _ = tx.send(());
        }
        Promise::new(&mut |_, _| {})
    });
    let held = request.call3(
        &locks,
        &JsValue::from_str(WRITER),
        &options,
        hold.as_ref().unchecked_ref(),
    );
    hold.forget(); // called once by the browser, at any time
    let Ok(held) = held.and_then(|p| p.dyn_into::<Promise>()) else {
        crate::idb::fence_writes(false);
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        // Settles only when the lock is taken from this worker (the hold never resolves),
        // or when the browser refused the request outright (storage blocked): then there
        // is no lock to hold, as where workers have none, and the take ends unfenced.
        let _ = JsFuture::from(held).await;
        if let Some(never_granted) = granted.borrow_mut().take() {
            let _ = never_granted.send(());
            return;
        }
        if TAKE.with(Cell::get) == this_take {
            crate::idb::fence_writes(true);
        }
    });
    let _ = is_granted.await;
    if TAKE.with(Cell::get) == this_take {
        crate::idb::fence_writes(false);
    }
}
