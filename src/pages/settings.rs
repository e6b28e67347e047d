//! `/settings`: language, offline status and the build.

use leptos::prelude::*;

use flash_core::{WalletHandle, WalletState};

use crate::app::{OfflineSupport, WalletStatus};
use crate::components::page::Page;
use crate::i18n::{use_locale, LOCALES};
use crate::tr;

/// `/settings`
#[component]
pub fn Settings() -> impl IntoView {
    let locale = use_locale();
    let offline = expect_context::<OfflineSupport>();
    let status = expect_context::<WalletStatus>();
    let handle = expect_context::<WalletHandle>();
    let identity = LocalResource::new(move || {
        let unlocked = status
            .0
            .get()
            .is_some_and(|s| s.state == WalletState::Unlocked);
        let handle = handle.clone();
        async move {
            if unlocked {
                handle.identity().await.ok()
            } else {
                None
            }
        }
    });
    let keys_section = move || {
        identity.get().flatten().map(|id| {
            view! {
                <h2>{tr!("settings.keys")}</h2>
                <dl class="keys">
                    <dt>{tr!("settings.npub")}</dt>
                    <dd data-testid="npub"><code>{id.npub}</code></dd>
                    <dt>{tr!("settings.bip84")}</dt>
                    <dd data-testid="bip84-address"><code>{id.bip84_address}</code></dd>
                </dl>
            }
        })
    };
    let on_change = move |ev| {
        let value = event_target_value(&ev);
        if let Some((tag, _)) = LOCALES.iter().find(|(tag, _)| *tag == value) {
            locale.set(tag);
        }
    };
    let options = LOCALES
        .iter()
        .map(|(tag, name)| {
            view! { <option value=*tag selected=move || locale.get() == *tag>{*name}</option> }
        })
        .collect_view();
    let offline_text = move || match offline.0.get() {
        None => tr!("settings.offline_checking").into_any(),
        Some(Ok(())) => tr!("settings.offline_ready").into_any(),
        Some(Err(reason)) => reason.into_any(),
    };
    view! {
        <Page title=Signal::derive(tr!("settings.title")) name="settings">
            <div class="field">
                <label for="language">{tr!("settings.language")}</label>
                <select id="language" on:change=on_change>{options}</select>
            </div>
            {keys_section}
            <h2>{tr!("settings.offline")}</h2>
            <p data-testid="offline-status">{offline_text}</p>
            <h2>{tr!("settings.about")}</h2>
            <p>{concat!("Flash Web ", env!("CARGO_PKG_VERSION"))}</p>
        </Page>
    }
}
