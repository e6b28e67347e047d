//! Where the engine reports what it recovered from by itself, without troubling the user (a
//! KDF upgrade that failed and is retried at the next unlock). The browser crate installs the
//! console (`set_sink`); without a sink nothing is reported. Messages are fixed texts plus
//! error `Display`s, which never carry secrets.

use std::sync::OnceLock;

static SINK: OnceLock<fn(&str)> = OnceLock::new();

/// Installs where warnings go (once per process; later calls are ignored).
pub fn set_sink(sink: fn(&str)) {
    let _ = SINK.set(sink);
}

/// Reports `message` to the installed sink, if any.
pub fn warn(message: &str) {
    if let Some(sink) = SINK.get() {
        sink(message);
    }
}
