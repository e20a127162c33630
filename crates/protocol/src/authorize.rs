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

/// The implicit grant's scopes: no `offline_access`, since it issues no refresh token.
pub const IMPLICIT_OIDC_SCOPES: &str = "openid profile";

/// The implicit grant's `response_type`: an ID token and an access token, in the fragment.
pub const IMPLICIT_RESPONSE_TYPE: &str = "id_token token";

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
    /// The PKCE verifier whose challenge was sent; `None` for an implicit-grant login, which
    /// sends none and must come back with tokens, never with a code.
    pub verifier: Option<CodeVerifier>,
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
    /// The account a silent login restores: the ID token must be that account's, so a tab
    /// never turns into another account signed in at Microsoft meanwhile. A silent login
    /// without one is refused ([`crate::callback::complete`]).
    #[serde(default)]
    pub account: Option<Account>,
}

/// Who is signed in, by the ID token's immutable ids: the tenant (`tid`) and the user's object
/// id in it (`oid`). The sign-in name can change (a renamed UPN); these cannot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The tenant's id.
    pub tid: String,
    /// The user's object id.
    pub oid: String,
    /// The sign-in name (`preferred_username`), for `login_hint` and for people to read.
    pub username: String,
}

impl Account {
    /// Whether both ids are known: only then can a later sign-in be matched to this account.
    pub fn is_identified(&self) -> bool {
        !self.tid.is_empty() && !self.oid.is_empty()
    }
}

/// An id as people read it in a message: `(none)` when it is missing.
pub(crate) fn shown(id: &str) -> &str {
    if id.is_empty() {
        "(none)"
    } else {
        id
    }
}

/// What Entra may show at `/authorize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// Entra's choice: its session signs the user in, or it asks who.
    Default,
    /// The account picker even when Entra has a session (`prompt=select_account`): after a
    /// sign-in came back with the wrong account.
    SelectAccount,
    /// Entra's choice, for this account (`login_hint`): its session signs that account in, or
    /// Entra asks for it with the name filled in (the picker, when it holds other accounts).
    /// After a session ended that a silent sign-in could not restore. Whoever signs in is
    /// taken: the user chooses, unlike [`Prompt::None`].
    LoginHint(Account),
    /// No page at all (`prompt=none`, `login_hint`): Entra's session signs this account in
    /// again, or Entra redirects back with an error (`login_required`,
    /// `interaction_required`, `consent_required`). The way back in after the SPA refresh
    /// token's fixed 24 hours (AADSTS700084), without a hidden iframe, so blocked third-party
    /// cookies do not matter.
    None(Account),
}

/// The URL to navigate to and what to keep until the user comes back.
#[derive(Debug)]
pub struct LoginStart {
    /// `{authority}/{tenant}/oauth2/v2.0/authorize?…`
    pub url: String,
    /// Keep this in the tab's `sessionStorage`, keyed by its state.
    pub pending: PendingLogin,
}

/// Builds the authorization request: the authorization code flow with PKCE S256, or, when the
/// organisation opted in ([`RuntimeConfig::implicit_flow`]), the implicit grant:
/// `response_type=id_token token` in `response_mode=fragment`, with the same `state` and
/// `nonce`, no PKCE (there is no code to protect) and no `offline_access` (no refresh token).
pub fn start(
    config: &RuntimeConfig,
    redirect_uri: &str,
    return_to: ReturnPath,
    entropy: &LoginEntropy,
    now: u64,
) -> LoginStart {
    start_with_prompt(config, redirect_uri, return_to, Prompt::Default, entropy, now)
}

/// Builds the authorization request with what Entra may show ([`Prompt`]).
pub fn start_with_prompt(
    config: &RuntimeConfig,
    redirect_uri: &str,
    return_to: ReturnPath,
    prompt: Prompt,
    entropy: &LoginEntropy,
    now: u64,
) -> LoginStart {
    start_with_claims(config, redirect_uri, return_to, prompt, crate::step_up::CLIENT_CAPABILITIES, entropy, now)
}

/// Builds the authorization request with a `claims` parameter: the client capabilities, and
/// what a claims challenge asked for ([`crate::step_up::request_claims`]).
pub fn start_with_claims(
    config: &RuntimeConfig,
    redirect_uri: &str,
    return_to: ReturnPath,
    prompt: Prompt,
    claims: &str,
    entropy: &LoginEntropy,
    now: u64,
) -> LoginStart {
    build(config, redirect_uri, return_to, prompt, Some(claims), entropy, now)
}

/// The authorization request of a native client (RFC 8252) listening at `redirect_uri`: the
/// code flow with PKCE, and no client capabilities (it answers no claims challenge).
pub fn start_native(config: &RuntimeConfig, redirect_uri: &str, entropy: &LoginEntropy, now: u64) -> LoginStart {
    let config = RuntimeConfig { implicit_flow: false, ..config.clone() };
    build(&config, redirect_uri, ReturnPath::same_origin("/"), Prompt::Default, None, entropy, now)
}

fn build(
    config: &RuntimeConfig,
    redirect_uri: &str,
    return_to: ReturnPath,
    prompt: Prompt,
    claims: Option<&str>,
    entropy: &LoginEntropy,
    now: u64,
) -> LoginStart {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let verifier = (!config.implicit_flow).then(|| CodeVerifier::from_random_bytes(&entropy.verifier));
    let state = State::new(URL_SAFE_NO_PAD.encode(entropy.state));
    let nonce = Nonce::new(URL_SAFE_NO_PAD.encode(entropy.nonce));
    let (response_type, response_mode, oidc_scopes) = match verifier {
        Some(_) => ("code", "query", OIDC_SCOPES),
        None => (IMPLICIT_RESPONSE_TYPE, "fragment", IMPLICIT_OIDC_SCOPES),
    };
    let scope = format!("{oidc_scopes} {}", config.api_scope);
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("client_id", &config.client_id)
        .append_pair("response_type", response_type)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_mode", response_mode)
        .append_pair("scope", &scope)
        .append_pair("state", state.secret())
        .append_pair("nonce", nonce.secret());
    if let Some(verifier) = &verifier {
        query.append_pair("code_challenge", verifier.challenge().as_str()).append_pair("code_challenge_method", "S256");
    }
    if let Some(claims) = claims {
        query.append_pair("claims", claims);
    }
    if let Some(domain) = &config.hints.domain_hint {
        query.append_pair("domain_hint", domain);
    }
    // A known account's own name comes before the configured hint; the picker, asked for
    // after the wrong account came back, gets none.
    let hint = |query: &mut form_urlencoded::Serializer<String>, account: &Account| {
        match (account.username.is_empty(), &config.hints.login_hint) {
            (false, _) => query.append_pair("login_hint", &account.username),
            (true, Some(configured)) => query.append_pair("login_hint", configured),
            (true, None) => query,
        };
    };
    let account = match prompt {
        Prompt::Default => {
            if let Some(configured) = &config.hints.login_hint {
                query.append_pair("login_hint", configured);
            }
            None
        }
        Prompt::SelectAccount => {
            query.append_pair("prompt", "select_account");
            None
        }
        Prompt::LoginHint(account) => {
            hint(&mut query, &account);
            None
        }
        Prompt::None(account) => {
            query.append_pair("prompt", "none");
            hint(&mut query, &account);
            Some(account)
        }
    };
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
            silent: account.is_some(),
            account,
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
            && !path.as_bytes().windows(3).any(|three| three.eq_ignore_ascii_case(b"%5c"))
            && !path.as_bytes().get(..4).is_some_and(|start| start.eq_ignore_ascii_case(b"/%2f"));
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
            hints: Default::default(),
            implicit_flow: false,
            cloud: Default::default(),
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
        let challenge = login.pending.verifier.as_ref().unwrap().challenge();
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
            // Every sign-in declares that the client answers claims challenges.
            ("claims", r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#),
        ];
        let expected: Vec<(String, String)> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(params(&login.url), expected);
        // A step-up asks for the challenge's claims, with the capabilities.
        let claims = crate::step_up::request_claims(&crate::step_up::required_claims("c1"));
        let step_up = start_with_claims(
            &config(),
            "http://localhost:8080/sso",
            ReturnPath::same_origin("/"),
            Prompt::Default,
            &claims,
            &entropy,
            1000,
        );
        let sent = params(&step_up.url).into_iter().find(|(k, _)| k == "claims").unwrap().1;
        assert_eq!(sent, r#"{"access_token":{"acrs":{"essential":true,"value":"c1"},"xms_cc":{"values":["cp1"]}}}"#);
        assert_eq!(login.pending.state.secret(), "AQEBAQEBAQEBAQEBAQEBAQ");
        assert_ne!(login.pending.state.secret(), login.pending.nonce.secret());
        assert!(!login.url.contains(login.pending.verifier.unwrap().secret()), "the verifier never leaves the tab");
    }

    #[test]
    fn an_organisation_that_opted_in_asks_for_tokens_in_the_fragment_with_state_and_nonce() {
        let entropy = LoginEntropy { verifier: [7; 32], state: [1; 16], nonce: [2; 16] };
        let implicit = RuntimeConfig { implicit_flow: true, ..config() };
        let login = start_with_prompt(
            &implicit,
            "http://localhost:8080/sso",
            ReturnPath::same_origin("/"),
            Prompt::None(Account { tid: "t".into(), oid: "o".into(), username: "alice@contoso.example".into() }),
            &entropy,
            1000,
        );
        let expected = [
            ("client_id", "6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d"),
            ("response_type", "id_token token"),
            ("redirect_uri", "http://localhost:8080/sso"),
            ("response_mode", "fragment"),
            // No offline_access: the implicit grant issues no refresh token.
            ("scope", "openid profile api://6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d/UserProfile.ReadWrite"),
            ("state", login.pending.state.secret()),
            ("nonce", login.pending.nonce.secret()),
            ("claims", r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#),
            ("prompt", "none"),
            ("login_hint", "alice@contoso.example"),
        ];
        let expected: Vec<(String, String)> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(params(&login.url), expected);
        assert!(login.pending.verifier.is_none(), "no code comes back, so no verifier is kept");
        assert!(login.pending.silent);
    }

    #[test]
    fn configured_hints_reach_every_sign_in_and_a_known_account_comes_first() {
        let entropy = LoginEntropy { verifier: [7; 32], state: [1; 16], nonce: [2; 16] };
        let hints = crate::wire::Hints {
            domain_hint: Some("contoso.example".into()),
            login_hint: Some("kiosk@contoso.example".into()),
        };
        let hinted = RuntimeConfig { hints, ..config() };
        let sent_with = |config: &RuntimeConfig, prompt: Prompt, name: &str| {
            let redirect_uri = "http://localhost:8080/sso";
            let login = start_with_prompt(config, redirect_uri, ReturnPath::same_origin("/"), prompt, &entropy, 1);
            params(&login.url).into_iter().filter(|(k, _)| k == name).map(|(_, v)| v).collect::<Vec<_>>()
        };
        let sent = |prompt: Prompt, name: &str| sent_with(&hinted, prompt, name);
        let alice = Account { tid: "t".into(), oid: "o".into(), username: "alice@contoso.example".into() };
        assert_eq!(sent(Prompt::Default, "domain_hint"), ["contoso.example"]);
        assert_eq!(sent(Prompt::Default, "login_hint"), ["kiosk@contoso.example"]);
        assert_eq!(sent(Prompt::LoginHint(alice.clone()), "login_hint"), ["alice@contoso.example"]);
        assert_eq!(sent(Prompt::None(alice), "login_hint"), ["alice@contoso.example"]);
        let nameless = Account { tid: "t".into(), oid: "o".into(), username: String::new() };
        assert_eq!(sent(Prompt::LoginHint(nameless), "login_hint"), ["kiosk@contoso.example"]);
        assert!(sent(Prompt::SelectAccount, "login_hint").is_empty(), "the picker was asked for");
        assert_eq!(sent(Prompt::SelectAccount, "domain_hint"), ["contoso.example"]);
        let plain = config();
        assert!(sent_with(&plain, Prompt::Default, "domain_hint").is_empty());
        assert!(sent_with(&plain, Prompt::Default, "login_hint").is_empty());
    }

    #[test]
    fn return_path_refuses_anything_that_leaves_the_origin() {
        for hostile in [
            "//evil.example",
            "https://evil.example/",
            "/\\evil.example",
            "/%5Cevil.example",
            "/channels/%5cevil.example",
            "/%2F/evil.example",
            "/%2f/evil.example",
            "javascript:alert(1)",
            "/ok\nLocation: x",
            "",
        ] {
            assert_eq!(ReturnPath::same_origin(hostile).as_str(), "/", "{hostile:?}");
        }
        for safe in ["/channels?tab=2", "/search?q=%5B1%5D", "/a%2F", "/%"] {
            assert_eq!(ReturnPath::same_origin(safe).as_str(), safe);
        }
    }

    #[test]
    fn each_prompt_asks_entra_for_what_it_may_show_and_a_silent_login_keeps_its_account() {
        let entropy = LoginEntropy { verifier: [7; 32], state: [1; 16], nonce: [2; 16] };
        let alice = Account { tid: "t-1".into(), oid: "o-1".into(), username: "alice@contoso.example".into() };
        let begin = |prompt| {
            let login = start_with_prompt(
                &config(),
                "http://localhost:8080/sso",
                ReturnPath::same_origin("/"),
                prompt,
                &entropy,
                1,
            );
            let params = params(&login.url);
            let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.to_owned());
            (get("prompt"), get("login_hint"), login.pending)
        };
        let (prompt, hint, pending) = begin(Prompt::None(alice.clone()));
        assert_eq!((prompt.as_deref(), hint.as_deref()), (Some("none"), Some("alice@contoso.example")));
        assert!(pending.silent);
        assert_eq!(pending.account, Some(alice.clone()), "the ID token must be hers");
        let (prompt, hint, pending) = begin(Prompt::SelectAccount);
        assert_eq!(
            (prompt.as_deref(), hint, pending.silent, pending.account),
            (Some("select_account"), None, false, None)
        );
        let (prompt, hint, pending) = begin(Prompt::Default);
        assert_eq!((prompt, hint, pending.silent, pending.account), (None, None, false, None));
        // After a session ended: Entra is told whom to sign in, but the user may choose another.
        let (prompt, hint, pending) = begin(Prompt::LoginHint(alice));
        assert_eq!(
            (prompt, hint.as_deref(), pending.silent, pending.account),
            (None, Some("alice@contoso.example"), false, None)
        );
    }
}
