//! `/scim/v2/Groups`: the groups Entra provisions and their members (by SCIM user id, which is
//! the member's object id). A channel's configured group matches a provisioned group by its
//! `displayName` or its `externalId`. Changes answer 204, as Entra asks.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Map, Value};

use super::patch::{operations, GROUP, GROUP_SCHEMA};
use super::store::{Criterion, ScimGroup};
use super::{created, list_response, meta, read_json, respond, text_value, Listing, ScimError, ScimTenant};
use crate::AppState;

/// `GET /Groups[?filter=…&excludedAttributes=members]`.
pub async fn list(
    State(state): State<AppState>,
    Extension(ScimTenant(tenant)): Extension<ScimTenant>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ScimError> {
    let listing = Listing::read(&params)?;
    let mut criteria = Vec::new();
    for comparison in listing.filter.iter().flat_map(|f| &f.0) {
        let value = text_value(comparison)?;
        criteria.push(match comparison.attr.to_ascii_lowercase().as_str() {
            "displayname" => Criterion::Equals("display_key", value.to_lowercase()),
            "externalid" => Criterion::Equals("external_id", value),
            "id" => Criterion::Equals("id", value),
            // Entra's membership check: `id eq "…" and members eq "…"`.
            "members" | "members.value" => Criterion::HasMember(value.to_lowercase()),
            _ => {
                return Err(ScimError::bad(
                    "invalidFilter",
                    format!(
                        "expected a filter on displayName, externalId, id or members (found `{}`)",
                        comparison.attr
                    ),
                ))
            }
        });
    }
    let with_members = listing.returns("members");
    let (total, groups) =
        state.members.scim_groups(&tenant, &criteria, listing.start_index - 1, listing.count, with_members).await?;
    let resources = groups.iter().map(|group| listing.project(resource(group))).collect();
    Ok(list_response(total, listing.start_index, resources))
}

/// `GET /Groups/{id}`.
pub async fn read(
    State(state): State<AppState>,
    Extension(ScimTenant(tenant)): Extension<ScimTenant>,
    Path(id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ScimError> {
    let listing = Listing::read(&params)?;
    let group = find(&state, &tenant, &id, listing.returns("members")).await?;
    Ok(respond(StatusCode::OK, &listing.project(resource(&group))))
}

/// `POST /Groups`: Entra creates a group with no members, then adds them by PATCH.
pub async fn create(
    State(state): State<AppState>,
    Extension(ScimTenant(tenant)): Extension<ScimTenant>,
    body: Body,
) -> Result<Response, ScimError> {
    let sent = GROUP.normalise(&read_json(body).await?)?;
    let now = state.now();
    let group = ScimGroup {
        id: uuid::Uuid::new_v4().to_string(),
        resource: sent,
        members: Some(Vec::new()),
        created_at: now,
        updated_at: now,
    };
    let group = save(&state, &tenant, group, &[]).await?;
    tracing::info!(tenant = %tenant, group = %group.id, "SCIM group created");
    Ok(created(&Value::Object(resource(&group))))
}

/// `PATCH /Groups/{id}`: names and memberships.
pub async fn patch(
    State(state): State<AppState>,
    Extension(ScimTenant(tenant)): Extension<ScimTenant>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ScimError> {
    let operations = operations(&read_json(body).await?)?;
    let mut group = find(&state, &tenant, &id, true).await?;
    let before = group.members.clone().unwrap_or_default();
    let mut changed = group.resource.clone();
    changed.insert("members".into(), members_value(group.members.as_deref().unwrap_or_default()));
    GROUP.apply(&mut changed, &operations)?;
    group.resource = changed;
    // Members left in the resource become the memberships; none left (a removal of all) is none.
    group.members = Some(Vec::new());
    group.updated_at = state.now();
    save(&state, &tenant, group, &before).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /Groups/{id}`: replaces the group (and its members, when the body lists them).
pub async fn replace(
    State(state): State<AppState>,
    Extension(ScimTenant(tenant)): Extension<ScimTenant>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ScimError> {
    let sent = GROUP.normalise(&read_json(body).await?)?;
    let mut group = find(&state, &tenant, &id, false).await?;
    group.resource = sent;
    group.updated_at = state.now();
    let group = save(&state, &tenant, group, &[]).await?;
    Ok(respond(StatusCode::OK, &Value::Object(resource(&group))))
}

/// `DELETE /Groups/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Extension(ScimTenant(tenant)): Extension<ScimTenant>,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    if !state.members.scim_delete_group(&tenant, &id).await? {
        return Err(ScimError::not_found("Group", &id));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn find(state: &AppState, tenant: &str, id: &str, with_members: bool) -> Result<ScimGroup, ScimError> {
    state.members.scim_group(tenant, id, with_members).await?.ok_or_else(|| ScimError::not_found("Group", id))
}

/// Checks a group (a display name; members that are users of the tenant) and stores it: the
/// `members` of its resource, when present, become its memberships. Only members not in
/// `known` (its members before the change) are looked up: adding one to a large group costs one.
async fn save(state: &AppState, tenant: &str, mut group: ScimGroup, known: &[String]) -> Result<ScimGroup, ScimError> {
    let display_name = match group.resource.get("displayName") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        found => {
            return Err(ScimError::bad(
                "invalidValue",
                format!(
                    "expected displayName, a non-empty string (found {})",
                    found.map_or("none".into(), Value::to_string)
                ),
            ))
        }
    };
    let external_id = match group.resource.get("externalId") {
        None => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(other) => {
            return Err(ScimError::bad("invalidValue", format!("expected externalId to be a string (found {other})")))
        }
    };
    if let Some(members) = group.resource.remove("members") {
        group.members = Some(member_ids(&members)?);
    }
    if let Some(members) = &group.members {
        let added: Vec<String> = members.iter().filter(|id| !known.contains(id)).cloned().collect();
        let unknown = state.members.scim_unknown_users(tenant, &added).await?;
        if !unknown.is_empty() {
            return Err(ScimError::bad(
                "invalidValue",
                format!(
                    "expected members to be users provisioned to this tenant (found unknown id(s): {}): Entra \
                     provisions users before their groups; check that these users are in the provisioning scope",
                    unknown.join(", ")
                ),
            ));
        }
    }
    state
        .members
        .scim_put_group(tenant, &group, &display_name, external_id.as_deref())
        .await?
        .map_err(|conflict| ScimError::conflict(conflict.0))?;
    Ok(group)
}

/// The member ids of a `members` value: `[{"value": "…"}, …]`.
fn member_ids(members: &Value) -> Result<Vec<String>, ScimError> {
    let Some(list) = members.as_array() else {
        return Err(ScimError::bad("invalidValue", format!("expected members to be a list (found {members})")));
    };
    list.iter()
        .map(|member| match member.get("value") {
            Some(Value::String(id)) => Ok(id.to_lowercase()),
            _ => Err(ScimError::bad(
                "invalidValue",
                format!("expected each member as {{\"value\": \"<user id>\"}} (found {member})"),
            )),
        })
        .collect()
}

fn members_value(ids: &[String]) -> Value {
    Value::Array(ids.iter().map(|id| json!({ "value": id })).collect())
}

/// The Group resource returned to Entra.
fn resource(group: &ScimGroup) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([GROUP_SCHEMA]));
    out.insert("id".into(), json!(group.id));
    out.extend(group.resource.clone());
    if let Some(members) = &group.members {
        out.insert("members".into(), members_value(members));
    }
    out.insert("meta".into(), meta("Group", &group.id, group.created_at, group.updated_at));
    out
}
