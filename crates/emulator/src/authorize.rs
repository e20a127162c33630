//! `/{tenant}/oauth2/v2.0/authorize`: checks the request in Entra's order, signs the user in
//! (an account picker: a plain form that works without JavaScript), asks for consent when the
//! admin has not given it, and redirects back with a code, or, in the implicit grant, with the
//! tokens themselves in the fragment (only when the registration allows it, as in Entra).
//!
//! Errors before the redirect URI is trusted (tenant, client, redirect URI) and the user
//! assignment error of an interactive sign-in are shown on the emulator's own page, as Entra
//! does; the others are redirected to the app. A sign-in leaves an SSO session (a cookie), so
//! `prompt=none` succeeds while it lasts, as it does against Entra.

use std::sync::Arc;

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use channels_protocol::pkce::ChallengeMethod;
use serde::Deserialize;

use crate::directory::{AppRegistration, Platform, Tenant, User, GRAPH_APP_ID, GRAPH_RESOURCE, GRAPH_SCOPES};
use crate::error::{found, with_params, AadError};
use crate::html::escape;
use crate::mint::{Authorization, Resource};
use crate::session::SsoSession;
use crate::{Emulator, TenantPath};

/// Codes live about 10 minutes, as in Entra.
pub const CODE_LIFETIME: u64 = 600;

/// Scopes that ask for OpenID Connect rather than for a resource; they need no consent.
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
    login_hint: Option<String>,
    domain_hint: Option<String>,
    /// A claims request (JSON): client capabilities, authentication contexts (`acrs`).
    claims: Option<String>,
}

/// What a code stands for, kept until it is redeemed or expires.
#[derive(Clone)]
pub struct CodeGrant {
    /// The user, client, resource and scopes.
    pub authorization: Authorization,
    /// The redirect URI it was issued for; redemption must repeat it.
    pub redirect_uri: String,
    /// The platform of that redirect URI.
    pub platform: Platform,
    /// The PKCE challenge and method, when the request had one.
    pub challenge: Option<(String, ChallengeMethod)>,
    /// Whether `openid` was asked (an ID token is due).
    pub openid: bool,
    /// Whether `offline_access` was asked (a refresh token is due).
    pub offline_access: bool,
    /// The nonce for the ID token.
    pub nonce: Option<String>,
    /// The browser session it was issued in (the ID token's `sid`).
    pub sid: String,
    /// When the code was issued.
    pub issued_at: u64,
    /// Set on first redemption; a second one is AADSTS54005.
    pub redeemed: bool,
}

/// A user's consent to one delegated permission for one client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Consent {
    tenant_id: String,
    user_oid: String,
    client_id: String,
    resource_app_id: String,
    permission_id: String,
}

/// One requested delegated permission.
#[derive(Debug, Clone)]
struct Requested {
    resource: Resource,
    /// The resource's display name, for the consent page.
    resource_name: String,
    /// The resource's app id (Graph's for Graph).
    resource_app_id: String,
    permission_id: String,
    value: String,
}

/// What `/authorize` answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// An authorization code (`response_type=code`).
    Code,
    /// The implicit grant: an ID token, an access token, or both (`id_token token`).
    Implicit { id_token: bool, token: bool },
}

/// A request that passed every check.
struct Checked<'a> {
    path: TenantPath<'a>,
    client: &'a AppRegistration,
    redirect_uri: String,
    platform: Platform,
    answer: Answer,
    fragment: bool,
    /// The resource scopes; the token is for the first one's resource.
    requested: Vec<Requested>,
    /// The OpenID scopes asked (they go into a Graph token when nothing else is asked).
    oidc: Vec<String>,
    challenge: Option<(String, ChallengeMethod)>,
}

impl Checked<'_> {
    fn has(&self, scope: &str) -> bool {
        self.oidc.iter().any(|s| s == scope)
    }

    /// Sends `error` back to the app in the request's response mode.
    fn back(&self, error: AadError, state: Option<&str>) -> Response {
        error.into_redirect(&self.redirect_uri, state, self.fragment)
    }
}

/// Checks a request; `Err` is the response to send (an error page or an error redirect).
#[allow(clippy::result_large_err)] // the error is the response itself, built once per request
fn check<'a>(emulator: &'a Emulator, tenant: &str, params: &AuthorizeParams) -> Result<Checked<'a>, Response> {
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
        Some("query") => Some(false),
        Some("fragment") => Some(true),
        Some(other) => {
            return Err(AadError::new(
                "invalid_request",
                900144,
                format!("response_mode '{other}' is not supported by the emulator; use 'query' or 'fragment'."),
            )
            .into_redirect(redirect_uri, state, false))
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
    let fragment = mode.unwrap_or(matches!(answer, Answer::Implicit { .. }));
    let back = |error: AadError| error.into_redirect(redirect_uri, state, fragment);
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
            if mode == Some(false) {
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
    let mut requested = Vec::new();
    let mut oidc = Vec::new();
    for scope in scope.split(' ').filter(|s| !s.is_empty()) {
        if OIDC_SCOPES.contains(&scope) {
            oidc.push(scope.to_owned());
        } else {
            requested.extend(resolve_scope(emulator, tenant_name, client, scope).map_err(back)?);
        }
    }
    Ok(Checked {
        path,
        client,
        redirect_uri: redirect_uri.to_owned(),
        platform,
        answer,
        fragment,
        requested,
        oidc,
        challenge,
    })
}

/// The permissions one `scope` value asks for: `api://…/Name`, `<client id>/Name`,
/// `…/.default`, Graph's `User.Read` (bare or prefixed).
fn resolve_scope(
    emulator: &Emulator,
    tenant_name: &str,
    client: &AppRegistration,
    scope: &str,
) -> Result<Vec<Requested>, AadError> {
    let (resource, value) = scope.rsplit_once('/').unwrap_or((GRAPH_RESOURCE, scope));
    if value.is_empty() || resource.is_empty() {
        return Err(AadError::new(
            "invalid_scope",
            70011,
            format!("The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' ('{scope}') is not valid: expected <resource>/<scope name>, such as api://<client id>/UserProfile.ReadWrite."),
        ));
    }
    let is_graph = channels_protocol::cloud::Cloud::is_graph_audience(resource);
    let unknown_scope = |resource_id: &str| {
        AadError::new(
            "invalid_client",
            650053,
            format!("The application '{}' asked for scope '{value}' that doesn't exist on the resource '{resource_id}'. Contact the app vendor.", client.display_name),
        )
    };
    let graph = |(id, value): (&str, &str)| Requested {
        resource: Resource::Graph,
        resource_name: "Microsoft Graph".to_owned(),
        resource_app_id: GRAPH_APP_ID.to_owned(),
        permission_id: id.to_owned(),
        value: value.to_owned(),
    };
    if is_graph {
        if value == ".default" {
            return default_scopes(client, GRAPH_APP_ID, GRAPH_SCOPES.iter().map(|&(id, v)| graph((id, v))).collect());
        }
        let known = GRAPH_SCOPES
            .iter()
            .find(|(_, v)| v.eq_ignore_ascii_case(value))
            .ok_or_else(|| unknown_scope(GRAPH_APP_ID))?;
        return Ok(vec![graph(*known)]);
    }
    let api = emulator.directory().resource(resource).ok_or_else(|| {
        AadError::new(
            "invalid_resource",
            500011,
            format!("The resource principal named {resource} was not found in the tenant named {tenant_name}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."),
        )
    })?;
    if api.app_id == client.app_id && !resource.to_ascii_lowercase().contains(&client.app_id.to_ascii_lowercase()) {
        return Err(AadError::new(
            "invalid_request",
            90009,
            format!("Application '{}'({}) is requesting a token for itself. This scenario is supported only if resource is specified using the GUID based App Identifier.", client.app_id, client.display_name),
        ));
    }
    let permission = |scope: &crate::directory::ExposedScope| Requested {
        resource: Resource::Api { app_id: api.app_id.clone(), requested_as: resource.to_owned() },
        resource_name: api.display_name.clone(),
        resource_app_id: api.app_id.clone(),
        permission_id: scope.id.clone(),
        value: scope.value.clone(),
    };
    if value == ".default" {
        return default_scopes(client, &api.app_id, api.scopes.iter().map(permission).collect());
    }
    api.scope(value).map(|scope| vec![permission(scope)]).ok_or_else(|| unknown_scope(&api.app_id))
}

/// `.default`: the permissions of the resource that the client's registration lists.
fn default_scopes(
    client: &AppRegistration,
    resource_app_id: &str,
    all: Vec<Requested>,
) -> Result<Vec<Requested>, AadError> {
    let listed: Vec<Requested> =
        all.into_iter().filter(|p| client.requires(resource_app_id, &p.permission_id)).collect();
    if listed.is_empty() {
        return Err(AadError::new(
            "invalid_client",
            650057,
            format!("Invalid resource. The client has requested access to a resource which is not listed in the requested permissions in the client's application registration. Client app ID: {}({}). Resource value from request: {resource_app_id}.", client.app_id, client.display_name),
        ));
    }
    Ok(listed)
}

impl Emulator {
    fn consent_key(&self, tenant: &Tenant, user: &User, client: &AppRegistration, p: &Requested) -> Consent {
        Consent {
            tenant_id: tenant.id.clone(),
            user_oid: user.oid.clone(),
            client_id: client.app_id.clone(),
            resource_app_id: p.resource_app_id.clone(),
            permission_id: p.permission_id.clone(),
        }
    }

    /// Whether `permission` is consented for `client`: pre-authorized by the API, granted by
    /// the admin (listed in the client's API permissions), or accepted earlier by the user.
    fn is_consented(&self, tenant: &Tenant, user: &User, client: &AppRegistration, permission: &Requested) -> bool {
        let pre_authorized = self
            .directory()
            .resource(&permission.resource_app_id)
            .is_some_and(|api| api.pre_authorizes(&client.app_id, &permission.permission_id));
        let admin = tenant.enterprise_app(&client.app_id).admin_consent
            && client.requires(&permission.resource_app_id, &permission.permission_id);
        pre_authorized
            || admin
            || self.consents.lock().expect("consent lock").contains(&self.consent_key(tenant, user, client, permission))
    }
}

/// How the user took part.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Interaction<'f> {
    /// `prompt=none` or SSO: no page may be shown. `mfa`: the session's sign-in did MFA; `sid`:
    /// that session's id.
    Silent { mfa: bool, sid: &'f str },
    /// The user picked an account, approved the MFA prompt if one was shown (`mfa`), and
    /// answered the consent page if one was shown; `sid`: the session this sign-in opens.
    Interactive { consent: Option<&'f str>, mfa: bool, sid: &'f str },
}

impl Interaction<'_> {
    fn mfa(self) -> bool {
        match self {
            Self::Silent { mfa, .. } | Self::Interactive { mfa, .. } => mfa,
        }
    }

    /// The browser session the code is issued in: the ID token's `sid`, the answer's
    /// `session_state`, and what a front-channel logout names.
    fn sid(self) -> String {
        match self {
            Self::Silent { sid, .. } | Self::Interactive { sid, .. } => sid.to_owned(),
        }
    }

    /// Entra's own page for an interactive sign-in, the app's redirect URI for a silent one.
    fn refuse(self, checked: &Checked<'_>, error: AadError, state: Option<&str>) -> Response {
        match self {
            Self::Silent { .. } => checked.back(error, state),
            Self::Interactive { .. } => error.into_page(),
        }
    }
}

/// Issues a code for `user`, after assignment and consent; or shows the consent page.
fn complete(
    emulator: &Emulator,
    checked: &Checked<'_>,
    params: &AuthorizeParams,
    raw_query: &str,
    tenant: &Tenant,
    user: &User,
    interaction: Interaction<'_>,
) -> Response {
    let state = params.state.as_deref();
    let client = checked.client;
    if !tenant.is_assigned(&client.app_id, user) {
        let error = AadError::new(
            "access_denied",
            50105,
            format!("Your administrator has configured the application {} ('{}') to block users unless they are specifically granted ('assigned') access to the application. The signed in user '{}' is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator. Please contact your administrator to assign access to this application.", client.display_name, client.app_id, user.upn),
        );
        return interaction.refuse(checked, error, state);
    }
    // Conditional Access, as the tenant's admin set it for this app.
    let policy = tenant.enterprise_app(&client.app_id);
    if policy.conditional_access_block {
        let error = AadError::new(
            "access_denied",
            53003,
            "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        );
        return interaction.refuse(checked, error, state);
    }
    // Authentication contexts asked for: those a policy protects with MFA need it; the others
    // are granted as they are (Entra adds an unprotected context to `acrs` too).
    let acrs = params.claims.as_deref().map(channels_protocol::step_up::requested_contexts).unwrap_or_default();
    let context_needs_mfa = acrs.iter().any(|context| policy.auth_contexts_requiring_mfa.contains(context));
    if (policy.mfa_required || context_needs_mfa) && !interaction.mfa() {
        return match interaction {
            Interaction::Silent { .. } => checked.back(
                AadError::new(
                    "interaction_required",
                    50076,
                    format!("Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{}'.", client.app_id),
                ),
                state,
            ),
            Interaction::Interactive { consent, .. } => mfa_page(checked, raw_query, user, consent),
        };
    }
    let forced = params.prompt.as_deref() == Some("consent");
    let missing: Vec<&Requested> =
        checked.requested.iter().filter(|p| forced || !emulator.is_consented(tenant, user, client, p)).collect();
    match interaction {
        Interaction::Interactive { consent: Some("decline"), .. } => {
            let error = AadError::new("access_denied", 65004, "User declined to consent to access the app.");
            return checked.back(error.with_subcode("cancel"), state);
        }
        Interaction::Interactive { consent: Some("accept"), .. } => {
            let mut consents = emulator.consents.lock().expect("consent lock");
            consents.extend(missing.iter().map(|p| emulator.consent_key(tenant, user, client, p)));
        }
        Interaction::Interactive { mfa, .. } if !missing.is_empty() => {
            return consent_page(checked, raw_query, user, &missing, mfa);
        }
        Interaction::Silent { .. } if !missing.is_empty() => {
            return checked.back(
                AadError::new(
                    "consent_required",
                    65001,
                    format!("The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.", client.app_id, client.display_name),
                ),
                state,
            );
        }
        _ => {}
    }
    let resource = checked.requested.first().map_or(Resource::Graph, |p| p.resource.clone());
    let scopes: Vec<String> = if checked.requested.is_empty() {
        checked.oidc.iter().filter(|s| *s != "offline_access").cloned().collect()
    } else {
        checked.requested.iter().filter(|p| p.resource == resource).map(|p| p.value.clone()).collect()
    };
    let authorization = Authorization {
        tenant_id: tenant.id.clone(),
        client_id: client.app_id.clone(),
        user_oid: user.oid.clone(),
        resource,
        scopes,
        acrs,
        implicit: matches!(checked.answer, Answer::Implicit { .. }),
    };
    let mut response = form_urlencoded::Serializer::new(String::new());
    match checked.answer {
        Answer::Code => {
            let code = format!("1.A{}", crate::token::random_text(48));
            let now = emulator.now();
            let grant = CodeGrant {
                authorization,
                redirect_uri: checked.redirect_uri.clone(),
                platform: checked.platform,
                challenge: checked.challenge.clone(),
                openid: checked.has("openid"),
                offline_access: checked.has("offline_access"),
                nonce: params.nonce.clone(),
                sid: interaction.sid(),
                issued_at: now,
                redeemed: false,
            };
            {
                let mut codes = emulator.codes.lock().expect("code store lock");
                codes.retain(|_, grant| grant.issued_at + CODE_LIFETIME >= now);
                codes.insert(code.clone(), grant);
            }
            response.append_pair("code", &code);
        }
        // The implicit grant: the tokens themselves, no refresh token (`offline_access` is
        // ignored); the ID token's `at_hash` binds it to the access token.
        Answer::Implicit { id_token, token } => {
            let now = emulator.now();
            let access = token.then(|| emulator.access_token(&authorization, now));
            if let Some(access) = &access {
                response
                    .append_pair("access_token", &access.token)
                    .append_pair("token_type", "Bearer")
                    .append_pair("expires_in", &(access.expires_at - now).to_string())
                    .append_pair("scope", &access.scope);
            }
            if id_token {
                let at_hash = access.as_ref().map(|access| {
                    channels_protocol::token::access_token_hash(&channels_protocol::secret::AccessToken::new(
                        access.token.clone(),
                    ))
                });
                let sid = interaction.sid();
                let signed = emulator.id_token(tenant, client, user, params.nonce.as_deref(), Some(&sid), at_hash, now);
                response.append_pair("id_token", &signed);
            }
        }
    }
    if let Some(state) = state {
        response.append_pair("state", state);
    }
    response.append_pair("session_state", &interaction.sid());
    found(&with_params(&checked.redirect_uri, &response.finish(), checked.fragment))
}

/// The users the picker offers: the tenant's, or at `common` every tenant's (narrowed by
/// `domain_hint`); the `login_hint` user first.
fn candidates<'a>(
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

/// `GET …/authorize`: SSO when `prompt=none` (or a `login_hint` naming the session's user),
/// else the account picker.
pub async fn show(
    State(emulator): State<Arc<Emulator>>,
    Path(tenant): Path<String>,
    RawQuery(raw): RawQuery,
    Query(params): Query<AuthorizeParams>,
    headers: HeaderMap,
) -> Response {
    let checked = match check(&emulator, &tenant, &params) {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let raw = raw.unwrap_or_default();
    let session = SsoSession::from_headers(&emulator, &headers).and_then(|session| {
        let (tenant, user) =
            candidates(&emulator, &checked, &params).into_iter().find(|(_, u)| u.oid == session.user_oid)?;
        Some((tenant, user, session.mfa, session.sid))
    });
    let prompt = params.prompt.as_deref();
    let hinted = |user: &User| params.login_hint.as_deref().is_some_and(|hint| user.upn.eq_ignore_ascii_case(hint));
    match (prompt, session) {
        (Some("none"), None) => checked.back(
            AadError::new("login_required", 50058, "A silent sign-in request was sent but no user is signed in."),
            params.state.as_deref(),
        ),
        // The session belongs to someone else than the hinted user: Entra would ask who.
        (Some("none"), Some((_, user, _, _))) if params.login_hint.is_some() && !hinted(user) => checked.back(
            AadError::new(
                "interaction_required",
                16000,
                "Either multiple user identities are available for the current request or selected account is not supported for the scenario.",
            ),
            params.state.as_deref(),
        ),
        (Some("none"), Some((tenant, user, mfa, sid))) => {
            let interaction = Interaction::Silent { mfa, sid: &sid };
            let response = complete(&emulator, &checked, &params, &raw, tenant, user, interaction);
            SsoSession::join(&emulator, &headers, &checked.client.app_id, &response);
            response
        }
        // SSO for the hinted user, but an interactive request: pages (MFA, consent, errors) may show.
        (None, Some((tenant, user, mfa, sid))) if hinted(user) => {
            let interaction = Interaction::Interactive { consent: None, mfa, sid: &sid };
            let response = complete(&emulator, &checked, &params, &raw, tenant, user, interaction);
            SsoSession::join(&emulator, &headers, &checked.client.app_id, &response);
            response
        }
        _ => picker(&emulator, &checked, &params, &tenant, &raw),
    }
}

fn action(tenant_segment: &str, raw_query: &str) -> String {
    format!("/{tenant_segment}/oauth2/v2.0/authorize?{raw_query}")
}

fn picker(emulator: &Emulator, checked: &Checked<'_>, params: &AuthorizeParams, segment: &str, raw: &str) -> Response {
    let users: String = candidates(emulator, checked, params)
        .iter()
        .map(|(tenant, user)| {
            format!(
                "<button type=\"submit\" name=\"username\" value=\"{upn}\">{name} <small>{upn} · {tenant}</small></button>",
                upn = escape(&user.upn),
                name = escape(&user.name),
                tenant = escape(&tenant.display_name),
            )
        })
        .collect();
    let body = format!(
        "<h1>Pick an account</h1><p>to continue to <strong>{}</strong></p>\
         <form method=\"post\" action=\"{}\">{users}</form>",
        escape(&checked.client.display_name),
        escape(&action(segment, raw))
    );
    Html(crate::html::page("Sign in to your account", &body)).into_response()
}

/// The hidden field that carries an approved MFA prompt to the next form.
fn mfa_field(mfa: bool) -> &'static str {
    if mfa {
        "<input type=\"hidden\" name=\"mfa\" value=\"approved\">"
    } else {
        ""
    }
}

fn segment_of<'a>(checked: &'a Checked<'_>) -> &'a str {
    match checked.path {
        TenantPath::Tenant(tenant) => tenant.id.as_str(),
        TenantPath::Any => "common",
    }
}

/// The multi-factor prompt a Conditional Access policy asks for (approve on the "phone").
fn mfa_page(checked: &Checked<'_>, raw: &str, user: &User, consent: Option<&str>) -> Response {
    let consent = consent
        .map(|answer| format!("<input type=\"hidden\" name=\"consent\" value=\"{}\">", escape(answer)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Approve sign-in request</h1><p>Your organisation requires multi-factor authentication for \
         <strong>{app}</strong>. Approve the request on your device.</p><p><small>{upn}</small></p>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"username\" value=\"{upn}\">{consent}\
         <button type=\"submit\" name=\"mfa\" value=\"approved\">Approve</button></form>",
        app = escape(&checked.client.display_name),
        upn = escape(&user.upn),
        action = escape(&action(segment_of(checked), raw)),
    );
    Html(crate::html::page("Approve sign-in request", &body)).into_response()
}

fn consent_page(checked: &Checked<'_>, raw: &str, user: &User, missing: &[&Requested], mfa: bool) -> Response {
    let permissions: String = missing
        .iter()
        .map(|p| {
            format!("<li><strong>{}</strong> <small>({})</small></li>", escape(&p.value), escape(&p.resource_name))
        })
        .collect();
    let body = format!(
        "<h1>Permissions requested</h1><p><strong>{app}</strong> would like to:</p><ul>{permissions}</ul>\
         <p><small>Signed in as {upn}. Accepting lets this app use these permissions as described; \
         you can change it later.</small></p>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"username\" value=\"{upn}\">{mfa}\
         <button type=\"submit\" name=\"consent\" value=\"accept\">Accept</button>\
         <button type=\"submit\" name=\"consent\" value=\"decline\">Cancel</button></form>",
        app = escape(&checked.client.display_name),
        upn = escape(&user.upn),
        action = escape(&action(segment_of(checked), raw)),
        mfa = mfa_field(mfa),
    );
    Html(crate::html::page("Permissions requested", &body)).into_response()
}

/// The sign-in and consent forms' fields.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    username: String,
    consent: Option<String>,
    mfa: Option<String>,
}

/// `POST …/authorize`: the user picked an account (or answered the consent page); the
/// request is checked again, an SSO session starts, and a code is sent to the redirect URI.
pub async fn sign_in(
    State(emulator): State<Arc<Emulator>>,
    Path(tenant): Path<String>,
    RawQuery(raw): RawQuery,
    Query(params): Query<AuthorizeParams>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let checked = match check(&emulator, &tenant, &params) {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    if params.prompt.as_deref() == Some("none") {
        return checked.back(
            AadError::new("interaction_required", 50058, "prompt=none does not allow an interactive sign-in."),
            params.state.as_deref(),
        );
    }
    let Some((tenant, user)) = candidates(&emulator, &checked, &params)
        .into_iter()
        .find(|(_, user)| user.upn.eq_ignore_ascii_case(&form.username))
    else {
        let directory = match checked.path {
            TenantPath::Tenant(tenant) => tenant.id.clone(),
            TenantPath::Any => "any served tenant".to_owned(),
        };
        return AadError::new(
            "invalid_request",
            50034,
            format!("The user account {} does not exist in the {directory} directory. To sign into this application, the account must be added to the directory.", form.username),
        )
        .into_page();
    };
    let raw = raw.unwrap_or_default();
    // MFA done now, or earlier in this browser's session for the same user.
    let earlier = SsoSession::from_headers(&emulator, &headers).is_some_and(|s| s.mfa && s.user_oid == user.oid);
    let mfa = form.mfa.as_deref() == Some("approved") || earlier;
    let sid = uuid::Uuid::new_v4().to_string();
    let interaction = Interaction::Interactive { consent: form.consent.as_deref(), mfa, sid: &sid };
    let response = complete(&emulator, &checked, &params, &raw, tenant, user, interaction);
    SsoSession::start(&emulator, SsoSession::new(tenant, user, &checked.client.app_id, mfa, sid), response)
}
