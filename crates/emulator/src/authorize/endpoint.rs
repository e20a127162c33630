//! The two handlers of `/{tenant}/oauth2/v2.0/authorize`: `GET` signs in silently from the SSO
//! session or shows the account picker; `POST` takes the picked account (or the MFA and
//! consent pages' answers). Each checks the request ([`super::request`]), asks the policy
//! ([`super::policy`]), and shows a page or issues ([`super::issue`]); an issue joins the
//! SSO session ([`crate::session`]) to the app it was issued to.

use std::sync::Arc;

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use super::issue::{issue, Issued};
use super::pages::{consent_page, mfa_page, picker};
use super::policy::{decide, Decision, Interaction};
use super::request::{candidates, check, AuthorizeParams, Checked};
use crate::directory::{Tenant, User};
use crate::error::AadError;
use crate::session::SsoSession;
use crate::state::Emulator;
use crate::tenant_path::TenantPath;

/// Issues to `user` what the request asks for, if the policy grants it; `Err` is the page or
/// the refusal to answer with instead.
#[allow(clippy::result_large_err)] // the error is the response itself, built once per request
fn complete(
    emulator: &Emulator,
    checked: &Checked<'_>,
    params: &AuthorizeParams,
    raw_query: &str,
    tenant: &Tenant,
    user: &User,
    interaction: Interaction<'_>,
) -> Result<Issued, Response> {
    let decision = decide(emulator.directory(), emulator.consents(), checked, params, tenant, user, interaction);
    match decision {
        Decision::Refuse(error) => Err(checked.back(error, params.state.as_deref())),
        Decision::RefuseOnPage(error) => Err(error.into_page()),
        Decision::AskMfa => Err(mfa_page(checked, raw_query, user, interaction.consent())),
        Decision::AskConsent(missing) => Err(consent_page(checked, raw_query, user, &missing, interaction.mfa())),
        Decision::Grant { accepted, acrs } => {
            emulator.consents().record(tenant, user, checked.client, &accepted);
            Ok(issue(emulator, checked, params, tenant, user, interaction.sid(), acrs))
        }
    }
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
    let state = params.state.as_deref();
    let session = emulator.sessions().of_request(&headers).and_then(|session| {
        let (tenant, user) =
            candidates(&emulator, &checked, &params).into_iter().find(|(_, u)| u.oid == session.user_oid)?;
        Some((tenant, user, session.mfa, session.sid))
    });
    let prompt = params.prompt.as_deref();
    let hinted = |user: &User| params.login_hint.as_deref().is_some_and(|hint| user.upn.eq_ignore_ascii_case(hint));
    let (tenant, user, interaction) = match (prompt, &session) {
        (Some("none"), None) => {
            let error =
                AadError::new("login_required", 50058, "A silent sign-in request was sent but no user is signed in.");
            return checked.back(error, state);
        }
        // The session belongs to someone else than the hinted user: Entra would ask who.
        (Some("none"), Some((_, user, _, _))) if params.login_hint.is_some() && !hinted(user) => {
            let error = AadError::new(
                "interaction_required",
                16000,
                "Either multiple user identities are available for the current request or selected account is not supported for the scenario.",
            );
            return checked.back(error, state);
        }
        (Some("none"), Some((tenant, user, mfa, sid))) => (tenant, user, Interaction::Silent { mfa: *mfa, sid }),
        // SSO for the hinted user, but an interactive request: pages (MFA, consent, errors) may show.
        (None, Some((tenant, user, mfa, sid))) if hinted(user) => {
            (tenant, user, Interaction::Interactive { consent: None, mfa: *mfa, sid })
        }
        _ => return picker(&checked, &candidates(&emulator, &checked, &params), &tenant, &raw),
    };
    match complete(&emulator, &checked, &params, &raw, tenant, user, interaction) {
        Ok(issued) => {
            // Entra signs the session in to every app it answers, silently or not.
            emulator.sessions().join(&headers, &checked.client.app_id);
            issued.into_redirect(&checked, state, interaction.sid())
        }
        Err(response) => response,
    }
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
    let earlier = emulator.sessions().of_request(&headers).is_some_and(|s| s.mfa && s.user_oid == user.oid);
    let mfa = form.mfa.as_deref() == Some("approved") || earlier;
    let sid = uuid::Uuid::new_v4().to_string();
    let interaction = Interaction::Interactive { consent: form.consent.as_deref(), mfa, sid: &sid };
    let response = match complete(&emulator, &checked, &params, &raw, tenant, user, interaction) {
        Ok(issued) => issued.into_redirect(&checked, params.state.as_deref(), &sid),
        Err(response) => response,
    };
    emulator.sessions().start(SsoSession::new(tenant, user, &checked.client.app_id, mfa, sid), response)
}
