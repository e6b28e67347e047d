//! A panic is never a frozen page. In a release build a Rust panic aborts the wasm instance,
//! after which no Rust code runs again; so the hook builds the whole screen before the abort,
//! with plain DOM and browser-native actions only: a link that reloads, and a button whose
//! click handler is the browser's own `clipboard.writeText` bound to the details (no script of
//! ours is needed after the instance is gone, and the CSP stays strict).

use std::panic::PanicHookInfo;

use wasm_bindgen::{JsCast, JsValue};

/// The screen's words, in the user's language (taken when the hook is installed).
#[derive(Debug, Clone)]
pub struct PanicTexts {
    /// "Flash stopped unexpectedly".
    pub title: String,
    /// "Your money is safe…".
    pub body: String,
    /// "Reload".
    pub reload: String,
    /// "Copy error details".
    pub copy: String,
}

thread_local! {
    /// The texts [`install`] was given, for [`engine_stopped`].
    static TEXTS: std::cell::RefCell<Option<PanicTexts>> = const { std::cell::RefCell::new(None) };
}

/// Shows the same screen when the engine's worker died (this page still runs, but the wallet
/// behind it is gone until a reload). Once: a second report changes nothing.
pub fn engine_stopped(details: &str) {
    let already = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("flash-crashed"))
        .is_some();
    if already {
        return;
    }
    web_sys::console::error_1(&JsValue::from_str(details));
    TEXTS.with(|t| {
        if let Some(texts) = t.borrow().as_ref() {
            let _ = show(texts, details);
        }
    });
}

/// Installs the hook (once; later calls replace the texts).
pub fn install(texts: PanicTexts) {
    TEXTS.with(|t| *t.borrow_mut() = Some(texts.clone()));
    std::panic::set_hook(Box::new(move |info| {
        let details = details(info);
        web_sys::console::error_1(&JsValue::from_str(&details));
        let _ = show(&texts, &details);
    }));
}

/// What the user may copy: where and what, with anything that looks like a key, a proof secret
/// or a token replaced (a panic message can quote values it should not).
pub fn details(info: &PanicHookInfo<'_>) -> String {
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into());
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_default();
    format!(
        "Flash {} panicked at {location}: {}",
        env!("CARGO_PKG_VERSION"),
        scrub(&message)
    )
}

/// Replaces every run of 16 or more letters and digits (hex keys, bech32, base64 tokens) with
/// `[redacted]`, and caps the length.
pub fn scrub(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= 16 {
            out.push_str("[redacted]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '+' || c == '/' || c == '=' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    scrub_words(&out).chars().take(600).collect()
}

/// Replaces every run of three or more recovery words in a row (a phrase quoted in a message)
/// with `[redacted]`.
fn scrub_words(text: &str) -> String {
    let tokens: Vec<&str> = text.split(' ').collect();
    let is_word = |t: &str| {
        let w = t.trim_matches(|c: char| !c.is_ascii_alphabetic());
        is_recovery_word(&w.to_ascii_lowercase())
    };
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let mut j = i;
        while j < tokens.len() && is_word(tokens[j]) {
            j += 1;
        }
        if j - i >= 3 {
            out.push("[redacted]");
            i = j;
        } else {
            out.push(tokens[i]);
            i += 1;
        }
    }
    out.join(" ")
}

/// Whether `word` (lowercase) may be a BIP-39 English word: 3 to 8 letters whose first four
/// (or three) are a word's. A word of the list always is; a few other words are too.
fn is_recovery_word(word: &str) -> bool {
    use crate::word_prefixes::PREFIXES;
    let w = word.as_bytes();
    if !(3..=8).contains(&w.len()) || !w.iter().all(u8::is_ascii_lowercase) {
        return false;
    }
    let key = [w[0], w[1], w[2], w.get(3).copied().unwrap_or(b' ')];
    let keys = PREFIXES.as_bytes();
    let (mut lo, mut hi) = (0, keys.len() / 4);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match keys.get(mid * 4..mid * 4 + 4).map(|k| k.cmp(&key[..])) {
            Some(std::cmp::Ordering::Less) => lo = mid + 1,
            Some(std::cmp::Ordering::Greater) => hi = mid,
            _ => return true,
        }
    }
    false
}

fn show(texts: &PanicTexts, details: &str) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or(JsValue::NULL)?;
    let doc = window.document().ok_or(JsValue::NULL)?;
    let body = doc.body().ok_or(JsValue::NULL)?;
    let screen = doc.create_element("div")?;
    screen.set_id("flash-crashed");
    screen.set_attribute("role", "alertdialog")?;
    screen.set_attribute("aria-modal", "true")?;
    screen.set_attribute("aria-labelledby", "flash-crashed-title")?;
    screen.set_attribute("data-testid", "crash-screen")?;
    let title = doc.create_element("h1")?;
    title.set_id("flash-crashed-title");
    title.set_text_content(Some(&texts.title));
    let text = doc.create_element("p")?;
    text.set_text_content(Some(&texts.body));
    let reload = doc.create_element("a")?;
    let href = window.location().href().unwrap_or_else(|_| "/".into());
    reload.set_attribute("href", &href)?;
    // A full load, never the app router's in-page navigation (its click handler lives in the
    // wasm instance, which may be half-dead after the panic).
    reload.set_attribute("rel", "external")?;
    reload.set_attribute("target", "_self")?;
    reload.set_attribute("class", "button")?;
    reload.set_attribute("data-testid", "crash-reload")?;
    reload.set_text_content(Some(&texts.reload));
    let copy = doc.create_element("button")?;
    copy.set_attribute("type", "button")?;
    copy.set_attribute("class", "secondary")?;
    copy.set_attribute("data-testid", "crash-copy")?;
    copy.set_text_content(Some(&texts.copy));
    // The browser's own writeText, bound to the text: it runs without this (dead) instance.
    let clipboard = js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("clipboard"))?;
    if let Ok(write) = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText")) {
        if let Some(write) = write.dyn_ref::<js_sys::Function>() {
            let bound = write.bind1(&clipboard, &JsValue::from_str(details));
            copy.add_event_listener_with_callback("click", bound.unchecked_ref())?;
        }
    }
    let pre = doc.create_element("pre")?;
    pre.set_attribute("data-testid", "crash-details")?;
    pre.set_text_content(Some(details));
    for child in [&title, &text, &reload, &copy, &pre] {
        screen.append_child(child)?;
    }
    body.append_child(&screen)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_from_details() {
        let s = scrub("bad proof cashuBo2FteCJodHRwczovL21pbnQ and key 0123456789abcdef0123 at x");
        assert!(
            !s.contains("cashuBo2F") && !s.contains("0123456789abcdef"),
            "{s}"
        );
        assert!(s.contains("bad proof") && s.contains("at x"));
        let w = scrub("failed on \"abandon ability able about above absent\" here");
        assert!(!w.contains("abandon") && !w.contains("absent"), "{w}");
        let w = scrub("Zoo ZONE wrong: at src/app.rs:12");
        assert!(!w.contains("Zoo") && !w.contains("ZONE"), "any case: {w}");
        let kept = scrub("the engine stopped on purpose");
        assert_eq!(kept, "the engine stopped on purpose", "plain words stay");
    }

    #[test]
    fn the_prefixes_are_the_word_list_s() {
        let words = bip39::Language::English.word_list();
        for w in words {
            assert!(is_recovery_word(w), "{w}");
        }
        let keys = crate::word_prefixes::PREFIXES.as_bytes();
        assert_eq!(keys.len(), 2048 * 4);
        assert!(
            keys.chunks(4)
                .zip(keys.chunks(4).skip(1))
                .all(|(a, b)| a < b),
            "sorted"
        );
        for not in ["the", "stopped", "wasm", "on", "abandonment", "xyzzy"] {
            assert!(!is_recovery_word(not), "{not}");
        }
    }
}
