//! The unlock form: passphrase in, keys into the engine; a wrong passphrase shows why and
//! changes nothing.

use flash_core::WalletHandle;
use leptos::prelude::*;

use crate::tr;

/// Shown while the wallet is locked.
#[component]
pub fn Unlock() -> impl IntoView {
    let handle = expect_context::<WalletHandle>();
    let passphrase = RwSignal::new(String::new());
    let unlock = Action::new_local(move |pass: &String| {
        let handle = handle.clone();
        let pass = pass.clone();
        async move {
            handle
                .unlock(&pass)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        unlock.dispatch(passphrase.get_untracked());
        passphrase.set(String::new());
    };
    let error = move || unlock.value().get().and_then(|r| r.err());
    view! {
        <form class="stack" on:submit=on_submit aria-labelledby="unlock-title">
            <h2 id="unlock-title">{tr!("unlock.title")}</h2>
            <div class="field">
                <label for="unlock-passphrase">{tr!("unlock.passphrase")}</label>
                <input id="unlock-passphrase" type="password" autocomplete="current-password" required
                    prop:value=passphrase on:input=move |ev| passphrase.set(event_target_value(&ev)) />
            </div>
            <Show when=move || error().is_some()>
                <p role="alert" class="error">{move || error().unwrap_or_default()}</p>
            </Show>
            <button type="submit" disabled=move || unlock.pending().get()>
                {move || if unlock.pending().get() { crate::t_now!("unlock.working") } else { crate::t_now!("unlock.submit") }}
            </button>
        </form>
    }
}
