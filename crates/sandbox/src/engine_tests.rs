//! The whole engine (vault + eCash, as the app runs it) against this crate's real cdk mint:
//! what a person would do end to end, checked with exact balances, on memory storage.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::rc::Rc;
use std::time::Duration;

use flash_core::engine::{spawn_engine, Sleep, WalletHandle, WalletState};
use flash_core::ports::{ManualClock, OsRandom};
use flash_core::store::memory::MemoryStore;
use flash_core::vault::InlineKdf;

use crate::wallet_tests::{fund, purse, start_mint};

const PASS: &str = "correct horse battery staple";

fn sleep() -> Sleep {
    Rc::new(|ms| Box::pin(tokio::time::sleep(Duration::from_millis(u64::from(ms)))))
}

/// An engine over `store`, running on the current `LocalSet`.
fn engine(store: MemoryStore) -> WalletHandle {
    let (handle, task) = spawn_engine(
        async move { Ok(store) },
        OsRandom,
        ManualClock::new(1_700_000_000_000),
        InlineKdf,
        sleep(),
    );
    tokio::task::spawn_local(task);
    handle
}

/// A new wallet on memory storage, unlocked, with the mint at `url` added.
async fn unlocked_at(url: &str) -> WalletHandle {
    let a = engine(MemoryStore::new());
    let phrase = a.new_phrase(12).await.unwrap();
    a.setup(&phrase, PASS).await.unwrap();
    a.add_mint(url).await.unwrap();
    a
}

async fn fund_engine(h: &WalletHandle, mint: &str, sats: u64) {
    let inv = h.invoice(mint, sats).await.unwrap();
    assert_eq!(
        h.await_invoice(&inv.quote_id, sleep(), 50).await.unwrap(),
        sats
    );
}

/// Everything a user would compare after restoring a backup.
#[derive(Debug, PartialEq)]
struct Seen {
    balance: u64,
    mints: Vec<String>,
    pending: Vec<(String, String, u64)>,
    saved: Vec<(String, String, u64)>,
    history: Vec<(bool, u64, String, String)>,
}

async fn seen(h: &WalletHandle) -> Seen {
    Seen {
        balance: h.status().await.unwrap().balance.0,
        mints: h
            .mints()
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.url)
            .collect(),
        pending: h
            .pending()
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.id, p.kind, p.amount))
            .collect(),
        saved: h.saved_tokens().await.unwrap(),
        history: h
            .history()
            .await
            .unwrap()
            .into_iter()
            .map(|i| (i.incoming, i.amount, i.status, i.kind))
            .collect(),
    }
}

/// Issue 8, finding 1: the backup file must carry the eCash, including what the words cannot
/// rebuild (a token received offline and not yet redeemed) and the mint list.
/// The first status the engine announces for which `until` holds (the engine announces one
/// when a job has finished, after the command's own answer); fails after 60 s.
async fn status_when(
    events: &mut futures::channel::mpsc::UnboundedReceiver<flash_core::Event>,
    until: impl Fn(&flash_core::Status) -> bool,
) -> flash_core::Status {
    use futures::StreamExt;
    let wait = async {
        while let Some(event) = events.next().await {
            if let flash_core::Event::StatusChanged(s) = event {
                if until(&s) {
                    return s;
                }
            }
        }
        panic!("the engine stopped");
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), wait)
        .await
        .expect("the engine never announced the expected status")
}

/// The first event `until` accepts, within a minute.
async fn event_when(
    events: &mut futures::channel::mpsc::UnboundedReceiver<flash_core::Event>,
    until: impl Fn(&flash_core::Event) -> bool,
) -> flash_core::Event {
    use futures::StreamExt;
    let wait = async {
        while let Some(event) = events.next().await {
            if until(&event) {
                return event;
            }
        }
        panic!("the engine stopped");
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), wait)
        .await
        .expect("the engine never announced the expected event")
}

/// Waits until every event in `wanted` has arrived (in any order, others between).
async fn events_all(
    events: &mut futures::channel::mpsc::UnboundedReceiver<flash_core::Event>,
    wanted: &[flash_core::Event],
) {
    let mut missing = wanted.to_vec();
    while !missing.is_empty() {
        let got = event_when(events, |e| missing.contains(e)).await;
        missing.retain(|e| *e != got);
    }
}

/// The events that arrived by the time the engine answers a status request.
async fn events_so_far(
    handle: &flash_core::WalletHandle,
    events: &mut futures::channel::mpsc::UnboundedReceiver<flash_core::Event>,
) -> Vec<flash_core::Event> {
    handle.status().await.unwrap();
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e);
    }
    seen
}

#[tokio::test]
async fn each_list_on_screen_is_told_when_it_changes() {
    use flash_core::Event::{HistoryChanged, MintsChanged, PendingChanged};
    tokio::task::LocalSet::new()
        .run_until(async {
            let m = start_mint("lists").await;
            let other = start_mint("lists-other").await;
            let a = unlocked_at(&m.url).await;
            fund_engine(&a, &m.url, 100).await;
            let mut events = a.events().unwrap();
            a.add_mint(&other.url).await.unwrap();
            events_all(&mut events, &[MintsChanged]).await;
            // A token sent and not yet claimed: a history line, a pending item, and the
            // mint holds less.
            a.send_token(&m.url, 8, None, true, None).await.unwrap();
            events_all(&mut events, &[HistoryChanged, PendingChanged, MintsChanged]).await;
            // Reads change nothing and say nothing.
            let _ = events_so_far(&a, &mut events).await;
            a.history().await.unwrap();
            a.pending().await.unwrap();
            let seen = events_so_far(&a, &mut events).await;
            let lists = [HistoryChanged, PendingChanged, MintsChanged];
            assert!(!seen.iter().any(|e| lists.contains(e)), "{seen:?}");
        })
        .await;
}

#[tokio::test]
async fn a_backup_file_restores_ecash_mints_pending_and_history_on_a_fresh_device() {
    tokio::task::LocalSet::new()
        .run_until(async {
            let m = start_mint("backup").await;
            let a = unlocked_at(&m.url).await;
            fund_engine(&a, &m.url, 1000).await;
            // An unclaimed sent token (pending, reclaimable).
            let sent = a.send_token(&m.url, 8, None, true, None).await.unwrap();
            assert!(sent.token.starts_with("cashuB"));
            // A token from someone else while the mint is down: verified, kept unredeemed.
            let (b, _) = purse(77);
            b.add_mint(&m.url).await.unwrap();
            fund(&b, &m.url, 64).await;
            let gift = b.send(&m.url, 64, None, false, None).await.unwrap();
            m.server.stop().await;
            let mut a_events = a.events().unwrap();
            let got = a.receive_token(&gift.token, false).await.unwrap();
            assert!(!got.redeemed);
            // The balance did not move, but Home's lists did (a saved token, a receive in
            // flight): the engine says so, or the screen would keep the old lists.
            event_when(&mut a_events, |e| *e == flash_core::Event::PendingChanged).await;
            let before = seen(&a).await;
            assert_eq!(before.balance, 992);
            assert_eq!(before.saved.len(), 1);
            // The unclaimed send, and cdk's receive saga for the kept token (resolved when
            // the mint answers).
            assert_eq!(before.pending.len(), 2, "{before:?}");

            let file = a.export_backup().await.unwrap();
            // A wiped browser: a fresh profile imports the file.
            let c = engine(MemoryStore::new());
            assert_eq!(c.status().await.unwrap().state, WalletState::NoWallet);
            c.import_backup(file, PASS).await.unwrap();
            assert_eq!(
                seen(&c).await,
                before,
                "same balance, mints, pending, saved, history"
            );

            // Finding 6: with the mint down, recovery names it instead of failing.
            let mut events = c.events().unwrap();
            c.recover().await.unwrap();
            let named = status_when(&mut events, |s| !s.waiting_on.is_empty()).await;
            assert_eq!(
                named.waiting_on,
                vec![m.url.trim_end_matches('/').to_string()]
            );

            // Back online, the restored device redeems the saved token by itself.
            m.server.restart().await.unwrap();
            c.recover().await.unwrap();
            status_when(&mut events, |s| s.waiting_on.is_empty()).await;
            assert_eq!(c.status().await.unwrap().balance.0, 992 + 64);
            assert!(c.saved_tokens().await.unwrap().is_empty());
            m.server.stop().await;
        })
        .await;
}

/// Issue 8, finding 4: a lock (idle, take-over, update) while a receive waits for the mint's
/// answer lets it finish and land its writes first: after unlock the balance is exact without
/// any NUT-09 restore, and the person who pressed Receive hears "received", not "locked".
#[tokio::test]
async fn a_lock_mid_receive_waits_for_the_money_in_motion() {
    use crate::fault_proxy::{Fault, FaultProxy};
    use std::sync::Arc;
    use tokio::sync::Notify;
    tokio::task::LocalSet::new()
        .run_until(async {
            let m = start_mint("lock-mid").await;
            let addr = m.url.trim_start_matches("http://").parse().unwrap();
            let proxy = FaultProxy::start(addr).await;
            let a = engine(MemoryStore::new());
            let phrase = a.new_phrase(12).await.unwrap();
            a.setup(&phrase, PASS).await.unwrap();
            a.add_mint(&proxy.url).await.unwrap();
            fund_engine(&a, &proxy.url, 100).await;
            let (s, _) = purse(78);
            s.add_mint(&proxy.url).await.unwrap();
            fund(&s, &proxy.url, 64).await;
            let token = s
                .send(&proxy.url, 50, None, false, None)
                .await
                .unwrap()
                .token;

            let (arrived, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
            proxy.inject(
                "/v1/swap",
                Fault::Hold {
                    arrived: arrived.clone(),
                    release: release.clone(),
                },
                1,
            );
            let rx = {
                let a = a.clone();
                tokio::task::spawn_local(async move { a.receive_token(&token, false).await })
            };
            arrived.notified().await; // the mint has swapped; its answer is on hold
            let locking = {
                let a = a.clone();
                tokio::task::spawn_local(async move { a.lock().await })
            };
            tokio::task::yield_now().await;
            assert!(!locking.is_finished(), "the lock waits for the receive");
            release.notify_one();
            locking.await.unwrap().unwrap();
            assert_eq!(a.status().await.unwrap().state, WalletState::Locked);
            assert_eq!(
                rx.await.unwrap().unwrap().amount,
                50,
                "the receive finished"
            );
            let restores_before = proxy
                .seen()
                .iter()
                .filter(|r| r.contains("/v1/restore"))
                .count();
            a.unlock(PASS).await.unwrap();
            assert_eq!(
                a.recover().await.unwrap().resolved,
                0,
                "nothing was left open"
            );
            assert_eq!(a.status().await.unwrap().balance.0, 150);
            let restores_after = proxy
                .seen()
                .iter()
                .filter(|r| r.contains("/v1/restore"))
                .count();
            assert_eq!(
                restores_before, restores_after,
                "no NUT-09 restore was needed"
            );
            m.server.stop().await;
        })
        .await;
}

/// Issue 8, finding 5: a token locked to an nsec the wallet used before (dropped since) is
/// still redeemed: every key the wallet has owned signs.
#[tokio::test]
async fn a_token_locked_to_a_dropped_nsec_is_still_redeemed() {
    use bitcoin::bech32::{Bech32, Hrp};
    tokio::task::LocalSet::new()
        .run_until(async {
            let m = start_mint("old-nsec").await;
            let a = unlocked_at(&m.url).await;
            let secret = [0x5a; 32];
            let nsec =
                bitcoin::bech32::encode::<Bech32>(Hrp::parse("nsec").unwrap(), &secret).unwrap();
            let imported = a.set_nsec(Some(&nsec)).await.unwrap();
            assert!(imported.nostr_imported);
            // Someone locks a token to the imported npub; meanwhile the user drops that key.
            let (b, _) = purse(79);
            b.add_mint(&m.url).await.unwrap();
            fund(&b, &m.url, 64).await;
            let lock = flash_core::ecash::purse::Lock {
                to: imported.npub.clone(),
                refund_after_secs: None,
            };
            let token = b
                .send(&m.url, 40, None, false, Some(lock))
                .await
                .unwrap()
                .token;
            let back = a.set_nsec(None).await.unwrap();
            assert_ne!(back.npub, imported.npub);
            let got = a.receive_token(&token, false).await.unwrap();
            assert_eq!(got.amount, 40);
            // And after a lock and unlock (keys reloaded from the vault), still.
            let token2 = b
                .send(
                    &m.url,
                    20,
                    None,
                    false,
                    Some(flash_core::ecash::purse::Lock {
                        to: imported.npub.clone(),
                        refund_after_secs: None,
                    }),
                )
                .await
                .unwrap()
                .token;
            a.lock().await.unwrap();
            a.unlock(PASS).await.unwrap();
            assert_eq!(a.receive_token(&token2, false).await.unwrap().amount, 20);
            m.server.stop().await;
        })
        .await;
}

/// An invoice is watched by the engine from the moment it is made: paid while no screen
/// waits for it (the user went elsewhere in the app), it is minted all the same, and the
/// engine says so; a screen that asks afterwards joins the same watch.
#[tokio::test]
async fn an_invoice_nobody_waits_for_is_minted_and_announced() {
    use flash_api::protocol::{Answer, Request};
    use flash_core::engine::serve;
    tokio::task::LocalSet::new()
        .run_until(async {
            let m = start_mint("watch").await;
            let a = unlocked_at(&m.url).await;
            let mut events = a.events().unwrap();
            let watchers = watchers();
            let asked = Request::Invoice {
                mint: m.url.clone(),
                sats: 21,
            };
            let Ok(Answer::Invoice(invoice)) = serve::answer(&a, asked, sleep(), &watchers).await
            else {
                panic!("an invoice");
            };
            assert_eq!(watchers.len(), 1, "watched from the start");
            // The sandbox mint's Lightning pays it by itself; nobody awaits it here.
            let paid = tokio::time::timeout(Duration::from_secs(60), async {
                use futures::StreamExt;
                while let Some(event) = events.next().await {
                    if let flash_core::Event::InvoicePaid { sats, .. } = event {
                        return sats.0;
                    }
                }
                panic!("the engine stopped");
            })
            .await
            .expect("announced within a minute");
            assert_eq!(paid, 21);
            assert_eq!(a.status().await.unwrap().balance.0, 21);
            assert!(watchers.is_empty(), "the watch ended with the mint");
            // A screen asking now starts a fresh watch, which finds it minted already.
            let again = Request::AwaitInvoice {
                mint: m.url.clone(),
                quote_id: invoice.quote_id,
            };
            let late = serve::answer(&a, again, sleep(), &watchers).await;
            assert!(
                matches!(late, Ok(Answer::Sats(21))),
                "the sats it brought, not 0: {late:?}"
            );
            assert_eq!(a.status().await.unwrap().balance.0, 21, "not minted twice");
        })
        .await;
}

/// Watches on the serve path, spawned on the current `LocalSet`.
fn watchers() -> flash_core::engine::watch::Watchers {
    flash_core::engine::watch::Watchers::new(
        Rc::new(|f| {
            tokio::task::spawn_local(f);
        }),
        sleep(),
    )
}

/// The first `InvoicePaid` the engine announces, within a minute.
async fn invoice_paid(
    events: &mut futures::channel::mpsc::UnboundedReceiver<flash_core::Event>,
) -> u64 {
    use futures::StreamExt;
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(event) = events.next().await {
            if let flash_core::Event::InvoicePaid { sats, .. } = event {
                return sats.0;
            }
        }
        panic!("the engine stopped");
    })
    .await
    .expect("announced within a minute")
}

/// A lock ends the watches; the next unlock picks up the invoices still open, so one paid
/// after the wallet is unlocked again lands without a visit to Receive (before: only the
/// unlock after that one found it).
#[tokio::test]
async fn an_unlock_watches_the_invoices_still_open() {
    use flash_api::protocol::{Request, Secret};
    use flash_core::engine::serve;
    tokio::task::LocalSet::new()
        .run_until(async {
            let m = crate::wallet_tests::start_mint_paying_after("rewatch", 10).await;
            let a = unlocked_at(&m.url).await;
            a.invoice(&m.url, 21).await.unwrap();
            a.lock().await.unwrap();
            let watchers = watchers();
            let mut events = a.events().unwrap();
            let unlock = Request::Unlock {
                passphrase: Secret::new(PASS.as_bytes()),
            };
            serve::answer(&a, unlock, sleep(), &watchers).await.unwrap();
            assert_eq!(watchers.len(), 1, "the open invoice is watched again");
            assert_eq!(invoice_paid(&mut events).await, 21);
            assert_eq!(a.status().await.unwrap().balance.0, 21);
            assert!(watchers.is_empty());
            m.server.stop().await;
        })
        .await;
}

/// An invoice paid while the wallet was locked is minted at unlock (by the recovery or by
/// the watch resumed then, whichever comes first) and announced either way: before, a
/// recovery's mint said nothing, and the balance jumped with no "received".
#[tokio::test]
async fn an_invoice_paid_while_locked_is_announced_at_unlock() {
    use flash_api::protocol::{Request, Secret};
    use flash_core::engine::serve;
    tokio::task::LocalSet::new()
        .run_until(async {
            let m = start_mint("paid-locked").await;
            let a = unlocked_at(&m.url).await;
            a.invoice(&m.url, 21).await.unwrap();
            a.lock().await.unwrap();
            let watchers = watchers();
            let mut events = a.events().unwrap();
            let unlock = Request::Unlock {
                passphrase: Secret::new(PASS.as_bytes()),
            };
            serve::answer(&a, unlock, sleep(), &watchers).await.unwrap();
            assert_eq!(invoice_paid(&mut events).await, 21);
            assert_eq!(a.status().await.unwrap().balance.0, 21, "minted once");
            m.server.stop().await;
        })
        .await;
}

/// A watch asks until its invoice expires unpaid; while its mint is unreachable, until
/// [`EXPIRY_GRACE_SECS`] past the expiry (it may have been paid just in time), then it ends
/// as unconfirmed (before: every second, forever). The clock is given, so no waiting.
///
/// [`EXPIRY_GRACE_SECS`]: flash_core::ecash::purse::EXPIRY_GRACE_SECS
#[tokio::test]
async fn a_watch_ends_at_expiry_even_while_its_mint_is_down() {
    use flash_core::ecash::purse::{ask_invoice, Asked, InvoiceLook, EXPIRY_GRACE_SECS};
    use flash_core::ecash::EcashError;
    let m = crate::wallet_tests::start_mint_paying_after("expiry", 3_600).await;
    let (p, _) = crate::wallet_tests::purse(61);
    p.add_mint(&m.url).await.unwrap();
    let inv = p.invoice(&m.url, 21).await.unwrap();
    let InvoiceLook::Ask(ask) = p.look_invoice(&inv.quote_id).await.unwrap() else {
        panic!("not minted yet");
    };
    let expiry = ask.expiry();
    assert!(expiry > 0);
    let q = &inv.quote_id;
    assert_eq!(ask_invoice(&ask, q, expiry - 1).await, Ok(Asked::Unpaid));
    assert_eq!(
        ask_invoice(&ask, q, expiry + 1).await,
        Err(EcashError::QuoteExpired)
    );
    m.server.stop().await;
    assert!(
        matches!(
            ask_invoice(&ask, q, expiry + EXPIRY_GRACE_SECS).await,
            Err(EcashError::Unreachable(_))
        ),
        "within the grace: ask again"
    );
    assert_eq!(
        ask_invoice(&ask, q, expiry + EXPIRY_GRACE_SECS + 1).await,
        Ok(Asked::Unconfirmed)
    );
}

/// The first payment outcome the engine announces, within a minute.
async fn payment_end(
    events: &mut futures::channel::mpsc::UnboundedReceiver<flash_core::Event>,
) -> flash_core::Event {
    event_when(events, |e| {
        matches!(
            e,
            flash_core::Event::PaymentSettled { .. } | flash_core::Event::PaymentFailed { .. }
        )
    })
    .await
}

/// A payment still in flight when Pay stops waiting is followed by the engine, also across
/// a lock (the unlock follows it again), and its end is announced with exact balances.
#[tokio::test]
async fn a_payment_left_in_flight_is_followed_across_a_lock_and_announced() {
    use flash_api::protocol::{Request, Secret};
    use flash_core::ecash::EcashError;
    use flash_core::engine::serve;
    use flash_core::EngineError;
    tokio::task::LocalSet::new()
        .run_until(async {
            let m = start_mint("pay-follow").await;
            let a = unlocked_at(&m.url).await;
            fund_engine(&a, &m.url, 300).await;
            // A route fee, so the announced fee is checked (1.5 sat → 2 charged).
            m.net.set_fee(crate::mint::NODE, 1500, 0).unwrap();
            let invoice = crate::wallet_tests::external_invoice(&m, 100);
            let preview = a.quote_payment(&m.url, &invoice).await.unwrap();
            m.net.hold_next(crate::mint::NODE).unwrap();
            let gave_up = a.pay(&m.url, &preview.quote_id, sleep(), 10, 2).await;
            assert_eq!(gave_up, Err(EngineError::Ecash(EcashError::PaymentPending)));
            a.lock().await.unwrap();
            let watchers = watchers();
            let mut events = a.events().unwrap();
            let unlock = Request::Unlock {
                passphrase: Secret::new(PASS.as_bytes()),
            };
            serve::answer(&a, unlock, sleep(), &watchers).await.unwrap();
            assert_eq!(watchers.len(), 1, "the payment in flight is followed again");
            assert_eq!(m.net.release(crate::mint::NODE, true), 1);
            let flash_core::Event::PaymentSettled {
                quote_id,
                sats,
                fee,
                ..
            } = payment_end(&mut events).await
            else {
                panic!("the payment did not settle");
            };
            assert_eq!(
                (quote_id.as_str(), sats.0),
                (preview.quote_id.as_str(), 100)
            );
            assert_eq!(a.status().await.unwrap().balance.0, 300 - 100 - fee.0);
            assert!(watchers.is_empty());
            m.server.stop().await;
        })
        .await;
}

#[tokio::test]
async fn a_payment_that_fails_in_flight_is_announced_and_its_ecash_is_back() {
    tokio::task::LocalSet::new()
        .run_until(async {
            let m = start_mint("pay-fail").await;
            let a = unlocked_at(&m.url).await;
            fund_engine(&a, &m.url, 300).await;
            let invoice = crate::wallet_tests::external_invoice(&m, 100);
            let preview = a.quote_payment(&m.url, &invoice).await.unwrap();
            m.net.hold_next(crate::mint::NODE).unwrap();
            assert!(a
                .pay(&m.url, &preview.quote_id, sleep(), 10, 1)
                .await
                .is_err());
            let watchers = watchers();
            let mut events = a.events().unwrap();
            drop(watchers.watch_payment(&a, &m.url, &preview.quote_id));
            // The check while it is held says "in flight" and changes nothing.
            assert_eq!(a.check_payment(&m.url, &preview.quote_id).await, Ok(None));
            assert_eq!(m.net.release(crate::mint::NODE, false), 1);
            let end = payment_end(&mut events).await;
            assert!(
                matches!(&end, flash_core::Event::PaymentFailed { quote_id, .. } if *quote_id == preview.quote_id),
                "{end:?}"
            );
            assert_eq!(a.status().await.unwrap().balance.0, 300);
            assert!(watchers.is_empty());
            // A watch of a payment while locked ends without asking the mint or announcing.
            a.lock().await.unwrap();
            let ended = watchers.watch_payment(&a, &m.url, &preview.quote_id).await;
            assert_eq!(ended, Err(flash_core::EngineError::Locked));
            m.server.stop().await;
        })
        .await;
}
