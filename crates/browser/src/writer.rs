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
    /// Takes not yet settled, and who waits for them ([`settled`]).
    static TAKING: Cell<u32> = const { Cell::new(0) };
    static WAITERS: RefCell<Vec<oneshot::Sender<()>>> = const { RefCell::new(Vec::new()) };
    /// Runs when another engine takes the lock from this one ([`on_stolen`]).
    static ON_STOLEN: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
}

/// Runs `hook` each time another engine takes the writer lock from this worker (not when
/// this worker's page fenced it): the page, if it still owns the wallet, takes it back.
pub fn on_stolen(hook: impl Fn() + 'static) {
    ON_STOLEN.with(|h| *h.borrow_mut() = Some(Rc::new(hook)));
}

/// Tells the page, as a stolen lock does, that a write found another engine's epoch
/// (`idb`): that engine claimed after this one, so this one is fenced although it may still
/// hold the lock. A page that owns the wallet then takes it back.
pub fn replaced() {
    if let Some(hook) = ON_STOLEN.with(|h| h.borrow().clone()) {
        hook();
    }
}

/// How long a request waits for a take before it goes ahead anyway (and meets a fenced
/// store, which refuses writes and changes nothing): the lock's grant, or the claim's
/// transaction queued behind another tab's, must not hold every request for ever.
const SETTLE_MS: u32 = 5_000;

/// Resolves once no take is pending (or after [`SETTLE_MS`]): a request that arrives while
/// the worker takes the lock back would otherwise meet a store that is still fenced.
pub async fn settled() {
    if TAKING.with(Cell::get) == 0 {
        return;
    }
    let (tx, rx) = oneshot::channel();
    WAITERS.with(|w| w.borrow_mut().push(tx));
    let waited = crate::timer::sleep(SETTLE_MS);
    futures::pin_mut!(waited);
    let _ = futures::future::select(rx, waited).await;
}

/// Counts a take as pending until dropped, then wakes [`settled`]'s waiters if none is left.
struct Pending;

impl Pending {
    fn new() -> Self {
        TAKING.with(|t| t.set(t.get() + 1));
        Self
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let left = TAKING.with(|t| {
            let left = t.get().saturating_sub(1);
            t.set(left);
            left
        });
        if left == 0 {
            for waiter in WAITERS.with(|w| std::mem::take(&mut *w.borrow_mut())) {
                let _ = waiter.send(());
            }
        }
    }
}

/// Allows this worker's writes again and bumps the writer epoch on its open store, so an
/// engine this one replaced cannot commit even a transaction it had already queued.
async fn unfence() {
    crate::idb::fence_writes(false);
    crate::idb::claim_writes().await;
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
    let _pending = Pending::new();
    let Some((locks, request)) = request_fn() else {
        unfence().await;
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
        unfence().await;
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
            if let Some(hook) = ON_STOLEN.with(|h| h.borrow().clone()) {
                hook();
            }
        }
    });
    let _ = is_granted.await;
    if TAKE.with(Cell::get) == this_take {
        unfence().await;
    }
}
