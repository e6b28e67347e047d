//! The in-memory store: the reference implementation the conformance suite is written against,
//! used by native tests and tools. It can be told to fail writes, to test error paths.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use super::{check_table, Op, Store, StoreError};

/// Rows keyed by (table, key).
type Rows = BTreeMap<(String, String), Vec<u8>>;

/// A store in a `BTreeMap`. Clones are handles to the same data, like two handles to one
/// IndexedDB database.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    data: Rc<RefCell<Rows>>,
    fail_writes: Rc<Cell<bool>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every later write fail (a full disk, a revoked quota) until turned off.
    pub fn fail_writes(&self, fail: bool) {
        self.fail_writes.set(fail);
    }

    /// Every stored value, for "no plaintext at rest" checks.
    pub fn dump(&self) -> Vec<(String, String, Vec<u8>)> {
        self.data
            .borrow()
            .iter()
            .map(|((t, k), v)| (t.clone(), k.clone(), v.clone()))
            .collect()
    }
}

impl Store for MemoryStore {
    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        check_table(table)?;
        Ok(self
            .data
            .borrow()
            .get(&(table.to_string(), key.to_string()))
            .cloned())
    }

    async fn keys(&self, table: &str) -> Result<Vec<String>, StoreError> {
        check_table(table)?;
        Ok(self
            .data
            .borrow()
            .keys()
            .filter(|(t, _)| t == table)
            .map(|(_, k)| k.clone())
            .collect())
    }

    async fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        for op in &ops {
            let (Op::Put { table, .. } | Op::Delete { table, .. }) = op;
            check_table(table)?;
        }
        if self.fail_writes.get() {
            return Err(StoreError::Write("simulated failure".into()));
        }
        let mut data = self.data.borrow_mut();
        for op in ops {
            match op {
                Op::Put { table, key, value } => {
                    data.insert((table.to_string(), key), value);
                }
                Op::Delete { table, key } => {
                    data.remove(&(table.to_string(), key));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_passes_the_conformance_suite() {
        futures::executor::block_on(super::super::conformance::run(&MemoryStore::new()));
    }

    #[test]
    fn failed_writes_change_nothing() {
        futures::executor::block_on(async {
            let s = MemoryStore::new();
            s.put("records", "a", vec![1]).await.unwrap();
            s.fail_writes(true);
            let err = s.put("records", "a", vec![2]).await.unwrap_err();
            assert!(matches!(err, StoreError::Write(_)));
            assert_eq!(s.get("records", "a").await.unwrap(), Some(vec![1]));
        });
    }
}
