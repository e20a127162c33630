//! `/scim/v2/Users`: Entra's users as members. The SCIM `id` is the user's object id, which
//! Entra sends as `externalId`, so a provisioned user and the same person signing in are one
//! member, keyed by `(tid, oid)`. `active: false` disables the member (soft delete: still
//! returned); `DELETE` removes them.

use axum::http::StatusCode;
use axum::response::Response;
use channels_protocol::claims::is_guid;
use serde_json::{json, Map, Value};

use super::endpoint::Endpoint;
use super::error::{respond, ScimError};
use super::patch::{operations, ENTERPRISE_SCHEMA, USER, USER_SCHEMA};
use super::resource::{meta, text_value, Listing};
use super::store::{ScimUser, UserColumns, UserCriterion};
use crate::state::AppState;

/// The `/Users` endpoint.
pub struct Users;

impl Endpoint for Users {
    const KIND: &'static str = "User";
    type Stored = ScimUser;

    async fn list(state: &AppState, tenant: &str, listing: &Listing) -> Result<(i64, Vec<ScimUser>), ScimError> {
        let criteria = listing.criteria("userName, externalId, id, displayName or active", |attr, comparison| {
            Ok(Some(match attr {
                "username" => UserCriterion::UserName(text_value(comparison)?),
                "externalid" | "id" => UserCriterion::ObjectId(text_value(comparison)?),
                "displayname" => UserCriterion::DisplayName(text_value(comparison)?),
                "active" => match USER.normalise(&json!({ "active": comparison.value }))?.get("active") {
                    Some(Value::Bool(active)) => UserCriterion::Active(*active),
                    _ => {
                        return Err(ScimError::bad("invalidFilter", "expected true or false to compare `active` with"))
                    }
                },
                _ => return Ok(None),
            }))
        })?;
        Ok(state.provisioned.users(tenant, &criteria, listing.start_index - 1, listing.count).await?)
    }

    async fn find(state: &AppState, tenant: &str, id: &str, _: &Listing) -> Result<Option<ScimUser>, ScimError> {
        Ok(state.provisioned.user(tenant, &id.to_lowercase()).await?)
    }

    /// Creates the member (or takes over the one who signed in first).
    async fn create(state: &AppState, tenant: &str, sent: Value) -> Result<ScimUser, ScimError> {
        let sent = USER.normalise(&sent)?;
        let columns = columns(&sent)?;
        let stored = state
            .provisioned
            .create_user(tenant, &columns.borrow(), &sent, &state.config.default_roles, state.now())
            .await?
            .map_err(|conflict| ScimError::conflict(conflict.0))?;
        tracing::info!(tenant = %tenant, user = %stored.member.object_id, active = columns.active, "SCIM user created");
        Ok(stored)
    }

    /// Entra's updates and its soft delete (`active: false`).
    async fn patch(state: &AppState, tenant: &str, id: &str, body: Value) -> Result<Response, ScimError> {
        let operations = operations(&body)?;
        let user = existing(state, tenant, id).await?;
        let mut changed = stored_form(&user);
        USER.apply(&mut changed, &operations)?;
        let stored = store(state, tenant, &user, &changed).await?;
        Ok(respond(StatusCode::OK, &Value::Object(resource(&stored))))
    }

    async fn replace(state: &AppState, tenant: &str, id: &str, sent: Value) -> Result<ScimUser, ScimError> {
        let sent = USER.normalise(&sent)?;
        let user = existing(state, tenant, id).await?;
        store(state, tenant, &user, &sent).await
    }

    /// The member and their memberships are removed.
    async fn delete(state: &AppState, tenant: &str, id: &str) -> Result<bool, ScimError> {
        let deleted = state.provisioned.delete_user(tenant, &id.to_lowercase()).await?;
        if deleted {
            tracing::info!(tenant = %tenant, user = %id, "SCIM user deleted");
        }
        Ok(deleted)
    }

    fn resource(user: &ScimUser) -> Map<String, Value> {
        resource(user)
    }
}

async fn existing(state: &AppState, tenant: &str, id: &str) -> Result<ScimUser, ScimError> {
    state.provisioned.user(tenant, &id.to_lowercase()).await?.ok_or_else(|| ScimError::not_found("User", id))
}

/// Checks the changed resource (its `externalId` may not change) and stores it.
async fn store(
    state: &AppState,
    tenant: &str,
    user: &ScimUser,
    changed: &Map<String, Value>,
) -> Result<ScimUser, ScimError> {
    let columns = columns(changed)?;
    if columns.object_id != user.member.object_id {
        return Err(ScimError::bad(
            "mutability",
            format!(
                "expected externalId to stay the user's object id {} (found `{}`): it is the member's key",
                user.member.object_id, columns.object_id
            ),
        ));
    }
    let stored = state
        .provisioned
        .update_user(tenant, &columns.borrow(), changed, state.now())
        .await?
        .map_err(|conflict| ScimError::conflict(conflict.0))?
        .ok_or_else(|| ScimError::not_found("User", &user.member.object_id))?;
    if stored.member.disabled_at.is_some() != user.member.disabled_at.is_some() {
        tracing::info!(tenant = %tenant, user = %user.member.object_id, active = columns.active, "SCIM user's active changed");
    }
    Ok(stored)
}

/// The columns a resource sets, owned.
struct Columns {
    object_id: String,
    user_name: String,
    display_name: String,
    active: bool,
}

impl Columns {
    fn borrow(&self) -> UserColumns<'_> {
        UserColumns {
            object_id: &self.object_id,
            user_name: &self.user_name,
            display_name: &self.display_name,
            active: self.active,
        }
    }
}

/// What the member table takes from a User resource, checked.
fn columns(resource: &Map<String, Value>) -> Result<Columns, ScimError> {
    let object_id = match resource.get("externalId") {
        Some(Value::String(id)) if is_guid(id) => id.to_lowercase(),
        found => {
            return Err(ScimError::bad(
                "invalidValue",
                format!(
                    "expected externalId to be the user's Entra object id, a GUID (found {}): in Entra, \
                     Provisioning → Mappings → Provision Microsoft Entra ID Users, map objectId to externalId",
                    found.map_or("none".to_owned(), Value::to_string)
                ),
            ))
        }
    };
    let user_name = match resource.get("userName") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        found => {
            return Err(ScimError::bad(
                "invalidValue",
                format!(
                    "expected userName, a non-empty string (found {})",
                    found.map_or("none".to_owned(), Value::to_string)
                ),
            ))
        }
    };
    let text =
        |value: Option<&Value>| value.and_then(Value::as_str).filter(|s| !s.trim().is_empty()).map(str::to_owned);
    let name = resource.get("name");
    let given_and_family = [name.and_then(|n| n.get("givenName")), name.and_then(|n| n.get("familyName"))]
        .into_iter()
        .filter_map(text)
        .collect::<Vec<_>>()
        .join(" ");
    let display_name = text(resource.get("displayName"))
        .or_else(|| text(name.and_then(|n| n.get("formatted"))))
        .or((!given_and_family.is_empty()).then_some(given_and_family))
        .unwrap_or_else(|| user_name.clone());
    let active = match resource.get("active") {
        None => true,
        Some(Value::Bool(active)) => *active,
        Some(other) => {
            return Err(ScimError::bad("invalidValue", format!("expected active to be true or false (found {other})")))
        }
    };
    Ok(Columns { object_id, user_name, display_name, active })
}

/// The resource as stored (an attribute Entra removed stays removed), or for a member who only
/// signed in, what their sign-in told; `active` always as the member is.
fn stored_form(user: &ScimUser) -> Map<String, Value> {
    let mut resource = user.resource.clone();
    let member = &user.member;
    if resource.is_empty() {
        resource.insert("externalId".into(), json!(member.object_id));
        resource.insert("userName".into(), json!(member.upn));
        resource.insert("displayName".into(), json!(member.display_name));
    }
    resource.insert("active".into(), json!(member.disabled_at.is_none()));
    resource
}

/// The User resource returned to Entra.
fn resource(user: &ScimUser) -> Map<String, Value> {
    let member = &user.member;
    let mut out = Map::new();
    let mut schemas = vec![json!(USER_SCHEMA)];
    if user.resource.contains_key(ENTERPRISE_SCHEMA) {
        schemas.push(json!(ENTERPRISE_SCHEMA));
    }
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("id".into(), json!(member.object_id));
    out.extend(stored_form(user));
    let modified = user.updated_at.unwrap_or(member.created_at).max(member.last_seen_at);
    out.insert("meta".into(), meta("User", &member.object_id, member.created_at, modified));
    out
}
