//! `entra-emulator`: serves the demo tenant on 127.0.0.1:9400 (or `ENTRA_EMULATOR_ADDR`).

use entra_emulator::directory::demo;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let addr = std::env::var("ENTRA_EMULATOR_ADDR").unwrap_or_else(|_| "127.0.0.1:9400".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let running = entra_emulator::spawn(listener, demo::tenant(), entra_emulator::system_clock()).await?;
    tracing::info!(
        issuer = %running.emulator.issuer(),
        "Entra emulator serving the demo tenant; users: {}",
        running.emulator.tenant().users.iter().map(|u| u.upn.as_str()).collect::<Vec<_>>().join(", ")
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
