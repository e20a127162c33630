//! `/{tenant}/oauth2/v2.0/authorize`: checks the request in Entra's order, shows a sign-in
//! page (a plain form that works without JavaScript), and redirects back with a code.
//!
//! Errors before the redirect URI is trusted (tenant, client, redirect URI) are shown on the
//! emulator's own page, as Entra does; later ones are redirected to the app.

use std::sync::Arc;

use axum::extract::{Path, Query, RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use channels_protocol::pkce::ChallengeMethod;
use rand::RngCore;
use serde::Deserialize;

use crate::directory::{AppRegistration, Platform};
use crate::error::{found, with_params, AadError};
use crate::html::escape;
use crate::Emulator;

/// Codes live about 10 minutes, as in Entra.
pub const CODE_LIFETIME: u64 = 600;

/// Scopes that ask for OpenID Connect rather than for a resource.
const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The authorize request's parameters.
#[derive(Default, Deserialize)]
pub struct AuthorizeParams {
    client_id: Option<String>,
    response_type: Option<String>,
    redirect_uri: Option<String>,
    response_mode: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    prompt: Option<String>,
}

/// What a code stands for, kept until it is redeemed or expires.
#[derive(Clone)]
pub struct CodeGrant {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI it was issued for; redemption must repeat it.
    pub redirect_uri: String,
    /// The platform of that redirect URI.
    pub platform: Platform,
    /// The PKCE challenge and method, when the request had one.
    pub challenge: Option<(String, ChallengeMethod)>,
    /// The signed-in user.
    pub user_oid: String,
    /// The API scopes granted (bare names, as in `scp`).
    pub api_scopes: Vec<String>,
    /// Whether `openid` was asked (an ID token is due).
    pub openid: bool,
    /// Whether `offline_access` was asked (a refresh token is due).
    pub offline_access: bool,
    /// The nonce for the ID token.
    pub nonce: Option<String>,
    /// When the code was issued.
    pub issued_at: u64,
    /// Set on first redemption; a second one is AADSTS54005.
    pub redeemed: bool,
}

/// A request that passed every check.
struct Checked<'a> {
    app: &'a AppRegistration,
    redirect_uri: String,
    platform: Platform,
    fragment: bool,
    api_scopes: Vec<String>,
    openid: bool,
    offline_access: bool,
    challenge: Option<(String, ChallengeMethod)>,
}

/// Checks a request; `Err` is the response to send (an error page or an error redirect).
fn check<'a>(emulator: &'a Emulator, tenant: &str, params: &AuthorizeParams) -> Result<Checked<'a>, Response> {
    emulator.check_tenant(tenant).map_err(AadError::into_page)?;
    let client_id = params.client_id.as_deref().ok_or_else(|| AadError::missing("client_id").into_page())?;
    let app = emulator.app(client_id).map_err(AadError::into_page)?;
    let redirect_uri = params.redirect_uri.as_deref().ok_or_else(|| AadError::missing("redirect_uri").into_page())?;
    let platform = app.redirect_uri(redirect_uri).ok_or_else(|| {
        AadError::new(
            "invalid_request",
            50011,
            format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{}'.",
                app.app_id
            ),
        )
        .into_page()
    })?;
    // From here on the redirect URI is trusted: errors go back to the app.
    let fragment = match params.response_mode.as_deref() {
        None | Some("query") => false,
        Some("fragment") => true,
        Some(other) => {
            return Err(AadError::new(
                "invalid_request",
                900144,
                format!("response_mode '{other}' is not supported by the emulator; use 'query' or 'fragment'."),
            )
            .into_redirect(redirect_uri, params.state.as_deref(), false))
        }
    };
    let back = |error: AadError| error.into_redirect(redirect_uri, params.state.as_deref(), fragment);
    match params.response_type.as_deref() {
        Some("code") => {}
        Some(other) if other.split(' ').any(|t| t == "id_token" || t == "token") => {
            return Err(back(AadError::new(
                "unsupported_response_type",
                700054,
                "response_type 'id_token' is not enabled for the application.",
            )))
        }
        Some(_) => {
            return Err(back(AadError::new(
                "unsupported_response_type",
                900144,
                "The provided value for the input parameter 'response_type' is not allowed for this request. Expected value: 'code'.",
            )))
        }
        None => return Err(back(AadError::missing("response_type"))),
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
    let mut api_scopes = Vec::new();
    for requested in scope.split(' ').filter(|s| !s.is_empty()) {
        if OIDC_SCOPES.contains(&requested) {
            continue;
        }
        match app.exposed_scope(requested) {
            Some(name) => api_scopes.push(name.to_owned()),
            None => {
                let resource = requested.rsplit_once('/').map_or("https://graph.microsoft.com", |(r, _)| r);
                return Err(back(AadError::new(
                    "invalid_resource",
                    500011,
                    format!("The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", emulator.tenant().id),
                )));
            }
        }
    }
    if api_scopes.is_empty() {
        return Err(back(AadError::new(
            "invalid_scope",
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid: expected the API scope {}/{} beside the OpenID scopes.",
                app.identifier_uris.first().map_or(app.app_id.as_str(), String::as_str),
                app.scopes.first().map_or("", String::as_str)
            ),
        )));
    }
    let has = |name| scope.split(' ').any(|s| s == name);
    Ok(Checked {
        app,
        redirect_uri: redirect_uri.to_owned(),
        platform,
        fragment,
        api_scopes,
        openid: has("openid"),
        offline_access: has("offline_access"),
        challenge,
    })
}

/// [`check`], then `prompt=none`: it needs an Entra session, and the emulator keeps none, so it
/// is always AADSTS50058. Both the page and the form post go through this.
fn check_interactive<'a>(
    emulator: &'a Emulator,
    tenant: &str,
    params: &AuthorizeParams,
) -> Result<Checked<'a>, Response> {
    let checked = check(emulator, tenant, params)?;
    if params.prompt.as_deref() == Some("none") {
        return Err(AadError::new(
            "login_required",
            50058,
            "A silent sign-in request was sent but no user is signed in.",
        )
        .into_redirect(&checked.redirect_uri, params.state.as_deref(), checked.fragment));
    }
    Ok(checked)
}

/// `GET …/authorize`: the sign-in page, listing the tenant's users.
pub async fn show(
    State(emulator): State<Arc<Emulator>>,
    Path(tenant): Path<String>,
    RawQuery(raw): RawQuery,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    let checked = match check_interactive(&emulator, &tenant, &params) {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let action = format!("/{}/oauth2/v2.0/authorize?{}", emulator.tenant().id, raw.unwrap_or_default());
    let users: String = emulator
        .tenant()
        .users
        .iter()
        .map(|user| {
            format!(
                "<button type=\"submit\" name=\"username\" value=\"{upn}\">{name} <small>{upn}</small></button>",
                upn = escape(&user.upn),
                name = escape(&user.name)
            )
        })
        .collect();
    let body = format!(
        "<h1>Pick an account</h1><p>to continue to <strong>{}</strong></p>\
         <form method=\"post\" action=\"{}\">{users}</form>",
        escape(&checked.app.display_name),
        escape(&action)
    );
    Html(crate::html::page("Sign in to your account", &body)).into_response()
}

/// The sign-in form's field.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    username: String,
}

/// `POST …/authorize`: the user picked an account; the request is checked again and a code
/// is sent to the redirect URI.
pub async fn sign_in(
    State(emulator): State<Arc<Emulator>>,
    Path(tenant): Path<String>,
    Query(params): Query<AuthorizeParams>,
    Form(form): Form<SignInForm>,
) -> Response {
    let checked = match check_interactive(&emulator, &tenant, &params) {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let Some(user) = emulator.tenant().user_by_upn(&form.username) else {
        return AadError::new(
            "invalid_request",
            50034,
            format!("The user account {} does not exist in the {} directory.", form.username, emulator.tenant().id),
        )
        .into_page();
    };
    let mut bytes = [0u8; 48];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let code = format!("1.A{}", URL_SAFE_NO_PAD.encode(bytes));
    let now = emulator.now();
    let grant = CodeGrant {
        client_id: checked.app.app_id.clone(),
        redirect_uri: checked.redirect_uri.clone(),
        platform: checked.platform,
        challenge: checked.challenge,
        user_oid: user.oid.clone(),
        api_scopes: checked.api_scopes,
        openid: checked.openid,
        offline_access: checked.offline_access,
        nonce: params.nonce.clone(),
        issued_at: now,
        redeemed: false,
    };
    {
        let mut codes = emulator.codes.lock().expect("code store lock");
        codes.retain(|_, grant| grant.issued_at + CODE_LIFETIME >= now);
        codes.insert(code.clone(), grant);
    }
    let mut response = form_urlencoded::Serializer::new(String::new());
    response.append_pair("code", &code);
    if let Some(state) = &params.state {
        response.append_pair("state", state);
    }
    response.append_pair("session_state", &uuid::Uuid::new_v4().to_string());
    found(&with_params(&checked.redirect_uri, &response.finish(), checked.fragment))
}
