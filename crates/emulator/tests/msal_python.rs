//! Microsoft's own public-client library, MSAL for Python, against the emulator over HTTPS (MSAL
//! refuses plain-http authorities): an interactive sign-in on a loopback port through the system
//! browser (`$BROWSER`, here a script that completes the sign-in form over HTTP), then a silent
//! refresh, exactly as it runs against Entra. `./dev test` installs MSAL from PyPI and runs this
//! with `--ignored`, setting `MSAL_PYTHONPATH`.

use std::path::Path;

use entra_emulator::directory::demo;
use tokio::net::TcpListener;

#[tokio::test]
#[ignore = "needs MSAL for Python: ./dev test installs it and runs this"]
async fn msal_for_python_signs_in_on_a_loopback_port_and_refreshes_silently() {
    let msal = std::env::var("MSAL_PYTHONPATH").expect("MSAL_PYTHONPATH: where MSAL for Python is installed");
    let clock = entra_emulator::system_clock();
    let served = entra_emulator::spawn_tls(TcpListener::bind("127.0.0.1:0").await.unwrap(), demo::directory(), clock)
        .await
        .unwrap();
    let files = tempfile::tempdir().unwrap();
    let ca_file = files.path().join("emulator.pem");
    std::fs::write(&ca_file, &served.certificate_pem).unwrap();
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scope = format!("api://{}/{}", demo::CLIENT_ID, demo::SCOPE);
    let output = tokio::process::Command::new("python3")
        .arg(here.join("tests/fixtures/msal_public_client.py"))
        .args([served.running.emulator.origin(), demo::TENANT_ID, demo::CLIENT_ID, &scope])
        .env("PYTHONPATH", msal)
        .env("REQUESTS_CA_BUNDLE", &ca_file)
        .env("BROWSER", here.join("../../e2e/fixtures/browser.py"))
        .env("SSL_CERT_FILE", &ca_file)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(90), output).await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "stdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&output.stderr));
    let result: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(result["accounts"], serde_json::json!(["alice@contoso.example"]), "MSAL's account, from client_info");
    assert_eq!(result["id_token_claims"]["name"], "Alice Moreau");
    let (first, silent) = (result["first"].as_str().unwrap(), result["silent"].as_str().unwrap_or_default());
    assert!(!silent.is_empty() && silent != first, "a new access token from the refresh token: {result}");
    for token in [first, silent] {
        use base64::Engine as _;
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!((claims["azp"].as_str(), claims["scp"].as_str()), (Some(demo::CLIENT_ID), Some(demo::SCOPE)));
        assert_eq!(claims["azpacr"], "0", "a public client");
    }
}
