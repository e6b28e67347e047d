//! The app shell: header, main navigation (bottom bar on phones, side bar on desktops) and the
//! "new version available" banner.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::state::UpdateAvailable;
use crate::tr;

/// Wraps every page.
#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let update = expect_context::<UpdateAvailable>();
    let reload = move |_| {
        leptos::task::spawn_local(async {
            let _ = flash_browser::sw::apply_update().await;
        })
    };
    view! {
        <a class="skip-link" href="#main">{tr!("nav.skip")}</a>
        <header class="app-header">
            <A href="/" attr:class="brand">
                <span aria-hidden="true">"⚡"</span>
                {tr!("app.name")}
            </A>
        </header>
        <Show when=move || update.0.get()>
            <div class="update-banner" role="status">
                <span>{tr!("update.available")}</span>
                <button type="button" on:click=reload>{tr!("update.reload")}</button>
            </div>
        </Show>
        <nav class="main-nav" aria-label=tr!("nav.label")>
            <ul>
                <li><A href="/" exact=true>{tr!("nav.home")}</A></li>
                <li><A href="/send">{tr!("nav.send")}</A></li>
                <li><A href="/receive">{tr!("nav.receive")}</A></li>
                <li><A href="/chat">{tr!("nav.chat")}</A></li>
                <li><A href="/pos">{tr!("nav.pos")}</A></li>
                <li><A href="/settings">{tr!("nav.settings")}</A></li>
            </ul>
        </nav>
        <main id="main" tabindex="-1">{children()}</main>
    }
}
