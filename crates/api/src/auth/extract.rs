//! The HTTP side of token validation: `Authorization: Bearer <token>` read from a request (the
//! one place a bearer token is taken from a header, for the API and for SCIM), validated, and a
//! refusal logged and counted.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use super::validate::{self, TokenError, VerifiedClaims};
use crate::error::ApiError;
use crate::state::AppState;

/// The axum extractor: `Authorization: Bearer <token>`, validated.
pub struct Authenticated(pub VerifiedClaims);

/// What the `Authorization` header holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bearer<'a> {
    /// No `Authorization` header.
    Missing,
    /// A header of another scheme, or not text.
    Malformed,
    /// `Bearer <token>` (the scheme case-insensitive, RFC 7235 §2.1: `Bearer`, `bearer`,
    /// `BEARER`), the token trimmed.
    Token(&'a str),
}

/// The bearer token of a request's headers.
pub fn bearer(headers: &HeaderMap) -> Bearer<'_> {
    let Some(header) = headers.get(AUTHORIZATION) else {
        return Bearer::Missing;
    };
    header
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .and_then(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer").then_some(token))
        .map_or(Bearer::Malformed, |token| Bearer::Token(token.trim()))
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = match bearer(&parts.headers) {
            Bearer::Missing => {
                refused("missing_token", None, None, None);
                return Err(ApiError::MissingToken);
            }
            Bearer::Malformed => None,
            Bearer::Token(token) => Some(token),
        };
        let verified = match token {
            Some(token) => state.validator.validate(token).await,
            None => Err(TokenError::Malformed("expected `Authorization: Bearer <token>`".into())),
        };
        verified.map(Authenticated).map_err(|error| {
            let (tenant, client_app) = token.map(validate::unverified_caller).unwrap_or_default();
            refused(error.code(), Some(&error), tenant.as_deref(), client_app.as_deref());
            ApiError::from(error)
        })
    }
}

/// Logs and counts a refused request by reason, with the tenant and client app its token
/// names (unverified); never the token.
fn refused(code: &'static str, error: Option<&TokenError>, tenant: Option<&str>, client_app: Option<&str>) {
    metrics::counter!("channels_token_refusals_total", "reason" => code).increment(1);
    let reason = error.map(ToString::to_string).unwrap_or_default();
    // The reason quotes what the token holds (`alg`, `kid`, `iss`): Debug-escaped, so that no
    // token can write a line of its own into the log.
    tracing::info!(
        code,
        ?reason,
        tenant = tenant.unwrap_or(""),
        client_app = client_app.unwrap_or(""),
        "token refused"
    );
}
