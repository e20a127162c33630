//! The runtime configuration, loaded once at start-up from the server that served the SPA:
//! one build serves any tenant and host.

use channels_protocol::wire::RuntimeConfig;

/// Loads `/config.json`; the error is a sentence for the user.
pub async fn load() -> Result<RuntimeConfig, String> {
    crate::browser::http::runtime_config().await
}
