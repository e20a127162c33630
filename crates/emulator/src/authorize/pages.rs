//! The pages `/authorize` shows: the account picker, the multi-factor prompt and the consent
//! page. Each form posts back to `/authorize` with the request's own query, so the request is
//! checked again on every step; dynamic text goes through [`escape`].

use axum::response::{Html, IntoResponse, Response};

use super::request::Checked;
use super::scopes::Requested;
use crate::directory::{Tenant, User};
use crate::html::{account_buttons, escape, page};
use crate::tenant_path::TenantPath;

/// The form action that posts the answer back to `/authorize` with the same query.
fn action(tenant_segment: &str, raw_query: &str) -> String {
    format!("/{tenant_segment}/oauth2/v2.0/authorize?{raw_query}")
}

/// The account picker: a plain form that works without JavaScript, one button a user.
pub fn picker(checked: &Checked<'_>, candidates: &[(&Tenant, &User)], segment: &str, raw: &str) -> Response {
    let users = account_buttons(candidates);
    let body = format!(
        "<h1>Pick an account</h1><p>to continue to <strong>{}</strong></p>\
         <form method=\"post\" action=\"{}\">{users}</form>",
        escape(&checked.client.display_name),
        escape(&action(segment, raw))
    );
    Html(page("Sign in to your account", &body)).into_response()
}

/// The hidden field that carries an approved MFA prompt to the next form.
fn mfa_field(mfa: bool) -> &'static str {
    if mfa {
        "<input type=\"hidden\" name=\"mfa\" value=\"approved\">"
    } else {
        ""
    }
}

/// The `{tenant}` segment the forms post to.
fn segment_of<'a>(checked: &'a Checked<'_>) -> &'a str {
    match checked.path {
        TenantPath::Tenant(tenant) => tenant.id.as_str(),
        TenantPath::Any => "common",
    }
}

/// The multi-factor prompt a Conditional Access policy asks for (approve on the "phone").
pub fn mfa_page(checked: &Checked<'_>, raw: &str, user: &User, consent: Option<&str>) -> Response {
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
    Html(page("Approve sign-in request", &body)).into_response()
}

/// The consent page: the permissions not yet consented, to accept or decline.
pub fn consent_page(checked: &Checked<'_>, raw: &str, user: &User, missing: &[&Requested], mfa: bool) -> Response {
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
    Html(page("Permissions requested", &body)).into_response()
}
