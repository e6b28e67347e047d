//! Unknown paths: say so and offer the way home.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::page::Page;
use crate::tr;

/// Any route not listed in the app.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <Page title=tr!("not_found.title") name="not-found">
            <p>{tr!("not_found.body")}</p>
            <A href="/">{tr!("not_found.home")}</A>
        </Page>
    }
}
