//! The Flash Web engine: wallet logic in plain Rust. It sees the world only through the ports in
//! [`ports`], so it builds and tests natively with `cargo test`, and the browser crate plugs in
//! the wasm32 implementations. The UI talks to it only through a [`engine::WalletHandle`].
#![forbid(unsafe_code)]

pub mod ecash;
pub mod engine;
pub mod keys;
pub mod log;
pub mod ports;
pub mod store;
pub mod vault;

pub use flash_api::{amount, passphrase};

pub use amount::Sats;
pub use engine::{spawn_engine, EngineError, Event, Identity, Status, WalletHandle, WalletState};
