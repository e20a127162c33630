//! `entra-emulator`: serves the demo directory (Contoso and Fabrikam) on 127.0.0.1:9400.
//!
//! - `ENTRA_EMULATOR_ADDR`: where to listen.
//! - `ENTRA_EMULATOR_TLS_CERT=file.pem`: serve HTTPS (`https://localhost:{port}`) with a
//!   self-signed certificate made at start, written to that file for clients to trust.
//! - `ENTRA_EMULATOR_DIRECTORY=file.json`: serve the tenants of a directory file instead
//!   (docs/emulator.md shows its shape).
//! - `ENTRA_EMULATOR_APP_MANIFEST=file.json`: replace the first tenant's app registration by the
//!   one in a Microsoft Graph app manifest (what `channels-api manifest` prints); the admin is
//!   taken to have granted consent, as docs/entra-setup.md tells them to.
//! - `ENTRA_EMULATOR_CLOUD=us_government|china|external_id`: serve another Microsoft cloud's
//!   shapes (its issuers, its Graph audience; in External ID, groups as object ids).
//! - `ENTRA_EMULATOR_ACCESS_TOKEN_LIFETIME=seconds`: a token lifetime policy on every tenant
//!   (Entra allows 10 minutes to 1 day): access tokens live exactly that long.

use entra_emulator::directory::{demo, AppRegistration, Directory, EnterpriseApp};

fn read(path: &str) -> std::io::Result<String> {
    std::fs::read_to_string(path).map_err(|e| std::io::Error::other(format!("{path}: {e}")))
}

fn directory() -> std::io::Result<Directory> {
    let mut directory = match std::env::var("ENTRA_EMULATOR_DIRECTORY") {
        Ok(path) => Directory::from_json(&read(&path)?).map_err(|e| std::io::Error::other(format!("{path}: {e}")))?,
        Err(_) => demo::directory(),
    };
    if let Ok(path) = std::env::var("ENTRA_EMULATOR_APP_MANIFEST") {
        let app =
            AppRegistration::from_manifest(&read(&path)?).map_err(|e| std::io::Error::other(format!("{path}: {e}")))?;
        let tenant = &mut directory.tenants[0];
        tenant.enterprise_apps =
            vec![EnterpriseApp { app_id: app.app_id.clone(), admin_consent: true, ..EnterpriseApp::default() }];
        tenant.apps = vec![app];
    }
    if let Ok(name) = std::env::var("ENTRA_EMULATOR_CLOUD") {
        directory.cloud = channels_protocol::cloud::Cloud::parse(&name).ok_or_else(|| {
            std::io::Error::other(format!(
                "ENTRA_EMULATOR_CLOUD: expected {} (found {name})",
                channels_protocol::cloud::Cloud::NAMES
            ))
        })?;
    }
    if let Ok(seconds) = std::env::var("ENTRA_EMULATOR_ACCESS_TOKEN_LIFETIME") {
        let lifetime = seconds.parse().ok().filter(|s| (600..=86_400).contains(s)).ok_or_else(|| {
            std::io::Error::other(format!(
                "ENTRA_EMULATOR_ACCESS_TOKEN_LIFETIME: expected seconds from 600 to 86400, as Entra's policies allow (found {seconds})"
            ))
        })?;
        directory.tenants.iter_mut().for_each(|tenant| tenant.access_token_lifetime = Some(lifetime));
    }
    Ok(directory)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let addr = std::env::var("ENTRA_EMULATOR_ADDR").unwrap_or_else(|_| "127.0.0.1:9400".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let clock = entra_emulator::system_clock();
    let running = match std::env::var("ENTRA_EMULATOR_TLS_CERT") {
        Ok(path) => {
            let served = entra_emulator::spawn_tls(listener, directory()?, clock).await?;
            std::fs::write(&path, &served.certificate_pem)?;
            tracing::info!("HTTPS certificate written to {path}");
            served.running
        }
        Err(_) => entra_emulator::spawn(listener, directory()?, clock).await?,
    };
    for tenant in &running.emulator.directory().tenants {
        tracing::info!(
            issuer = %running.emulator.issuer_of(&tenant.id),
            "Entra emulator serving {}; users: {}",
            tenant.display_name,
            tenant.users.iter().map(|u| u.upn.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}
