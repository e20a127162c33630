//! `entra-emulator`: serves the demo tenant on 127.0.0.1:9400 (or `ENTRA_EMULATOR_ADDR`).
//! `ENTRA_EMULATOR_APP_MANIFEST=file.json` replaces the demo app registration by the one in a
//! Microsoft Graph app manifest (what `channels-api manifest` prints).

use entra_emulator::directory::{demo, AppRegistration};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let addr = std::env::var("ENTRA_EMULATOR_ADDR").unwrap_or_else(|_| "127.0.0.1:9400".to_owned());
    let mut tenant = demo::tenant();
    if let Ok(path) = std::env::var("ENTRA_EMULATOR_APP_MANIFEST") {
        let json = std::fs::read_to_string(&path).map_err(|e| std::io::Error::other(format!("{path}: {e}")))?;
        let app = AppRegistration::from_manifest(&json).map_err(|e| std::io::Error::other(format!("{path}: {e}")))?;
        tenant.apps = vec![app];
    }
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let running = entra_emulator::spawn(listener, tenant, entra_emulator::system_clock()).await?;
    tracing::info!(
        issuer = %running.emulator.issuer(),
        "Entra emulator serving the demo tenant; users: {}",
        running.emulator.tenant().users.iter().map(|u| u.upn.as_str()).collect::<Vec<_>>().join(", ")
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
