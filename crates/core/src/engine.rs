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
    /// Tells every subscriber (what a watcher found: see `watch`).
    Announce(Event),
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
    /// What writes since the last finished job changed on screen: the job's end announces
    /// it (a recovery can finish a history line, an offline receive save a token, without
    /// moving the balance).
    touched: crate::ecash::db::Touched,
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

/// What a finished eCash job leaves for the status.
struct JobDone {
    balance: Option<u64>,
    waiting_on: Vec<String>,
}

enum Wake {
    Command(Option<Command>),
    Journal(Option<JournalRequest>),
    JobDone(JobDone),
    /// The lock's grace period ended with jobs still running.
    GraceOver,
}

mod commands;
mod handle;
mod run;
mod session;
pub mod watch;

pub use run::spawn_engine;

pub mod serve;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
