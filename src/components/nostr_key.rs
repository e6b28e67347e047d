//! Choosing the NOSTR key: the one derived from the recovery words (NIP-06), or an existing
//! `nsec` the user already has. The engine validates and stores it encrypted.

use leptos::prelude::*;

use crate::errors::UserMessage;
use crate::tr;

/// The action that sets (`Some(nsec)`) or drops (`None`) the imported key. It is owned by the
/// settings page, not by [`NostrKey`], because a change re-renders the key list this sits in.
pub type SetNsec = crate::task::Task<Option<String>, Result<(), String>>;

/// Makes the [`SetNsec`] action; bumps `changed` after a change so the shown keys refresh.
pub fn set_nsec_action(changed: RwSignal<u32>) -> SetNsec {
    let handle = crate::state::engine();
    crate::task::Task::new_local(move |value: &Option<String>| {
        let handle = handle.clone();
        let value = value.clone();
        async move {
            let result = handle
                .set_nsec(value.as_deref())
                .await
                .map(|_| ())
                .map_err(|e| e.user_message());
            if result.is_ok() {
                changed.update(|n| *n += 1);
            }
            result
        }
    })
}

/// Import or drop an nsec.
#[component]
pub fn NostrKey(imported: bool, set: SetNsec) -> impl IntoView {
    let nsec = RwSignal::new(String::new());
    let error = move || set.value().get().and_then(Result::err);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set.dispatch(Some(nsec.get_untracked()));
        nsec.set(String::new());
    };
    // Dropping the key changes the npub people pay and lock tokens to: asked once more. The
    // engine keeps the dropped key to sign for tokens already locked to it.
    let confirming = RwSignal::new(false);
    let body = if imported {
        view! {
            <p class="hint warning">{tr!("settings.nsec_imported")}</p>
            <Show when=move || confirming.get() fallback=move || view! {
                <button type="button" class="secondary" on:click=move |_| confirming.set(true)>
                    {tr!("settings.nsec_drop")}
                </button>
            }>
                <p role="alert" class="warning" data-testid="nsec-drop-confirm">{tr!("settings.nsec_drop_confirm")}</p>
                <button type="button" on:click=move |_| { confirming.set(false); set.dispatch(None); }>
                    {tr!("settings.nsec_drop_yes")}
                </button>
                <button type="button" class="secondary" on:click=move |_| confirming.set(false)>
                    {tr!("settings.cancel")}
                </button>
            </Show>
        }
        .into_any()
    } else {
        view! {
            <form class="stack" on:submit=on_submit>
                <div class="field">
                    <label for="import-nsec">{tr!("settings.nsec_label")}</label>
                    <input id="import-nsec" type="password" autocomplete="off" spellcheck="false" required
                        prop:value=nsec on:input=move |ev| nsec.set(event_target_value(&ev)) />
                </div>
                <button type="submit" class="secondary">{tr!("settings.nsec_submit")}</button>
            </form>
        }
        .into_any()
    };
    view! {
        {body}
        {move || error().map(|e| view! { <p role="alert" class="error">{e}</p> })}
    }
}
