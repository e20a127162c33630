//! Who is provisioning: the tenant of a live SCIM token, as an axum extractor. Every SCIM route
//! runs it before its handler (`route_layer`), and a handler that names [`ScimTenant`] gets the
//! tenant it found; anything else is a 401 in SCIM's shape that says what was expected.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;

use super::error::ScimError;
use crate::auth::extract::{bearer, Bearer};
use crate::state::AppState;

/// The tenant the caller's SCIM token provisions.
#[derive(Debug, Clone)]
pub struct ScimTenant(pub String);

impl FromRequestParts<AppState> for ScimTenant {
    type Rejection = ScimError;

    /// Admits a request with a live SCIM token of an allowed tenant. Found once per request: the
    /// route layer's answer is kept in the request for the handler.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(tenant) = parts.extensions.get::<ScimTenant>() {
            return Ok(tenant.clone());
        }
        let Bearer::Token(presented) = bearer(&parts.headers) else {
            return Err(ScimError::unauthorized(
                "expected `Authorization: Bearer <SCIM token>` (found none): paste a token from \
                 `channels-api scim-token create` into Entra's Provisioning → Admin credentials → Secret token",
            ));
        };
        let Some(tenant) = state.scim_tokens.provisioned_by(presented).await? else {
            tracing::info!("SCIM token refused");
            return Err(ScimError::unauthorized(
                "expected a live SCIM token made by `channels-api scim-token create` (found an unknown or \
                 revoked one): make a new one and paste it into Provisioning → Admin credentials → Secret token",
            ));
        };
        if !state.config.allowed_tenants.iter().any(|allowed| allowed.eq_ignore_ascii_case(&tenant)) {
            return Err(ScimError {
                status: StatusCode::FORBIDDEN,
                scim_type: None,
                detail: format!(
                    "expected a token of an allowed tenant (found one of {tenant}, which entra.allowed_tenants no \
                     longer lists)"
                ),
            });
        }
        let tenant = ScimTenant(tenant);
        parts.extensions.insert(tenant.clone());
        Ok(tenant)
    }
}
