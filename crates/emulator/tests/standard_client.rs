//! A standard OpenID Connect client that this project did not write, the `openidconnect` crate,
//! signs in against the emulator unmodified and over real HTTP: discovery, the authorize page (its
//! HTML sign-in form submitted as a browser would), the token endpoint, and ID-token verification
//! with the keys the emulator publishes. Our own SPA and API agreeing with the emulator could be a
//! mistake they share; a general-purpose relying party accepting what it serves is not.
//!
//! It does so over plain HTTP and over HTTPS, trusting the certificate the emulator made at start.
//!
//! The client is set up like the SPA's registration: public (no secret), PKCE with S256, a nonce,
//! and redirect URI `http://localhost:8080/sso`. Entra redeems SPA codes only from cross-origin
//! requests (AADSTS9002327 otherwise), so the client's HTTP stack sends the SPA's `Origin` header,
//! as a browser's `fetch` would. Nothing else is adapted. The crate runs its own checks: the issuer
//! in discovery, key lookup in the JWKS, the RS256 signature, `iss`, `aud`, `exp` and `nonce`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use entra_emulator::directory::demo;
use entra_emulator::Running;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata, CoreTokenResponse, CoreTokenType,
};
use openidconnect::reqwest::{self, header, redirect};
use openidconnect::url::Url;
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use tokio::net::TcpListener;

/// The SPA's origin, and its redirect URI (registered on the SPA platform in the demo tenant).
const SPA_ORIGIN: &str = "http://localhost:8080";
const REDIRECT_URI: &str = "http://localhost:8080/sso";
const ALICE: &str = "alice@contoso.example";

/// What `CoreClient::from_provider_metadata` returns. Discovery always gives the authorization
/// endpoint, but the token and userinfo endpoints are optional there, so they are only "maybe set".
type DiscoveredClient =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// A completed sign-in, and what the relying party kept in order to check it.
struct SignIn {
    /// Keeps the emulator serving until the test ends.
    _emulator: Running,
    issuer: String,
    http: reqwest::Client,
    client: DiscoveredClient,
    nonce: Nonce,
    token: CoreTokenResponse,
}

fn api_scope() -> String {
    format!("api://{}/{}", demo::CLIENT_ID, demo::SCOPE)
}

/// An HTTP client that follows no redirects (as `openidconnect` advises, against SSRF) and trusts
/// the emulator's certificate when it serves HTTPS.
fn http_client(trust: Option<&str>) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder().redirect(redirect::Policy::none());
    match trust {
        Some(pem) => builder.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()),
        None => builder,
    }
}

/// The relying party's HTTP client, which also sends the SPA's `Origin` header.
fn relying_party_http(trust: Option<&str>) -> reqwest::Client {
    let mut headers = header::HeaderMap::new();
    headers.insert(header::ORIGIN, header::HeaderValue::from_static(SPA_ORIGIN));
    http_client(trust).default_headers(headers).build().unwrap()
}

/// Discovery, authorization (alice picked on the sign-in page) and code redemption, all done by
/// `openidconnect`, over HTTP or HTTPS. The test itself only plays the browser.
async fn sign_in(tls: bool) -> SignIn {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    // The crate checks `exp` against the system clock, so the emulator keeps real time.
    let clock = entra_emulator::system_clock();
    let (emulator, trust) = if tls {
        let served = entra_emulator::spawn_tls(listener, demo::tenant(), clock).await.unwrap();
        (served.running, Some(served.certificate_pem))
    } else {
        (entra_emulator::spawn(listener, demo::tenant(), clock).await.unwrap(), None)
    };
    assert_eq!(emulator.origin().starts_with("https://"), tls);
    let issuer = format!("{}/{}/v2.0", emulator.origin(), demo::TENANT_ID);
    let http = relying_party_http(trust.as_deref());

    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.clone()).unwrap(), &http)
        .await
        .expect("discovery: the metadata parses and names this issuer, and the JWKS parses");
    assert!(!metadata.jwks().keys().is_empty(), "the crate understands the published signing key");
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new(demo::CLIENT_ID.to_owned()), None)
        .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.to_owned()).unwrap());
    let token_endpoint = format!("{}/{}/oauth2/v2.0/token", emulator.origin(), demo::TENANT_ID);
    assert_eq!(client.token_uri().map(|url| url.as_str()), Some(token_endpoint.as_str()));

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        // The crate always adds `openid` itself.
        .add_scope(Scope::new("profile".to_owned()))
        .add_scope(Scope::new("offline_access".to_owned()))
        .add_scope(Scope::new(api_scope()))
        .set_pkce_challenge(challenge)
        .url();
    let callback = browser_signs_in(&http_client(trust.as_deref()).build().unwrap(), &authorize_url, ALICE).await;
    assert_eq!(query_param(&callback, "state").as_deref(), Some(state.secret().as_str()), "state comes back");
    let code = query_param(&callback, "code").expect("the redirect carries a code");

    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("discovery named a token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("the token endpoint redeems the code");
    SignIn { _emulator: emulator, issuer, http, client, nonce, token }
}

/// Plays the browser: opens the authorize URL, submits the sign-in form for `upn`, and returns
/// the redirect's target. The redirect is not followed, because the SPA is not running.
async fn browser_signs_in(browser: &reqwest::Client, authorize_url: &Url, upn: &str) -> Url {
    let page = browser.get(authorize_url.as_str()).send().await.unwrap();
    assert_eq!(page.status(), 200, "the sign-in page");
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!(r#"name="username" value="{upn}""#)), "the page offers {upn}");
    let action = authorize_url.join(&form_action(&html)).expect("the form action is a URL reference");
    let response = browser.post(action.as_str()).form(&[("username", upn)]).send().await.unwrap();
    assert_eq!(response.status(), 302, "Entra redirects with 302 Found");
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    assert!(location.starts_with(&format!("{REDIRECT_URI}?")), "back to the redirect URI: {location}");
    Url::parse(location).unwrap()
}

/// The unescaped `action` of the page's `<form method="post">`. A plain string search is enough,
/// because the page is the emulator's own and has a single form.
fn form_action(html: &str) -> String {
    let start = html.find("<form").expect("the sign-in page has a form");
    let tag = &html[start..start + html[start..].find('>').expect("the form tag is closed")];
    assert!(tag.contains(r#"method="post""#), "the form posts: {tag}");
    let (_, rest) = tag.split_once(r#"action=""#).expect("the form has an action");
    let (action, _) = rest.split_once('"').expect("the action attribute is closed");
    unescape(action)
}

/// Undoes HTML attribute escaping. `&amp;` is replaced last, so `&amp;lt;` becomes `&lt;` and
/// not `<`.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

#[tokio::test]
async fn a_standard_client_signs_in_and_verifies_the_id_token() {
    let signed_in = sign_in(false).await;
    let SignIn { issuer, http, client, nonce, token, .. } = &signed_in;

    let id_token = token.id_token().expect("an ID token, since openid was asked for");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, nonce)
        .expect("the ID token verifies: RS256 signature by a JWKS key, iss, aud, exp and nonce");
    assert_eq!(claims.issuer().as_str(), issuer.as_str());
    let audiences: Vec<&str> = claims.audiences().iter().map(|aud| aud.as_str()).collect();
    assert_eq!(audiences, [demo::CLIENT_ID]);
    assert_eq!(claims.nonce().map(|n| n.secret().as_str()), Some(nonce.secret().as_str()));
    assert_eq!(claims.preferred_username().map(|name| name.as_str()), Some(ALICE));
    assert!(!claims.subject().is_empty());

    assert_eq!(*token.token_type(), CoreTokenType::Bearer);
    assert_eq!(token.access_token().secret().split('.').count(), 3, "the access token is a JWT");
    let scopes: Vec<&str> = token.scopes().into_iter().flatten().map(|scope| scope.as_str()).collect();
    assert_eq!(scopes, [api_scope()]);

    // The refresh token works through the same client, and comes back rotated.
    let refresh_token = token.refresh_token().expect("a refresh token, since offline_access was asked for");
    let refreshed = client
        .exchange_refresh_token(refresh_token)
        .expect("discovery named a token endpoint")
        .request_async(http)
        .await
        .expect("the refresh token is redeemed");
    assert!(!refreshed.access_token().secret().is_empty());
    assert!(refreshed.refresh_token().is_some_and(|rotated| rotated.secret() != refresh_token.secret()));
}

#[tokio::test]
async fn the_standard_client_rejects_another_nonce_and_a_forged_id_token() {
    let signed_in = sign_in(false).await;
    let id_token = signed_in.token.id_token().expect("an ID token, since openid was asked for");
    let verifier = signed_in.client.id_token_verifier();
    assert!(id_token.claims(&verifier, &signed_in.nonce).is_ok(), "the genuine token with its own nonce");

    // Replay into another login: the nonce this client is waiting for is not the one in the token.
    let result = id_token.claims(&verifier, &Nonce::new_random());
    assert!(matches!(result, Err(ClaimsVerificationError::InvalidNonce(_))), "another nonce: {result:?}");

    // The signature is really checked: a changed payload under the original signature is refused.
    let jwt = id_token.to_string();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    let mut claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["preferred_username"] = "mallory@contoso.example".into();
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let forged: CoreIdToken = format!("{}.{payload}.{}", parts[0], parts[2]).parse().expect("a well-formed JWT");
    let result = forged.claims(&verifier, &signed_in.nonce);
    assert!(matches!(result, Err(ClaimsVerificationError::SignatureVerification(_))), "a forged payload: {result:?}");
}

#[tokio::test]
async fn a_standard_client_signs_in_over_https_trusting_only_the_emulators_certificate() {
    let signed_in = sign_in(true).await;
    let id_token = signed_in.token.id_token().expect("an ID token, since openid was asked for");
    let claims = id_token.claims(&signed_in.client.id_token_verifier(), &signed_in.nonce).unwrap();
    assert!(claims.issuer().as_str().starts_with("https://localhost:"));
    // Without the emulator's certificate in the trust store, the same discovery fails.
    let untrusted = relying_party_http(None);
    let issuer = IssuerUrl::new(signed_in.issuer.clone()).unwrap();
    assert!(CoreProviderMetadata::discover_async(issuer, &untrusted).await.is_err());
}
