//! The app root: context (engine handle, status, locale), the one-writer-per-browser gate, the
//! shell (header, navigation, update banner) and the routes. Each route renders inside its own
//! error boundary, so one failing page never blanks the app.

use flash_api::{Event, Status, WalletState};
use flash_browser::remote::RemoteHandle;
use flash_browser::tabs::{self, Claim};
use futures::StreamExt;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::shell::Shell;
use crate::errors::UserMessage;
use crate::i18n::Locale;
use crate::pages;
use crate::state::{Engine, Lists, OfflineSupport, UpdateAvailable, WalletStatus};
use crate::tr;

/// Which tab runs the engine, as this tab sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TabState {
    Checking,
    Owner,
    /// Another tab had it when this one opened.
    Elsewhere,
    /// This tab had it and another took it over.
    Lost,
}

/// Starts the engine (in its own worker) once per page, with the event pump and auto-lock
/// wired to it. An engine that dies is shown at once, never a frozen screen.
fn start_engine(status: WalletStatus, lists: Lists) -> RemoteHandle {
    let handle = flash_browser::worker::start_engine(|details| {
        flash_browser::panic::engine_stopped(&details);
    });
    if let Ok(mut events) = handle.events() {
        leptos::task::spawn_local(async move {
            while let Some(event) = events.next().await {
                lists.note(&event);
                let Event::StatusChanged(s) = event else {
                    continue; // the receive screen shows a paid invoice itself
                };
                let was_empty = status
                    .0
                    .get_untracked()
                    .is_some_and(|old| old.state == WalletState::NoWallet);
                if was_empty && s.state == WalletState::Unlocked {
                    // A wallet now exists (created, restored or imported): there is something
                    // to lose, so ask the browser not to evict it.
                    leptos::task::spawn_local(async {
                        flash_browser::storage::request_persistence().await;
                    });
                }
                // The engine says Starting first; a guess already on screen (the unlock form
                // the user may be typing into) stays until the engine knows better.
                let guessed = status
                    .0
                    .get_untracked()
                    .is_some_and(|old| old.state != WalletState::Starting);
                if s.state == WalletState::Starting && guessed {
                    continue;
                }
                flash_browser::storage::remember(&s.state);
                status.0.set(Some(s));
            }
        });
    }
    // Back online: finish what waited for the mint (saved tokens, pending payments).
    flash_browser::page::on_online(if_unlocked(status, handle.clone(), |h| async move {
        let _ = h.recover().await;
    }));
    flash_browser::idle::watch(if_unlocked(status, handle.clone(), |h| async move {
        let _ = h.lock().await;
    }));
    handle
}

/// A browser-event callback that runs `job` on the engine only while the wallet is unlocked;
/// events that arrive while it is locked have nothing to act on.
fn if_unlocked<F, Fut>(status: WalletStatus, handle: RemoteHandle, job: F) -> impl Fn() + 'static
where
    F: Fn(RemoteHandle) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    move || {
        let unlocked = status
            .0
            .get_untracked()
            .is_some_and(|s| s.state == WalletState::Unlocked);
        if unlocked {
            leptos::task::spawn_local(job(handle.clone()));
        }
    }
}

/// The application.
#[component]
pub fn App() -> impl IntoView {
    let tag = Locale::detect();
    rust_i18n::set_locale(tag);
    provide_context(Locale(RwSignal::new(tag)));
    let status = WalletStatus(RwSignal::new(None));
    provide_context(status);
    let lists = Lists::new();
    provide_context(lists);
    let update = UpdateAvailable(RwSignal::new(false));
    provide_context(update);
    let offline = OfflineSupport(RwSignal::new(None));
    provide_context(offline);
    // The first screen does not wait for the engine's module: where the wallet stands is read
    // from the browser in milliseconds (onboarding or unlock), and the engine's first real
    // answer replaces that guess. Requests made meanwhile wait in the channel for the engine.
    leptos::task::spawn_local(async move {
        if let Some(state) = flash_browser::storage::wallet_hint().await {
            if status.0.get_untracked().is_none() {
                status.0.set(Some(Status {
                    state,
                    balance: flash_api::Sats(0),
                    started_at_ms: 0,
                    waiting_on: Vec::new(),
                }));
            }
        }
    });
    let tab = RwSignal::new(TabState::Checking);
    let engine: StoredValue<Option<RemoteHandle>, LocalStorage> = StoredValue::new_local(None);

    // When another tab takes over: wipe our keys and stop writing at once (two tabs must
    // never write the wallet together; running operations resume from their sagas), then say so.
    // This tab is finishing its running operations for a tab that asked to take over.
    let handing = RwSignal::new(false);
    // This tab asked to take over and waits for the owner to finish.
    let taking = RwSignal::new(false);
    let on_lost = move || {
        handing.set(false);
        if let Some(h) = engine.get_value() {
            leptos::task::spawn_local(async move {
                let _ = h.lock_now().await;
                tab.set(TabState::Lost);
            });
        } else {
            tab.set(TabState::Lost);
        }
    };
    // Another tab asks for the wallet: finish the money in motion and lock as an idle lock
    // does (jobs land their writes), then say so; the other tab takes the lock after that.
    tabs::on_release_asked(move |id| {
        if tab.get_untracked() != TabState::Owner {
            // Holding the lock without running the wallet yet (still starting): nothing is
            // moving, so the asking tab need not wait out the hand-over time.
            tabs::released(&id);
            return;
        }
        handing.set(true);
        let h = engine.get_value();
        leptos::task::spawn_local(async move {
            if let Some(h) = h {
                let _ = h.lock().await;
            }
            tabs::released(&id);
            // The asking tab takes over now; should it have gone meanwhile, this tab stays
            // (locked) and stops saying it is moving.
            flash_browser::timer::sleep(10_000).await;
            handing.set(false);
        });
    });
    let become_owner = move || {
        if engine.with_value(Option::is_none) {
            // Owning it only now (another tab had it): the guess made at load may be stale
            // (that tab may have made a wallet since), so wait for the engine's own word.
            if tab.get_untracked() != TabState::Checking {
                status.0.set(None);
            }
            engine.set_value(Some(start_engine(status, lists)));
        } else if let Some(h) = engine.get_value() {
            // Back from another tab: this engine was locked when the wallet went; have it
            // look again whether a wallet exists (that tab may have made one meanwhile).
            leptos::task::spawn_local(async move {
                let _ = h.lock_now().await;
            });
        }
        tab.set(TabState::Owner);
    };
    leptos::task::spawn_local(async move {
        match tabs::claim(on_lost).await {
            Claim::Owner => become_owner(),
            Claim::Elsewhere => {
                tab.set(TabState::Elsewhere);
                flash_browser::worker::discard_preloaded();
                // When the other tab closes, this one carries on by itself.
                tabs::wait_for(become_owner, on_lost);
            }
        }
    });
    let take_over = move |_| {
        if taking.get_untracked() {
            return;
        }
        taking.set(true);
        leptos::task::spawn_local(async move {
            tabs::take_over(on_lost).await;
            taking.set(false);
            become_owner();
        });
    };
    leptos::task::spawn_local(async move {
        let result = flash_browser::sw::register("/sw.js", move || update.0.set(true)).await;
        offline.0.set(Some(result.map_err(|e| e.user_message())));
    });
    // Ready once the first real screen is up: the engine has opened storage and said where the
    // wallet stands (onboarding, unlock, home), or another tab owns it. Benchmarks and tests
    // measure to this point, not merely to the first paint of the shell.
    Effect::new(move |_| {
        let engine_answered = status
            .0
            .get()
            .is_some_and(|s| s.state != WalletState::Starting);
        let elsewhere = matches!(tab.get(), TabState::Elsewhere | TabState::Lost);
        if engine_answered || elsewhere {
            flash_browser::page::mark_ready();
        }
    });

    // The routes mount once, when this tab first owns the engine, and stay mounted (hidden)
    // while another tab has it: the engine is locked then, and nothing is torn down mid-flight.
    let routes = move || {
        let Some(handle) = engine.get_value() else {
            return ().into_any();
        };
        provide_context(Engine(StoredValue::new_local(handle)));
        view! {
            <div class="routes" hidden=move || tab.get() != TabState::Owner>
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("/") view=pages::home::Home />
                    <Route path=path!("/send") view=pages::send::Send />
                    <Route path=path!("/receive") view=pages::receive::Receive />
                    <Route path=path!("/chat") view=pages::chat::Chat />
                    <Route path=path!("/pos") view=pages::pos::Pos />
                    <Route path=path!("/settings") view=pages::settings::Settings />
                </Routes>
            </div>
        }
        .into_any()
    };
    let other_tab = move || {
        let message = if tab.get() == TabState::Lost {
            tr!("tabs.moved").into_any()
        } else {
            tr!("tabs.elsewhere").into_any()
        };
        view! {
            <section class="page" data-page="other-tab" aria-labelledby="other-tab-title">
                <h1 id="other-tab-title">{tr!("tabs.title")}</h1>
                <p>{message}</p>
                <button type="button" on:click=take_over disabled=move || taking.get()>
                    {tr!("tabs.use_here")}
                </button>
                <Show when=move || taking.get()>
                    <p role="status" class="hint" data-testid="tab-taking">{tr!("tabs.taking")}</p>
                </Show>
            </section>
        }
    };
    let has_engine =
        Memo::new(move |_| tab.get() == TabState::Owner || engine.with_value(Option::is_some));
    let away = move || matches!(tab.get(), TabState::Elsewhere | TabState::Lost);
    let content = view! {
        <Show when=move || handing.get() && tab.get() == TabState::Owner>
            <p role="status" class="warning" data-testid="tab-handing">{tr!("tabs.handing")}</p>
        </Show>
        <Show when=move || has_engine.get()>{routes}</Show>
        <Show when=away>{other_tab}</Show>
    };

    view! {
        <Router>
            <Shell>{content}</Shell>
        </Router>
    }
}
