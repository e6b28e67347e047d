//! The storage port on IndexedDB, on the browser's own API (web-sys). One database per wallet,
//! one object store per table of the core schema; values are byte arrays (already sealed by
//! the vault), keys strings. Batches run in one readwrite transaction opened with
//! `durability: "strict"` (browsers default to "relaxed", which may report a write complete
//! before it reaches the disk: a power cut would then lose proofs the mint has already
//! signed), and resolve only on its `complete` event, so a write the caller awaited is on disk.
//!
//! Reads and writes share one connection: a second connection's readwrite transaction would
//! queue behind the first one's open transactions.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use flash_core::store::{check_table, Op, Store, StoreError, META, STORE_VERSION, TABLES};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbFactory, IdbObjectStore, IdbOpenDbRequest, IdbRequest, IdbTransaction,
    IdbTransactionMode,
};

const FENCED_TEXT: &str = "Flash is open in another tab now";

/// Where in `meta` the writer epoch lives: a counter every engine that becomes the writer
/// bumps, in a write transaction of its own. Each write transaction reads it first and
/// aborts when it is not the value this connection wrote: an engine that another one has
/// replaced (a tab frozen with mint answers in hand, a worker whose lock was stolen while a
/// transaction was being queued) can then never commit, whatever order the browser delivers
/// lock events in. Readwrite transactions on the same store run one after another, across
/// connections, so the check and the write cannot interleave with another engine's.
pub const EPOCH_KEY: &str = "writer-epoch";

thread_local! {
    /// Set once another engine or tab has taken the wallet over from this one (see
    /// [`fence_writes`]).
    static FENCED: Cell<bool> = const { Cell::new(false) };
    /// Bumped each time this thread becomes the writer again; a connection whose claim is
    /// older bumps the epoch in its next transaction ([`IdbStore::claim`]).
    static CLAIM: Cell<u32> = const { Cell::new(0) };
    /// The connections opened as the writer's, claimed again at once when [`CLAIM`] moves.
    static WRITERS: RefCell<Vec<Weak<Connection>>> = const { RefCell::new(Vec::new()) };
}

/// Stops (`true`) or allows again (`false`) every IndexedDB write of this thread. Set the
/// moment another tab or engine takes the wallet, before anything else runs: a tab that was
/// frozen in the background may still be holding mint answers, and its writes from an
/// out-of-date copy of the wallet must never land beside the new owner's. Allowing again
/// makes this thread the writer: each connection bumps the writer epoch in its next write
/// (at once for those opened with [`IdbStore::open_as_writer`]: call [`claim_writes`]).
pub fn fence_writes(fenced: bool) {
    FENCED.with(|f| f.set(fenced));
    if !fenced {
        CLAIM.with(|c| c.set(c.get().wrapping_add(1)));
    }
}

fn fenced() -> bool {
    FENCED.with(Cell::get)
}

/// Bumps the writer epoch now on every writer connection of this thread (after
/// [`fence_writes`]`(false)`), so another engine's writes stop before this one reads.
pub async fn claim_writes() {
    let open: Vec<Rc<Connection>> =
        WRITERS.with(|w| w.borrow_mut().iter().filter_map(Weak::upgrade).collect());
    for conn in open {
        let _ = (IdbStore { conn }).write(Vec::new()).await;
    }
}

#[wasm_bindgen]
extern "C" {
    /// An `IDBDatabase` seen through the one method web-sys has only behind its unstable-API
    /// flag (which would have to be set for the whole build).
    #[wasm_bindgen(js_name = IDBDatabase)]
    type DatabaseWithOptions;

    /// `IDBDatabase.transaction(names, mode, options)`.
    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn transaction_with_options(
        this: &DatabaseWithOptions,
        names: &js_sys::Array,
        mode: &str,
        options: &js_sys::Object,
    ) -> Result<IdbTransaction, JsValue>;
}

/// The database name the app uses.
pub const DB_NAME: &str = crate::storage::DB_NAME;

/// The connection, closed when the last handle goes: an open connection would block deleting
/// or upgrading the database (another tab's migration, "erase this device") indefinitely.
struct Connection {
    db: IdbDatabase,
    /// Opened as the engine's ([`IdbStore::open_as_writer`]): only those check and bump
    /// the writer epoch.
    writer: Cell<bool>,
    /// The [`CLAIM`] this connection last bumped the epoch for, and the epoch it wrote.
    claimed: Cell<u32>,
    epoch: Cell<Option<u64>>,
    /// Closes this connection when another tab upgrades or deletes the database (kept alive
    /// as long as the connection).
    _on_version_change: Closure<dyn FnMut()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.db.set_onversionchange(None);
        self.db.close();
    }
}

/// A handle to the wallet's IndexedDB database. Clones share the connection.
#[derive(Clone)]
pub struct IdbStore {
    conn: Rc<Connection>,
}

impl std::fmt::Debug for IdbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdbStore")
    }
}

/// Plain text of a JavaScript error (a `DOMException`'s name and message).
fn describe(e: &JsValue) -> String {
    if let Some(ex) = e.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", ex.name(), ex.message());
    }
    e.as_string().unwrap_or_else(|| "IndexedDB error".into())
}

fn unavailable(e: JsValue) -> StoreError {
    StoreError::Unavailable(describe(&e))
}

/// `indexedDB` of this global (a window or a worker).
fn factory() -> Result<IdbFactory, StoreError> {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
        .ok()
        .and_then(|f| f.dyn_into::<IdbFactory>().ok())
        .ok_or_else(|| StoreError::Unavailable("this browser has no IndexedDB".into()))
}

/// Waits for `request` to succeed (its result) or fail (its error). The handlers are set
/// before this returns, not at the first poll: an event that fires while the caller awaits
/// something else is never missed.
fn finished(
    request: &IdbRequest,
) -> impl std::future::Future<Output = Result<JsValue, JsValue>> + 'static {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let request = request.clone();
    // Made now, so a rejection is always handled even if the caller drops this future.
    let outcome = JsFuture::from(promise);
    async move {
        let outcome = outcome.await;
        request.set_onsuccess(None);
        request.set_onerror(None);
        match outcome {
            Ok(_) => request.result(),
            Err(_) => Err(request
                .error()
                .ok()
                .flatten()
                .map(JsValue::from)
                .unwrap_or_else(|| JsValue::from_str("request failed"))),
        }
    }
}

/// Waits for `tx` to commit (`complete`) or fail (`abort` / `error`); handlers set at once,
/// as in [`finished`].
fn committed(tx: &IdbTransaction) -> impl std::future::Future<Output = Result<(), JsValue>> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
        tx.set_onerror(Some(&reject));
    });
    let tx = tx.clone();
    let outcome = JsFuture::from(promise);
    async move {
        let outcome = outcome.await;
        tx.set_oncomplete(None);
        tx.set_onabort(None);
        tx.set_onerror(None);
        outcome.map(|_| ()).map_err(|_| {
            tx.error()
                .map(JsValue::from)
                .unwrap_or_else(|| JsValue::from_str("the write was not completed"))
        })
    }
}

/// How long an open blocked by another tab waits before saying so.
const BLOCKED_GRACE_MS: u32 = 1_500;

impl IdbStore {
    /// Opens (creating or upgrading) the database `name`. An upgrade creates the tables that
    /// are missing and keeps every existing row (v1 -> v2 added `ecash`).
    pub async fn open(name: &str) -> Result<Self, StoreError> {
        let request: IdbOpenDbRequest = factory()?
            .open_with_u32(name, STORE_VERSION)
            .map_err(unavailable)?;
        let upgrading = request.clone();
        let on_upgrade = Closure::<dyn FnMut()>::new(move || {
            let Ok(db) = upgrading.result().and_then(|r| r.dyn_into::<IdbDatabase>()) else {
                return;
            };
            let existing = db.object_store_names();
            for table in TABLES {
                if !existing.contains(table) && db.create_object_store(table).is_err() {
                    // Abort the upgrade (the open below reports it) rather than commit a
                    // database every later write would fail on.
                    if let Some(tx) = upgrading.transaction() {
                        let _ = tx.abort();
                    }
                    return;
                }
            }
        });
        request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        // Another tab with an older version that does not close on `versionchange` blocks
        // the upgrade for as long as it stays open: say so instead of waiting forever.
        // `blocked` also fires while a cooperative tab is still closing (a write of its own
        // in flight), so the open gets a moment more before it gives up.
        let blocked_event = JsFuture::from(js_sys::Promise::new(&mut |resolve, _| {
            request.set_onblocked(Some(&resolve));
        }));
        let blocked = async move {
            let _ = blocked_event.await;
            crate::timer::sleep(BLOCKED_GRACE_MS).await;
        };
        futures::pin_mut!(blocked);
        let opening = finished(&request);
        futures::pin_mut!(opening);
        let opened = match futures::future::select(opening, blocked).await {
            futures::future::Either::Left((opened, _)) => opened,
            futures::future::Either::Right(_) => {
                request.set_onblocked(None);
                // Should the other tab let go later, that upgrade is aborted (the version
                // stays, so the next open upgrades properly) and a connection that opens
                // anyway is closed at once rather than left holding the database.
                let upgrading = request.clone();
                let abort = Closure::once_into_js(move || {
                    if let Some(tx) = upgrading.transaction() {
                        let _ = tx.abort();
                    }
                });
                request.set_onupgradeneeded(Some(abort.unchecked_ref()));
                let late = request.clone();
                let close = Closure::once_into_js(move || {
                    if let Ok(db) = late.result().and_then(|r| r.dyn_into::<IdbDatabase>()) {
                        db.close();
                    }
                });
                request.set_onsuccess(Some(close.unchecked_ref()));
                return Err(StoreError::Blocked);
            }
        };
        request.set_onblocked(None);
        request.set_onupgradeneeded(None);
        drop(on_upgrade);
        let db: IdbDatabase = opened
            .map_err(unavailable)?
            .dyn_into()
            .map_err(|_| StoreError::Unavailable("IndexedDB did not open".into()))?;
        let closing = db.clone();
        let on_version_change = Closure::<dyn FnMut()>::new(move || closing.close());
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        Ok(Self {
            conn: Rc::new(Connection {
                db,
                writer: Cell::new(false),
                claimed: Cell::new(0),
                epoch: Cell::new(None),
                _on_version_change: on_version_change,
            }),
        })
    }

    /// [`IdbStore::open`] for the engine: the connection bumps the writer epoch before it is
    /// returned when this thread is the writer, and again at each [`claim_writes`].
    pub async fn open_as_writer(name: &str) -> Result<Self, StoreError> {
        let store = Self::open(name).await?;
        store.conn.writer.set(true);
        WRITERS.with(|w| {
            let mut w = w.borrow_mut();
            w.retain(|c| c.strong_count() > 0);
            w.push(Rc::downgrade(&store.conn));
        });
        if CLAIM.with(Cell::get) != 0 && !fenced() {
            // A claim that fails here (a full disk) leaves the wallet readable; the next
            // write claims again.
            let _ = store.write(Vec::new()).await;
        }
        Ok(store)
    }

    /// Deletes the database `name` (tests, "erase this device").
    pub async fn delete(name: &str) -> Result<(), StoreError> {
        let request = factory()?
            .delete_database(name)
            .map_err(|e| StoreError::Write(describe(&e)))?;
        finished(&request)
            .await
            .map(|_| ())
            .map_err(|e| StoreError::Write(describe(&e)))
    }

    /// A read-only transaction's object store for `table` (the store keeps its transaction
    /// alive while requests on it are pending).
    fn reading(&self, table: &str) -> Result<IdbObjectStore, StoreError> {
        check_table(table)?;
        let read = |e: JsValue| StoreError::Read(describe(&e));
        self.conn
            .db
            .transaction_with_str_and_mode(table, IdbTransactionMode::Readonly)
            .map_err(read)?
            .object_store(table)
            .map_err(read)
    }
}

/// What a write transaction's epoch check found.
#[derive(Clone, Copy)]
enum Epoch {
    Unread,
    /// This connection's epoch (or one it bumped it to): the write goes ahead.
    Ours,
    /// Another engine's, found while this thread was writer generation `.0`: aborted.
    Replaced(u32),
    /// This thread was fenced between queuing the write and its turn: aborted.
    Fenced,
}

/// The epoch's stored form: 8 bytes, big-endian; absent is 0.
fn epoch_of(value: &JsValue) -> Option<u64> {
    if value.is_undefined() || value.is_null() {
        return Some(0);
    }
    let bytes = value.dyn_ref::<js_sys::Uint8Array>()?.to_vec();
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// Decides, when the transaction's first request has read the stored epoch, whether it
/// goes ahead. Decided then and not when the write was queued: transactions run one after
/// another, so this sees every earlier claim of this connection (two writes queued before a
/// claim committed must not both claim) and any fence set meanwhile.
fn judge(conn: &Connection, stored: Option<u64>, meta: &IdbObjectStore) -> Epoch {
    if fenced() {
        return Epoch::Fenced;
    }
    let claim = CLAIM.with(Cell::get);
    if conn.claimed.get() != claim {
        // An epoch that cannot be read (never written by this app) counts as 0.
        let Some(next) = stored.unwrap_or(0).checked_add(1) else {
            return Epoch::Replaced(claim);
        };
        let bytes = js_sys::Uint8Array::from(next.to_be_bytes().as_slice());
        if meta
            .put_with_key(&bytes, &JsValue::from_str(EPOCH_KEY))
            .is_err()
        {
            return Epoch::Replaced(claim);
        }
        // Taken as ours at once: should this transaction then fail, the stored epoch stays
        // older, the next write finds it is not ours, and the page takes the lock back.
        conn.epoch.set(Some(next));
        conn.claimed.set(claim);
        return Epoch::Ours;
    }
    match conn.epoch.get() {
        Some(ours) if stored == Some(ours) => Epoch::Ours,
        _ => Epoch::Replaced(claim),
    }
}

impl IdbStore {
    /// Queues, first in `tx`, the read of the writer epoch; on its answer [`judge`] decides,
    /// and `tx` is aborted unless the write may go ahead.
    fn check_epoch(&self, tx: &IdbTransaction, verdict: Rc<Cell<Epoch>>) -> Result<(), JsValue> {
        if !self.conn.writer.get() || CLAIM.with(Cell::get) == 0 {
            // Not the engine's connection (tests' probes), or a thread that never became
            // the writer (no take yet: the worker takes before it opens): nothing to check.
            verdict.set(Epoch::Ours);
            return Ok(());
        }
        let meta = tx.object_store(META)?;
        let request = meta.get(&JsValue::from_str(EPOCH_KEY))?;
        let (answered, tx, conn) = (request.clone(), tx.clone(), self.conn.clone());
        let on_read = Closure::once_into_js(move || {
            let stored = answered.result().ok().as_ref().and_then(epoch_of);
            let judged = judge(&conn, stored, &meta);
            verdict.set(judged);
            if !matches!(judged, Epoch::Ours) {
                let _ = tx.abort();
            }
        });
        request.set_onsuccess(Some(on_read.unchecked_ref()));
        Ok(())
    }
}

fn bytes_of(v: JsValue) -> Result<Vec<u8>, StoreError> {
    v.dyn_into::<js_sys::Uint8Array>()
        .map(|a| a.to_vec())
        .map_err(|_| StoreError::Read("a stored value is not bytes".into()))
}

fn read_error(e: JsValue) -> StoreError {
    StoreError::Read(describe(&e))
}

/// The array a `getAll`/`getAllKeys` request answers (handlers set at once, see
/// [`finished`]).
fn all(
    request: Result<IdbRequest, JsValue>,
) -> impl std::future::Future<Output = Result<js_sys::Array, StoreError>> {
    let pending = request.map(|r| finished(&r));
    async move {
        let value = pending.map_err(read_error)?.await.map_err(read_error)?;
        value
            .dyn_into::<js_sys::Array>()
            .map_err(|_| StoreError::Read("IndexedDB answered a list that is not one".into()))
    }
}

impl Store for IdbStore {
    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let store = self.reading(table)?;
        let request = store.get(&JsValue::from_str(key)).map_err(read_error)?;
        let value = finished(&request).await.map_err(read_error)?;
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        bytes_of(value).map(Some)
    }

    async fn keys(&self, table: &str) -> Result<Vec<String>, StoreError> {
        let store = self.reading(table)?;
        let mut keys: Vec<String> = all(store.get_all_keys())
            .await?
            .iter()
            .filter_map(|k| k.as_string())
            .collect();
        keys.sort();
        Ok(keys)
    }

    async fn entries(&self, table: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        // Keys and values from one transaction, both in key order: zip them.
        let store = self.reading(table)?;
        let keys = all(store.get_all_keys());
        let values = all(store.get_all());
        let (keys, values) = (keys.await?, values.await?);
        if keys.length() != values.length() {
            return Err(StoreError::Read("keys and values disagree".into()));
        }
        keys.iter()
            .zip(values.iter())
            .map(|(k, v)| {
                let k = k
                    .as_string()
                    .ok_or_else(|| StoreError::Read("a stored key is not text".into()))?;
                Ok((k, bytes_of(v)?))
            })
            .collect()
    }

    async fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        if fenced() {
            return Err(StoreError::Write(FENCED_TEXT.into()));
        }
        for op in &ops {
            let (Op::Put { table, .. } | Op::Delete { table, .. }) = op;
            check_table(table)?;
        }
        let claiming = self.conn.writer.get() && self.conn.claimed.get() != CLAIM.with(Cell::get);
        if ops.is_empty() && !claiming {
            return Ok(());
        }
        let write = |e: JsValue| StoreError::Write(describe(&e));
        let options = js_sys::Object::new();
        js_sys::Reflect::set(
            &options,
            &JsValue::from_str("durability"),
            &JsValue::from_str("strict"),
        )
        .map_err(write)?;
        let names: js_sys::Array = TABLES.iter().map(|t| JsValue::from_str(t)).collect();
        let tx = self
            .conn
            .db
            .unchecked_ref::<DatabaseWithOptions>()
            .transaction_with_options(&names, "readwrite", &options)
            .map_err(write)?;
        let done = committed(&tx);
        // The epoch check comes first in the transaction: a request's success event runs
        // before the transaction can commit, so aborting there undoes everything queued.
        let verdict = Rc::new(Cell::new(Epoch::Unread));
        if let Err(e) = self.check_epoch(&tx, verdict.clone()) {
            let _ = tx.abort();
            return Err(write(e));
        }
        // Every request is queued at once; the batch stands or falls as one transaction.
        for op in ops {
            let queued = match op {
                Op::Put { table, key, value } => tx.object_store(table).and_then(|store| {
                    let bytes = js_sys::Uint8Array::from(value.as_slice());
                    store.put_with_key(&bytes, &JsValue::from_str(&key))
                }),
                Op::Delete { table, key } => tx
                    .object_store(table)
                    .and_then(|store| store.delete(&JsValue::from_str(&key))),
            };
            if let Err(e) = queued {
                let _ = tx.abort();
                return Err(write(e));
            }
        }
        let outcome = done.await;
        match verdict.get() {
            Epoch::Fenced => return Err(StoreError::Write(FENCED_TEXT.into())),
            Epoch::Replaced(claim) => {
                // Another engine is the writer now. Fenced until this one is made the
                // writer again, unless it already was meanwhile (then this answer is stale);
                // and said, as a stolen lock is, so a page that owns the wallet takes it back.
                if CLAIM.with(Cell::get) == claim {
                    fence_writes(true);
                    crate::writer::replaced();
                }
                return Err(StoreError::Write(FENCED_TEXT.into()));
            }
            Epoch::Unread | Epoch::Ours => {}
        }
        // Resolved on the transaction's `complete` event: the batch is durable.
        outcome.map_err(write)
    }
}
