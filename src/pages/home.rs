//! The wallet's home. What it shows follows the engine's state: onboarding on a new device,
//! the unlock form when locked, the balance when unlocked, and a plain explanation when the
//! browser gives us no storage.

use flash_api::{Sats, WalletState};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::activity::Activity;
use crate::components::amount::Amount;
use crate::components::onboarding::Onboarding;
use crate::components::page::Page;
use crate::components::unlock::Unlock;
use crate::state::WalletStatus;
use crate::tr;

/// `/`
#[component]
pub fn Home() -> impl IntoView {
    let status = expect_context::<WalletStatus>();
    let handle = crate::state::engine();
    let backup_handle = handle.clone();
    // Ask for a backup while the browser has not promised to keep our data and none was made.
    let needs_backup = crate::fetched::fetched(move || {
        let unlocked = status
            .0
            .get()
            .is_some_and(|s| s.state == WalletState::Unlocked);
        let handle = backup_handle.clone();
        async move {
            if !unlocked || flash_browser::storage::info().await.persisted {
                return Some(false);
            }
            Some(matches!(handle.last_backup().await, Ok(None)))
        }
    });
    let retry_handle = handle.clone();
    let retry = crate::task::Task::new_local(move |_: &()| {
        let handle = retry_handle.clone();
        async move {
            let _ = handle.recover().await;
        }
    });
    let waiting_on = move || status.0.get().map(|s| s.waiting_on).unwrap_or_default();
    let lock = crate::task::Task::new_local(move |_: &()| {
        let handle = handle.clone();
        async move { handle.lock().await }
    });
    // Only a change of state re-renders the screen: a new status with the same state (the
    // engine's answer replacing the page's guess, a balance change) must not wipe a form.
    let state = Memo::new(move |_| status.0.get().map(|s| s.state));
    let body = move || {
        let Some(state) = state.get() else {
            return view! { <p class="hint">{tr!("home.starting")}</p> }.into_any();
        };
        match state {
            WalletState::Starting => {
                view! { <p class="hint">{tr!("home.starting")}</p> }.into_any()
            }
            WalletState::Unavailable(reason) => view! {
                <div role="alert" class="page-error">
                    <p>{tr!("home.no_storage")}</p>
                    <p class="hint">{reason}</p>
                </div>
            }
            .into_any(),
            WalletState::NoWallet => view! { <Onboarding /> }.into_any(),
            WalletState::Locked => view! { <Unlock /> }.into_any(),
            WalletState::Unlocked => {
                let sats =
                    Signal::derive(move || status.0.get().map(|s| s.balance).unwrap_or(Sats(0)));
                view! {
                    <p class="balance" aria-live="polite">
                        <span class="label">{tr!("home.balance")}</span>
                        <Amount sats />
                    </p>
                    <Show when=move || needs_backup.get().unwrap_or(false)>
                        <p role="note" class="warning" data-testid="backup-prompt">
                            {tr!("home.backup_prompt")} " " <A href="/settings">{tr!("home.backup_link")}</A>
                        </p>
                    </Show>
                    <Show when=move || !waiting_on().is_empty()>
                        <div role="status" class="warning" data-testid="mints-waiting">
                            <p>{tr!("home.mints_waiting")}</p>
                            <ul>
                                {move || waiting_on().into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
                            </ul>
                            <button type="button" class="secondary" data-testid="mints-retry"
                                disabled=retry.pending()
                                on:click=move |_| { retry.dispatch(()); }>
                                {tr!("home.mints_retry")}
                            </button>
                        </div>
                    </Show>
                    <nav class="actions" aria-label=crate::t_now!("home.actions")>
                        <A href="/receive">{tr!("nav.receive")}</A>
                        <A href="/send">{tr!("nav.send")}</A>
                    </nav>
                    <Activity />
                    <button type="button" class="secondary" on:click=move |_| { lock.dispatch(()); }>
                        {tr!("home.lock")}
                    </button>
                }
                .into_any()
            }
        }
    };
    view! { <Page title=tr!("home.title") name="home">{body}</Page> }
}
