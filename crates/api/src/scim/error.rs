//! SCIM's error responses (RFC 7644 §3.12) and its JSON media type: what every SCIM answer is
//! written with.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::patch::Refusal;
use crate::members::StoreError;

/// SCIM's media type (RFC 7644 §3.1).
pub const MEDIA_TYPE: &str = "application/scim+json";

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM error response (RFC 7644 §3.12).
#[derive(Debug)]
pub struct ScimError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `scimType`, where the RFC defines one for the case.
    pub scim_type: Option<&'static str>,
    /// What was expected and what was found.
    pub detail: String,
}

impl ScimError {
    /// A 400 with a `scimType`.
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, scim_type: Some(scim_type), detail: detail.into() }
    }

    /// A 404 for `kind` `id`.
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            scim_type: None,
            detail: format!("expected a {kind} of this tenant with the id `{id}` (found none)"),
        }
    }

    /// A 409 `uniqueness`.
    pub fn conflict(detail: String) -> Self {
        Self { status: StatusCode::CONFLICT, scim_type: Some("uniqueness"), detail }
    }

    pub(crate) fn unauthorized(detail: impl Into<String>) -> Self {
        Self { status: StatusCode::UNAUTHORIZED, scim_type: None, detail: detail.into() }
    }
}

impl From<StoreError> for ScimError {
    fn from(error: StoreError) -> Self {
        tracing::error!(detail = %error, "member store failed (SCIM)");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            scim_type: None,
            detail: "The member database is not reachable right now; Entra retries in its next cycle.".into(),
        }
    }
}

impl From<Refusal> for ScimError {
    fn from(refusal: Refusal) -> Self {
        Self::bad(refusal.scim_type, refusal.detail)
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({ "schemas": [ERROR_SCHEMA], "status": self.status.as_str(), "detail": self.detail });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = json!(scim_type);
        }
        let mut response = respond(self.status, &body);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"scim\""));
        }
        response
    }
}

/// A SCIM JSON response.
pub fn respond(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    response
}
