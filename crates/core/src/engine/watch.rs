//! Invoices the engine watches by itself. A receive's invoice is watched from the moment it
//! is made until it is paid (and minted), expires, or the wallet locks; a screen that waits
//! for it only joins the watch, and leaving that screen does not stop it. So money paid to
//! an invoice lands while the user is elsewhere in the app, and [`Event::InvoicePaid`] says
//! so. (Whatever a lock or a closed app cuts short is minted by the next unlock's recovery.)

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture, Shared};

use super::{EngineError, Event, Sleep, WalletHandle};
use crate::amount::Sats;

/// How often a watched invoice is checked with its mint.
pub const CHECK_EVERY_MS: u32 = 1_000;

type Outcome = Shared<LocalBoxFuture<'static, Result<u64, EngineError>>>;

/// What runs a watcher to its end, apart from anyone waiting for it (the browser's
/// `spawn_local`, a test's pool).
pub type Spawn = Rc<dyn Fn(LocalBoxFuture<'static, ()>)>;

/// The invoices being watched, by quote id (random at each mint, so one id is one invoice
/// however its mint's address is spelled). Cheap to clone; clones share them.
#[derive(Clone)]
pub struct Watchers {
    running: Rc<RefCell<HashMap<String, Outcome>>>,
    spawn: Spawn,
    sleep: Sleep,
}

impl Watchers {
    /// Watchers run by `spawn`, waiting between checks with `sleep`.
    pub fn new(spawn: Spawn, sleep: Sleep) -> Self {
        Self {
            running: Rc::default(),
            spawn,
            sleep,
        }
    }

    /// How many invoices are being watched.
    pub fn len(&self) -> usize {
        self.running.borrow().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Watches the invoice of `quote_id` at `mint` unless it is watched already, and returns
    /// its outcome (the sats minted), which any number of callers may await or drop.
    pub fn watch(&self, handle: &WalletHandle, mint: &str, quote_id: &str) -> Outcome {
        let key = quote_id.to_string();
        if let Some(outcome) = self.running.borrow().get(&key) {
            return outcome.clone();
        }
        let (h, sleep) = (handle.clone(), self.sleep.clone());
        let (m, q) = (mint.to_string(), key.clone());
        let outcome: Outcome = async move { h.await_invoice(&m, &q, sleep, CHECK_EVERY_MS).await }
            .boxed_local()
            .shared();
        self.running
            .borrow_mut()
            .insert(key.clone(), outcome.clone());
        let (driving, running, h) = (outcome.clone(), self.running.clone(), handle.clone());
        let mint = mint.to_string();
        (self.spawn)(Box::pin(async move {
            let result = driving.await;
            running.borrow_mut().remove(&key);
            // 0: minted already by someone else (a recovery); nothing new to announce.
            if let Ok(sats @ 1..) = result {
                h.announce(Event::InvoicePaid {
                    mint,
                    sats: Sats(sats),
                });
            }
        }));
        outcome
    }
}
