//! The i18n layer: rust-i18n holds the translation tables (compiled in from `locales/*.yml`),
//! and a Leptos signal makes every translated string re-render when the language changes.

use leptos::prelude::*;

/// The languages the UI ships, as (tag, name in that language).
pub const LOCALES: &[(&str, &str)] = &[("en", "English")];

/// The active UI language, provided in context by the app root.
#[derive(Debug, Clone, Copy)]
pub struct Locale(pub RwSignal<&'static str>);

impl Locale {
    /// Picks the shipped locale that best matches the browser's language, English otherwise.
    pub fn detect() -> &'static str {
        let preferred = flash_browser::page::preferred_language().unwrap_or_default();
        let lang = preferred
            .split('-')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        LOCALES
            .iter()
            .map(|(tag, _)| *tag)
            .find(|tag| *tag == lang)
            .unwrap_or("en")
    }

    /// Switches the UI language everywhere at once.
    pub fn set(self, tag: &'static str) {
        rust_i18n::set_locale(tag);
        self.0.set(tag);
    }

    /// The current tag, tracked (re-renders the caller on change).
    pub fn get(self) -> &'static str {
        self.0.get()
    }
}

/// The locale from context.
pub fn use_locale() -> Locale {
    expect_context::<Locale>()
}

/// A reactive translated string: `tr!("nav.home")` re-renders when the language changes.
/// (A macro so the key stays a literal the locale check can find.)
#[macro_export]
macro_rules! tr {
    ($key:literal) => {
        $crate::i18n::tr($key)
    };
}

/// The text of `key` in the current language, as a signal. One function, not one closure
/// per use: each closure was a view type of its own (159 uses, 8.6 KB brotli of page
/// module together).
pub fn tr(key: &'static str) -> Signal<String> {
    let locale = use_locale();
    Signal::derive(move || {
        let _ = locale.get();
        rust_i18n::t!(key).into_owned()
    })
}

/// A translated string right now (for attributes and one-off text inside reactive closures).
#[macro_export]
macro_rules! t_now {
    ($key:literal) => {
        rust_i18n::t!($key).into_owned()
    };
}
