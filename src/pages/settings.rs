//! `/settings`: language, offline status and the build.

use leptos::prelude::*;

use crate::app::OfflineSupport;
use crate::components::page::Page;
use crate::i18n::{use_locale, LOCALES};
use crate::tr;

/// `/settings`
#[component]
pub fn Settings() -> impl IntoView {
    let locale = use_locale();
    let offline = expect_context::<OfflineSupport>();
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
            <h2>{tr!("settings.offline")}</h2>
            <p data-testid="offline-status">{offline_text}</p>
            <h2>{tr!("settings.about")}</h2>
            <p>{concat!("Flash Web ", env!("CARGO_PKG_VERSION"))}</p>
        </Page>
    }
}
