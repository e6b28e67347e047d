//! The encrypted backup file: the vault header (its passphrase key slot) and every sealed record,
//! exactly as stored, plus a MAC over all of it under a key derived from the data key. Nothing in
//! the file is readable without the passphrase, and a truncated, reordered or edited file is
//! refused as a whole before anything is written.

use serde::{Deserialize, Serialize};

use super::{hmac256, json, read_json, Header, Keys, Vault, VaultError, HEADER_KEY, SLOT_AAD};
use crate::ports::Clock;
use crate::store::{Op, Store, META, RECORDS};

/// The file's magic and version.
const FORMAT: &str = "flash-backup";
const VERSION: u32 = 1;
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
    /// HMAC-SHA256 over everything above, hex.
    mac: String,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Result<Vec<u8>, VaultError> {
    if !s.len().is_multiple_of(2) {
        return Err(damaged("odd hex"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16).map_err(|_| damaged("hex"))
        })
        .collect()
}

fn damaged(what: &str) -> VaultError {
    VaultError::Tampered(format!(
        "this backup file is damaged or incomplete ({what})"
    ))
}

fn mac(keys: &Keys, created_ms: u64, header: &Header, records: &[(String, String)]) -> String {
    let header_bytes = json(header);
    let records_bytes = json(&records);
    let m = hmac256(
        &keys.data[..],
        &[
            b"flash-backup/v1",
            &created_ms.to_be_bytes(),
            &header_bytes,
            &records_bytes,
        ],
    );
    hex(&m[..])
}

impl<S: Store> Vault<S> {
    /// The encrypted backup file of everything this vault holds; records when it was made.
    pub async fn export_backup(&self, clock: &impl Clock) -> Result<Vec<u8>, VaultError> {
        let header: Header = read_json(&self.store, HEADER_KEY)
            .await?
            .ok_or(VaultError::NoVault)?;
        let mut records = Vec::new();
        for id in self.store.keys(RECORDS).await? {
            if let Some(sealed) = self.store.get(RECORDS, &id).await? {
                records.push((id, hex(&sealed)));
            }
        }
        let created_ms = clock.now_ms();
        let mac = mac(&self.keys, created_ms, &header, &records);
        let file = File {
            format: FORMAT.into(),
            version: VERSION,
            created_ms,
            header,
            records,
            mac,
        };
        self.store
            .put(META, LAST_BACKUP_KEY, json(&created_ms))
            .await?;
        Ok(json(&file))
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
        if file.version != VERSION {
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
        if mac(&keys, file.created_ms, &file.header, &file.records) != file.mac {
            return Err(damaged("integrity check failed"));
        }
        let mut ops = vec![Op::Put {
            table: META,
            key: HEADER_KEY.into(),
            value: json(&file.header),
        }];
        for (id, sealed) in &file.records {
            ops.push(Op::Put {
                table: RECORDS,
                key: id.clone(),
                value: unhex(sealed)?,
            });
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
