//! The storage port on IndexedDB (through rexie). One database per wallet, one object store per
//! table of the core schema; values are byte arrays (already sealed by the vault), keys strings.
//! Batches run in one readwrite transaction and resolve only when it completes, so a write the
//! caller awaited is on disk.

use flash_core::store::{check_table, Op, Store, StoreError, STORE_VERSION, TABLES};
use rexie::{ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::{JsCast, JsValue};

/// The database name the app uses.
pub const DB_NAME: &str = "flash-web";

/// The connection, closed when the last handle goes: an open connection would block deleting
/// or upgrading the database (another tab's migration, "erase this device") indefinitely.
struct Connection(Option<Rexie>);

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            db.close();
        }
    }
}

impl std::ops::Deref for Connection {
    type Target = Rexie;
    fn deref(&self) -> &Rexie {
        // Only `drop` takes the connection out, so it is always there while borrowed.
        self.0
            .as_ref()
            .unwrap_or_else(|| unreachable!("connection used after close"))
    }
}

/// A handle to the wallet's IndexedDB database. Clones share the connection.
#[derive(Clone)]
pub struct IdbStore {
    db: std::rc::Rc<Connection>,
}

impl std::fmt::Debug for IdbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdbStore")
    }
}

fn unavailable(e: impl std::fmt::Debug) -> StoreError {
    StoreError::Unavailable(format!("{e:?}"))
}

impl IdbStore {
    /// Opens (creating or upgrading) the database `name`. An upgrade creates the tables that
    /// are missing and keeps every existing row (v1 -> v2 added `ecash`).
    pub async fn open(name: &str) -> Result<Self, StoreError> {
        let mut builder = Rexie::builder(name).version(STORE_VERSION);
        for table in TABLES {
            builder = builder.add_object_store(ObjectStore::new(table));
        }
        let db = builder.build().await.map_err(unavailable)?;
        Ok(Self {
            db: std::rc::Rc::new(Connection(Some(db))),
        })
    }

    /// Deletes the database `name` (tests, "erase this device").
    pub async fn delete(name: &str) -> Result<(), StoreError> {
        Rexie::delete(name)
            .await
            .map_err(|e| StoreError::Write(format!("{e:?}")))
    }
}

fn bytes_of(v: JsValue) -> Result<Vec<u8>, StoreError> {
    v.dyn_into::<js_sys::Uint8Array>()
        .map(|a| a.to_vec())
        .map_err(|_| StoreError::Read("a stored value is not bytes".into()))
}

fn read_error(e: rexie::Error) -> StoreError {
    StoreError::Read(e.to_string())
}

impl IdbStore {
    /// A read-only transaction on `table` and its object store (the transaction is returned
    /// too, so it lives as long as the reads).
    fn reading(&self, table: &str) -> Result<(rexie::Transaction, rexie::Store), StoreError> {
        check_table(table)?;
        let tx = self
            .db
            .transaction(&[table], TransactionMode::ReadOnly)
            .map_err(read_error)?;
        let store = tx.store(table).map_err(read_error)?;
        Ok((tx, store))
    }
}

impl Store for IdbStore {
    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let (_tx, store) = self.reading(table)?;
        let value = store
            .get(JsValue::from_str(key))
            .await
            .map_err(read_error)?;
        match value {
            None => Ok(None),
            Some(v) if v.is_undefined() => Ok(None),
            Some(v) => bytes_of(v).map(Some),
        }
    }

    async fn keys(&self, table: &str) -> Result<Vec<String>, StoreError> {
        let (_tx, store) = self.reading(table)?;
        let mut keys: Vec<String> = store
            .get_all_keys(None, None)
            .await
            .map_err(read_error)?
            .into_iter()
            .filter_map(|k| k.as_string())
            .collect();
        keys.sort();
        Ok(keys)
    }

    async fn entries(&self, table: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        // Keys and values from one transaction, both in key order: zip them.
        let (_tx, store) = self.reading(table)?;
        let keys = store.get_all_keys(None, None).await.map_err(read_error)?;
        let values = store.get_all(None, None).await.map_err(read_error)?;
        if keys.len() != values.len() {
            return Err(StoreError::Read("keys and values disagree".into()));
        }
        keys.into_iter()
            .zip(values)
            .map(|(k, v)| {
                let k = k
                    .as_string()
                    .ok_or_else(|| StoreError::Read("a stored key is not text".into()))?;
                Ok((k, bytes_of(v)?))
            })
            .collect()
    }

    async fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        for op in &ops {
            let (Op::Put { table, .. } | Op::Delete { table, .. }) = op;
            check_table(table)?;
        }
        if ops.is_empty() {
            return Ok(());
        }
        let write = |e: rexie::Error| StoreError::Write(e.to_string());
        let tx = self
            .db
            .transaction(TABLES, TransactionMode::ReadWrite)
            .map_err(write)?;
        for op in ops {
            let result = match op {
                Op::Put { table, key, value } => match tx.store(table) {
                    Ok(store) => {
                        let bytes = js_sys::Uint8Array::from(value.as_slice());
                        store
                            .put(&bytes, Some(&JsValue::from_str(&key)))
                            .await
                            .map(|_| ())
                    }
                    Err(e) => Err(e),
                },
                Op::Delete { table, key } => match tx.store(table) {
                    Ok(store) => store.delete(JsValue::from_str(&key)).await,
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = result {
                let _ = tx.abort().await;
                return Err(write(e));
            }
        }
        // Resolves on the transaction's `complete` event: the batch is durable.
        tx.done().await.map_err(write)?;
        Ok(())
    }
}
