//! `/receive`: a Lightning invoice that turns into eCash when paid (NUT-04), or an eCash token
//! pasted or opened from a file, checked before it is redeemed.

use flash_api::views::{InvoiceView, Received, TokenView};
use leptos::prelude::*;

use crate::components::ecash::{unlocked, use_mints, CopyBox, MintPicker, NeedsUnlock, Qr};
use crate::components::page::Page;
use crate::errors::UserMessage;
use crate::tr;

/// `/receive`
#[component]
pub fn Receive() -> impl IntoView {
    let unlocked = unlocked();
    view! {
        <Page title=tr!("receive.title") name="receive">
            <Show when=move || unlocked.get() fallback=|| view! { <NeedsUnlock /> }>
                <LightningIn />
                <TokenIn />
            </Show>
        </Page>
    }
}

/// Amount → invoice (QR + text) → waits for payment → minted.
#[component]
fn LightningIn() -> impl IntoView {
    let handle = crate::state::engine();
    let mints = use_mints();
    let mint = RwSignal::new(String::new());
    let amount = RwSignal::new(String::new());
    let invoice = RwSignal::new(None::<InvoiceView>);
    let received = RwSignal::new(None::<u64>);
    let error = RwSignal::new(None::<String>);
    let create = crate::task::Task::new_local(move |_: &()| {
        let handle = handle.clone();
        let (m, a) = (mint.get_untracked(), amount.get_untracked());
        async move {
            error.set(None);
            received.set(None);
            let sats = a.trim().parse::<u64>().unwrap_or(0);
            match handle.invoice(&m, sats).await {
                Ok(inv) => {
                    let quote = inv.quote_id.clone();
                    invoice.set(Some(inv));
                    match handle.await_invoice(&m, &quote).await {
                        Ok(n) => received.set(Some(n)),
                        Err(e) => error.set(Some(e.user_message())),
                    }
                }
                Err(e) => error.set(Some(e.user_message())),
            }
        }
    });
    view! {
        <section aria-labelledby="rx-ln">
            <h2 id="rx-ln">{tr!("receive.lightning")}</h2>
            <form on:submit=move |ev| { ev.prevent_default(); create.dispatch(()); }>
                <MintPicker mints selected=mint />
                <label>
                    {tr!("ecash.amount_sat")}
                    <input type="number" min="1" inputmode="numeric" required
                        data-testid="receive-amount"
                        prop:value=move || amount.get()
                        on:input=move |ev| amount.set(event_target_value(&ev)) />
                </label>
                <button type="submit">{tr!("receive.create_invoice")}</button>
            </form>
            {move || invoice.get().map(|inv| view! {
                <div class="invoice" data-testid="invoice">
                    <Qr text=inv.request.to_ascii_uppercase() label=crate::t_now!("receive.invoice_qr") />
                    <CopyBox text=inv.request.clone() testid="invoice-text" />
                    <Show when=move || received.get().is_none() && error.get().is_none()>
                        <p class="hint" aria-live="polite">{tr!("receive.waiting")}</p>
                    </Show>
                </div>
            })}
            {move || received.get().map(|n| view! {
                <p role="status" class="success" data-testid="received">
                    {move || rust_i18n::t!("receive.received", n = n).into_owned()}
                </p>
            })}
            {move || error.get().map(|e| view! { <p role="alert" class="error">{e}</p> })}
        </section>
    }
}

/// Paste or open a token → preview → receive.
#[component]
fn TokenIn() -> impl IntoView {
    let handle = crate::state::engine();
    let text = RwSignal::new(String::new());
    let preview = RwSignal::new(None::<TokenView>);
    let received = RwSignal::new(None::<Received>);
    let error = RwSignal::new(None::<String>);
    let check_handle = handle.clone();
    let check = crate::task::Task::new_local(move |_: &()| {
        let handle = check_handle.clone();
        let t = text.get_untracked();
        async move {
            error.set(None);
            received.set(None);
            preview.set(None);
            match handle.inspect_token(&t).await {
                Ok(p) => preview.set(Some(p)),
                Err(e) => error.set(Some(e.user_message())),
            }
        }
    });
    // The flag is the user's yes to adding the token's mint (shown before they press).
    let redeem = crate::task::Task::new_local(move |add_new_mint: &bool| {
        let handle = handle.clone();
        let t = text.get_untracked();
        let add_new_mint = *add_new_mint;
        async move {
            error.set(None);
            match handle.receive_token(&t, add_new_mint).await {
                Ok(n) => {
                    received.set(Some(n));
                    preview.set(None);
                    text.set(String::new());
                }
                Err(e) => error.set(Some(e.user_message())),
            }
        }
    });
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        leptos::task::spawn_local(async move {
            match flash_browser::files::read_picked(&input).await {
                Ok(bytes) => {
                    text.set(String::from_utf8_lossy(&bytes).trim().to_string());
                    check.dispatch(());
                }
                Err(e) => error.set(Some(e.user_message())),
            }
        });
    };
    view! {
        <section aria-labelledby="rx-token">
            <h2 id="rx-token">{tr!("receive.token")}</h2>
            <form on:submit=move |ev| { ev.prevent_default(); check.dispatch(()); }>
                <label>
                    {tr!("receive.paste_token")}
                    <textarea rows="4" class="mono" data-testid="token-input" required
                        prop:value=move || text.get()
                        on:input=move |ev| { text.set(event_target_value(&ev)); preview.set(None); }></textarea>
                </label>
                <label class="file">
                    {tr!("receive.open_file")}
                    <input type="file" accept=".txt,.cashu,text/plain" on:change=on_file />
                </label>
                <button type="submit" class="secondary">{tr!("receive.check")}</button>
            </form>
            {move || preview.get().map(|p| {
                let known = if p.mint_known { crate::t_now!("receive.mint_known") } else { crate::t_now!("receive.mint_new") };
                let new_mint = !p.mint_known;
                view! {
                    <div class="preview" data-testid="token-preview">
                        <p><strong data-testid="token-amount">{format!("{} sat", p.amount)}</strong></p>
                        <p>{tr!("ecash.mint")} ": " <span class="mono">{p.mint.clone()}</span> " — " {known}</p>
                        {p.memo.clone().map(|m| view! { <p>{tr!("ecash.memo")} ": " {m}</p> })}
                        {(!p.offline_proof).then(|| view! { <p class="hint" data-testid="token-no-dleq">{tr!("receive.no_offline_proof")}</p> })}
                        {new_mint.then(|| view! { <p class="warning" data-testid="token-new-mint">{tr!("receive.new_mint_ask")}</p> })}
                        <button type="button" on:click=move |_| { redeem.dispatch(new_mint); } data-testid="token-receive">
                            {if new_mint { crate::t_now!("receive.add_and_receive") } else { crate::t_now!("receive.receive") }}
                        </button>
                    </div>
                }
            })}
            {move || received.get().map(|r| if r.redeemed {
                view! {
                    <p role="status" class="success" data-testid="token-received">
                        {move || rust_i18n::t!("receive.received", n = r.amount).into_owned()}
                    </p>
                }.into_any()
            } else {
                view! {
                    <p role="status" class="warning" data-testid="token-saved">
                        {move || rust_i18n::t!("receive.saved", n = r.amount).into_owned()}
                    </p>
                }.into_any()
            })}
            {move || error.get().map(|e| view! { <p role="alert" class="error" data-testid="token-error">{e}</p> })}
        </section>
    }
}
