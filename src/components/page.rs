//! The frame of every page: its heading and an error boundary around its content.

use leptos::prelude::*;

use crate::tr;

/// A page with a level-1 heading; errors inside render as an alert instead of a blank app.
#[component]
pub fn Page(
    /// The page's heading, already translated and reactive.
    title: Signal<String>,
    /// A stable name for tests and styling.
    name: &'static str,
    children: Children,
) -> impl IntoView {
    let fallback = move |errors: ArcRwSignal<Errors>| {
        let list = move || {
            errors
                .get()
                .into_iter()
                .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                .collect_view()
        };
        view! {
            <div role="alert" class="page-error">
                <p>{tr!("error.page")}</p>
                <ul>{list}</ul>
            </div>
        }
    };
    view! {
        <section class="page" data-page=name aria-labelledby=format!("{name}-title")>
            <h1 id=format!("{name}-title")>{move || title.get()}</h1>
            <ErrorBoundary fallback>{children()}</ErrorBoundary>
        </section>
    }
}
