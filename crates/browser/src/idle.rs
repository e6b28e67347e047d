//! Idle detection for auto-lock: activity (pointer, keys, touch, scroll) resets a timestamp, and
//! a periodic check fires `on_idle` once the page has been idle for the configured time. Using
//! wall-clock time (not one long timer) also catches a device that slept with the app open.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// How often idleness is checked.
const CHECK_EVERY_MS: i32 = 5_000;

/// The preference key for the auto-lock delay (not secret, so plain localStorage).
const PREF_KEY: &str = "flash.autolock.minutes";

/// The delays the settings offer, in minutes.
pub const CHOICES: &[u32] = &[1, 5, 15, 60];

/// The saved auto-lock delay in minutes (5 by default).
pub fn minutes() -> u32 {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(PREF_KEY).ok().flatten())
        .and_then(|v| v.parse().ok())
        .filter(|m| CHOICES.contains(m))
        .unwrap_or(5)
}

/// Saves the auto-lock delay.
pub fn set_minutes(m: u32) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(PREF_KEY, &m.to_string());
    }
}

/// Calls `on_idle` whenever the page has seen no activity for [`minutes`] (read at each
/// check, so a changed setting applies at once). Lives as long as the page.
pub fn watch(on_idle: impl Fn() + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let last = Rc::new(Cell::new(js_sys::Date::now()));
    let touched = last.clone();
    let activity = Closure::<dyn FnMut()>::new(move || touched.set(js_sys::Date::now()));
    if let Some(doc) = window.document() {
        for event in ["pointerdown", "keydown", "touchstart", "wheel", "scroll"] {
            let _ = doc.add_event_listener_with_callback(event, activity.as_ref().unchecked_ref());
        }
    }
    activity.forget();
    let check = Closure::<dyn FnMut()>::new(move || {
        let idle_ms = f64::from(minutes()) * 60_000.0;
        if js_sys::Date::now() - last.get() >= idle_ms {
            last.set(js_sys::Date::now());
            on_idle();
        }
    });
    let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
        check.as_ref().unchecked_ref(),
        CHECK_EVERY_MS,
    );
    check.forget();
}
