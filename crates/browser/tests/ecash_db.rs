//! cdk-common's wallet-database conformance suite on Flash's eCash database persisting to
//! IndexedDB through the vault (sealed rows), in headless Chromium; then a reload finds it all.
#![cfg(target_arch = "wasm32")]
#![allow(missing_docs, clippy::unwrap_used)] // test crate: wasm_bindgen_test fns are tests

use std::rc::Rc;
use std::sync::Arc;

use cdk_common::database::wallet::test as suite;
use cdk_common::database::WalletDatabase;
use flash_browser::kdf::WorkerKdf;
use flash_browser::{BrowserRandom, IdbStore};
use flash_core::ecash::journal::write_through;
use flash_core::ecash::{ChannelJournal, EcashDb};
use flash_core::store::ECASH;
use flash_core::vault::{KdfParams, Vault};
use futures::StreamExt;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn ecash_db_on_indexeddb_passes_cdk_conformance_and_survives_a_reload() {
    let name = "flash-test-ecash-db";
    let _ = IdbStore::delete(name).await;
    let store = IdbStore::open(name).await.unwrap();
    let vault = Rc::new(
        Vault::create(
            store,
            "a long enough passphrase",
            KdfParams::MINIMUM,
            &BrowserRandom,
            &WorkerKdf,
        )
        .await
        .unwrap(),
    );
    // The engine's side of the journal: seal and write each batch.
    let (journal, mut requests) = ChannelJournal::new();
    let writer = vault.clone();
    wasm_bindgen_futures::spawn_local(async move {
        while let Some((changes, reply)) = requests.next().await {
            let _ = reply.send(write_through(&writer, &changes, &BrowserRandom).await);
        }
    });
    let fresh = || EcashDb::empty(Arc::new(journal.clone()));
    suite::add_and_get_mint(fresh()).await;
    suite::add_mint_without_info(fresh()).await;
    suite::remove_mint(fresh()).await;
    suite::update_mint_url(fresh()).await;
    suite::add_and_get_keysets(fresh()).await;
    suite::get_keyset_by_id_in_transaction(fresh()).await;
    suite::add_and_get_keys(fresh()).await;
    suite::get_keys_in_transaction(fresh()).await;
    suite::remove_keys(fresh()).await;
    suite::add_and_get_mint_quote(fresh()).await;
    suite::get_mint_quote_in_transaction(fresh()).await;
    suite::remove_mint_quote(fresh()).await;
    suite::add_and_get_melt_quote(fresh()).await;
    suite::get_melt_quote_in_transaction(fresh()).await;
    suite::remove_melt_quote(fresh()).await;
    suite::add_mint_quote_optimistic_locking(fresh()).await;
    suite::add_melt_quote_optimistic_locking(fresh()).await;
    suite::add_and_get_proofs(fresh()).await;
    suite::get_proofs_in_transaction(fresh()).await;
    suite::update_proofs(fresh()).await;
    suite::update_proofs_state(fresh()).await;
    suite::filter_proofs_by_unit(fresh()).await;
    suite::filter_proofs_by_state(fresh()).await;
    suite::get_balance(fresh()).await;
    suite::get_balance_by_state(fresh()).await;
    suite::increment_keyset_counter(fresh()).await;
    suite::keyset_counter_isolation(fresh()).await;
    suite::increment_derivation_counter(fresh()).await;
    suite::derivation_counters_are_independent(fresh()).await;
    suite::derivation_counter_is_atomic(fresh()).await;
    suite::add_and_get_transaction(fresh()).await;
    suite::update_transaction_status(fresh()).await;
    suite::same_proofs_in_different_sagas(fresh()).await;
    suite::list_transactions(fresh()).await;
    suite::filter_transactions_by_mint(fresh()).await;
    suite::remove_transaction(fresh()).await;
    suite::kvstore_write_and_read(fresh()).await;
    suite::kvstore_list(fresh()).await;
    suite::kvstore_update(fresh()).await;
    suite::kvstore_remove(fresh()).await;
    suite::kvstore_namespace_isolation(fresh()).await;
    suite::add_and_get_saga(fresh()).await;
    suite::update_saga_optimistic_locking(fresh()).await;
    suite::delete_saga(fresh()).await;
    suite::get_incomplete_sagas(fresh()).await;
    suite::reserve_proofs(fresh()).await;
    suite::release_proofs(fresh()).await;
    suite::release_proofs_preserves_spent(fresh()).await;
    suite::get_reserved_proofs(fresh()).await;
    suite::reserve_proofs_already_reserved(fresh()).await;
    suite::reserve_proofs_is_atomic(fresh()).await;

    let url: cdk_common::mint_url::MintUrl = "https://reload.example.com".parse().unwrap();
    fresh().add_mint(url.clone(), None).await.unwrap();

    // A reload: a new database from the sealed rows has what was written.
    let rows = vault.open_all(ECASH).await.unwrap();
    assert!(rows.len() > 10, "records were written to IndexedDB");
    let again =
        EcashDb::load(rows.iter().map(|r| r.as_slice()), Arc::new(journal.clone())).unwrap();
    assert!(again.get_mints().await.unwrap().contains_key(&url));
    drop(again);
    drop(vault);
    IdbStore::delete(name).await.unwrap();
}
