//! Values a screen fetches from the engine, fetched again when what the request reads
//! changes. What Leptos' `LocalResource` does for these screens, with less machinery: the nine
//! resources cost 9 KB brotli of page module (an async-derived signal per type, its future,
//! its transitions) more than these. No screen here uses `Suspense`.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

/// The latest answer, `None` until the first arrives.
pub type Fetched<T> = ReadSignal<Option<T>, LocalStorage>;

/// Runs `fetch` now and again whenever a signal it reads (before its future starts) changes;
/// keeps the latest answer. An answer to an older run than the latest is dropped, so a slow
/// answer never overwrites a newer one; a `None` answer (the engine said no: locking, busy)
/// keeps what is on screen rather than blanking it.
pub fn fetched<T, Fut>(fetch: impl Fn() -> Fut + 'static) -> Fetched<T>
where
    T: 'static,
    Fut: Future<Output = Option<T>> + 'static,
{
    let (value, set) = signal_local(None::<T>);
    let latest = Rc::new(Cell::new(0u64));
    Effect::new(move |_| {
        let run = latest.get().wrapping_add(1);
        latest.set(run);
        let future = fetch();
        let latest = latest.clone();
        spawn_local(async move {
            let answer = future.await;
            if latest.get() == run && answer.is_some() {
                // The screen may be gone meanwhile; its answer goes nowhere then.
                let _ = set.try_set(answer);
            }
        });
    });
    value
}
