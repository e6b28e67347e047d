//! The unlock form: passphrase in, keys into the engine; a wrong passphrase shows why and
//! changes nothing.

use leptos::prelude::*;

use crate::errors::UserMessage;
use crate::tr;

/// Shown while the wallet is locked.
#[component]
pub fn Unlock() -> impl IntoView {
    let handle = crate::state::engine();
    let handle_passkey = handle.clone();
    let passphrase = RwSignal::new(String::new());
    let unlock = crate::task::Task::new_local(move |pass: &String| {
        let handle = handle.clone();
        let pass = pass.clone();
        async move {
            handle
                .unlock(&pass)
                .await
                .map(|_| ())
                .map_err(|e| e.user_message())
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        unlock.dispatch(passphrase.get_untracked());
        passphrase.set(String::new());
    };
    let passkey_handle = handle_passkey.clone();
    let passkey = crate::fetched::fetched(move || {
        let handle = passkey_handle.clone();
        async move { Some(handle.passkey().await.ok().flatten()) }
    });
    let with_passkey = crate::task::Task::new_local(move |_: &()| {
        let handle = handle_passkey.clone();
        async move {
            let request = handle
                .passkey()
                .await
                .map_err(|e| e.user_message())?
                .ok_or_else(|| flash_api::VaultError::NoPasskey.user_message())?;
            let output =
                flash_browser::passkey::evaluate(&request.credential_id, &request.prf_salt)
                    .await
                    .map_err(|e| e.user_message())?;
            handle
                .unlock_with_passkey(output)
                .await
                .map(|_| ())
                .map_err(|e| e.user_message())
        }
    });
    let error = move || {
        unlock
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| with_passkey.value().get().and_then(|r| r.err()))
    };
    view! {
        <form class="stack" on:submit=on_submit aria-labelledby="unlock-title">
            <h2 id="unlock-title">{tr!("unlock.title")}</h2>
            <div class="field">
                <label for="unlock-passphrase">{tr!("unlock.passphrase")}</label>
                <input id="unlock-passphrase" type="password" autocomplete="current-password" required
                    prop:value=passphrase on:input=move |ev| passphrase.set(event_target_value(&ev)) />
            </div>
            {move || error().map(|e| view! { <p role="alert" class="error">{e}</p> })}
            <button type="submit" disabled=unlock.pending()>
                {move || if unlock.pending().get() { crate::t_now!("unlock.working") } else { crate::t_now!("unlock.submit") }}
            </button>
            <Show when=move || passkey.get().flatten().is_some()>
                <button type="button" class="secondary" on:click=move |_| { with_passkey.dispatch(()); }>
                    {tr!("unlock.passkey")}
                </button>
            </Show>
        </form>
    }
}
