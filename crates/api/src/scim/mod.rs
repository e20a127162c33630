//! SCIM 2.0 (RFC 7643, RFC 7644) at `/scim/v2`, for Entra's provisioning service: users become
//! members before anyone signs in, `active: false` disables them, and provisioned group
//! memberships grant channels even past the groups overage.
//!
//! The flow through the modules: [`tokens`] (who may provision, and which tenant) →
//! [`filter`], [`patch`] and [`membership`] (pure: what Entra sends, read and applied) → [`store`] (the member
//! database) → [`users`] and [`groups`] (the handlers) and [`discovery`] (what the endpoint
//! supports).

pub mod discovery;
pub mod filter;
pub mod groups;
pub mod membership;
pub mod patch;
pub mod store;
pub mod tokens;
pub mod users;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::members::StoreError;
use crate::AppState;

/// SCIM's media type (RFC 7644 §3.1).
pub const MEDIA_TYPE: &str = "application/scim+json";

/// The largest request body read: Entra's requests are a few kilobytes; a group's membership
/// changes come in batches well under this.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// The most resources one page of a list holds (`count` above this is lowered to it).
pub const MAX_PAGE: i64 = 200;

/// Where the endpoint is mounted.
pub const BASE: &str = "/scim/v2";

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// The tenant the caller's SCIM token provisions.
#[derive(Debug, Clone)]
pub struct ScimTenant(pub String);

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

    fn unauthorized(detail: impl Into<String>) -> Self {
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

impl From<patch::Refusal> for ScimError {
    fn from(refusal: patch::Refusal) -> Self {
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

/// The SCIM routes, each behind the token check.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/scim/v2/Users", get(users::list).post(users::create))
        .route("/scim/v2/Users/{id}", get(users::read).patch(users::patch).put(users::replace).delete(users::delete))
        .route("/scim/v2/Groups", get(groups::list).post(groups::create))
        .route(
            "/scim/v2/Groups/{id}",
            get(groups::read).patch(groups::patch).put(groups::replace).delete(groups::delete),
        )
        .route("/scim/v2/ServiceProviderConfig", get(discovery::service_provider_config))
        .route("/scim/v2/ResourceTypes", get(discovery::resource_types))
        .route("/scim/v2/ResourceTypes/{name}", get(discovery::resource_type))
        .route("/scim/v2/Schemas", get(discovery::schemas))
        .route("/scim/v2/Schemas/{id}", get(discovery::schema))
        .route("/scim/v2/.search", any(search))
        .route("/scim/v2/Users/.search", any(search))
        .route("/scim/v2/Groups/.search", any(search))
        .route("/scim/v2", any(unknown_endpoint))
        .route("/scim/v2/", any(unknown_endpoint))
        .route("/scim/v2/{*rest}", any(unknown_endpoint))
        .route_layer(axum::middleware::from_fn_with_state(state, authenticate))
}

/// `/.search` (RFC 7644 §3.4.3, optional): not supported, as `/ServiceProviderConfig` says.
async fn search(request: Request) -> ScimError {
    ScimError {
        status: StatusCode::NOT_IMPLEMENTED,
        scim_type: None,
        detail: format!(
            "expected GET with a filter query, e.g. GET /scim/v2/Users?filter=userName eq \"…\" (found {} {}: \
             POST /.search is not supported)",
            request.method(),
            request.uri().path()
        ),
    }
}

/// Any other path under `/scim/v2` is a SCIM 404, never the SPA's page.
async fn unknown_endpoint(request: Request) -> ScimError {
    ScimError {
        status: StatusCode::NOT_FOUND,
        scim_type: None,
        detail: format!(
            "expected an endpoint of {BASE}: Users, Groups, ServiceProviderConfig, ResourceTypes or Schemas (found {})",
            request.uri().path()
        ),
    }
}

/// Admits a request with a live SCIM token of an allowed tenant; anything else is a 401 in
/// SCIM's shape that says what was expected.
async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .and_then(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned()));
    let Some(presented) = presented else {
        return ScimError::unauthorized(
            "expected `Authorization: Bearer <SCIM token>` (found none): paste a token from \
             `channels-api scim-token create` into Entra's Provisioning → Admin credentials → Secret token",
        )
        .into_response();
    };
    let tenant = match state.members.scim_tenant(&presented).await {
        Ok(Some(tenant)) => tenant,
        Ok(None) => {
            tracing::info!("SCIM token refused");
            return ScimError::unauthorized(
                "expected a live SCIM token made by `channels-api scim-token create` (found an unknown or \
                 revoked one): make a new one and paste it into Provisioning → Admin credentials → Secret token",
            )
            .into_response();
        }
        Err(error) => return ScimError::from(error).into_response(),
    };
    if !state.config.allowed_tenants.iter().any(|allowed| allowed.eq_ignore_ascii_case(&tenant)) {
        return ScimError {
            status: StatusCode::FORBIDDEN,
            scim_type: None,
            detail: format!(
                "expected a token of an allowed tenant (found one of {tenant}, which entra.allowed_tenants no longer lists)"
            ),
        }
        .into_response();
    }
    request.extensions_mut().insert(ScimTenant(tenant));
    next.run(request).await
}

/// Reads a JSON request body of at most [`MAX_BODY_BYTES`].
pub async fn read_json(body: Body) -> Result<Value, ScimError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| ScimError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        scim_type: None,
        detail: format!("expected a request body of at most {MAX_BODY_BYTES} bytes (found more, or a broken body)"),
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("expected a JSON body (found invalid JSON: {e})")))
}

/// The query parameters of a list or read: `filter`, `startIndex`, `count`, `attributes`,
/// `excludedAttributes` (names compared case-insensitively; others are ignored).
#[derive(Debug, Default)]
pub struct Listing {
    /// The parsed filter.
    pub filter: Option<filter::Filter>,
    /// 1-based index of the first result.
    pub start_index: i64,
    /// The most results to return.
    pub count: i64,
    /// Attributes to return (besides `id` and `schemas`), when named.
    pub attributes: Option<Vec<String>>,
    /// Attributes to leave out.
    pub excluded: Vec<String>,
}

impl Listing {
    /// Reads the query parameters.
    pub fn read(params: &[(String, String)]) -> Result<Self, ScimError> {
        let get = |name: &str| params.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        let number = |name: &str, default: i64| -> Result<i64, ScimError> {
            match get(name) {
                None => Ok(default),
                Some(text) => text.trim().parse().map_err(|_| {
                    ScimError::bad("invalidValue", format!("expected `{name}` to be a whole number (found `{text}`)"))
                }),
            }
        };
        let list = |name: &str| -> Vec<String> {
            get(name)
                .map(|text| text.split(',').map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect())
                .unwrap_or_default()
        };
        let filter =
            get("filter").map(filter::parse_filter).transpose().map_err(|e| ScimError::bad("invalidFilter", e.0))?;
        Ok(Self {
            filter,
            // RFC 7644 §3.4.2.4: below 1 is read as 1; a negative count as 0.
            start_index: number("startIndex", 1)?.max(1),
            count: number("count", MAX_PAGE)?.clamp(0, MAX_PAGE),
            attributes: get("attributes").map(|_| list("attributes")),
            excluded: list("excludedAttributes"),
        })
    }

    /// Whether `attribute` is to be returned.
    pub fn returns(&self, attribute: &str) -> bool {
        let named = |list: &[String]| list.iter().any(|a| a.eq_ignore_ascii_case(attribute));
        !named(&self.excluded) && self.attributes.as_deref().is_none_or(named)
    }

    /// Drops what the caller asked not to see; `id` and `schemas` always stay.
    pub fn project(&self, mut resource: Map<String, Value>) -> Value {
        resource.retain(|key, _| key == "id" || key == "schemas" || self.returns(key));
        Value::Object(resource)
    }
}

/// A ListResponse of one page.
pub fn list_response(total: i64, start_index: i64, resources: Vec<Value>) -> Response {
    respond(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start_index,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    )
}

/// A filter comparison's value as text, or an `invalidFilter` naming the attribute.
pub fn text_value(comparison: &filter::Comparison) -> Result<String, ScimError> {
    comparison.value.as_str().map(str::to_owned).ok_or_else(|| {
        ScimError::bad(
            "invalidFilter",
            format!("expected a quoted string to compare `{}` with (found {})", comparison.attr, comparison.value),
        )
    })
}

/// RFC 3339 time of `seconds` since the epoch, as SCIM's `meta` writes it.
pub fn timestamp(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The `meta` of a resource.
pub fn meta(kind: &str, id: &str, created: i64, modified: i64) -> Value {
    let endpoint = if kind == "User" { "Users" } else { "Groups" };
    json!({
        "resourceType": kind,
        "created": timestamp(created),
        "lastModified": timestamp(modified.max(created)),
        "location": format!("{BASE}/{endpoint}/{id}"),
    })
}

/// A 201 with `Location`.
pub fn created(resource: &Value) -> Response {
    let mut response = respond(StatusCode::CREATED, resource);
    if let Some(location) = resource["meta"]["location"].as_str().and_then(|l| HeaderValue::from_str(l).ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}
