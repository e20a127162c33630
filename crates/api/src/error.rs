//! The API's one error type: RFC 6750 challenges for token problems, generic 5xx bodies with
//! the detail in the log, and always the same JSON shape ([`channels_protocol::wire::ApiError`]).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use channels_protocol::wire;

use crate::auth::TokenError;

/// Everything a request can fail with.
#[derive(Debug)]
pub enum ApiError {
    /// No `Authorization` header.
    MissingToken,
    /// The bearer token was refused.
    Token(TokenError),
    /// The member database failed (503; the detail goes to the log).
    Store(crate::members::StoreError),
    /// SCIM provisioning has disabled the member (`active: false`).
    Disabled,
    /// The action needs an authentication context the token's `acrs` lacks: a claims challenge.
    StepUp {
        /// The context required (`c1`…`c99`).
        context: String,
        /// The `acrs` the token carries.
        found: Vec<String>,
        /// The tenant's authorize endpoint, where the client signs in again.
        authorize_endpoint: String,
    },
    /// The action needs a step-up, and the token's tenant has no authentication context
    /// configured: the operator chose to refuse it (`step_up.other_tenants = "refuse"`).
    StepUpUnavailable {
        /// The token's tenant.
        tenant: String,
    },
    /// The request body is not what the endpoint takes.
    BadRequest {
        /// A stable machine-readable code.
        code: &'static str,
        /// What was expected and what was found.
        message: String,
    },
}

impl From<crate::members::StoreError> for ApiError {
    fn from(error: crate::members::StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        Self::Token(error)
    }
}

/// Makes text safe inside a quoted `WWW-Authenticate` parameter (RFC 6750 §3: printable
/// ASCII without `"` and `\`).
fn quoted(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '?',
        })
        .collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, challenge, body) = match &self {
            Self::MissingToken => (
                StatusCode::UNAUTHORIZED,
                "Bearer".to_owned(),
                wire::ApiError {
                    error: "missing_token".into(),
                    message: "expected `Authorization: Bearer <access token>` (found no Authorization header)".into(),
                    fix: Some("Sign in, then call the API with the access token.".into()),
                },
            ),
            Self::Store(detail) => {
                tracing::error!(%detail, "member store failed");
                let body = wire::ApiError {
                    error: "store_unavailable".into(),
                    message: "The member database is not reachable right now; try again shortly.".into(),
                    fix: None,
                };
                return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
            }
            Self::Disabled => return (StatusCode::FORBIDDEN, Json(disabled())).into_response(),
            Self::StepUp { context, found, authorize_endpoint } => (
                StatusCode::UNAUTHORIZED,
                channels_protocol::step_up::challenge(authorize_endpoint, context),
                step_up(context, found),
            ),
            Self::StepUpUnavailable { tenant } => {
                return (StatusCode::FORBIDDEN, Json(step_up_unavailable(tenant))).into_response()
            }
            Self::BadRequest { code, message } => {
                let body = wire::ApiError { error: (*code).into(), message: message.clone(), fix: None };
                return (StatusCode::BAD_REQUEST, Json(body)).into_response();
            }
            Self::Token(TokenError::KeysUnavailable(detail)) => {
                tracing::error!(%detail, "signing keys unavailable");
                let body = wire::ApiError {
                    error: "keys_unavailable".into(),
                    message: "The identity provider's signing keys cannot be fetched right now; try again shortly."
                        .into(),
                    fix: None,
                };
                return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
            }
            Self::Token(error @ TokenError::Scope { required, .. }) => (
                StatusCode::FORBIDDEN,
                format!(
                    "Bearer error=\"insufficient_scope\", scope=\"{}\", error_description=\"{}\"",
                    quoted(required),
                    quoted(&error.to_string())
                ),
                body_of(error),
            ),
            Self::Token(error) => {
                // Logged and counted where it was refused (`auth::Authenticated`).
                (
                    StatusCode::UNAUTHORIZED,
                    format!(
                        "Bearer error=\"invalid_token\", error_description=\"{}\"",
                        quoted(&error.public_message())
                    ),
                    body_of(error),
                )
            }
        };
        let mut response = (status, Json(body)).into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

fn body_of(error: &TokenError) -> wire::ApiError {
    wire::ApiError { error: error.code().into(), message: error.public_message(), fix: error.fix().map(str::to_owned) }
}

/// The body of [`ApiError::Disabled`]: what the user is told, and what their admin does.
pub fn disabled() -> wire::ApiError {
    wire::ApiError {
        error: "account_disabled".into(),
        message: "Your account was disabled by your organisation's provisioning, so Channels refuses it \
                  (expected an active member; found one that Entra's provisioning set to inactive)."
            .into(),
        fix: Some(
            "Admin: the user is unassigned from the Channels enterprise application, or out of its \
             provisioning scope; assign them again (Enterprise applications → Channels → Users and groups) \
             and the next provisioning cycle enables them, with their preferences. A Channels admin who \
             disabled them enables them with `channels-api members enable <upn>`."
                .into(),
        ),
    }
}

/// The body of [`ApiError::StepUp`]: the context required, the `acrs` found, the admin's step.
pub fn step_up(context: &str, found: &[String]) -> wire::ApiError {
    wire::ApiError {
        error: "insufficient_claims".into(),
        message: format!(
            "expected a sign-in that satisfied the authentication context {context} for this action (found acrs \
             {}): sign in again when asked",
            if found.is_empty() { "none".to_owned() } else { found.join(", ") }
        ),
        fix: Some(format!(
            "Admin: Protection → Conditional Access → Authentication contexts → {context}, and a policy that targets \
             it (for instance, require multifactor authentication)."
        )),
    }
}

/// The body of [`ApiError::StepUpUnavailable`]: no step-up can satisfy it, so no challenge.
pub fn step_up_unavailable(tenant: &str) -> wire::ApiError {
    wire::ApiError {
        error: "step_up_not_configured".into(),
        message: format!(
            "expected a tenant with an authentication context for this action (found your tenant {tenant}, which \
             has none configured here, and this deployment refuses the action for such tenants)"
        ),
        fix: Some(format!(
            "Operator: set step_up.tenants.\"{tenant}\" to the context (c1…c99) that this tenant's admin targets with \
             a Conditional Access policy (Protection → Conditional Access → Authentication contexts), or \
             step_up.other_tenants = \"allow\" to let its users save without step-up."
        )),
    }
}
