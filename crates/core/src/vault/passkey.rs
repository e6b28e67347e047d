//! Passkey unlock (WebAuthn PRF): a passkey's PRF output for a per-wallet salt wraps the same
//! data key a second time, so the passkey opens the vault and the passphrase keeps working.
//! Removing the passkey removes that wrapping. The PRF output never leaves memory; only the
//! credential id and the salt (neither secret) are stored.

pub use flash_api::views::PasskeyRequest;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{envelope, hmac256, json, read_json, Header, Vault, VaultError, HEADER_KEY};
use crate::ports::{Clock, Random};
use crate::store::{Store, META};

const AAD: &[u8] = b"flash-vault/v1/slot/passkey";

/// The passkey's wrapping of the data key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(super) struct PasskeySlot {
    credential_id: Vec<u8>,
    prf_salt: Vec<u8>,
    wrapped: Vec<u8>,
}

fn kek(prf_output: &[u8]) -> Zeroizing<[u8; 32]> {
    hmac256(prf_output, &[b"flash-vault/v1/passkey-kek"])
}

async fn header<S: Store>(store: &S) -> Result<Header, VaultError> {
    read_json(store, HEADER_KEY)
        .await?
        .ok_or(VaultError::NoVault)
}

impl<S: Store> Vault<S> {
    /// The passkey to ask, if one is set up (readable while locked: nothing here is secret).
    pub async fn passkey_request(store: &S) -> Result<Option<PasskeyRequest>, VaultError> {
        Ok(header(store).await?.passkey.map(|p| PasskeyRequest {
            credential_id: p.credential_id,
            prf_salt: p.prf_salt,
        }))
    }

    /// Adds (or replaces) the passkey wrapping of the data key.
    pub async fn add_passkey(
        &self,
        credential_id: Vec<u8>,
        prf_salt: Vec<u8>,
        prf_output: &[u8],
        rng: &impl Random,
    ) -> Result<(), VaultError> {
        let mut h = header(&self.store).await?;
        let wrapped = envelope::seal(&kek(prf_output), AAD, &self.keys.data[..], rng)?;
        h.passkey = Some(PasskeySlot {
            credential_id,
            prf_salt,
            wrapped,
        });
        self.store.put(META, HEADER_KEY, json(&h)).await?;
        Ok(())
    }

    /// Removes the passkey wrapping; the passphrase still opens the vault.
    pub async fn remove_passkey(&self) -> Result<(), VaultError> {
        let mut h = header(&self.store).await?;
        h.passkey = None;
        self.store.put(META, HEADER_KEY, json(&h)).await?;
        Ok(())
    }

    /// Opens the vault with the passkey's PRF output. Failures count toward the same back-off
    /// as wrong passphrases.
    pub async fn unlock_with_passkey(
        store: S,
        prf_output: &[u8],
        clock: &impl Clock,
    ) -> Result<Self, VaultError> {
        let h = header(&store).await?;
        let slot = h.passkey.ok_or(VaultError::NoPasskey)?;
        let data = super::attempt(&store, clock, async || {
            envelope::open(&kek(prf_output), AAD, &slot.wrapped)
                .map_err(|_| VaultError::WrongPassphrase)
        })
        .await?;
        let keys = super::Keys::from_opened(&data)?;
        Ok(Self { store, keys })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use futures::executor::block_on;

    use super::*;
    use crate::ports::{ManualClock, OsRandom};
    use crate::store::RECORDS;
    use crate::vault::InlineKdf;

    #[test]
    fn a_passkey_is_a_second_way_in_and_can_be_removed() {
        block_on(async {
            let clock = ManualClock::new(0);
            let prf = [7u8; 32];
            let v = crate::vault::tests::new_vault("pass phrase!").await;
            v.put(RECORDS, "x", b"secret", &OsRandom).await.unwrap();
            assert_eq!(Vault::passkey_request(v.store()).await.unwrap(), None);
            v.add_passkey(b"cred".to_vec(), b"salt".to_vec(), &prf, &OsRandom)
                .await
                .unwrap();
            let store = v.lock();
            let req = Vault::passkey_request(&store).await.unwrap().unwrap();
            assert_eq!(
                (req.credential_id.as_slice(), req.prf_salt.as_slice()),
                (&b"cred"[..], &b"salt"[..])
            );

            let wrong = Vault::unlock_with_passkey(store.clone(), &[8u8; 32], &clock)
                .await
                .unwrap_err();
            assert_eq!(wrong, VaultError::WrongPassphrase);
            let v = Vault::unlock_with_passkey(store.clone(), &prf, &clock)
                .await
                .unwrap();
            assert_eq!(
                v.get(RECORDS, "x").await.unwrap().unwrap().as_slice(),
                b"secret"
            );
            drop(v);
            // The passphrase still works, and removing the passkey removes that way in.
            let v = Vault::unlock(store.clone(), "pass phrase!", &clock, &InlineKdf)
                .await
                .unwrap();
            v.remove_passkey().await.unwrap();
            let store = v.lock();
            assert_eq!(Vault::passkey_request(&store).await.unwrap(), None);
            assert_eq!(
                Vault::unlock_with_passkey(store, &prf, &clock)
                    .await
                    .unwrap_err(),
                VaultError::NoPasskey
            );
        });
    }
}
