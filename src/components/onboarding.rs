//! Onboarding on a device with no wallet: create (show the words, confirm three of them, set a
//! passphrase) or restore from words. The engine checks everything again; the UI only guides.

use flash_api::passphrase::{self, Strength};
use leptos::prelude::*;

use crate::errors::UserMessage;
use crate::tr;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Choose,
    ShowWords {
        phrase: String,
    },
    Confirm {
        phrase: String,
        positions: Vec<usize>,
    },
    Passphrase {
        phrase: String,
    },
    Restore,
    RestoreFile,
}

/// The create-or-restore flow.
#[component]
pub fn Onboarding() -> impl IntoView {
    let handle = crate::state::engine();
    let step = RwSignal::new(Step::Choose);
    let long = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let h = handle.clone();
    let create = crate::task::Task::new_local(move |words: &usize| {
        let h = h.clone();
        let words = *words;
        async move {
            match h.new_phrase(words).await {
                Ok(p) => step.set(Step::ShowWords {
                    phrase: p.to_string(),
                }),
                Err(e) => error.set(Some(e.user_message())),
            }
        }
    });

    let body = move || {
        match step.get() {
        Step::Choose => view! {
            <div class="stack">
                <p>{tr!("onboarding.intro")}</p>
                <label class="check">
                    <input type="checkbox" prop:checked=long on:change=move |ev| long.set(event_target_checked(&ev)) />
                    {tr!("onboarding.long_phrase")}
                </label>
                <button type="button" disabled=create.pending()
                    on:click=move |_| { error.set(None); create.dispatch(if long.get_untracked() { 24 } else { 12 }); }>
                    {tr!("onboarding.create")}
                </button>
                // The engine may still be loading on a slow link: say the words are coming.
                <Show when=move || create.pending().get()>
                    <p role="status" class="hint" data-testid="words-preparing">{tr!("onboarding.preparing")}</p>
                </Show>
                <button type="button" class="secondary" on:click=move |_| { error.set(None); step.set(Step::Restore) }>
                    {tr!("onboarding.restore")}
                </button>
                <button type="button" class="secondary" on:click=move |_| { error.set(None); step.set(Step::RestoreFile) }>
                    {tr!("onboarding.restore_file")}
                </button>
            </div>
        }
        .into_any(),
        Step::ShowWords { phrase } => {
            let words: Vec<String> = phrase.split(' ').map(str::to_string).collect();
            let next_phrase = phrase.clone();
            let next = move |_| {
                let count = next_phrase.split(' ').count();
                match flash_api::words::check_positions(count, |b| flash_browser::BrowserRandom.fill_bytes(b)) {
                    Ok(positions) => step.set(Step::Confirm { phrase: next_phrase.clone(), positions }),
                    Err(e) => error.set(Some(e.user_message())),
                }
            };
            view! {
                <div class="stack">
                    <h2>{tr!("onboarding.words_title")}</h2>
                    <p>{tr!("onboarding.words_help")}</p>
                    <ol class="words" data-testid="recovery-words">
                        {words.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}
                    </ol>
                    <button type="button" on:click=next>{tr!("onboarding.written")}</button>
                </div>
            }
            .into_any()
        }
        Step::Confirm { phrase, positions } => {
            let inputs: Vec<(usize, RwSignal<String>)> =
                positions.iter().map(|&p| (p, RwSignal::new(String::new()))).collect();
            let check = inputs.clone();
            let words: Vec<String> = phrase.split(' ').map(str::to_string).collect();
            let on_submit = move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let ok = check.iter().all(|(pos, value)| {
                    words.get(pos - 1).is_some_and(|w| value.get_untracked().trim().eq_ignore_ascii_case(w))
                });
                if ok {
                    error.set(None);
                    step.set(Step::Passphrase { phrase: phrase.clone() });
                } else {
                    error.set(Some(crate::t_now!("onboarding.confirm_wrong")));
                }
            };
            view! {
                <form class="stack" on:submit=on_submit>
                    <h2>{tr!("onboarding.confirm_title")}</h2>
                    {inputs
                        .into_iter()
                        .map(|(pos, value)| {
                            let id = format!("confirm-word-{pos}");
                            view! {
                                <div class="field">
                                    <label for=id.clone()>{move || rust_i18n::t!("onboarding.word_n", n = pos).into_owned()}</label>
                                    <input id=id autocomplete="off" autocapitalize="none" spellcheck="false" required
                                        on:input=move |ev| value.set(event_target_value(&ev)) />
                                </div>
                            }
                        })
                        .collect_view()}
                    <button type="submit">{tr!("onboarding.continue")}</button>
                </form>
            }
            .into_any()
        }
        Step::Passphrase { phrase } => view! { <SetPassphrase phrase=Some(phrase) error /> }.into_any(),
        Step::Restore => view! { <SetPassphrase phrase=None error /> }.into_any(),
        Step::RestoreFile => view! { <RestoreFile error /> }.into_any(),
    }
    };
    view! {
        <section class="onboarding" aria-labelledby="onboarding-title">
            <h2 id="onboarding-title" class="visually-hidden">{tr!("onboarding.title")}</h2>
            {body}
            {move || error.get().map(|e| view! { <p role="alert" class="error">{e}</p> })}
        </section>
    }
}

/// The live strength hint for a passphrase being typed (empty while nothing is typed).
pub fn strength_text(p: &str) -> String {
    if p.is_empty() {
        return String::new();
    }
    match passphrase::assess(p) {
        (_, Some(w)) => crate::errors::weakness_text(w),
        (Strength::Fair, _) => crate::t_now!("passphrase.fair"),
        _ => crate::t_now!("passphrase.strong"),
    }
}

/// Passphrase (twice) with a live strength hint; with `phrase: None` it also asks for the
/// recovery words (restore).
#[component]
fn SetPassphrase(phrase: Option<String>, error: RwSignal<Option<String>>) -> impl IntoView {
    let handle = crate::state::engine();
    let restoring = phrase.is_none();
    let words = RwSignal::new(phrase.unwrap_or_default());
    let pass = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let setup = crate::task::Task::new_local(move |(phrase, pass): &(String, String)| {
        let handle = handle.clone();
        let (phrase, pass) = (phrase.clone(), pass.clone());
        async move {
            if let Err(e) = handle.setup(&phrase, &pass).await {
                error.set(Some(e.user_message()));
            }
        }
    });
    let strength = move || strength_text(&pass.get());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pass.get_untracked() != again.get_untracked() {
            error.set(Some(crate::t_now!("passphrase.mismatch")));
            return;
        }
        error.set(None);
        setup.dispatch((words.get_untracked(), pass.get_untracked()));
    };
    view! {
        <form class="stack" on:submit=on_submit>
            <Show when=move || restoring>
                <h2>{tr!("onboarding.restore_title")}</h2>
                <div class="field">
                    <label for="restore-words">{tr!("onboarding.restore_words")}</label>
                    <textarea id="restore-words" rows="4" autocomplete="off" autocapitalize="none" spellcheck="false" required
                        prop:value=words on:input=move |ev| words.set(event_target_value(&ev))></textarea>
                </div>
            </Show>
            <h2>{tr!("passphrase.title")}</h2>
            <p class="hint">{tr!("passphrase.help")}</p>
            <div class="field">
                <label for="new-passphrase">{tr!("passphrase.label")}</label>
                <input id="new-passphrase" type="password" autocomplete="new-password" required
                    aria-describedby="passphrase-strength"
                    on:input=move |ev| pass.set(event_target_value(&ev)) />
                <p id="passphrase-strength" class="hint" aria-live="polite">{strength}</p>
            </div>
            <div class="field">
                <label for="repeat-passphrase">{tr!("passphrase.repeat")}</label>
                <input id="repeat-passphrase" type="password" autocomplete="new-password" required
                    on:input=move |ev| again.set(event_target_value(&ev)) />
            </div>
            <button type="submit" disabled=setup.pending()>
                {move || if setup.pending().get() { crate::t_now!("passphrase.working") } else { crate::t_now!("passphrase.submit") }}
            </button>
        </form>
    }
}

/// Restore from an encrypted backup file and its passphrase.
#[component]
fn RestoreFile(error: RwSignal<Option<String>>) -> impl IntoView {
    let handle = crate::state::engine();
    let input: NodeRef<leptos::html::Input> = NodeRef::new();
    let pass = RwSignal::new(String::new());
    let restore = crate::task::Task::new_local(move |pass: &String| {
        let handle = handle.clone();
        let pass = pass.clone();
        async move {
            let Some(el) = input.get_untracked() else {
                return;
            };
            let result = match flash_browser::files::read_picked(&el).await {
                Ok(bytes) => handle
                    .import_backup(bytes, &pass)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.user_message()),
                Err(e) => Err(e.user_message()),
            };
            if let Err(e) = result {
                error.set(Some(e));
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        restore.dispatch(pass.get_untracked());
    };
    view! {
        <form class="stack" on:submit=on_submit>
            <h2>{tr!("onboarding.file_title")}</h2>
            <div class="field">
                <label for="backup-file">{tr!("onboarding.file_label")}</label>
                <input id="backup-file" type="file" accept="application/json,.json" required node_ref=input />
            </div>
            <div class="field">
                <label for="backup-passphrase">{tr!("onboarding.file_passphrase")}</label>
                <input id="backup-passphrase" type="password" autocomplete="current-password" required
                    on:input=move |ev| pass.set(event_target_value(&ev)) />
            </div>
            <button type="submit" disabled=restore.pending()>
                {move || if restore.pending().get() { crate::t_now!("onboarding.file_working") } else { crate::t_now!("onboarding.file_submit") }}
            </button>
        </form>
    }
}
