//! Injected time, so expiry and rotation are testable without sleeping.

use std::cell::Cell;

pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    fn now_sec(&self) -> u64 {
        self.now_ms() / 1000
    }
}

/// A clock that moves only when told to: the Rust tests' clock.
#[derive(Debug, Default)]
pub struct FixedClock(Cell<u64>);

impl FixedClock {
    pub fn at_ms(ms: u64) -> Self {
        FixedClock(Cell::new(ms))
    }
    pub fn advance_ms(&self, ms: u64) {
        self.0.set(self.0.get() + ms);
    }
    pub fn advance_sec(&self, sec: u64) {
        self.advance_ms(sec * 1000);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.0.get()
    }
}
