//! Token validation: an untrusted bearer token becomes [`VerifiedClaims`] only through
//! [`validate::Validator`], and everything after (members, channels) takes only that type.

pub mod keys;
pub mod validate;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use channels_protocol::claims::AccessTokenClaims;

pub use validate::{TokenError, Validator};

use crate::error::ApiError;
use crate::AppState;

/// Claims of a token that passed every validation step. Constructed only by the validator.
#[derive(Debug, Clone)]
pub struct VerifiedClaims(std::sync::Arc<AccessTokenClaims>);

impl VerifiedClaims {
    /// The claims.
    pub fn claims(&self) -> &AccessTokenClaims {
        &self.0
    }
}

/// The axum extractor: `Authorization: Bearer <token>`, validated.
pub struct Authenticated(pub VerifiedClaims);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            refused("missing_token", None, None, None);
            return Err(ApiError::MissingToken);
        };
        // The scheme is case-insensitive (RFC 7235 §2.1): `Bearer`, `bearer`, `BEARER`.
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.split_once(' '))
            .and_then(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer").then_some(token))
            .map(str::trim);
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
