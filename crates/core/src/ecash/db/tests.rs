//! cdk-common's own wallet-database conformance suite, run on [`EcashDb`], plus what the suite
//! does not cover: durability across a restart and "a failed write changes nothing".
#![allow(clippy::unwrap_used)]

use std::str::FromStr;
use std::sync::Arc;

use cdk_common::database::WalletDatabase;
use cdk_common::wallet_db_test;

use super::*;
use crate::ecash::journal::MemoryJournal;

async fn fresh(_name: String) -> EcashDb {
    EcashDb::empty(Arc::new(MemoryJournal::new()))
}

mod conformance {
    use super::*;
    wallet_db_test!(fresh);
}

fn url() -> MintUrl {
    MintUrl::from_str("https://mint.example.com").unwrap()
}

#[tokio::test]
async fn everything_written_is_there_after_a_restart() {
    let journal = Arc::new(MemoryJournal::new());
    let db = EcashDb::empty(journal.clone());
    db.add_mint(url(), None).await.unwrap();
    let id = Id::from_str("00916bbf7ef91a36").unwrap();
    assert_eq!(db.increment_keyset_counter(&id, 5).await.unwrap(), 5);
    db.kv_write("a", "b", "c", b"value").await.unwrap();
    drop(db);

    let db = EcashDb::load(journal.records(), journal.clone()).unwrap();
    assert!(db.get_mints().await.unwrap().contains_key(&url()));
    assert_eq!(db.increment_keyset_counter(&id, 1).await.unwrap(), 6);
    assert_eq!(db.kv_read("a", "b", "c").await.unwrap().unwrap(), b"value");
}

#[tokio::test]
async fn a_failed_write_changes_nothing() {
    let journal = Arc::new(MemoryJournal::new());
    let db = EcashDb::empty(journal.clone());
    let id = Id::from_str("00916bbf7ef91a36").unwrap();
    db.increment_keyset_counter(&id, 3).await.unwrap();
    journal.fail_commits(true);
    assert!(db.increment_keyset_counter(&id, 10).await.is_err());
    assert!(db.add_mint(url(), None).await.is_err());
    journal.fail_commits(false);
    assert!(db.get_mints().await.unwrap().is_empty());
    assert_eq!(db.increment_keyset_counter(&id, 1).await.unwrap(), 4);
}

/// cdk's NUT-07 check deletes every spent Y it is told of, on each check. Deleting what is
/// not there must not write: each write tells Home to list everything again, which checks
/// again — a loop of mint requests and disk writes for as long as Home is open.
#[tokio::test]
async fn deleting_what_is_not_there_writes_nothing() {
    let journal = Arc::new(MemoryJournal::new());
    let db = EcashDb::empty(journal.clone());
    db.kv_write("a", "b", "c", b"value").await.unwrap();
    journal.fail_commits(true); // any write now fails, so a write would show as an error
    let y =
        PublicKey::from_hex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
            .unwrap();
    assert!(db.update_proofs(vec![], vec![y]).await.is_ok());
    assert!(db.kv_remove("a", "b", "nothing-here").await.is_ok());
    // A delete of something that is there still writes (and here fails, changing nothing).
    assert!(db.kv_remove("a", "b", "c").await.is_err());
    journal.fail_commits(false);
    assert_eq!(db.kv_read("a", "b", "c").await.unwrap().unwrap(), b"value");
}

#[test]
fn unreadable_records_are_an_error_not_an_empty_wallet() {
    let journal = Arc::new(MemoryJournal::new());
    assert!(EcashDb::load([b"{not json".to_vec()], journal).is_err());
}

#[test]
fn offline_amounts_are_exact_subset_sums_nearest_first() {
    use crate::ecash::purse::exact_amounts;
    assert_eq!(exact_amounts(&[1, 2, 8], 5), vec![1, 2, 3, 8, 9, 10]);
    assert_eq!(exact_amounts(&[64], 63), vec![64]);
    assert!(exact_amounts(&[], 10).is_empty());
}

#[tokio::test]
async fn another_mint_cannot_take_over_a_keyset_id() {
    let db = fresh(String::new()).await;
    let real = url();
    let hostile = MintUrl::from_str("https://copycat.example.com").unwrap();
    let id = Id::from_str("00916bbf7ef91a36").unwrap();
    let info = |fee: u64, active: bool| KeySetInfo {
        id,
        unit: CurrencyUnit::Sat,
        active,
        input_fee_ppk: fee,
        final_expiry: None,
    };
    db.add_mint_keysets(real.clone(), vec![info(0, true)])
        .await
        .unwrap();
    // The copycat lists the same id as inactive with a huge fee.
    db.add_mint_keysets(hostile.clone(), vec![info(100_000, false)])
        .await
        .unwrap();
    let kept = db.get_keyset_by_id(&id).await.unwrap().unwrap();
    assert_eq!((kept.input_fee_ppk, kept.active), (0, true));
    assert_eq!(
        db.get_mint_keysets(real.clone())
            .await
            .unwrap()
            .unwrap()
            .len(),
        1
    );
    assert!(db
        .get_mint_keysets(hostile)
        .await
        .unwrap()
        .unwrap_or_default()
        .is_empty());
    // Its own mint still updates it (rotation marks it inactive).
    db.add_mint_keysets(real, vec![info(0, false)])
        .await
        .unwrap();
    assert!(!db.get_keyset_by_id(&id).await.unwrap().unwrap().active);
}

#[tokio::test]
async fn debug_output_never_shows_proof_secrets() {
    let db = fresh(String::new()).await;
    let text = format!("{db:?}");
    assert!(
        text.contains("Tables") || text.contains("EcashDb"),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
}

#[test]
fn a_write_touches_the_lists_that_show_it() {
    let touched = |keys: &[&str]| {
        let mut t = Touched::default();
        for k in keys {
            t.add(k);
        }
        t
    };
    let tx = touched(&["tx:abc"]);
    assert!(tx.history && !tx.pending && !tx.mints);
    let proof = touched(&["proof:02ab"]);
    assert!(!proof.history && proof.pending && proof.mints);
    assert!(touched(&["saga:1"]).pending && touched(&["kv:a/b/c"]).pending);
    let mint = touched(&["mint:https://m.example"]);
    assert!(mint.mints && !mint.pending);
    // Metadata the lists do not show, and a key with no kind, touch nothing.
    assert!(touched(&["keyset:00"]).mints);
    let quiet = touched(&["keys:00", "mint_quote:q", "keyset_counter:00", "nokind"]);
    assert!(!quiet.any(), "{quiet:?}");
}

#[test]
fn a_record_reads_back_whatever_the_order_of_its_fields() {
    let written = Record::KeysetCounter {
        id: Id::from_str("009a1f293253e41e").unwrap(),
        counter: 7,
    };
    let bytes = serde_json::to_vec(&written).unwrap();
    let read = Record::read(&bytes).unwrap();
    assert_eq!(serde_json::to_vec(&read).unwrap(), bytes);
    // "v" before "t", as another writer of JSON may order them.
    let swapped = br#"{"v":{"namespace":"p2pk","counter":3},"t":"derivation_counter"}"#;
    assert_eq!(
        Record::read(swapped).unwrap().key(),
        "derivation_counter:p2pk"
    );
    // A tag written with escapes reads the same.
    let escaped = br#"{"t":"derivation\u005fcounter","v":{"namespace":"n","counter":1}}"#;
    assert_eq!(Record::read(escaped).unwrap().key(), "derivation_counter:n");
    // A kind this build does not know (a newer app's) is an error, never a guess.
    assert!(Record::read(br#"{"t":"future","v":{}}"#).is_err());
    assert!(Record::read(b"\xff").is_err());
}
