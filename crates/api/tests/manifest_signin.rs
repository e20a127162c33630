//! The manifest `channels-api manifest` prints, loaded into the emulator as its app
//! registration, yields a working sign-in: the manifest and the emulator agree, and the API
//! accepts the tokens that registration produces.

use std::sync::Arc;

use channels_api::config::{ApiConfig, Authority, DatabaseUrl};
use channels_api::{admin, router, AppState};
mod common;

use channels_protocol::authorize::{start, LoginEntropy, ReturnPath};
use channels_protocol::wire::Me;
use common::json;
use entra_emulator::directory::{demo, AppRegistration};
use tokio::net::TcpListener;

#[tokio::test]
async fn the_printed_manifest_signs_alice_in_through_the_emulator() {
    let spa = "http://localhost:8080";
    let manifest = admin::manifest(&ApiConfig::demo(), &[spa.to_owned()]).unwrap();
    let mut tenant = demo::tenant();
    tenant.apps = vec![AppRegistration::from_manifest(&manifest.to_string()).unwrap()];
    let clock = entra_emulator::system_clock();
    let emulator =
        entra_emulator::spawn(TcpListener::bind("127.0.0.1:0").await.unwrap(), tenant, clock.clone()).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut config = ApiConfig::demo();
    config.authority = Authority::demo(emulator.origin()).unwrap();
    config.database_url =
        DatabaseUrl::parse(&format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display())).unwrap();
    let runtime = config.runtime_config();
    let app = router(AppState::connect(config, Arc::new(move || clock())).await.unwrap()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // The browser's part: authorize, pick alice on the sign-in page, follow the redirect.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let entropy = LoginEntropy { verifier: [1; 32], state: [2; 16], nonce: [3; 16] };
    let login = start(&runtime, &format!("{spa}/sso"), ReturnPath::same_origin("/"), &entropy, 0);
    assert_eq!(http.get(&login.url).send().await.unwrap().status(), 200, "the registration accepts the SPA's request");
    let redirect = http.post(&login.url).form(&[("username", "alice@contoso.example")]).send().await.unwrap();
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    let query = location.strip_prefix(&format!("{spa}/sso?")).unwrap_or_else(|| panic!("redirected to {location}"));
    let callback = channels_protocol::callback::parse(query).unwrap();
    let redemption = channels_protocol::callback::complete(login.pending, callback, &runtime.client_id, 0).unwrap();

    let tokens: channels_protocol::token::TokenResponse = json(
        http.post(runtime.token_endpoint())
            .header("origin", spa)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(redemption.form.as_str().to_owned()),
    )
    .await;
    let me: Me = json(http.get(format!("{api}/api/me")).bearer_auth(tokens.access_token.secret())).await;
    assert_eq!(me.upn, "alice@contoso.example");
    assert_eq!(me.channels, ["All Call", "Dispatch Ops", "Fire North Tac"]);
}
