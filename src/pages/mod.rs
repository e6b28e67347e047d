//! One module per route. Pages hold no wallet logic: they ask the engine through the
//! `RemoteHandle` in context and render what it answers.

pub mod chat;
pub mod home;
pub mod not_found;
pub mod pos;
pub mod receive;
pub mod send;
pub mod settings;
