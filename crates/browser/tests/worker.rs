//! What the engine will need inside a dedicated Web Worker (issue 9) works there: waiting,
//! IndexedDB, randomness and the clock, in headless Chromium's worker scope (no `window`).
#![cfg(target_arch = "wasm32")]
#![allow(missing_docs, clippy::unwrap_used)] // test crate: wasm_bindgen_test fns are tests

use flash_browser::{timer, BrowserClock, BrowserRandom, IdbStore};
use flash_core::ports::{Clock, Random};
use flash_core::store::conformance;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
fn this_is_a_worker() {
    assert!(
        web_sys::window().is_none(),
        "no window in a dedicated worker"
    );
}

#[wasm_bindgen_test]
async fn sleep_waits_in_a_worker() {
    // Before, the timer used `window.setTimeout` and resolved at once without a window: every
    // mint deadline in a worker would have fired immediately.
    let before = BrowserClock.now_ms();
    timer::sleep(60).await;
    let waited = BrowserClock.now_ms() - before;
    assert!(waited >= 50, "waited {waited} ms for a 60 ms sleep");
}

#[wasm_bindgen_test]
async fn indexeddb_passes_the_storage_conformance_suite_in_a_worker() {
    let name = "flash-test-worker-conformance";
    let _ = IdbStore::delete(name).await;
    let store = IdbStore::open(name).await.expect("open in a worker");
    conformance::run(&store).await;
    drop(store);
    IdbStore::delete(name).await.expect("delete");
}

#[wasm_bindgen_test]
fn randomness_works_in_a_worker() {
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    BrowserRandom.fill(&mut a).unwrap();
    BrowserRandom.fill(&mut b).unwrap();
    assert_ne!(a, b);
}

/// A fresh engine over IndexedDB database `name`, served on one end of a new channel; the
/// other end (the page's) is returned.
async fn engine_served(name: &'static str) -> web_sys::MessagePort {
    let _ = IdbStore::delete(name).await;
    let (handle, task) = flash_core::spawn_engine(
        IdbStore::open(name),
        BrowserRandom,
        BrowserClock,
        flash_core::vault::InlineKdf,
        timer::sleeper(),
    );
    wasm_bindgen_futures::spawn_local(task);
    let channel = web_sys::MessageChannel::new().unwrap();
    flash_browser::remote::serve(handle, channel.port1());
    channel.port2()
}

/// The engine in a dedicated worker, over real IndexedDB, answering the page/worker protocol
/// on a MessagePort: hello, status, a new phrase (a secret, back intact), a refused unlock.
#[wasm_bindgen_test]
async fn the_engine_answers_the_protocol_from_a_worker() {
    use flash_api::protocol::{Answer, Request, VERSION};
    use flash_api::{EngineError, VaultError, WalletState};
    use flash_browser::remote::RemoteHandle;
    let remote = RemoteHandle::connect(engine_served("flash-test-remote").await);

    let Ok(Answer::Status(status)) = remote.ask(Request::Status).await else {
        panic!("a status");
    };
    assert_eq!(status.state, WalletState::NoWallet);
    assert_eq!(
        remote.engine_version(),
        Some(VERSION),
        "hello answered first"
    );
    let Ok(Answer::Phrase(words)) = remote.ask(Request::NewPhrase { words: 12 }).await else {
        panic!("a phrase");
    };
    assert_eq!(words.text().unwrap().split(' ').count(), 12);
    // The typed methods, as the UI will call them.
    assert_eq!(
        remote.unlock("whatever").await,
        Err(EngineError::Vault(VaultError::NoVault))
    );
    assert_eq!(remote.new_phrase(24).await.unwrap().split(' ').count(), 24);
    assert_eq!(remote.status().await.unwrap().state, WalletState::NoWallet);
    assert_eq!(remote.pending().await, Err(EngineError::Locked));
    // Events start with the current status, as the engine's own handle gives them.
    let mut events = remote.events().unwrap();
    use futures::StreamExt;
    let Some(flash_api::Event::StatusChanged(now)) = events.next().await else {
        panic!("the current status first");
    };
    assert_eq!(now.state, WalletState::NoWallet);
    // Disconnected: at once Stopped, never a wait.
    remote.disconnect();
    assert_eq!(remote.status().await, Err(EngineError::Stopped));
}

/// A page of another build (another protocol version) gets "stopped, reload" for every
/// request, never an answer read in another shape.
#[wasm_bindgen_test]
async fn a_page_of_another_version_is_not_answered() {
    use flash_api::protocol::{FromEngine, Request, ToEngine, VERSION};
    use flash_api::EngineError;
    let mut page = RawPage::on(engine_served("flash-test-remote-version").await);
    page.send(&ToEngine::Hello {
        version: VERSION + 1,
    });
    page.send(&ToEngine::Ask {
        id: 9,
        request: Request::Status,
    });
    let hello: FromEngine = page.next().await;
    assert_eq!(hello, FromEngine::Hello { version: VERSION });
    assert_eq!(page.answer().await, (9, Err(EngineError::Stopped)));
    page.port.set_onmessage(None);
    page.port.close();
}

/// Posts protocol messages on `port` and collects what comes back, as a page of this build
/// would, without a `RemoteHandle` (to see exactly what crosses).
struct RawPage {
    port: web_sys::MessagePort,
    rx: futures::channel::mpsc::UnboundedReceiver<Vec<u8>>,
    _on_message: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl RawPage {
    fn on(port: web_sys::MessagePort) -> Self {
        let (tx, rx) = futures::channel::mpsc::unbounded::<Vec<u8>>();
        let on_message = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |e: web_sys::MessageEvent| {
                use wasm_bindgen::JsCast;
                if let Ok(a) = e.data().dyn_into::<js_sys::Uint8Array>() {
                    let _ = tx.unbounded_send(a.to_vec());
                }
            },
        );
        port.set_onmessage(Some(wasm_bindgen::JsCast::unchecked_ref(
            on_message.as_ref(),
        )));
        port.start();
        Self {
            port,
            rx,
            _on_message: on_message,
        }
    }

    /// Posts `m` (a `ToEngine`, or a `FromEngine` when this side plays the engine).
    fn send<T: serde::Serialize>(&self, m: &T) {
        let bytes = flash_api::protocol::encode(m).unwrap();
        self.port
            .post_message(&js_sys::Uint8Array::from(bytes.as_slice()))
            .unwrap();
    }

    async fn next<T: serde::de::DeserializeOwned>(&mut self) -> T {
        use futures::StreamExt;
        flash_api::protocol::decode(&self.rx.next().await.unwrap()).unwrap()
    }

    /// The next answer, skipping events.
    async fn answer(
        &mut self,
    ) -> (
        u32,
        Result<flash_api::protocol::Answer, flash_api::EngineError>,
    ) {
        use flash_api::protocol::FromEngine;
        loop {
            if let FromEngine::Answer { id, result } = self.next().await {
                return (id, result);
            }
        }
    }
}

/// A request the page stopped waiting for is dropped on the engine's side too: no answer
/// comes for it (a poll for an invoice the user left does not run on forever).
#[wasm_bindgen_test]
async fn a_cancelled_request_gets_no_answer() {
    use flash_api::protocol::{FromEngine, Request, Secret, ToEngine, VERSION};
    let mut page = RawPage::on(engine_served("flash-test-remote-cancel").await);
    page.send(&ToEngine::Hello { version: VERSION });
    let hello: FromEngine = page.next().await;
    assert_eq!(hello, FromEngine::Hello { version: VERSION });
    // An unlock reads IndexedDB before it answers, so the cancel (sent in the same turn)
    // arrives while it runs.
    page.send(&ToEngine::Ask {
        id: 6,
        request: Request::Unlock {
            passphrase: Secret::new(b"whatever"),
        },
    });
    page.send(&ToEngine::Cancel { id: 6 });
    // The same slow request again: answered in order, so 6 would come first if it ran on.
    page.send(&ToEngine::Ask {
        id: 7,
        request: Request::Unlock {
            passphrase: Secret::new(b"whatever"),
        },
    });
    let (id, _) = page.answer().await;
    assert_eq!(id, 7, "the cancelled request 6 was not answered");
}

/// A page that drops a request before its answer tells the engine to stop waiting too.
#[wasm_bindgen_test]
async fn dropping_a_request_sends_a_cancel() {
    use flash_api::protocol::{Request, ToEngine, VERSION};
    use flash_browser::remote::RemoteHandle;
    let channel = web_sys::MessageChannel::new().unwrap();
    let mut engine_side = RawPage::on(channel.port2());
    let remote = RemoteHandle::connect(channel.port1());
    let hello: ToEngine = engine_side.next().await;
    assert_eq!(hello, ToEngine::Hello { version: VERSION });
    {
        let asked = Box::pin(remote.ask(Request::Status));
        // Polled once (so it is sent), then dropped unanswered.
        let _ = futures::poll!(asked);
    }
    let ask: ToEngine = engine_side.next().await;
    let ToEngine::Ask { id, .. } = ask else {
        panic!("the request first: {ask:?}");
    };
    let cancel: ToEngine = engine_side.next().await;
    assert_eq!(cancel, ToEngine::Cancel { id });
    remote.disconnect();
}

/// Fencing crosses to the engine's side ahead of any request: once it has, that side's
/// IndexedDB writes are refused; unfenced, they land again.
#[wasm_bindgen_test]
async fn fencing_reaches_the_engines_writes() {
    use flash_browser::remote::RemoteHandle;
    let remote = RemoteHandle::connect(engine_served("flash-test-remote-fence").await);
    let name = "flash-test-remote-fence-probe";
    let _ = IdbStore::delete(name).await;
    let probe = IdbStore::open(name).await.unwrap();
    let put = || {
        vec![flash_core::store::Op::Put {
            table: "records",
            key: "k".into(),
            value: vec![1],
        }]
    };
    use flash_core::store::Store;
    remote.fence(true);
    remote.status().await.unwrap(); // answered after the fence, which came first
    let refused = probe.write(put()).await;
    remote.fence(false);
    assert!(refused.is_err(), "a fenced engine's write landed");
    // Unfencing takes the writer lock back first (from any other engine); a request sent
    // after it is answered only once that is done, so it meets a store that writes again
    // (any request but locking and the status, which never wait; this one answers "locked").
    let _ = remote.last_backup().await;
    probe
        .write(put())
        .await
        .expect("unfenced before the next answer");
    drop(probe);
    remote.disconnect();
    IdbStore::delete(name).await.unwrap();
}

/// An engine of another build is noticed at its hello, once, so the page can offer a reload
/// instead of failing every action with "stopped".
#[wasm_bindgen_test]
async fn an_engine_of_another_version_is_reported_at_its_hello() {
    use flash_api::protocol::{FromEngine, ToEngine, VERSION};
    use flash_browser::remote::RemoteHandle;
    let channel = web_sys::MessageChannel::new().unwrap();
    let mut engine_side = RawPage::on(channel.port2());
    let remote = RemoteHandle::connect(channel.port1());
    let (tx, mut rx) = futures::channel::mpsc::unbounded::<u16>();
    remote.on_other_version(move |v| {
        let _ = tx.unbounded_send(v);
    });
    let hello: ToEngine = engine_side.next().await;
    assert_eq!(hello, ToEngine::Hello { version: VERSION });
    engine_side.send(&FromEngine::Hello {
        version: VERSION + 1,
    });
    use futures::StreamExt;
    assert_eq!(rx.next().await, Some(VERSION + 1));
    remote.disconnect();
}

/// Two engines' workers: the one that takes the writer lock last is the only one writing; the
/// first is fenced on its own thread, with no message from any page.
#[wasm_bindgen_test]
async fn the_engine_that_takes_the_writer_lock_fences_the_one_before() {
    use flash_core::store::Store;
    // Both "engines" are this worker here; what is checked is that a newer take from another
    // lock holder fences, by stealing through a second lock manager client: a nested worker
    // is not available to the test, so the steal comes from this worker's own newer take and
    // must NOT fence it (the generation check), then from a plain `navigator.locks` steal,
    // which must.
    let name = "flash-test-writer-probe";
    let _ = IdbStore::delete(name).await;
    let probe = IdbStore::open(name).await.unwrap();
    let put = || {
        vec![flash_core::store::Op::Put {
            table: "records",
            key: "k".into(),
            value: vec![1],
        }]
    };
    flash_browser::writer::take().await;
    flash_browser::writer::take().await; // steals from itself: still unfenced
    probe
        .write(put())
        .await
        .expect("this worker holds the writer lock");
    // Another holder steals it.
    let stolen = steal_writer_lock().await;
    let mut refused = Ok(());
    let deadline = BrowserClock.now_ms() + 10_000;
    while BrowserClock.now_ms() < deadline {
        refused = probe.write(put()).await;
        if refused.is_err() {
            break;
        }
        timer::sleep(0).await; // a turn for the browser to tell this worker
    }
    assert!(refused.is_err(), "writes went on after the lock was stolen");
    drop(stolen);
    flash_browser::writer::take().await;
    probe
        .write(put())
        .await
        .expect("took it back: writes again");
    drop(probe);
    IdbStore::delete(name).await.unwrap();
}

/// Steals `flash-writer` as another engine would; the lock is held until the returned
/// closure's promise is dropped with the page (tests end first).
async fn steal_writer_lock(
) -> wasm_bindgen::closure::Closure<dyn FnMut(wasm_bindgen::JsValue) -> js_sys::Promise> {
    use wasm_bindgen::JsCast;
    let global = js_sys::global();
    let navigator = js_sys::Reflect::get(&global, &"navigator".into()).unwrap();
    let locks = js_sys::Reflect::get(&navigator, &"locks".into()).unwrap();
    let request: js_sys::Function = js_sys::Reflect::get(&locks, &"request".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"steal".into(), &wasm_bindgen::JsValue::TRUE).unwrap();
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let tx = std::cell::RefCell::new(Some(tx));
    let hold =
        wasm_bindgen::closure::Closure::<dyn FnMut(wasm_bindgen::JsValue) -> js_sys::Promise>::new(
            move |_| {
                if let Some(tx) = tx.borrow_mut().take() {
                    let _ = tx.send(());
                }
                js_sys::Promise::new(&mut |_, _| {})
            },
        );
    let _ = request
        .call3(
            &locks,
            &"flash-writer".into(),
            &options,
            hold.as_ref().unchecked_ref(),
        )
        .unwrap();
    rx.await.unwrap();
    hold
}

/// A request in flight when the engine goes is "may have gone through", never "nothing was
/// changed"; one asked afterwards is plainly "stopped".
#[wasm_bindgen_test]
async fn requests_open_when_the_engine_goes_are_interrupted_not_unchanged() {
    use flash_api::protocol::{Request, ToEngine};
    use flash_api::EngineError;
    use flash_browser::remote::RemoteHandle;
    let channel = web_sys::MessageChannel::new().unwrap();
    let mut engine_side = RawPage::on(channel.port2());
    let remote = RemoteHandle::connect(channel.port1());
    let _hello: ToEngine = engine_side.next().await;
    // The engine says hello: from here on it serves, so an open request may have run.
    engine_side.send(&flash_api::protocol::FromEngine::Hello {
        version: flash_api::protocol::VERSION,
    });
    while remote.engine_version().is_none() {
        timer::sleep(0).await;
    }
    let asking = remote.clone();
    let (tx, rx) = futures::channel::oneshot::channel();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = tx.send(asking.ask(Request::Status).await);
    });
    let _ask: ToEngine = engine_side.next().await; // sent, and never answered
    remote.disconnect();
    assert_eq!(rx.await.unwrap(), Err(EngineError::Interrupted));
    assert_eq!(remote.status().await, Err(EngineError::Stopped));
}

/// An engine that loses the writer lock says so; the page takes it back only while it still
/// owns the wallet (the other engine is then a stale one), and lets it be otherwise.
#[wasm_bindgen_test]
async fn a_lost_writer_lock_is_taken_back_only_by_the_owner() {
    use flash_api::protocol::{FromEngine, ToEngine, VERSION};
    use flash_api::{Event, Sats, Status, WalletState};
    use flash_browser::remote::RemoteHandle;
    use futures::StreamExt;
    use std::cell::Cell;
    use std::rc::Rc;
    let channel = web_sys::MessageChannel::new().unwrap();
    let mut engine_side = RawPage::on(channel.port2());
    let remote = RemoteHandle::connect(channel.port1());
    let owns = Rc::new(Cell::new(false));
    let asked = owns.clone();
    remote.retake_writer_if(move || asked.get());
    let hello: ToEngine = engine_side.next().await;
    assert_eq!(hello, ToEngine::Hello { version: VERSION });
    let mut events = remote.events().unwrap();
    let status = Event::StatusChanged(Status {
        state: WalletState::Locked,
        balance: Sats(0),
        started_at_ms: 0,
        waiting_on: Vec::new(),
    });
    // Not the owner: the lost lock is left lost. (The event after it, in order on the port,
    // shows the page has read the notice; the page's next message is its own fence.)
    engine_side.send(&FromEngine::WriterLost);
    engine_side.send(&FromEngine::Event(status.clone()));
    events.next().await.unwrap();
    remote.fence(true);
    let next: ToEngine = engine_side.next().await;
    assert_eq!(
        next,
        ToEngine::Fence { on: true },
        "no take-back from a tab that lost"
    );
    // The owner takes it back.
    owns.set(true);
    engine_side.send(&FromEngine::WriterLost);
    let next: ToEngine = engine_side.next().await;
    assert_eq!(next, ToEngine::Fence { on: false });
    remote.disconnect();
}

/// The engine's side tells of a steal by another lock holder, and not of its own re-takes.
#[wasm_bindgen_test]
async fn the_engine_hears_when_another_takes_its_writer_lock() {
    use futures::StreamExt;
    let (tx, mut rx) = futures::channel::mpsc::unbounded::<()>();
    flash_browser::writer::on_stolen(move || {
        let _ = tx.unbounded_send(());
    });
    flash_browser::writer::take().await;
    flash_browser::writer::take().await; // its own newer take: no notice
    let stolen = steal_writer_lock().await;
    assert_eq!(rx.next().await, Some(()));
    assert!(rx.try_recv().is_err(), "one notice, for the steal only");
    drop(stolen);
    flash_browser::writer::take().await;
}
