//! Home → Pending and History. Pending lists open operations with their one action
//! (reclaim an unclaimed token; retry the rest); History lists every operation and exports
//! CSV.

use flash_api::views::history_csv;
use leptos::prelude::*;

use crate::errors::UserMessage;
use crate::i18n::use_locale;
use crate::tr;

/// Pending operations and history, refreshed whenever eCash state changes.
#[component]
pub fn Activity() -> impl IntoView {
    let lists = crate::state::lists();
    let open = crate::components::ecash::unlocked();
    let handle = crate::state::engine();
    let locale = use_locale();
    let filter = RwSignal::new(String::from("all"));
    let error = RwSignal::new(None::<String>);
    // Each list is fetched again when the engine says it changed, and at unlock.
    let pending_changed = move || (open.get(), lists.pending.get());
    let history_changed = move || (open.get(), lists.history.get());
    let h1 = handle.clone();
    let pending = crate::fetched::fetched(move || {
        let _ = pending_changed();
        let h = h1.clone();
        async move { h.pending().await.ok() }
    });
    let h2 = handle.clone();
    let history = crate::fetched::fetched(move || {
        let _ = history_changed();
        let h = h2.clone();
        async move { h.history().await.ok() }
    });
    let h4 = handle.clone();
    let saved = crate::fetched::fetched(move || {
        let _ = pending_changed();
        let h = h4.clone();
        async move { h.saved_tokens().await.ok() }
    });
    let h5 = handle.clone();
    let failed = crate::fetched::fetched(move || {
        let _ = pending_changed();
        let h = h5.clone();
        async move { h.failed_tokens().await.ok() }
    });
    let h6 = handle.clone();
    let dismiss = crate::task::Task::new_local(move |id: &String| {
        let h = h6.clone();
        let id = id.clone();
        async move {
            let _ = h.dismiss_failed(&id).await;
        }
    });
    let h3 = handle.clone();
    let reclaim = crate::task::Task::new_local(move |(mint, id): &(String, String)| {
        let h = h3.clone();
        let (mint, id) = (mint.clone(), id.clone());
        async move {
            error.set(None);
            if let Err(e) = h.reclaim(&mint, &id).await {
                error.set(Some(e.user_message()));
            }
        }
    });
    let retry = crate::task::Task::new_local(move |_: &()| {
        let h = handle.clone();
        async move {
            let _ = h.recover().await;
        }
    });
    let pending_list = move || {
        pending
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                let (mint, id) = (p.mint.clone(), p.id.clone());
                let action = if p.reclaimable {
                    view! {
                        <button type="button" class="secondary" data-testid="reclaim"
                            on:click=move |_| { reclaim.dispatch((mint.clone(), id.clone())); }>
                            {tr!("activity.reclaim")}
                        </button>
                    }
                    .into_any()
                } else {
                    view! {
                        <button type="button" class="secondary" on:click=move |_| { retry.dispatch(()); }>
                            {tr!("activity.check")}
                        </button>
                    }
                    .into_any()
                };
                // A locked token made but not yet claimed: shown again so it can be handed
                // over (it only pays the key it is locked to).
                let token = p.token.clone().map(|t| {
                    view! {
                        <textarea readonly rows="2" class="mono" data-testid="locked-token"
                            aria-label=tr!("activity.locked_token")>{t}</textarea>
                    }
                });
                view! {
                    <li data-testid="pending-item">
                        {format!("{} — {} sat — {}", p.kind, p.amount, p.mint)} " " {action} {token}
                    </li>
                }
            })
            .collect_view()
    };
    // Saved tokens that failed for good: kept with the reason and the token, never deleted
    // behind the user's back, so they can copy it and try it elsewhere.
    let failed_list = move || {
        failed
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(|f| {
                let id = f.id.clone();
                let token = f.token.clone();
                view! {
                    <li data-testid="failed-token">
                        {format!("{} sat — {} — ", f.amount, f.mint)} {f.reason.user_message()}
                        <textarea readonly rows="2" class="mono" aria-label=tr!("activity.failed_token")>{token}</textarea>
                        <button type="button" class="secondary" on:click=move |_| { dismiss.dispatch(id.clone()); }>
                            {tr!("activity.dismiss")}
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    let history_list = move || {
        let f = filter.get();
        history
            .get()
            .unwrap_or_default()
            .into_iter()
            .filter(|h| match f.as_str() {
                "in" => h.incoming,
                "out" => !h.incoming,
                "pending" => h.status == "pending",
                _ => true,
            })
            .map(|h| {
                let when = flash_browser::files::format_time(h.time * 1000, locale.get());
                let sign = if h.incoming { "+" } else { "−" };
                view! {
                    <li data-testid="history-item" data-incoming=h.incoming.to_string()>
                        <span class="amount">{format!("{sign}{} sat", h.amount)}</span>
                        {(h.fee > 0).then(|| format!(" (fee {} sat)", h.fee))}
                        " · " {h.kind.clone()} " · " {h.status.clone()} " · " {when}
                        {h.memo.clone().map(|m| format!(" · “{m}”"))}
                    </li>
                }
            })
            .collect_view()
    };
    let export = move |_| {
        let csv = history_csv(&history.get().unwrap_or_default());
        let _ = flash_browser::files::download("flash-history.csv", csv.as_bytes(), "text/csv");
    };
    view! {
        <section aria-labelledby="pending-h" class="activity">
            <h2 id="pending-h">{tr!("activity.pending")}</h2>
            <Show when=move || pending.get().is_some_and(|p| p.is_empty()) && saved.get().is_some_and(|s| s.is_empty())>
                <p class="hint" data-testid="no-pending">{tr!("activity.nothing_pending")}</p>
            </Show>
            {move || {
                let total: u64 = saved.get().unwrap_or_default().iter().map(|s| s.2).sum();
                (total > 0).then(|| view! {
                    <p role="note" class="warning" data-testid="not-redeemed">
                        {rust_i18n::t!("activity.not_redeemed", n = total).into_owned()}
                        " "
                        <button type="button" class="secondary" on:click=move |_| { retry.dispatch(()); }>
                            {tr!("activity.redeem_now")}
                        </button>
                    </p>
                })
            }}
            <ul data-testid="pending">{pending_list}</ul>
            <Show when=move || failed.get().is_some_and(|f| !f.is_empty())>
                <h3>{tr!("activity.could_not_redeem")}</h3>
                <ul data-testid="failed-tokens">{failed_list}</ul>
            </Show>
            {move || error.get().map(|e| view! { <p role="alert" class="error">{e}</p> })}
        </section>
        <section aria-labelledby="history-h" class="activity">
            <h2 id="history-h">{tr!("activity.history")}</h2>
            <label>
                {tr!("activity.show")}
                <select on:change=move |ev| filter.set(event_target_value(&ev))>
                    <option value="all">{tr!("activity.all")}</option>
                    <option value="in">{tr!("activity.in")}</option>
                    <option value="out">{tr!("activity.out")}</option>
                    <option value="pending">{tr!("activity.pending")}</option>
                </select>
            </label>
            <ul data-testid="history">{history_list}</ul>
            <button type="button" class="secondary" on:click=export>{tr!("activity.export")}</button>
        </section>
    }
}
