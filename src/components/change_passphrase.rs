//! Change the passphrase: current one, new one twice, with the same strength hint as
//! onboarding. Only the data key is re-wrapped; nothing else is re-encrypted.

use leptos::prelude::*;

use crate::components::onboarding::strength_text;
use crate::errors::UserMessage;
use crate::tr;

/// The change-passphrase form (settings, unlocked).
#[component]
pub fn ChangePassphrase() -> impl IntoView {
    let handle = crate::state::engine();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    // Off by default: a new passphrase usually means the old way in is no longer trusted.
    let keep_passkey = RwSignal::new(false);
    let change = crate::task::Task::new_local(move |(cur, new): &(String, String)| {
        let handle = handle.clone();
        let (cur, new) = (cur.clone(), new.clone());
        let keep = keep_passkey.get_untracked();
        async move {
            handle
                .change_passphrase(&cur, &new, keep)
                .await
                .map_err(|e| e.user_message())
        }
    });
    let mismatch = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if new.get_untracked() != again.get_untracked() {
            mismatch.set(true);
            return;
        }
        mismatch.set(false);
        change.dispatch((current.get_untracked(), new.get_untracked()));
    };
    let outcome = move || {
        if mismatch.get() {
            return Some(Err(crate::t_now!("passphrase.mismatch")));
        }
        change.value().get()
    };
    view! {
        <form class="stack" on:submit=on_submit>
            <h2>{tr!("settings.change_title")}</h2>
            <div class="field">
                <label for="current-passphrase">{tr!("settings.change_current")}</label>
                <input id="current-passphrase" type="password" autocomplete="current-password" required
                    prop:value=current on:input=move |ev| current.set(event_target_value(&ev)) />
            </div>
            <div class="field">
                <label for="changed-passphrase">{tr!("settings.change_new")}</label>
                <input id="changed-passphrase" type="password" autocomplete="new-password" required
                    aria-describedby="changed-strength"
                    on:input=move |ev| new.set(event_target_value(&ev)) />
                <p id="changed-strength" class="hint" aria-live="polite">{move || strength_text(&new.get())}</p>
            </div>
            <div class="field">
                <label for="changed-again">{tr!("settings.change_repeat")}</label>
                <input id="changed-again" type="password" autocomplete="new-password" required
                    on:input=move |ev| again.set(event_target_value(&ev)) />
            </div>
            <label class="check">
                <input type="checkbox" prop:checked=keep_passkey
                    on:change=move |ev| keep_passkey.set(event_target_checked(&ev)) />
                {tr!("settings.change_keep_passkey")}
            </label>
            <button type="submit" disabled=change.pending()>{tr!("settings.change_submit")}</button>
            {move || match outcome() {
                Some(Ok(())) => view! { <p role="status">{tr!("settings.change_done")}</p> }.into_any(),
                Some(Err(e)) => view! { <p role="alert" class="error">{e}</p> }.into_any(),
                None => ().into_any(),
            }}
        </form>
    }
}
