//! The page/worker protocol ([`flash_api::protocol`]) over a `MessagePort`. [`serve`] runs
//! on the engine's side: it answers each request with the engine's handle and forwards the
//! engine's events. [`RemoteHandle`] runs on the page's side: it asks and awaits the answer
//! by id. Messages are postcard bytes in a transferred `ArrayBuffer`, so no copy of a
//! secret stays behind in the sender's JS heap. The Rust-side buffers are zeroized after use.
//!
//! Nothing runs this in the app yet: the engine's own worker and module are the next step
//! of issue 9. The worker tests drive both ends in a dedicated worker, with real IndexedDB.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use flash_api::protocol::{decode, encode, Answer, FromEngine, Request, ToEngine, VERSION};
use flash_api::{EngineError, Event};
use flash_core::WalletHandle;
use futures::channel::{mpsc, oneshot};
use futures::StreamExt;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use zeroize::Zeroizing;

/// Posts `message` on `port`, its buffer transferred.
fn post<T: serde::Serialize>(port: &web_sys::MessagePort, message: &T) {
    let Ok(bytes) = encode(message).map(Zeroizing::new) else {
        return;
    };
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let transfer = js_sys::Array::of1(&array.buffer());
    let _ = port.post_message_with_transferable(&array, &transfer);
}

/// The bytes of a message's data (a `Uint8Array`, as [`post`] sends), if it is one.
fn bytes_of(event: &web_sys::MessageEvent) -> Option<Zeroizing<Vec<u8>>> {
    let array = event.data().dyn_into::<js_sys::Uint8Array>().ok()?;
    Some(Zeroizing::new(array.to_vec()))
}

/// Answers every request arriving on `port` with `handle`, and sends the engine's events
/// there, for the rest of the port's life. Unreadable messages are ignored: only the page
/// of the same build talks here, and it finds a mismatch at `Hello`.
pub fn serve(handle: WalletHandle, port: web_sys::MessagePort) {
    if let Ok(mut events) = handle.events() {
        let port = port.clone();
        wasm_bindgen_futures::spawn_local(async move {
            while let Some(event) = events.next().await {
                post(&port, &FromEngine::Event(event));
            }
        });
    }
    let answering = port.clone();
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e| {
        let Some(bytes) = bytes_of(&e) else { return };
        match decode::<ToEngine>(&bytes) {
            Ok(ToEngine::Hello { .. }) => {
                post(&answering, &FromEngine::Hello { version: VERSION });
            }
            Ok(ToEngine::Ask { id, request }) => {
                let (handle, port) = (handle.clone(), answering.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let result = flash_core::engine::serve::answer(
                        &handle,
                        request,
                        crate::timer::sleeper(),
                    )
                    .await;
                    post(&port, &FromEngine::Answer { id, result });
                });
            }
            Err(_) => {}
        }
    });
    port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget(); // for the port's life
    port.start();
}

type Waiting = Rc<RefCell<HashMap<u32, oneshot::Sender<Result<Answer, EngineError>>>>>;

/// The page's handle on an engine behind a port. Cheap to clone; clones share the port.
#[derive(Clone)]
pub struct RemoteHandle {
    port: web_sys::MessagePort,
    next: Rc<Cell<u32>>,
    waiting: Waiting,
    listeners: Rc<RefCell<Vec<mpsc::UnboundedSender<Event>>>>,
    version: Rc<Cell<Option<u16>>>,
    _on_message: Rc<Closure<dyn FnMut(web_sys::MessageEvent)>>,
}

impl std::fmt::Debug for RemoteHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RemoteHandle")
    }
}

impl RemoteHandle {
    /// Talks to the engine served on the other end of `port`, and says hello.
    pub fn connect(port: web_sys::MessagePort) -> Self {
        let waiting: Waiting = Rc::default();
        let listeners: Rc<RefCell<Vec<mpsc::UnboundedSender<Event>>>> = Rc::default();
        let version = Rc::new(Cell::new(None));
        let on_message = {
            let (waiting, listeners, version) =
                (waiting.clone(), listeners.clone(), version.clone());
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e| {
                let Some(bytes) = bytes_of(&e) else { return };
                match decode::<FromEngine>(&bytes) {
                    Ok(FromEngine::Answer { id, result }) => {
                        if let Some(reply) = waiting.borrow_mut().remove(&id) {
                            let _ = reply.send(result);
                        }
                    }
                    Ok(FromEngine::Event(event)) => listeners
                        .borrow_mut()
                        .retain(|l| l.unbounded_send(event.clone()).is_ok()),
                    Ok(FromEngine::Hello { version: v }) => version.set(Some(v)),
                    Err(_) => {}
                }
            })
        };
        port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        port.start();
        post(&port, &ToEngine::Hello { version: VERSION });
        Self {
            port,
            next: Rc::new(Cell::new(1)),
            waiting,
            listeners,
            version,
            _on_message: Rc::new(on_message),
        }
    }

    /// The engine's protocol version, once it has said hello (`None` before).
    pub fn engine_version(&self) -> Option<u16> {
        self.version.get()
    }

    /// Asks the engine; resolves with its answer. An engine that went away answers
    /// [`EngineError::Stopped`] once this handle's port is closed.
    pub async fn ask(&self, request: Request) -> Result<Answer, EngineError> {
        let id = self.next.get();
        self.next.set(id.wrapping_add(1));
        let (reply, answer) = oneshot::channel();
        self.waiting.borrow_mut().insert(id, reply);
        post(&self.port, &ToEngine::Ask { id, request });
        answer.await.map_err(|_| EngineError::Stopped)?
    }

    /// The engine's events from now on.
    pub fn events(&self) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded();
        self.listeners.borrow_mut().push(tx);
        rx
    }

    /// Stops waiting: every open request answers [`EngineError::Stopped`] (the engine's
    /// worker died or was replaced).
    pub fn disconnect(&self) {
        self.port.set_onmessage(None);
        self.waiting.borrow_mut().clear();
        self.port.close();
    }
}
