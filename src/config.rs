//! The runtime configuration, loaded once at start-up from the server that served the SPA:
//! one build serves any tenant and host, and, when the deployment lists several
//! organisations, the one the user picked.

use channels_protocol::wire::SpaConfig;

/// What an admin checks when `/config.json` cannot be loaded.
pub const FIX: &str = "Admin: /config.json comes from channels-api (its [spa] settings, docs/configuration.md): check \
                       that channels-api is running and that this site's web server forwards /config.json to it.";

/// Loads `/config.json`; the error is a sentence for the user.
pub async fn load() -> Result<SpaConfig, String> {
    crate::browser::http::runtime_config().await
}
