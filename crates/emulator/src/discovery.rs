//! OpenID Connect discovery: the v2 and v1 metadata documents and the signing keys (JWKS),
//! with the fields of Entra's own documents (shared/fixtures/entra-common; a test compares
//! them). Values differ only where the emulator does less: it lists the response types and
//! modes it serves (`code`; `query`, `fragment`). At `common` and `organizations` the issuer
//! is the `{tenantid}` template.
//!
//! Browsers read these documents cross-origin (every MSAL.js app does), so, as Entra, they are
//! served to any origin ([`cors`]), and metadata and instance discovery may be cached for a day.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use channels_protocol::cloud::Cloud;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::authorize::OIDC_SCOPES_SUPPORTED;
use crate::error::AadError;
use crate::state::Emulator;
use crate::tenant_path::TenantPath;

/// CORS for discovery, keys and instance discovery, as Entra answers them:
/// `Access-Control-Allow-Origin: *`, `Access-Control-Allow-Methods: GET, OPTIONS`.
pub fn cors() -> CorsLayer {
    CorsLayer::new().allow_origin(AllowOrigin::any()).allow_methods([Method::GET, Method::OPTIONS])
}

/// `document` as JSON with Entra's `Cache-Control: max-age=86400, private`.
fn cacheable(document: Value) -> Response {
    let mut response = Json(document).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=86400, private"));
    response
}

/// The tenant id as metadata shows it: the GUID, or Entra's `{tenantid}` placeholder.
fn tenant_id_of<'a>(path: TenantPath<'a>) -> &'a str {
    match path {
        TenantPath::Tenant(tenant) => &tenant.id,
        TenantPath::Any => "{tenantid}",
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("a json! object literal"),
    }
}

/// The fields the v1 and v2 documents share.
fn shared_fields(base: &str, cloud: Cloud) -> Map<String, Value> {
    let instance = match cloud {
        Cloud::Global => "microsoftonline.com",
        Cloud::UsGovernment => "microsoftonline.us",
        Cloud::China => "partner.microsoftonline.cn",
        Cloud::ExternalId => "ciamlogin.com",
    };
    let graph = cloud.graph_audience().trim_start_matches("https://");
    object(json!({
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        // Entra's, but for the hybrid `code id_token`, which is not emulated.
        "response_types_supported": ["code", "id_token", "id_token token"],
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "kerberos_endpoint": format!("{base}/kerberos"),
        "cloud_instance_name": instance,
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": graph,
        "rbac_url": "https://pas.windows.net",
    }))
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`, in the shape of Entra's document.
pub async fn openid_configuration(State(emulator): State<Arc<Emulator>>, Path(segment): Path<String>) -> Response {
    let path = match emulator.tenant_path(&segment) {
        Ok(path) => path,
        Err(error) => return error.into_json(emulator.now()),
    };
    let base = format!("{}/{segment}", emulator.origin());
    let region = match path {
        TenantPath::Tenant(_) => Value::from("EU"),
        TenantPath::Any => Value::Null,
    };
    let mut document = shared_fields(&base, emulator.directory().cloud);
    document.extend(object(json!({
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "scopes_supported": OIDC_SCOPES_SUPPORTED,
        "issuer": emulator.issuer_of(tenant_id_of(path)),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid",
            "ver", "at_hash", "c_hash", "email"],
        "tenant_region_scope": region,
    })));
    cacheable(Value::Object(document))
}

/// `GET /{tenant}/.well-known/openid-configuration`: the v1 document, whose issuer is Entra's
/// literal `https://sts.windows.net/{tid}/` (the issuer of v1 access tokens; the cloud's own
/// in China).
pub async fn v1_openid_configuration(State(emulator): State<Arc<Emulator>>, Path(segment): Path<String>) -> Response {
    let path = match emulator.tenant_path(&segment) {
        Ok(path) => path,
        Err(error) => return error.into_json(emulator.now()),
    };
    let base = format!("{}/{segment}", emulator.origin());
    let mut document = shared_fields(&base, emulator.directory().cloud);
    document.extend(object(json!({
        "token_endpoint": format!("{base}/oauth2/token"),
        "jwks_uri": format!("{base}/discovery/keys"),
        "scopes_supported": ["openid"],
        "issuer": emulator.v1_issuer_of(tenant_id_of(path)),
        "microsoft_multi_refresh_token": true,
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/devicecode"),
        "end_session_endpoint": format!("{base}/oauth2/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name",
            "family_name", "nickname"],
        "check_session_iframe": format!("{base}/oauth2/checksession"),
        "userinfo_endpoint": format!("{base}/openid/userinfo"),
        "tenant_region_scope": Value::Null,
    })));
    cacheable(Value::Object(document))
}

/// `GET /{tenant}/discovery/v2.0/keys` and `/{tenant}/discovery/keys`: every published key,
/// each with the issuer it signs for, as Entra publishes them.
pub async fn keys(State(emulator): State<Arc<Emulator>>, Path(segment): Path<String>) -> Response {
    let path = match emulator.tenant_path(&segment) {
        Ok(path) => path,
        Err(error) => return error.into_json(emulator.now()),
    };
    let issuer = emulator.issuer_of(tenant_id_of(path));
    let keys: Vec<Value> = emulator
        .keys()
        .published()
        .iter()
        .map(|key| {
            let mut jwk = key.jwk().clone();
            jwk["issuer"] = issuer.clone().into();
            jwk
        })
        .collect();
    Json(json!({ "keys": keys })).into_response()
}

/// Instance discovery's query.
#[derive(Deserialize)]
pub struct InstanceQuery {
    authorization_endpoint: Option<String>,
}

/// `GET /common/discovery/instance?api-version=1.1&authorization_endpoint=…`: where an
/// authority's metadata is, and the host names that share its accounts. MSAL.js asks
/// `login.microsoftonline.com` for it (never the authority's own host) when the authority is not
/// in its `knownAuthorities`; other clients ask the authority. The emulator's own host has no
/// aliases; an endpoint on another host is AADSTS50049, as an unknown instance is for Entra.
pub async fn instance(State(emulator): State<Arc<Emulator>>, Query(query): Query<InstanceQuery>) -> Response {
    let now = emulator.now();
    let Some(endpoint) = query.authorization_endpoint else {
        return AadError::missing("authorization_endpoint").into_json(now);
    };
    let origin = emulator.origin();
    let tenant = endpoint
        .strip_prefix(origin)
        .and_then(|path| path.strip_prefix('/'))
        .and_then(|path| path.split('/').next())
        .filter(|tenant| !tenant.is_empty());
    let Some(tenant) = tenant else {
        return AadError::new(
            "invalid_instance",
            50049,
            format!("Unknown or invalid instance: the authorization endpoint '{endpoint}' is not on {origin}."),
        )
        .into_json(now);
    };
    let host = origin.split_once("://").map_or(origin, |(_, host)| host);
    cacheable(json!({
        "tenant_discovery_endpoint": format!("{origin}/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": [{ "preferred_network": host, "preferred_cache": host, "aliases": [host] }],
    }))
}
