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

async fn fund_engine(h: &WalletHandle, mint: &str, sats: u64) {
    let inv = h.invoice(mint, sats).await.unwrap();
    assert_eq!(
        h.await_invoice(mint, &inv.quote_id, sleep(), 50)
            .await
            .unwrap(),
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
#[tokio::test]
async fn a_backup_file_restores_ecash_mints_pending_and_history_on_a_fresh_device() {
    tokio::task::LocalSet::new()
        .run_until(async {
            let m = start_mint("backup").await;
            let a = engine(MemoryStore::new());
            let phrase = a.new_phrase(12).await.unwrap();
            a.setup(&phrase, PASS).await.unwrap();
            a.add_mint(&m.url).await.unwrap();
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
            let got = a.receive_token(&gift.token, false).await.unwrap();
            assert!(!got.redeemed);
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

            // Back online, the restored device redeems the saved token by itself.
            m.server.restart().await.unwrap();
            c.recover().await.unwrap();
            assert_eq!(c.status().await.unwrap().balance.0, 992 + 64);
            assert!(c.saved_tokens().await.unwrap().is_empty());
            m.server.stop().await;
        })
        .await;
}
