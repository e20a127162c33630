//! The API against an identity provider behind a certificate that no public root signs (a
//! TLS-inspecting proxy, or the emulator's HTTPS mode): trusted only when `entra.ca_file`
//! (`ENTRA_CA_FILE`) names its authority, with no other change to validation.

mod common;

use std::sync::Arc;

use channels_api::config::{demo_only, ApiConfig, DEMO_CONFIG};
use channels_api::AppState;
use channels_protocol::wire::{ApiError, Me};
use common::serve;
use entra_emulator::directory::demo;
use tokio::net::TcpListener;

const NOW: u64 = 1_800_000_000;

#[tokio::test]
async fn an_authority_behind_a_private_certificate_is_trusted_only_through_the_ca_file() {
    let clock = Arc::new(|| NOW);
    let served =
        entra_emulator::spawn_tls(TcpListener::bind("127.0.0.1:0").await.unwrap(), demo::tenant(), clock.clone())
            .await
            .unwrap();
    let emulator = &served.running.emulator;
    let files = tempfile::tempdir().unwrap();
    let ca_file = files.path().join("emulator.pem");
    std::fs::write(&ca_file, &served.certificate_pem).unwrap();

    let tenant = emulator.tenant();
    let alice = tenant.user_by_upn("alice@contoso.example").unwrap();
    let token =
        emulator.key().sign(&emulator.access_token_claims(&tenant.apps[0], alice, &[demo::SCOPE.to_owned()], NOW));
    let http = reqwest::Client::new();

    let api_with = |ca: Option<String>| {
        let database = format!("sqlite://{}?mode=rwc", files.path().join("members.db").display());
        let config = ApiConfig::parse(DEMO_CONFIG, |key| match key {
            "ENTRA_AUTHORITY" => Some(emulator.origin().to_owned()),
            "CHANNELS_DATABASE_URL" => Some(database.clone()),
            "ENTRA_CA_FILE" => ca.clone(),
            _ => None,
        })
        .unwrap();
        let clock = clock.clone();
        async move { serve(AppState::connect(config, clock).await.unwrap()).await }
    };
    assert!(emulator.origin().starts_with("https://localhost:"));

    // The web's roots and the operating system's store do not know the emulator's certificate.
    let untrusting = api_with(None).await;
    let response = http.get(format!("{untrusting}/api/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let body: ApiError = response.json().await.unwrap();
    assert_eq!(body.error, "keys_unavailable", "{body:?}");

    // Named by the CA file, it is trusted, and alice's token gets her channels.
    let trusting = api_with(Some(ca_file.display().to_string())).await;
    let response = http.get(format!("{trusting}/api/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let me: Me = response.json().await.unwrap();
    assert_eq!(me.channels, ["All Call", "Dispatch Ops", "Fire North Tac"]);
}

#[test]
fn a_ca_file_that_cannot_be_read_or_holds_no_certificate_stops_the_start() {
    let files = tempfile::tempdir().unwrap();
    let empty = files.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate").unwrap();
    for (path, found) in [(files.path().join("missing.pem"), "No such file"), (empty, "no certificate")] {
        let path = path.display().to_string();
        let file = |key: &str| (key == "ENTRA_CA_FILE").then(|| path.clone()).or_else(|| demo_only(key));
        let error = ApiConfig::parse(DEMO_CONFIG, file).unwrap_err();
        assert_eq!(error.key, "entra.ca_file (ENTRA_CA_FILE)");
        assert!(error.expected.starts_with("a readable PEM file"), "{error}");
        assert!(error.found.starts_with(&path) && error.found.contains(found), "{error}");
    }
}
