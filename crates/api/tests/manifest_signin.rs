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

/// An emulator whose registration is `config`'s printed manifest, and the API for `config`
/// against it: (the API's origin, the SPA's runtime configuration, the running emulator).
async fn served(
    mut config: ApiConfig,
    spa: &str,
    dir: &tempfile::TempDir,
) -> (String, channels_protocol::wire::RuntimeConfig, entra_emulator::Running) {
    let manifest = admin::manifest(&config, &[spa.to_owned()]).unwrap();
    let mut tenant = demo::tenant();
    tenant.apps = vec![AppRegistration::from_manifest(&manifest.to_string()).unwrap()];
    let clock = entra_emulator::system_clock();
    let emulator =
        entra_emulator::spawn(TcpListener::bind("127.0.0.1:0").await.unwrap(), tenant, clock.clone()).await.unwrap();
    config.authority = Authority::demo(emulator.origin()).unwrap();
    config.database_url =
        DatabaseUrl::parse(&format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display())).unwrap();
    let runtime = config.runtime_config();
    let app = router(AppState::connect(config, Arc::new(move || clock())).await.unwrap()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (api, runtime, emulator)
}

#[tokio::test]
async fn the_printed_manifest_signs_alice_in_through_the_emulator() {
    let spa = "http://localhost:8080";
    let dir = tempfile::tempdir().unwrap();
    let (api, runtime, _emulator) = served(ApiConfig::demo(), spa, &dir).await;

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

    // That registration has no implicit grant: an implicit sign-in is refused as Entra refuses it.
    let implicit = channels_protocol::wire::RuntimeConfig { implicit_flow: true, ..runtime };
    let login = start(&implicit, &format!("{spa}/sso"), ReturnPath::same_origin("/"), &entropy, 0);
    let refused = http.get(&login.url).send().await.unwrap();
    let location = refused.headers()["location"].to_str().unwrap();
    assert!(location.contains("AADSTS700054"), "{location}");
}

#[tokio::test]
async fn an_organisation_that_opted_into_the_implicit_flow_gets_a_manifest_that_allows_it_and_signs_in() {
    let spa = "http://localhost:8080";
    let dir = tempfile::tempdir().unwrap();
    let config = ApiConfig {
        spa: channels_api::config::Spa { implicit_flow: true, ..ApiConfig::demo().spa },
        ..ApiConfig::demo()
    };
    let (api, runtime, _emulator) = served(config, spa, &dir).await;
    assert!(runtime.implicit_flow);

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let entropy = LoginEntropy { verifier: [1; 32], state: [2; 16], nonce: [3; 16] };
    let login = start(&runtime, &format!("{spa}/sso"), ReturnPath::same_origin("/"), &entropy, 0);
    let redirect = http.post(&login.url).form(&[("username", "alice@contoso.example")]).send().await.unwrap();
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    let fragment = location.strip_prefix(&format!("{spa}/sso#")).unwrap_or_else(|| panic!("redirected to {location}"));
    let callback = channels_protocol::callback::parse(fragment).unwrap();
    let signed_in = channels_protocol::callback::complete_implicit(login.pending, callback, 0).unwrap();
    let claims: channels_protocol::token::IdTokenClaims = serde_json::from_value(
        channels_protocol::jwt::unverified_claims(signed_in.tokens.id_token.secret()).unwrap().into(),
    )
    .unwrap();
    let now = claims.exp - 60;
    let identity = channels_protocol::token::check_id_token(claims, &runtime, &signed_in.nonce, now).unwrap();
    channels_protocol::token::check_access_token_hash(&identity, &signed_in.tokens.access_token).unwrap();
    let me: Me = json(http.get(format!("{api}/api/me")).bearer_auth(signed_in.tokens.access_token.secret())).await;
    assert_eq!(me.channels, ["All Call", "Dispatch Ops", "Fire North Tac"]);
}
