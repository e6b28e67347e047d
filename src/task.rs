//! The work a button starts (unlock, pay, add a mint): its latest outcome and whether one is
//! running. What Leptos' `Action` does for these screens, with less machinery: each action
//! type cost about 2 KB of page module, a `Task` well under half of that. Values are kept
//! on this thread (`LocalStorage`): the page has one.

use std::future::Future;
use std::rc::Rc;

use futures::future::LocalBoxFuture;
use leptos::prelude::*;
use leptos::reactive::owner::WeakOwner;
use leptos::task::spawn_local;

type Run<I, O> = Rc<dyn Fn(&I) -> LocalBoxFuture<'static, O>>;

/// A task taking `I` and ending with `O`. Copy, like a signal.
pub struct Task<I: 'static, O: 'static> {
    run: StoredValue<Run<I, O>, LocalStorage>,
    owner: StoredValue<Option<WeakOwner>, LocalStorage>,
    running: RwSignal<u32>,
    value: RwSignal<Option<O>, LocalStorage>,
}

impl<I: 'static, O: 'static> Clone for Task<I, O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I: 'static, O: 'static> Copy for Task<I, O> {}

impl<I: 'static, O: 'static> Task<I, O> {
    /// A task that runs `run` at each [`Task::dispatch`].
    pub fn new_local<F, Fut>(run: F) -> Self
    where
        F: Fn(&I) -> Fut + 'static,
        Fut: Future<Output = O> + 'static,
    {
        let run: Run<I, O> = Rc::new(move |input| Box::pin(run(input)));
        Self {
            run: StoredValue::new_local(run),
            // A run's synchronous start is inside the screen that made the task (its
            // context), not inside whatever event handler dispatched it. (Unlike an Action,
            // the future after its first await is not: read contexts before awaiting.) Weak:
            // the owner holds this value.
            owner: StoredValue::new_local(Owner::current().map(|o| o.downgrade())),
            running: RwSignal::new(0),
            value: RwSignal::new_local(None),
        }
    }

    /// Starts a run with `input`; its outcome becomes [`Task::value`] when it ends.
    pub fn dispatch(&self, input: I) {
        let owner = self
            .owner
            .try_get_value()
            .flatten()
            .and_then(|o| o.upgrade());
        let start = || untrack(|| self.run.try_with_value(|run| run(&input)));
        let started = match owner {
            Some(owner) => owner.with(start),
            None => start(),
        };
        let Some(future) = started else {
            return; // the screen is gone
        };
        let (running, value) = (self.running, self.value);
        running.update(|n| *n = n.saturating_add(1));
        spawn_local(async move {
            let outcome = future.await;
            let _ = value.try_set(Some(outcome));
            running.try_update(|n| *n = n.saturating_sub(1));
        });
    }

    /// Whether a run is under way.
    pub fn pending(&self) -> Signal<bool> {
        busy(self.running)
    }

    /// The outcome of the run that ended last, `None` before any.
    pub fn value(&self) -> RwSignal<Option<O>, LocalStorage> {
        self.value
    }
}

/// One function for every task type's `pending`.
fn busy(running: RwSignal<u32>) -> Signal<bool> {
    Signal::derive(move || running.get() > 0)
}
