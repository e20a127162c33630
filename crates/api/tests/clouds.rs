//! The other Microsoft clouds and Entra External ID, each against the emulator serving that
//! cloud's shapes: the issuer of its tokens, its Microsoft Graph audience, and, in External ID,
//! groups as object ids only. The API and the SPA's checks are configured for the cloud
//! (`entra.cloud`, as an authority on loopback names none) and accept its tokens; a Graph token
//! of that cloud is explained; a token of another cloud is refused.

mod common;

use std::sync::Arc;

use channels_api::auth::keys::{http_client, KeyCache, KeyError};
use channels_api::config::ApiConfig;
use channels_api::AppState;
use channels_protocol::authorize::{start, LoginEntropy, ReturnPath};
use channels_protocol::cloud::Cloud;
use channels_protocol::token::{check_id_token, IdTokenClaims, TokenResponse};
use channels_protocol::wire::{ApiError, Me, RuntimeConfig};
use common::{json, serve};
use entra_emulator::directory::demo;
use serde_json::Value;
use tokio::net::TcpListener;

const SPA: &str = "http://localhost:8080";
/// Alice's group Dispatch, by object id (External ID emits nothing else).
const DISPATCH_ID: &str = "0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0001";

/// A channel mapped by Dispatch's name and by its object id (by its id only in External ID).
const CHANNELS: &str = r#"
[entra]
tenant_id = "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
client_id = "6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d"

[[channels]]
name = "Dispatch Ops"
groups = ["Dispatch", "0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0001"]
"#;

struct Served {
    api: String,
    runtime: RuntimeConfig,
    http: reqwest::Client,
    emulator: entra_emulator::Running,
    _database: tempfile::TempDir,
}

/// The emulator serving the demo directory in `emulated`, and the API configured for `cloud`
/// against it.
async fn served(emulated: Cloud, cloud: Cloud) -> Served {
    let mut directory = demo::directory();
    directory.cloud = emulated;
    let clock = entra_emulator::system_clock();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let emulator = entra_emulator::spawn(listener, directory, clock.clone()).await.unwrap();
    let database = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", database.path().join("m.db").display());
    let origin = emulator.origin().to_owned();
    let vars = move |key: &str| match key {
        "CHANNELS_DEMO" => Some("1".to_owned()),
        "ENTRA_AUTHORITY" => Some(origin.clone()),
        "ENTRA_CLOUD" => Some(cloud.name().to_owned()),
        "CHANNELS_DATABASE_URL" => Some(url.clone()),
        _ => None,
    };
    // External ID emits object ids only, and its configuration takes nothing else.
    let channels =
        if cloud == Cloud::ExternalId { CHANNELS.replace("\"Dispatch\", ", "") } else { CHANNELS.to_owned() };
    let config = ApiConfig::parse(&channels, vars).unwrap();
    let runtime = config.runtime_config();
    let api = serve(AppState::connect(config, Arc::new(move || clock())).await.unwrap()).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Served { api, runtime, http, emulator, _database: database }
}

impl Served {
    /// Signs alice in with the code flow, asking for `scope` (consenting when asked), and
    /// redeems the code: the token response, checked as the SPA checks its ID token.
    async fn sign_in(&self, scope: &str) -> TokenResponse {
        let runtime = RuntimeConfig { api_scope: scope.to_owned(), ..self.runtime.clone() };
        let entropy = LoginEntropy { verifier: [1; 32], state: [2; 16], nonce: [3; 16] };
        let login = start(&runtime, &format!("{SPA}/sso"), ReturnPath::same_origin("/"), &entropy, 0);
        let mut answer =
            self.http.post(&login.url).form(&[("username", "alice@contoso.example")]).send().await.unwrap();
        if answer.status() == 200 {
            let form = [("username", "alice@contoso.example"), ("consent", "accept")];
            answer = self.http.post(&login.url).form(&form).send().await.unwrap();
        }
        let location = answer.headers()["location"].to_str().unwrap().to_owned();
        let query = location.strip_prefix(&format!("{SPA}/sso?")).unwrap_or_else(|| panic!("redirected to {location}"));
        let callback = channels_protocol::callback::parse(query).unwrap();
        let redemption = channels_protocol::callback::complete(login.pending, callback, &runtime.client_id, 0).unwrap();
        let tokens: TokenResponse = json(
            self.http
                .post(runtime.token_endpoint())
                .header("origin", SPA)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(redemption.form.as_str().to_owned()),
        )
        .await;
        let id_token = tokens.id_token.as_ref().unwrap().secret();
        let claims: IdTokenClaims =
            serde_json::from_value(channels_protocol::jwt::unverified_claims(id_token).unwrap().into()).unwrap();
        let now = claims.exp - 60;
        check_id_token(claims, &runtime, &redemption.nonce, now).expect("the SPA accepts the cloud's ID token");
        tokens
    }

    async fn me(&self, tokens: &TokenResponse) -> reqwest::Response {
        self.http.get(format!("{}/api/me", self.api)).bearer_auth(tokens.access_token.secret()).send().await.unwrap()
    }
}

fn claims_of(tokens: &TokenResponse) -> Value {
    channels_protocol::jwt::unverified_claims(tokens.access_token.secret()).unwrap().into()
}

const TID: &str = demo::TENANT_ID;

/// One cloud: the issuer its tokens carry, its Graph audience, the groups alice's token holds.
async fn signs_in_with_the_clouds_shapes(cloud: Cloud, issuer: &str, graph: &str, groups: &[&str]) {
    let served = served(cloud, cloud).await;
    let scope = served.runtime.api_scope.clone();
    let tokens = served.sign_in(&scope).await;
    let claims = claims_of(&tokens);
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["groups"], serde_json::json!(groups));
    let me = served.me(&tokens).await;
    assert_eq!(me.status(), 200);
    let me: Me = me.json().await.unwrap();
    assert_eq!(
        (me.upn.as_str(), me.channels.as_slice()),
        ("alice@contoso.example", ["Dispatch Ops".to_owned()].as_slice())
    );

    // Microsoft Graph of that cloud, asked by URL: its audience, and the API says why it cannot
    // take the token.
    let graph_tokens = served.sign_in(&format!("{graph}/User.Read")).await;
    assert_eq!(claims_of(&graph_tokens)["aud"], graph);
    let refused = served.me(&graph_tokens).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.json::<ApiError>().await.unwrap().error, "graph_token");
}

#[tokio::test]
async fn azure_government_issues_from_login_microsoftonline_us_with_its_graph() {
    let issuer = format!("https://login.microsoftonline.us/{TID}/v2.0");
    signs_in_with_the_clouds_shapes(
        Cloud::UsGovernment,
        &issuer,
        "https://graph.microsoft.us",
        &["Dispatch", "Fire-North"],
    )
    .await;
}

#[tokio::test]
async fn azure_china_issues_from_login_partner_microsoftonline_cn_with_its_graph() {
    let issuer = format!("https://login.partner.microsoftonline.cn/{TID}/v2.0");
    let graph = "https://microsoftgraph.chinacloudapi.cn";
    signs_in_with_the_clouds_shapes(Cloud::China, &issuer, graph, &["Dispatch", "Fire-North"]).await;
}

#[tokio::test]
async fn external_id_issues_from_the_tenant_ids_ciamlogin_host_with_groups_as_object_ids() {
    let issuer = format!("https://{TID}.ciamlogin.com/{TID}/v2.0");
    let fire_north = "0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0002";
    signs_in_with_the_clouds_shapes(
        Cloud::ExternalId,
        &issuer,
        "https://graph.microsoft.com",
        &[DISPATCH_ID, fire_north],
    )
    .await;
}

#[tokio::test]
async fn an_authority_of_another_cloud_than_configured_gives_no_keys_and_says_which_issuer_it_expected() {
    // The API is configured for Azure Government; the authority serves the global cloud.
    let served = served(Cloud::Global, Cloud::UsGovernment).await;
    let scope = served.runtime.api_scope.clone();
    let global = Served { runtime: RuntimeConfig { cloud: Cloud::Global, ..served.runtime.clone() }, ..served };
    let tokens = global.sign_in(&scope).await;
    let refused = global.me(&tokens).await;
    assert_eq!(refused.status(), 503, "no key is taken, so no token is accepted");
    // Why, as the API's log says it.
    let origin = global.runtime.authority.clone();
    let keys = KeyCache::from_authority(&origin, TID, Cloud::UsGovernment, http_client(&[]));
    let Err(KeyError::Unavailable(why)) = keys.ensure_loaded().await else { panic!("expected the keys refused") };
    let expected =
        format!("expected the issuer https://login.microsoftonline.us/{TID}/v2.0 (found \"{origin}/{TID}/v2.0\")");
    assert!(why.contains(&expected), "{why}");
}

#[tokio::test]
async fn a_token_with_another_clouds_issuer_is_refused_whatever_signed_it() {
    let served = served(Cloud::UsGovernment, Cloud::UsGovernment).await;
    let scope = served.runtime.api_scope.clone();
    let tokens = served.sign_in(&scope).await;
    assert_eq!(served.me(&tokens).await.status(), 200);
    // The same claims, signed by the same key, with the global cloud's issuer.
    let mut claims: channels_protocol::claims::AccessTokenClaims = serde_json::from_value(claims_of(&tokens)).unwrap();
    claims.iss = format!("https://login.microsoftonline.com/{TID}/v2.0");
    let forged = served.emulator.emulator.key().sign(&claims);
    let refused = served.http.get(format!("{}/api/me", served.api)).bearer_auth(&forged).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let error: ApiError = refused.json().await.unwrap();
    assert_eq!(error.error, "wrong_issuer");
    assert!(error.message.contains("found iss https://login.microsoftonline.com/"), "{}", error.message);
}
