//! The emulator's SSO session: who signed in in this browser, and to which apps.
//!
//! A sign-in sets a cookie (Entra's name, `ESTSAUTH`) so that `prompt=none` succeeds later, as
//! against Entra — what a SPA relies on after the 24-hour refresh token limit. Every app the
//! session is given a code or tokens for joins it, so that sign-out ([`crate::logout`]) can
//! load each one's front-channel logout URL.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;

use crate::directory::{Tenant, User};
use crate::grant::random_text;

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

impl SsoSession {
    /// A session of `user`, signed in to `client_id` (with MFA or not), whose id is `sid`.
    pub fn new(tenant: &Tenant, user: &User, client_id: &str, mfa: bool, sid: String) -> Self {
        Self { tenant_id: tenant.id.clone(), user_oid: user.oid.clone(), clients: vec![client_id.to_owned()], mfa, sid }
    }
}

fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// The open SSO sessions, by the id their cookie carries.
#[derive(Default)]
pub struct SsoSessions(Mutex<HashMap<String, SsoSession>>);

impl SsoSessions {
    /// The session the request's cookie names, if it is still open.
    pub fn of_request(&self, headers: &HeaderMap) -> Option<SsoSession> {
        let id = cookie_value(headers)?;
        self.0.lock().expect("session lock").get(id).cloned()
    }

    /// Opens `session` and sets its cookie on `response`.
    pub fn start(&self, session: SsoSession, mut response: Response) -> Response {
        let id = random_text(32);
        self.0.lock().expect("session lock").insert(id.clone(), session);
        // Lax: sent on the top-level navigations that authorize requests are.
        let cookie = format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax");
        response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("cookie is ASCII"));
        response
    }

    /// Adds `client_id` to the session the request's cookie names. Called when a code or
    /// tokens were issued to it: Entra signs the session in to every app it answers, silently
    /// or not, and calls each one's front-channel logout URL at sign-out.
    pub fn join(&self, headers: &HeaderMap, client_id: &str) {
        let Some(id) = cookie_value(headers) else { return };
        if let Some(session) = self.0.lock().expect("session lock").get_mut(id) {
            if !session.clients.iter().any(|client| client == client_id) {
                session.clients.push(client_id.to_owned());
            }
        }
    }

    /// Ends the session the request's cookie names and returns it, if it was open.
    pub fn end(&self, headers: &HeaderMap) -> Option<SsoSession> {
        cookie_value(headers).and_then(|id| self.0.lock().expect("session lock").remove(id))
    }
}

/// Expires the session cookie on `response` (sign-out).
pub fn expire_cookie(response: &mut Response) {
    let expired = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&expired).expect("cookie is ASCII"));
}
