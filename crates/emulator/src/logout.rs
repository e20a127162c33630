//! `/{tenant}/oauth2/v2.0/logout`: sign-out. Ends the SSO session ([`crate::session`]), loads
//! the front-channel logout URL (`web.logoutUrl`) of each app the session signed in to in a
//! hidden iframe, as Entra does, and returns to a registered `post_logout_redirect_uri`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::error::{redirect_302, with_params, AadError};
use crate::html::{escape, page};
use crate::session::expire_cookie;
use crate::state::Emulator;

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
        Some(state) => with_params(
            uri,
            &form_urlencoded::Serializer::new(String::new()).append_pair("state", state).finish(),
            false,
        ),
        None => uri.to_owned(),
    });
    let ended = emulator.sessions().end(&headers);
    // As Entra: the logout URL with the ended session's `sid` (and no `iss`).
    let front_channel: Vec<String> = ended
        .iter()
        .flat_map(|session| session.clients.iter().map(move |client| (client, &session.sid)))
        .filter_map(|(client, sid)| Some((all_apps().find(|app| &app.app_id == client)?.logout_url.as_deref()?, sid)))
        .map(|(url, sid)| {
            let query = form_urlencoded::Serializer::new(String::new()).append_pair("sid", sid).finish();
            with_params(url, &query, false)
        })
        .collect();
    let mut response = match (&next, front_channel.is_empty()) {
        (Some(uri), true) => redirect_302(uri),
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
            Html(page(
                "Signed out",
                &format!(
                    "{refresh}<h1>You signed out of your account</h1>\
                     <p>It's a good idea to close all browser windows.</p>{frames}"
                ),
            ))
            .into_response()
        }
    };
    expire_cookie(&mut response);
    response
}
