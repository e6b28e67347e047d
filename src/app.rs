//! The app root: context (engine handle, locale), the shell (header, navigation, update banner)
//! and the routes. Each route renders inside its own error boundary, so one failing page never
//! blanks the app.

use flash_core::{Event, Status, WalletHandle};
use futures::StreamExt;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::shell::Shell;
use crate::i18n::Locale;
use crate::pages;

/// Whether a newer build is installed and waiting (set by the service worker glue).
#[derive(Debug, Clone, Copy)]
pub struct UpdateAvailable(pub RwSignal<bool>);

/// The engine's latest status, kept current from its event stream.
#[derive(Debug, Clone, Copy)]
pub struct WalletStatus(pub RwSignal<Option<Status>>);

/// Whether offline use could be set up, and if not why (shown in settings).
#[derive(Debug, Clone, Copy)]
pub struct OfflineSupport(pub RwSignal<Option<Result<(), String>>>);

/// The application.
#[component]
pub fn App() -> impl IntoView {
    let tag = Locale::detect();
    rust_i18n::set_locale(tag);
    provide_context(Locale(RwSignal::new(tag)));
    let handle: WalletHandle = flash_browser::start_engine();
    let status = WalletStatus(RwSignal::new(None));
    provide_context(status);
    if let Ok(mut events) = handle.events() {
        leptos::task::spawn_local(async move {
            while let Some(Event::StatusChanged(s)) = events.next().await {
                status.0.set(Some(s));
            }
        });
    }
    let idle_handle = handle.clone();
    flash_browser::idle::watch(move || {
        let unlocked = status
            .0
            .get_untracked()
            .is_some_and(|s| s.state == flash_core::WalletState::Unlocked);
        if unlocked {
            let h = idle_handle.clone();
            leptos::task::spawn_local(async move {
                let _ = h.lock().await;
            });
        }
    });
    provide_context(handle);
    let update = UpdateAvailable(RwSignal::new(false));
    provide_context(update);
    let offline = OfflineSupport(RwSignal::new(None));
    provide_context(offline);

    leptos::task::spawn_local(async move {
        let result = flash_browser::sw::register("/sw.js", move || update.0.set(true)).await;
        offline.0.set(Some(result.map_err(|e| e.to_string())));
    });
    // Runs once the first render is in the DOM: the app is interactive from here.
    Effect::new(move |_| flash_browser::page::mark_ready());

    view! {
        <Router>
            <Shell>
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("/") view=pages::home::Home />
                    <Route path=path!("/send") view=pages::send::Send />
                    <Route path=path!("/receive") view=pages::receive::Receive />
                    <Route path=path!("/chat") view=pages::chat::Chat />
                    <Route path=path!("/pos") view=pages::pos::Pos />
                    <Route path=path!("/settings") view=pages::settings::Settings />
                </Routes>
            </Shell>
        </Router>
    }
}
