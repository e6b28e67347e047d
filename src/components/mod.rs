//! Reusable pieces of the UI.

pub mod amount;
pub mod page;
pub mod shell;
