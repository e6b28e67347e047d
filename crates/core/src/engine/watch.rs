//! Invoices the engine watches by itself. A receive's invoice is watched from the moment it
//! is made until it is paid (and minted), expires, or the wallet locks; a screen that waits
//! for it only joins the watch, and leaving that screen does not stop it. So money paid to
//! an invoice lands while the user is elsewhere in the app, and [`Event::InvoicePaid`] says
//! so. (Whatever a lock or a closed app cuts short is minted by the next unlock's recovery.)
//!
//! Payments the mint had not settled when Pay stopped waiting are followed the same way, to
//! [`Event::PaymentSettled`] or [`Event::PaymentFailed`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture, Shared};

use super::{EngineError, Event, Sleep, WalletHandle};
use crate::amount::Sats;
use crate::ecash::purse::{Asked, Minted, Paid, UNCONFIRMED};
use crate::ecash::EcashError;

/// How often a watched invoice is checked with its mint at first: a payer usually pays
/// within a minute of seeing the QR, and the Receive screen should say so at once.
pub const CHECK_EVERY_MS: u32 = 1_000;

/// After this many unpaid checks, an invoice is checked only every [`SLOW_CHECK_MS`]: one
/// left open for its full hour (or several) must not ask its mint every second.
const QUICK_CHECKS: u32 = 120;
const SLOW_CHECK_MS: u32 = 5_000;

/// The longest wait between checks while the mint cannot be reached (doubling from the
/// first wait): a mint that is down is not hammered, and one back up is found in half a
/// minute.
const MAX_BACKOFF_MS: u32 = 30_000;

/// How many times a payment the mint has finished may fail to settle here before the watch
/// leaves it to the next unlock's recovery.
const UNSETTLED_TRIES: u32 = 8;

type Outcome = Shared<LocalBoxFuture<'static, Result<Minted, EngineError>>>;
type PayOutcome = Shared<LocalBoxFuture<'static, Result<Paid, EngineError>>>;

/// The waits between the checks of one invoice.
#[derive(Debug)]
struct Pace {
    every_ms: u32,
    unpaid: u32,
    backoff_ms: u32,
}

impl Pace {
    fn new(every_ms: u32) -> Self {
        Self {
            every_ms,
            unpaid: 0,
            backoff_ms: every_ms,
        }
    }

    /// The wait after the mint said "unpaid".
    fn unpaid(&mut self) -> u32 {
        self.backoff_ms = self.every_ms;
        self.unpaid = self.unpaid.saturating_add(1);
        if self.unpaid > QUICK_CHECKS {
            self.every_ms.max(SLOW_CHECK_MS)
        } else {
            self.every_ms
        }
    }

    /// The wait after the mint could not be reached.
    fn unreachable(&mut self) -> u32 {
        self.backoff_ms = self
            .backoff_ms
            .saturating_mul(2)
            .min(MAX_BACKOFF_MS.max(self.every_ms));
        self.backoff_ms
    }
}

/// Checks the invoice of `quote_id` until it is paid and minted, it expires (an error, also
/// when the mint is still unreachable at its expiry), or the wallet locks (an error).
pub async fn follow(
    handle: &WalletHandle,
    quote_id: &str,
    sleep: &Sleep,
    every_ms: u32,
) -> Result<Minted, EngineError> {
    let mut pace = Pace::new(every_ms);
    loop {
        let wait = match handle.check_invoice(quote_id).await {
            Ok(Asked::Minted(minted)) => return Ok(minted),
            Ok(Asked::Unconfirmed) => {
                return Err(EngineError::Ecash(EcashError::Unreachable(
                    UNCONFIRMED.into(),
                )))
            }
            Ok(Asked::Unpaid | Asked::Paid) => pace.unpaid(),
            Err(EngineError::Ecash(EcashError::Unreachable(_))) => pace.unreachable(),
            Err(e) => return Err(e),
        };
        sleep(wait).await;
    }
}

/// Checks the payment of melt quote `quote_id` at `mint` until it settles (its proof of
/// payment) or fails (an error; its eCash is back), or the wallet locks (an error).
pub async fn follow_payment(
    handle: &WalletHandle,
    mint: &str,
    quote_id: &str,
    sleep: &Sleep,
    every_ms: u32,
) -> Result<Paid, EngineError> {
    let mut pace = Pace::new(every_ms);
    let mut unsettled = 0u32;
    loop {
        // The mint is asked outside any engine job, so a lock would not stop the watch by
        // itself: a locked wallet asks no mint about anything.
        if !matches!(handle.status().await?.state, super::WalletState::Unlocked) {
            return Err(EngineError::Locked);
        }
        let wait = match handle.check_payment(mint, quote_id).await {
            Ok(Some(paid)) => return Ok(paid),
            Ok(None) => pace.unpaid(),
            // The mint has an outcome but cdk could not settle it yet (a restore of change
            // timed out, a refund it refuses): slower each time, and after a few the next
            // unlock's recovery takes over, so no check holds the wallet's operations for long.
            Err(EngineError::Ecash(EcashError::PaymentPending)) => {
                unsettled += 1;
                if unsettled > UNSETTLED_TRIES {
                    return Err(EcashError::PaymentPending.into());
                }
                pace.unreachable()
            }
            Err(EngineError::Ecash(EcashError::Unreachable(_))) => pace.unreachable(),
            Err(e) => return Err(e),
        };
        sleep(wait).await;
    }
}

/// What runs a watcher to its end, apart from anyone waiting for it (the browser's
/// `spawn_local`, a test's pool).
pub type Spawn = Rc<dyn Fn(LocalBoxFuture<'static, ()>)>;

/// The invoices being watched, by quote id (random at each mint, so one id is one invoice
/// however its mint's address is spelled). Cheap to clone; clones share them.
#[derive(Clone)]
pub struct Watchers {
    running: Rc<RefCell<HashMap<String, Outcome>>>,
    /// Payments in flight being followed, by melt quote id.
    paying: Rc<RefCell<HashMap<String, PayOutcome>>>,
    spawn: Spawn,
    sleep: Sleep,
}

impl Watchers {
    /// Watchers run by `spawn`, waiting between checks with `sleep`.
    pub fn new(spawn: Spawn, sleep: Sleep) -> Self {
        Self {
            running: Rc::default(),
            paying: Rc::default(),
            spawn,
            sleep,
        }
    }

    /// How many invoices and payments are being watched.
    pub fn len(&self) -> usize {
        self.running.borrow().len() + self.paying.borrow().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Watches the invoice of `quote_id` at `mint` unless it is watched already, and returns
    /// its outcome, which any number of callers may await or drop.
    pub fn watch(&self, handle: &WalletHandle, mint: &str, quote_id: &str) -> Outcome {
        self.watch_as(handle, mint, quote_id, false)
    }

    /// [`Watchers::watch`]; `resumed`: the invoice was open at unlock, so sats minted by
    /// anyone else meanwhile can only be the unlock's recovery's, which announces nothing.
    /// Those are announced too, once.
    fn watch_as(
        &self,
        handle: &WalletHandle,
        mint: &str,
        quote_id: &str,
        resumed: bool,
    ) -> Outcome {
        let key = quote_id.to_string();
        if let Some(outcome) = self.running.borrow().get(&key) {
            return outcome.clone();
        }
        let (h, sleep, q) = (handle.clone(), self.sleep.clone(), key.clone());
        let outcome: Outcome = async move { follow(&h, &q, &sleep, CHECK_EVERY_MS).await }
            .boxed_local()
            .shared();
        self.running
            .borrow_mut()
            .insert(key.clone(), outcome.clone());
        let (driving, running, h) = (outcome.clone(), self.running.clone(), handle.clone());
        let mint = mint.to_string();
        (self.spawn)(Box::pin(async move {
            let result = driving.clone().await;
            // Only this watch's own entry goes (a newer watch of the same invoice stays).
            let mut running = running.borrow_mut();
            if running.get(&key).is_some_and(|o| o.ptr_eq(&driving)) {
                running.remove(&key);
            }
            drop(running);
            // Minted before by a check that announced it: nothing new.
            if let Ok(Minted {
                sats: sats @ 1..,
                now,
            }) = result
            {
                if now || resumed {
                    h.announce(Event::InvoicePaid {
                        mint,
                        sats: Sats(sats),
                    });
                }
            }
        }));
        outcome
    }

    /// Follows the payment of melt quote `quote_id` at `mint` unless it is followed already,
    /// and announces its end; returns its outcome, which any number of callers may await or
    /// drop. A lock ends the watch without an announcement (the next unlock follows it again).
    pub fn watch_payment(&self, handle: &WalletHandle, mint: &str, quote_id: &str) -> PayOutcome {
        let key = quote_id.to_string();
        if let Some(outcome) = self.paying.borrow().get(&key) {
            return outcome.clone();
        }
        let (h, sleep, m, q) = (
            handle.clone(),
            self.sleep.clone(),
            mint.to_string(),
            key.clone(),
        );
        let outcome: PayOutcome =
            async move { follow_payment(&h, &m, &q, &sleep, CHECK_EVERY_MS).await }
                .boxed_local()
                .shared();
        self.paying
            .borrow_mut()
            .insert(key.clone(), outcome.clone());
        let (driving, paying, h) = (outcome.clone(), self.paying.clone(), handle.clone());
        let mint = mint.to_string();
        (self.spawn)(Box::pin(async move {
            let result = driving.clone().await;
            let mut paying = paying.borrow_mut();
            if paying.get(&key).is_some_and(|o| o.ptr_eq(&driving)) {
                paying.remove(&key);
            }
            drop(paying);
            let event = match result {
                Ok(paid) => Event::PaymentSettled {
                    mint,
                    quote_id: key,
                    sats: Sats(paid.amount),
                    fee: Sats(paid.fee),
                },
                Err(EngineError::Ecash(EcashError::PaymentFailed(_))) => Event::PaymentFailed {
                    mint,
                    quote_id: key,
                },
                Err(_) => return, // locked, or the engine stopped: followed at next unlock
            };
            h.announce(event);
        }));
        outcome
    }

    /// Watches again every invoice still open and every payment still in flight (at unlock:
    /// the watches ended when the wallet locked). A wallet that cannot list them watches
    /// none; the next unlock's recovery settles what it can.
    pub async fn resume(&self, handle: &WalletHandle) {
        for (mint, quote_id) in handle.open_invoices().await.unwrap_or_default() {
            drop(self.watch_as(handle, &mint, &quote_id, true));
        }
        for (mint, quote_id) in handle.open_payments().await.unwrap_or_default() {
            drop(self.watch_payment(handle, &mint, &quote_id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_mint_is_asked_less_and_less_often() {
        let mut pace = Pace::new(CHECK_EVERY_MS);
        let waits: Vec<u32> = (0..7).map(|_| pace.unreachable()).collect();
        assert_eq!(waits, [2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
        assert_eq!(
            pace.unpaid(),
            CHECK_EVERY_MS,
            "an answer resets the back-off"
        );
        assert_eq!(pace.unreachable(), 2_000);
    }

    #[test]
    fn an_invoice_left_open_is_checked_less_often_after_two_minutes() {
        let mut pace = Pace::new(CHECK_EVERY_MS);
        let quick = (0..QUICK_CHECKS).map(|_| pace.unpaid());
        assert!(quick.into_iter().all(|w| w == CHECK_EVERY_MS));
        assert_eq!(pace.unpaid(), SLOW_CHECK_MS);
        assert_eq!(pace.unpaid(), SLOW_CHECK_MS);
    }

    #[test]
    fn a_test_pace_faster_than_the_cap_still_backs_off() {
        let mut pace = Pace::new(50);
        assert_eq!(pace.unreachable(), 100);
        let last = (0..20).map(|_| pace.unreachable()).last();
        assert_eq!(last, Some(MAX_BACKOFF_MS));
    }
}
