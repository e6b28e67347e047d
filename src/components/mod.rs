//! Reusable pieces of the UI.

pub mod amount;
pub mod onboarding;
pub mod page;
pub mod shell;
pub mod unlock;
