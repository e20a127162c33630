//! `channels-api`: serves the demo configuration on 127.0.0.1:9300 with no arguments; every
//! setting can be changed through the environment (see `config.rs`).

use channels_api::config::ApiConfig;
use channels_api::{router, system_clock, AppState};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let config = ApiConfig::load(|key| std::env::var(key).ok())?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(
        listen = %config.listen,
        authority = %config.authority.as_str(),
        tenant = %config.tenant_id,
        spa = ?config.spa_dir,
        "channels-api serving"
    );
    let state = AppState::connect(config, system_clock()).await?;
    let _hourly_key_refresh = state.keys.clone().refresh_periodically();
    let app = router(state)?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            tokio::signal::ctrl_c().await.ok();
        })
        .await?;
    Ok(())
}
