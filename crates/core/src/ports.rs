//! The engine's view of the outside world. Each port is a small trait with one native
//! implementation here (for tests and tools) and one browser implementation in `flash-browser`.
//! Ports are added as features need them (storage, HTTP, WebSocket, randomness); keeping them
//! few and small keeps the engine testable without a browser.

pub use flash_api::errors::RandomError;

/// Cryptographically secure randomness: keys, salts, nonces.
pub trait Random {
    /// Fills `buf` with secure random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError>;
}

/// The operating system's generator, for native builds.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

#[cfg(not(target_arch = "wasm32"))]
impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(buf).map_err(|e| RandomError(e.to_string()))
    }
}

/// Wall-clock time, so expiries, auto-lock and history timestamps are testable.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The system clock, for native builds.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A clock tests set by hand, so time-dependent behaviour is deterministic.
#[derive(Debug, Default)]
pub struct ManualClock(std::cell::Cell<u64>);

impl ManualClock {
    /// A clock that reads `ms`.
    pub fn new(ms: u64) -> Self {
        Self(std::cell::Cell::new(ms))
    }
    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.0.set(self.0.get().saturating_add(ms));
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.advance(500);
        assert_eq!(c.now_ms(), 1_500);
    }

    #[test]
    fn system_clock_is_after_2024() {
        assert!(SystemClock.now_ms() > 1_704_067_200_000);
    }
}
