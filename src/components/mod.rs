//! Reusable pieces of the UI.

pub mod activity;
pub mod amount;
pub mod change_passphrase;
pub mod ecash;
pub mod mints;
pub mod nostr_key;
pub mod onboarding;
pub mod page;
pub mod shell;
pub mod unlock;
