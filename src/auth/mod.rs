//! The sign-in flow as the SPA runs it: the protocol steps of `channels_protocol`, wired to
//! the browser effects of [`crate::browser`].
//!
//! [`begin`] → Entra's sign-in page → `/sso` → [`complete`] → a [`session::Session`] in this
//! tab → [`sign_out`].

pub mod session;
pub mod token_endpoint;

use channels_protocol::authorize::OIDC_SCOPES;
use channels_protocol::authorize::{self, Account, Prompt, ReturnPath};
use channels_protocol::callback::{self, CallbackError};
use channels_protocol::logout::LogoutId;
use channels_protocol::provider_error::ProviderError;
use channels_protocol::token::{
    check_access_token_hash, check_id_token, check_same_account, id_token_claims, signed_parts, signing_key,
    IdTokenError, TokenRequestBody, TokenResponse,
};
use channels_protocol::wire::RuntimeConfig;

use crate::browser::{self, http, location, storage};
use session::{Recovery, Session, StoredSession};
use token_endpoint::{keys, redeem, TokenEndpointError};

/// The path Entra redirects back to; registered as a Single-page application redirect URI.
pub const CALLBACK_PATH: &str = "/sso";

/// The front-channel logout route: `?sid=…` ends the sessions of this origin's tabs whose ID
/// token has that `sid` (and issuer, when an `iss` comes too); anything else is ignored, with a
/// line in the console. Entra loads a registered front-channel logout URL in an iframe on its
/// own sign-out page, which the API allows only the authority to frame; there the browsers'
/// partitioning of third-party frames keeps it from reaching the tabs (docs/security.md).
pub const FRONT_CHANNEL_LOGOUT_PATH: &str = channels_protocol::logout::PATH;

/// What to check when Entra could not be reached in time: nothing in the portal causes it.
/// The fix when this site did not send a part of the app (src/lifecycle.rs splits it).
pub const CODE_UNAVAILABLE_FIX: &str = "No Entra setting causes this: check the connection to this site, \
     then try again; if it keeps failing, reload the page (a new version of the app may have been deployed).";
const ENTRA_OUT_OF_REACH_FIX: &str = "No Entra setting causes this: check that this browser reaches Entra's sign-in \
                                      host (login.microsoftonline.com, or your cloud's) through any proxy or \
                                      firewall, then try again.";

/// Why a sign-in did not complete.
#[derive(Debug)]
pub enum SignInError {
    /// The callback was refused before any token request (state, replay, malformed).
    Callback(CallbackError),
    /// Entra refused, at `/authorize` or at the token endpoint.
    Provider(ProviderError),
    /// The ID token does not belong to this sign-in (or, after a silent one, to this tab's
    /// account: [`IdTokenError::OtherAccount`]).
    IdToken(IdTokenError),
    /// The token response had no ID token although `openid` was asked.
    MissingIdToken,
    /// The token endpoint could not be reached or did not allow this origin (CORS).
    TokenEndpointUnreachable,
    /// The token endpoint did not answer in time ([`http::ANSWER_WITHIN_SECONDS`]).
    TokenEndpointTimedOut,
    /// A renewal failed without Entra refusing the refresh token (no answer, a network error,
    /// an answer that is not Entra's, Entra out of order for a moment): the stored session is
    /// kept, and "Try again" renews.
    RenewalInterrupted(Box<SignInError>),
    /// Any other network failure.
    Network(String),
    /// The browser could not fetch this app's own code for redeeming Entra's answer (the
    /// release build fetches what runs after Entra answers when it is first needed).
    CodeUnavailable,
    /// The session has ended (the refresh token's 24 hours, and Entra's session too; in the
    /// implicit flow, the page's token and Entra's session): the user signs in again, as
    /// `account` if they will.
    SessionEnded {
        /// Entra's answer to the silent sign-in, if there was one.
        answer: Option<ProviderError>,
        /// Whose session it was.
        account: Option<Account>,
        /// Whether the session was the implicit flow's, which has no refresh token.
        implicit: bool,
    },
}

impl From<leptos::wasm_split::SplitLoaderError> for SignInError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Self::CodeUnavailable
    }
}

/// What a sign-in or a renewal brought, when it did not fail.
#[derive(Debug)]
pub enum Outcome {
    /// A session, with its tokens.
    SignedIn(Session),
    /// The tab is leaving for a silent sign-in at Entra: there is nothing to show but that.
    LeftForEntra,
}

/// What the user reads when sign-in fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// What happened.
    pub message: String,
    /// How to fix it, when someone can.
    pub fix: Option<String>,
    /// Entra's own words and code, for support.
    pub detail: Option<String>,
}

impl From<TokenEndpointError> for SignInError {
    fn from(error: TokenEndpointError) -> Self {
        match error {
            TokenEndpointError::TimedOut => Self::TokenEndpointTimedOut,
            TokenEndpointError::Unreachable => Self::TokenEndpointUnreachable,
            TokenEndpointError::Network(what) => Self::Network(what),
            TokenEndpointError::Provider(error) => Self::Provider(error),
        }
    }
}

impl Explanation {
    /// What happened, with nothing to fix and no detail.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), fix: None, detail: None }
    }

    /// With how to fix it.
    pub fn with_fix(self, fix: impl Into<String>) -> Self {
        Self { fix: Some(fix.into()), ..self }
    }

    /// With how to fix it, when someone can.
    pub fn with_optional_fix(self, fix: Option<String>) -> Self {
        Self { fix, ..self }
    }

    /// With Entra's own words and code.
    pub fn with_detail(self, detail: impl Into<String>) -> Self {
        Self { detail: Some(detail.into()), ..self }
    }

    /// With Entra's own words and code, when there are some.
    pub fn with_optional_detail(self, detail: Option<String>) -> Self {
        Self { detail, ..self }
    }
}

impl SignInError {
    /// A renewal's error as the lifecycle keeps the session through it: the renewal's code not
    /// fetched is a renewal interrupted, tried again, as Entra out of reach is.
    pub fn of_renewal(self) -> Self {
        match self {
            Self::CodeUnavailable => Self::RenewalInterrupted(Box::new(self)),
            other => other,
        }
    }

    /// How "Try again" (or "Sign in") signs in: with the account picker after the wrong account
    /// came back, since Entra's session would otherwise sign that account in again; for the
    /// same account after a session ended, since Entra may hold several (AADSTS16000).
    pub fn retry_prompt(&self) -> Prompt {
        match self {
            Self::IdToken(IdTokenError::OtherAccount { .. }) => Prompt::SelectAccount,
            Self::SessionEnded { account: Some(account), .. } => Prompt::LoginHint(account.clone()),
            _ => Prompt::Default,
        }
    }

    /// A plain explanation with the fix.
    pub fn explain(&self) -> Explanation {
        match self {
            Self::Provider(error) | Self::Callback(CallbackError::Provider(error)) => match error.known() {
                Some(known) => Explanation::new(known.meaning.to_owned())
                    .with_fix(known.fix.to_owned())
                    .with_detail(error.description.clone()),
                None => Explanation::new("Microsoft Entra refused the sign-in.")
                    .with_detail(format!("{}: {}", error.error, error.description)),
            },
            Self::Callback(error) => Explanation::new(error.to_string()),
            Self::IdToken(error) => {
                Explanation::new(error.to_string()).with_optional_fix(error.fix().map(str::to_owned))
            }
            Self::MissingIdToken => {
                Explanation::new("Entra returned no ID token although the sign-in asked for one (scope openid).")
            }
            Self::TokenEndpointUnreachable => {
                Explanation::new("The browser could not reach Entra's token endpoint, or was not allowed to.").with_fix(
                    "Admin: App registrations → this app → Authentication → register this site's /sso URI under \
                     Single-page application (not Web), so Entra allows the browser to redeem codes.",
                )
            }
            Self::SessionEnded { answer, implicit: false, .. } => Explanation::new(
                "Your sign-in has ended. Microsoft Entra keeps a browser app signed in for at most 24 \
                          hours, and it could not sign you in again without asking. Sign in to continue.",
            )
            .with_optional_detail(answer.as_ref().map(|error| error.description.clone())),
            Self::SessionEnded { answer, implicit: true, .. } => Explanation::new(format!(
                "Your sign-in has ended. Your organisation uses the implicit flow, whose token lives in this \
                     page only and is renewed by signing in again without asking; Microsoft Entra could not do \
                     that now{}. Sign in to continue.",
                if answer.is_some() {
                    ""
                } else {
                    " (it was last tried less than 10 minutes ago, or this tab does not know which account to renew)"
                }
            ))
            .with_optional_detail(answer.as_ref().map(|error| error.description.clone())),
            Self::TokenEndpointTimedOut => Explanation::new(format!(
                "Entra's token endpoint did not answer within {} seconds.",
                http::ANSWER_WITHIN_SECONDS
            ))
            .with_fix(ENTRA_OUT_OF_REACH_FIX.to_owned()),
            // This site, not Entra, did not answer: the app's code for the renewal was not fetched.
            Self::RenewalInterrupted(error) if matches!(**error, Self::CodeUnavailable) => Explanation::new(
                "Expected this app's code for renewing your session; found no answer from this site (a \
                 network error, or a new version of the app deployed meanwhile; the browser console says \
                 which). Your session is kept: try again when the connection is back.",
            )
            .with_fix(CODE_UNAVAILABLE_FIX.to_owned()),
            Self::RenewalInterrupted(error) => {
                let found = error.explain();
                Explanation::new(
                    "Expected Entra to renew your session; found: ".to_owned()
                        + &found.message
                        + " Your session is kept: try again when Entra can be reached.",
                )
                .with_fix(ENTRA_OUT_OF_REACH_FIX.to_owned())
                .with_optional_detail(found.detail)
            }
            Self::CodeUnavailable => Explanation::new(
                "Expected this app's code for completing the sign-in; found no answer from this site (a \
                 network error, or a new version of the app deployed meanwhile; the browser console says \
                 which).",
            )
            .with_fix(CODE_UNAVAILABLE_FIX.to_owned()),
            Self::Network(what) => Explanation::new("The sign-in could not be completed because of a network error.")
                .with_detail(what.clone()),
        }
    }
}

/// The redirect URI of this origin, and where this page is, as a path to come back to after
/// signing in.
fn redirect_and_return_path() -> (String, ReturnPath) {
    let redirect_uri = format!("{}{CALLBACK_PATH}", location::origin());
    let here = location::path_and_query();
    let special = here.starts_with(CALLBACK_PATH) || here.starts_with(FRONT_CHANNEL_LOGOUT_PATH);
    (redirect_uri, ReturnPath::same_origin(if special { "/" } else { &here }))
}

/// Starts a sign-in: keeps a pending login for this tab and leaves for Entra, which may show
/// what `prompt` allows. A silent one (`prompt=none`) is noted, so that a failing one is never
/// repeated within [`session::SILENT_RETRY_AFTER`].
pub fn begin(config: &RuntimeConfig, prompt: Prompt) {
    begin_with_claims(config, prompt, channels_protocol::step_up::CLIENT_CAPABILITIES);
}

/// Starts a sign-in with a `claims` request: the client capabilities, and what an API's claims
/// challenge asked for (a step-up).
pub fn begin_with_claims(config: &RuntimeConfig, prompt: Prompt, claims: &str) {
    let (redirect_uri, return_to) = redirect_and_return_path();
    let now = browser::now();
    if matches!(prompt, Prompt::None(_)) {
        storage::note_silent_attempt(now);
    }
    let entropy = browser::login_entropy();
    let login = authorize::start_with_claims(config, &redirect_uri, return_to, prompt, claims, &entropy, now);
    storage::save_pending(&login.pending);
    location::navigate(&login.url);
}

/// Completes a sign-in on `/sso`, from the callback's `response`: its query, or its fragment in
/// the implicit flow (the route has already taken it out of the address bar, whatever the
/// outcome). The pending login is consumed, so a replayed callback finds nothing. The caller
/// goes on to the path returned.
pub async fn complete(config: &RuntimeConfig, response: &str) -> Result<(Session, ReturnPath), SignInError> {
    let callback = callback::parse(response).map_err(SignInError::Callback)?;
    // Without a login pending under its state, a response is not ours: refused, and an error's
    // text (which anyone can put in a link) is not shown.
    let pending =
        callback.state().and_then(storage::take_pending).ok_or(SignInError::Callback(CallbackError::NoPendingLogin))?;
    let (silent, account, implicit) = (pending.silent, pending.account.clone(), pending.verifier.is_none());
    let refused = |error| match error {
        // A silent sign-in that Entra answered with an error: the user signs in again.
        CallbackError::Provider(answer) if silent => {
            SignInError::SessionEnded { answer: Some(answer), account, implicit }
        }
        other => SignInError::Callback(other),
    };
    // The flow is the one this tab started: its pending login says which.
    let (tokens, nonce, return_to, account) = if implicit {
        let signed_in = callback::complete_implicit(pending, callback, browser::now()).map_err(refused)?;
        check_signature(config, &signed_in.tokens.id_token).await?;
        let tokens = signed_in.tokens;
        let response = TokenResponse {
            access_token: tokens.access_token,
            token_type: "Bearer".to_owned(),
            expires_in: tokens.expires_in,
            scope: String::new(),
            refresh_token: None,
            id_token: Some(tokens.id_token),
        };
        (response, signed_in.nonce, signed_in.return_to, signed_in.account)
    } else {
        let redemption = callback::complete(pending, callback, &config.client_id, browser::now()).map_err(refused)?;
        let tokens = redeem(&config.token_endpoint(), &redemption.form).await?;
        (tokens, redemption.nonce, redemption.return_to, redemption.account)
    };
    let id_token = tokens.id_token.as_ref().ok_or(SignInError::MissingIdToken)?;
    let claims = id_token_claims(id_token).map_err(SignInError::IdToken)?;
    let identity = check_id_token(claims, config, &nonce, browser::now()).map_err(SignInError::IdToken)?;
    if implicit {
        check_access_token_hash(&identity, &tokens.access_token).map_err(SignInError::IdToken)?;
    }
    check_same_account(&identity, account.as_ref()).map_err(SignInError::IdToken)?;
    let logout_id = identity.sid.clone().map(|sid| LogoutId { iss: identity.iss.clone(), sid });
    let stored = StoredSession {
        refresh_token: None,
        logout_id,
        name: identity.name.unwrap_or_default(),
        account: Account {
            tid: identity.tid.unwrap_or_default(),
            oid: identity.oid.unwrap_or_default(),
            username: identity.preferred_username.unwrap_or_default(),
        },
        client_id: config.client_id.clone(),
        implicit_flow: implicit,
    };
    let session = Session::new(tokens, &stored, browser::now());
    storage::save_session(&session.stored);
    // A silent sign-in that brought a session lasting past the loop guard cannot start a loop:
    // the next reload may sign in silently again.
    if silent && session.renew_in(browser::now()).is_some_and(|seconds| seconds >= session::SILENT_RETRY_AFTER) {
        storage::forget_silent_attempt();
    }
    Ok((session, return_to))
}

/// The implicit flow's ID token came through the address bar: its RS256 signature must be the
/// tenant's (OIDC Core §3.2.2.11), checked with the keys Entra publishes.
async fn check_signature(
    config: &RuntimeConfig,
    id_token: &channels_protocol::secret::IdToken,
) -> Result<(), SignInError> {
    let refused = SignInError::IdToken;
    let parts = signed_parts(id_token).map_err(refused)?;
    let keys = keys(&config.keys_endpoint()).await.map_err(|why| refused(IdTokenError::KeysUnavailable(why)))?;
    let key = signing_key(&keys, &parts.kid).map_err(refused)?;
    match browser::signature::verifies(key, &parts).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(refused(IdTokenError::Signature)),
        Err(why) => Err(refused(IdTokenError::KeysUnavailable(format!("Web Crypto could not use the key: {why}")))),
    }
}

/// Renews the access token with the stored refresh token (at start-up and before expiry). The
/// rotated refresh token replaces the old one in storage. When Entra refuses, the stored session
/// is dropped, so a reload cannot loop on a dead refresh token; when it could not be asked (no
/// answer, a network error) or is out of order for a moment, the session is kept for another
/// try. When Entra rejects the refresh token (its 24 hours are over) the tab leaves for a silent sign-in for the same account, at
/// most once per [`session::SILENT_RETRY_AFTER`]; after that, or when the session does not know
/// its account's ids, the user is asked to sign in.
///
/// A session of the implicit flow has no refresh token: it is renewed by a top-level silent
/// sign-in (no hidden iframe, which blocked third-party cookies would break), with the same
/// guard against loops.
pub async fn renew(config: &RuntimeConfig, stored: &StoredSession) -> Result<Outcome, SignInError> {
    let Some(refresh_token) = stored.refresh_token.as_ref() else {
        storage::forget_session();
        let account = Some(stored.account.clone());
        let silent_possible = stored.implicit_flow && stored.account.is_identified();
        if session::recovery(silent_possible, storage::last_silent_attempt(), browser::now()) == Recovery::Silent {
            begin(config, Prompt::None(stored.account.clone()));
            return Ok(Outcome::LeftForEntra);
        }
        return Err(SignInError::SessionEnded { answer: None, account, implicit: stored.implicit_flow });
    };
    let scope = format!("{OIDC_SCOPES} {}", config.api_scope);
    let form = TokenRequestBody::refresh_token(&config.client_id, refresh_token, &scope);
    match redeem(&config.token_endpoint(), &form).await.map_err(SignInError::from) {
        Ok(tokens) => {
            let session = Session::new(tokens, stored, browser::now());
            storage::save_session(&session.stored);
            Ok(Outcome::SignedIn(session))
        }
        // Entra did not refuse the refresh token: it may still be good, so it is kept.
        Err(error) if !refused_by_entra(&error) => Err(SignInError::RenewalInterrupted(Box::new(error))),
        Err(error) => {
            storage::forget_session();
            let rejected = matches!(&error, SignInError::Provider(answer) if answer.error == "invalid_grant");
            let silent_possible = rejected && stored.account.is_identified();
            match session::recovery(silent_possible, storage::last_silent_attempt(), browser::now()) {
                Recovery::Silent => {
                    begin(config, Prompt::None(stored.account.clone()));
                    Ok(Outcome::LeftForEntra)
                }
                Recovery::Interactive if rejected => match error {
                    SignInError::Provider(answer) => Err(SignInError::SessionEnded {
                        answer: Some(answer),
                        account: Some(stored.account.clone()),
                        implicit: false,
                    }),
                    other => Err(other),
                },
                Recovery::Interactive => Err(error),
            }
        }
    }
}

/// Whether Entra itself refused a token request, rather than being out of reach or out of
/// order for a moment (`temporarily_unavailable`, `server_error`: RFC 6749 §5.2 and §4.1.2.1).
fn refused_by_entra(error: &SignInError) -> bool {
    matches!(error, SignInError::Provider(answer)
        if answer.error != "temporarily_unavailable" && answer.error != "server_error")
}

/// Signs out: forgets this tab's session and tells this origin's other tabs, then ends the
/// Entra session and comes back to the registered redirect URI (Entra accepts only registered
/// URIs after sign-out).
pub fn sign_out(config: &RuntimeConfig) {
    storage::clear();
    browser::broadcast_sign_out();
    location::navigate(&config.logout_url(&format!("{}{CALLBACK_PATH}", location::origin())));
}
