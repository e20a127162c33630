//! `/scim/v2/Groups`: the groups Entra provisions and their members (by SCIM user id, which is
//! the member's object id). A channel's configured group matches a provisioned group by its
//! `externalId` (an object id) or its whole `displayName` (a name), never both ways
//! ([`crate::channels`]). Changes answer 204, as Entra asks; a change of members costs what it
//! names, never the group's size ([`super::membership`]).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::endpoint::Endpoint;
use super::error::ScimError;
use super::membership::{member_ids, MembershipChange};
use super::patch::{operations, GROUP, GROUP_SCHEMA};
use super::resource::{meta, text_value, Listing};
use super::store::{GroupCriterion, ScimGroup};
use crate::state::AppState;

/// The `/Groups` endpoint.
pub struct Groups;

impl Endpoint for Groups {
    const KIND: &'static str = "Group";
    type Stored = ScimGroup;

    /// With `excludedAttributes=members`, as Entra asks, no member is read.
    async fn list(state: &AppState, tenant: &str, listing: &Listing) -> Result<(i64, Vec<ScimGroup>), ScimError> {
        let criteria = listing.criteria("displayName, externalId, id or members", |attr, comparison| {
            let value = text_value(comparison)?;
            Ok(match attr {
                "displayname" => Some(GroupCriterion::DisplayName(value)),
                "externalid" => Some(GroupCriterion::ExternalId(value)),
                "id" => Some(GroupCriterion::Id(value)),
                // Entra's membership check: `id eq "…" and members eq "…"`.
                "members" | "members.value" => Some(GroupCriterion::HasMember(value)),
                _ => None,
            })
        })?;
        let with_members = listing.returns("members");
        Ok(state.provisioned.groups(tenant, &criteria, listing.start_index - 1, listing.count, with_members).await?)
    }

    async fn find(state: &AppState, tenant: &str, id: &str, listing: &Listing) -> Result<Option<ScimGroup>, ScimError> {
        Ok(state.provisioned.group(tenant, id, listing.returns("members")).await?)
    }

    /// Entra creates a group with no members, then adds them by PATCH.
    async fn create(state: &AppState, tenant: &str, sent: Value) -> Result<ScimGroup, ScimError> {
        let mut sent = GROUP.normalise(&sent)?;
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
        save(state, tenant, &group, &change).await?;
        tracing::info!(tenant = %tenant, group = %group.id, "SCIM group created");
        Ok(group)
    }

    /// Names and memberships. The members it names are added or removed; the group's other
    /// members are not read. 204, as Entra asks.
    async fn patch(state: &AppState, tenant: &str, id: &str, body: Value) -> Result<Response, ScimError> {
        let (change, others) = MembershipChange::split(operations(&body)?)?;
        let mut group = existing(state, tenant, id).await?;
        let before = group.resource.get("externalId").cloned();
        GROUP.apply(&mut group.resource, &others)?;
        keeps_external_id(before.as_ref(), &group.resource)?;
        group.updated_at = state.now();
        save(state, tenant, &group, &change).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    /// Replaces the group (and its members, when the body lists them).
    async fn replace(state: &AppState, tenant: &str, id: &str, sent: Value) -> Result<ScimGroup, ScimError> {
        let mut sent = GROUP.normalise(&sent)?;
        let members = sent.remove("members").map(|members| member_ids(&members)).transpose()?;
        let change = members.map(MembershipChange::replace_with).transpose()?.unwrap_or_default();
        let mut group = existing(state, tenant, id).await?;
        keeps_external_id(group.resource.get("externalId"), &sent)?;
        group.resource = sent;
        group.updated_at = state.now();
        group.members = change.clear.then(|| change.add.clone());
        save(state, tenant, &group, &change).await?;
        Ok(group)
    }

    async fn delete(state: &AppState, tenant: &str, id: &str) -> Result<bool, ScimError> {
        Ok(state.provisioned.delete_group(tenant, id).await?)
    }

    fn resource(group: &ScimGroup) -> Map<String, Value> {
        resource(group)
    }
}

/// The group `id`, without its members.
async fn existing(state: &AppState, tenant: &str, id: &str) -> Result<ScimGroup, ScimError> {
    state.provisioned.group(tenant, id, false).await?.ok_or_else(|| ScimError::not_found("Group", id))
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
