//! `/receive`: its feature arrives with its own issue; the route, heading and layout are real now.

use leptos::prelude::*;

use crate::components::page::Page;
use crate::tr;

/// `/receive`
#[component]
pub fn Receive() -> impl IntoView {
    view! {
        <Page title=Signal::derive(tr!("receive.title")) name="receive">
            <p class="placeholder">{tr!("receive.intro")}</p>
        </Page>
    }
}
