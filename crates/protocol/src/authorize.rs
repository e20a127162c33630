//! Step 2 of the sign-in: the request to Entra's `/authorize` endpoint.
//!
//! [`start`] turns the runtime configuration and fresh entropy into the URL to navigate to and
//! the [`PendingLogin`] the tab keeps until Entra redirects back to `/sso`.

use serde::{Deserialize, Serialize};

use crate::pkce::CodeVerifier;
use crate::secret::{Nonce, State};
use crate::wire::RuntimeConfig;

/// Scopes every sign-in asks for beside the API scope: an ID token (`openid`), the user's
/// name (`profile`) and a refresh token (`offline_access`).
pub const OIDC_SCOPES: &str = "openid profile offline_access";

/// CSPRNG output for one login, gathered by the caller (the browser's `crypto.getRandomValues`).
pub struct LoginEntropy {
    /// 256 bits for the PKCE verifier.
    pub verifier: [u8; 32],
    /// 128 bits for `state`.
    pub state: [u8; 16],
    /// 128 bits for `nonce`.
    pub nonce: [u8; 16],
}

/// What the tab remembers between leaving for `/authorize` and coming back to `/sso`.
/// It is consumed by [`crate::callback::complete`], so one login completes at most once.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The `state` sent; the callback must bring back the same.
    pub state: State,
    /// The `nonce` sent; the ID token must carry the same.
    pub nonce: Nonce,
    /// The PKCE verifier whose challenge was sent.
    pub verifier: CodeVerifier,
    /// The exact `redirect_uri` sent; the token request must repeat it.
    pub redirect_uri: String,
    /// Where the user was when they clicked "Sign in".
    pub return_to: ReturnPath,
    /// When the login started (seconds since the epoch), to expire abandoned logins.
    pub started_at: u64,
    /// A `prompt=none` login (renewal after the refresh token's end): if Entra answers with
    /// an error, the user signs in again interactively, never silently once more.
    #[serde(default)]
    pub silent: bool,
    /// The account a silent login asked for (`login_hint`): the ID token must be that user's,
    /// so a tab never turns into another account signed in at Microsoft meanwhile.
    #[serde(default)]
    pub login_hint: Option<String>,
}

/// The URL to navigate to and what to keep until the user comes back.
#[derive(Debug)]
pub struct LoginStart {
    /// `{authority}/{tenant}/oauth2/v2.0/authorize?…`
    pub url: String,
    /// Keep this in the tab's `sessionStorage`, keyed by its state.
    pub pending: PendingLogin,
}

/// Builds the authorization request (authorization code flow with PKCE S256).
pub fn start(
    config: &RuntimeConfig,
    redirect_uri: &str,
    return_to: ReturnPath,
    entropy: &LoginEntropy,
    now: u64,
) -> LoginStart {
    build(config, redirect_uri, return_to, entropy, now, None)
}

/// Builds a silent request (`prompt=none`, `login_hint`): Entra's session cookie signs the
/// same user in again without a page, or Entra redirects back with an error
/// (`login_required`, `interaction_required`, `consent_required`). The way back in after the
/// SPA refresh token's fixed 24 hours (AADSTS700084), without a hidden iframe, so blocked
/// third-party cookies do not matter.
pub fn start_silent(
    config: &RuntimeConfig,
    redirect_uri: &str,
    return_to: ReturnPath,
    login_hint: &str,
    entropy: &LoginEntropy,
    now: u64,
) -> LoginStart {
    build(config, redirect_uri, return_to, entropy, now, Some(login_hint))
}

fn build(
    config: &RuntimeConfig,
    redirect_uri: &str,
    return_to: ReturnPath,
    entropy: &LoginEntropy,
    now: u64,
    silent_hint: Option<&str>,
) -> LoginStart {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let verifier = CodeVerifier::from_random_bytes(&entropy.verifier);
    let state = State::new(URL_SAFE_NO_PAD.encode(entropy.state));
    let nonce = Nonce::new(URL_SAFE_NO_PAD.encode(entropy.nonce));
    let scope = format!("{OIDC_SCOPES} {}", config.api_scope);
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("client_id", &config.client_id)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_mode", "query")
        .append_pair("scope", &scope)
        .append_pair("state", state.secret())
        .append_pair("nonce", nonce.secret())
        .append_pair("code_challenge", verifier.challenge().as_str())
        .append_pair("code_challenge_method", "S256");
    if let Some(hint) = silent_hint {
        query.append_pair("prompt", "none");
        if !hint.is_empty() {
            query.append_pair("login_hint", hint);
        }
    }
    let query = query.finish();
    LoginStart {
        url: format!("{}?{query}", config.authorize_endpoint()),
        pending: PendingLogin {
            state,
            nonce,
            verifier,
            redirect_uri: redirect_uri.to_owned(),
            return_to,
            started_at: now,
            silent: silent_hint.is_some(),
            login_hint: silent_hint.filter(|hint| !hint.is_empty()).map(str::to_owned),
        },
    }
}

/// A same-origin path to return to after sign-in. Anything that could leave the origin
/// (`//host`, `/\host`, `https://…`, control characters) becomes `/`: no open redirect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReturnPath(String);

impl ReturnPath {
    /// Keeps `path` only if it is a plain same-origin path; otherwise `/`.
    pub fn same_origin(path: &str) -> Self {
        let safe = path.starts_with('/')
            && !path.starts_with("//")
            && !path.contains('\\')
            && !path.chars().any(char::is_control)
            && !path.to_ascii_lowercase().contains("%5c")
            && !path.to_ascii_lowercase().starts_with("/%2f");
        Self(if safe { path.to_owned() } else { "/".to_owned() })
    }
    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RuntimeConfig {
        RuntimeConfig {
            authority: "http://127.0.0.1:9400".into(),
            tenant_id: "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f".into(),
            client_id: "6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d".into(),
            api_scope: "api://6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d/UserProfile.ReadWrite".into(),
        }
    }

    fn params(url: &str) -> Vec<(String, String)> {
        let query = url.split_once('?').unwrap().1;
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    #[test]
    fn authorize_url_carries_the_code_flow_with_pkce_s256() {
        let entropy = LoginEntropy { verifier: [7; 32], state: [1; 16], nonce: [2; 16] };
        let login = start(&config(), "http://localhost:8080/sso", ReturnPath::same_origin("/"), &entropy, 1000);
        assert!(login
            .url
            .starts_with("http://127.0.0.1:9400/4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f/oauth2/v2.0/authorize?"));
        let challenge = login.pending.verifier.challenge();
        let expected = [
            ("client_id", "6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d"),
            ("response_type", "code"),
            ("redirect_uri", "http://localhost:8080/sso"),
            ("response_mode", "query"),
            ("scope", "openid profile offline_access api://6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d/UserProfile.ReadWrite"),
            ("state", login.pending.state.secret()),
            ("nonce", login.pending.nonce.secret()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        let expected: Vec<(String, String)> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(params(&login.url), expected);
        assert_eq!(login.pending.state.secret(), "AQEBAQEBAQEBAQEBAQEBAQ");
        assert_ne!(login.pending.state.secret(), login.pending.nonce.secret());
        assert!(!login.url.contains(login.pending.verifier.secret()), "the verifier never leaves the tab");
    }

    #[test]
    fn return_path_refuses_anything_that_leaves_the_origin() {
        for hostile in [
            "//evil.example",
            "https://evil.example/",
            "/\\evil.example",
            "/%5Cevil.example",
            "/%2F/evil.example",
            "javascript:alert(1)",
            "/ok\nLocation: x",
            "",
        ] {
            assert_eq!(ReturnPath::same_origin(hostile).as_str(), "/", "{hostile:?}");
        }
        assert_eq!(ReturnPath::same_origin("/channels?tab=2").as_str(), "/channels?tab=2");
    }

    #[test]
    fn a_silent_login_asks_for_no_page_and_names_the_user() {
        let entropy = LoginEntropy { verifier: [7; 32], state: [1; 16], nonce: [2; 16] };
        let silent = start_silent(
            &config(),
            "http://localhost:8080/sso",
            ReturnPath::same_origin("/diagnostics"),
            "alice@contoso.example",
            &entropy,
            1000,
        );
        let params = params(&silent.url);
        let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!((get("prompt"), get("login_hint")), (Some("none"), Some("alice@contoso.example")));
        assert!(silent.pending.silent);
        assert_eq!(silent.pending.login_hint.as_deref(), Some("alice@contoso.example"), "the ID token must name her");
        let interactive = start(&config(), "http://localhost:8080/sso", ReturnPath::same_origin("/"), &entropy, 1000);
        assert!(!interactive.pending.silent && !interactive.url.contains("prompt="));
    }
}
