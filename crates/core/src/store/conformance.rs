//! The one conformance suite every [`Store`] must pass: run natively on the memory store and in
//! headless Chromium on IndexedDB. It panics (with the failing property) on any deviation.

use super::{Op, Store, StoreError, META, RECORDS};

/// Runs every check against an empty `store`.
pub async fn run<S: Store>(store: &S) {
    // Empty at start.
    assert_eq!(
        store.get(RECORDS, "missing").await,
        Ok(None),
        "absent key reads as None"
    );
    assert_eq!(store.keys(RECORDS).await, Ok(vec![]), "new store is empty");

    // Put / get / replace, binary-safe values (all 256 byte values, and empty).
    let all_bytes: Vec<u8> = (0..=255).collect();
    store
        .put(RECORDS, "k1", all_bytes.clone())
        .await
        .expect("put");
    assert_eq!(
        store.get(RECORDS, "k1").await,
        Ok(Some(all_bytes)),
        "binary round trip"
    );
    store.put(RECORDS, "k1", vec![]).await.expect("replace");
    assert_eq!(
        store.get(RECORDS, "k1").await,
        Ok(Some(vec![])),
        "replace, empty value"
    );

    // Tables are separate namespaces.
    store
        .put(META, "k1", b"meta".to_vec())
        .await
        .expect("put meta");
    assert_eq!(store.get(RECORDS, "k1").await, Ok(Some(vec![])));
    assert_eq!(store.get(META, "k1").await, Ok(Some(b"meta".to_vec())));

    // Keys are listed sorted, per table.
    for k in ["b", "a", "c"] {
        store
            .put(RECORDS, k, k.as_bytes().to_vec())
            .await
            .expect("put");
    }
    assert_eq!(
        store.keys(RECORDS).await,
        Ok(vec!["a".into(), "b".into(), "c".into(), "k1".into()])
    );
    assert_eq!(store.keys(META).await, Ok(vec!["k1".into()]));

    // Entries: the same rows as keys + get, in key order.
    let entries = store.entries(RECORDS).await.expect("entries");
    assert_eq!(
        entries.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        vec!["a", "b", "c", "k1"],
        "entries are listed sorted"
    );
    assert_eq!(entries[0].1, b"a".to_vec(), "entries carry their values");

    // Delete, including an absent key.
    store.delete(RECORDS, "b").await.expect("delete");
    store
        .delete(RECORDS, "never-there")
        .await
        .expect("delete absent");
    assert_eq!(store.get(RECORDS, "b").await, Ok(None));

    // Batches apply in order and all together.
    store
        .write(vec![
            Op::Put {
                table: RECORDS,
                key: "x".into(),
                value: vec![1],
            },
            Op::Put {
                table: META,
                key: "y".into(),
                value: vec![2],
            },
            Op::Put {
                table: RECORDS,
                key: "x".into(),
                value: vec![3],
            },
            Op::Delete {
                table: RECORDS,
                key: "a".into(),
            },
        ])
        .await
        .expect("batch");
    assert_eq!(
        store.get(RECORDS, "x").await,
        Ok(Some(vec![3])),
        "later op wins"
    );
    assert_eq!(store.get(META, "y").await, Ok(Some(vec![2])));
    assert_eq!(store.get(RECORDS, "a").await, Ok(None));

    // A batch with a bad op applies nothing.
    let bad = store
        .write(vec![
            Op::Put {
                table: RECORDS,
                key: "z".into(),
                value: vec![9],
            },
            Op::Put {
                table: "no-such-table",
                key: "z".into(),
                value: vec![9],
            },
        ])
        .await;
    assert!(matches!(bad, Err(StoreError::UnknownTable(_))), "{bad:?}");
    assert_eq!(
        store.get(RECORDS, "z").await,
        Ok(None),
        "failed batch is all-or-nothing"
    );

    // Unknown tables are errors on reads too.
    assert!(matches!(
        store.get("nope", "k").await,
        Err(StoreError::UnknownTable(_))
    ));

    // Unicode keys.
    store
        .put(RECORDS, "ключ-🔑", vec![7])
        .await
        .expect("unicode key");
    assert_eq!(store.get(RECORDS, "ключ-🔑").await, Ok(Some(vec![7])));

    // Large values (a big token or backup): 1 MiB.
    let big = vec![0xAB; 1 << 20];
    store
        .put(RECORDS, "big", big.clone())
        .await
        .expect("large put");
    assert_eq!(store.get(RECORDS, "big").await, Ok(Some(big)));
}
