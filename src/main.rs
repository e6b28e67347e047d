//! Flash Web's UI: mounts the Leptos app. Everything here is presentation; wallet logic lives in
//! `flash-core`, browser access in `flash-browser`.
#![forbid(unsafe_code)]

// Every user-facing string comes from `locales/` through this one i18n layer.
rust_i18n::i18n!("locales", fallback = "en");

mod app;
mod components;
mod errors;
mod fetched;
mod i18n;
mod pages;
mod state;
mod task;

fn main() {
    // The engine's module starts loading in its worker while this one renders.
    flash_browser::worker::preload();
    rust_i18n::set_locale(i18n::Locale::detect());
    flash_browser::panic::install(flash_browser::panic::PanicTexts {
        title: crate::t_now!("crash.title"),
        body: crate::t_now!("crash.body"),
        reload: crate::t_now!("crash.reload"),
        copy: crate::t_now!("crash.copy"),
    });
    flash_browser::page::remove_boot_shell();
    leptos::mount::mount_to_body(app::App);
    flash_browser::page::test_panic_if_asked();
}
