//! Settings → Mints: add a mint by URL (its info is shown), see balances per mint, remove one
//! (a mint that still holds money asks for confirmation first).

use flash_api::EcashError;
use flash_api::EngineError;
use leptos::prelude::*;

use crate::components::ecash::use_mints;
use crate::errors::UserMessage;
use crate::tr;

/// The mints section.
#[component]
pub fn Mints() -> impl IntoView {
    let handle = crate::state::engine();
    let mints = use_mints();
    let url = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let confirm_remove = RwSignal::new(None::<String>);
    let add_handle = handle.clone();
    let add = crate::task::Task::new_local(move |_: &()| {
        let handle = add_handle.clone();
        let u = url.get_untracked();
        async move {
            error.set(None);
            match handle.add_mint(&u).await {
                Ok(_) => url.set(String::new()),
                Err(e) => error.set(Some(e.user_message())),
            }
        }
    });
    let restore_handle = handle.clone();
    let restore = crate::task::Task::new_local(move |_: &()| {
        let handle = restore_handle.clone();
        async move {
            error.set(None);
            handle.restore(None).await.map_err(|e| e.user_message())
        }
    });
    let remove = crate::task::Task::new_local(move |(u, force): &(String, bool)| {
        let handle = handle.clone();
        let (u, force) = (u.clone(), *force);
        async move {
            error.set(None);
            match handle.remove_mint(&u, force).await {
                Ok(()) => confirm_remove.set(None),
                Err(EngineError::Ecash(e @ EcashError::MintHasBalance(_))) => {
                    error.set(Some(e.user_message()));
                    confirm_remove.set(Some(u));
                }
                Err(e) => error.set(Some(e.user_message())),
            }
        }
    });
    let list = move || {
        mints
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let nuts = m
                    .nuts
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                let u = m.url.clone();
                let u2 = m.url.clone();
                let contact = m
                    .contact
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(" · ");
                view! {
                    <li class="mint" data-testid="mint">
                        <p><strong>{m.name.clone().unwrap_or_else(|| m.url.clone())}</strong>
                           " — " <span data-testid="mint-balance">{format!("{} sat", m.balance)}</span>
                           {(m.pending > 0).then(|| format!(" ({} sat pending)", m.pending))}</p>
                        <p class="mono hint">{m.url.clone()}</p>
                        {m.description.clone().map(|d| view! { <p>{d}</p> })}
                        {m.motd.clone().map(|d| view! { <p role="note" class="warning">{d}</p> })}
                        <p class="hint">{tr!("mints.nuts")} ": " {nuts}</p>
                        {(!contact.is_empty()).then(|| view! { <p class="hint">{tr!("mints.contact")} ": " {contact}</p> })}
                        <button type="button" class="secondary" on:click=move |_| { remove.dispatch((u.clone(), false)); }>
                            {tr!("mints.remove")}
                        </button>
                        <Show when=move || confirm_remove.get().as_deref() == Some(u2.as_str())>
                            {
                                let u3 = m.url.clone();
                                view! {
                                    <button type="button" class="danger" on:click=move |_| { remove.dispatch((u3.clone(), true)); }>
                                        {tr!("mints.remove_anyway")}
                                    </button>
                                }
                            }
                        </Show>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <h2>{tr!("mints.title")}</h2>
        <ul class="mints">{list}</ul>
        <form on:submit=move |ev| { ev.prevent_default(); add.dispatch(()); }>
            <label>
                {tr!("mints.url")}
                <input type="url" required placeholder="https://mint.example.com" data-testid="mint-url"
                    prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev)) />
            </label>
            <button type="submit" disabled=add.pending()>{tr!("mints.add")}</button>
        </form>
        {move || error.get().map(|e| view! { <p role="alert" class="error">{e}</p> })}
        <p class="hint">{tr!("mints.restore_hint")}</p>
        <button type="button" class="secondary" disabled=restore.pending()
            on:click=move |_| { restore.dispatch(()); }>{tr!("mints.restore")}</button>
        {move || restore.value().get().map(|r| match r {
            Ok(n) => view! { <p role="status" data-testid="restored">{rust_i18n::t!("mints.restored", n = n).into_owned()}</p> }.into_any(),
            Err(e) => view! { <p role="alert" class="error">{e}</p> }.into_any(),
        })}
    }
}
