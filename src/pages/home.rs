//! The wallet's home. What it shows follows the engine's state: onboarding on a new device,
//! the unlock form when locked, the balance when unlocked, and a plain explanation when the
//! browser gives us no storage.

use flash_core::{Sats, WalletHandle, WalletState};
use leptos::prelude::*;

use crate::app::WalletStatus;
use crate::components::amount::Amount;
use crate::components::onboarding::Onboarding;
use crate::components::page::Page;
use crate::components::unlock::Unlock;
use crate::tr;

/// `/`
#[component]
pub fn Home() -> impl IntoView {
    let status = expect_context::<WalletStatus>();
    let handle = expect_context::<WalletHandle>();
    let lock = Action::new_local(move |_: &()| {
        let handle = handle.clone();
        async move { handle.lock().await }
    });
    let body = move || {
        let Some(s) = status.0.get() else {
            return view! { <p class="hint">{tr!("home.starting")}</p> }.into_any();
        };
        match s.state {
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
                    <button type="button" class="secondary" on:click=move |_| { lock.dispatch(()); }>
                        {tr!("home.lock")}
                    </button>
                }
                .into_any()
            }
        }
    };
    view! { <Page title=Signal::derive(tr!("home.title")) name="home">{body}</Page> }
}
