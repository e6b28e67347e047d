//! The engine as a single-owner task (an actor). It alone holds wallet state and keys; the UI
//! holds a cheap, cloneable [`WalletHandle`] that sends typed commands and receives typed
//! results and a stream of [`Event`]s. One owner means no two code paths can spend the same
//! proofs, and keys live in exactly one place that locking wipes.

pub use flash_api::errors::EngineError;

use std::sync::Arc;

use futures::channel::{mpsc, oneshot};
use futures::future::{select, Either, LocalBoxFuture};
use futures::stream::FuturesUnordered;
use futures::{Future, StreamExt};
use zeroize::Zeroizing;

use crate::amount::Sats;
use crate::ecash::journal::JournalRequest;
use crate::ecash::purse::{
    FailedToken, HistoryItem, InvoiceView, Lock, MeltPreview, MintView, Paid, PendingItem,
    Received, SentToken, TokenView,
};
use crate::ecash::{ChannelJournal, EcashDb, EcashError, Purse};
use crate::keys::{self, KeyHierarchy};
use crate::passphrase;
use crate::ports::{Clock, Random};
use crate::store::{Store, StoreError, ECASH, RECORDS};
use crate::vault::passkey::PasskeyRequest;
use crate::vault::{Kdf, KdfParams, Vault, VaultError};
pub use flash_api::status::{Event, Identity, Status, WalletState};

/// The vault record holding the recovery phrase.
const MNEMONIC: &str = "mnemonic";
/// The vault record holding an imported NOSTR secret key, when the user chose one.
const NSEC: &str = "nostr-nsec";
/// The vault record holding NOSTR keys imported earlier and since replaced or dropped
/// (concatenated 32-byte secrets): kept so tokens locked to them can still be redeemed.
const OLD_NSECS: &str = "nostr-nsec-previous";

type Reply<T> = oneshot::Sender<Result<T, EngineError>>;

/// An eCash job: given the purse, the future that does the work and answers its caller.
type EcashJob = Box<dyn FnOnce(Purse) -> LocalBoxFuture<'static, ()> + Send>;

/// Something eCash jobs can wait with (the UI passes the browser's timer).
pub type Sleep = std::rc::Rc<dyn Fn(u32) -> LocalBoxFuture<'static, ()>>;

enum Command {
    Status(oneshot::Sender<Status>),
    Ecash(EcashJob),
    Subscribe(mpsc::UnboundedSender<Event>),
    NewPhrase(usize, Reply<Zeroizing<String>>),
    Setup {
        phrase: Zeroizing<String>,
        passphrase: Zeroizing<String>,
        reply: Reply<Identity>,
    },
    Unlock {
        passphrase: Zeroizing<String>,
        reply: Reply<Identity>,
    },
    Lock(oneshot::Sender<()>),
    LockNow(oneshot::Sender<()>),
    Identity(Reply<Identity>),
    ExportBackup(Reply<Vec<u8>>),
    ImportBackup {
        file: Vec<u8>,
        passphrase: Zeroizing<String>,
        reply: Reply<Identity>,
    },
    LastBackup(Reply<Option<u64>>),
    BackupSaved(Reply<()>),
    Passkey(Reply<Option<PasskeyRequest>>),
    SetNsec(Option<Zeroizing<String>>, Reply<Identity>),
    ChangePassphrase {
        current: Zeroizing<String>,
        new: Zeroizing<String>,
        keep_passkey: bool,
        reply: Reply<()>,
    },
    AddPasskey {
        passphrase: Zeroizing<String>,
        credential_id: Vec<u8>,
        prf_salt: Vec<u8>,
        prf_output: Zeroizing<Vec<u8>>,
        reply: Reply<()>,
    },
    RemovePasskey(Reply<()>),
    UnlockWithPasskey {
        prf_output: Zeroizing<Vec<u8>>,
        reply: Reply<Identity>,
    },
}

/// The UI's only way into the engine. Cloning is cheap; all clones talk to the same engine.
#[derive(Debug, Clone)]
pub struct WalletHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command") // commands carry secrets: never print them
    }
}

impl WalletHandle {
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .unbounded_send(make(reply))
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)?
    }

    /// The current status.
    pub async fn status(&self) -> Result<Status, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .unbounded_send(Command::Status(reply))
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    /// A stream of events from now on; it starts with the current status.
    pub fn events(&self) -> Result<mpsc::UnboundedReceiver<Event>, EngineError> {
        let (tx, rx) = mpsc::unbounded();
        self.tx
            .unbounded_send(Command::Subscribe(tx))
            .map_err(|_| EngineError::Stopped)?;
        Ok(rx)
    }

    /// A fresh recovery phrase of `words` words, not yet saved: the UI shows it, the user
    /// confirms some words, then [`WalletHandle::setup`] saves it.
    pub async fn new_phrase(&self, words: usize) -> Result<Zeroizing<String>, EngineError> {
        self.ask(|reply| Command::NewPhrase(words, reply)).await
    }

    /// Creates the wallet from `phrase` (new or restored) protected by `passphrase`.
    pub async fn setup(&self, phrase: &str, passphrase: &str) -> Result<Identity, EngineError> {
        let phrase = Zeroizing::new(phrase.to_string());
        let passphrase = Zeroizing::new(passphrase.to_string());
        self.ask(|reply| Command::Setup {
            phrase,
            passphrase,
            reply,
        })
        .await
    }

    /// Unlocks with `passphrase`.
    pub async fn unlock(&self, passphrase: &str) -> Result<Identity, EngineError> {
        let passphrase = Zeroizing::new(passphrase.to_string());
        self.ask(|reply| Command::Unlock { passphrase, reply })
            .await
    }

    /// Locks: keys are wiped from memory.
    pub async fn lock(&self) -> Result<(), EngineError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .unbounded_send(Command::Lock(reply))
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    /// Locks at once, dropping running jobs where they stand (their sagas are durable and
    /// resume at the next unlock): for when another tab has taken over the wallet, which must
    /// never be written by two tabs at the same time. It also looks again whether a wallet
    /// exists (a tab that gets the wallet back may find one another tab made).
    pub async fn lock_now(&self) -> Result<(), EngineError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .unbounded_send(Command::LockNow(reply))
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    /// The encrypted backup file (needs an unlocked wallet). Call
    /// [`WalletHandle::backup_saved`] once it has been handed to the user.
    pub async fn export_backup(&self) -> Result<Vec<u8>, EngineError> {
        self.ask(Command::ExportBackup).await
    }

    /// Records that a backup file was just saved (shown as "last backup").
    pub async fn backup_saved(&self) -> Result<(), EngineError> {
        self.ask(Command::BackupSaved).await
    }

    /// Restores a backup file on a device with no wallet, opening it with `passphrase`.
    pub async fn import_backup(
        &self,
        file: Vec<u8>,
        passphrase: &str,
    ) -> Result<Identity, EngineError> {
        let passphrase = Zeroizing::new(passphrase.to_string());
        self.ask(|reply| Command::ImportBackup {
            file,
            passphrase,
            reply,
        })
        .await
    }

    /// When the last backup file was made (ms since the epoch), if ever.
    pub async fn last_backup(&self) -> Result<Option<u64>, EngineError> {
        self.ask(Command::LastBackup).await
    }

    /// Re-wraps the data key under `new` after checking `current` (needs unlocked); records are
    /// not re-encrypted. A passkey set up before stays only with `keep_passkey` (a new
    /// passphrase often means the old way in was compromised).
    pub async fn change_passphrase(
        &self,
        current: &str,
        new: &str,
        keep_passkey: bool,
    ) -> Result<(), EngineError> {
        let current = Zeroizing::new(current.to_string());
        let new = Zeroizing::new(new.to_string());
        self.ask(|reply| Command::ChangePassphrase {
            current,
            new,
            keep_passkey,
            reply,
        })
        .await
    }

    /// Uses an imported NOSTR secret key (`nsec1…`) instead of the one derived from the words;
    /// `None` goes back to the derived key.
    pub async fn set_nsec(&self, nsec: Option<&str>) -> Result<Identity, EngineError> {
        let nsec = nsec.map(|n| Zeroizing::new(n.to_string()));
        self.ask(|reply| Command::SetNsec(nsec, reply)).await
    }

    /// The passkey set up for this wallet, if any (also while locked).
    pub async fn passkey(&self) -> Result<Option<PasskeyRequest>, EngineError> {
        self.ask(Command::Passkey).await
    }

    /// Adds a passkey unlock from its credential id, PRF salt and PRF output (needs unlocked
    /// and the passphrase: someone at an unlocked wallet must not enrol their own
    /// authenticator and come back later).
    pub async fn add_passkey(
        &self,
        passphrase: &str,
        credential_id: Vec<u8>,
        prf_salt: Vec<u8>,
        prf_output: Vec<u8>,
    ) -> Result<(), EngineError> {
        let prf_output = Zeroizing::new(prf_output);
        let passphrase = Zeroizing::new(passphrase.to_string());
        self.ask(|reply| Command::AddPasskey {
            passphrase,
            credential_id,
            prf_salt,
            prf_output,
            reply,
        })
        .await
    }

    /// Removes the passkey unlock (needs unlocked).
    pub async fn remove_passkey(&self) -> Result<(), EngineError> {
        self.ask(Command::RemovePasskey).await
    }

    /// Unlocks with the passkey's PRF output.
    pub async fn unlock_with_passkey(&self, prf_output: Vec<u8>) -> Result<Identity, EngineError> {
        let prf_output = Zeroizing::new(prf_output);
        self.ask(|reply| Command::UnlockWithPasskey { prf_output, reply })
            .await
    }

    /// The wallet's public identifiers (needs an unlocked wallet).
    pub async fn identity(&self) -> Result<Identity, EngineError> {
        self.ask(Command::Identity).await
    }

    /// Runs `op` on the purse inside the engine (so it survives the page that asked) and
    /// returns its answer. A locked wallet answers [`EngineError::Locked`].
    async fn ecash<T: Send + 'static>(
        &self,
        op: impl FnOnce(Purse) -> LocalBoxFuture<'static, Result<T, EcashError>> + Send + 'static,
    ) -> Result<T, EngineError> {
        let (reply, answer) = oneshot::channel();
        let job: EcashJob = Box::new(move |purse| {
            Box::pin(async move {
                let _ = reply.send(op(purse).await);
            })
        });
        self.tx
            .unbounded_send(Command::Ecash(job))
            .map_err(|_| EngineError::Stopped)?;
        match answer.await {
            Ok(result) => result.map_err(EngineError::from),
            // The job was dropped: the wallet is (or got) locked.
            Err(_) => Err(EngineError::Locked),
        }
    }

    /// Adds a mint by URL and returns what it says about itself.
    pub async fn add_mint(&self, url: &str) -> Result<MintView, EngineError> {
        let url = url.to_string();
        self.ecash(move |p| Box::pin(async move { p.add_mint(&url).await }))
            .await
    }

    /// Forgets a mint; refused while it holds a balance unless `force`.
    pub async fn remove_mint(&self, url: &str, force: bool) -> Result<(), EngineError> {
        let url = url.to_string();
        self.ecash(move |p| Box::pin(async move { p.remove_mint(&url, force).await }))
            .await
    }

    /// Every mint with info and balances.
    pub async fn mints(&self) -> Result<Vec<MintView>, EngineError> {
        self.ecash(|p| Box::pin(async move { p.mints().await }))
            .await
    }

    /// A Lightning invoice to receive `sats` as eCash at `mint`.
    pub async fn invoice(&self, mint: &str, sats: u64) -> Result<InvoiceView, EngineError> {
        let mint = mint.to_string();
        self.ecash(move |p| Box::pin(async move { p.invoice(&mint, sats).await }))
            .await
    }

    /// Waits until the invoice is paid, then mints; returns the sats minted. Checks every
    /// `every_ms` using `sleep`; ends with an error when the invoice expires unpaid.
    pub async fn await_invoice(
        &self,
        mint: &str,
        quote_id: &str,
        sleep: Sleep,
        every_ms: u32,
    ) -> Result<u64, EngineError> {
        let (mint, quote) = (mint.to_string(), quote_id.to_string());
        loop {
            let (m, q) = (mint.clone(), quote.clone());
            let step = self
                .ecash(move |p| Box::pin(async move { p.try_mint(&m, &q).await }))
                .await;
            match step {
                Ok(Some(sats)) => return Ok(sats),
                Ok(None) => {}
                // A dropped connection is worth another try; anything else is final.
                Err(EngineError::Ecash(EcashError::Unreachable(_))) => {}
                Err(e) => return Err(e),
            }
            sleep(every_ms).await;
        }
    }

    /// Reads an invoice and gets the mint's price for paying it.
    pub async fn quote_payment(
        &self,
        mint: &str,
        invoice: &str,
    ) -> Result<MeltPreview, EngineError> {
        let (mint, invoice) = (mint.to_string(), invoice.to_string());
        self.ecash(move |p| Box::pin(async move { p.quote_payment(&mint, &invoice).await }))
            .await
    }

    /// Pays a quoted invoice and follows it for up to `tries` checks `every_ms` apart; still
    /// unsettled after that is [`EcashError::PaymentPending`] (held, tracked under Pending).
    pub async fn pay(
        &self,
        mint: &str,
        quote_id: &str,
        sleep: Sleep,
        every_ms: u32,
        tries: u32,
    ) -> Result<Paid, EngineError> {
        let (m, q) = (mint.to_string(), quote_id.to_string());
        let first = self
            .ecash(move |p| Box::pin(async move { p.pay(&m, &q).await }))
            .await?;
        if let Some(paid) = first {
            return Ok(paid);
        }
        for _ in 0..tries {
            sleep(every_ms).await;
            let (m, q) = (mint.to_string(), quote_id.to_string());
            match self
                .ecash(move |p| Box::pin(async move { p.payment_outcome(&m, &q).await }))
                .await
            {
                Ok(Some(paid)) => return Ok(paid),
                Ok(None) | Err(EngineError::Ecash(EcashError::Unreachable(_))) => {}
                Err(e) => return Err(e),
            }
        }
        Err(EcashError::PaymentPending.into())
    }

    /// Makes a token to send.
    pub async fn send_token(
        &self,
        mint: &str,
        sats: u64,
        memo: Option<String>,
        offline: bool,
        lock: Option<Lock>,
    ) -> Result<SentToken, EngineError> {
        let mint = mint.to_string();
        self.ecash(move |p| Box::pin(async move { p.send(&mint, sats, memo, offline, lock).await }))
            .await
    }

    /// The public key others can lock tokens to (hex), when unlocked.
    pub async fn lock_pubkey(&self) -> Result<Option<String>, EngineError> {
        self.ecash(|p| Box::pin(async move { Ok(p.lock_pubkey()) }))
            .await
    }

    /// Decodes a token without redeeming it.
    pub async fn inspect_token(&self, token: &str) -> Result<TokenView, EngineError> {
        let token = token.to_string();
        self.ecash(move |p| Box::pin(async move { p.inspect(&token).await }))
            .await
    }

    /// Receives a token: redeemed now, or verified and kept for when its mint answers. A token
    /// from a mint the wallet does not use is refused with [`EcashError::NewMint`] unless
    /// `add_new_mint` (the user agreed to add it).
    pub async fn receive_token(
        &self,
        token: &str,
        add_new_mint: bool,
    ) -> Result<Received, EngineError> {
        let token = Zeroizing::new(token.to_string());
        self.ecash(move |p| Box::pin(async move { p.receive(&token, add_new_mint).await }))
            .await
    }

    /// Saved tokens that could not be redeemed for good, with the reason and the token.
    pub async fn failed_tokens(&self) -> Result<Vec<FailedToken>, EngineError> {
        self.ecash(|p| Box::pin(async move { p.failed_tokens().await }))
            .await
    }

    /// Removes one token from the "could not redeem" list.
    pub async fn dismiss_failed(&self, id: &str) -> Result<(), EngineError> {
        let id = id.to_string();
        self.ecash(move |p| Box::pin(async move { p.dismiss_failed(&id).await }))
            .await
    }

    /// Tokens received offline and not yet redeemed: (id, mint, sats).
    pub async fn saved_tokens(&self) -> Result<Vec<(String, String, u64)>, EngineError> {
        self.ecash(|p| Box::pin(async move { p.saved_tokens().await }))
            .await
    }

    /// Unfinished operations.
    pub async fn pending(&self) -> Result<Vec<PendingItem>, EngineError> {
        self.ecash(|p| {
            Box::pin(async move {
                // Claimed tokens leave the list (checked at most once a minute); an
                // unreachable mint just leaves it as is.
                let _ = p.check_sent_now_and_then().await;
                p.pending().await
            })
        })
        .await
    }

    /// Takes back an unclaimed sent token.
    pub async fn reclaim(&self, mint: &str, id: &str) -> Result<u64, EngineError> {
        let (mint, id) = (mint.to_string(), id.to_string());
        self.ecash(move |p| Box::pin(async move { p.reclaim(&mint, &id).await }))
            .await
    }

    /// Retries every interrupted operation now.
    pub async fn recover(&self) -> Result<crate::ecash::purse::Recovered, EngineError> {
        self.ecash(|p| Box::pin(async move { Ok(p.recover().await) }))
            .await
    }

    /// Restores eCash from the recovery words at every known mint (plus `mint`, if given).
    pub async fn restore(&self, mint: Option<String>) -> Result<u64, EngineError> {
        self.ecash(move |p| {
            Box::pin(async move {
                if let Some(url) = mint {
                    p.add_mint(&url).await?;
                }
                p.restore().await
            })
        })
        .await
    }

    /// Every operation, newest first.
    pub async fn history(&self) -> Result<Vec<HistoryItem>, EngineError> {
        self.ecash(|p| Box::pin(async move { p.history().await }))
            .await
    }
}

// One per engine, moved rarely: boxing the unlocked state would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Phase<S> {
    Starting,
    Unavailable(StoreError),
    NoWallet(S),
    Locked(S),
    Unlocked {
        vault: Vault<S>,
        keys: KeyHierarchy,
        nsec: Option<Zeroizing<[u8; 32]>>,
        purse: Purse,
    },
    /// Transient while a command owns the store.
    Busy,
}

struct Engine<S, R, C, K> {
    phase: Phase<S>,
    random: R,
    clock: C,
    kdf: K,
    started_at_ms: u64,
    subscribers: Vec<mpsc::UnboundedSender<Event>>,
    /// Spendable eCash, refreshed after every eCash job.
    balance: u64,
    revision: u64,
    /// A write since the last status changed what Home lists (history, pending, saved
    /// tokens), so the next finished job bumps `revision` even if the balance stayed.
    listed_changed: bool,
    /// See [`Status::waiting_on`].
    waiting_on: Vec<String>,
    /// Jobs started by the last command, for the run loop to drive.
    outbox: Vec<LocalBoxFuture<'static, JobDone>>,
    /// The journal of a freshly unlocked purse, for the run loop to serve.
    new_journal: Option<mpsc::UnboundedReceiver<JournalRequest>>,
    /// Callers of a lock that waits for money in motion: running jobs finish their current
    /// mint round-trip and their writes land before the keys go (see [`LOCK_GRACE_MS`]).
    lock_waiters: Vec<oneshot::Sender<()>>,
}

pub use flash_api::status::LOCK_GRACE_MS;

/// NOSTR keys imported earlier and since replaced or dropped.
async fn read_old_nsecs<S: Store>(
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
fn with_signing_keys(
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

fn identity_of(
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
    fn status(&self) -> Status {
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
            revision: self.revision,
            waiting_on: if unlocked {
                self.waiting_on.clone()
            } else {
                Vec::new()
            },
        }
    }

    fn broadcast(&mut self) {
        let event = Event::StatusChanged(self.status());
        self.subscribers
            .retain(|s| s.unbounded_send(event.clone()).is_ok());
    }

    async fn opened(&mut self, store: Result<S, StoreError>) {
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
    fn empty_store(&self) -> Result<S, EngineError> {
        match &self.phase {
            Phase::NoWallet(s) => Ok(s.clone()),
            Phase::Locked(_) | Phase::Unlocked { .. } => Err(VaultError::AlreadyExists.into()),
            Phase::Unavailable(e) => Err(e.clone().into()),
            Phase::Starting | Phase::Busy => Err(EngineError::Stopped),
        }
    }

    /// The store of a locked wallet, or `Ok(Err(identity))` when it is unlocked already.
    fn locked_store(&self) -> Result<Result<S, Identity>, EngineError> {
        match &self.phase {
            Phase::Locked(s) => Ok(Ok(s.clone())),
            Phase::Unlocked { keys, nsec, .. } => Ok(Err(identity_of(keys, nsec.as_ref())?)),
            Phase::NoWallet(_) => Err(VaultError::NoVault.into()),
            Phase::Unavailable(e) => Err(e.clone().into()),
            Phase::Starting | Phase::Busy => Err(EngineError::Stopped),
        }
    }

    /// Loads the keys from an opened vault and makes it the unlocked wallet.
    async fn enter(&mut self, vault: Vault<S>) -> Result<Identity, EngineError> {
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

    async fn setup(&mut self, phrase: &str, pass: &str) -> Result<Identity, EngineError> {
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

    async fn unlock(&mut self, pass: &str) -> Result<Identity, EngineError> {
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

    async fn import(&mut self, file: &[u8], pass: &str) -> Result<Identity, EngineError> {
        let store = self.empty_store()?;
        let vault = Vault::import_backup(store, file, pass, &self.kdf).await?;
        self.enter(vault).await
    }

    async fn unlock_passkey(&mut self, prf: &[u8]) -> Result<Identity, EngineError> {
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
    async fn set_nsec(&mut self, nsec: Option<&str>) -> Result<Identity, EngineError> {
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
    async fn recheck(&mut self) {
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

    fn lock(&mut self) {
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
                self.listed_changed = false;
                self.phase = Phase::Locked(vault.lock());
            }
        }
    }

    async fn handle(&mut self, cmd: Command) {
        let before = self.status();
        match cmd {
            Command::Status(reply) => {
                let _ = reply.send(self.status());
            }
            Command::Ecash(job) => {
                // Locked or locking: the job is dropped, its caller hears "unlock first".
                if let (Phase::Unlocked { purse, .. }, true) =
                    (&self.phase, self.lock_waiters.is_empty())
                {
                    let purse = purse.clone();
                    self.outbox.push(Box::pin(async move {
                        job(purse.clone()).await;
                        JobDone::of(&purse).await
                    }));
                }
            }
            Command::Subscribe(tx) => {
                // Greet new subscribers with the current status so they never start blank.
                if tx
                    .unbounded_send(Event::StatusChanged(self.status()))
                    .is_ok()
                {
                    self.subscribers.push(tx);
                }
            }
            Command::NewPhrase(words, reply) => {
                // Only where a wallet can be made: fresh words beside an existing wallet
                // (a page that guessed wrong) would read as that wallet's words.
                let result = self
                    .empty_store()
                    .and_then(|_| keys::generate(words, &self.random).map_err(EngineError::from))
                    .map(|m| Zeroizing::new(m.to_string()));
                let _ = reply.send(result);
            }
            Command::Setup {
                phrase,
                passphrase,
                reply,
            } => {
                let _ = reply.send(self.setup(&phrase, &passphrase).await);
            }
            Command::Unlock { passphrase, reply } => {
                let _ = reply.send(self.unlock(&passphrase).await);
            }
            Command::LockNow(reply) => {
                self.lock();
                self.recheck().await;
                for waiter in self.lock_waiters.drain(..) {
                    let _ = waiter.send(());
                }
                let _ = reply.send(());
            }
            Command::Lock(reply) => {
                if matches!(self.phase, Phase::Unlocked { .. }) {
                    // The run loop locks once the running jobs are done (or the grace ends).
                    self.lock_waiters.push(reply);
                } else {
                    let _ = reply.send(());
                }
            }
            Command::ExportBackup(reply) => {
                let result = match &self.phase {
                    Phase::Unlocked { vault, .. } => vault
                        .export_backup(&self.clock)
                        .await
                        .map_err(EngineError::from),
                    _ => Err(EngineError::Locked),
                };
                let _ = reply.send(result);
            }
            Command::ImportBackup {
                file,
                passphrase,
                reply,
            } => {
                let _ = reply.send(self.import(&file, &passphrase).await);
            }
            Command::BackupSaved(reply) => {
                let result = match &self.phase {
                    Phase::Unlocked { vault, .. } => vault
                        .backup_saved(self.clock.now_ms())
                        .await
                        .map_err(EngineError::from),
                    _ => Err(EngineError::Locked),
                };
                let _ = reply.send(result);
            }
            Command::LastBackup(reply) => {
                let result = match &self.phase {
                    Phase::Unlocked { vault, .. } => {
                        vault.last_backup_ms().await.map_err(EngineError::from)
                    }
                    _ => Err(EngineError::Locked),
                };
                let _ = reply.send(result);
            }
            Command::SetNsec(nsec, reply) => {
                let _ = reply.send(self.set_nsec(nsec.as_deref().map(String::as_str)).await);
            }
            Command::ChangePassphrase {
                current,
                new,
                keep_passkey,
                reply,
            } => {
                let result = match (&self.phase, passphrase::assess(&new)) {
                    (_, (_, Some(w))) => Err(EngineError::WeakPassphrase(w)),
                    (Phase::Unlocked { vault, .. }, _) => {
                        let changed = vault
                            .change_passphrase(
                                &current,
                                &new,
                                KdfParams::DEFAULT,
                                &self.clock,
                                &self.random,
                                &self.kdf,
                            )
                            .await;
                        match changed {
                            Ok(()) if !keep_passkey => {
                                vault.remove_passkey().await.map_err(EngineError::from)
                            }
                            other => other.map_err(EngineError::from),
                        }
                    }
                    _ => Err(EngineError::Locked),
                };
                let _ = reply.send(result);
            }
            Command::Passkey(reply) => {
                let result = match &self.phase {
                    Phase::Locked(s) | Phase::NoWallet(s) => {
                        Vault::passkey_request(s).await.map_err(EngineError::from)
                    }
                    Phase::Unlocked { vault, .. } => Vault::passkey_request(vault.store())
                        .await
                        .map_err(EngineError::from),
                    _ => Ok(None),
                };
                let _ = reply.send(result.or_else(|e| match e {
                    EngineError::Vault(VaultError::NoVault) => Ok(None),
                    other => Err(other),
                }));
            }
            Command::AddPasskey {
                passphrase,
                credential_id,
                prf_salt,
                prf_output,
                reply,
            } => {
                let result = match &self.phase {
                    Phase::Unlocked { vault, .. } => {
                        match vault
                            .check_passphrase(&passphrase, &self.clock, &self.kdf)
                            .await
                        {
                            Ok(()) => vault
                                .add_passkey(credential_id, prf_salt, &prf_output, &self.random)
                                .await
                                .map_err(EngineError::from),
                            Err(e) => Err(e.into()),
                        }
                    }
                    _ => Err(EngineError::Locked),
                };
                let _ = reply.send(result);
            }
            Command::RemovePasskey(reply) => {
                let result = match &self.phase {
                    Phase::Unlocked { vault, .. } => {
                        vault.remove_passkey().await.map_err(EngineError::from)
                    }
                    _ => Err(EngineError::Locked),
                };
                let _ = reply.send(result);
            }
            Command::UnlockWithPasskey { prf_output, reply } => {
                let _ = reply.send(self.unlock_passkey(&prf_output).await);
            }
            Command::Identity(reply) => {
                let result = match &self.phase {
                    Phase::Unlocked { keys, nsec, .. } => identity_of(keys, nsec.as_ref()),
                    _ => Err(EngineError::Locked),
                };
                let _ = reply.send(result);
            }
        }
        if self.status() != before {
            self.broadcast();
        }
    }
}

impl<S: Store + Clone, R: Random, C: Clock, K: Kdf> Engine<S, R, C, K> {
    /// Seals a batch of eCash changes and writes it in one transaction.
    async fn persist(&mut self, (changes, reply): JournalRequest) {
        let result = match &self.phase {
            Phase::Unlocked { vault, .. } => {
                crate::ecash::journal::write_through(vault, &changes, &self.random).await
            }
            _ => Err(crate::ecash::JournalError::Closed),
        };
        if result.is_ok() && changes.iter().any(|(k, _)| crate::ecash::db::is_listed(k)) {
            self.listed_changed = true;
        }
        let _ = reply.send(result);
    }

    /// Finishes a lock that was waiting for running jobs.
    fn finish_lock(&mut self) {
        self.lock();
        for waiter in self.lock_waiters.drain(..) {
            let _ = waiter.send(());
        }
        self.broadcast();
    }

    fn job_done(&mut self, done: JobDone) {
        if !matches!(self.phase, Phase::Unlocked { .. }) {
            return;
        }
        let mut changed = done.waiting_on != self.waiting_on;
        self.waiting_on = done.waiting_on;
        if let Some(b) = done.balance {
            if b != self.balance {
                self.balance = b;
                changed = true;
            }
        }
        // A recovery can finish a payment's history line, or an offline receive add a saved
        // token, without moving the balance: what Home lists is stale all the same.
        if changed || std::mem::take(&mut self.listed_changed) {
            self.revision += 1;
            changed = true;
        }
        if changed {
            self.broadcast();
        }
    }
}

/// What a finished eCash job leaves for the status.
struct JobDone {
    balance: Option<u64>,
    waiting_on: Vec<String>,
}

impl JobDone {
    async fn of(purse: &Purse) -> Self {
        Self {
            balance: purse.balance().await.ok(),
            waiting_on: purse.waiting_on(),
        }
    }
}

enum Wake {
    Command(Option<Command>),
    Journal(Option<JournalRequest>),
    JobDone(JobDone),
    /// The lock's grace period ended with jobs still running.
    GraceOver,
}

/// Creates the engine over its ports. `open_store` resolves to the wallet's storage (or why
/// there is none); commands sent meanwhile wait. `sleep` is the timer (the lock's grace
/// period). Returns the handle and the engine's task, which the caller runs on its executor
/// (`spawn_local` in the browser, a local pool in tests). The task ends when every handle is
/// dropped.
pub fn spawn_engine<S, R, C, K>(
    open_store: impl Future<Output = Result<S, StoreError>> + 'static,
    random: R,
    clock: C,
    kdf: K,
    sleep: Sleep,
) -> (WalletHandle, impl Future<Output = ()>)
where
    S: Store + Clone + 'static,
    R: Random + 'static,
    C: Clock + 'static,
    K: Kdf + 'static,
{
    let (tx, mut rx) = mpsc::unbounded::<Command>();
    let started_at_ms = clock.now_ms();
    let mut engine = Engine {
        phase: Phase::Starting,
        random,
        clock,
        kdf,
        started_at_ms,
        subscribers: Vec::new(),
        balance: 0,
        revision: 0,
        listed_changed: false,
        outbox: Vec::new(),
        new_journal: None,
        lock_waiters: Vec::new(),
        waiting_on: Vec::new(),
    };
    let task = async move {
        engine.opened(open_store.await).await;
        // One loop drives commands, the eCash journal and running eCash jobs, so jobs can
        // wait on the network (and on their own durable writes) while commands go on.
        let mut running: FuturesUnordered<LocalBoxFuture<'static, JobDone>> =
            FuturesUnordered::new();
        let mut journal: Option<mpsc::UnboundedReceiver<JournalRequest>> = None;
        let mut grace: Option<LocalBoxFuture<'static, ()>> = None;
        loop {
            let wake = {
                let command = rx.next();
                let grace_over = async {
                    match grace.as_mut() {
                        Some(g) => g.await,
                        None => std::future::pending().await,
                    }
                };
                let written = async {
                    match journal.as_mut() {
                        Some(j) => j.next().await,
                        None => std::future::pending().await,
                    }
                };
                let done = async {
                    match running.next().await {
                        Some(balance) => balance,
                        None => std::future::pending().await,
                    }
                };
                futures::pin_mut!(command, written, done, grace_over);
                // Journal writes first: a job waiting on its own durable write is never held up.
                match select(written, select(done, select(command, grace_over))).await {
                    Either::Left((j, _)) => Wake::Journal(j),
                    Either::Right((Either::Left((b, _)), _)) => Wake::JobDone(b),
                    Either::Right((Either::Right((Either::Left((c, _)), _)), _)) => {
                        Wake::Command(c)
                    }
                    Either::Right((Either::Right((Either::Right(_), _)), _)) => Wake::GraceOver,
                }
            };
            match wake {
                Wake::Command(None) => break,
                Wake::Command(Some(cmd)) => engine.handle(cmd).await,
                Wake::Journal(Some(request)) => engine.persist(request).await,
                Wake::Journal(None) => journal = None,
                Wake::JobDone(balance) => engine.job_done(balance),
                Wake::GraceOver => engine.finish_lock(),
            }
            // A lock waits while money is moving: the running jobs finish their round-trip
            // with the mint and their writes land, then the keys go.
            if !engine.lock_waiters.is_empty() {
                if running.is_empty() && engine.outbox.is_empty() {
                    engine.finish_lock();
                } else if grace.is_none() {
                    grace = Some(sleep(LOCK_GRACE_MS));
                }
            }
            if engine.lock_waiters.is_empty() {
                grace = None;
            }
            if !matches!(engine.phase, Phase::Unlocked { .. }) {
                // Locked: running jobs stop where they are (their sagas are durable and are
                // resumed at the next unlock) and nothing more is written.
                running = FuturesUnordered::new();
                journal = None;
                engine.outbox.clear();
            }
            if let Some(j) = engine.new_journal.take() {
                journal = Some(j);
            }
            running.extend(engine.outbox.drain(..));
        }
    };
    (WalletHandle { tx }, task)
}

pub mod serve;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
