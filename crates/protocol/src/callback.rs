//! Step 3 of the sign-in: Entra redirects back to `/sso` with a code or an error (in the
//! query), or, in the implicit flow, with the tokens themselves (in the fragment).
//!
//! [`parse`] reads the query or the fragment; the caller finds the [`PendingLogin`] saved under
//! the callback's `state`; [`complete`] consumes it, checks the state again and yields the
//! token request; [`complete_implicit`] does the same checks and yields the tokens, whose ID
//! token the caller then checks ([`crate::token::check_id_token`],
//! [`crate::token::check_access_token_hash`]) after verifying its signature.

use crate::authorize::{shown, Account, PendingLogin, ReturnPath};
use crate::provider_error::ProviderError;
use crate::secret::{constant_time_eq, AccessToken, AuthorizationCode, IdToken, Nonce};

/// An abandoned login older than this is refused (seconds). Long enough for a slow MFA prompt.
pub const PENDING_LOGIN_MAX_AGE: u64 = 60 * 60;

/// What Entra sent back to the redirect URI.
#[derive(Debug)]
pub enum Callback {
    /// Success: a one-time code and the state it belongs to.
    Code {
        /// The authorization code.
        code: AuthorizationCode,
        /// The `state` echoed by Entra.
        state: String,
    },
    /// Success in the implicit flow: the tokens themselves, and the state they belong to.
    Tokens {
        /// The access token, the ID token and the access token's lifetime.
        tokens: ImplicitTokens,
        /// The `state` echoed by Entra.
        state: String,
    },
    /// Entra refused, e.g. `access_denied` with AADSTS65004.
    Error {
        /// The parsed error.
        error: ProviderError,
        /// The `state` echoed by Entra, when present.
        state: Option<String>,
    },
}

impl Callback {
    /// The `state` to look the pending login up by.
    pub fn state(&self) -> Option<&str> {
        match self {
            Self::Code { state, .. } | Self::Tokens { state, .. } => Some(state),
            Self::Error { state, .. } => state.as_deref(),
        }
    }
}

/// What an implicit-grant response carries (`response_type=id_token token`). No refresh token:
/// the implicit grant has none.
#[derive(Debug)]
pub struct ImplicitTokens {
    /// The access token for the API.
    pub access_token: AccessToken,
    /// The ID token, whose `nonce` and `at_hash` bind it to this sign-in and that access token.
    pub id_token: IdToken,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// Why a callback cannot complete a sign-in.
#[derive(Debug)]
pub enum CallbackError {
    /// The query is neither a code nor an error.
    Malformed(String),
    /// Entra returned an error instead of a code.
    Provider(ProviderError),
    /// No login is pending under this state in this tab: forged, replayed (back button) or
    /// started in another tab.
    NoPendingLogin,
    /// The callback's state is not the pending login's.
    StateMismatch,
    /// The response is of the other flow than the one this tab started: tokens for a code-flow
    /// sign-in, or a code for an implicit one. Refused, never redeemed or adopted: a mix-up or
    /// an injected response.
    OtherFlow {
        /// What the sign-in this tab started expects.
        expected: &'static str,
        /// What came back.
        found: &'static str,
    },
    /// The pending login is older than [`PENDING_LOGIN_MAX_AGE`].
    Expired {
        /// Its age in seconds.
        age: u64,
    },
    /// A silent login that does not say whose session it restores: nothing to check the ID
    /// token against, so it is not redeemed.
    UnknownAccount {
        /// What the pending login held instead: no account, or which of its ids are missing.
        found: String,
    },
}

impl std::fmt::Display for CallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "The sign-in response is malformed: {what}."),
            Self::Provider(error) => write!(f, "{error}"),
            Self::NoPendingLogin => f.write_str(
                "This sign-in response does not belong to a sign-in started in this tab \
                 (it was already used, opened in another tab, or forged). Start again.",
            ),
            Self::StateMismatch => f.write_str(
                "The sign-in response carries a different state than the sign-in this tab started. Start again.",
            ),
            Self::OtherFlow { expected, found } => write!(
                f,
                "This sign-in response does not fit the sign-in this tab started: expected {expected} (found \
                 {found}). It was refused. Start again."
            ),
            Self::Expired { age } => write!(
                f,
                "This sign-in was started {age} s ago; expected at most {PENDING_LOGIN_MAX_AGE} s. Start again."
            ),
            Self::UnknownAccount { found } => write!(
                f,
                "This silent sign-in does not say whose session it restores (expected the account's tid and oid; \
                 found {found}), so its answer cannot be checked. Sign in again."
            ),
        }
    }
}

impl std::error::Error for CallbackError {}

/// Parses the query string of the callback URL (with or without the leading `?`), or its
/// fragment (without the `#`) in the implicit flow.
pub fn parse(query: &str) -> Result<Callback, CallbackError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let [mut code, mut state, mut error, mut description, mut access_token, mut id_token, mut expires_in] =
        [None, None, None, None, None, None, None];
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            "code" => &mut code,
            "state" => &mut state,
            "error" => &mut error,
            "error_description" => &mut description,
            "access_token" => &mut access_token,
            "id_token" => &mut id_token,
            "expires_in" => &mut expires_in,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(CallbackError::Malformed(format!("expected one `{key}` parameter (found several)")));
        }
    }
    let malformed = |what: &str| Err(CallbackError::Malformed(what.to_owned()));
    if let Some(error) = error {
        return Ok(Callback::Error { error: ProviderError::new(error, description.unwrap_or_default()), state });
    }
    let tokens = access_token.is_some() || id_token.is_some();
    match (code, tokens, state) {
        (Some(_), true, _) => malformed("expected a `code` or tokens (found both)"),
        (Some(code), false, Some(state)) => Ok(Callback::Code { code: AuthorizationCode::new(code), state }),
        (Some(_), false, None) => malformed("expected `state` with the `code` (found none)"),
        (None, true, None) => malformed("expected `state` with the tokens (found none)"),
        (None, true, Some(state)) => {
            let (access_token, id_token) = match (access_token, id_token) {
                (Some(access_token), Some(id_token)) => (access_token, id_token),
                (None, _) => return malformed("expected both `access_token` and `id_token` (found no `access_token`)"),
                (_, None) => return malformed("expected both `access_token` and `id_token` (found no `id_token`)"),
            };
            let Some(expires_in) = expires_in.as_deref().and_then(|seconds| seconds.parse().ok()) else {
                let found = expires_in.map_or("none".to_owned(), |seconds| format!("{seconds:?}"));
                return malformed(&format!("expected `expires_in` in whole seconds with the tokens (found {found})"));
            };
            let tokens = ImplicitTokens {
                access_token: AccessToken::new(access_token),
                id_token: IdToken::new(id_token),
                expires_in,
            };
            Ok(Callback::Tokens { tokens, state })
        }
        (None, false, _) => malformed("expected `code` or `error` (found neither)"),
    }
}

/// A checked callback: the token request to send, and what the ID token must match.
#[derive(Debug)]
pub struct CodeRedemption {
    /// The `application/x-www-form-urlencoded` body for the token endpoint.
    pub form: crate::token::TokenRequestBody,
    /// The nonce the ID token must carry.
    pub nonce: Nonce,
    /// Where to send the user afterwards.
    pub return_to: ReturnPath,
    /// The account a silent login restores, which the ID token must be; `None` after an
    /// interactive login, where whoever signs in is the account.
    pub account: Option<Account>,
}

/// An implicit-grant response that belongs to this tab's pending login: its tokens, and what
/// the ID token must match.
#[derive(Debug)]
pub struct ImplicitSignIn {
    /// The tokens.
    pub tokens: ImplicitTokens,
    /// The nonce the ID token must carry.
    pub nonce: Nonce,
    /// Where to send the user afterwards.
    pub return_to: ReturnPath,
    /// The account a silent login restores, which the ID token must be (as in [`CodeRedemption`]).
    pub account: Option<Account>,
}

/// The checks every response meets before anything in it is used: the state, the pending login's
/// age, and that a silent login knows whose session it restores.
fn check_pending(pending: &PendingLogin, state: &str, now: u64) -> Result<(), CallbackError> {
    if !constant_time_eq(state.as_bytes(), pending.state.secret().as_bytes()) {
        return Err(CallbackError::StateMismatch);
    }
    let age = now.saturating_sub(pending.started_at);
    if age > PENDING_LOGIN_MAX_AGE {
        return Err(CallbackError::Expired { age });
    }
    if pending.silent && !pending.account.as_ref().is_some_and(Account::is_identified) {
        let found = pending.account.as_ref().map_or("no account".to_owned(), |account| {
            format!("tid {}, oid {}", shown(&account.tid), shown(&account.oid))
        });
        return Err(CallbackError::UnknownAccount { found });
    }
    Ok(())
}

const A_CODE: &str = "an authorization code";
const TOKENS: &str = "tokens (the implicit flow)";

/// Consumes the pending login of the code flow with its callback. `now` is seconds since the
/// epoch.
pub fn complete(
    pending: PendingLogin,
    callback: Callback,
    client_id: &str,
    now: u64,
) -> Result<CodeRedemption, CallbackError> {
    let (code, state) = match callback {
        Callback::Code { code, state } => (code, state),
        Callback::Tokens { .. } => return Err(CallbackError::OtherFlow { expected: A_CODE, found: TOKENS }),
        Callback::Error { error, .. } => return Err(CallbackError::Provider(error)),
    };
    check_pending(&pending, &state, now)?;
    let verifier = pending.verifier.ok_or(CallbackError::OtherFlow { expected: TOKENS, found: A_CODE })?;
    Ok(CodeRedemption {
        form: crate::token::TokenRequestBody::authorization_code(client_id, &code, &pending.redirect_uri, verifier),
        nonce: pending.nonce,
        return_to: pending.return_to,
        account: pending.account,
    })
}

/// Consumes the pending login of the implicit flow with its callback: the same checks as
/// [`complete`], and the response must bring tokens to a login that asked for them.
pub fn complete_implicit(pending: PendingLogin, callback: Callback, now: u64) -> Result<ImplicitSignIn, CallbackError> {
    let (tokens, state) = match callback {
        Callback::Tokens { tokens, state } => (tokens, state),
        Callback::Code { .. } => return Err(CallbackError::OtherFlow { expected: TOKENS, found: A_CODE }),
        Callback::Error { error, .. } => return Err(CallbackError::Provider(error)),
    };
    check_pending(&pending, &state, now)?;
    if pending.verifier.is_some() {
        return Err(CallbackError::OtherFlow { expected: A_CODE, found: TOKENS });
    }
    Ok(ImplicitSignIn { tokens, nonce: pending.nonce, return_to: pending.return_to, account: pending.account })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::{start, LoginEntropy};
    use crate::wire::RuntimeConfig;

    /// A login started at 100 s, in the code flow or (`implicit_flow`) the implicit one.
    fn pending_in(implicit_flow: bool) -> PendingLogin {
        let config = RuntimeConfig {
            authority: "http://127.0.0.1:9400".into(),
            tenant_id: "t".into(),
            client_id: "c".into(),
            api_scope: "api://c/UserProfile.ReadWrite".into(),
            hints: Default::default(),
            implicit_flow,
            cloud: Default::default(),
        };
        let entropy = LoginEntropy { verifier: [3; 32], state: [4; 16], nonce: [5; 16] };
        start(&config, "http://localhost:8080/sso", ReturnPath::same_origin("/x"), &entropy, 100).pending
    }

    fn pending() -> PendingLogin {
        pending_in(false)
    }

    fn implicit_pending() -> PendingLogin {
        pending_in(true)
    }

    #[test]
    fn code_callback_completes_into_the_token_request() {
        let pending = pending();
        let state = pending.state.secret().to_owned();
        let verifier = pending.verifier.as_ref().unwrap().secret().to_owned();
        let callback = parse(&format!("?code=abc%2B1&state={state}&session_state=s")).unwrap();
        assert_eq!(callback.state(), Some(state.as_str()));
        let redemption = complete(pending, callback, "c", 160).unwrap();
        let form: Vec<(String, String)> =
            form_urlencoded::parse(redemption.form.as_str().as_bytes()).into_owned().collect();
        let expected = [
            ("client_id", "c"),
            ("grant_type", "authorization_code"),
            ("code", "abc+1"),
            ("redirect_uri", "http://localhost:8080/sso"),
            ("code_verifier", verifier.as_str()),
        ];
        let expected: Vec<(String, String)> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(form, expected);
        assert_eq!(redemption.return_to.as_str(), "/x");
    }

    #[test]
    fn wrong_state_is_refused() {
        let callback = parse("code=abc&state=forged").unwrap();
        assert!(matches!(complete(pending(), callback, "c", 100), Err(CallbackError::StateMismatch)));
    }

    #[test]
    fn a_login_is_kept_an_hour_to_the_second() {
        assert_eq!(PENDING_LOGIN_MAX_AGE, 60 * 60);
        let answered_at = |now: u64| {
            let pending = pending();
            let callback = parse(&format!("code=abc&state={}", pending.state.secret())).unwrap();
            complete(pending, callback, "c", now)
        };
        assert!(answered_at(100 + 3600).is_ok(), "an hour after it started");
        assert!(matches!(answered_at(100 + 3601), Err(CallbackError::Expired { age: 3601 })));
    }

    #[test]
    fn abandoned_login_is_refused() {
        let pending = pending();
        let callback = parse(&format!("code=abc&state={}", pending.state.secret())).unwrap();
        let result = complete(pending, callback, "c", 100 + PENDING_LOGIN_MAX_AGE + 1);
        assert!(matches!(result, Err(CallbackError::Expired { age }) if age == PENDING_LOGIN_MAX_AGE + 1));
    }

    #[test]
    fn a_silent_login_that_does_not_name_its_account_is_not_redeemed() {
        use crate::authorize::Account;
        let silent = |account: Option<Account>| {
            let pending = PendingLogin { silent: true, account, ..pending() };
            let callback = parse(&format!("code=abc&state={}", pending.state.secret())).unwrap();
            complete(pending, callback, "c", 100)
        };
        // Saved by an older version (no account), or for a session whose ID token had no oid.
        let refused = |account| silent(account).unwrap_err().to_string();
        assert!(refused(None).contains("(expected the account's tid and oid; found no account)"));
        let unidentified = Account { tid: "t".into(), oid: String::new(), username: "alice@contoso.example".into() };
        assert!(refused(Some(unidentified)).contains("(expected the account's tid and oid; found tid t, oid (none))"));
        let alice = Account { tid: "t".into(), oid: "o".into(), username: "alice@contoso.example".into() };
        assert_eq!(
            silent(Some(alice.clone())).unwrap().account,
            Some(alice),
            "the ID token will be checked against her"
        );
    }

    #[test]
    fn provider_error_is_parsed_with_its_aadsts_code() {
        let callback =
            parse("error=access_denied&error_description=AADSTS65004%3A+User+declined+to+consent.&state=s").unwrap();
        assert_eq!(callback.state(), Some("s"));
        let Err(CallbackError::Provider(error)) = complete(pending(), callback, "c", 100) else {
            panic!("expected a provider error");
        };
        assert_eq!(error.error, "access_denied");
        assert_eq!(error.aadsts, Some(65004));
    }

    #[test]
    fn malformed_callbacks_say_what_was_expected() {
        let cases = [
            ("", "expected `code` or `error` (found neither)"),
            ("code=a", "expected `state` with the `code` (found none)"),
            ("code=a&code=b&state=s", "expected one `code` parameter (found several)"),
            ("code=a&access_token=t&id_token=i&state=s", "expected a `code` or tokens (found both)"),
            ("access_token=t&id_token=i&expires_in=3600", "expected `state` with the tokens (found none)"),
            (
                "access_token=t&state=s&expires_in=3600",
                "expected both `access_token` and `id_token` (found no `id_token`)",
            ),
            (
                "id_token=i&state=s&expires_in=3600",
                "expected both `access_token` and `id_token` (found no `access_token`)",
            ),
            (
                "access_token=t&id_token=i&state=s&expires_in=soon",
                "expected `expires_in` in whole seconds with the tokens (found \"soon\")",
            ),
            (
                "access_token=t&id_token=i&state=s",
                "expected `expires_in` in whole seconds with the tokens (found none)",
            ),
        ];
        for (query, message) in cases {
            let Err(CallbackError::Malformed(found)) = parse(query) else { panic!("{query}") };
            assert_eq!(found, message);
        }
    }

    #[test]
    fn an_implicit_fragment_completes_with_its_tokens_and_the_checks_of_a_code() {
        let pending = implicit_pending();
        let state = pending.state.secret().to_owned();
        let fragment = format!(
            "access_token=at&token_type=Bearer&expires_in=3599&scope=x&id_token=it&state={state}&session_state=s"
        );
        let signed_in = complete_implicit(pending, parse(&fragment).unwrap(), 160).unwrap();
        assert_eq!(signed_in.tokens.access_token.secret(), "at");
        assert_eq!(signed_in.tokens.id_token.secret(), "it");
        assert_eq!(signed_in.tokens.expires_in, 3599);
        assert_eq!(signed_in.return_to.as_str(), "/x");
        // The state, the age and a silent login's account are checked as for a code.
        let forged = "access_token=at&id_token=it&expires_in=1&state=forged";
        assert!(matches!(
            complete_implicit(implicit_pending(), parse(forged).unwrap(), 160),
            Err(CallbackError::StateMismatch)
        ));
        let late = complete_implicit(implicit_pending(), parse(&fragment).unwrap(), 100 + PENDING_LOGIN_MAX_AGE + 1);
        assert!(matches!(late, Err(CallbackError::Expired { .. })));
        let silent = PendingLogin { silent: true, account: None, ..implicit_pending() };
        assert!(matches!(
            complete_implicit(silent, parse(&fragment).unwrap(), 160),
            Err(CallbackError::UnknownAccount { .. })
        ));
    }

    #[test]
    fn a_response_of_the_other_flow_is_refused_whichever_way() {
        // Tokens injected into a code-flow sign-in, with its own state: not adopted.
        let code_flow = pending();
        let injected = format!("access_token=at&id_token=it&expires_in=3600&state={}", code_flow.state.secret());
        let refused = complete(code_flow, parse(&injected).unwrap(), "c", 160).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "This sign-in response does not fit the sign-in this tab started: expected an authorization code (found \
             tokens (the implicit flow)). It was refused. Start again."
        );
        let code_flow = pending();
        let injected =
            parse(&format!("access_token=at&id_token=it&expires_in=3600&state={}", code_flow.state.secret()));
        assert!(matches!(
            complete_implicit(code_flow, injected.unwrap(), 160),
            Err(CallbackError::OtherFlow { expected: A_CODE, found: TOKENS })
        ));
        // A code brought to an implicit sign-in: nothing to redeem it with, and not asked for.
        let implicit = implicit_pending();
        let code = parse(&format!("code=abc&state={}", implicit.state.secret())).unwrap();
        assert!(matches!(complete(implicit, code, "c", 160), Err(CallbackError::OtherFlow { expected: TOKENS, .. })));
        let implicit = implicit_pending();
        let code = parse(&format!("code=abc&state={}", implicit.state.secret())).unwrap();
        assert!(matches!(complete_implicit(implicit, code, 160), Err(CallbackError::OtherFlow { found: A_CODE, .. })));
    }
}
