//! The time, injected: the API and the emulator take a [`Clock`] so that tests can move it;
//! nothing in this crate reads it.

use std::sync::Arc;

/// Seconds since the Unix epoch.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock (not on wasm32, whose `SystemTime` panics: the SPA takes the time from
/// `Date.now()`).
#[cfg(not(target_arch = "wasm32"))]
pub fn system_clock() -> Clock {
    Arc::new(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}
