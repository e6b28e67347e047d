//! The storage port: a tiny key-value interface over named tables, implemented in memory here
//! (native tests, tools) and on IndexedDB in `flash-browser`. Both must pass the same
//! [`conformance`] suite. The store only ever sees what the vault hands it: sealed bytes under
//! keyed-hash names, never plaintext.
//!
//! Every write is a future the caller awaits; a failed write is an error, never a log line,
//! because a lost write can be lost eCash.

pub use flash_api::errors::StoreError;

pub mod conformance;
pub mod memory;

/// The version of the record format (it is bound into every sealed record). Bump it with a
/// migration of the records themselves.
pub const SCHEMA_VERSION: u32 = 1;

/// The version of the set of tables (the IndexedDB database version). Adding a table bumps it;
/// opening an older database creates the missing tables and keeps every row.
pub const STORE_VERSION: u32 = 2;

/// The tables (IndexedDB object stores) of [`STORE_VERSION`].
pub const TABLES: &[&str] = &[META, RECORDS, ECASH];

/// Vault metadata: key slots (wrapped data keys), KDF parameters, unlock back-off. Not secret.
pub const META: &str = "meta";
/// Sealed records: every secret the wallet holds.
pub const RECORDS: &str = "records";
/// Sealed eCash records (proofs, quotes, sagas…): loaded all at once at unlock.
pub const ECASH: &str = "ecash";

/// One change in an atomic batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Insert or replace.
    Put {
        /// Table name (one of [`TABLES`]).
        table: &'static str,
        /// Record key.
        key: String,
        /// Record bytes.
        value: Vec<u8>,
    },
    /// Remove (absent keys are fine).
    Delete {
        /// Table name.
        table: &'static str,
        /// Record key.
        key: String,
    },
}

/// A key-value store with atomic batches. Futures need not be `Send`: in the browser they are
/// IndexedDB requests on the page's single thread.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// The bytes under `key`, if any.
    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// All keys of `table`, sorted.
    async fn keys(&self, table: &str) -> Result<Vec<String>, StoreError>;
    /// Every (key, value) of `table`, sorted by key. Stores override this with one bulk read.
    async fn entries(&self, table: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        for key in self.keys(table).await? {
            if let Some(value) = self.get(table, &key).await? {
                out.push((key, value));
            }
        }
        Ok(out)
    }

    /// Applies every op or none; resolves only once durable.
    async fn write(&self, ops: Vec<Op>) -> Result<(), StoreError>;

    /// Convenience: one put.
    async fn put(&self, table: &'static str, key: &str, value: Vec<u8>) -> Result<(), StoreError> {
        self.write(vec![Op::Put {
            table,
            key: key.to_string(),
            value,
        }])
        .await
    }

    /// Convenience: one delete.
    async fn delete(&self, table: &'static str, key: &str) -> Result<(), StoreError> {
        self.write(vec![Op::Delete {
            table,
            key: key.to_string(),
        }])
        .await
    }
}

/// Checks a table name against the schema.
pub fn check_table(table: &str) -> Result<(), StoreError> {
    if TABLES.contains(&table) {
        Ok(())
    } else {
        Err(StoreError::UnknownTable(table.to_string()))
    }
}
