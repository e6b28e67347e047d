#![allow(clippy::unwrap_used)] // test helpers, not only #[test] fns
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;

use super::*;
use crate::passphrase::Weakness;
use crate::ports::{ManualClock, OsRandom};
use crate::store::memory::MemoryStore;
use crate::vault::InlineKdf;

/// A timer that never fires (the lock's grace period does not end in these tests).
fn never() -> Sleep {
    std::rc::Rc::new(|_| Box::pin(std::future::pending()))
}

const ABOUT: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const PASS: &str = "correct horse battery staple";

fn start(store: MemoryStore) -> (LocalPool, WalletHandle) {
    start_with(store, InlineKdf)
}

/// [`start`] with another KDF port.
fn start_with(
    store: MemoryStore,
    kdf: impl crate::vault::Kdf + 'static,
) -> (LocalPool, WalletHandle) {
    let pool = LocalPool::new();
    let (handle, task) = spawn_engine(
        async move { Ok(store) },
        OsRandom,
        ManualClock::new(42),
        kdf,
        never(),
    );
    pool.spawner().spawn_local(task).unwrap();
    (pool, handle)
}

#[test]
fn locking_at_once_finds_a_wallet_another_tab_made() {
    let store = MemoryStore::new();
    let (mut pool, handle) = start(store.clone());
    assert_eq!(
        pool.run_until(handle.status()).unwrap().state,
        WalletState::NoWallet
    );
    // Another tab's engine makes a wallet on the same storage meanwhile.
    let (mut other_pool, other) = start(store);
    other_pool.run_until(other.setup(ABOUT, PASS)).unwrap();
    pool.run_until(handle.lock_now()).unwrap();
    assert_eq!(
        pool.run_until(handle.status()).unwrap().state,
        WalletState::Locked,
        "the engine that got the wallet back sees the new wallet"
    );
    assert_eq!(pool.run_until(handle.unlock(PASS)).map(|_| ()), Ok(()));
}

#[test]
fn a_new_device_has_no_wallet() {
    let (mut pool, handle) = start(MemoryStore::new());
    let status = pool.run_until(handle.status()).unwrap();
    assert_eq!(status.state, WalletState::NoWallet);
    assert_eq!(status.balance, Sats(0));
    assert_eq!(status.started_at_ms, 42);
}

#[test]
fn create_lock_unlock_and_restore_give_the_same_identity() {
    let store = MemoryStore::new();
    let (mut pool, handle) = start(store.clone());
    let phrase = pool.run_until(handle.new_phrase(12)).unwrap();
    assert_eq!(phrase.split(' ').count(), 12);
    let id = pool.run_until(handle.setup(&phrase, PASS)).unwrap();
    assert!(id.npub.starts_with("npub1"));
    assert_eq!(
        pool.run_until(handle.status()).unwrap().state,
        WalletState::Unlocked
    );
    assert_eq!(
        pool.run_until(handle.new_phrase(12)).map(|_| ()),
        Err(EngineError::Vault(VaultError::AlreadyExists)),
        "no fresh words beside an existing wallet"
    );
    pool.run_until(handle.lock()).unwrap();
    assert_eq!(pool.run_until(handle.identity()), Err(EngineError::Locked));
    assert_eq!(
        pool.run_until(handle.unlock("wrong passphrase")),
        Err(EngineError::Vault(VaultError::WrongPassphrase))
    );
    assert_eq!(pool.run_until(handle.unlock(PASS)).unwrap(), id);

    // "Reload": a new engine on the same storage starts locked.
    let (mut pool2, handle2) = start(store);
    assert_eq!(
        pool2.run_until(handle2.status()).unwrap().state,
        WalletState::Locked
    );
    assert_eq!(pool2.run_until(handle2.unlock(PASS)).unwrap(), id);

    // Restore on another device from the words.
    let (mut pool3, handle3) = start(MemoryStore::new());
    assert_eq!(
        pool3
            .run_until(handle3.setup(&phrase, "another good passphrase"))
            .unwrap(),
        id
    );
}

#[test]
fn restore_matches_the_published_bip84_vector() {
    let (mut pool, handle) = start(MemoryStore::new());
    let id = pool.run_until(handle.setup(ABOUT, PASS)).unwrap();
    assert_eq!(
        id.bip84_address,
        "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
    );
}

#[test]
fn bad_input_changes_nothing() {
    let store = MemoryStore::new();
    let (mut pool, handle) = start(store.clone());
    let weak = pool.run_until(handle.setup(ABOUT, "short")).unwrap_err();
    assert_eq!(weak, EngineError::WeakPassphrase(Weakness::TooShort));
    assert!(weak.to_string().contains("at least 10 characters"));
    let bad = pool
        .run_until(handle.setup("abandon abandon bananna", PASS))
        .unwrap_err();
    assert!(bad.to_string().contains("\"bananna\""), "{bad}");
    assert!(store.dump().is_empty(), "nothing was written");
    assert_eq!(
        pool.run_until(handle.status()).unwrap().state,
        WalletState::NoWallet
    );
    pool.run_until(handle.setup(ABOUT, PASS)).unwrap();
    let again = pool.run_until(handle.setup(ABOUT, PASS)).unwrap_err();
    assert_eq!(again, EngineError::Vault(VaultError::AlreadyExists));
}

#[test]
fn no_storage_is_reported_plainly() {
    let mut pool = LocalPool::new();
    let (handle, task) = spawn_engine(
        async { Err::<MemoryStore, _>(StoreError::Unavailable("IndexedDB missing".into())) },
        OsRandom,
        ManualClock::new(0),
        InlineKdf,
        never(),
    );
    pool.spawner().spawn_local(task).unwrap();
    let status = pool.run_until(handle.status()).unwrap();
    assert!(matches!(status.state, WalletState::Unavailable(ref m) if m.contains("private mode")));
    let err = pool.run_until(handle.setup(ABOUT, PASS)).unwrap_err();
    assert!(matches!(
        err,
        EngineError::Store(StoreError::Unavailable(_))
    ));
}

#[test]
fn subscribers_hear_about_state_changes() {
    let (mut pool, handle) = start(MemoryStore::new());
    let mut events = handle.events().unwrap();
    pool.run_until(handle.setup(ABOUT, PASS)).unwrap();
    pool.run_until(handle.lock()).unwrap();
    let mut states = Vec::new();
    while let Ok(Event::StatusChanged(s)) = events.try_recv() {
        states.push(s.state);
    }
    assert_eq!(states.last(), Some(&WalletState::Locked));
    assert!(states.contains(&WalletState::Unlocked));
}

#[test]
fn a_stopped_engine_is_reported_not_hung() {
    let (handle, task) = spawn_engine(
        async { Ok(MemoryStore::new()) },
        OsRandom,
        ManualClock::new(0),
        InlineKdf,
        never(),
    );
    drop(task);
    let err = futures::executor::block_on(handle.status()).unwrap_err();
    assert_eq!(err, EngineError::Stopped);
    assert!(err.to_string().contains("reload the page"));
}

#[test]
fn a_backup_file_restores_the_wallet_on_another_device() {
    let (mut pool, handle) = start(MemoryStore::new());
    let id = pool.run_until(handle.setup(ABOUT, PASS)).unwrap();
    assert_eq!(pool.run_until(handle.last_backup()).unwrap(), None);
    let file = pool.run_until(handle.export_backup()).unwrap();
    assert_eq!(pool.run_until(handle.last_backup()).unwrap(), None);
    pool.run_until(handle.backup_saved()).unwrap();
    assert_eq!(pool.run_until(handle.last_backup()).unwrap(), Some(42));

    let (mut pool2, other) = start(MemoryStore::new());
    let truncated = pool2
        .run_until(other.import_backup(file[..file.len() - 10].to_vec(), PASS))
        .unwrap_err();
    assert!(
        truncated.to_string().contains("damaged or incomplete"),
        "{truncated}"
    );
    assert_eq!(
        pool2.run_until(other.status()).unwrap().state,
        WalletState::NoWallet
    );
    assert_eq!(
        pool2.run_until(other.import_backup(file, PASS)).unwrap(),
        id
    );
    assert_eq!(
        pool2.run_until(other.status()).unwrap().state,
        WalletState::Unlocked
    );
}

#[test]
fn changing_the_passphrase_keeps_the_wallet() {
    let store = MemoryStore::new();
    let (mut pool, handle) = start(store.clone());
    let id = pool.run_until(handle.setup(ABOUT, PASS)).unwrap();
    let weak = pool
        .run_until(handle.change_passphrase(PASS, "short", false))
        .unwrap_err();
    assert_eq!(weak, EngineError::WeakPassphrase(Weakness::TooShort));
    let wrong = pool
        .run_until(handle.change_passphrase("not the passphrase", "a brand new passphrase", false))
        .unwrap_err();
    assert_eq!(wrong, EngineError::Vault(VaultError::WrongPassphrase));
    pool.run_until(handle.change_passphrase(PASS, "a brand new passphrase", false))
        .unwrap();
    pool.run_until(handle.lock()).unwrap();
    assert_eq!(
        pool.run_until(handle.unlock(PASS)),
        Err(EngineError::Vault(VaultError::WrongPassphrase))
    );
    assert_eq!(
        pool.run_until(handle.unlock("a brand new passphrase"))
            .unwrap(),
        id
    );
}

#[test]
fn an_imported_nsec_replaces_the_derived_nostr_key_until_dropped() {
    let (mut pool, handle) = start(MemoryStore::new());
    let derived = pool.run_until(handle.setup(ABOUT, PASS)).unwrap();
    assert!(!derived.nostr_imported);
    let bad = pool.run_until(handle.set_nsec(Some(
        "npub1zutzeysacnf9rru6zqwmxd54mud0k44tst6l70ja5mhv8jjumytsd2x7nu",
    )));
    assert!(matches!(
        bad,
        Err(EngineError::Nsec(crate::keys::NsecError::IsNpub))
    ));
    let nsec = "nsec10allq0gjx7fddtzef0ax00mdps9t2kmtrldkyjfs8l5xruwvh2dq0lhhkp";
    let imported = pool.run_until(handle.set_nsec(Some(nsec))).unwrap();
    assert_eq!(
        imported.npub,
        "npub1zutzeysacnf9rru6zqwmxd54mud0k44tst6l70ja5mhv8jjumytsd2x7nu"
    );
    assert!(imported.nostr_imported);
    assert_eq!(
        imported.bip84_address, derived.bip84_address,
        "only the NOSTR key changes"
    );
    pool.run_until(handle.lock()).unwrap();
    assert_eq!(
        pool.run_until(handle.unlock(PASS)).unwrap(),
        imported,
        "kept, encrypted, across a lock"
    );
    assert_eq!(pool.run_until(handle.set_nsec(None)).unwrap(), derived);
}

#[test]
fn a_passkey_needs_the_passphrase_and_a_new_passphrase_drops_it_unless_kept() {
    let (mut pool, handle) = start(MemoryStore::new());
    pool.run_until(handle.setup(ABOUT, PASS)).unwrap();
    let prf = vec![9u8; 32];
    let add = |pass: &'static str| {
        handle.add_passkey(pass, b"cred".to_vec(), b"salt".to_vec(), prf.clone())
    };
    assert_eq!(
        pool.run_until(add("someone else's guess")),
        Err(EngineError::Vault(VaultError::WrongPassphrase)),
        "anyone at an unlocked wallet cannot enrol their authenticator"
    );
    assert_eq!(pool.run_until(handle.passkey()).unwrap(), None);
    pool.run_until(add(PASS)).unwrap();
    assert!(pool.run_until(handle.passkey()).unwrap().is_some());
    // Kept when asked to.
    pool.run_until(handle.change_passphrase(PASS, "a brand new passphrase", true))
        .unwrap();
    assert!(pool.run_until(handle.passkey()).unwrap().is_some());
    // Removed by default.
    pool.run_until(handle.change_passphrase(
        "a brand new passphrase",
        "another new passphrase",
        false,
    ))
    .unwrap();
    assert_eq!(pool.run_until(handle.passkey()).unwrap(), None);
}

/// Argon2 that fails (as out of memory on a small phone would) above the minimum cost.
struct SmallPhoneKdf;

impl crate::vault::Kdf for SmallPhoneKdf {
    async fn derive(
        &self,
        passphrase: &[u8],
        salt: &[u8],
        params: &KdfParams,
    ) -> Result<Zeroizing<[u8; 32]>, VaultError> {
        if params.m_kib > KdfParams::MINIMUM.m_kib {
            return Err(VaultError::Kdf("out of memory".into()));
        }
        InlineKdf.derive(passphrase, salt, params).await
    }
}

static WARNINGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Issue 8, finding 12: a failed KDF upgrade never refuses the right passphrase; it is
/// reported (without secrets) and the old wrapping stands for the next try.
#[test]
fn a_failed_kdf_upgrade_unlocks_anyway_and_is_reported() {
    crate::log::set_sink(|m| WARNINGS.lock().unwrap().push(m.to_string()));
    let store = MemoryStore::new();
    futures::executor::block_on(Vault::create_with(
        store.clone(),
        PASS,
        KdfParams::MINIMUM,
        &OsRandom,
        &InlineKdf,
        &[(RECORDS, MNEMONIC, ABOUT.as_bytes())],
    ))
    .unwrap();
    let (mut pool, handle) = start_with(store, SmallPhoneKdf);
    pool.run_until(handle.unlock(PASS)).unwrap();
    let warnings = WARNINGS.lock().unwrap().clone();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("KDF upgrade failed") && w.contains("out of memory")),
        "{warnings:?}"
    );
    assert!(warnings.iter().all(|w| !w.contains(PASS)));
    pool.run_until(handle.lock()).unwrap();
    pool.run_until(handle.unlock(PASS)).unwrap();
}

/// The protocol the engine's worker will speak, end to end over the encoding: a request made
/// on the page's side, encoded, decoded and answered by the engine, then the answer the same
/// way back. Secrets and errors come through as the handle gives them.
#[test]
fn requests_over_the_protocol_get_the_handles_answers() {
    use flash_api::protocol::{decode, encode, Answer, FromEngine, Request, Secret, ToEngine};
    let (mut pool, handle) = start(MemoryStore::new());
    let mut ask = |request: Request| -> Result<Answer, EngineError> {
        let wire = encode(&ToEngine::Ask { id: 1, request }).unwrap();
        let ToEngine::Ask { id, request } = decode(&wire).unwrap() else {
            panic!("an ask");
        };
        let watchers = super::watch::Watchers::new(std::rc::Rc::new(|_| {}), never());
        let result = pool.run_until(serve::answer(&handle, request, never(), &watchers));
        let back = encode(&FromEngine::Answer { id, result }).unwrap();
        match decode(&back).unwrap() {
            FromEngine::Answer { id: 1, result } => result,
            other => panic!("{other:?}"),
        }
    };
    let Ok(Answer::Status(s)) = ask(Request::Status) else {
        panic!("a status");
    };
    assert_eq!(s.state, WalletState::NoWallet);
    let Ok(Answer::Identity(made)) = ask(Request::Setup {
        phrase: Secret::new(ABOUT),
        passphrase: Secret::new(PASS),
    }) else {
        panic!("set up");
    };
    assert_eq!(ask(Request::Lock), Ok(Answer::Done));
    assert_eq!(
        ask(Request::Unlock {
            passphrase: Secret::new("not it at all"),
        }),
        Err(EngineError::Vault(
            crate::vault::VaultError::WrongPassphrase
        ))
    );
    assert_eq!(
        ask(Request::Unlock {
            passphrase: Secret::new(PASS),
        }),
        Ok(Answer::Identity(made))
    );
    assert_eq!(ask(Request::Pending), Ok(Answer::Pending(vec![])));
    assert!(matches!(
        ask(Request::AddMint {
            url: "not a url".into()
        }),
        Err(EngineError::Ecash(crate::ecash::EcashError::BadMintUrl))
    ));
}
