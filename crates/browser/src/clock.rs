//! The clock port over `Date.now()`.

/// Wall-clock time from the browser.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserClock;

impl BrowserClock {
    /// Milliseconds since the epoch.
    pub fn now(&self) -> u64 {
        // Date.now() is a whole number of milliseconds well inside f64's exact range.
        js_sys::Date::now().max(0.0) as u64
    }
}

#[cfg(feature = "engine")]
impl flash_core::ports::Clock for BrowserClock {
    fn now_ms(&self) -> u64 {
        self.now()
    }
}
