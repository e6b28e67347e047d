//! `/chat`: its feature arrives with its own issue; the route, heading and layout are real now.

use leptos::prelude::*;

use crate::components::page::Page;
use crate::tr;

/// `/chat`
#[component]
pub fn Chat() -> impl IntoView {
    view! {
        <Page title=tr!("chat.title") name="chat">
            <p class="placeholder">{tr!("chat.intro")}</p>
        </Page>
    }
}
