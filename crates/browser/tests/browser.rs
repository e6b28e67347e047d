//! Browser tests: run in headless Chromium by wasm-bindgen-test-runner (`cargo xtask test`).
#![cfg(target_arch = "wasm32")]
#![allow(missing_docs, clippy::unwrap_used)] // test crate: wasm_bindgen_test fns are tests

use flash_browser::{page, start_engine, sw, BrowserClock};
use flash_core::ports::Clock;
use flash_core::{Event, WalletState};
use futures::StreamExt;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn engine_answers_on_the_page_event_loop() {
    let before = BrowserClock.now_ms();
    let handle = start_engine();
    let status = handle.status().await.expect("engine answers");
    assert_eq!(
        status.state,
        WalletState::NoWallet,
        "a fresh browser profile has no wallet"
    );
    assert!(
        status.started_at_ms >= before,
        "engine used the browser clock"
    );
    let mut events = handle.clone().events().expect("subscribe");
    let first = events.next().await.expect("an event");
    assert!(matches!(first, Event::StatusChanged(_)));
}

#[wasm_bindgen_test]
fn browser_clock_is_date_now() {
    let js = js_sys::Date::now() as u64;
    let ours = BrowserClock.now_ms();
    assert!(ours >= js && ours - js < 1_000, "{ours} vs {js}");
}

#[wasm_bindgen_test]
fn ready_marker_is_set_on_the_document() {
    assert!(!page::is_ready());
    page::mark_ready();
    assert!(page::is_ready());
}

#[wasm_bindgen_test]
async fn a_missing_worker_script_is_a_clear_error() {
    assert!(
        sw::supported(),
        "the test page is a secure context (127.0.0.1)"
    );
    let err = sw::register("/no-such-flash-sw.js", || {})
        .await
        .expect_err("a 404 script must not register");
    assert!(matches!(err, sw::SwError::Register(_)), "{err:?}");
    assert!(err.to_string().contains("reload to retry"));
}

#[wasm_bindgen_test]
async fn storage_info_reports_usage_and_a_persistence_answer() {
    let granted = flash_browser::storage::request_persistence().await;
    let info = flash_browser::storage::info().await;
    assert_eq!(
        info.persisted, granted,
        "persisted() agrees with what persist() answered"
    );
    assert!(info.quota.is_some_and(|q| q > 0.0), "{info:?}");
    assert!(info.usage.is_some(), "{info:?}");
}

/// A `blob:` URL serving `bytes` (fetched like any mint address).
fn blob_url(bytes: &[u8]) -> String {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes).into());
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap();
    web_sys::Url::create_object_url_with_blob(&blob).unwrap()
}

/// A request given up on (its future dropped, as the transport's timeout does) is aborted,
/// not left running against a slow mint.
#[wasm_bindgen_test]
async fn a_request_given_up_on_is_aborted() {
    use flash_browser::http::fetch_capped;
    use flash_core::ecash::transport::FetchRequest;
    // A fetch that never answers and keeps the request it was given.
    let install = js_sys::Function::new_no_args(
        "globalThis.__realFetch = globalThis.fetch; \
         globalThis.fetch = (req) => { globalThis.__lastRequest = req; return new Promise(() => {}); };",
    );
    install.call0(&wasm_bindgen::JsValue::NULL).unwrap();
    let request = FetchRequest {
        method: "GET",
        url: "http://127.0.0.1:9/v1/info".into(),
        headers: Vec::new(),
        body: None,
    };
    let mut pending = Box::pin(fetch_capped(request, 1024));
    // Started: polled once, the request is out.
    assert!(futures::poll!(pending.as_mut()).is_pending());
    let aborted = || {
        js_sys::Function::new_no_args("return globalThis.__lastRequest.signal.aborted")
            .call0(&wasm_bindgen::JsValue::NULL)
            .unwrap()
            .as_bool()
    };
    assert_eq!(aborted(), Some(false));
    drop(pending);
    assert_eq!(aborted(), Some(true), "dropping the request aborts it");
    js_sys::Function::new_no_args("globalThis.fetch = globalThis.__realFetch;")
        .call0(&wasm_bindgen::JsValue::NULL)
        .unwrap();
}

#[wasm_bindgen_test]
async fn a_mint_answer_is_read_only_up_to_the_cap() {
    use flash_browser::http::fetch_capped;
    use flash_core::ecash::transport::FetchRequest;
    let get = |url: &str| FetchRequest {
        method: "GET",
        url: url.to_string(),
        headers: Vec::new(),
        body: None,
    };
    let small = br#"{"keysets":[]}"#;
    let answer = fetch_capped(get(&blob_url(small)), 1024).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.body_lossy(), String::from_utf8_lossy(small));

    // Twice the cap: refused in plain words, whether the size is declared or streamed.
    let big = vec![b'x'; 2 * 1024 * 1024];
    let refused = fetch_capped(get(&blob_url(&big)), 1024 * 1024).await;
    let text = format!("{:?}", refused.expect_err("a too-large answer is refused"));
    assert!(text.contains("larger than"), "{text}");
    let data_url = format!("data:application/json,{}", "x".repeat(4096));
    let refused = fetch_capped(get(&data_url), 1024).await;
    assert!(
        refused.is_err(),
        "a streamed answer past the cap is refused"
    );

    // Nothing reached: one plain sentence, no browser stack trace.
    let down = fetch_capped(get("http://127.0.0.1:1/v1/keys"), 1024)
        .await
        .expect_err("port 1 refuses");
    let text = down.to_string();
    assert!(
        !text.contains("TypeError") && !text.contains("wasm"),
        "{text}"
    );
}
