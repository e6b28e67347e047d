//! The encrypted backup file: the vault header (its passphrase key slot) and every sealed record
//! of every table, exactly as stored, plus a MAC over all of it under a key derived from the
//! data key. Nothing in the file is readable without the passphrase, and a truncated, reordered
//! or edited file is refused as a whole before anything is written.
//!
//! Version 2 holds the `ecash` table too (proofs, mints, keysets, counters, saved offline
//! tokens, open sagas, P2PK keys): tokens received offline or locked to our key cannot be
//! rebuilt from the words, and the mint list would be lost. Version 1 files (vault records
//! only) are still read.

use serde::{Deserialize, Serialize};

use super::{hmac256, json, read_json, Header, Keys, Vault, VaultError, HEADER_KEY, SLOT_AAD};
use crate::ports::Clock;
use crate::store::{Op, Store, ECASH, META, RECORDS};

/// The file's magic and version.
const FORMAT: &str = "flash-backup";
const VERSION: u32 = 2;
/// When the last backup file was made (meta, not secret).
pub(super) const LAST_BACKUP_KEY: &str = "last-backup";

#[derive(Debug, Serialize, Deserialize)]
struct File {
    format: String,
    version: u32,
    created_ms: u64,
    header: Header,
    /// (record id, sealed bytes as hex), sorted by id.
    records: Vec<(String, String)>,
    /// The `ecash` table, likewise (version 2 on; absent from version 1 files).
    #[serde(default)]
    ecash: Vec<(String, String)>,
    /// HMAC-SHA256 over everything above, hex.
    mac: String,
}

fn hex(b: &[u8]) -> String {
    hex::encode(b)
}

fn unhex(s: &str) -> Result<Vec<u8>, VaultError> {
    hex::decode(s).map_err(|_| damaged("hex"))
}

fn damaged(what: &str) -> VaultError {
    VaultError::Tampered(format!(
        "this backup file is damaged or incomplete ({what})"
    ))
}

fn mac(keys: &Keys, file: &File) -> String {
    let header_bytes = json(&file.header);
    let records_bytes = json(&file.records);
    let m = if file.version == 1 {
        hmac256(
            &keys.data[..],
            &[
                b"flash-backup/v1",
                &file.created_ms.to_be_bytes(),
                &header_bytes,
                &records_bytes,
            ],
        )
    } else {
        let ecash_bytes = json(&file.ecash);
        hmac256(
            &keys.data[..],
            &[
                b"flash-backup/v2",
                &file.version.to_be_bytes(),
                &file.created_ms.to_be_bytes(),
                &(header_bytes.len() as u64).to_be_bytes(),
                &header_bytes,
                &(records_bytes.len() as u64).to_be_bytes(),
                &records_bytes,
                &(ecash_bytes.len() as u64).to_be_bytes(),
                &ecash_bytes,
            ],
        )
    };
    hex(&m[..])
}

async fn table_rows<S: Store>(
    store: &S,
    table: &'static str,
) -> Result<Vec<(String, String)>, VaultError> {
    let mut rows: Vec<(String, String)> = store
        .entries(table)
        .await?
        .into_iter()
        .map(|(id, sealed)| (id, hex(&sealed)))
        .collect();
    rows.sort();
    Ok(rows)
}

impl<S: Store> Vault<S> {
    /// The encrypted backup file of everything this vault holds. It does not record the time:
    /// the app calls [`Vault::backup_saved`] once the download has been handed to the browser,
    /// so a failed download never shows as "backed up".
    pub async fn export_backup(&self, clock: &impl Clock) -> Result<Vec<u8>, VaultError> {
        let header: Header = read_json(&self.store, HEADER_KEY)
            .await?
            .ok_or(VaultError::NoVault)?;
        let mut file = File {
            format: FORMAT.into(),
            version: VERSION,
            created_ms: clock.now_ms(),
            header,
            records: table_rows(&self.store, RECORDS).await?,
            ecash: table_rows(&self.store, ECASH).await?,
            mac: String::new(),
        };
        file.mac = mac(&self.keys, &file);
        Ok(json(&file))
    }

    /// Records that a backup file made at `ms` was saved (shown as "last backup").
    pub async fn backup_saved(&self, ms: u64) -> Result<(), VaultError> {
        Ok(self.store.put(META, LAST_BACKUP_KEY, json(&ms)).await?)
    }

    /// When the last backup file was made, if ever (milliseconds since the epoch).
    pub async fn last_backup_ms(&self) -> Result<Option<u64>, VaultError> {
        read_json(&self.store, LAST_BACKUP_KEY).await
    }

    /// Restores a backup file into an empty `store` and opens it with `passphrase`. The whole
    /// file is verified first; a bad file or passphrase writes nothing.
    pub async fn import_backup(
        store: S,
        file: &[u8],
        passphrase: &str,
        kdf: &impl super::Kdf,
    ) -> Result<Self, VaultError> {
        if Self::exists(&store).await? {
            return Err(VaultError::AlreadyExists);
        }
        let file: File = serde_json::from_slice(file).map_err(|e| damaged(&e.to_string()))?;
        if file.format != FORMAT {
            return Err(damaged("not a Flash backup file"));
        }
        if file.version == 0 || file.version > VERSION {
            return Err(damaged(&format!(
                "made by a newer Flash (format {}); update Flash first",
                file.version
            )));
        }
        let slot = &file.header.passphrase;
        let kek = kdf
            .derive(passphrase.as_bytes(), &slot.salt, &slot.kdf)
            .await?;
        let data = super::envelope::open(&kek, SLOT_AAD, &slot.wrapped)
            .map_err(|_| VaultError::WrongPassphrase)?;
        let bytes: [u8; 32] = data[..].try_into().map_err(|_| damaged("data key"))?;
        let keys = Keys::from_data_key(zeroize::Zeroizing::new(bytes));
        if file.version == 1 && !file.ecash.is_empty() {
            return Err(damaged("integrity check failed"));
        }
        if mac(&keys, &file) != file.mac {
            return Err(damaged("integrity check failed"));
        }
        let mut ops = vec![Op::Put {
            table: META,
            key: HEADER_KEY.into(),
            value: json(&file.header),
        }];
        for (table, rows) in [(RECORDS, &file.records), (ECASH, &file.ecash)] {
            for (id, sealed) in rows {
                ops.push(Op::Put {
                    table,
                    key: id.clone(),
                    value: unhex(sealed)?,
                });
            }
        }
        store.write(ops).await?;
        Ok(Self { store, keys })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use futures::executor::block_on;

    use super::*;
    use crate::ports::{ManualClock, OsRandom};
    use crate::store::memory::MemoryStore;
    use crate::vault::InlineKdf;

    async fn sample() -> (Vault<MemoryStore>, Vec<u8>) {
        let v = crate::vault::tests::new_vault("backup pass").await;
        v.put(RECORDS, "mnemonic", b"abandon ... about", &OsRandom)
            .await
            .unwrap();
        v.put(RECORDS, "proofs", b"[1,2,3]", &OsRandom)
            .await
            .unwrap();
        v.put(ECASH, "proof/abc", b"an ecash proof", &OsRandom)
            .await
            .unwrap();
        let file = v
            .export_backup(&ManualClock::new(1_700_000_000_000))
            .await
            .unwrap();
        (v, file)
    }

    #[test]
    fn export_then_import_elsewhere_restores_everything() {
        block_on(async {
            let (v, file) = sample().await;
            assert_eq!(
                v.last_backup_ms().await.unwrap(),
                None,
                "not before it is saved"
            );
            v.backup_saved(1_700_000_000_000).await.unwrap();
            assert_eq!(v.last_backup_ms().await.unwrap(), Some(1_700_000_000_000));
            let text = String::from_utf8_lossy(&file);
            assert!(
                !text.contains("abandon") && !text.contains("mnemonic"),
                "nothing readable"
            );
            let fresh = MemoryStore::new();
            let w = Vault::import_backup(fresh.clone(), &file, "backup pass", &InlineKdf)
                .await
                .unwrap();
            assert_eq!(
                w.get(RECORDS, "mnemonic")
                    .await
                    .unwrap()
                    .unwrap()
                    .as_slice(),
                b"abandon ... about"
            );
            assert_eq!(
                w.get(RECORDS, "proofs").await.unwrap().unwrap().as_slice(),
                b"[1,2,3]"
            );
            assert_eq!(
                w.get(ECASH, "proof/abc").await.unwrap().unwrap().as_slice(),
                b"an ecash proof",
                "the eCash table travels too"
            );
            // And it unlocks normally afterwards.
            drop(w);
            let u = Vault::unlock(fresh, "backup pass", &ManualClock::new(0), &InlineKdf)
                .await
                .unwrap();
            assert!(u.get(RECORDS, "proofs").await.unwrap().is_some());
        });
    }

    #[test]
    fn bad_files_and_passphrases_write_nothing() {
        block_on(async {
            let (_, file) = sample().await;
            let fresh = MemoryStore::new();
            let wrong = Vault::import_backup(fresh.clone(), &file, "not it", &InlineKdf)
                .await
                .unwrap_err();
            assert_eq!(wrong, VaultError::WrongPassphrase);
            let truncated = Vault::import_backup(
                fresh.clone(),
                &file[..file.len() / 2],
                "backup pass",
                &InlineKdf,
            )
            .await
            .unwrap_err();
            assert!(
                matches!(&truncated, VaultError::Tampered(m) if m.contains("damaged or incomplete")),
                "{truncated}"
            );
            // Drop one record but keep the JSON valid: the MAC catches it.
            let mut parsed: serde_json::Value = serde_json::from_slice(&file).unwrap();
            parsed["records"].as_array_mut().unwrap().pop();
            let edited = serde_json::to_vec(&parsed).unwrap();
            let err = Vault::import_backup(fresh.clone(), &edited, "backup pass", &InlineKdf)
                .await
                .unwrap_err();
            assert!(
                matches!(&err, VaultError::Tampered(m) if m.contains("integrity")),
                "{err}"
            );
            assert!(fresh.dump().is_empty(), "nothing was written");
            let not_ours = Vault::import_backup(fresh.clone(), br#"{"hello":1}"#, "x", &InlineKdf)
                .await
                .unwrap_err();
            assert!(matches!(not_ours, VaultError::Tampered(_)));
        });
    }

    #[test]
    fn version_1_files_are_still_read_and_cannot_smuggle_ecash_rows() {
        block_on(async {
            let v = crate::vault::tests::new_vault("old file").await;
            v.put(RECORDS, "mnemonic", b"old words", &OsRandom)
                .await
                .unwrap();
            // A file as Flash wrote it before version 2: records only, the v1 MAC.
            let mut file = File {
                format: FORMAT.into(),
                version: 1,
                created_ms: 1_600_000_000_000,
                header: read_json(v.store(), HEADER_KEY).await.unwrap().unwrap(),
                records: table_rows(v.store(), RECORDS).await.unwrap(),
                ecash: Vec::new(),
                mac: String::new(),
            };
            file.mac = mac(&v.keys, &file);
            let mut bytes: serde_json::Value = serde_json::from_slice(&json(&file)).unwrap();
            bytes.as_object_mut().unwrap().remove("ecash");
            let bytes = serde_json::to_vec(&bytes).unwrap();
            let fresh = MemoryStore::new();
            let w = Vault::import_backup(fresh, &bytes, "old file", &InlineKdf)
                .await
                .unwrap();
            assert_eq!(
                w.get(RECORDS, "mnemonic")
                    .await
                    .unwrap()
                    .unwrap()
                    .as_slice(),
                b"old words"
            );
            // The v1 MAC does not cover an `ecash` list: one added to a v1 file is refused.
            let mut smuggled: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            smuggled["ecash"] = serde_json::json!([["x", "00"]]);
            let err = Vault::import_backup(
                MemoryStore::new(),
                &serde_json::to_vec(&smuggled).unwrap(),
                "old file",
                &InlineKdf,
            )
            .await
            .unwrap_err();
            assert!(matches!(err, VaultError::Tampered(_)), "{err}");
        });
    }

    #[test]
    fn a_crafted_kdf_cost_is_refused_without_running_it() {
        block_on(async {
            let (_, file) = sample().await;
            let mut parsed: serde_json::Value = serde_json::from_slice(&file).unwrap();
            parsed["header"]["passphrase"]["kdf"]["m_kib"] = serde_json::json!(u32::MAX);
            let err = Vault::import_backup(
                MemoryStore::new(),
                &serde_json::to_vec(&parsed).unwrap(),
                "backup pass",
                &InlineKdf,
            )
            .await
            .unwrap_err();
            assert!(matches!(err, VaultError::KdfTooCostly { .. }), "{err}");
        });
    }

    #[test]
    fn import_refuses_to_overwrite_a_wallet() {
        block_on(async {
            let (v, file) = sample().await;
            let err = Vault::import_backup(v.lock(), &file, "backup pass", &InlineKdf)
                .await
                .unwrap_err();
            assert_eq!(err, VaultError::AlreadyExists);
        });
    }
}
