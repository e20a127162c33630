//! The runtime configuration, loaded once at start-up from the server that served the SPA:
//! one build serves any tenant and host, and, when the deployment lists several
//! organisations, the one the user picked.

use channels_protocol::wire::SpaConfig;

/// Loads `/config.json`; the error is a sentence for the user.
pub async fn load() -> Result<SpaConfig, String> {
    crate::browser::http::runtime_config().await
}
