//! IndexedDB storage and encryption at rest, in headless Chromium.
#![cfg(target_arch = "wasm32")]
#![allow(missing_docs, clippy::unwrap_used)] // test crate: wasm_bindgen_test fns are tests

use flash_browser::kdf::WorkerKdf;
use flash_browser::{BrowserRandom, IdbStore};
use flash_core::keys::{self, KeyHierarchy};
use flash_core::ports::Random;
use flash_core::store::{conformance, Store};
use flash_core::vault::{KdfParams, Vault, VaultError};
use rexie::{Rexie, TransactionMode};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn indexeddb_passes_the_storage_conformance_suite() {
    let name = "flash-test-conformance";
    let _ = IdbStore::delete(name).await;
    let store = IdbStore::open(name).await.expect("open");
    conformance::run(&store).await;
    // Durable across connections: a second handle (a reload) sees the same data.
    let again = IdbStore::open(name).await.expect("reopen");
    assert_eq!(again.get("records", "x").await, Ok(Some(vec![3])));
    drop((store, again));
    IdbStore::delete(name).await.expect("delete");
}

/// Two engines' connections to one wallet, each the writer in turn: the one replaced never
/// commits, even without hearing it was replaced (its in-memory fence still off), because
/// each write checks the writer epoch inside its own transaction.
#[wasm_bindgen_test]
async fn an_engine_replaced_by_a_newer_one_cannot_write() {
    use flash_browser::idb::{claim_writes, fence_writes, EPOCH_KEY};
    let name = "flash-test-writer-epoch";
    let _ = IdbStore::delete(name).await;
    let put = |v: u8| {
        vec![flash_core::store::Op::Put {
            table: "records",
            key: "k".into(),
            value: vec![v],
        }]
    };
    let epoch = |bytes: Option<Vec<u8>>| u64::from_be_bytes(bytes.unwrap().try_into().unwrap());
    let (told, mut heard) = futures::channel::mpsc::unbounded::<()>();
    flash_browser::writer::on_stolen(move || {
        let _ = told.unbounded_send(());
    });
    fence_writes(false); // this thread is the writer
    let old = IdbStore::open_as_writer(name).await.expect("open");
    let first = epoch(old.get("meta", EPOCH_KEY).await.unwrap());
    old.write(put(1)).await.expect("the writer writes");

    // A newer engine becomes the writer: it bumps the epoch when it opens.
    let newer = IdbStore::open_as_writer(name).await.expect("open");
    assert_eq!(
        epoch(newer.get("meta", EPOCH_KEY).await.unwrap()),
        first + 1
    );
    let refused = old.write(put(2)).await;
    assert!(
        matches!(refused, Err(flash_core::store::StoreError::Write(_))),
        "the replaced engine's write is refused: {refused:?}"
    );
    assert_eq!(
        old.get("records", "k").await,
        Ok(Some(vec![1])),
        "nothing landed"
    );
    assert!(
        heard.try_recv().is_ok(),
        "told, so a page that owns the wallet takes it back"
    );

    // This thread stays fenced until it is made the writer again; the newer engine then
    // writes (its claim bumps the epoch once more).
    let fenced = newer.write(put(3)).await;
    assert!(fenced.is_err(), "fenced after being replaced: {fenced:?}");
    drop(old);
    fence_writes(false);
    // Two writes queued before either has claimed: the first claims, the second goes ahead
    // under that claim (not a second bump, which would make the first's epoch stale).
    let (a, b) = futures::join!(newer.write(put(3)), newer.write(put(3)));
    a.expect("the writer writes");
    b.expect("and again, under the same claim");
    assert_eq!(
        epoch(newer.get("meta", EPOCH_KEY).await.unwrap()),
        first + 2
    );
    // Becoming the writer bumps the epoch at once, before any write of its own.
    fence_writes(false);
    claim_writes().await;
    assert_eq!(
        epoch(newer.get("meta", EPOCH_KEY).await.unwrap()),
        first + 3
    );
    assert_eq!(newer.get("records", "k").await, Ok(Some(vec![3])));
    drop(newer);
    IdbStore::delete(name).await.expect("delete");
}

/// Once another tab has taken the wallet, nothing this page still has in flight may write.
#[wasm_bindgen_test]
async fn a_fenced_page_cannot_write() {
    let name = "flash-test-fence";
    let _ = IdbStore::delete(name).await;
    let store = IdbStore::open(name).await.expect("open");
    let put = |v: u8| {
        vec![flash_core::store::Op::Put {
            table: "records",
            key: "k".into(),
            value: vec![v],
        }]
    };
    store.write(put(1)).await.expect("an owner writes");
    flash_browser::idb::fence_writes(true);
    let refused = store.write(put(2)).await;
    flash_browser::idb::fence_writes(false);
    assert!(
        matches!(refused, Err(flash_core::store::StoreError::Write(_))),
        "{refused:?}"
    );
    assert_eq!(
        store.get("records", "k").await,
        Ok(Some(vec![1])),
        "nothing changed"
    );
    store.write(put(3)).await.expect("the owner again");
    assert_eq!(store.get("records", "k").await, Ok(Some(vec![3])));
    drop(store);
    IdbStore::delete(name).await.expect("delete");
}

/// Every readwrite transaction the page opens is recorded with the durability it asked for.
fn spy_on_transactions() -> js_sys::Array {
    let install = js_sys::Function::new_no_args(
        "const seen = [];
         const original = IDBDatabase.prototype.transaction;
         IDBDatabase.prototype.transaction = function (names, mode, options) {
           if (mode === 'readwrite') seen.push(String(options && options.durability));
           return original.apply(this, arguments);
         };
         return seen;",
    );
    install.call0(&JsValue::NULL).unwrap().into()
}

#[wasm_bindgen_test]
async fn money_writes_ask_for_strict_durability() {
    let seen = spy_on_transactions();
    let name = "flash-test-durability";
    let _ = IdbStore::delete(name).await;
    let store = IdbStore::open(name).await.expect("open");
    store
        .write(vec![flash_core::store::Op::Put {
            table: "records",
            key: "k".into(),
            value: vec![1],
        }])
        .await
        .unwrap();
    store
        .write(vec![flash_core::store::Op::Delete {
            table: "records",
            key: "k".into(),
        }])
        .await
        .unwrap();
    let seen: Vec<String> = seen.iter().filter_map(|v| v.as_string()).collect();
    assert!(!seen.is_empty(), "no write transaction was seen");
    assert!(
        seen.iter().all(|d| d == "strict"),
        "every write must be strict, saw {seen:?}"
    );
    assert_eq!(store.get("records", "k").await, Ok(None));
    drop(store);
    IdbStore::delete(name).await.expect("delete");
}

#[wasm_bindgen_test]
fn browser_randomness_is_random() {
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    BrowserRandom.fill(&mut a).unwrap();
    BrowserRandom.fill(&mut b).unwrap();
    assert_ne!(a, b);
    assert_ne!(a, [0u8; 32]);
    let mut big = vec![0u8; 100_000]; // above getRandomValues' 64 KiB limit
    BrowserRandom.fill(&mut big).unwrap();
    assert!(big[70_000..].iter().any(|&x| x != 0));
}

/// Every byte in every IndexedDB object store of `db_name`, plus localStorage,
/// sessionStorage and Cache Storage, as one lossy string per item.
async fn dump_everything(db_name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let db = Rexie::builder(db_name).build().await.expect("open raw");
    for table in db.store_names() {
        let tx = db
            .transaction(&[&table], TransactionMode::ReadOnly)
            .unwrap();
        let store = tx.store(&table).unwrap();
        for key in store.get_all_keys(None, None).await.unwrap() {
            out.push(key.as_string().unwrap_or_default());
        }
        for value in store.get_all(None, None).await.unwrap() {
            let bytes = value
                .dyn_into::<js_sys::Uint8Array>()
                .map(|a| a.to_vec())
                .unwrap_or_default();
            out.push(String::from_utf8_lossy(&bytes).into_owned());
            out.push(bytes.iter().map(|b| format!("{b:02x}")).collect());
        }
    }
    db.close();
    let window = web_sys::window().unwrap();
    for storage in [window.local_storage(), window.session_storage()] {
        if let Ok(Some(s)) = storage {
            for i in 0..s.length().unwrap_or(0) {
                let k = s.key(i).unwrap().unwrap_or_default();
                out.push(s.get_item(&k).unwrap().unwrap_or_default());
                out.push(k);
            }
        }
    }
    let caches = window.caches().unwrap();
    let names: js_sys::Array = JsFuture::from(caches.keys()).await.unwrap().into();
    for name in names.iter() {
        let name = name.as_string().unwrap();
        let cache: web_sys::Cache = JsFuture::from(caches.open(&name)).await.unwrap().into();
        let requests: js_sys::Array = JsFuture::from(cache.keys()).await.unwrap().into();
        for req in requests.iter() {
            let req: web_sys::Request = req.into();
            out.push(req.url());
            let resp: web_sys::Response = JsFuture::from(cache.match_with_request(&req))
                .await
                .unwrap()
                .into();
            let text = JsFuture::from(resp.text().unwrap()).await.unwrap();
            out.push(text.as_string().unwrap_or_default());
        }
        out.push(name);
    }
    out
}

#[wasm_bindgen_test]
async fn nothing_secret_is_stored_in_plaintext() {
    let name = "flash-test-at-rest";
    let _ = IdbStore::delete(name).await;
    let words = keys::generate(12, &BrowserRandom).unwrap();
    let phrase = words.to_string();
    let hierarchy = KeyHierarchy::from_mnemonic(&words);
    let nostr_hex: String = hierarchy
        .nostr_secret()
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let seed_hex: String = hierarchy
        .cashu_seed()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let sample = "sample-secret-token-cashuBo2FteCJodHRw";

    // Something for every storage API, so the dump covers them all.
    let window = web_sys::window().unwrap();
    window
        .local_storage()
        .unwrap()
        .unwrap()
        .set_item("flash-ui-locale", "en")
        .unwrap();
    let cache: web_sys::Cache = JsFuture::from(window.caches().unwrap().open("flash-test"))
        .await
        .unwrap()
        .into();
    JsFuture::from(cache.put_with_str(
        "/shell",
        &web_sys::Response::new_with_opt_str(Some("shell")).unwrap(),
    ))
    .await
    .unwrap();

    let store = IdbStore::open(name).await.unwrap();
    let vault = Vault::create(
        store,
        "a long enough passphrase",
        KdfParams::DEFAULT,
        &BrowserRandom,
        &WorkerKdf, // no worker script on the test server: exercises the inline fallback
    )
    .await
    .expect("create");
    // What is at rest before any secret is written: names Flash keeps in the clear on purpose
    // (database, tables, meta keys, localStorage keys). A BIP39 word found there already
    // ("flash", "vault", ...) says nothing about the secrets.
    let before = dump_everything(name).await;
    vault
        .put("records", "mnemonic", phrase.as_bytes(), &BrowserRandom)
        .await
        .unwrap();
    vault
        .put(
            "records",
            "nostr-secret",
            nostr_hex.as_bytes(),
            &BrowserRandom,
        )
        .await
        .unwrap();
    vault
        .put("records", "sample", sample.as_bytes(), &BrowserRandom)
        .await
        .unwrap();
    drop(vault.lock());

    let dump = dump_everything(name).await;
    assert!(
        dump.iter().any(|s| s.contains("flash-ui-locale")),
        "the dump sees localStorage"
    );
    assert!(
        dump.iter().any(|s| s.contains("/shell")),
        "the dump sees Cache Storage"
    );
    assert!(dump.len() > 6, "the dump sees IndexedDB: {}", dump.len());
    let needles: Vec<&str> = {
        // Single words, except BIP39 words that are also names Flash stores in the clear on
        // purpose (meta keys, header fields, table names, the database's own name): a random
        // phrase holding "vault" or "flash" must not fail the test.
        const SCHEMA_NAMES: &[&str] = &["vault", "memory", "record", "table", "ecash", "version"];
        let mut v: Vec<&str> = phrase
            .split(' ')
            .filter(|w| w.len() >= 5 && !SCHEMA_NAMES.contains(w))
            .filter(|w| !before.iter().any(|s| s.contains(w)))
            .collect();
        v.extend([
            phrase.as_str(),
            nostr_hex.as_str(),
            &seed_hex[..32],
            sample,
            "mnemonic",
            "nostr-secret",
        ]);
        v
    };
    for item in &dump {
        for needle in &needles {
            assert!(!item.contains(needle), "found {needle:?} at rest");
        }
    }

    // And the data is really there: the right passphrase opens it, a wrong one does not.
    let store = IdbStore::open(name).await.unwrap();
    let clock = flash_browser::BrowserClock;
    assert_eq!(
        Vault::unlock(store.clone(), "wrong passphrase", &clock, &WorkerKdf)
            .await
            .unwrap_err(),
        VaultError::WrongPassphrase
    );
    let vault = Vault::unlock(store, "a long enough passphrase", &clock, &WorkerKdf)
        .await
        .unwrap();
    assert_eq!(
        vault
            .get("records", "mnemonic")
            .await
            .unwrap()
            .unwrap()
            .as_slice(),
        phrase.as_bytes()
    );
    drop(vault);
    let _ = JsFuture::from(window.caches().unwrap().delete("flash-test")).await;
    window
        .local_storage()
        .unwrap()
        .unwrap()
        .remove_item("flash-ui-locale")
        .unwrap();
    IdbStore::delete(name).await.unwrap();
}

/// A tab holding the database open at an older version, deaf to `versionchange` (an old copy
/// of Flash), blocks the upgrade: opening says so at once instead of hanging, and once that
/// tab has gone the database opens and upgrades as usual.
#[wasm_bindgen_test]
async fn an_older_tab_that_holds_on_is_reported_not_waited_for() {
    let name = "flash-test-blocked";
    let _ = IdbStore::delete(name).await;
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let old = factory.open_with_u32(name, 1).unwrap();
    let opened = js_sys::Promise::new(&mut |resolve, _| old.set_onsuccess(Some(&resolve)));
    JsFuture::from(opened).await.unwrap();
    let old_db: web_sys::IdbDatabase = old.result().unwrap().dyn_into().unwrap();

    let blocked = IdbStore::open(name).await;
    assert!(
        matches!(blocked, Err(flash_core::store::StoreError::Blocked)),
        "{:?}",
        blocked.err()
    );

    old_db.close();
    let store = IdbStore::open(name)
        .await
        .expect("opens once the old tab is gone");
    store
        .write(vec![flash_core::store::Op::Put {
            table: flash_core::store::ECASH,
            key: "k".into(),
            value: b"v".to_vec(),
        }])
        .await
        .expect("every table is there");
    drop(store);
}
