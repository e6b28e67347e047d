//! The only Flash Web code that calls browser APIs. It implements the engine's ports for wasm32
//! and wraps the few page-level APIs the UI needs (service worker updates, the ready marker),
//! so the UI and the engine stay free of `web_sys`.
#![forbid(unsafe_code)]

pub mod clock;
#[cfg(feature = "engine")]
pub mod engine;
pub mod files;
#[cfg(feature = "engine")]
pub mod http;
#[cfg(feature = "engine")]
pub mod idb;
pub mod idle;
#[cfg(feature = "engine")]
pub mod kdf;
pub mod page;
pub mod panic;
pub mod passkey;
pub mod random;
pub mod remote;
pub mod storage;
pub mod sw;
pub mod tabs;
pub mod timer;
mod word_prefixes;
pub mod worker;
#[cfg(feature = "engine")]
pub mod writer;

pub use clock::BrowserClock;
#[cfg(feature = "engine")]
pub use engine::start_engine;
#[cfg(feature = "engine")]
pub use idb::IdbStore;
pub use random::BrowserRandom;
