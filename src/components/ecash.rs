//! Small pieces the eCash screens share: the mint list as a resource, a mint picker, a QR
//! code, and the "unlock first" guard.

use flash_api::views::MintView;
use flash_api::WalletState;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::state::WalletStatus;
use crate::tr;

/// The mints, fetched again whenever the engine says they changed. Empty while locked.
pub fn use_mints() -> crate::fetched::Fetched<Vec<MintView>> {
    let open = unlocked();
    let changed = crate::state::lists().mints;
    let handle = crate::state::engine();
    crate::fetched::fetched(move || {
        let _ = changed.get();
        let unlocked = open.get();
        let handle = handle.clone();
        async move {
            if unlocked {
                handle.mints().await.ok()
            } else {
                Some(Vec::new())
            }
        }
    })
}

/// Whether the wallet is unlocked (tracked; changes only when that does, not with the
/// balance).
pub fn unlocked() -> Memo<bool> {
    let status = expect_context::<WalletStatus>();
    Memo::new(move |_| {
        status
            .0
            .with(|s| s.as_ref().is_some_and(|s| s.state == WalletState::Unlocked))
    })
}

/// Shown instead of a money screen while the wallet is locked.
#[component]
pub fn NeedsUnlock() -> impl IntoView {
    view! { <p class="hint">{tr!("ecash.locked")} " " <A href="/">{tr!("ecash.go_unlock")}</A></p> }
}

/// A select of the wallet's mints, bound to `selected` (the first mint when empty).
#[component]
pub fn MintPicker(
    mints: crate::fetched::Fetched<Vec<MintView>>,
    selected: RwSignal<String>,
) -> impl IntoView {
    Effect::new(move || {
        let list = mints.get().unwrap_or_default();
        if !list.iter().any(|m| m.url == selected.get_untracked()) {
            if let Some(first) = list.first() {
                selected.set(first.url.clone());
            }
        }
    });
    view! {
        <label>
            {tr!("ecash.mint")}
            <select on:change=move |ev| selected.set(event_target_value(&ev)) data-testid="mint-picker">
                {move || {
                    mints
                        .get()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|m| {
                            let label = format!(
                                "{} — {} sat",
                                m.name.clone().unwrap_or_else(|| m.url.clone()),
                                m.balance
                            );
                            let url = m.url.clone();
                            let is = url.clone();
                            view! { <option value=url selected=move || selected.get() == is>{label}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </label>
        <Show when=move || mints.get().is_some_and(|m| m.is_empty())>
            <p class="hint">{tr!("ecash.no_mints")} " " <A href="/settings">{tr!("ecash.add_mint_link")}</A></p>
        </Show>
    }
}

/// `text` as a QR code (SVG). Long texts get a denser code; the text itself is always shown
/// next to it for copying.
#[component]
pub fn Qr(#[prop(into)] text: String, #[prop(into)] label: String) -> impl IntoView {
    let svg = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::L)
        .map(|code| {
            code.render::<qrcode::render::svg::Color>()
                .min_dimensions(240, 240)
                .quiet_zone(true)
                .build()
        })
        .ok();
    match svg {
        Some(svg) => {
            view! { <figure class="qr" role="img" aria-label=label inner_html=svg></figure> }
                .into_any()
        }
        None => view! { <p class="hint">{tr!("ecash.qr_too_long")}</p> }.into_any(),
    }
}

/// A read-only box with `text` and a Copy button.
#[component]
pub fn CopyBox(#[prop(into)] text: String, #[prop(into)] testid: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let value = text.clone();
    let copy = move |_| {
        let value = value.clone();
        leptos::task::spawn_local(async move {
            copied.set(flash_browser::timer::copy_text(&value).await);
        });
    };
    view! {
        <textarea readonly rows="4" data-testid=testid class="mono">{text}</textarea>
        <button type="button" class="secondary" on:click=copy>
            {move || if copied.get() { crate::t_now!("ecash.copied") } else { crate::t_now!("ecash.copy") }}
        </button>
    }
}
