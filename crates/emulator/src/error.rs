//! Entra's error shapes: JSON at the token endpoint, a redirect with `error` and
//! `error_description` from `/authorize` once the redirect URI is trusted, and an error page
//! before that (Entra never redirects to an unregistered URI).

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use channels_protocol::token::TokenErrorBody;

use crate::html::escape;

/// An `AADSTS` error.
#[derive(Debug, Clone)]
pub struct AadError {
    /// The OAuth error code.
    pub error: &'static str,
    /// The AADSTS number.
    pub code: u32,
    /// Entra's message after `AADSTS<code>: `.
    pub message: String,
    /// `error_subcode` of a redirect (`cancel` when the user declined consent).
    pub subcode: Option<&'static str>,
}

impl AadError {
    /// An error with Entra's code and message.
    pub fn new(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self { error, code, message: message.into(), subcode: None }
    }

    /// The same error with an `error_subcode`.
    pub fn with_subcode(self, subcode: &'static str) -> Self {
        Self { subcode: Some(subcode), ..self }
    }

    /// An `invalid_grant` error: the code or refresh token cannot be redeemed as asked.
    pub fn invalid_grant(code: u32, message: impl Into<String>) -> Self {
        Self::new("invalid_grant", code, message)
    }

    /// AADSTS900144: a required parameter is missing.
    pub fn missing(name: &str) -> Self {
        Self::new(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    /// `AADSTS<code>: <message>`, as Entra starts every description.
    pub fn description(&self) -> String {
        format!("AADSTS{}: {}", self.code, self.message)
    }

    /// The token endpoint's JSON body, with fresh trace and correlation ids.
    pub fn body(&self, now: u64) -> TokenErrorBody {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let correlation_id = uuid::Uuid::new_v4().to_string();
        let timestamp = chrono::DateTime::from_timestamp(now as i64, 0)
            .unwrap_or_default()
            .format("%Y-%m-%d %H:%M:%SZ")
            .to_string();
        TokenErrorBody {
            error: self.error.to_owned(),
            error_description: format!(
                "{} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}",
                self.description()
            ),
            error_codes: vec![self.code],
            timestamp,
            trace_id,
            correlation_id,
        }
    }

    /// The token endpoint's response: 401 for client authentication errors, else 400.
    pub fn into_json(self, now: u64) -> Response {
        let status = if self.error == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
        (status, Json(self.body(now))).into_response()
    }

    /// The answer back to a registered redirect URI, in the request's response mode.
    pub fn into_redirect(self, redirect_uri: &str, state: Option<&str>, mode: ResponseMode) -> Response {
        let mut params = form_urlencoded::Serializer::new(String::new());
        params.append_pair("error", self.error).append_pair("error_description", &self.description());
        if let Some(subcode) = self.subcode {
            params.append_pair("error_subcode", subcode);
        }
        if let Some(state) = state {
            params.append_pair("state", state);
        }
        answer(redirect_uri, &params.finish(), mode)
    }

    /// Entra's own error page, for requests that cannot be redirected.
    pub fn into_page(self) -> Response {
        let body = format!(
            "<h1>Sign in</h1><p>Sorry, but we're having trouble signing you in.</p>\
             <p role=\"alert\"><strong>{}</strong></p>",
            escape(&self.description())
        );
        (StatusCode::BAD_REQUEST, Html(crate::html::page("Sign in failed", &body))).into_response()
    }
}

/// How `/authorize` answers the app (`response_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// A redirect with the answer in the query (the code flow's default).
    Query,
    /// A redirect with the answer in the fragment (the implicit grant's default).
    Fragment,
    /// A page whose form posts the answer to the redirect URI (OAuth 2.0 Form Post Response
    /// Mode), as MSAL for Python, Node and .NET ask for.
    FormPost,
}

/// The answer to the app at `redirect_uri` carrying `params` (form-encoded), in `mode`.
pub fn answer(redirect_uri: &str, params: &str, mode: ResponseMode) -> Response {
    match mode {
        ResponseMode::Query => redirect_302(&with_params(redirect_uri, params, false)),
        ResponseMode::Fragment => redirect_302(&with_params(redirect_uri, params, true)),
        ResponseMode::FormPost => {
            let inputs: String = form_urlencoded::parse(params.as_bytes())
                .map(|(name, value)| {
                    format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(&name), escape(&value))
                })
                .collect();
            // Entra's page: the form posts itself; without script, a button does.
            let page = format!(
                "<!doctype html><html><head><title>Working...</title></head><body>\
                 <form method=\"POST\" name=\"hiddenform\" action=\"{}\">{inputs}<noscript><p>Script is disabled. \
                 Click Submit to continue.</p><input type=\"submit\" value=\"Submit\"></noscript></form>\
                 <script>document.forms[0].submit();</script></body></html>",
                escape(redirect_uri)
            );
            Html(page).into_response()
        }
    }
}

/// `302 Found`, as Entra redirects (a POST becomes a GET at the target).
pub fn redirect_302(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}

/// `uri` with `params` appended in the query, or in the fragment for `response_mode=fragment`.
pub fn with_params(uri: &str, params: &str, fragment: bool) -> String {
    let separator = if fragment {
        '#'
    } else if uri.contains('?') {
        '&'
    } else {
        '?'
    };
    format!("{uri}{separator}{params}")
}
