//! One resource type's endpoint, `/Users` or `/Groups`: the HTTP side both share (the tenant, the
//! id, the query, the body, the 404 and the answer's shape) written once, over [`Endpoint`],
//! which says what differs: how a type is listed, found, created, changed and removed.

use std::future::Future;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::error::{respond, ScimError};
use super::resource::{created, list_response, read_json, Listing};
use super::tenant::ScimTenant;
use crate::state::AppState;

/// What a resource type does; the handlers below do the rest.
pub trait Endpoint: 'static {
    /// `User` or `Group`, as errors name it.
    const KIND: &'static str;
    /// A stored resource.
    type Stored: Send;

    /// How many resources of `tenant` match the listing's filter, and the page it asks for.
    fn list(
        state: &AppState,
        tenant: &str,
        listing: &Listing,
    ) -> impl Future<Output = Result<(i64, Vec<Self::Stored>), ScimError>> + Send;

    /// The resource `id` of `tenant`, with what the listing asks to see.
    fn find(
        state: &AppState,
        tenant: &str,
        id: &str,
        listing: &Listing,
    ) -> impl Future<Output = Result<Option<Self::Stored>, ScimError>> + Send;

    /// `POST`: stores what Entra sent.
    fn create(
        state: &AppState,
        tenant: &str,
        sent: Value,
    ) -> impl Future<Output = Result<Self::Stored, ScimError>> + Send;

    /// `PATCH`: applies the operations of `body` to the resource `id`, and answers.
    fn patch(
        state: &AppState,
        tenant: &str,
        id: &str,
        body: Value,
    ) -> impl Future<Output = Result<Response, ScimError>> + Send;

    /// `PUT`: replaces the resource `id` with what Entra sent.
    fn replace(
        state: &AppState,
        tenant: &str,
        id: &str,
        sent: Value,
    ) -> impl Future<Output = Result<Self::Stored, ScimError>> + Send;

    /// `DELETE`: whether there was a resource `id` to remove.
    fn delete(state: &AppState, tenant: &str, id: &str) -> impl Future<Output = Result<bool, ScimError>> + Send;

    /// The resource as returned to Entra.
    fn resource(stored: &Self::Stored) -> Map<String, Value>;
}

/// `GET /{Type}[?filter=…&startIndex=…&count=…&attributes=…]`.
pub async fn list<E: Endpoint>(
    State(state): State<AppState>,
    ScimTenant(tenant): ScimTenant,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ScimError> {
    let listing = Listing::read(&params)?;
    let (total, found) = E::list(&state, &tenant, &listing).await?;
    let resources = found.iter().map(|stored| listing.project(E::resource(stored))).collect();
    Ok(list_response(total, listing.start_index, resources))
}

/// `GET /{Type}/{id}`.
pub async fn read<E: Endpoint>(
    State(state): State<AppState>,
    ScimTenant(tenant): ScimTenant,
    Path(id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ScimError> {
    let listing = Listing::read(&params)?;
    let stored = E::find(&state, &tenant, &id, &listing).await?.ok_or_else(|| ScimError::not_found(E::KIND, &id))?;
    Ok(respond(StatusCode::OK, &listing.project(E::resource(&stored))))
}

/// `POST /{Type}`: 201 with the resource and its `Location`.
pub async fn create<E: Endpoint>(
    State(state): State<AppState>,
    ScimTenant(tenant): ScimTenant,
    body: Body,
) -> Result<Response, ScimError> {
    let stored = E::create(&state, &tenant, read_json(body).await?).await?;
    Ok(created(&Value::Object(E::resource(&stored))))
}

/// `PATCH /{Type}/{id}`.
pub async fn patch<E: Endpoint>(
    State(state): State<AppState>,
    ScimTenant(tenant): ScimTenant,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ScimError> {
    E::patch(&state, &tenant, &id, read_json(body).await?).await
}

/// `PUT /{Type}/{id}`: 200 with the resource.
pub async fn replace<E: Endpoint>(
    State(state): State<AppState>,
    ScimTenant(tenant): ScimTenant,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ScimError> {
    let stored = E::replace(&state, &tenant, &id, read_json(body).await?).await?;
    Ok(respond(StatusCode::OK, &Value::Object(E::resource(&stored))))
}

/// `DELETE /{Type}/{id}`: 204, or a 404 when there was none.
pub async fn delete<E: Endpoint>(
    State(state): State<AppState>,
    ScimTenant(tenant): ScimTenant,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    if !E::delete(&state, &tenant, &id).await? {
        return Err(ScimError::not_found(E::KIND, &id));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
