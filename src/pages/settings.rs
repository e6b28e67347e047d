//! `/settings`: language, offline status and the build.

use leptos::prelude::*;

use flash_api::WalletState;
use flash_browser::remote::RemoteHandle;

use crate::components::page::Page;
use crate::errors::UserMessage;
use crate::i18n::{use_locale, LOCALES};
use crate::state::{OfflineSupport, WalletStatus};
use crate::tr;

/// Something to show only while unlocked, fetched from the engine again whenever the wallet
/// state or `refresh` changes; `None` while locked or when the engine says no.
fn when_unlocked<T, F, Fut>(
    status: WalletStatus,
    refresh: RwSignal<u32>,
    handle: RemoteHandle,
    fetch: F,
) -> crate::fetched::Fetched<Option<T>>
where
    T: 'static,
    F: Fn(RemoteHandle) -> Fut + 'static,
    Fut: std::future::Future<Output = Option<T>> + 'static,
{
    crate::fetched::fetched(move || {
        let _ = refresh.get();
        let unlocked = status
            .0
            .get()
            .is_some_and(|s| s.state == WalletState::Unlocked);
        let fetched = unlocked.then(|| fetch(handle.clone()));
        async move {
            Some(match fetched {
                Some(f) => f.await,
                None => None,
            })
        }
    })
}

/// `/settings`
#[component]
pub fn Settings() -> impl IntoView {
    let locale = use_locale();
    let offline = expect_context::<OfflineSupport>();
    let status = expect_context::<WalletStatus>();
    let handle = crate::state::engine();
    let handle_for_backup = handle.clone();
    let backups_made = RwSignal::new(0u32);
    let keys_changed = RwSignal::new(0u32);
    let set_nsec = crate::components::nostr_key::set_nsec_action(keys_changed);
    let identity = when_unlocked(status, keys_changed, handle.clone(), |h| async move {
        h.identity().await.ok()
    });
    let autolock = RwSignal::new(flash_browser::idle::minutes());
    let autolock_options = flash_browser::idle::CHOICES
        .iter()
        .map(|m| {
            let m = *m;
            view! {
                <option value=m.to_string() selected=move || autolock.get() == m>
                    {move || rust_i18n::t!("settings.minutes", n = m).into_owned()}
                </option>
            }
        })
        .collect_view();
    let on_autolock = move |ev| {
        if let Ok(m) = event_target_value(&ev).parse::<u32>() {
            flash_browser::idle::set_minutes(m);
            autolock.set(m);
        }
    };
    let storage = crate::fetched::fetched(|| async { Some(flash_browser::storage::info().await) });
    let storage_section = move || {
        storage.get().map(|info| {
            let protected = if info.persisted {
                view! { <p data-testid="storage-persisted">{tr!("settings.storage_persisted")}</p> }.into_any()
            } else {
                view! { <p data-testid="storage-persisted" role="note" class="warning">{tr!("settings.storage_not_persisted")}</p> }.into_any()
            };
            let usage = match (info.usage, info.quota) {
                (Some(u), Some(q)) => rust_i18n::t!(
                    "settings.storage_usage",
                    used = flash_api::amount::format_bytes(u as u64),
                    quota = flash_api::amount::format_bytes(q as u64)
                )
                .into_owned(),
                _ => String::new(),
            };
            view! { {protected} <p class="hint">{usage}</p> }
        })
    };
    let backup_handle = handle_for_backup.clone();
    let last_backup = when_unlocked(status, backups_made, backup_handle, |h| async move {
        h.last_backup().await.ok()
    });
    let export_handle = handle_for_backup.clone();
    let export = crate::task::Task::new_local(move |_: &()| {
        let handle = export_handle.clone();
        async move {
            let file = handle.export_backup().await.map_err(|e| e.user_message())?;
            flash_browser::files::download("flash-wallet-backup.json", &file, "application/json")
                .map_err(|e| e.user_message())?;
            // Recorded only once the browser has the download, never before.
            handle.backup_saved().await.map_err(|e| e.user_message())?;
            backups_made.update(|n| *n += 1);
            Ok::<(), String>(())
        }
    });
    let backup_section = move || {
        last_backup.get().flatten().map(|last| {
            let when = match last {
                Some(ms) => rust_i18n::t!("settings.backup_last", when = flash_browser::files::format_time(ms, locale.get()))
                    .into_owned(),
                None => crate::t_now!("settings.backup_never"),
            };
            let error = move || export.value().get().and_then(Result::err);
            view! {
                <h2>{tr!("settings.backups")}</h2>
                <ul class="backups">
                    <li>{tr!("settings.backup_words")}</li>
                    <li data-testid="last-backup">{when}</li>
                </ul>
                <button type="button" on:click=move |_| { export.dispatch(()); }>{tr!("settings.backup_download")}</button>
                {move || error().map(|e| view! { <p role="alert" class="error">{e}</p> })}
            }
        })
    };
    let passkey_handle = handle_for_backup.clone();
    let passkey_changed = RwSignal::new(0u32);
    let passkey = when_unlocked(status, passkey_changed, passkey_handle, |h| async move {
        h.passkey().await.ok().map(|p| p.is_some())
    });
    let change_handle = handle_for_backup.clone();
    let passkey_pass = RwSignal::new(String::new());
    let change_passkey = crate::task::Task::new_local(move |add: &bool| {
        let handle = change_handle.clone();
        let add = *add;
        let pass = passkey_pass.get_untracked();
        passkey_pass.set(String::new());
        async move {
            let result = if add {
                match flash_browser::passkey::create().await {
                    Ok((id, salt, output)) => handle
                        .add_passkey(&pass, id, salt, output)
                        .await
                        .map_err(|e| e.user_message()),
                    Err(e) => Err(e.user_message()),
                }
            } else {
                handle.remove_passkey().await.map_err(|e| e.user_message())
            };
            passkey_changed.update(|n| *n += 1);
            result
        }
    });
    let passkey_section = move || {
        passkey.get().flatten().map(|has| {
            let error = move || change_passkey.value().get().and_then(Result::err);
            let body = if has {
                view! {
                    <p data-testid="passkey-status">{tr!("settings.passkey_on")}</p>
                    <button type="button" class="secondary" on:click=move |_| { change_passkey.dispatch(false); }>
                        {tr!("settings.passkey_remove")}
                    </button>
                }
                .into_any()
            } else {
                view! {
                    <p data-testid="passkey-status" class="hint">{tr!("settings.passkey_off")}</p>
                    <form class="stack" on:submit=move |ev| { ev.prevent_default(); change_passkey.dispatch(true); }>
                        <div class="field">
                            <label for="passkey-passphrase">{tr!("settings.passkey_passphrase")}</label>
                            <input id="passkey-passphrase" type="password" autocomplete="current-password" required
                                prop:value=passkey_pass on:input=move |ev| passkey_pass.set(event_target_value(&ev)) />
                        </div>
                        <button type="submit">{tr!("settings.passkey_add")}</button>
                    </form>
                }
                .into_any()
            };
            view! {
                <h2>{tr!("settings.passkey")}</h2>
                {body}
                {move || error().map(|e| view! { <p role="alert" class="error">{e}</p> })}
            }
        })
    };
    let keys_section = move || {
        identity.get().flatten().map(|id| {
            view! {
                <h2>{tr!("settings.keys")}</h2>
                <dl class="keys">
                    <dt>{tr!("settings.npub")}</dt>
                    <dd data-testid="npub"><code>{id.npub}</code></dd>
                    <dt>{tr!("settings.bip84")}</dt>
                    <dd data-testid="bip84-address"><code>{id.bip84_address}</code></dd>
                </dl>
                <crate::components::nostr_key::NostrKey imported=id.nostr_imported set=set_nsec />
            }
        })
    };
    let on_change = move |ev| {
        let value = event_target_value(&ev);
        if let Some((tag, _)) = LOCALES.iter().find(|(tag, _)| *tag == value) {
            locale.set(tag);
        }
    };
    let options = LOCALES
        .iter()
        .map(|(tag, name)| {
            view! { <option value=*tag selected=move || locale.get() == *tag>{*name}</option> }
        })
        .collect_view();
    let offline_text = move || match offline.0.get() {
        None => tr!("settings.offline_checking").into_any(),
        Some(Ok(())) => tr!("settings.offline_ready").into_any(),
        Some(Err(reason)) => reason.into_any(),
    };
    view! {
        <Page title=tr!("settings.title") name="settings">
            <div class="field">
                <label for="language">{tr!("settings.language")}</label>
                <select id="language" on:change=on_change>{options}</select>
            </div>
            <div class="field">
                <label for="autolock">{tr!("settings.autolock")}</label>
                <select id="autolock" on:change=on_autolock>{autolock_options}</select>
            </div>
            <Show when=move || status.0.get().is_some_and(|s| s.state == WalletState::Unlocked)>
                <crate::components::mints::Mints />
            </Show>
            {keys_section}
            {backup_section}
            {passkey_section}
            <Show when=move || status.0.get().is_some_and(|s| s.state == WalletState::Unlocked)>
                <crate::components::change_passphrase::ChangePassphrase />
            </Show>
            <h2>{tr!("settings.storage")}</h2>
            {storage_section}
            <h2>{tr!("settings.offline")}</h2>
            <p data-testid="offline-status">{offline_text}</p>
            <h2>{tr!("settings.about")}</h2>
            <p>{concat!("Flash Web ", env!("CARGO_PKG_VERSION"))}</p>
        </Page>
    }
}
