//! The device code flow (RFC 8628) as Entra runs it, for clients without a browser:
//! `POST /{tenant}/oauth2/v2.0/devicecode` gives the device a code and the message to show its
//! user; the user opens `/devicelogin` on any other device, types the code and picks an
//! account; meanwhile the device polls `/token` ([`crate::token`]), which answers
//! `authorization_pending` until then. The registration must allow public client flows, or the
//! token request fails with AADSTS7000218, as in Entra.
//!
//! The emulator's device sign-in refuses what the tenant's admin refuses at `/authorize` (a user
//! not assigned, a Conditional Access block), but asks for no multi-factor approval and no
//! consent: the pages of `/authorize` do that for the flows that need them.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};

use crate::authorize::{access_refusal, requested_scopes};
use crate::directory::{Tenant, User};
use crate::error::AadError;
use crate::grant::{Authorization, DeviceGrant, Resource, DEVICE_CODE_LIFETIME, DEVICE_POLL_INTERVAL};
use crate::html::{account_buttons, escape, page};
use crate::state::Emulator;
use crate::tenant_path::TenantPath;

/// The device authorization request's form fields.
#[derive(Deserialize)]
pub struct DeviceCodeForm {
    client_id: Option<String>,
    scope: Option<String>,
}

/// The device authorization response, as Entra sends it.
#[derive(Serialize)]
struct DeviceCodeBody {
    user_code: String,
    device_code: String,
    verification_uri: String,
    expires_in: u64,
    interval: u64,
    message: String,
}

/// `POST /{tenant}/oauth2/v2.0/devicecode`.
pub async fn device_code(
    State(emulator): State<Arc<Emulator>>,
    Path(tenant): Path<String>,
    Form(form): Form<DeviceCodeForm>,
) -> Response {
    let now = emulator.now();
    match authorize_device(&emulator, &tenant, &form, now) {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_json(now),
    }
}

fn authorize_device(
    emulator: &Emulator,
    segment: &str,
    form: &DeviceCodeForm,
    now: u64,
) -> Result<DeviceCodeBody, AadError> {
    let path = emulator.tenant_path(segment)?;
    let client_id = form.client_id.as_deref().ok_or_else(|| AadError::missing("client_id"))?;
    let client = emulator.client(path, client_id)?;
    let scope = form.scope.as_deref().filter(|s| !s.trim().is_empty()).ok_or_else(|| AadError::missing("scope"))?;
    let tenant_name = match path {
        TenantPath::Tenant(tenant) => tenant.display_name.as_str(),
        TenantPath::Any => segment,
    };
    let (requested, oidc) = requested_scopes(emulator.directory(), tenant_name, client, scope)?;
    // One resource a token, as at `/authorize`: the first one asked for.
    let resource = requested.first().map_or(Resource::Graph, |p| p.resource.clone());
    let scopes = if requested.is_empty() {
        oidc.iter().filter(|s| *s != "offline_access").cloned().collect()
    } else {
        requested.iter().filter(|p| p.resource == resource).map(|p| p.value.clone()).collect()
    };
    let grant = DeviceGrant {
        client_id: client.app_id.clone(),
        tenant_segment: segment.to_owned(),
        resource,
        scopes,
        openid: oidc.iter().any(|s| s == "openid"),
        offline_access: oidc.iter().any(|s| s == "offline_access"),
        user_code: String::new(),
        issued_at: now,
        approved: None,
    };
    let (device_code, user_code) = emulator.grants().issue_device_code(grant);
    let verification_uri = format!("{}/devicelogin", emulator.origin());
    Ok(DeviceCodeBody {
        message: format!(
            "To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."
        ),
        user_code,
        device_code,
        verification_uri,
        expires_in: DEVICE_CODE_LIFETIME,
        interval: DEVICE_POLL_INTERVAL,
    })
}

/// `GET /devicelogin`: the page that asks for the code.
pub async fn enter_code() -> Html<String> {
    Html(code_page(None))
}

/// The device sign-in's form fields: the code, then the account picked.
#[derive(Deserialize)]
pub struct DeviceLoginForm {
    user_code: String,
    username: Option<String>,
}

/// `POST /devicelogin`: the code typed (then the account picker), or the account picked (then
/// the device's sign-in is done).
pub async fn sign_in(State(emulator): State<Arc<Emulator>>, Form(form): Form<DeviceLoginForm>) -> Response {
    let now = emulator.now();
    let Some(grant) = emulator.grants().device_by_user_code(&form.user_code, now) else {
        return Html(code_page(Some("That code didn't work. Check the code and try again."))).into_response();
    };
    let directory = emulator.directory();
    let Some((_, app)) = directory.app(&grant.client_id) else {
        return Html(code_page(Some("That code didn't work. Check the code and try again."))).into_response();
    };
    let candidates: Vec<(&Tenant, &User)> = match emulator.tenant_path(&grant.tenant_segment) {
        Ok(TenantPath::Tenant(tenant)) => tenant.users.iter().map(|user| (tenant, user)).collect(),
        _ => directory.tenants.iter().flat_map(|tenant| tenant.users.iter().map(move |user| (tenant, user))).collect(),
    };
    let picked = form
        .username
        .as_deref()
        .and_then(|name| candidates.iter().find(|(_, user)| user.upn.eq_ignore_ascii_case(name)));
    let Some((tenant, user)) = picked else {
        return Html(picker(&grant.user_code, &app.display_name, &candidates)).into_response();
    };
    // The tenant's admin decides as at `/authorize`: assignment, Conditional Access's block.
    if let Some(refusal) = access_refusal(tenant, app, user) {
        return refusal.into_page();
    }
    let authorization = Authorization {
        tenant_id: tenant.id.clone(),
        client_id: grant.client_id.clone(),
        user_oid: user.oid.clone(),
        resource: grant.resource.clone(),
        scopes: grant.scopes.clone(),
        acrs: Vec::new(),
        implicit: false,
    };
    emulator.grants().approve_device(&grant.user_code, authorization);
    let body = format!(
        "<h1>{}</h1><p>You have signed in to the <strong>{}</strong> application on your device. You may now \
         close this window.</p>",
        escape(&user.name),
        escape(&app.display_name)
    );
    Html(page("Signed in", &body)).into_response()
}

/// The page that asks for the code, with what went wrong with the last one.
fn code_page(problem: Option<&str>) -> String {
    let problem = problem.map(|p| format!("<p role=\"alert\">{}</p>", escape(p))).unwrap_or_default();
    page(
        "Enter code",
        &format!(
            "<h1>Enter code</h1><p>Enter the code displayed on your app or device.</p>{problem}\
             <form method=\"post\" action=\"/devicelogin\"><input name=\"user_code\" aria-label=\"Code\" \
             autocomplete=\"off\" required><button type=\"submit\">Next</button></form>"
        ),
    )
}

/// The account picker of a device sign-in: one button a user, the code carried along.
fn picker(user_code: &str, app_name: &str, candidates: &[(&Tenant, &User)]) -> String {
    let users = account_buttons(candidates);
    page(
        "Sign in to your account",
        &format!(
            "<h1>Pick an account</h1><p>to sign in to <strong>{}</strong> on your device</p>\
             <form method=\"post\" action=\"/devicelogin\"><input type=\"hidden\" name=\"user_code\" value=\"{}\">{users}</form>",
            escape(app_name),
            escape(user_code)
        ),
    )
}
