//! Envelope encryption of everything the wallet stores, as matrix-rust-sdk does it: a random
//! 256-bit data key seals every record with AES-256-GCM (fresh nonce per write; the store name,
//! record id and schema version bound as associated data), and the data key is itself sealed
//! ("wrapped") by a key derived from the passphrase with Argon2id. Changing the passphrase
//! re-wraps one key. Record names are keyed hashes, so even the shape of the data (which mints,
//! which contacts) does not show at rest. Keys in memory are zeroized when the vault locks.

pub use flash_api::errors::VaultError;

pub mod backup;
pub mod envelope;
pub mod kdf;
pub mod passkey;

use bitcoin::hashes::{hmac, sha256, Hash, HashEngine};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::ports::{Clock, Random};
use crate::store::{Op, Store, META, SCHEMA_VERSION};
pub use kdf::{InlineKdf, Kdf, KdfParams};

/// The vault header's key in the `meta` table.
const HEADER_KEY: &str = "vault";
/// The failed-unlock counter's key in the `meta` table (not secret; survives reloads).
const FAILURES_KEY: &str = "unlock-failures";
/// Associated data of the passphrase key slot.
const SLOT_AAD: &[u8] = b"flash-vault/v1/slot/passphrase";

/// A key slot: one wrapping of the data key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct PassphraseSlot {
    kdf: KdfParams,
    salt: Vec<u8>,
    wrapped: Vec<u8>,
}

/// The vault header, stored in plaintext: it holds nothing that helps without the passphrase.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Header {
    format: u32,
    passphrase: PassphraseSlot,
    /// A second wrapping of the same data key, by a passkey's PRF output (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    passkey: Option<passkey::PasskeySlot>,
}

/// Consecutive failed unlocks, for back-off that a reload does not reset.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
struct Failures {
    count: u32,
    last_ms: u64,
}

impl Failures {
    /// No wait for the first three failures, then 2^(n-3) seconds, at most 5 minutes.
    fn wait_ms(&self) -> u64 {
        if self.count < 3 {
            0
        } else {
            (1_000u64 << (self.count - 3).min(9)).min(300_000)
        }
    }
}

/// The subkeys derived from the data key; zeroized on drop.
struct Keys {
    data: Zeroizing<[u8; 32]>,
    enc: Zeroizing<[u8; 32]>,
    index: Zeroizing<[u8; 32]>,
}

fn hmac256(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let mut engine = hmac::HmacEngine::<sha256::Hash>::new(key);
    for p in parts {
        engine.input(p);
    }
    Zeroizing::new(hmac::Hmac::<sha256::Hash>::from_engine(engine).to_byte_array())
}

impl Keys {
    fn from_data_key(data: Zeroizing<[u8; 32]>) -> Self {
        let enc = hmac256(&data[..], &[b"flash-vault/v1/enc"]);
        let index = hmac256(&data[..], &[b"flash-vault/v1/index"]);
        Self { data, enc, index }
    }

    /// The keys of an opened slot (its plaintext is the 32-byte data key).
    fn from_opened(data: &[u8]) -> Result<Self, VaultError> {
        let bytes: [u8; 32] = data
            .try_into()
            .map_err(|_| VaultError::Tampered("data key length".into()))?;
        Ok(Self::from_data_key(Zeroizing::new(bytes)))
    }
}

/// One unlock attempt under the persisted back-off: waits are enforced before `open` runs,
/// and the attempt is counted *before* it runs (so a guess is never free, even when a later
/// write would fail: no count written, no attempt made); a success clears the count. A saved
/// time in the future (a clock that was ahead) counts as now, so it never locks anyone out
/// until that date.
async fn attempt<S: Store, T>(
    store: &S,
    clock: &impl Clock,
    open: impl AsyncFnOnce() -> Result<T, VaultError>,
) -> Result<T, VaultError> {
    let mut failures: Failures = read_json(store, FAILURES_KEY).await?.unwrap_or_default();
    let now = clock.now_ms();
    if failures.last_ms > now {
        // Written while the clock was ahead: from now on it counts as written now.
        failures.last_ms = now;
        store.put(META, FAILURES_KEY, json(&failures)).await?;
    }
    let allowed_at = failures.last_ms.saturating_add(failures.wait_ms());
    if now < allowed_at {
        return Err(VaultError::TooManyAttempts {
            wait_secs: (allowed_at - now).div_ceil(1_000),
        });
    }
    let counted = Failures {
        count: failures.count.saturating_add(1),
        last_ms: now,
    };
    store.put(META, FAILURES_KEY, json(&counted)).await?;
    match open().await {
        Ok(opened) => {
            store.delete(META, FAILURES_KEY).await?;
            Ok(opened)
        }
        Err(VaultError::WrongPassphrase) => Err(VaultError::WrongPassphrase),
        Err(other) => {
            // Not a guess that failed (the KDF could not run): it does not count.
            let _ = if failures.count == 0 {
                store.delete(META, FAILURES_KEY).await
            } else {
                store.put(META, FAILURES_KEY, json(&failures)).await
            };
            Err(other)
        }
    }
}

/// An unlocked vault over a store. Dropping it (or [`Vault::lock`]) wipes its keys.
pub struct Vault<S> {
    store: S,
    keys: Keys,
}

impl<S> std::fmt::Debug for Vault<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault { unlocked }") // never print keys
    }
}

async fn read_json<T: for<'de> Deserialize<'de>, S: Store>(
    store: &S,
    key: &str,
) -> Result<Option<T>, VaultError> {
    match store.get(META, key).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| VaultError::Tampered(format!("{key}: {e}"))),
    }
}

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    // Serializing these plain structs cannot fail.
    serde_json::to_vec(v).unwrap_or_default()
}

impl<S: Store> Vault<S> {
    /// Whether a vault exists in `store`.
    pub async fn exists(store: &S) -> Result<bool, VaultError> {
        Ok(store.get(META, HEADER_KEY).await?.is_some())
    }

    /// Creates a new vault with a fresh random data key wrapped by `passphrase`.
    pub async fn create(
        store: S,
        passphrase: &str,
        params: KdfParams,
        rng: &impl Random,
        kdf: &impl Kdf,
    ) -> Result<Self, VaultError> {
        params.check_minimum()?;
        Self::create_unchecked(store, passphrase, params, rng, kdf).await
    }

    /// Creates a new vault holding `records` (table, key, plaintext) from the first write: the
    /// header and the records land in one atomic batch, so a crash can never leave a vault
    /// without its recovery words (one that could never be unlocked into a wallet).
    pub async fn create_with(
        store: S,
        passphrase: &str,
        params: KdfParams,
        rng: &impl Random,
        kdf: &impl Kdf,
        records: &[(&'static str, &str, &[u8])],
    ) -> Result<Self, VaultError> {
        params.check_minimum()?;
        Self::create_inner(store, passphrase, params, rng, kdf, records).await
    }

    async fn create_unchecked(
        store: S,
        passphrase: &str,
        params: KdfParams,
        rng: &impl Random,
        kdf: &impl Kdf,
    ) -> Result<Self, VaultError> {
        Self::create_inner(store, passphrase, params, rng, kdf, &[]).await
    }

    async fn create_inner(
        store: S,
        passphrase: &str,
        params: KdfParams,
        rng: &impl Random,
        kdf: &impl Kdf,
        records: &[(&'static str, &str, &[u8])],
    ) -> Result<Self, VaultError> {
        if Self::exists(&store).await? {
            return Err(VaultError::AlreadyExists);
        }
        let mut data = Zeroizing::new([0u8; 32]);
        rng.fill(&mut data[..])?;
        let keys = Keys::from_data_key(data);
        let slot = Self::wrap(&keys, passphrase, params, rng, kdf).await?;
        let header = Header {
            format: 1,
            passphrase: slot,
            passkey: None,
        };
        let vault = Self { store, keys };
        let mut ops = vec![Op::Put {
            table: META,
            key: HEADER_KEY.into(),
            value: json(&header),
        }];
        for (table, key, plaintext) in records {
            ops.push(vault.seal_op(table, key, plaintext, rng)?);
        }
        vault.store.write(ops).await?;
        Ok(vault)
    }

    async fn wrap(
        keys: &Keys,
        passphrase: &str,
        params: KdfParams,
        rng: &impl Random,
        kdf: &impl Kdf,
    ) -> Result<PassphraseSlot, VaultError> {
        let mut salt = vec![0u8; 16];
        rng.fill(&mut salt)?;
        let kek = kdf.derive(passphrase.as_bytes(), &salt, &params).await?;
        let wrapped = envelope::seal(&kek, SLOT_AAD, &keys.data[..], rng)?;
        Ok(PassphraseSlot {
            kdf: params,
            salt,
            wrapped,
        })
    }

    /// Opens the vault. A wrong passphrase changes nothing but the persisted failure counter,
    /// which makes later attempts wait (so a reload does not reset the back-off).
    pub async fn unlock(
        store: S,
        passphrase: &str,
        clock: &impl Clock,
        kdf: &impl Kdf,
    ) -> Result<Self, VaultError> {
        let header: Header = read_json(&store, HEADER_KEY)
            .await?
            .ok_or(VaultError::NoVault)?;
        let slot = header.passphrase;
        let data = attempt(&store, clock, async || {
            let kek = kdf
                .derive(passphrase.as_bytes(), &slot.salt, &slot.kdf)
                .await?;
            envelope::open(&kek, SLOT_AAD, &slot.wrapped).map_err(|_| VaultError::WrongPassphrase)
        })
        .await?;
        Ok(Self {
            store,
            keys: Keys::from_opened(&data)?,
        })
    }

    /// Locks: the keys are wiped from memory and the bare store is handed back.
    pub fn lock(self) -> S {
        self.store
    }

    /// The underlying store (sealed bytes only).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The KDF parameters protecting the data key now.
    pub async fn kdf_params(&self) -> Result<KdfParams, VaultError> {
        let header: Header = read_json(&self.store, HEADER_KEY)
            .await?
            .ok_or(VaultError::NoVault)?;
        Ok(header.passphrase.kdf)
    }

    /// Checks that `passphrase` opens this vault (before changes that need its owner, such as
    /// adding a passkey), under the same persisted back-off as unlocking: someone at an
    /// unlocked wallet must not get free guesses here. Changes nothing else.
    pub async fn check_passphrase(
        &self,
        passphrase: &str,
        clock: &impl Clock,
        kdf: &impl Kdf,
    ) -> Result<(), VaultError> {
        attempt(&self.store, clock, async || {
            self.verify(passphrase, kdf).await
        })
        .await
    }

    /// Whether `passphrase` opens this vault, outside the back-off (only for a passphrase
    /// that has just unlocked it).
    async fn verify(&self, passphrase: &str, kdf: &impl Kdf) -> Result<(), VaultError> {
        let header: Header = read_json(&self.store, HEADER_KEY)
            .await?
            .ok_or(VaultError::NoVault)?;
        let kek = kdf
            .derive(
                passphrase.as_bytes(),
                &header.passphrase.salt,
                &header.passphrase.kdf,
            )
            .await?;
        envelope::open(&kek, SLOT_AAD, &header.passphrase.wrapped)
            .map(|_| ())
            .map_err(|_| VaultError::WrongPassphrase)
    }

    /// Re-wraps the data key under `new` (after checking `current`); records are untouched.
    pub async fn change_passphrase(
        &self,
        current: &str,
        new: &str,
        params: KdfParams,
        clock: &impl Clock,
        rng: &impl Random,
        kdf: &impl Kdf,
    ) -> Result<(), VaultError> {
        params.check_minimum()?;
        self.check_passphrase(current, clock, kdf).await?;
        self.rewrap(new, params, rng, kdf).await
    }

    /// Wraps the data key under `new` with `params` (the caller has checked the owner).
    async fn rewrap(
        &self,
        new: &str,
        params: KdfParams,
        rng: &impl Random,
        kdf: &impl Kdf,
    ) -> Result<(), VaultError> {
        let header: Header = read_json(&self.store, HEADER_KEY)
            .await?
            .ok_or(VaultError::NoVault)?;
        let slot = Self::wrap(&self.keys, new, params, rng, kdf).await?;
        let header = Header {
            passphrase: slot,
            ..header
        };
        self.store.put(META, HEADER_KEY, json(&header)).await?;
        Ok(())
    }

    /// After an unlock with `passphrase`: if the stored KDF parameters are weaker than
    /// `target`, re-wraps under `target`. Returns whether it upgraded.
    pub(crate) async fn upgrade_kdf(
        &self,
        passphrase: &str,
        target: KdfParams,
        rng: &impl Random,
        kdf: &impl Kdf,
    ) -> Result<bool, VaultError> {
        let current = self.kdf_params().await?;
        if current.at_least(&target) {
            return Ok(false);
        }
        // Raise what is below the target and keep what is above it: never lower a cost.
        let target = current.max(&target);
        self.verify(passphrase, kdf).await?;
        self.rewrap(passphrase, target, rng, kdf).await?;
        Ok(true)
    }

    /// The opaque id under which (`table`, `key`) is stored.
    fn record_id(&self, table: &str, key: &str) -> String {
        let mac = hmac256(
            &self.keys.index[..],
            &[table.as_bytes(), &[0], key.as_bytes()],
        );
        hex::encode(mac)
    }

    fn aad(table: &str, id: &str) -> Vec<u8> {
        format!("flash/v{SCHEMA_VERSION}/{table}/{id}").into_bytes()
    }

    /// The sealed form of one record, for batching several into one atomic write.
    pub fn seal_op(
        &self,
        table: &'static str,
        key: &str,
        plaintext: &[u8],
        rng: &impl Random,
    ) -> Result<Op, VaultError> {
        let id = self.record_id(table, key);
        let value = envelope::seal(&self.keys.enc, &Self::aad(table, &id), plaintext, rng)?;
        Ok(Op::Put {
            table,
            key: id,
            value,
        })
    }

    /// Seals and stores one record; resolves once it is durable.
    pub async fn put(
        &self,
        table: &'static str,
        key: &str,
        plaintext: &[u8],
        rng: &impl Random,
    ) -> Result<(), VaultError> {
        let op = self.seal_op(table, key, plaintext, rng)?;
        Ok(self.store.write(vec![op]).await?)
    }

    /// Reads and opens one record. Bytes that fail authentication are an error, never data.
    pub async fn get(
        &self,
        table: &'static str,
        key: &str,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        let id = self.record_id(table, key);
        match self.store.get(table, &id).await? {
            None => Ok(None),
            Some(sealed) => envelope::open(&self.keys.enc, &Self::aad(table, &id), &sealed)
                .map(Some)
                .map_err(|_| VaultError::Tampered(format!("record in {table}"))),
        }
    }

    /// The op that removes one record, for batching with [`Vault::seal_op`].
    pub fn delete_op(&self, table: &'static str, key: &str) -> Op {
        Op::Delete {
            table,
            key: self.record_id(table, key),
        }
    }

    /// Opens every record of `table` (their plaintexts, in no particular order). One record
    /// failing authentication fails the whole read: tampered data is never half-loaded.
    pub async fn open_all(
        &self,
        table: &'static str,
    ) -> Result<Vec<Zeroizing<Vec<u8>>>, VaultError> {
        let rows = self.store.entries(table).await?;
        rows.into_iter()
            .map(|(id, sealed)| {
                envelope::open(&self.keys.enc, &Self::aad(table, &id), &sealed)
                    .map_err(|_| VaultError::Tampered(format!("record in {table}")))
            })
            .collect()
    }

    /// Removes one record.
    pub async fn delete(&self, table: &'static str, key: &str) -> Result<(), VaultError> {
        let id = self.record_id(table, key);
        Ok(self.store.delete(table, &id).await?)
    }

    /// Applies sealed ops atomically.
    pub async fn write(&self, ops: Vec<Op>) -> Result<(), VaultError> {
        Ok(self.store.write(ops).await?)
    }
}

// Native only: they use the OS generator (the browser's is tested in flash-browser).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
