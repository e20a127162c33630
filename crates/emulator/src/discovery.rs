//! OpenID Connect discovery: the v2 metadata document and the signing keys (JWKS).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::Emulator;

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`, in the shape of Entra's document.
pub async fn openid_configuration(State(emulator): State<Arc<Emulator>>, Path(tenant): Path<String>) -> Response {
    if let Err(error) = emulator.check_tenant(&tenant) {
        return error.into_json(emulator.now());
    }
    let base = format!("{}/{}", emulator.origin(), emulator.tenant().id);
    Json(serde_json::json!({
        "issuer": emulator.issuer(),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment"],
        "response_types_supported": ["code"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "preferred_username", "oid", "tid", "ver"],
        "request_uri_parameter_supported": false,
        "frontchannel_logout_supported": true,
        "http_logout_supported": true,
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
    }))
    .into_response()
}

/// `GET /{tenant}/discovery/v2.0/keys`.
pub async fn keys(State(emulator): State<Arc<Emulator>>, Path(tenant): Path<String>) -> Response {
    if let Err(error) = emulator.check_tenant(&tenant) {
        return error.into_json(emulator.now());
    }
    let mut jwk = emulator.key().jwk().clone();
    jwk["issuer"] = emulator.issuer().into();
    Json(serde_json::json!({ "keys": [jwk] })).into_response()
}
