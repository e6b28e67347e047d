//! Where the eCash database's changes go to become durable. The database keeps its working
//! copy in memory and awaits [`Journal::commit`] before it answers, so cdk never talks to a mint
//! about state that is not yet on disk. In the app the journal is a channel to the engine, which
//! seals each record with the vault and writes the batch in one IndexedDB transaction; native
//! tests use [`MemoryJournal`], whose contents outlive a dropped wallet (a simulated crash).

use std::collections::BTreeMap;
use std::sync::Mutex;

use futures::channel::{mpsc, oneshot};
use thiserror::Error;

/// One durable change: a record's logical key and its new bytes, or `None` to delete it.
pub type Change = (String, Option<Vec<u8>>);

/// Why a batch was not made durable. Nothing of the batch was applied.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum JournalError {
    /// The wallet was locked or the engine stopped while the operation ran.
    #[error("the wallet was locked before this could be saved; unlock and try again")]
    Closed,
    /// The storage refused the write.
    #[error("{0}")]
    Write(String),
}

/// The persistence port of the eCash database: apply a batch atomically, resolve once durable.
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
pub trait Journal: Send + Sync + std::fmt::Debug {
    /// Applies every change or none.
    async fn commit(&self, changes: Vec<Change>) -> Result<(), JournalError>;
}

/// A journal in memory for tests and tools. Clones share nothing; keep an `Arc` to share.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    records: Mutex<BTreeMap<String, Vec<u8>>>,
    fail: Mutex<bool>,
    /// Commits still allowed before every later one fails (a tab that dies after N writes).
    allowed: Mutex<Option<usize>>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every record, as the database would find them after a restart.
    pub fn records(&self) -> Vec<Vec<u8>> {
        self.records
            .lock()
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Lets the next `n` commits through and fails every one after them, until
    /// [`MemoryJournal::fail_commits`]`(false)`: what survives a tab killed after its `n`-th
    /// durable write.
    pub fn fail_after(&self, n: usize) {
        if let Ok(mut a) = self.allowed.lock() {
            *a = Some(n);
        }
    }

    /// Makes later commits fail (full disk) until turned off.
    pub fn fail_commits(&self, fail: bool) {
        if let Ok(mut f) = self.fail.lock() {
            *f = fail;
        }
        if let Ok(mut a) = self.allowed.lock() {
            *a = None;
        }
    }
}

#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
impl Journal for MemoryJournal {
    async fn commit(&self, changes: Vec<Change>) -> Result<(), JournalError> {
        if self.fail.lock().map(|f| *f).unwrap_or(true) {
            return Err(JournalError::Write("the disk is full".into()));
        }
        if let Ok(mut allowed) = self.allowed.lock() {
            match allowed.as_mut() {
                Some(0) => return Err(JournalError::Write("the tab was closed".into())),
                Some(n) => *n -= 1,
                None => {}
            }
        }
        let mut records = self
            .records
            .lock()
            .map_err(|_| JournalError::Write("poisoned".into()))?;
        for (key, value) in changes {
            match value {
                Some(v) => records.insert(key, v),
                None => records.remove(&key),
            };
        }
        Ok(())
    }
}

/// A batch waiting for the engine to write it, with the answer channel.
pub type JournalRequest = (Vec<Change>, oneshot::Sender<Result<(), JournalError>>);

/// The app's journal: hands batches to the engine task, which owns the vault and the store.
#[derive(Debug, Clone)]
pub struct ChannelJournal(mpsc::UnboundedSender<JournalRequest>);

impl ChannelJournal {
    /// A journal and the receiving end the engine serves.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<JournalRequest>) {
        let (tx, rx) = mpsc::unbounded();
        (Self(tx), rx)
    }
}

#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
impl Journal for ChannelJournal {
    async fn commit(&self, changes: Vec<Change>) -> Result<(), JournalError> {
        let (reply, answer) = oneshot::channel();
        self.0
            .unbounded_send((changes, reply))
            .map_err(|_| JournalError::Closed)?;
        answer.await.map_err(|_| JournalError::Closed)?
    }
}

/// Makes a batch of eCash changes durable in `vault`: each record sealed under its logical
/// key in the `ecash` table, all in one transaction. The engine serves [`ChannelJournal`]
/// requests with this.
pub async fn write_through<S: crate::store::Store>(
    vault: &crate::vault::Vault<S>,
    changes: &[Change],
    rng: &impl crate::ports::Random,
) -> Result<(), JournalError> {
    use crate::store::ECASH;
    let ops: Result<Vec<_>, _> = changes
        .iter()
        .map(|(key, value)| match value {
            Some(bytes) => vault.seal_op(ECASH, key, bytes, rng),
            None => Ok(vault.delete_op(ECASH, key)),
        })
        .collect();
    let ops = ops.map_err(|e| JournalError::Write(e.to_string()))?;
    vault
        .write(ops)
        .await
        .map_err(|e| JournalError::Write(e.to_string()))
}
