//! `/send`: an eCash token (QR, copy, file; offline from exact proofs) or a Lightning payment
//! (invoice read and priced before paying, NUT-05).

use flash_api::views::{Lock, MeltPreview, Paid, SentToken};
use leptos::prelude::*;

use crate::components::ecash::{unlocked, use_mints, CopyBox, MintPicker, NeedsUnlock, Qr};
use crate::components::page::Page;
use crate::errors::UserMessage;
use crate::tr;

/// `/send`
#[component]
pub fn Send() -> impl IntoView {
    let unlocked = unlocked();
    view! {
        <Page title=tr!("send.title") name="send">
            <Show when=move || unlocked.get() fallback=|| view! { <NeedsUnlock /> }>
                <TokenOut />
                <LightningOut />
            </Show>
        </Page>
    }
}

#[component]
fn TokenOut() -> impl IntoView {
    let handle = crate::state::engine();
    let mints = use_mints();
    let mint = RwSignal::new(String::new());
    let amount = RwSignal::new(String::new());
    let memo = RwSignal::new(String::new());
    let offline = RwSignal::new(false);
    let lock_to = RwSignal::new(String::new());
    let refund = RwSignal::new(String::from("86400"));
    let token = RwSignal::new(None::<SentToken>);
    let error = RwSignal::new(None::<String>);
    let make = crate::task::Task::new_local(move |_: &()| {
        let handle = handle.clone();
        let m = mint.get_untracked();
        let sats = amount.get_untracked().trim().parse::<u64>().unwrap_or(0);
        let memo = Some(memo.get_untracked()).filter(|m| !m.trim().is_empty());
        let off = offline.get_untracked();
        let lock = Some(lock_to.get_untracked())
            .filter(|t| !t.trim().is_empty())
            .map(|to| Lock {
                to,
                refund_after_secs: refund
                    .get_untracked()
                    .parse::<u64>()
                    .ok()
                    .filter(|s| *s > 0),
            });
        async move {
            error.set(None);
            token.set(None);
            match handle.send_token(&m, sats, memo, off, lock).await {
                Ok(t) => token.set(Some(t)),
                Err(e) => error.set(Some(e.user_message())),
            }
        }
    });
    let fee_note = move || {
        mints.get().and_then(|list| {
            list.into_iter()
                .find(|m| m.url == mint.get())
                .filter(|m| m.input_fee_ppk > 0)
                .map(|m| rust_i18n::t!("send.fee_ppk", ppk = m.input_fee_ppk).into_owned())
        })
    };
    view! {
        <section aria-labelledby="tx-token">
            <h2 id="tx-token">{tr!("send.token")}</h2>
            <form on:submit=move |ev| { ev.prevent_default(); make.dispatch(()); }>
                <MintPicker mints selected=mint />
                <label>
                    {tr!("ecash.amount_sat")}
                    <input type="number" min="1" inputmode="numeric" required data-testid="send-amount"
                        prop:value=move || amount.get()
                        on:input=move |ev| amount.set(event_target_value(&ev)) />
                </label>
                <label>
                    {tr!("ecash.memo")}
                    <input type="text" maxlength="140" prop:value=move || memo.get()
                        on:input=move |ev| memo.set(event_target_value(&ev)) />
                </label>
                <label>
                    {tr!("send.lock_to")}
                    <input type="text" placeholder="npub1…" data-testid="send-lock" autocomplete="off"
                        prop:value=move || lock_to.get()
                        on:input=move |ev| lock_to.set(event_target_value(&ev)) />
                </label>
                <Show when=move || !lock_to.get().trim().is_empty()>
                    <label>
                        {tr!("send.refund")}
                        <select on:change=move |ev| refund.set(event_target_value(&ev))>
                            <option value="86400" selected=true>{tr!("send.refund_day")}</option>
                            <option value="604800">{tr!("send.refund_week")}</option>
                            <option value="0">{tr!("send.refund_never")}</option>
                        </select>
                    </label>
                </Show>
                <label class="check">
                    <input type="checkbox" data-testid="send-offline" prop:checked=move || offline.get()
                        on:change=move |ev| offline.set(event_target_checked(&ev)) />
                    {tr!("send.offline")}
                </label>
                {fee_note}
                <button type="submit">{tr!("send.make_token")}</button>
            </form>
            {move || token.get().map(|t| {
                let file = t.token.clone();
                view! {
                    <div class="token" data-testid="token-out">
                        <p role="status">{rust_i18n::t!("send.token_ready", n = t.amount).into_owned()}</p>
                        <Qr text=t.token.clone() label=crate::t_now!("send.token_qr") />
                        <CopyBox text=t.token.clone() testid="token-text" />
                        <button type="button" class="secondary" on:click=move |_| {
                            let name = format!("flash-ecash-{}sat.cashu.txt", t.amount);
                            let _ = flash_browser::files::download(&name, file.as_bytes(), "text/plain");
                        }>{tr!("send.download")}</button>
                        <p class="hint">{tr!("send.token_hint")}</p>
                    </div>
                }
            })}
            {move || error.get().map(|e| view! { <p role="alert" class="error" data-testid="send-error">{e}</p> })}
        </section>
    }
}

#[component]
fn LightningOut() -> impl IntoView {
    let handle = crate::state::engine();
    let mints = use_mints();
    let mint = RwSignal::new(String::new());
    let invoice = RwSignal::new(String::new());
    let preview = RwSignal::new(None::<MeltPreview>);
    let paid = RwSignal::new(None::<Paid>);
    let error = RwSignal::new(None::<String>);
    let quote_handle = handle.clone();
    let quote = crate::task::Task::new_local(move |_: &()| {
        let handle = quote_handle.clone();
        let (m, i) = (mint.get_untracked(), invoice.get_untracked());
        async move {
            error.set(None);
            paid.set(None);
            preview.set(None);
            match handle.quote_payment(&m, &i).await {
                Ok(p) => preview.set(Some(p)),
                Err(e) => error.set(Some(e.user_message())),
            }
        }
    });
    let pay = crate::task::Task::new_local(move |_: &()| {
        let handle = handle.clone();
        let p = preview.get_untracked();
        async move {
            let Some(p) = p else { return };
            error.set(None);
            match handle.pay(&p.mint, &p.quote_id).await {
                Ok(done) => {
                    paid.set(Some(done));
                    preview.set(None);
                    invoice.set(String::new());
                }
                Err(e) => error.set(Some(e.user_message())),
            }
        }
    });
    view! {
        <section aria-labelledby="tx-ln">
            <h2 id="tx-ln">{tr!("send.lightning")}</h2>
            <form on:submit=move |ev| { ev.prevent_default(); quote.dispatch(()); }>
                <MintPicker mints selected=mint />
                <label>
                    {tr!("send.invoice")}
                    <textarea rows="3" class="mono" required data-testid="pay-invoice"
                        prop:value=move || invoice.get()
                        on:input=move |ev| { invoice.set(event_target_value(&ev)); preview.set(None); }></textarea>
                </label>
                <button type="submit" class="secondary">{tr!("send.review")}</button>
            </form>
            {move || preview.get().map(|p| view! {
                <div class="preview" data-testid="pay-preview">
                    <p><strong>{format!("{} sat", p.amount)}</strong></p>
                    <p>{rust_i18n::t!("send.fee_reserve", n = p.fee_reserve).into_owned()}</p>
                    {p.description.clone().map(|d| view! { <p>{tr!("send.description")} ": " {d}</p> })}
                    <button type="button" data-testid="pay-confirm" disabled=pay.pending()
                        on:click=move |_| { pay.dispatch(()); }>{tr!("send.pay")}</button>
                </div>
            })}
            <Show when=move || pay.pending().get()>
                <p class="hint" aria-live="polite">{tr!("send.paying")}</p>
            </Show>
            {move || paid.get().map(|p| view! {
                <div role="status" class="success" data-testid="paid">
                    <p>{rust_i18n::t!("send.paid", n = p.amount, fee = p.fee).into_owned()}</p>
                    {p.preimage.clone().map(|pre| view! { <p class="mono">{tr!("send.preimage")} ": " {pre}</p> })}
                </div>
            })}
            {move || error.get().map(|e| view! { <p role="alert" class="error" data-testid="pay-error">{e}</p> })}
        </section>
    }
}
