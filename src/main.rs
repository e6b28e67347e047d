//! Flash Web's UI: mounts the Leptos app. Everything here is presentation; wallet logic lives in
//! `flash-core`, browser access in `flash-browser`.
#![forbid(unsafe_code)]

// Every user-facing string comes from `locales/` through this one i18n layer.
rust_i18n::i18n!("locales", fallback = "en");

mod app;
mod components;
mod errors;
mod i18n;
mod pages;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
