//! The page/worker protocol ([`flash_api::protocol`]) over a `MessagePort`. [`serve`] runs
//! on the engine's side: it answers each request with the engine's handle and forwards the
//! engine's events. [`RemoteHandle`] runs on the page's side: it asks and awaits the answer
//! by id. Messages are postcard bytes in a transferred `ArrayBuffer`. The receiving side
//! zeroes the JS buffer once read, and the Rust-side buffers are zeroized after use.
//!
//! The app runs the engine in its own worker (`crates/engine-worker`, started by
//! [`crate::worker`]); the worker tests drive both ends in a dedicated worker, with real
//! IndexedDB.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use flash_api::protocol::{decode, encode, Answer, FromEngine, Request, ToEngine, VERSION};
use flash_api::{EngineError, Event};
use futures::channel::{mpsc, oneshot};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use zeroize::Zeroizing;

/// Posts `message` on `port`, its buffer transferred. False when it could not be sent.
fn post<T: serde::Serialize>(port: &web_sys::MessagePort, message: &T) -> bool {
    let Ok(bytes) = encode(message) else {
        return false;
    };
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let transfer = js_sys::Array::of1(&array.buffer());
    port.post_message_with_transferable(&array, &transfer)
        .is_ok()
}

/// The bytes of a message's data (a `Uint8Array`, as [`post`] sends), if it is one. The JS
/// copy is zeroed once read (it may hold a passphrase or the words).
fn bytes_of(event: &web_sys::MessageEvent) -> Option<Zeroizing<Vec<u8>>> {
    let array = event.data().dyn_into::<js_sys::Uint8Array>().ok()?;
    let bytes = Zeroizing::new(array.to_vec());
    array.fill(0, 0, array.length());
    Some(bytes)
}

/// Answers every request arriving on `port` with `handle`, and sends the engine's events
/// there, for the rest of the port's life. Requests are answered only after a `Hello` of this
/// build's [`VERSION`]: a page of another build gets [`EngineError::Stopped`] (reload) for
/// each, never a misread. Unreadable messages are ignored.
#[cfg(feature = "engine")]
pub fn serve(handle: flash_core::WalletHandle, port: web_sys::MessagePort) {
    if let Ok(mut events) = handle.events() {
        let port = port.clone();
        wasm_bindgen_futures::spawn_local(async move {
            use futures::StreamExt;
            while let Some(event) = events.next().await {
                post(&port, &FromEngine::Event(event));
            }
        });
    }
    let answering = port.clone();
    let watchers = flash_core::engine::watch::Watchers::new(
        Rc::new(wasm_bindgen_futures::spawn_local),
        crate::timer::sleeper(),
    );
    {
        let port = port.clone();
        crate::writer::on_stolen(move || {
            post(&port, &FromEngine::WriterLost);
        });
    }
    let greeted = Rc::new(Cell::new(false));
    // The requests still being answered, so the page can stop waiting for one.
    let running: Rc<RefCell<HashMap<u32, futures::future::AbortHandle>>> = Rc::default();
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e| {
        let Some(bytes) = bytes_of(&e) else { return };
        match decode::<ToEngine>(&bytes) {
            Ok(ToEngine::Hello { version }) => {
                greeted.set(version == VERSION);
                post(&answering, &FromEngine::Hello { version: VERSION });
            }
            // Fencing stops writes at once, whatever the version (only the page holds this
            // port). Unfencing takes the writer lock back first (`writer`): the page got the
            // wallet back, and this worker must be the only engine writing again.
            Ok(ToEngine::Fence { on: true }) => crate::writer::fence(),
            Ok(ToEngine::Fence { on: false }) => {
                wasm_bindgen_futures::spawn_local(crate::writer::take())
            }
            Ok(ToEngine::Cancel { id }) => {
                if let Some(abort) = running.borrow_mut().remove(&id) {
                    abort.abort();
                }
            }
            Ok(ToEngine::Ask { id, .. }) if !greeted.get() => {
                post(
                    &answering,
                    &FromEngine::Answer {
                        id,
                        result: Err(EngineError::Stopped),
                    },
                );
            }
            Ok(ToEngine::Ask { id, request }) => {
                let (handle, port, watchers) =
                    (handle.clone(), answering.clone(), watchers.clone());
                let (abort, registration) = futures::future::AbortHandle::new_pair();
                if let Some(older) = running.borrow_mut().insert(id, abort) {
                    older.abort(); // the page reused an id: it no longer waits for the old one
                }
                let running = running.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let answered = futures::future::Abortable::new(
                        async {
                            // Behind a take still under way (the page just got the
                            // wallet back): the store is fenced until it settles. Locking
                            // and asking the status never wait (they do not write, and a
                            // tab losing the wallet must wipe the keys at once).
                            if !matches!(
                                request,
                                Request::Lock | Request::LockNow | Request::Status
                            ) {
                                crate::writer::settled().await;
                            }
                            flash_core::engine::serve::answer(
                                &handle,
                                request,
                                crate::timer::sleeper(),
                                &watchers,
                            )
                            .await
                        },
                        registration,
                    )
                    .await;
                    // Cancelled: the page stopped waiting and expects no answer.
                    if let Ok(result) = answered {
                        running.borrow_mut().remove(&id);
                        post(&port, &FromEngine::Answer { id, result });
                    }
                });
            }
            // A request of a shape this build does not know: answered, never left hanging.
            Err(_) => {
                if let Some(id) = flash_api::protocol::asked_id(&bytes) {
                    post(
                        &answering,
                        &FromEngine::Answer {
                            id,
                            result: Err(EngineError::Stopped),
                        },
                    );
                }
            }
        }
    });
    port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget(); // for the port's life
    port.start();
}

/// What runs when the engine is of another build.
type VersionHook = Rc<dyn Fn(u16)>;

/// What the page side keeps between messages.
#[derive(Default)]
struct Shared {
    waiting: RefCell<HashMap<u32, oneshot::Sender<Result<Answer, EngineError>>>>,
    listeners: RefCell<Vec<mpsc::UnboundedSender<Event>>>,
    /// The last event, so a new listener starts with the current status (as the engine's
    /// own `events()` does).
    last: RefCell<Option<Event>>,
    version: Cell<Option<u16>>,
    closed: Cell<bool>,
    /// Runs when the engine says hello with another version (see [`RemoteHandle::on_other_version`]).
    on_other_version: RefCell<Option<VersionHook>>,
    /// Whether to take the writer lock back when the engine loses it (see
    /// [`RemoteHandle::retake_writer_if`]).
    retake_if: RefCell<Option<Rc<dyn Fn() -> bool>>>,
}

/// The port's message handler, unhooked when the last clone of the handle goes (a message
/// arriving later must not call a dropped closure).
struct Listening {
    port: web_sys::MessagePort,
    _closure: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.port.set_onmessage(None);
    }
}

/// The page's handle on an engine behind a port. Cheap to clone; clones share the port.
#[derive(Clone)]
pub struct RemoteHandle {
    port: web_sys::MessagePort,
    next: Rc<Cell<u32>>,
    shared: Rc<Shared>,
    _listening: Rc<Listening>,
}

impl std::fmt::Debug for RemoteHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RemoteHandle")
    }
}

impl RemoteHandle {
    /// Talks to the engine served on the other end of `port`, and says hello.
    pub fn connect(port: web_sys::MessagePort) -> Self {
        let shared = Rc::new(Shared::default());
        let on_message = {
            let (shared, port) = (shared.clone(), port.clone());
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e| {
                let Some(bytes) = bytes_of(&e) else { return };
                match decode::<FromEngine>(&bytes) {
                    Ok(FromEngine::Answer { id, result }) => {
                        if let Some(reply) = shared.waiting.borrow_mut().remove(&id) {
                            let _ = reply.send(result);
                        }
                    }
                    Ok(FromEngine::Event(event)) => {
                        shared
                            .listeners
                            .borrow_mut()
                            .retain(|l| l.unbounded_send(event.clone()).is_ok());
                        // Only the status greets a new listener (not an old announcement).
                        if matches!(event, Event::StatusChanged(_)) {
                            *shared.last.borrow_mut() = Some(event);
                        }
                    }
                    Ok(FromEngine::Hello { version: v }) => {
                        shared.version.set(Some(v));
                        let hook = shared.on_other_version.borrow().clone();
                        if let (true, Some(hook)) = (v != VERSION, hook) {
                            hook(v);
                        }
                    }
                    Ok(FromEngine::WriterLost) => {
                        let (shared, port) = (shared.clone(), port.clone());
                        wasm_bindgen_futures::spawn_local(async move {
                            // A loss of this tab's own lock may be on its way still (a tab
                            // waking from a freeze): a lock query answers on the Web Locks
                            // task source, after any loss already queued there.
                            crate::tabs::locks_settled().await;
                            let retake = shared.retake_if.borrow().clone();
                            if retake.is_some_and(|owns| owns()) && !shared.closed.get() {
                                post(&port, &ToEngine::Fence { on: false });
                            }
                        });
                    }
                    Err(_) => {}
                }
            })
        };
        port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        port.start();
        if !post(&port, &ToEngine::Hello { version: VERSION }) {
            shared.closed.set(true);
        }
        Self {
            port: port.clone(),
            next: Rc::new(Cell::new(1)),
            shared,
            _listening: Rc::new(Listening {
                port,
                _closure: on_message,
            }),
        }
    }

    /// A handle with no engine behind it: everything answers [`EngineError::Stopped`] (the
    /// engine could not start).
    pub fn stopped() -> Self {
        let channel = web_sys::MessageChannel::new();
        let port = match &channel {
            Ok(c) => c.port1(),
            // No channels at all: a stand-in whose methods do nothing (never reached: the
            // handle is closed before it is returned; `connect` only starts and says hello).
            Err(_) => {
                let standin = js_sys::Object::new();
                for method in ["start", "close", "postMessage"] {
                    let nothing = Closure::<dyn FnMut()>::new(|| {}).into_js_value();
                    let _ = js_sys::Reflect::set(&standin, &JsValue::from_str(method), &nothing);
                }
                JsValue::from(standin).unchecked_into()
            }
        };
        let handle = Self::connect(port);
        handle.disconnect();
        handle
    }

    /// Stops (`true`) or allows again the engine's writes, ahead of any request.
    pub fn fence(&self, on: bool) {
        if !self.shared.closed.get() {
            post(&self.port, &ToEngine::Fence { on });
        }
    }

    /// Runs `hook(version)` if the engine turns out to be of another build (its every answer
    /// would be `Stopped`): the page can say so and offer a reload instead of failing each
    /// action one by one. Set before the engine's hello arrives (right after `connect`).
    pub fn on_other_version(&self, hook: impl Fn(u16) + 'static) {
        *self.shared.on_other_version.borrow_mut() = Some(Rc::new(hook));
    }

    /// When the engine says another engine took its writer lock, it is given back to it if
    /// `owns()` (this tab still holds the wallet: the other engine is a stale one, say a tab
    /// frozen while its worker loaded); otherwise it stays fenced.
    pub fn retake_writer_if(&self, owns: impl Fn() -> bool + 'static) {
        *self.shared.retake_if.borrow_mut() = Some(Rc::new(owns));
    }

    /// The engine's protocol version, once it has said hello (`None` before).
    pub fn engine_version(&self) -> Option<u16> {
        self.shared.version.get()
    }

    /// Asks the engine; resolves with its answer. After [`RemoteHandle::disconnect`], or when
    /// the message cannot be sent, it answers [`EngineError::Stopped`] at once.
    pub async fn ask(&self, request: Request) -> Result<Answer, EngineError> {
        if self.shared.closed.get() {
            return Err(EngineError::Stopped);
        }
        // The next id no open request holds (ids wrap after 2^32).
        let mut id = self.next.get();
        while self.shared.waiting.borrow().contains_key(&id) {
            id = id.wrapping_add(1);
        }
        self.next.set(id.wrapping_add(1));
        let (reply, answer) = oneshot::channel();
        self.shared.waiting.borrow_mut().insert(id, reply);
        if !post(&self.port, &ToEngine::Ask { id, request }) {
            self.shared.waiting.borrow_mut().remove(&id);
            return Err(EngineError::Stopped);
        }
        let mut waiting = Waiting {
            id,
            handle: self,
            answered: false,
        };
        let result = answer.await.map_err(|_| EngineError::Stopped);
        waiting.answered = true;
        result?
    }

    /// The engine's events from now on, starting with the last one seen (the current
    /// status), as `WalletHandle::events` does.
    pub fn events(&self) -> Result<mpsc::UnboundedReceiver<Event>, EngineError> {
        if self.shared.closed.get() {
            return Err(EngineError::Stopped);
        }
        let (tx, rx) = mpsc::unbounded();
        if let Some(last) = self.shared.last.borrow().clone() {
            let _ = tx.unbounded_send(last);
        }
        self.shared.listeners.borrow_mut().push(tx);
        Ok(rx)
    }

    /// Stops talking: every open request answers [`EngineError::Interrupted`] (it may have
    /// happened), every later one [`EngineError::Stopped`], event streams end (the engine's
    /// worker died or was replaced).
    pub fn disconnect(&self) {
        self.shared.closed.set(true);
        self.port.set_onmessage(None);
        // Asked and not answered: the engine may have done it. Said so, never "nothing
        // was changed" (a payment may have reached the mint).
        // Before the engine's hello nothing was being served: those were never started.
        let served = self.shared.version.get() == Some(VERSION);
        let open: Vec<_> = self.shared.waiting.borrow_mut().drain().collect();
        for (_, reply) in open {
            let _ = reply.send(Err(if served {
                EngineError::Interrupted
            } else {
                EngineError::Stopped
            }));
        }
        self.shared.listeners.borrow_mut().clear();
        self.port.close();
    }
}

/// An asked request whose answer has not come: dropped unanswered (the screen that asked
/// went away), it tells the engine to stop waiting too, so polls do not pile up there.
struct Waiting<'a> {
    id: u32,
    handle: &'a RemoteHandle,
    answered: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.answered || self.handle.shared.closed.get() {
            return;
        }
        if self
            .handle
            .shared
            .waiting
            .borrow_mut()
            .remove(&self.id)
            .is_some()
        {
            post(&self.handle.port, &ToEngine::Cancel { id: self.id });
        }
    }
}

/// The answer `$variant` of `$asked`, or [`EngineError::Stopped`] for any other (a worker of
/// another build: the page reloads).
macro_rules! expect {
    ($asked:expr, $variant:ident) => {
        match $asked.await? {
            Answer::$variant(value) => Ok(value),
            _ => Err(EngineError::Stopped),
        }
    };
}

/// Done, or [`EngineError::Stopped`] for any other answer.
async fn done(
    asked: impl std::future::Future<Output = Result<Answer, EngineError>>,
) -> Result<(), EngineError> {
    match asked.await? {
        Answer::Done => Ok(()),
        _ => Err(EngineError::Stopped),
    }
}

fn secret(text: &str) -> flash_api::protocol::Secret {
    flash_api::protocol::Secret::new(text.as_bytes())
}

/// The same methods as the engine's `WalletHandle`, so the UI can hold either. Where the
/// handle takes a sleep function (`await_invoice`, `pay`) this one does not: the engine's
/// side waits with its own timer.
impl RemoteHandle {
    /// See `WalletHandle::status`.
    pub async fn status(&self) -> Result<flash_api::Status, EngineError> {
        expect!(self.ask(Request::Status), Status)
    }

    /// See `WalletHandle::new_phrase`.
    pub async fn new_phrase(&self, words: usize) -> Result<Zeroizing<String>, EngineError> {
        let words = u8::try_from(words)
            .map_err(|_| EngineError::Mnemonic(flash_api::MnemonicError::WordCount(words)))?;
        let phrase = expect!(self.ask(Request::NewPhrase { words }), Phrase)?;
        Ok(Zeroizing::new(
            String::from_utf8_lossy(phrase.bytes()).into_owned(),
        ))
    }

    /// See `WalletHandle::setup`.
    pub async fn setup(
        &self,
        phrase: &str,
        passphrase: &str,
    ) -> Result<flash_api::Identity, EngineError> {
        expect!(
            self.ask(Request::Setup {
                phrase: secret(phrase),
                passphrase: secret(passphrase),
            }),
            Identity
        )
    }

    /// See `WalletHandle::unlock`.
    pub async fn unlock(&self, passphrase: &str) -> Result<flash_api::Identity, EngineError> {
        expect!(
            self.ask(Request::Unlock {
                passphrase: secret(passphrase),
            }),
            Identity
        )
    }

    /// See `WalletHandle::lock`.
    pub async fn lock(&self) -> Result<(), EngineError> {
        done(self.ask(Request::Lock)).await
    }

    /// See `WalletHandle::lock_now`.
    pub async fn lock_now(&self) -> Result<(), EngineError> {
        done(self.ask(Request::LockNow)).await
    }

    /// See `WalletHandle::export_backup`.
    pub async fn export_backup(&self) -> Result<Vec<u8>, EngineError> {
        expect!(self.ask(Request::ExportBackup), Backup)
    }

    /// See `WalletHandle::backup_saved`.
    pub async fn backup_saved(&self) -> Result<(), EngineError> {
        done(self.ask(Request::BackupSaved)).await
    }

    /// See `WalletHandle::import_backup`.
    pub async fn import_backup(
        &self,
        file: Vec<u8>,
        passphrase: &str,
    ) -> Result<flash_api::Identity, EngineError> {
        expect!(
            self.ask(Request::ImportBackup {
                file,
                passphrase: secret(passphrase),
            }),
            Identity
        )
    }

    /// See `WalletHandle::last_backup`.
    pub async fn last_backup(&self) -> Result<Option<u64>, EngineError> {
        expect!(self.ask(Request::LastBackup), LastBackup)
    }

    /// See `WalletHandle::change_passphrase`.
    pub async fn change_passphrase(
        &self,
        current: &str,
        new: &str,
        keep_passkey: bool,
    ) -> Result<(), EngineError> {
        done(self.ask(Request::ChangePassphrase {
            current: secret(current),
            new: secret(new),
            keep_passkey,
        }))
        .await
    }

    /// See `WalletHandle::set_nsec`.
    pub async fn set_nsec(&self, nsec: Option<&str>) -> Result<flash_api::Identity, EngineError> {
        expect!(
            self.ask(Request::SetNsec {
                nsec: nsec.map(secret),
            }),
            Identity
        )
    }

    /// See `WalletHandle::passkey`.
    pub async fn passkey(&self) -> Result<Option<flash_api::views::PasskeyRequest>, EngineError> {
        expect!(self.ask(Request::Passkey), Passkey)
    }

    /// See `WalletHandle::add_passkey`.
    pub async fn add_passkey(
        &self,
        passphrase: &str,
        credential_id: Vec<u8>,
        prf_salt: Vec<u8>,
        prf_output: Vec<u8>,
    ) -> Result<(), EngineError> {
        let prf_output = Zeroizing::new(prf_output);
        done(self.ask(Request::AddPasskey {
            passphrase: secret(passphrase),
            credential_id,
            prf_salt,
            prf_output: flash_api::protocol::Secret::new(prf_output.as_slice()),
        }))
        .await
    }

    /// See `WalletHandle::remove_passkey`.
    pub async fn remove_passkey(&self) -> Result<(), EngineError> {
        done(self.ask(Request::RemovePasskey)).await
    }

    /// See `WalletHandle::unlock_with_passkey`.
    pub async fn unlock_with_passkey(
        &self,
        prf_output: Vec<u8>,
    ) -> Result<flash_api::Identity, EngineError> {
        let prf_output = Zeroizing::new(prf_output);
        expect!(
            self.ask(Request::UnlockWithPasskey {
                prf_output: flash_api::protocol::Secret::new(prf_output.as_slice()),
            }),
            Identity
        )
    }

    /// See `WalletHandle::identity`.
    pub async fn identity(&self) -> Result<flash_api::Identity, EngineError> {
        expect!(self.ask(Request::Identity), Identity)
    }

    /// See `WalletHandle::add_mint`.
    pub async fn add_mint(&self, url: &str) -> Result<flash_api::views::MintView, EngineError> {
        expect!(self.ask(Request::AddMint { url: url.into() }), Mint)
    }

    /// See `WalletHandle::remove_mint`.
    pub async fn remove_mint(&self, url: &str, force: bool) -> Result<(), EngineError> {
        done(self.ask(Request::RemoveMint {
            url: url.into(),
            force,
        }))
        .await
    }

    /// See `WalletHandle::mints`.
    pub async fn mints(&self) -> Result<Vec<flash_api::views::MintView>, EngineError> {
        expect!(self.ask(Request::Mints), Mints)
    }

    /// See `WalletHandle::invoice`.
    pub async fn invoice(
        &self,
        mint: &str,
        sats: u64,
    ) -> Result<flash_api::views::InvoiceView, EngineError> {
        expect!(
            self.ask(Request::Invoice {
                mint: mint.into(),
                sats,
            }),
            Invoice
        )
    }

    /// See `WalletHandle::await_invoice` (the engine's side polls).
    pub async fn await_invoice(&self, mint: &str, quote_id: &str) -> Result<u64, EngineError> {
        expect!(
            self.ask(Request::AwaitInvoice {
                mint: mint.into(),
                quote_id: quote_id.into(),
            }),
            Sats
        )
    }

    /// See `WalletHandle::quote_payment`.
    pub async fn quote_payment(
        &self,
        mint: &str,
        invoice: &str,
    ) -> Result<flash_api::views::MeltPreview, EngineError> {
        expect!(
            self.ask(Request::QuotePayment {
                mint: mint.into(),
                invoice: invoice.into(),
            }),
            Preview
        )
    }

    /// See `WalletHandle::pay` (the engine's side polls).
    pub async fn pay(
        &self,
        mint: &str,
        quote_id: &str,
    ) -> Result<flash_api::views::Paid, EngineError> {
        expect!(
            self.ask(Request::Pay {
                mint: mint.into(),
                quote_id: quote_id.into(),
            }),
            Paid
        )
    }

    /// See `WalletHandle::send_token`.
    pub async fn send_token(
        &self,
        mint: &str,
        sats: u64,
        memo: Option<String>,
        offline: bool,
        lock: Option<flash_api::views::Lock>,
    ) -> Result<flash_api::views::SentToken, EngineError> {
        expect!(
            self.ask(Request::SendToken {
                mint: mint.into(),
                sats,
                memo,
                offline,
                lock,
            }),
            Sent
        )
    }

    /// See `WalletHandle::lock_pubkey`.
    pub async fn lock_pubkey(&self) -> Result<Option<String>, EngineError> {
        expect!(self.ask(Request::LockPubkey), LockPubkey)
    }

    /// See `WalletHandle::inspect_token`.
    pub async fn inspect_token(
        &self,
        token: &str,
    ) -> Result<flash_api::views::TokenView, EngineError> {
        expect!(
            self.ask(Request::InspectToken {
                token: secret(token),
            }),
            Token
        )
    }

    /// See `WalletHandle::receive_token`.
    pub async fn receive_token(
        &self,
        token: &str,
        add_new_mint: bool,
    ) -> Result<flash_api::views::Received, EngineError> {
        expect!(
            self.ask(Request::ReceiveToken {
                token: secret(token),
                add_new_mint,
            }),
            Received
        )
    }

    /// See `WalletHandle::failed_tokens`.
    pub async fn failed_tokens(&self) -> Result<Vec<flash_api::views::FailedToken>, EngineError> {
        expect!(self.ask(Request::FailedTokens), Failed)
    }

    /// See `WalletHandle::dismiss_failed`.
    pub async fn dismiss_failed(&self, id: &str) -> Result<(), EngineError> {
        done(self.ask(Request::DismissFailed { id: id.into() })).await
    }

    /// See `WalletHandle::saved_tokens`.
    pub async fn saved_tokens(&self) -> Result<Vec<(String, String, u64)>, EngineError> {
        expect!(self.ask(Request::SavedTokens), Saved)
    }

    /// See `WalletHandle::pending`.
    pub async fn pending(&self) -> Result<Vec<flash_api::views::PendingItem>, EngineError> {
        expect!(self.ask(Request::Pending), Pending)
    }

    /// See `WalletHandle::reclaim`.
    pub async fn reclaim(&self, mint: &str, id: &str) -> Result<u64, EngineError> {
        expect!(
            self.ask(Request::Reclaim {
                mint: mint.into(),
                id: id.into(),
            }),
            Sats
        )
    }

    /// See `WalletHandle::recover`.
    pub async fn recover(&self) -> Result<flash_api::views::Recovered, EngineError> {
        expect!(self.ask(Request::Recover), Recovered)
    }

    /// See `WalletHandle::restore`.
    pub async fn restore(&self, mint: Option<String>) -> Result<u64, EngineError> {
        expect!(self.ask(Request::Restore { mint }), Sats)
    }

    /// See `WalletHandle::history`.
    pub async fn history(&self) -> Result<Vec<flash_api::views::HistoryItem>, EngineError> {
        expect!(self.ask(Request::History), History)
    }
}
