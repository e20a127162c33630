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
        let header = parts.headers.get(AUTHORIZATION).ok_or(ApiError::MissingToken)?;
        // The scheme is case-insensitive (RFC 7235 §2.1): `Bearer`, `bearer`, `BEARER`.
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.split_once(' '))
            .and_then(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer").then_some(token))
            .ok_or_else(|| ApiError::Token(TokenError::Malformed("expected `Authorization: Bearer <token>`".into())))?;
        state.validator.validate(token.trim()).await.map(Authenticated).map_err(ApiError::from)
    }
}
