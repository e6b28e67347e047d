#![allow(clippy::unwrap_used)] // test helpers, not only #[test] fns
use futures::executor::block_on;

use super::*;
use crate::ports::{ManualClock, OsRandom};
use crate::store::memory::MemoryStore;
use crate::store::RECORDS;
use crate::vault::InlineKdf;

/// Cheap parameters so the suites stay fast; only reachable through `create_unchecked`.
pub(super) const WEAK: KdfParams = KdfParams {
    version: 1,
    m_kib: 256,
    t: 1,
    p: 1,
};

/// A new vault with cheap KDF parameters over a fresh memory store.
pub(super) async fn new_vault(pass: &str) -> Vault<MemoryStore> {
    Vault::create_unchecked(MemoryStore::new(), pass, WEAK, &OsRandom, &InlineKdf)
        .await
        .unwrap()
}

#[test]
fn records_round_trip_and_nothing_is_plaintext_at_rest() {
    block_on(async {
        let v = new_vault("correct horse battery staple").await;
        let secret = b"abandon ability able about above absent absorb abstract";
        v.put(RECORDS, "seed-words", secret, &OsRandom)
            .await
            .unwrap();
        assert_eq!(
            v.get(RECORDS, "seed-words")
                .await
                .unwrap()
                .unwrap()
                .as_slice(),
            secret
        );
        assert_eq!(v.get(RECORDS, "other").await.unwrap(), None);
        for (_, key, value) in v.store().dump() {
            assert!(
                !key.contains("seed"),
                "record names are keyed hashes: {key}"
            );
            let text = String::from_utf8_lossy(&value);
            assert!(!text.contains("abandon"), "no plaintext at rest");
        }
    });
}

#[test]
fn each_write_uses_a_fresh_nonce() {
    block_on(async {
        let v = new_vault("pw-pw-pw-pw").await;
        v.put(RECORDS, "a", b"same", &OsRandom).await.unwrap();
        let first = v.store().dump();
        v.put(RECORDS, "a", b"same", &OsRandom).await.unwrap();
        assert_ne!(first, v.store().dump());
    });
}

#[test]
fn tampered_or_moved_records_are_rejected() {
    block_on(async {
        let v = new_vault("pw-pw-pw-pw").await;
        v.put(RECORDS, "a", b"alpha", &OsRandom).await.unwrap();
        v.put(RECORDS, "b", b"bravo", &OsRandom).await.unwrap();
        let id_a = v.record_id(RECORDS, "a");
        let id_b = v.record_id(RECORDS, "b");
        let sealed_a = v.store().get(RECORDS, &id_a).await.unwrap().unwrap();

        // A flipped bit anywhere.
        let mut bad = sealed_a.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        v.store().put(RECORDS, &id_a, bad).await.unwrap();
        assert!(matches!(
            v.get(RECORDS, "a").await,
            Err(VaultError::Tampered(_))
        ));

        // A valid blob moved under another record's name (wrong associated data).
        v.store()
            .put(RECORDS, &id_b, sealed_a.clone())
            .await
            .unwrap();
        assert!(matches!(
            v.get(RECORDS, "b").await,
            Err(VaultError::Tampered(_))
        ));

        // Truncated.
        v.store()
            .put(RECORDS, &id_a, sealed_a[..10].to_vec())
            .await
            .unwrap();
        assert!(matches!(
            v.get(RECORDS, "a").await,
            Err(VaultError::Tampered(_))
        ));
    });
}

#[test]
fn wrong_passphrase_changes_nothing_but_the_counter_and_backs_off() {
    block_on(async {
        let clock = ManualClock::new(1_000_000);
        let v = new_vault("right one").await;
        v.put(RECORDS, "x", b"1", &OsRandom).await.unwrap();
        let store = v.lock();
        let records_before: Vec<_> = store
            .dump()
            .into_iter()
            .filter(|(t, ..)| t == RECORDS)
            .collect();
        let header_before = store.get(META, HEADER_KEY).await.unwrap();

        for _ in 0..3 {
            let err = Vault::unlock(store.clone(), "wrong", &clock, &InlineKdf)
                .await
                .unwrap_err();
            assert_eq!(err, VaultError::WrongPassphrase);
            assert!(err.to_string().contains("nothing was changed"));
        }
        assert_eq!(store.get(META, HEADER_KEY).await.unwrap(), header_before);
        let records_after: Vec<_> = store
            .dump()
            .into_iter()
            .filter(|(t, ..)| t == RECORDS)
            .collect();
        assert_eq!(records_after, records_before);

        // The fourth try must wait, even with the right passphrase, and the wait survives a
        // "reload" (a new handle on the same store).
        let err = Vault::unlock(store.clone(), "right one", &clock, &InlineKdf)
            .await
            .unwrap_err();
        assert_eq!(err, VaultError::TooManyAttempts { wait_secs: 1 });
        clock.advance(1_000);
        let v = Vault::unlock(store.clone(), "right one", &clock, &InlineKdf)
            .await
            .unwrap();
        assert_eq!(v.get(RECORDS, "x").await.unwrap().unwrap().as_slice(), b"1");
        assert_eq!(
            store.get(META, FAILURES_KEY).await.unwrap(),
            None,
            "success resets"
        );
    });
}

#[test]
fn checking_the_passphrase_while_unlocked_is_under_the_same_back_off() {
    block_on(async {
        let clock = ManualClock::new(1_000_000);
        let v = new_vault("right one").await;
        for _ in 0..3 {
            assert_eq!(
                v.check_passphrase("wrong", &clock, &InlineKdf).await,
                Err(VaultError::WrongPassphrase)
            );
        }
        // No free guesses at an unlocked wallet: the fourth waits, even when right, and the
        // count is the unlock screen's (it survives a lock).
        assert_eq!(
            v.check_passphrase("right one", &clock, &InlineKdf).await,
            Err(VaultError::TooManyAttempts { wait_secs: 1 })
        );
        let store = v.lock();
        assert_eq!(
            Vault::unlock(store.clone(), "right one", &clock, &InlineKdf)
                .await
                .unwrap_err(),
            VaultError::TooManyAttempts { wait_secs: 1 }
        );
        clock.advance(1_000);
        let v = Vault::unlock(store, "right one", &clock, &InlineKdf)
            .await
            .unwrap();
        assert_eq!(
            v.check_passphrase("right one", &clock, &InlineKdf).await,
            Ok(())
        );
    });
}

#[test]
fn back_off_grows_and_is_capped() {
    let wait = |count| Failures { count, last_ms: 0 }.wait_ms();
    assert_eq!(
        (wait(0), wait(2), wait(3), wait(4), wait(6)),
        (0, 0, 1_000, 2_000, 8_000)
    );
    assert_eq!(wait(40), 300_000);
}

#[test]
fn changing_the_passphrase_rewraps_only_the_data_key() {
    block_on(async {
        let clock = ManualClock::new(0);
        let v = new_vault("old passphrase").await;
        v.put(RECORDS, "x", b"kept", &OsRandom).await.unwrap();
        let records = |s: &MemoryStore| -> Vec<_> {
            s.dump()
                .into_iter()
                .filter(|(t, ..)| t == RECORDS)
                .collect()
        };
        let before = records(v.store());
        assert_eq!(
            v.change_passphrase(
                "not it",
                "new passphrase",
                KdfParams::MINIMUM,
                &clock,
                &OsRandom,
                &InlineKdf
            )
            .await,
            Err(VaultError::WrongPassphrase)
        );
        v.change_passphrase(
            "old passphrase",
            "new passphrase",
            KdfParams::MINIMUM,
            &clock,
            &OsRandom,
            &InlineKdf,
        )
        .await
        .unwrap();
        let store = v.lock();
        assert_eq!(records(&store), before, "records were not re-encrypted");
        assert_eq!(
            Vault::unlock(store.clone(), "old passphrase", &clock, &InlineKdf)
                .await
                .unwrap_err(),
            VaultError::WrongPassphrase
        );
        let v = Vault::unlock(store, "new passphrase", &clock, &InlineKdf)
            .await
            .unwrap();
        assert_eq!(
            v.get(RECORDS, "x").await.unwrap().unwrap().as_slice(),
            b"kept"
        );
    });
}

#[test]
fn weak_kdf_parameters_are_upgraded_on_unlock() {
    block_on(async {
        let clock = ManualClock::new(0);
        let v = new_vault("passphrase").await;
        v.put(RECORDS, "x", b"data", &OsRandom).await.unwrap();
        assert_eq!(v.kdf_params().await.unwrap(), WEAK);
        let store = v.lock();
        let v = Vault::unlock(store, "passphrase", &clock, &InlineKdf)
            .await
            .unwrap();
        assert!(v
            .upgrade_kdf("passphrase", KdfParams::MINIMUM, &OsRandom, &InlineKdf)
            .await
            .unwrap());
        assert_eq!(v.kdf_params().await.unwrap(), KdfParams::MINIMUM);
        assert!(!v
            .upgrade_kdf("passphrase", KdfParams::MINIMUM, &OsRandom, &InlineKdf)
            .await
            .unwrap());
        let v = Vault::unlock(v.lock(), "passphrase", &clock, &InlineKdf)
            .await
            .unwrap();
        assert_eq!(
            v.get(RECORDS, "x").await.unwrap().unwrap().as_slice(),
            b"data"
        );
    });
}

#[test]
fn creation_rules() {
    block_on(async {
        let clock = ManualClock::new(0);
        let weak = Vault::create(MemoryStore::new(), "pw", WEAK, &OsRandom, &InlineKdf)
            .await
            .unwrap_err();
        assert!(matches!(weak, VaultError::WeakParams { .. }));
        let store = MemoryStore::new();
        assert_eq!(
            Vault::unlock(store.clone(), "pw", &clock, &InlineKdf)
                .await
                .unwrap_err(),
            VaultError::NoVault
        );
        let v = Vault::create_unchecked(store.clone(), "pw", WEAK, &OsRandom, &InlineKdf)
            .await
            .unwrap();
        drop(v);
        assert!(Vault::exists(&store).await.unwrap());
        let again = Vault::create_unchecked(store, "pw2", WEAK, &OsRandom, &InlineKdf)
            .await
            .unwrap_err();
        assert_eq!(again, VaultError::AlreadyExists);
    });
}

#[test]
fn a_corrupted_header_is_tampering_not_a_wrong_passphrase() {
    block_on(async {
        let clock = ManualClock::new(0);
        let v = new_vault("pw").await;
        let store = v.lock();
        store
            .put(META, HEADER_KEY, b"{not json".to_vec())
            .await
            .unwrap();
        assert!(matches!(
            Vault::unlock(store, "pw", &clock, &InlineKdf).await,
            Err(VaultError::Tampered(_))
        ));
    });
}

#[test]
fn a_guess_is_counted_before_the_kdf_runs_so_a_failing_disk_gives_no_free_tries() {
    block_on(async {
        let clock = ManualClock::new(1_000_000);
        let store = new_vault("right one").await.lock();
        store.fail_writes(true);
        for _ in 0..5 {
            let err = Vault::unlock(store.clone(), "wrong", &clock, &InlineKdf)
                .await
                .unwrap_err();
            assert!(
                matches!(err, VaultError::Store(_)),
                "an attempt that cannot be counted is not made: {err}"
            );
        }
        store.fail_writes(false);
        for _ in 0..3 {
            assert_eq!(
                Vault::unlock(store.clone(), "wrong", &clock, &InlineKdf)
                    .await
                    .unwrap_err(),
                VaultError::WrongPassphrase
            );
        }
        assert!(matches!(
            Vault::unlock(store.clone(), "right one", &clock, &InlineKdf).await,
            Err(VaultError::TooManyAttempts { .. })
        ));
    });
}

#[test]
fn a_failure_time_in_the_future_counts_as_now() {
    block_on(async {
        let store = new_vault("right one").await.lock();
        // Saved while the clock was a year ahead, with the longest back-off.
        let ahead = Failures {
            count: 40,
            last_ms: 1_000_000 + 365 * 24 * 3_600_000,
        };
        store.put(META, FAILURES_KEY, json(&ahead)).await.unwrap();
        let clock = ManualClock::new(1_000_000);
        assert_eq!(
            Vault::unlock(store.clone(), "right one", &clock, &InlineKdf)
                .await
                .unwrap_err(),
            VaultError::TooManyAttempts { wait_secs: 300 },
            "at most the longest back-off from now, not until next year"
        );
        clock.advance(300_000);
        Vault::unlock(store, "right one", &clock, &InlineKdf)
            .await
            .unwrap();
    });
}

#[test]
fn creation_with_records_is_one_atomic_write() {
    block_on(async {
        let store = MemoryStore::new();
        store.fail_writes(true);
        let err = Vault::create_with(
            store.clone(),
            "pw",
            KdfParams::MINIMUM,
            &OsRandom,
            &InlineKdf,
            &[(RECORDS, "mnemonic", b"words")],
        )
        .await
        .unwrap_err();
        assert!(matches!(err, VaultError::Store(_)));
        assert!(store.dump().is_empty(), "no header without its words");
        store.fail_writes(false);
        let v = Vault::create_with(
            store.clone(),
            "pw",
            KdfParams::MINIMUM,
            &OsRandom,
            &InlineKdf,
            &[(RECORDS, "mnemonic", b"words")],
        )
        .await
        .unwrap();
        assert_eq!(
            v.get(RECORDS, "mnemonic")
                .await
                .unwrap()
                .unwrap()
                .as_slice(),
            b"words"
        );
    });
}

#[test]
fn an_upgrade_never_lowers_a_cost() {
    block_on(async {
        let clock = ManualClock::new(0);
        let heavy = KdfParams {
            m_kib: 32 * 1024,
            t: 1,
            ..KdfParams::MINIMUM
        };
        let v = Vault::create_unchecked(MemoryStore::new(), "pw", heavy, &OsRandom, &InlineKdf)
            .await
            .unwrap();
        let v = Vault::unlock(v.lock(), "pw", &clock, &InlineKdf)
            .await
            .unwrap();
        assert!(v
            .upgrade_kdf("pw", KdfParams::MINIMUM, &OsRandom, &InlineKdf)
            .await
            .unwrap());
        let now = v.kdf_params().await.unwrap();
        assert_eq!((now.m_kib, now.t), (32 * 1024, KdfParams::MINIMUM.t));
    });
}
