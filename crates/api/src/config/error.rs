//! The one error of the configuration: the key (with its environment variable when it has
//! one), what it should hold, and what it held.

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: expected {expected} (found {found:?})")]
pub struct ConfigError {
    /// The key, and its environment variable when it has one.
    pub key: String,
    /// What it should hold.
    pub expected: String,
    /// What it held.
    pub found: String,
}

impl ConfigError {
    /// `key` expected `expected` and held `found`.
    pub fn new(key: impl Into<String>, expected: impl Into<String>, found: impl Into<String>) -> Self {
        Self { key: key.into(), expected: expected.into(), found: found.into() }
    }
}
