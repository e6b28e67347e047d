//! Flash's eCash engine (`flash_core::ecash`) against this crate's real cdk mint over HTTP on
//! loopback: balances must come out exact through mint, send, receive and melt, interrupted
//! operations must recover, and restore from the seed must find everything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use cdk::cdk_database::WalletDatabase;
use flash_core::ecash::{EcashDb, EcashError, MemoryJournal, Purse};
use zeroize::Zeroizing;

use crate::lightning::{FAUCET, SHOP};
use crate::mint::{build, MintServer};

pub(crate) struct TestMint {
    pub(crate) url: String,
    /// The mint's Lightning network (its own per test mint).
    pub(crate) net: crate::lightning::Network,
    pub(crate) server: MintServer,
    pub(crate) mint: std::sync::Arc<cdk::mint::Mint>,
}

pub(crate) async fn start_mint(name: &str) -> TestMint {
    start_mint_paying_after(name, 0).await
}

/// A mint whose invoices the network's faucet pays `secs` after each is made.
pub(crate) async fn start_mint_paying_after(name: &str, secs: u64) -> TestMint {
    start_mint_with(name, Some(secs)).await
}

/// A mint whose invoices only a payment on its network pays (`autopay` `None`).
pub(crate) async fn start_mint_with(name: &str, autopay: Option<u64>) -> TestMint {
    let dir = std::env::temp_dir().join(format!("flash-wallet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("http://127.0.0.1:{}", addr.port());
    let net = crate::lightning::Network::new(cdk::lightning_invoice::Currency::Bitcoin);
    let mint = build(&dir, &url, &net, autopay).await.unwrap();
    let server = MintServer::start(mint.clone(), listener, addr)
        .await
        .unwrap();
    TestMint {
        url,
        net,
        server,
        mint,
    }
}

fn seed(byte: u8) -> Zeroizing<[u8; 64]> {
    Zeroizing::new([byte; 64])
}

pub(crate) fn purse(byte: u8) -> (Purse, Arc<MemoryJournal>) {
    let journal = Arc::new(MemoryJournal::new());
    let db = EcashDb::empty(journal.clone());
    (Purse::new(db, seed(byte)), journal)
}

/// The purse a restarted app would have: same seed, the records that were durable.
pub(crate) fn reopen(byte: u8, journal: &Arc<MemoryJournal>) -> Purse {
    let db = EcashDb::load(journal.records(), journal.clone()).unwrap();
    Purse::new(db, seed(byte))
}

/// Pays like the app does: start, then follow the payment until it settles.
pub(crate) async fn pay(
    p: &Purse,
    mint: &str,
    quote: &str,
) -> Result<flash_core::ecash::purse::Paid, EcashError> {
    if let Some(paid) = p.pay(mint, quote).await? {
        return Ok(paid);
    }
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        match p.payment_outcome(mint, quote).await {
            Ok(Some(paid)) => return Ok(paid),
            Ok(None) | Err(EcashError::Unreachable(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Err(EcashError::PaymentPending)
}

/// Gets an invoice for `sats`, waits for the fake backend to settle it, mints.
pub(crate) async fn fund(p: &Purse, mint: &str, sats: u64) {
    let inv = p.invoice(mint, sats).await.unwrap();
    assert!(inv.request.starts_with("lnbc"), "a real BOLT11 invoice");
    for _ in 0..100 {
        if let Some(got) = p.try_mint(&inv.quote_id).await.unwrap() {
            assert_eq!((got.sats, got.now), (sats, true));
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the invoice was never paid");
}

/// A real invoice of the shop node on `m`'s network: what a shop or a friend would hand over.
pub(crate) fn external_invoice(m: &TestMint, sats: u64) -> String {
    crate::control::external_invoice(&m.net, sats).unwrap()
}

/// Mints the invoice `quote_id` of `p` once its mint sees it paid.
async fn minted(p: &Purse, quote_id: &str) -> u64 {
    for _ in 0..100 {
        if let Some(got) = p.try_mint(quote_id).await.unwrap() {
            return got.sats;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the invoice was never paid");
}

#[tokio::test]
async fn two_wallets_of_one_mint_pay_each_other() {
    let m = start_mint_with("ln-between", None).await;
    let (a, _) = purse(81);
    let (b, _) = purse(82);
    a.add_mint(&m.url).await.unwrap();
    b.add_mint(&m.url).await.unwrap();
    // B is paid from outside (the faucet's node pays the mint's invoice).
    let topup = b.invoice(&m.url, 300).await.unwrap();
    m.net.pay(FAUCET, &topup.request, None, None).await.unwrap();
    assert_eq!(minted(&b, &topup.quote_id).await, 300);
    // Nobody pays A's invoice by itself: it stays unpaid until B pays it.
    let ask = a.invoice(&m.url, 120).await.unwrap();
    assert_eq!(a.try_mint(&ask.quote_id).await.unwrap(), None);
    let preview = b.quote_payment(&m.url, &ask.request).await.unwrap();
    assert_eq!(preview.amount, 120);
    let paid = pay(&b, &m.url, &preview.quote_id).await.unwrap();
    assert_eq!(paid.amount, 120);
    assert_eq!(minted(&a, &ask.quote_id).await, 120);
    assert_eq!(a.balance().await.unwrap(), 120);
    assert_eq!(b.balance().await.unwrap(), 300 - 120 - paid.fee);
    // Paid once: paying it again is refused (cdk settled it inside the mint, so the mint,
    // not the network, says no), and nothing moves.
    let again = b.quote_payment(&m.url, &ask.request).await.unwrap();
    assert!(pay(&b, &m.url, &again.quote_id).await.is_err());
    assert_eq!(b.balance().await.unwrap(), 300 - 120 - paid.fee);
    m.server.stop().await;
}

#[tokio::test]
async fn a_payment_nobody_can_route_fails_and_gives_every_sat_back() {
    let m = start_mint("ln-noroute").await;
    let (a, _) = purse(83);
    a.add_mint(&m.url).await.unwrap();
    fund(&a, &m.url, 200).await;
    // A node of another network: the mint quotes it (as a real one does, without probing)
    // and the payment fails; the eCash comes back whole.
    let elsewhere = crate::lightning::Network::new(cdk::lightning_invoice::Currency::Bitcoin);
    elsewhere.add_node("stranger");
    let foreign = elsewhere
        .create_invoice("stranger", Some(50_000), "x", 600)
        .unwrap();
    let preview = a.quote_payment(&m.url, &foreign.bolt11).await.unwrap();
    assert!(matches!(
        pay(&a, &m.url, &preview.quote_id).await,
        Err(EcashError::PaymentFailed(_))
    ));
    assert_eq!(a.balance().await.unwrap(), 200);
    // A regtest invoice on this mainnet stack is refused at the quote.
    let regtest = crate::lightning::Network::new(cdk::lightning_invoice::Currency::Regtest);
    regtest.add_node("mint");
    let rt = regtest
        .create_invoice("mint", Some(50_000), "x", 600)
        .unwrap();
    assert!(a.quote_payment(&m.url, &rt.bolt11).await.is_err());
    assert_eq!(a.balance().await.unwrap(), 200);
    m.server.stop().await;
}

#[tokio::test]
async fn a_payment_held_in_flight_is_pending_then_settles_once_with_its_route_fee() {
    let m = start_mint("ln-held").await;
    let (a, journal) = purse(84);
    a.add_mint(&m.url).await.unwrap();
    fund(&a, &m.url, 500).await;
    // The mint's node pays 1.5 sat per payment; the mint charges it in whole sats.
    m.net.set_fee(crate::mint::NODE, 1500, 0).unwrap();
    let node_before = m.net.balance_msat(crate::mint::NODE).unwrap();
    let shop_before = m.net.balance_msat(SHOP).unwrap();
    let preview = a
        .quote_payment(&m.url, &external_invoice(&m, 100))
        .await
        .unwrap();
    assert!(preview.fee_reserve >= 2, "{preview:?}");
    m.net.hold_next(crate::mint::NODE).unwrap();
    // In flight: the wallet hears "pending", never "failed".
    assert_eq!(a.pay(&m.url, &preview.quote_id).await.unwrap(), None);
    assert_eq!(a.payment_outcome(&m.url, &preview.quote_id).await, Ok(None));
    assert_eq!(m.net.release(crate::mint::NODE, true), 1);
    // A reload meanwhile: the reopened wallet finds the outcome.
    let b = reopen(84, &journal);
    let paid = loop {
        if let Some(paid) = b.payment_outcome(&m.url, &preview.quote_id).await.unwrap() {
            break paid;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(paid.amount, 100);
    assert_eq!(paid.fee, 2);
    assert_eq!(b.balance().await.unwrap(), 500 - 100 - 2);
    assert_eq!(m.net.balance_msat(SHOP).unwrap(), shop_before + 100_000);
    assert_eq!(
        m.net.balance_msat(crate::mint::NODE).unwrap(),
        node_before - 101_500
    );
    m.server.stop().await;
}

#[tokio::test]
async fn mint_send_receive_melt_with_exact_balances() {
    let m = start_mint("flow").await;
    let (a, _) = purse(1);
    let (b, _) = purse(2);
    let view = a.add_mint(&m.url).await.unwrap();
    assert_eq!(view.name.as_deref(), Some("Flash sandbox mint"));
    assert!(view.nuts.contains(&4) && view.nuts.contains(&5));
    fund(&a, &m.url, 1000).await;
    assert_eq!(a.balance().await.unwrap(), 1000);

    let sent = a
        .send(&m.url, 100, Some("lunch".into()), false, None)
        .await
        .unwrap();
    assert!(sent.token.starts_with("cashuB"), "V4 token");
    assert_eq!(a.balance().await.unwrap(), 900);
    let seen = b.inspect(&sent.token).await.unwrap();
    assert_eq!((seen.amount, seen.mint_known), (100, false));
    assert_eq!(seen.memo.as_deref(), Some("lunch"));
    assert_eq!(b.receive(&sent.token, true).await.unwrap().amount, 100);
    assert_eq!(b.balance().await.unwrap(), 100);

    // The same token again: a clear error, nothing changes.
    assert_eq!(
        b.receive(&sent.token, true).await,
        Err(EcashError::TokenSpent)
    );
    assert_eq!(b.balance().await.unwrap(), 100);

    // A pays a real signed invoice (someone else's node, outside the mint).
    let shop_before = m.net.balance_msat(SHOP).unwrap();
    let preview = a
        .quote_payment(&m.url, &external_invoice(&m, 50))
        .await
        .unwrap();
    assert_eq!(preview.amount, 50);
    let paid = pay(&a, &m.url, &preview.quote_id).await.unwrap();
    assert!(paid.preimage.is_some(), "proof of payment shown");
    assert_eq!(paid.amount, 50);
    assert_eq!(
        m.net.balance_msat(SHOP).unwrap(),
        shop_before + 50_000,
        "the shop's node was paid over the network"
    );
    assert_eq!(a.balance().await.unwrap(), 900 - 50 - paid.fee);

    let history = a.history().await.unwrap();
    assert!(history.iter().any(|h| !h.incoming && h.amount == 100));
    assert!(history.iter().any(|h| h.incoming && h.amount == 1000));
    m.server.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_clearly() {
    let m = start_mint("bad").await;
    let (a, _) = purse(3);
    assert_eq!(a.inspect("hello").await, Err(EcashError::BadToken));
    assert_eq!(
        a.add_mint("mint.example").await.unwrap_err(),
        EcashError::BadMintUrl
    );
    assert_eq!(
        a.invoice(&m.url, 10).await.unwrap_err(),
        EcashError::UnknownMint
    );
    a.add_mint(&m.url).await.unwrap();
    assert_eq!(
        a.invoice(&m.url, 0).await.unwrap_err(),
        EcashError::BadAmount
    );
    assert_eq!(
        a.quote_payment(&m.url, "lnbc1garbage").await.unwrap_err(),
        EcashError::BadInvoice
    );
    assert_eq!(
        a.send(&m.url, 10, None, false, None).await.unwrap_err(),
        EcashError::InsufficientFunds
    );
    m.server.stop().await;
}

#[tokio::test]
async fn offline_send_uses_exact_proofs_and_reclaim_takes_them_back() {
    let m = start_mint("offline").await;
    let (a, _) = purse(4);
    a.add_mint(&m.url).await.unwrap();
    fund(&a, &m.url, 64).await; // one 64 proof... or split by target; 64 = exact power
    m.server.stop().await;
    // Offline, an amount the coins cannot make exactly is refused with what is possible.
    match a.send(&m.url, 65, None, true, None).await {
        Err(EcashError::OfflineAmounts(list)) => assert!(list.contains(&64), "{list:?}"),
        other => panic!("expected the possible amounts, got {other:?}"),
    }
    // Mint down: an exact amount still works offline.
    let sent = a.send(&m.url, 64, None, true, None).await.unwrap();
    assert_eq!(a.balance().await.unwrap(), 0);
    let pending = a.pending().await.unwrap();
    assert!(
        pending.iter().any(|p| p.reclaimable && p.amount == 64),
        "{pending:?}"
    );
    m.server.restart().await.unwrap();
    let id = pending.iter().find(|p| p.reclaimable).unwrap().id.clone();
    assert_eq!(a.reclaim(&m.url, &id).await.unwrap(), 64);
    assert_eq!(a.balance().await.unwrap(), 64);
    let (b, _) = purse(5);
    assert_eq!(
        b.receive(&sent.token, true).await,
        Err(EcashError::TokenSpent)
    );
    m.server.stop().await;
}

#[tokio::test]
async fn a_payment_cut_off_by_the_mint_going_down_recovers_after_a_restart() {
    let m = start_mint("crash").await;
    let (a, journal) = purse(6);
    a.add_mint(&m.url).await.unwrap();
    fund(&a, &m.url, 500).await;
    // The mint goes away between the quote and the payment: the melt saga is persisted with
    // the proofs reserved before the network call, which then fails.
    let quote = a
        .quote_payment(&m.url, &external_invoice(&m, 100))
        .await
        .unwrap();
    m.server.stop().await;
    assert_eq!(
        pay(&a, &m.url, &quote.quote_id).await,
        Err(EcashError::PaymentPending),
        "unknown outcome: held, not lost, not hanging"
    );
    assert_eq!(a.pending().await.unwrap().len(), 1);
    assert!(
        a.balance().await.unwrap() < 500,
        "proofs are held while unresolved"
    );
    drop(a);
    // Restart: recovery with the mint back gives every sat back.
    m.server.restart().await.unwrap();
    let a = reopen(6, &journal);
    a.recover().await;
    // The mint never got the request: the payment is rolled back, every sat is back.
    assert_eq!(a.balance().await.unwrap(), 500);
    assert!(a.pending().await.unwrap().is_empty());
    m.server.stop().await;
}

#[tokio::test]
async fn restore_from_the_seed_finds_every_proof() {
    let m = start_mint("restore").await;
    let (a, _) = purse(7);
    a.add_mint(&m.url).await.unwrap();
    fund(&a, &m.url, 777).await;
    let sent = a.send(&m.url, 77, None, false, None).await.unwrap();
    let (c, _) = purse(8);
    assert!(c.receive(&sent.token, true).await.unwrap().redeemed);
    // A new device with A's seed and nothing else.
    let (fresh, _) = purse(7);
    fresh.add_mint(&m.url).await.unwrap();
    assert_eq!(fresh.restore().await.unwrap(), 700);
    assert_eq!(fresh.balance().await.unwrap(), 700);
    // Counters moved past what was used: new operations do not clash.
    fund(&fresh, &m.url, 10).await;
    assert_eq!(fresh.balance().await.unwrap(), 710);
    m.server.stop().await;
}

#[tokio::test]
async fn a_token_with_a_forged_signature_is_refused() {
    use std::str::FromStr;

    use cdk::nuts::{PublicKey, Token};
    let m = start_mint("forged").await;
    let (a, _) = purse(9);
    a.add_mint(&m.url).await.unwrap();
    fund(&a, &m.url, 100).await;
    let sent = a.send(&m.url, 100, None, false, None).await.unwrap();
    let token = Token::from_str(&sent.token).unwrap();
    let (b, _) = purse(10);
    b.add_mint(&m.url).await.unwrap();
    let keysets = b
        .db()
        .get_mint_keysets(token.mint_url().unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut proofs = token.proofs(&keysets).unwrap();
    // Swap one blind signature for another valid curve point: the DLEQ proof no longer fits.
    proofs[0].c =
        PublicKey::from_hex("02a9acc1e48c25eeeb9289b5031cc57da9fe72f3fe2861d264bdc074209b107ba2")
            .unwrap();
    let forged = Token::new(
        token.mint_url().unwrap(),
        proofs,
        None,
        cdk::nuts::CurrencyUnit::Sat,
    );
    assert_eq!(
        b.receive(&forged.to_string(), true).await,
        Err(EcashError::BadSignature)
    );
    assert_eq!(b.balance().await.unwrap(), 0);
    // The real token is still good.
    assert_eq!(b.receive(&sent.token, true).await.unwrap().amount, 100);
    m.server.stop().await;
}

#[tokio::test]
async fn offline_send_and_offline_receive_redeem_when_the_mint_is_back() {
    let m = start_mint("offline-rx").await;
    let (a, _) = purse(11);
    let (b, b_journal) = purse(12);
    a.add_mint(&m.url).await.unwrap();
    b.add_mint(&m.url).await.unwrap();
    fund(&a, &m.url, 32).await;
    m.server.stop().await;
    // Both offline: A pays from exact proofs, B verifies the signatures locally and keeps it.
    let sent = a.send(&m.url, 32, None, true, None).await.unwrap();
    let got = b.receive(&sent.token, true).await.unwrap();
    assert_eq!((got.amount, got.redeemed), (32, false));
    assert_eq!(
        b.balance().await.unwrap(),
        0,
        "not spendable before it is redeemed"
    );
    assert_eq!(b.saved_tokens().await.unwrap().len(), 1);
    // A restart changes nothing: the saved token is durable.
    let b = reopen(12, &b_journal);
    assert_eq!(b.saved_tokens().await.unwrap().len(), 1);
    // Back online: redeemed by itself at the next recovery.
    m.server.restart().await.unwrap();
    b.recover().await;
    assert_eq!(b.balance().await.unwrap(), 32);
    assert!(b.saved_tokens().await.unwrap().is_empty());
    m.server.stop().await;
}

#[tokio::test]
async fn a_token_locked_to_a_key_is_claimed_only_by_its_holder() {
    use flash_core::ecash::purse::Lock;
    let m = start_mint("p2pk").await;
    let (a, _) = purse(13);
    a.add_mint(&m.url).await.unwrap();
    fund(&a, &m.url, 100).await;
    let (b, _) = purse(14);
    let b = b.with_lock_key(&[0x21; 32]);
    let (c, _) = purse(15);
    let c = c.with_lock_key(&[0x22; 32]);
    let to = b.lock_pubkey().unwrap();
    let lock = Lock {
        to: to.clone(),
        refund_after_secs: None,
    };
    let sent = a.send(&m.url, 40, None, false, Some(lock)).await.unwrap();
    // Until claimed, the locked token is under Pending, ready to hand over again.
    let pending = a.pending().await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(
        (pending[0].kind.as_str(), pending[0].amount),
        ("locked", 40)
    );
    assert_eq!(pending[0].token.as_deref(), Some(sent.token.as_str()));
    assert!(
        !format!("{pending:?}").contains(&sent.token),
        "Debug hides it"
    );
    // Someone else: refused with the reason, nothing changes.
    assert_eq!(
        c.receive(&sent.token, true).await,
        Err(EcashError::LockedToOther)
    );
    assert_eq!(c.balance().await.unwrap(), 0);
    // The holder of the key: signed and redeemed.
    assert_eq!(b.receive(&sent.token, true).await.unwrap().amount, 40);
    assert_eq!(b.balance().await.unwrap(), 40);
    // Claimed: the sender's next check clears Pending; history has the line, completed.
    assert!(a.check_sent().await.unwrap() >= 1);
    assert_eq!(a.pending().await.unwrap(), vec![]);
    let out: Vec<_> = a
        .history()
        .await
        .unwrap()
        .into_iter()
        .filter(|h| !h.incoming)
        .collect();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].amount, out[0].status.as_str()), (40, "completed"));
    // Offline and locked cannot go together: said plainly, nothing moves.
    let offline_lock = Lock {
        to: to.clone(),
        refund_after_secs: None,
    };
    assert_eq!(
        a.send(&m.url, 10, None, true, Some(offline_lock))
            .await
            .unwrap_err(),
        EcashError::LockNeedsMint
    );
    assert_eq!(a.balance().await.unwrap(), 60);
    // Not a key: a clear error before anything moves.
    let bad = Lock {
        to: "npub1nope".into(),
        refund_after_secs: None,
    };
    assert_eq!(
        a.send(&m.url, 10, None, false, Some(bad))
            .await
            .unwrap_err(),
        EcashError::BadLockKey
    );
    assert_eq!(a.balance().await.unwrap(), 60);
    m.server.stop().await;
}

#[tokio::test]
async fn a_keyset_rotation_mid_life_is_followed_with_exact_balances() {
    let m = start_mint("rotate").await;
    let (a, _) = purse(16);
    let (b, _) = purse(17);
    a.add_mint(&m.url).await.unwrap();
    fund(&a, &m.url, 200).await;
    let old = a
        .db()
        .get_mint_keysets(m.url.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let amounts: Vec<u64> = (0..32).map(|i| 1u64 << i).collect();
    let new = m
        .mint
        .rotate_keyset(cdk::nuts::CurrencyUnit::Sat, amounts, 0, true, None)
        .await
        .unwrap();
    assert!(old.iter().all(|k| k.id != new.id));
    // Old proofs still spend; new ones come from the new keyset.
    let sent = a.send(&m.url, 50, None, false, None).await.unwrap();
    assert_eq!(b.receive(&sent.token, true).await.unwrap().amount, 50);
    assert_eq!(a.balance().await.unwrap(), 150);
    fund(&a, &m.url, 10).await;
    assert_eq!(a.balance().await.unwrap(), 160);
    let known = a
        .db()
        .get_mint_keysets(m.url.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        known.iter().any(|k| k.id == new.id && k.active),
        "the new keyset was followed"
    );
    let b_proofs = b.db().get_proofs(None, None, None, None).await.unwrap();
    assert!(
        b_proofs.iter().all(|p| p.proof.keyset_id == new.id),
        "B holds new-keyset proofs"
    );
    m.server.stop().await;
}
