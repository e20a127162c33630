//! The harness the emulator's HTTP tests share: an emulator on loopback with a clock the test
//! moves, a browser-like client that keeps the emulator's SSO cookie, and Entra's shapes.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use channels_protocol::authorize::{start, LoginEntropy, PendingLogin, ReturnPath};
use channels_protocol::token::TokenErrorBody;
use channels_protocol::wire::RuntimeConfig;
use entra_emulator::directory::{demo, Directory};
use entra_emulator::Running;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use tokio::net::TcpListener;

pub const SPA: &str = "http://localhost:8080";
pub const START: u64 = 1_800_000_000;

pub struct World {
    pub emulator: Running,
    pub http: reqwest::Client,
    pub now: Arc<AtomicU64>,
    /// The emulator's SSO cookie, as a browser would keep it.
    cookie: Mutex<Option<String>>,
}

/// The demo tenant alone.
pub async fn world() -> World {
    world_of(demo::tenant().into()).await
}

pub async fn world_of(directory: Directory) -> World {
    let now = Arc::new(AtomicU64::new(START));
    let clock = now.clone();
    let emulator = entra_emulator::spawn(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        directory,
        Arc::new(move || clock.load(Ordering::SeqCst)),
    )
    .await
    .unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    World { emulator, http, now, cookie: Mutex::default() }
}

impl World {
    pub fn config(&self) -> RuntimeConfig {
        RuntimeConfig {
            authority: self.emulator.origin().to_owned(),
            tenant_id: demo::TENANT_ID.into(),
            client_id: demo::CLIENT_ID.into(),
            api_scope: format!("api://{}/{}", demo::CLIENT_ID, demo::SCOPE),
            hints: Default::default(),
            implicit_flow: false,
            cloud: Default::default(),
        }
    }

    /// The SPA's authorize URL (built by the SPA's own protocol crate) and its pending login.
    pub fn login(&self) -> (String, PendingLogin) {
        let entropy = LoginEntropy { verifier: [9; 32], state: [8; 16], nonce: [7; 16] };
        let login = start(&self.config(), &format!("{SPA}/sso"), ReturnPath::same_origin("/"), &entropy, START);
        (login.url, login.pending)
    }

    /// A GET as the browser sends it, with the SSO cookie.
    pub async fn get(&self, url: &str) -> reqwest::Response {
        let cookie = self.cookie.lock().unwrap().clone();
        let request = self.http.get(url);
        let request = match cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        };
        request.send().await.unwrap()
    }

    /// Posts the sign-in (or consent) form and keeps the SSO cookie it sets.
    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let response = self.http.post(url).form(form).send().await.unwrap();
        if let Some(set) = response.headers().get(SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            *self.cookie.lock().unwrap() = Some(pair);
        }
        response
    }

    /// Shows the sign-in page, picks `upn`, and returns the emulator's answer.
    pub async fn pick(&self, authorize_url: &str, upn: &str) -> reqwest::Response {
        let page = self.get(authorize_url).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains(&format!("value=\"{upn}\"")), "the page lists {upn}: {html}");
        self.post_form(authorize_url, &[("username", upn)]).await
    }

    /// [`Self::pick`], expecting the redirect back with its query parameters.
    pub async fn sign_in(&self, authorize_url: &str, upn: &str) -> Vec<(String, String)> {
        let response = self.pick(authorize_url, upn).await;
        assert_eq!(response.status(), 302, "Entra redirects with 302 Found");
        redirect_params(&response, &format!("{SPA}/sso?"))
    }

    pub async fn token(&self, form: &[(&str, &str)], origin: Option<&str>) -> reqwest::Response {
        let url = format!("{}/{}/oauth2/v2.0/token", self.emulator.origin(), demo::TENANT_ID);
        let request = self.http.post(url).form(form);
        let request = match origin {
            Some(origin) => request.header(ORIGIN, origin),
            None => request,
        };
        request.send().await.unwrap()
    }

    /// Redeems a code; `verifier: None` leaves `code_verifier` out of the form.
    pub async fn redeem_for(
        &self,
        client_id: &str,
        code: &str,
        verifier: Option<&str>,
        origin: Option<&str>,
    ) -> reqwest::Response {
        let redirect_uri = format!("{SPA}/sso");
        let mut form = vec![
            ("client_id", client_id),
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
        ];
        form.extend(verifier.map(|v| ("code_verifier", v)));
        self.token(&form, origin).await
    }

    /// Redeems a code of the demo app.
    pub async fn redeem(&self, code: &str, verifier: Option<&str>, origin: Option<&str>) -> reqwest::Response {
        self.redeem_for(demo::CLIENT_ID, code, verifier, origin).await
    }

    /// A code for alice, and the pending login it belongs to.
    pub async fn code(&self) -> (String, PendingLogin) {
        let (url, pending) = self.login();
        let params = self.sign_in(&url, "alice@contoso.example").await;
        (param(&params, "code"), pending)
    }

    /// The published JWKS at `path` (`discovery/v2.0/keys` or `discovery/keys`).
    pub async fn jwks(&self, path: &str) -> jsonwebtoken::jwk::JwkSet {
        let url = format!("{}/{}/{path}", self.emulator.origin(), demo::TENANT_ID);
        self.http.get(url).send().await.unwrap().json().await.unwrap()
    }

    /// Verifies an RS256 token against the emulator's published JWKS.
    pub async fn verify<T: serde::de::DeserializeOwned>(&self, token: &str) -> T {
        let jwks = self.jwks("discovery/v2.0/keys").await;
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        jsonwebtoken::decode::<T>(token, &key, &validation).unwrap().claims
    }
}

/// The PKCE verifier a code-flow login keeps (`None` only in the implicit flow).
pub fn verifier(pending: &PendingLogin) -> &str {
    pending.verifier.as_ref().expect("a code-flow login keeps its verifier").secret()
}

pub fn redirect_params(response: &reqwest::Response, prefix: &str) -> Vec<(String, String)> {
    let location = response.headers()[LOCATION].to_str().unwrap();
    let query = location.strip_prefix(prefix).unwrap_or_else(|| panic!("redirect to {location}"));
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

pub fn param(params: &[(String, String)], name: &str) -> String {
    params.iter().find(|(k, _)| k == name).unwrap_or_else(|| panic!("no {name} in {params:?}")).1.clone()
}

pub async fn aadsts(response: reqwest::Response, status: u16, error: &str, code: u32) -> TokenErrorBody {
    assert_eq!(response.status().as_u16(), status);
    let body: TokenErrorBody = response.json().await.unwrap();
    assert_eq!(body.error, error);
    assert_eq!(body.error_codes, [code]);
    assert!(body.error_description.starts_with(&format!("AADSTS{code}: ")), "{}", body.error_description);
    assert!(!body.trace_id.is_empty() && !body.correlation_id.is_empty() && !body.timestamp.is_empty());
    body
}
