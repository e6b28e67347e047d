//! The wallet's home: balance and the way in to create or restore a wallet.

use flash_core::{Sats, WalletHandle, WalletState};
use leptos::prelude::*;

use crate::components::amount::Amount;
use crate::components::page::Page;
use crate::tr;

/// `/`
#[component]
pub fn Home() -> impl IntoView {
    let handle = expect_context::<WalletHandle>();
    let status = LocalResource::new(move || {
        let handle = handle.clone();
        async move { handle.status().await }
    });
    let body = move || {
        status.get().map(|result| {
            result.map(|s| {
                let sats = Signal::derive(move || s.balance);
                let hint = match s.state {
                    WalletState::NoWallet => tr!("home.no_wallet").into_any(),
                    WalletState::Locked => tr!("home.locked").into_any(),
                    WalletState::Unlocked => ().into_any(),
                };
                view! {
                    <p class="balance" aria-live="polite">
                        <span class="label">{tr!("home.balance")}</span>
                        <Amount sats />
                    </p>
                    <p class="hint">{hint}</p>
                }
            })
        })
    };
    view! {
        <Page title=Signal::derive(tr!("home.title")) name="home">
            <Suspense fallback=move || view! { <p class="balance"><Amount sats=Sats(0) /></p> }>
                {body}
            </Suspense>
        </Page>
    }
}
