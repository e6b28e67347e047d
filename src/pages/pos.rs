//! `/pos`: its feature arrives with its own issue; the route, heading and layout are real now.

use leptos::prelude::*;

use crate::components::page::Page;
use crate::tr;

/// `/pos`
#[component]
pub fn Pos() -> impl IntoView {
    view! {
        <Page title=tr!("pos.title") name="pos">
            <p class="placeholder">{tr!("pos.intro")}</p>
        </Page>
    }
}
