//! The engine's worker, from the page's side. The page module starts the worker first thing
//! ([`preload`]), so the engine module downloads and compiles while the first screen renders;
//! the worker then waits, touching nothing, until it is handed a port
//! (`crates/engine-worker`). [`start_engine`] takes that worker (or starts one), hands it the
//! port once it says it is ready, and returns the [`RemoteHandle`] the UI keeps. A worker
//! that dies (a panic, out of memory, killed by the browser) is reported once, the handle
//! answers [`flash_api::EngineError::Stopped`] from then on, and the worker is terminated.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::remote::RemoteHandle;

/// The worker's script (`public/engine-loader.js`): loads trunk's worker build of
/// `crates/engine-worker` and reports a failed load, which trunk's own shim would swallow.
pub const ENGINE_URL: &str = "/engine-loader.js";

/// What the worker says outside the protocol, on its own global channel.
const READY: &str = "ready";
/// Prefix of the worker's last words when it panics (details already scrubbed).
pub const CRASHED: &str = "crashed:";

/// A worker started by [`preload`], with what it said before [`start_engine`] listened.
struct Early {
    worker: web_sys::Worker,
    said: Rc<RefCell<Vec<JsValue>>>,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

thread_local! {
    static EARLY: RefCell<Option<Early>> = const { RefCell::new(None) };
}

/// Starts the engine's worker now, so its module downloads and compiles while the first
/// screen renders and the user types (it does nothing until [`start_engine`] hands it a
/// port). Called first thing by the page module: after the page's own module has arrived, so
/// the two never share a slow link and the first screen is not delayed by the engine.
pub fn preload() {
    let Ok(worker) = web_sys::Worker::new(ENGINE_URL) else {
        return; // start_engine tries again and reports it
    };
    let said: Rc<RefCell<Vec<JsValue>>> = Rc::default();
    let on_message = {
        let said = said.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            said.borrow_mut().push(e.data())
        })
    };
    let on_error = {
        let said = said.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            said.borrow_mut()
                .push(JsValue::from_str(&format!("{CRASHED}{}", error_text(&e))))
        })
    };
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    EARLY.with(|e| {
        *e.borrow_mut() = Some(Early {
            worker,
            said,
            _on_message: on_message,
            _on_error: on_error,
        })
    });
}

/// What a worker's `error` event says, scrubbed.
fn error_text(e: &web_sys::Event) -> String {
    let message = Reflect::get(e, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "the engine could not load".into());
    crate::panic::scrub(&format!("the engine stopped: {message}"))
}

/// The worker [`preload`] started, if any (taken: one engine per page).
fn take_early() -> Option<(web_sys::Worker, Vec<JsValue>)> {
    let early = EARLY.with(|e| e.borrow_mut().take())?;
    let said = early.said.borrow_mut().drain(..).collect();
    Some((early.worker.clone(), said))
}

/// Lets the preloaded worker go: another tab runs the engine, and an idle engine module per
/// tab costs memory on a phone. If this tab takes over later, [`start_engine`] starts one.
pub fn discard_preloaded() {
    if let Some((worker, _)) = take_early() {
        // Unhooked first: the handlers' closures are gone with the preload.
        worker.set_onmessage(None);
        worker.set_onerror(None);
        worker.terminate();
    }
}

/// Starts (or adopts) the engine's worker and connects to it. `on_stopped(details)` runs once
/// if the worker dies or cannot start; `details` is safe to show (scrubbed by the worker).
pub fn start_engine(on_stopped: impl Fn(String) + 'static) -> RemoteHandle {
    let channel = match web_sys::MessageChannel::new() {
        Ok(c) => c,
        Err(_) => {
            on_stopped("this browser cannot open a channel to the engine".into());
            return RemoteHandle::stopped();
        }
    };
    let handle = RemoteHandle::connect(channel.port1());
    let (worker, early) = match take_early() {
        Some(found) => found,
        None => match web_sys::Worker::new(ENGINE_URL) {
            Ok(w) => (w, Vec::new()),
            Err(_) => {
                handle.disconnect();
                on_stopped("this browser cannot start the engine's worker".into());
                return handle;
            }
        },
    };

    let stopped = Rc::new(Cell::new(false));
    let stop = {
        let (handle, worker, stopped) = (handle.clone(), worker.clone(), stopped.clone());
        Rc::new(move |details: String| {
            if stopped.replace(true) {
                return;
            }
            handle.disconnect();
            worker.terminate();
            on_stopped(details);
        })
    };
    let handed = Rc::new(Cell::new(false));
    let hear = {
        let (worker, stop, port) = (worker.clone(), stop.clone(), channel.port2());
        move |data: JsValue| {
            let Some(text) = data.as_string() else { return };
            if text == READY && !handed.replace(true) {
                let transfer = Array::of1(&port);
                if worker.post_message_with_transfer(&port, &transfer).is_err() {
                    stop("the engine's worker could not be reached".into());
                }
            } else if let Some(details) = text.strip_prefix(CRASHED) {
                // Scrubbed here too: the loader's plain-JS reports are not.
                stop(crate::panic::scrub(details));
            }
        }
    };
    // Replace preload's handlers first, then replay what they kept: all of it runs in this
    // one turn, so nothing the worker says falls between the two.
    let on_message = {
        let hear = hear.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            hear(e.data())
        })
    };
    let on_error = {
        let stop = stop.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| stop(error_text(&e)))
    };
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_message.forget(); // for the page's life
    on_error.forget();
    for said in early {
        hear(said);
    }

    // An engine of another build (a deploy between loading the page and its worker) cannot
    // be talked to: say so once and offer the reload, rather than failing every action.
    let other = stop.clone();
    handle.on_other_version(move |v| {
        other(format!(
            "the engine is of another version ({v}, this page speaks {}); reload to carry on",
            flash_api::protocol::VERSION
        ))
    });
    // A stale engine that took the writer lock while this tab owns the wallet: take it back.
    handle.retake_writer_if(crate::tabs::owns);
    // A tab that loses the wallet to another fences the engine's writes at once.
    let fencing = handle.clone();
    crate::tabs::set_fence(move |on| fencing.fence(on));
    handle
}
