//! The one error of `channels`: what was expected, what was found, and what to do.

/// Why a command failed, in words for the person at the terminal.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CliError(pub String);

impl CliError {
    /// A failed request to `what` (Entra, the API).
    pub fn unreachable(what: &str, error: reqwest::Error) -> Self {
        Self(format!("expected an answer from {what} (found none: {error})"))
    }
}
