//! What Flash Web's UI and engine say to each other, in a crate with no cdk, no crypto and no
//! browser APIs, so the page can depend on it alone once the engine runs in its own worker
//! and module (issue 9): the view types the UI renders, the wallet's status and events,
//! amounts formatted the one way, and the passphrase strength hint the UI shows as you type.
//! Every type here is serde-serializable, to cross the page/worker boundary as messages.
#![forbid(unsafe_code)]

pub mod amount;
mod ecash_error;
pub mod errors;
#[cfg(feature = "cdk")]
mod from_cdk;
pub mod passphrase;
pub mod protocol;
pub mod status;
pub mod views;
pub mod words;

pub use amount::Sats;
pub use errors::{
    EcashError, EngineError, MnemonicError, NsecError, RandomError, StoreError, VaultError,
};
pub use status::{Event, Identity, Status, WalletState};
