//! What the app shares with every screen through Leptos context: the engine's handle, its
//! latest status, which lists changed, and the page's own browser facts. Kept apart from
//! `app.rs` so screens depend on this and not on the root that mounts them.

use flash_api::{Event, Status};
use flash_browser::remote::RemoteHandle;
use leptos::prelude::*;

/// Whether a newer build is installed and waiting (set by the service worker glue).
#[derive(Debug, Clone, Copy)]
pub struct UpdateAvailable(pub RwSignal<bool>);

/// The engine's latest status, kept current from its event stream.
#[derive(Debug, Clone, Copy)]
pub struct WalletStatus(pub RwSignal<Option<Status>>);

/// Whether offline use could be set up, and if not why (shown in settings).
#[derive(Debug, Clone, Copy)]
pub struct OfflineSupport(pub RwSignal<Option<Result<(), String>>>);

/// One counter per list the engine announces changes of: a view that shows the list reads
/// its counter, so it fetches again exactly when the engine says the list changed.
#[derive(Debug, Clone, Copy)]
pub struct Lists {
    /// Bumped on [`Event::HistoryChanged`].
    pub history: RwSignal<u32>,
    /// Bumped on [`Event::PendingChanged`].
    pub pending: RwSignal<u32>,
    /// Bumped on [`Event::MintsChanged`].
    pub mints: RwSignal<u32>,
}

impl Lists {
    pub fn new() -> Self {
        Self {
            history: RwSignal::new(0),
            pending: RwSignal::new(0),
            mints: RwSignal::new(0),
        }
    }

    /// Bumps the counter `event` names; other events leave the lists alone.
    pub fn note(&self, event: &Event) {
        let counter = match event {
            Event::HistoryChanged => self.history,
            Event::PendingChanged => self.pending,
            Event::MintsChanged => self.mints,
            _ => return,
        };
        counter.update(|n| *n = n.wrapping_add(1));
    }
}

/// The lists' change counters, for a component under the app.
pub fn lists() -> Lists {
    expect_context::<Lists>()
}

/// The engine's handle, in context. Held as a page-local value: the handle owns a JS
/// `MessagePort`, which Leptos's `Send` context cannot carry.
#[derive(Debug, Clone, Copy)]
pub struct Engine(pub StoredValue<RemoteHandle, LocalStorage>);

/// The engine's handle, for a component under the routes.
pub fn engine() -> RemoteHandle {
    expect_context::<Engine>().0.get_value()
}
