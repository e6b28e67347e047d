//! Cashu eCash on the Cashu Development Kit: cdk's wallet does the protocol (NUT-00…NUT-20,
//! sagas, restore); this module gives it Flash's encrypted storage ([`db::EcashDb`] over a
//! [`journal::Journal`]) and turns its results into what the UI shows.

pub mod db;
pub mod journal;

pub use db::EcashDb;
pub use journal::{ChannelJournal, Journal, JournalError, MemoryJournal};
pub mod error;
pub mod purse;
pub mod transport;

pub use error::EcashError;
pub use purse::Purse;
