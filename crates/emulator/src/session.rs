//! The emulator's SSO session and sign-out.
//!
//! A sign-in sets a cookie (Entra's name, `ESTSAUTH`) so that `prompt=none` succeeds later, as
//! against Entra — what a SPA relies on after the 24-hour refresh token limit. Sign-out ends
//! it, loads the front-channel logout URL (`web.logoutUrl`) of each app the session signed in
//! to in a hidden iframe, as Entra does, and returns to a registered `post_logout_redirect_uri`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::directory::{Tenant, User};
use crate::error::{found, AadError};
use crate::html::escape;
use crate::Emulator;

const COOKIE: &str = "ESTSAUTH";

/// A browser's sign-in at the emulator.
#[derive(Debug, Clone)]
pub struct SsoSession {
    /// The user's tenant.
    pub tenant_id: String,
    /// The user.
    pub user_oid: String,
    /// Client ids signed in to through this session, for front-channel logout.
    pub clients: Vec<String>,
    /// Whether the sign-in did multi-factor authentication.
    pub mfa: bool,
    /// The session's id: the `sid` of the ID tokens issued in it, named at front-channel logout.
    pub sid: String,
}

fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

impl SsoSession {
    /// The session the request's cookie names, if it is still open.
    pub fn from_headers(emulator: &Emulator, headers: &HeaderMap) -> Option<Self> {
        let id = cookie_value(headers)?;
        emulator.sessions.lock().expect("session lock").get(id).cloned()
    }

    /// A session of `user`, signed in to `client_id` (with MFA or not), whose id is `sid`.
    pub fn new(tenant: &Tenant, user: &User, client_id: &str, mfa: bool, sid: String) -> Self {
        Self { tenant_id: tenant.id.clone(), user_oid: user.oid.clone(), clients: vec![client_id.to_owned()], mfa, sid }
    }

    /// Opens `session` and sets its cookie on `response`.
    pub fn start(emulator: &Emulator, session: Self, mut response: Response) -> Response {
        let id = crate::token::random_text(32);
        emulator.sessions.lock().expect("session lock").insert(id.clone(), session);
        // Lax: sent on the top-level navigations that authorize requests are.
        let cookie = format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax");
        response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("cookie is ASCII"));
        response
    }
}

impl SsoSession {
    /// Adds `client_id` to the session the request's cookie names when `response` issued a
    /// code: Entra signs the session in to every app it gives a code to, silently or not, and
    /// calls each one's front-channel logout URL at sign-out.
    pub fn join(emulator: &Emulator, headers: &HeaderMap, client_id: &str, response: &Response) {
        let issued = response
            .headers()
            .get(header::LOCATION)
            .and_then(|location| location.to_str().ok())
            .is_some_and(|location| location.contains("?code=") || location.contains("#code="));
        let Some(id) = cookie_value(headers).filter(|_| issued) else { return };
        if let Some(session) = emulator.sessions.lock().expect("session lock").get_mut(id) {
            if !session.clients.iter().any(|client| client == client_id) {
                session.clients.push(client_id.to_owned());
            }
        }
    }
}

/// The sign-out request's parameters.
#[derive(Deserialize)]
pub struct LogoutParams {
    post_logout_redirect_uri: Option<String>,
    /// Returned to the `post_logout_redirect_uri`, as Entra does.
    state: Option<String>,
}

/// `GET /{tenant}/oauth2/v2.0/logout`.
pub async fn logout(
    State(emulator): State<Arc<Emulator>>,
    Path(tenant): Path<String>,
    Query(params): Query<LogoutParams>,
    headers: HeaderMap,
) -> Response {
    if let Err(error) = emulator.tenant_path(&tenant) {
        return error.into_page();
    }
    let all_apps = || emulator.directory().tenants.iter().flat_map(|tenant| &tenant.apps);
    if let Some(uri) = &params.post_logout_redirect_uri {
        if !all_apps().any(|app| app.redirect_uri(uri).is_some()) {
            return AadError::new(
                "invalid_request",
                50011,
                format!("The redirect URI '{uri}' specified in the request does not match the redirect URIs configured for the application."),
            )
            .into_page();
        }
    }
    let next = params.post_logout_redirect_uri.as_deref().map(|uri| match &params.state {
        Some(state) => crate::error::with_params(
            uri,
            &form_urlencoded::Serializer::new(String::new()).append_pair("state", state).finish(),
            false,
        ),
        None => uri.to_owned(),
    });
    let ended = cookie_value(&headers).and_then(|id| emulator.sessions.lock().expect("session lock").remove(id));
    // As Entra: the logout URL with the ended session's `sid` (and no `iss`).
    let front_channel: Vec<String> = ended
        .iter()
        .flat_map(|session| session.clients.iter().map(move |client| (client, &session.sid)))
        .filter_map(|(client, sid)| Some((all_apps().find(|app| &app.app_id == client)?.logout_url.as_deref()?, sid)))
        .map(|(url, sid)| {
            let query = form_urlencoded::Serializer::new(String::new()).append_pair("sid", sid).finish();
            crate::error::with_params(url, &query, false)
        })
        .collect();
    let mut response = match (&next, front_channel.is_empty()) {
        (Some(uri), true) => found(uri),
        (next, _) => {
            // Entra loads each front-channel logout URL in a hidden iframe, then moves on.
            let frames: String = front_channel
                .iter()
                .map(|url| format!("<iframe hidden title=\"sign-out\" src=\"{}\"></iframe>", escape(url)))
                .collect();
            let refresh = next
                .as_ref()
                .map(|uri| format!("<meta http-equiv=\"refresh\" content=\"1;url={}\">", escape(uri)))
                .unwrap_or_default();
            Html(crate::html::page(
                "Signed out",
                &format!(
                    "{refresh}<h1>You signed out of your account</h1>\
                     <p>It's a good idea to close all browser windows.</p>{frames}"
                ),
            ))
            .into_response()
        }
    };
    let expired = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&expired).expect("cookie is ASCII"));
    response
}
