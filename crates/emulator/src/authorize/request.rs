//! The authorize request's checks, in Entra's order: tenant, client, redirect URI (errors
//! until then are shown on the emulator's page, as Entra never redirects to an untrusted URI),
//! then response type and mode, PKCE and scopes (errors from then on go back to the app).
//! A request that passes is a [`Checked`]; everything after takes only that.

use axum::response::Response;
use channels_protocol::pkce::ChallengeMethod;
use serde::Deserialize;

use super::scopes::{requested_scopes, Requested};
use crate::directory::{AppRegistration, Platform, Tenant, User};
use crate::error::{AadError, ResponseMode};
use crate::state::Emulator;
use crate::tenant_path::TenantPath;

/// The authorize request's parameters.
#[derive(Default, Deserialize)]
pub struct AuthorizeParams {
    pub(crate) client_id: Option<String>,
    pub(crate) response_type: Option<String>,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) response_mode: Option<String>,
    pub(crate) scope: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) code_challenge: Option<String>,
    pub(crate) code_challenge_method: Option<String>,
    pub(crate) prompt: Option<String>,
    pub(crate) login_hint: Option<String>,
    pub(crate) domain_hint: Option<String>,
    /// A claims request (JSON): client capabilities, authentication contexts (`acrs`).
    pub(crate) claims: Option<String>,
}

/// What `/authorize` answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// An authorization code (`response_type=code`).
    Code,
    /// The implicit grant: an ID token, an access token, or both (`id_token token`).
    Implicit {
        /// `id_token` was asked.
        id_token: bool,
        /// `token` (an access token) was asked.
        token: bool,
    },
}

/// A request that passed every check.
pub struct Checked<'a> {
    /// The `{tenant}` segment, resolved.
    pub path: TenantPath<'a>,
    /// The client, as seen from that path.
    pub client: &'a AppRegistration,
    /// The redirect URI, one the client registered.
    pub redirect_uri: String,
    /// The platform it is registered under (decides how its code is redeemed).
    pub platform: Platform,
    /// What to answer with.
    pub answer: Answer,
    /// How the answer goes back: in the query, the fragment, or a posted form.
    pub mode: ResponseMode,
    /// The resource scopes; the token is for the first one's resource.
    pub requested: Vec<Requested>,
    /// The OpenID scopes asked (they go into a Graph token when nothing else is asked).
    pub oidc: Vec<String>,
    /// The PKCE challenge and method, when the request had one.
    pub challenge: Option<(String, ChallengeMethod)>,
}

impl Checked<'_> {
    /// Whether the OpenID scope `scope` was asked.
    pub fn has(&self, scope: &str) -> bool {
        self.oidc.iter().any(|s| s == scope)
    }

    /// Sends `error` back to the app in the request's response mode.
    pub fn back(&self, error: AadError, state: Option<&str>) -> Response {
        error.into_redirect(&self.redirect_uri, state, self.mode)
    }
}

/// Checks a request; `Err` is the response to send (an error page or an error redirect).
#[allow(clippy::result_large_err)] // the error is the response itself, built once per request
pub fn check<'a>(emulator: &'a Emulator, tenant: &str, params: &AuthorizeParams) -> Result<Checked<'a>, Response> {
    let path = emulator.tenant_path(tenant).map_err(AadError::into_page)?;
    let client_id = params.client_id.as_deref().ok_or_else(|| AadError::missing("client_id").into_page())?;
    let client = emulator.client(path, client_id).map_err(AadError::into_page)?;
    let redirect_uri = params.redirect_uri.as_deref().ok_or_else(|| AadError::missing("redirect_uri").into_page())?;
    if client.redirect_uris.is_empty() {
        return Err(
            AadError::new("invalid_request", 500113, "No reply address is registered for the application.").into_page()
        );
    }
    let platform = client.redirect_uri(redirect_uri).ok_or_else(|| {
        AadError::new(
            "invalid_request",
            50011,
            format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.",
                client.app_id
            ),
        )
        .into_page()
    })?;
    // From here on the redirect URI is trusted: errors go back to the app.
    let state = params.state.as_deref();
    let mode = match params.response_mode.as_deref() {
        None => None,
        Some("query") => Some(ResponseMode::Query),
        Some("fragment") => Some(ResponseMode::Fragment),
        Some("form_post") => Some(ResponseMode::FormPost),
        Some(other) => {
            return Err(AadError::new(
                "invalid_request",
                900144,
                format!(
                    "response_mode '{other}' is not supported by the emulator; use 'query', 'fragment' or 'form_post'."
                ),
            )
            .into_redirect(redirect_uri, state, ResponseMode::Query))
        }
    };
    let response_type = params.response_type.as_deref().unwrap_or_default();
    let kinds: Vec<&str> = response_type.split(' ').filter(|kind| !kind.is_empty()).collect();
    let answer = match kinds.as_slice() {
        ["code"] => Answer::Code,
        kinds if !kinds.is_empty() && kinds.iter().all(|kind| matches!(*kind, "id_token" | "token")) => {
            Answer::Implicit { id_token: kinds.contains(&"id_token"), token: kinds.contains(&"token") }
        }
        _ => Answer::Code, // refused below, once the response mode is known
    };
    // Tokens go in the fragment by default, as Entra sends them; never in the query.
    let mode = mode.unwrap_or(match answer {
        Answer::Implicit { .. } => ResponseMode::Fragment,
        Answer::Code => ResponseMode::Query,
    });
    let back = |error: AadError| error.into_redirect(redirect_uri, state, mode);
    match (answer, kinds.as_slice()) {
        (_, []) => return Err(back(AadError::missing("response_type"))),
        (Answer::Code, ["code"]) => {}
        (Answer::Code, _) => {
            return Err(back(AadError::new(
                "unsupported_response_type",
                900144,
                format!("The provided value for the input parameter 'response_type' is not allowed for this request. Expected value: 'code', or with the implicit grant 'id_token', 'token' or 'id_token token' (found '{response_type}'; hybrid flows are not emulated)."),
            )))
        }
        (Answer::Implicit { id_token, token }, _) => {
            // The registration's Implicit grant and hybrid flows switches, as Entra reads them.
            if id_token && !client.implicit_grant.id_tokens {
                return Err(back(AadError::new(
                    "unsupported_response_type",
                    700054,
                    "response_type 'id_token' is not enabled for the application.",
                )));
            }
            if token && !client.implicit_grant.access_tokens {
                return Err(back(AadError::new(
                    "unsupported_response_type",
                    700051,
                    "response_type 'token' is not enabled for the application.",
                )));
            }
            if mode == ResponseMode::Query {
                return Err(back(AadError::new(
                    "invalid_request",
                    900144,
                    "The response_mode 'query' is not allowed when the response_type asks for tokens: use 'fragment'.",
                )));
            }
            if id_token && params.nonce.is_none() {
                return Err(back(AadError::missing("nonce")));
            }
        }
    }
    let challenge = match &params.code_challenge {
        None => None,
        Some(challenge) => match ChallengeMethod::parse(params.code_challenge_method.as_deref()) {
            Some(method) => Some((challenge.clone(), method)),
            None => {
                return Err(back(AadError::new(
                    "invalid_request",
                    5000000,
                    "Invalid code_challenge_method: expected 'S256' or 'plain'.",
                )))
            }
        },
    };
    let scope = params.scope.as_deref().ok_or_else(|| back(AadError::missing("scope")))?;
    // How Entra names the tenant in its messages: the one in the path, by display name.
    let tenant_name = match path {
        TenantPath::Tenant(tenant) => tenant.display_name.as_str(),
        TenantPath::Any => tenant,
    };
    let (requested, oidc) = requested_scopes(emulator.directory(), tenant_name, client, scope).map_err(back)?;
    Ok(Checked {
        path,
        client,
        redirect_uri: redirect_uri.to_owned(),
        platform,
        answer,
        mode,
        requested,
        oidc,
        challenge,
    })
}

/// The users the picker offers: the tenant's, or at `common` every tenant's (narrowed by
/// `domain_hint`); the `login_hint` user first.
pub fn candidates<'a>(
    emulator: &'a Emulator,
    checked: &Checked<'a>,
    params: &AuthorizeParams,
) -> Vec<(&'a Tenant, &'a User)> {
    let tenants: Vec<&Tenant> = match checked.path {
        TenantPath::Tenant(tenant) => vec![tenant],
        TenantPath::Any => emulator
            .directory()
            .tenants
            .iter()
            .filter(|tenant| params.domain_hint.as_deref().is_none_or(|hint| tenant.is_named(hint)))
            .collect(),
    };
    let mut users: Vec<(&Tenant, &User)> =
        tenants.into_iter().flat_map(|tenant| tenant.users.iter().map(move |user| (tenant, user))).collect();
    if let Some(hint) = &params.login_hint {
        users.sort_by_key(|(_, user)| !user.upn.eq_ignore_ascii_case(hint));
    }
    users
}
