//! `/scim/v2/Groups`: the groups Entra provisions and their members (by SCIM user id, which is
//! the member's object id). A channel's configured group matches a provisioned group by its
//! `externalId` (an object id) or its whole `displayName` (a name), never both ways
//! ([`crate::channels`]). Changes answer 204, as Entra asks; a change of members costs what it
//! names, never the group's size ([`super::membership`]).

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::error::{respond, ScimError};
use super::membership::{member_ids, MembershipChange};
use super::patch::{operations, GROUP, GROUP_SCHEMA};
use super::resource::{created, list_response, meta, read_json, text_value, Listing};
use super::store::{GroupCriterion, ScimGroup};
use super::tenant::ScimTenant;
use crate::state::AppState;

/// `GET /Groups[?filter=…&excludedAttributes=members]`.
pub async fn list(
    State(state): State<AppState>,
    ScimTenant(tenant): ScimTenant,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ScimError> {
    let listing = Listing::read(&params)?;
    let mut criteria = Vec::new();
    for comparison in listing.filter.iter().flat_map(|f| &f.0) {
        let value = text_value(comparison)?;
        criteria.push(match comparison.attr.to_ascii_lowercase().as_str() {
            "displayname" => GroupCriterion::DisplayName(value),
            "externalid" => GroupCriterion::ExternalId(value),
            "id" => GroupCriterion::Id(value),
            // Entra's membership check: `id eq "…" and members eq "…"`.
            "members" | "members.value" => GroupCriterion::HasMember(value),
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
        state.provisioned.groups(&tenant, &criteria, listing.start_index - 1, listing.count, with_members).await?;
    let resources = groups.iter().map(|group| listing.project(resource(group))).collect();
    Ok(list_response(total, listing.start_index, resources))
}

/// `GET /Groups/{id}`.
pub async fn read(
    State(state): State<AppState>,
    ScimTenant(tenant): ScimTenant,
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
    ScimTenant(tenant): ScimTenant,
    body: Body,
) -> Result<Response, ScimError> {
    let mut sent = GROUP.normalise(&read_json(body).await?)?;
    let members = sent.remove("members").map(|members| member_ids(&members)).transpose()?.unwrap_or_default();
    let change = MembershipChange::replace_with(members)?;
    let now = state.now();
    let group = ScimGroup {
        id: uuid::Uuid::new_v4().to_string(),
        resource: sent,
        members: Some(change.add.clone()),
        created_at: now,
        updated_at: now,
    };
    save(&state, &tenant, &group, &change).await?;
    tracing::info!(tenant = %tenant, group = %group.id, "SCIM group created");
    Ok(created(&Value::Object(resource(&group))))
}

/// `PATCH /Groups/{id}`: names and memberships. The members it names are added or removed; the
/// group's other members are not read.
pub async fn patch(
    State(state): State<AppState>,
    ScimTenant(tenant): ScimTenant,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ScimError> {
    let (change, others) = MembershipChange::split(operations(&read_json(body).await?)?)?;
    let mut group = find(&state, &tenant, &id, false).await?;
    let before = group.resource.get("externalId").cloned();
    GROUP.apply(&mut group.resource, &others)?;
    keeps_external_id(before.as_ref(), &group.resource)?;
    group.updated_at = state.now();
    save(&state, &tenant, &group, &change).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /Groups/{id}`: replaces the group (and its members, when the body lists them).
pub async fn replace(
    State(state): State<AppState>,
    ScimTenant(tenant): ScimTenant,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ScimError> {
    let mut sent = GROUP.normalise(&read_json(body).await?)?;
    let members = sent.remove("members").map(|members| member_ids(&members)).transpose()?;
    let change = members.map(MembershipChange::replace_with).transpose()?.unwrap_or_default();
    let mut group = find(&state, &tenant, &id, false).await?;
    keeps_external_id(group.resource.get("externalId"), &sent)?;
    group.resource = sent;
    group.updated_at = state.now();
    group.members = change.clear.then(|| change.add.clone());
    save(&state, &tenant, &group, &change).await?;
    Ok(respond(StatusCode::OK, &Value::Object(resource(&group))))
}

/// `DELETE /Groups/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    ScimTenant(tenant): ScimTenant,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    if !state.provisioned.delete_group(&tenant, &id).await? {
        return Err(ScimError::not_found("Group", &id));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn find(state: &AppState, tenant: &str, id: &str, with_members: bool) -> Result<ScimGroup, ScimError> {
    state.provisioned.group(tenant, id, with_members).await?.ok_or_else(|| ScimError::not_found("Group", id))
}

/// A group's `externalId`, once set, is what an object-id reference of a channel trusts (Entra
/// sends the group's object id there): it may not change afterwards.
fn keeps_external_id(before: Option<&Value>, after: &Map<String, Value>) -> Result<(), ScimError> {
    let Some(Value::String(before)) = before else { return Ok(()) };
    match after.get("externalId") {
        Some(Value::String(after)) if after.eq_ignore_ascii_case(before) => Ok(()),
        found => Err(ScimError::bad(
            "mutability",
            format!(
                "expected externalId to stay {before} (found {}): a provisioned group's object id is what channels \
                 trust, and it does not change in Entra",
                found.map_or("none".into(), Value::to_string)
            ),
        )),
    }
}

/// Checks a group (a non-empty display name, a string external id) and stores it with the
/// change of its members, in one transaction.
async fn save(state: &AppState, tenant: &str, group: &ScimGroup, change: &MembershipChange) -> Result<(), ScimError> {
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
        // An object id is kept lower-case, so that it is unique whatever case Entra sends.
        Some(Value::String(id)) if channels_protocol::claims::is_guid(id) => Some(id.to_ascii_lowercase()),
        Some(Value::String(id)) => Some(id.clone()),
        Some(other) => {
            return Err(ScimError::bad("invalidValue", format!("expected externalId to be a string (found {other})")))
        }
    };
    state
        .provisioned
        .put_group(tenant, group, &display_name, external_id.as_deref(), change)
        .await?
        .map_err(|conflict| ScimError::conflict(conflict.0))
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
