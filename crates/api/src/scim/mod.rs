//! SCIM 2.0 (RFC 7643, RFC 7644) at `/scim/v2`, for Entra's provisioning service: users become
//! members before anyone signs in, `active: false` disables them, and provisioned group
//! memberships grant channels even past the groups overage.
//!
//! The flow through the modules: [`tokens`] and [`tenant`] (who may provision, and which tenant) →
//! [`filter`], [`patch`] and [`membership`] (pure: what Entra sends, read and applied) → [`store`] (the member
//! database) → [`endpoint`] (the handlers, one set for both resource types) over [`users`] and
//! [`groups`] (what each type does), answering with [`resource`] and [`error`]; and [`discovery`]
//! (what the endpoint supports).

pub mod discovery;
pub mod endpoint;
pub mod error;
pub mod filter;
pub mod groups;
pub mod membership;
pub mod patch;
pub mod resource;
pub mod store;
pub mod tenant;
pub mod tokens;
pub mod users;

pub use error::{ScimError, MEDIA_TYPE};
pub use resource::{timestamp, BASE, MAX_BODY_BYTES, MAX_PAGE};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::routing::{any, get};
use axum::Router;

use crate::state::AppState;
use endpoint::Endpoint;
use groups::Groups;
use tenant::ScimTenant;
use users::Users;

/// The SCIM routes, each behind the token check.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(resource_routes::<Users>("/scim/v2/Users"))
        .merge(resource_routes::<Groups>("/scim/v2/Groups"))
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
        .route_layer(axum::middleware::from_extractor_with_state::<ScimTenant, AppState>(state))
}

/// A resource type's collection at `path` and each resource at `path/{id}`.
fn resource_routes<E: Endpoint>(path: &str) -> Router<AppState> {
    use endpoint::{create, delete, list, patch, read, replace};
    Router::new()
        .route(path, get(list::<E>).post(create::<E>))
        .route(&format!("{path}/{{id}}"), get(read::<E>).patch(patch::<E>).put(replace::<E>).delete(delete::<E>))
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
