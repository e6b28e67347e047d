//! Shows an amount the one way the app formats amounts (`flash_api::amount`).

use flash_api::Sats;
use leptos::prelude::*;

use crate::i18n::use_locale;

/// An amount in sats, grouped for the current language.
#[component]
pub fn Amount(#[prop(into)] sats: Signal<Sats>) -> impl IntoView {
    let locale = use_locale();
    view! { <span class="amount" data-sats=move || sats.get().0>{move || sats.get().format(locale.get())}</span> }
}
