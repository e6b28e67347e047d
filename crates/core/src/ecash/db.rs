//! cdk's wallet database over Flash's own storage. cdk ships no IndexedDB store, so this one
//! keeps the working set in memory (a wallet holds hundreds of proofs, not millions) and makes
//! every change durable through a [`Journal`] before it returns: one logical record per proof,
//! quote, keyset, saga…, each sealed by the vault as its own IndexedDB row. Every method is
//! one atomic batch; a failed write changes neither the disk nor the working set.
//!
//! It passes cdk-common's wallet-database conformance suite natively and in Chromium.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bitcoin::bip32::DerivationPath;
use cdk_common::database::{self, validate_kvstore_params, Error, WalletDatabase};
use cdk_common::mint_url::MintUrl;
use cdk_common::nuts::{
    CurrencyUnit, Id, KeySet, KeySetInfo, Keys, MintInfo, PublicKey, SpendingConditions, State,
};
use cdk_common::wallet::{
    self, MintQuote, P2PKSigningKey, ProofInfo, Transaction, TransactionDirection, TransactionId,
    WalletSaga,
};
use futures::lock::Mutex;
use serde::{Deserialize, Serialize};

use super::journal::{Change, Journal};

/// One stored record. The tag keeps old records readable when variants are added. No `Debug`
/// that prints contents: proofs and keys are bearer secrets (see the manual impl below).
/// Read by [`Record::read`], not a derived `Deserialize` (see there why).
#[derive(Clone, Serialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
enum Record {
    Mint {
        url: MintUrl,
        info: Option<MintInfo>,
    },
    Keyset {
        mint_url: MintUrl,
        info: KeySetInfo,
    },
    Keys {
        id: Id,
        keys: Keys,
    },
    MintQuote(MintQuote),
    MeltQuote(wallet::MeltQuote),
    Proof(ProofInfo),
    Transaction(Transaction),
    KeysetCounter {
        id: Id,
        counter: u32,
    },
    DerivationCounter {
        namespace: String,
        counter: u32,
    },
    Saga(WalletSaga),
    Kv {
        primary: String,
        secondary: String,
        key: String,
        value: Vec<u8>,
    },
    P2pk(P2PKSigningKey),
}

impl Record {
    /// Reads a record as written: `{"t": kind, "v": value}`. By hand because serde's derive
    /// for an adjacently tagged enum also buffers every variant through its generic
    /// `Content` form (for input where "v" comes before "t"), which made this reader the
    /// biggest function in the engine module (~94 KB of wasm). Stored records always start
    /// with "t", but the reader does not rely on it.
    fn read(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        use serde::de::Error as _;
        // Bytes, as cdk's HTTP client reads its answers: the same deserializers serve both.
        fn value<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, serde_json::Error> {
            serde_json::from_slice(text.as_bytes())
        }
        #[derive(Deserialize)]
        struct Stored<'a> {
            #[serde(borrow)]
            t: std::borrow::Cow<'a, str>,
            #[serde(borrow)]
            v: &'a serde_json::value::RawValue,
        }
        #[derive(Deserialize)]
        struct MintV {
            url: MintUrl,
            info: Option<MintInfo>,
        }
        #[derive(Deserialize)]
        struct KeysetV {
            mint_url: MintUrl,
            info: KeySetInfo,
        }
        #[derive(Deserialize)]
        struct KeysV {
            id: Id,
            keys: Keys,
        }
        #[derive(Deserialize)]
        struct KeysetCounterV {
            id: Id,
            counter: u32,
        }
        #[derive(Deserialize)]
        struct DerivationCounterV {
            namespace: String,
            counter: u32,
        }
        #[derive(Deserialize)]
        struct KvV {
            primary: String,
            secondary: String,
            key: String,
            value: Vec<u8>,
        }
        let text = std::str::from_utf8(bytes).map_err(serde_json::Error::custom)?;
        let Stored { t, v } = value(text)?;
        let v = v.get();
        Ok(match t.as_ref() {
            "mint" => {
                let MintV { url, info } = value(v)?;
                Record::Mint { url, info }
            }
            "keyset" => {
                let KeysetV { mint_url, info } = value(v)?;
                Record::Keyset { mint_url, info }
            }
            "keys" => {
                let KeysV { id, keys } = value(v)?;
                Record::Keys { id, keys }
            }
            "mint_quote" => Record::MintQuote(value(v)?),
            "melt_quote" => Record::MeltQuote(value(v)?),
            "proof" => Record::Proof(value(v)?),
            "transaction" => Record::Transaction(value(v)?),
            "keyset_counter" => {
                let KeysetCounterV { id, counter } = value(v)?;
                Record::KeysetCounter { id, counter }
            }
            "derivation_counter" => {
                let DerivationCounterV { namespace, counter } = value(v)?;
                Record::DerivationCounter { namespace, counter }
            }
            "saga" => Record::Saga(value(v)?),
            "kv" => {
                let KvV {
                    primary,
                    secondary,
                    key,
                    value: bytes,
                } = value(v)?;
                Record::Kv {
                    primary,
                    secondary,
                    key,
                    value: bytes,
                }
            }
            "p2pk" => Record::P2pk(value(v)?),
            other => {
                return Err(serde_json::Error::custom(format!(
                    "unknown record kind {other:?}"
                )))
            }
        })
    }

    fn key(&self) -> String {
        match self {
            Record::Mint { url, .. } => key::mint(url),
            Record::Keyset { info, .. } => key::keyset(&info.id),
            Record::Keys { id, .. } => key::keys(id),
            Record::MintQuote(q) => key::mint_quote(&q.id),
            Record::MeltQuote(q) => key::melt_quote(&q.id),
            Record::Proof(p) => key::proof(&p.y),
            Record::Transaction(t) => key::transaction(&t.id()),
            Record::KeysetCounter { id, .. } => key::keyset_counter(id),
            Record::DerivationCounter { namespace, .. } => key::derivation_counter(namespace),
            Record::Saga(s) => key::saga(&s.id),
            Record::Kv {
                primary,
                secondary,
                key,
                ..
            } => key::kv(primary, secondary, key),
            Record::P2pk(k) => key::p2pk(&k.pubkey),
        }
    }
}

/// Which lists a write touched, so only the views showing them fetch again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Touched {
    /// History lines (transactions).
    pub history: bool,
    /// Operations in flight, coins reserved by them, saved and failed tokens.
    pub pending: bool,
    /// Mints and what each holds.
    pub mints: bool,
}

impl Touched {
    /// Adds what a change to the record stored under `key` touches. Keys, quotes and counters
    /// touch no list; a keyset does (its input fee is shown with its mint).
    pub fn add(&mut self, key: &str) {
        let kind = key.split(':').next().unwrap_or_default();
        match kind {
            "tx" => self.history = true,
            "saga" | "kv" => self.pending = true,
            "proof" => {
                self.pending = true;
                self.mints = true;
            }
            "mint" | "keyset" => self.mints = true,
            _ => {}
        }
    }

    /// Whether anything is touched.
    pub fn any(&self) -> bool {
        self.history || self.pending || self.mints
    }
}

/// Logical record keys: a kind prefix and the entity's own id.
mod key {
    use super::*;
    pub fn mint(u: &MintUrl) -> String {
        format!("mint:{u}")
    }
    pub fn keyset(id: &Id) -> String {
        format!("keyset:{id}")
    }
    pub fn keys(id: &Id) -> String {
        format!("keys:{id}")
    }
    pub fn mint_quote(id: &str) -> String {
        format!("mint_quote:{id}")
    }
    pub fn melt_quote(id: &str) -> String {
        format!("melt_quote:{id}")
    }
    pub fn proof(y: &PublicKey) -> String {
        format!("proof:{}", y.to_hex())
    }
    pub fn transaction(id: &TransactionId) -> String {
        format!("tx:{id}")
    }
    pub fn keyset_counter(id: &Id) -> String {
        format!("keyset_counter:{id}")
    }
    pub fn derivation_counter(ns: &str) -> String {
        format!("derivation_counter:{ns}")
    }
    pub fn saga(id: &uuid::Uuid) -> String {
        format!("saga:{id}")
    }
    pub fn kv(p: &str, s: &str, k: &str) -> String {
        // The kv alphabet has no '/', so the parts cannot run into each other.
        format!("kv:{p}/{s}/{k}")
    }
    pub fn p2pk(pk: &PublicKey) -> String {
        format!("p2pk:{}", pk.to_hex())
    }
}

/// A change computed against the working set, applied to it only once durable.
enum Edit {
    Put(Box<Record>),
    Delete(String),
}

impl Edit {
    fn put(r: Record) -> Self {
        Edit::Put(Box::new(r))
    }
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only the logical key: never a proof secret, a P2PK key or a saved token.
        write!(f, "Record({})", self.key())
    }
}

/// The working set: every record, indexed by its logical key.
#[derive(Default)]
struct Tables {
    mints: BTreeMap<String, (MintUrl, Option<MintInfo>)>,
    keysets: BTreeMap<String, (MintUrl, KeySetInfo)>,
    keys: BTreeMap<String, Keys>,
    mint_quotes: BTreeMap<String, MintQuote>,
    melt_quotes: BTreeMap<String, wallet::MeltQuote>,
    proofs: BTreeMap<String, ProofInfo>,
    transactions: BTreeMap<String, Transaction>,
    counters: BTreeMap<String, u32>,
    sagas: BTreeMap<String, WalletSaga>,
    kv: BTreeMap<String, Vec<u8>>,
    p2pk: BTreeMap<String, P2PKSigningKey>,
}

impl std::fmt::Debug for Tables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Counts only: the tables hold bearer secrets (proofs, keys, tokens).
        f.debug_struct("Tables")
            .field("mints", &self.mints.len())
            .field("proofs", &self.proofs.len())
            .field("sagas", &self.sagas.len())
            .finish_non_exhaustive()
    }
}

impl Tables {
    fn insert(&mut self, record: Record) {
        let k = record.key();
        match record {
            Record::Mint { url, info } => {
                self.mints.insert(k, (url, info));
            }
            Record::Keyset { mint_url, info } => {
                self.keysets.insert(k, (mint_url, info));
            }
            Record::Keys { keys, .. } => {
                self.keys.insert(k, keys);
            }
            Record::MintQuote(q) => {
                self.mint_quotes.insert(k, q);
            }
            Record::MeltQuote(q) => {
                self.melt_quotes.insert(k, q);
            }
            Record::Proof(p) => {
                self.proofs.insert(k, p);
            }
            Record::Transaction(t) => {
                self.transactions.insert(k, t);
            }
            Record::KeysetCounter { counter, .. } | Record::DerivationCounter { counter, .. } => {
                self.counters.insert(k, counter);
            }
            Record::Saga(s) => {
                self.sagas.insert(k, s);
            }
            Record::Kv { value, .. } => {
                self.kv.insert(k, value);
            }
            Record::P2pk(p) => {
                self.p2pk.insert(k, p);
            }
        }
    }

    fn contains(&self, k: &str) -> bool {
        self.mints.contains_key(k)
            || self.keysets.contains_key(k)
            || self.keys.contains_key(k)
            || self.mint_quotes.contains_key(k)
            || self.melt_quotes.contains_key(k)
            || self.proofs.contains_key(k)
            || self.transactions.contains_key(k)
            || self.counters.contains_key(k)
            || self.sagas.contains_key(k)
            || self.kv.contains_key(k)
            || self.p2pk.contains_key(k)
    }

    fn remove(&mut self, k: &str) {
        self.mints.remove(k);
        self.keysets.remove(k);
        self.keys.remove(k);
        self.mint_quotes.remove(k);
        self.melt_quotes.remove(k);
        self.proofs.remove(k);
        self.transactions.remove(k);
        self.counters.remove(k);
        self.sagas.remove(k);
        self.kv.remove(k);
        self.p2pk.remove(k);
    }
}

/// Why stored bytes could not be loaded: the vault authenticated them, so this is a bug or a
/// newer app's format, never silent corruption.
#[derive(Debug, thiserror::Error)]
#[error("a saved eCash record could not be read ({0}); update Flash, your data is kept")]
pub struct LoadError(String);

/// cdk's wallet database for Flash. Cheap to clone (an `Arc` inside); all clones share the
/// working set and the journal.
#[derive(Debug, Clone)]
pub struct EcashDb {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tables: Mutex<Tables>,
    journal: Arc<dyn Journal>,
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

impl EcashDb {
    /// The NUT-13 counter of `keyset_id` (0 when unused).
    pub async fn keyset_counter(&self, keyset_id: &Id) -> u32 {
        self.read(|t| {
            t.counters
                .get(&key::keyset_counter(keyset_id))
                .copied()
                .unwrap_or(0)
        })
        .await
    }

    /// Sets the NUT-13 counter of `keyset_id`. Only for repairing what cdk's restore does to
    /// it (it adds the highest index found instead of setting it, see `Purse::restore`).
    pub async fn set_keyset_counter(&self, keyset_id: &Id, counter: u32) -> Result<(), Error> {
        self.change(|_| {
            let record = Record::KeysetCounter {
                id: *keyset_id,
                counter,
            };
            Ok(((), vec![Edit::put(record)]))
        })
        .await
    }
    /// A database holding `records` (as written by earlier commits) that persists to `journal`.
    pub fn load(
        records: impl IntoIterator<Item = impl AsRef<[u8]>>,
        journal: Arc<dyn Journal>,
    ) -> Result<Self, LoadError> {
        let mut tables = Tables::default();
        for bytes in records {
            let record = Record::read(bytes.as_ref()).map_err(|e| LoadError(e.to_string()))?;
            tables.insert(record);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                tables: Mutex::new(tables),
                journal,
            }),
        })
    }

    /// An empty database over `journal`.
    pub fn empty(journal: Arc<dyn Journal>) -> Self {
        Self {
            inner: Arc::new(Inner {
                tables: Mutex::new(Tables::default()),
                journal,
            }),
        }
    }

    async fn read<R>(&self, f: impl FnOnce(&Tables) -> R) -> R {
        let tables = self.inner.tables.lock().await;
        f(&tables)
    }

    /// Computes edits against the working set, makes them durable, then applies them. The lock
    /// is held across the write so no other change can slip in between check and apply.
    async fn change<R>(
        &self,
        f: impl FnOnce(&Tables) -> Result<(R, Vec<Edit>), Error>,
    ) -> Result<R, Error> {
        let mut tables = self.inner.tables.lock().await;
        let (result, mut edits) = f(&tables)?;
        // Deleting what is not there changes nothing: no write, and no "something changed"
        // for the status (cdk's NUT-07 check deletes every spent Y it is told of, each time).
        edits.retain(|e| match e {
            Edit::Delete(k) => tables.contains(k),
            Edit::Put(_) => true,
        });
        if edits.is_empty() {
            return Ok(result);
        }
        let mut changes: Vec<Change> = Vec::with_capacity(edits.len());
        for edit in &edits {
            changes.push(match edit {
                Edit::Put(r) => (r.key(), Some(serde_json::to_vec(&**r).map_err(internal)?)),
                Edit::Delete(k) => (k.clone(), None),
            });
        }
        self.inner
            .journal
            .commit(changes)
            .await
            .map_err(|e| Error::Database(Box::new(e)))?;
        for edit in edits {
            match edit {
                Edit::Put(r) => tables.insert(*r),
                Edit::Delete(k) => tables.remove(&k),
            }
        }
        Ok(result)
    }
}

/// Optimistic-locking insert or update shared by mint and melt quotes: a new quote is stored
/// as given; an update must carry the stored version and bumps it.
fn versioned(stored: Option<u32>, given: u32) -> Result<u32, Error> {
    match stored {
        None => Ok(given),
        Some(v) if v == given => Ok(given.wrapping_add(1)),
        Some(_) => Err(Error::ConcurrentUpdate),
    }
}

/// Mint and melt quotes are reserved by one operation at a time the same way.
trait Reservable: Clone {
    fn used_by(&mut self) -> &mut Option<String>;
    fn record(self) -> Record;
}

impl Reservable for MintQuote {
    fn used_by(&mut self) -> &mut Option<String> {
        &mut self.used_by_operation
    }
    fn record(self) -> Record {
        Record::MintQuote(self)
    }
}

impl Reservable for wallet::MeltQuote {
    fn used_by(&mut self) -> &mut Option<String> {
        &mut self.used_by_operation
    }
    fn record(self) -> Record {
        Record::MeltQuote(self)
    }
}

/// Marks quote `k` as used by `operation`, unless another operation holds it.
fn reserve<Q: Reservable>(
    quotes: &BTreeMap<String, Q>,
    k: &str,
    operation: &uuid::Uuid,
) -> Result<((), Vec<Edit>), Error> {
    let mut q = quotes.get(k).cloned().ok_or(Error::UnknownQuote)?;
    if q.used_by().is_some() {
        return Err(Error::QuoteAlreadyInUse);
    }
    *q.used_by() = Some(operation.to_string());
    Ok(((), vec![Edit::put(q.record())]))
}

/// Frees every quote `operation` holds.
fn release<Q: Reservable>(
    quotes: &BTreeMap<String, Q>,
    operation: &uuid::Uuid,
) -> Result<((), Vec<Edit>), Error> {
    let op = operation.to_string();
    let edits = quotes
        .values()
        .filter_map(|q| {
            let mut q = q.clone();
            (q.used_by().as_deref() == Some(op.as_str())).then(|| {
                *q.used_by() = None;
                Edit::put(q.record())
            })
        })
        .collect();
    Ok(((), edits))
}

type Db = dyn WalletDatabase<Error>;
const _: fn(&EcashDb) -> &Db = |d| d;

#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
impl database::WalletDatabase<Error> for EcashDb {
    async fn get_mint(&self, mint_url: MintUrl) -> Result<Option<MintInfo>, Error> {
        Ok(self
            .read(|t| t.mints.get(&key::mint(&mint_url)).and_then(|m| m.1.clone()))
            .await)
    }

    async fn get_mints(&self) -> Result<HashMap<MintUrl, Option<MintInfo>>, Error> {
        Ok(self
            .read(|t| {
                t.mints
                    .values()
                    .map(|(u, i)| (u.clone(), i.clone()))
                    .collect()
            })
            .await)
    }

    async fn get_mint_keysets(&self, mint_url: MintUrl) -> Result<Option<Vec<KeySetInfo>>, Error> {
        let sets: Vec<KeySetInfo> = self
            .read(|t| {
                t.keysets
                    .values()
                    .filter(|(u, _)| *u == mint_url)
                    .map(|(_, k)| k.clone())
                    .collect()
            })
            .await;
        Ok((!sets.is_empty()).then_some(sets))
    }

    async fn get_keyset_by_id(&self, keyset_id: &Id) -> Result<Option<KeySetInfo>, Error> {
        Ok(self
            .read(|t| t.keysets.get(&key::keyset(keyset_id)).map(|k| k.1.clone()))
            .await)
    }

    async fn get_mint_quote(&self, quote_id: &str) -> Result<Option<MintQuote>, Error> {
        Ok(self
            .read(|t| t.mint_quotes.get(&key::mint_quote(quote_id)).cloned())
            .await)
    }

    async fn get_mint_quotes(&self) -> Result<Vec<MintQuote>, Error> {
        Ok(self
            .read(|t| t.mint_quotes.values().cloned().collect())
            .await)
    }

    async fn get_unissued_mint_quotes(&self) -> Result<Vec<MintQuote>, Error> {
        Ok(self
            .read(|t| {
                t.mint_quotes
                    .values()
                    .filter(|q| {
                        q.amount_issued == cdk_common::Amount::ZERO
                            || q.payment_method == cdk_common::PaymentMethod::BOLT12
                    })
                    .cloned()
                    .collect()
            })
            .await)
    }

    async fn get_melt_quote(&self, quote_id: &str) -> Result<Option<wallet::MeltQuote>, Error> {
        Ok(self
            .read(|t| t.melt_quotes.get(&key::melt_quote(quote_id)).cloned())
            .await)
    }

    async fn get_melt_quotes(&self) -> Result<Vec<wallet::MeltQuote>, Error> {
        Ok(self
            .read(|t| t.melt_quotes.values().cloned().collect())
            .await)
    }

    async fn get_keys(&self, id: &Id) -> Result<Option<Keys>, Error> {
        Ok(self.read(|t| t.keys.get(&key::keys(id)).cloned()).await)
    }

    async fn get_proofs(
        &self,
        mint_url: Option<MintUrl>,
        unit: Option<CurrencyUnit>,
        state: Option<Vec<State>>,
        spending_conditions: Option<Vec<SpendingConditions>>,
    ) -> Result<Vec<ProofInfo>, Error> {
        Ok(self
            .read(|t| {
                t.proofs
                    .values()
                    .filter(|p| {
                        p.matches_conditions(&mint_url, &unit, &state, &spending_conditions)
                    })
                    .cloned()
                    .collect()
            })
            .await)
    }

    async fn get_proofs_by_ys(&self, ys: Vec<PublicKey>) -> Result<Vec<ProofInfo>, Error> {
        Ok(self
            .read(|t| {
                ys.iter()
                    .filter_map(|y| t.proofs.get(&key::proof(y)).cloned())
                    .collect()
            })
            .await)
    }

    async fn get_balance(
        &self,
        mint_url: Option<MintUrl>,
        unit: Option<CurrencyUnit>,
        state: Option<Vec<State>>,
    ) -> Result<u64, Error> {
        let state = state.filter(|s| !s.is_empty());
        Ok(self
            .read(|t| {
                t.proofs
                    .values()
                    .filter(|p| p.matches_conditions(&mint_url, &unit, &state, &None))
                    .map(|p| u64::from(p.proof.amount))
                    .fold(0u64, u64::saturating_add)
            })
            .await)
    }

    async fn get_transaction(&self, id: TransactionId) -> Result<Option<Transaction>, Error> {
        Ok(self
            .read(|t| t.transactions.get(&key::transaction(&id)).cloned())
            .await)
    }

    async fn list_transactions(
        &self,
        mint_url: Option<MintUrl>,
        direction: Option<TransactionDirection>,
        unit: Option<CurrencyUnit>,
    ) -> Result<Vec<Transaction>, Error> {
        Ok(self
            .read(|t| {
                t.transactions
                    .values()
                    .filter(|tx| tx.matches_conditions(&mint_url, &direction, &unit))
                    .cloned()
                    .collect()
            })
            .await)
    }

    async fn update_proofs(
        &self,
        added: Vec<ProofInfo>,
        removed_ys: Vec<PublicKey>,
    ) -> Result<(), Error> {
        self.change(|t| {
            let mut edits = Vec::with_capacity(added.len() + removed_ys.len());
            for mut p in added {
                if p.derivation_index.is_none() {
                    p.derivation_index = t
                        .proofs
                        .get(&key::proof(&p.y))
                        .and_then(|old| old.derivation_index);
                }
                edits.push(Edit::put(Record::Proof(p)));
            }
            edits.extend(removed_ys.iter().map(|y| Edit::Delete(key::proof(y))));
            Ok(((), edits))
        })
        .await
    }

    async fn update_proofs_state(&self, ys: Vec<PublicKey>, state: State) -> Result<(), Error> {
        self.change(|t| {
            let edits = ys
                .iter()
                .filter_map(|y| t.proofs.get(&key::proof(y)))
                .map(|p| {
                    let mut p = p.clone();
                    p.state = state;
                    Edit::put(Record::Proof(p))
                })
                .collect();
            Ok(((), edits))
        })
        .await
    }

    async fn add_transaction(&self, transaction: Transaction) -> Result<(), Error> {
        self.change(|_| Ok(((), vec![Edit::put(Record::Transaction(transaction))])))
            .await
    }

    async fn update_mint_url(&self, old: MintUrl, new: MintUrl) -> Result<(), Error> {
        self.change(|t| {
            let mut edits = Vec::new();
            for q in t.mint_quotes.values().filter(|q| q.mint_url == old) {
                let mut q = q.clone();
                q.mint_url = new.clone();
                edits.push(Edit::put(Record::MintQuote(q)));
            }
            for p in t.proofs.values().filter(|p| p.mint_url == old) {
                let mut p = p.clone();
                p.mint_url = new.clone();
                edits.push(Edit::put(Record::Proof(p)));
            }
            Ok(((), edits))
        })
        .await
    }

    async fn increment_keyset_counter(&self, keyset_id: &Id, count: u32) -> Result<u32, Error> {
        self.change(|t| {
            let counter = t
                .counters
                .get(&key::keyset_counter(keyset_id))
                .copied()
                .unwrap_or(0)
                .checked_add(count)
                .ok_or_else(|| internal("keyset counter overflow"))?;
            let record = Record::KeysetCounter {
                id: *keyset_id,
                counter,
            };
            Ok((counter, vec![Edit::put(record)]))
        })
        .await
    }

    async fn increment_derivation_counter(
        &self,
        namespace: &str,
        count: u32,
    ) -> Result<u32, Error> {
        self.change(|t| {
            let counter = t
                .counters
                .get(&key::derivation_counter(namespace))
                .copied()
                .unwrap_or(0)
                .checked_add(count)
                .ok_or_else(|| internal("derivation counter overflow"))?;
            let record = Record::DerivationCounter {
                namespace: namespace.to_string(),
                counter,
            };
            Ok((counter, vec![Edit::put(record)]))
        })
        .await
    }

    async fn add_mint(&self, url: MintUrl, info: Option<MintInfo>) -> Result<(), Error> {
        self.change(|_| Ok(((), vec![Edit::put(Record::Mint { url, info })])))
            .await
    }

    async fn remove_mint(&self, mint_url: MintUrl) -> Result<(), Error> {
        self.change(|_| Ok(((), vec![Edit::Delete(key::mint(&mint_url))])))
            .await
    }

    async fn add_mint_keysets(
        &self,
        mint_url: MintUrl,
        keysets: Vec<KeySetInfo>,
    ) -> Result<(), Error> {
        self.change(|t| {
            // The first mint a keyset was seen at keeps it (ids are global), and only that mint
            // may update it: another mint listing the same id (a hostile copy) changes nothing,
            // neither the owner nor the fee, unit or active flag cdk spends by. Keys are
            // checked against their id (`add_keys`), so a copied id cannot bring other keys.
            let edits = keysets
                .into_iter()
                .filter(|info| {
                    t.keysets
                        .get(&key::keyset(&info.id))
                        .is_none_or(|(owner, _)| *owner == mint_url)
                })
                .map(|info| {
                    Edit::put(Record::Keyset {
                        mint_url: mint_url.clone(),
                        info,
                    })
                })
                .collect();
            Ok(((), edits))
        })
        .await
    }

    async fn add_mint_quote(&self, mut quote: MintQuote) -> Result<(), Error> {
        self.change(|t| {
            let stored = t.mint_quotes.get(&key::mint_quote(&quote.id));
            quote.version = versioned(stored.map(|q| q.version), quote.version)?;
            Ok(((), vec![Edit::put(Record::MintQuote(quote))]))
        })
        .await
    }

    async fn remove_mint_quote(&self, quote_id: &str) -> Result<(), Error> {
        self.change(|_| Ok(((), vec![Edit::Delete(key::mint_quote(quote_id))])))
            .await
    }

    async fn add_melt_quote(&self, mut quote: wallet::MeltQuote) -> Result<(), Error> {
        self.change(|t| {
            let stored = t.melt_quotes.get(&key::melt_quote(&quote.id));
            quote.version = versioned(stored.map(|q| q.version), quote.version)?;
            if quote.payment_proof.is_none() {
                quote.payment_proof = stored.and_then(|q| q.payment_proof.clone());
            }
            Ok(((), vec![Edit::put(Record::MeltQuote(quote))]))
        })
        .await
    }

    async fn remove_melt_quote(&self, quote_id: &str) -> Result<(), Error> {
        self.change(|_| Ok(((), vec![Edit::Delete(key::melt_quote(quote_id))])))
            .await
    }

    async fn add_keys(&self, keyset: KeySet) -> Result<(), Error> {
        keyset.verify_id()?;
        self.change(|_| {
            let record = Record::Keys {
                id: keyset.id,
                keys: keyset.keys,
            };
            Ok(((), vec![Edit::put(record)]))
        })
        .await
    }

    async fn remove_keys(&self, id: &Id) -> Result<(), Error> {
        self.change(|_| Ok(((), vec![Edit::Delete(key::keys(id))])))
            .await
    }

    async fn remove_transaction(&self, id: TransactionId) -> Result<(), Error> {
        self.change(|_| Ok(((), vec![Edit::Delete(key::transaction(&id))])))
            .await
    }

    async fn add_saga(&self, saga: WalletSaga) -> Result<(), Error> {
        self.change(|t| {
            if t.sagas.contains_key(&key::saga(&saga.id)) {
                return Err(Error::Duplicate);
            }
            Ok(((), vec![Edit::put(Record::Saga(saga))]))
        })
        .await
    }

    async fn get_saga(&self, id: &uuid::Uuid) -> Result<Option<WalletSaga>, Error> {
        Ok(self.read(|t| t.sagas.get(&key::saga(id)).cloned()).await)
    }

    async fn update_saga(&self, saga: WalletSaga) -> Result<bool, Error> {
        self.change(|t| match t.sagas.get(&key::saga(&saga.id)) {
            Some(stored) if stored.version == saga.version.saturating_sub(1) => {
                Ok((true, vec![Edit::put(Record::Saga(saga))]))
            }
            _ => Ok((false, Vec::new())),
        })
        .await
    }

    async fn delete_saga(&self, id: &uuid::Uuid) -> Result<(), Error> {
        self.change(|_| Ok(((), vec![Edit::Delete(key::saga(id))])))
            .await
    }

    async fn get_incomplete_sagas(&self) -> Result<Vec<WalletSaga>, Error> {
        let mut sagas: Vec<WalletSaga> = self.read(|t| t.sagas.values().cloned().collect()).await;
        sagas.sort_by_key(|s| s.created_at);
        Ok(sagas)
    }

    async fn reserve_proofs(
        &self,
        ys: Vec<PublicKey>,
        operation: &uuid::Uuid,
    ) -> Result<(), Error> {
        self.change(|t| {
            let mut edits = Vec::with_capacity(ys.len());
            for y in &ys {
                match t.proofs.get(&key::proof(y)) {
                    Some(p) if p.state == State::Unspent => {
                        let mut p = p.clone();
                        p.state = State::Reserved;
                        p.used_by_operation = Some(*operation);
                        edits.push(Edit::put(Record::Proof(p)));
                    }
                    _ => return Err(Error::ProofNotUnspent),
                }
            }
            Ok(((), edits))
        })
        .await
    }

    async fn release_proofs(&self, operation: &uuid::Uuid) -> Result<(), Error> {
        self.change(|t| {
            let edits = t
                .proofs
                .values()
                .filter(|p| {
                    p.used_by_operation.as_ref() == Some(operation)
                        && matches!(p.state, State::Reserved | State::Pending)
                })
                .map(|p| {
                    let mut p = p.clone();
                    p.state = State::Unspent;
                    p.used_by_operation = None;
                    Edit::put(Record::Proof(p))
                })
                .collect();
            Ok(((), edits))
        })
        .await
    }

    async fn get_reserved_proofs(&self, operation: &uuid::Uuid) -> Result<Vec<ProofInfo>, Error> {
        Ok(self
            .read(|t| {
                t.proofs
                    .values()
                    .filter(|p| p.used_by_operation.as_ref() == Some(operation))
                    .cloned()
                    .collect()
            })
            .await)
    }

    async fn reserve_melt_quote(
        &self,
        quote_id: &str,
        operation: &uuid::Uuid,
    ) -> Result<(), Error> {
        self.change(|t| reserve(&t.melt_quotes, &key::melt_quote(quote_id), operation))
            .await
    }

    async fn release_melt_quote(&self, operation: &uuid::Uuid) -> Result<(), Error> {
        self.change(|t| release(&t.melt_quotes, operation)).await
    }

    async fn reserve_mint_quote(
        &self,
        quote_id: &str,
        operation: &uuid::Uuid,
    ) -> Result<(), Error> {
        self.change(|t| reserve(&t.mint_quotes, &key::mint_quote(quote_id), operation))
            .await
    }

    async fn release_mint_quote(&self, operation: &uuid::Uuid) -> Result<(), Error> {
        self.change(|t| release(&t.mint_quotes, operation)).await
    }

    async fn kv_read(
        &self,
        primary: &str,
        secondary: &str,
        k: &str,
    ) -> Result<Option<Vec<u8>>, Error> {
        validate_kvstore_params(primary, secondary, Some(k))?;
        Ok(self
            .read(|t| t.kv.get(&key::kv(primary, secondary, k)).cloned())
            .await)
    }

    async fn kv_list(&self, primary: &str, secondary: &str) -> Result<Vec<String>, Error> {
        validate_kvstore_params(primary, secondary, None)?;
        let prefix = key::kv(primary, secondary, "");
        Ok(self
            .read(|t| {
                t.kv.range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, _)| k[prefix.len()..].to_string())
                    .collect()
            })
            .await)
    }

    async fn kv_write(
        &self,
        primary: &str,
        secondary: &str,
        k: &str,
        value: &[u8],
    ) -> Result<(), Error> {
        validate_kvstore_params(primary, secondary, Some(k))?;
        self.change(|_| {
            let record = Record::Kv {
                primary: primary.to_string(),
                secondary: secondary.to_string(),
                key: k.to_string(),
                value: value.to_vec(),
            };
            Ok(((), vec![Edit::put(record)]))
        })
        .await
    }

    async fn kv_remove(&self, primary: &str, secondary: &str, k: &str) -> Result<(), Error> {
        validate_kvstore_params(primary, secondary, Some(k))?;
        self.change(|_| Ok(((), vec![Edit::Delete(key::kv(primary, secondary, k))])))
            .await
    }

    async fn add_p2pk_key(
        &self,
        pubkey: &PublicKey,
        derivation_path: DerivationPath,
        derivation_index: u32,
    ) -> Result<(), Error> {
        self.change(|_| {
            let record = Record::P2pk(P2PKSigningKey {
                pubkey: *pubkey,
                derivation_path,
                derivation_index,
                created_time: cdk_common::util::unix_time(),
            });
            Ok(((), vec![Edit::put(record)]))
        })
        .await
    }

    async fn get_p2pk_key(&self, pubkey: &PublicKey) -> Result<Option<P2PKSigningKey>, Error> {
        Ok(self.read(|t| t.p2pk.get(&key::p2pk(pubkey)).cloned()).await)
    }

    async fn list_p2pk_keys(&self) -> Result<Vec<P2PKSigningKey>, Error> {
        let mut keys: Vec<P2PKSigningKey> = self.read(|t| t.p2pk.values().cloned().collect()).await;
        keys.sort_by_key(|k| std::cmp::Reverse(k.derivation_index));
        Ok(keys)
    }

    async fn latest_p2pk(&self) -> Result<Option<P2PKSigningKey>, Error> {
        Ok(self.list_p2pk_keys().await?.into_iter().next())
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
