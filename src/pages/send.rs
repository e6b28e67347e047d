//! `/send`: its feature arrives with its own issue; the route, heading and layout are real now.

use leptos::prelude::*;

use crate::components::page::Page;
use crate::tr;

/// `/send`
#[component]
pub fn Send() -> impl IntoView {
    view! {
        <Page title=Signal::derive(tr!("send.title")) name="send">
            <p class="placeholder">{tr!("send.intro")}</p>
        </Page>
    }
}
