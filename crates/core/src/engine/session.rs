//! The session: which phase the wallet is in (no wallet, locked, unlocked), and the steps
//! that move it between phases (setup, unlock, import, lock) and report it (`status`).

use super::*;

/// NOSTR keys imported earlier and since replaced or dropped.
pub(super) async fn read_old_nsecs<S: Store>(
    vault: &Vault<S>,
) -> Result<Vec<Zeroizing<[u8; 32]>>, EngineError> {
    let Some(bytes) = vault.get(RECORDS, OLD_NSECS).await? else {
        return Ok(Vec::new());
    };
    if bytes.len() % 32 != 0 {
        return Err(VaultError::Tampered("earlier NOSTR keys".into()).into());
    }
    Ok(bytes
        .chunks_exact(32)
        .filter_map(|c| <[u8; 32]>::try_from(c).ok().map(Zeroizing::new))
        .collect())
}

/// The purse with its P2PK keys: the current NOSTR key locks and signs; every other key the
/// wallet has owned (the one from the words while an nsec is used, earlier nsecs) still signs.
pub(super) fn with_signing_keys(
    purse: Purse,
    keys: &KeyHierarchy,
    nsec: Option<&Zeroizing<[u8; 32]>>,
    old: &[Zeroizing<[u8; 32]>],
) -> Purse {
    let derived = keys.nostr_secret().ok();
    let primary = nsec.cloned().or_else(|| derived.clone());
    let mut others: Vec<&[u8; 32]> = old.iter().map(|k| &**k).collect();
    if nsec.is_some() {
        others.extend(derived.as_deref());
    }
    let purse = purse.with_old_lock_keys(others);
    match primary {
        Some(secret) => purse.with_lock_key(&secret),
        None => purse,
    }
}

pub(super) fn identity_of(
    keys: &KeyHierarchy,
    nsec: Option<&Zeroizing<[u8; 32]>>,
) -> Result<Identity, EngineError> {
    Ok(Identity {
        npub: match nsec {
            Some(secret) => keys::npub_of(secret)?,
            None => keys.npub()?,
        },
        nostr_imported: nsec.is_some(),
        bip84_address: keys.bip84_address(bitcoin::Network::Bitcoin, 0)?,
    })
}

impl<S: Store + Clone, R: Random, C: Clock, K: Kdf> Engine<S, R, C, K> {
    pub(super) fn status(&self) -> Status {
        let state = match &self.phase {
            Phase::Starting | Phase::Busy => WalletState::Starting,
            Phase::Unavailable(e) => WalletState::Unavailable(e.to_string()),
            Phase::NoWallet(_) => WalletState::NoWallet,
            Phase::Locked(_) => WalletState::Locked,
            Phase::Unlocked { .. } => WalletState::Unlocked,
        };
        let unlocked = matches!(state, WalletState::Unlocked);
        Status {
            state,
            balance: Sats(if unlocked { self.balance } else { 0 }),
            started_at_ms: self.started_at_ms,
            waiting_on: if unlocked {
                self.waiting_on.clone()
            } else {
                Vec::new()
            },
        }
    }

    pub(super) fn broadcast(&mut self) {
        self.send(Event::StatusChanged(self.status()));
    }

    /// Sends `event` to every subscriber still listening.
    pub(super) fn send(&mut self, event: Event) {
        self.subscribers
            .retain(|s| s.unbounded_send(event.clone()).is_ok());
    }

    pub(super) async fn opened(&mut self, store: Result<S, StoreError>) {
        self.phase = match store {
            Err(e) => Phase::Unavailable(e),
            Ok(store) => match Vault::exists(&store).await {
                Ok(true) => Phase::Locked(store),
                Ok(false) => Phase::NoWallet(store),
                Err(VaultError::Store(e)) => Phase::Unavailable(e),
                Err(e) => Phase::Unavailable(StoreError::Read(e.to_string())),
            },
        };
        self.broadcast();
    }

    /// The store of a device with no wallet yet (setup, import).
    pub(super) fn empty_store(&self) -> Result<S, EngineError> {
        match &self.phase {
            Phase::NoWallet(s) => Ok(s.clone()),
            Phase::Locked(_) | Phase::Unlocked { .. } => Err(VaultError::AlreadyExists.into()),
            Phase::Unavailable(e) => Err(e.clone().into()),
            Phase::Starting | Phase::Busy => Err(EngineError::Stopped),
        }
    }

    /// The store of a locked wallet, or `Ok(Err(identity))` when it is unlocked already.
    pub(super) fn locked_store(&self) -> Result<Result<S, Identity>, EngineError> {
        match &self.phase {
            Phase::Locked(s) => Ok(Ok(s.clone())),
            Phase::Unlocked { keys, nsec, .. } => Ok(Err(identity_of(keys, nsec.as_ref())?)),
            Phase::NoWallet(_) => Err(VaultError::NoVault.into()),
            Phase::Unavailable(e) => Err(e.clone().into()),
            Phase::Starting | Phase::Busy => Err(EngineError::Stopped),
        }
    }

    /// Loads the keys from an opened vault and makes it the unlocked wallet.
    pub(super) async fn enter(&mut self, vault: Vault<S>) -> Result<Identity, EngineError> {
        let words = vault
            .get(RECORDS, MNEMONIC)
            .await?
            .ok_or_else(|| VaultError::Tampered("the recovery phrase record is missing".into()))?;
        let text = std::str::from_utf8(&words)
            .map_err(|_| VaultError::Tampered("recovery phrase".into()))?;
        let keys = KeyHierarchy::from_mnemonic(&keys::parse(text)?);
        let nsec = match vault.get(RECORDS, NSEC).await? {
            Some(bytes) => Some(Zeroizing::new(
                <[u8; 32]>::try_from(bytes.as_slice())
                    .map_err(|_| VaultError::Tampered("imported NOSTR key".into()))?,
            )),
            None => None,
        };
        let id = identity_of(&keys, nsec.as_ref())?;
        let old_nsecs = read_old_nsecs(&vault).await?;
        let records = vault.open_all(ECASH).await?;
        let (journal, requests) = ChannelJournal::new();
        let db = EcashDb::load(records.iter().map(|r| r.as_slice()), Arc::new(journal))
            .map_err(|e| VaultError::Tampered(e.to_string()))?;
        let purse = with_signing_keys(
            Purse::new(db, keys.cashu_seed()),
            &keys,
            nsec.as_ref(),
            &old_nsecs,
        );
        self.balance = purse.balance().await.unwrap_or(0);
        self.waiting_on.clear(); // named afresh by this session's recovery
        self.new_journal = Some(requests);
        // Finish or roll back whatever the last session left open.
        let recovering = purse.clone();
        self.outbox.push(Box::pin(async move {
            recovering.recover().await;
            JobDone::of(&recovering).await
        }));
        self.phase = Phase::Unlocked {
            vault,
            keys,
            nsec,
            purse,
        };
        Ok(id)
    }

    pub(super) async fn setup(
        &mut self,
        phrase: &str,
        pass: &str,
    ) -> Result<Identity, EngineError> {
        let mnemonic = keys::parse(phrase)?;
        if let (_, Some(w)) = passphrase::assess(pass) {
            return Err(EngineError::WeakPassphrase(w));
        }
        let store = self.empty_store()?;
        let words = Zeroizing::new(mnemonic.to_string());
        let vault = Vault::create_with(
            store,
            pass,
            KdfParams::DEFAULT,
            &self.random,
            &self.kdf,
            &[(RECORDS, MNEMONIC, words.as_bytes())],
        )
        .await?;
        self.enter(vault).await
    }

    pub(super) async fn unlock(&mut self, pass: &str) -> Result<Identity, EngineError> {
        let store = match self.locked_store()? {
            Ok(store) => store,
            Err(id) => return Ok(id),
        };
        let vault = Vault::unlock(store, pass, &self.clock, &self.kdf).await?;
        // Older vaults get today's KDF cost while we have the passphrase at hand. A failed
        // upgrade (out of memory on a small phone, a full disk) must not refuse a correct
        // passphrase: the old wrapping still stands, and the next unlock tries again.
        if let Err(e) = vault
            .upgrade_kdf(pass, KdfParams::DEFAULT, &self.random, &self.kdf)
            .await
        {
            crate::log::warn(&format!(
                "the passphrase's KDF upgrade failed and is tried again at the next unlock: {e}"
            ));
        }
        self.enter(vault).await
    }

    pub(super) async fn import(
        &mut self,
        file: &[u8],
        pass: &str,
    ) -> Result<Identity, EngineError> {
        let store = self.empty_store()?;
        let vault = Vault::import_backup(store, file, pass, &self.kdf).await?;
        self.enter(vault).await
    }

    pub(super) async fn unlock_passkey(&mut self, prf: &[u8]) -> Result<Identity, EngineError> {
        let store = match self.locked_store()? {
            Ok(store) => store,
            Err(id) => return Ok(id),
        };
        let vault = Vault::unlock_with_passkey(store, prf, &self.clock).await?;
        self.enter(vault).await
    }

    /// Uses an imported `nsec` as the NOSTR key instead of the NIP-06 one (`None`: back to
    /// the key from the recovery words). The key being replaced is kept (written first), so
    /// tokens locked to it can still be redeemed.
    pub(super) async fn set_nsec(&mut self, nsec: Option<&str>) -> Result<Identity, EngineError> {
        let Phase::Unlocked {
            vault,
            keys,
            nsec: current,
            purse,
        } = &mut self.phase
        else {
            return Err(EngineError::Locked);
        };
        let new = nsec.map(keys::parse_nsec).transpose()?;
        let mut old = read_old_nsecs(vault).await?;
        if let Some(replaced) = current.as_ref() {
            if !old.iter().any(|o| o[..] == replaced[..]) {
                old.push(replaced.clone());
                let mut bytes = Zeroizing::new(Vec::with_capacity(old.len() * 32));
                for k in &old {
                    bytes.extend_from_slice(&k[..]);
                }
                vault.put(RECORDS, OLD_NSECS, &bytes, &self.random).await?;
            }
        }
        match &new {
            Some(secret) => vault.put(RECORDS, NSEC, &secret[..], &self.random).await?,
            None => vault.delete(RECORDS, NSEC).await?,
        }
        *current = new;
        *purse = with_signing_keys(purse.clone(), keys, current.as_ref(), &old);
        identity_of(keys, current.as_ref())
    }

    /// Looks again whether the store holds a wallet. A tab that lost the wallet to another
    /// tab and got it back keeps its engine, whose "no wallet yet" may be stale: the other
    /// tab may have made one meanwhile (setup over it would then be refused, but the tab
    /// would show onboarding). Read errors leave the phase as it is.
    pub(super) async fn recheck(&mut self) {
        let store = match &self.phase {
            Phase::NoWallet(s) | Phase::Locked(s) => s.clone(),
            _ => return,
        };
        match Vault::exists(&store).await {
            Ok(true) => self.phase = Phase::Locked(store),
            Ok(false) => self.phase = Phase::NoWallet(store),
            Err(_) => {}
        }
    }

    pub(super) fn lock(&mut self) {
        if let Phase::Unlocked { .. } = self.phase {
            if let Phase::Unlocked {
                vault,
                keys,
                nsec,
                purse,
            } = std::mem::replace(&mut self.phase, Phase::Busy)
            {
                drop((keys, nsec, purse)); // zeroized on drop
                self.balance = 0;
                self.waiting_on.clear();
                // What was listed is gone with the keys; the next unlock lists afresh.
                self.touched = Default::default();
                self.phase = Phase::Locked(vault.lock());
            }
        }
    }
}
