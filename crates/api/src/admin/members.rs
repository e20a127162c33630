//! `members`: pre-create, list, disable, enable or remove a tenant's members.

use super::output::{tenant_argument, AdminError};
use crate::config::ApiConfig;
use crate::members::{Member, MemberStore};

/// `members` as the binary runs it: the tenant named by `--tenant` (or the only one allowed;
/// none lists every allowed tenant's), on the configured database, at time `now`.
pub async fn members_command(
    config: &ApiConfig,
    tenant: Option<String>,
    json: bool,
    action: MembersAction,
    now: i64,
) -> Result<String, AdminError> {
    let tenant = match (&action, tenant) {
        (MembersAction::List, None) => None,
        (_, tenant) => Some(tenant_argument(config, tenant)?),
    };
    let store = MemberStore::connect(config.database_url.secret()).await?;
    let outcome = members(config, &store, tenant.as_deref(), action, json, now).await;
    store.close().await;
    outcome
}

/// What `members` does to a tenant's members (Ivanti's, Impero's and Instant Connect's
/// pattern: accounts made by UPN before people first sign in, with the roles they should get).
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum MembersAction {
    /// Pre-create a member by UPN: their first sign-in (the token's `upn`) or SCIM's first
    /// provisioning (`userName`) in this tenant links it, and they keep these roles.
    Add {
        /// The user principal name, e.g. alice@contoso.example.
        upn: String,
        /// The name shown until they sign in.
        #[arg(long)]
        name: Option<String>,
        /// A role in Channels; repeat. Default: members.default_roles.
        #[arg(long = "role")]
        roles: Vec<String>,
    },
    /// List the members, pre-created ones included.
    List,
    /// Refuse the member's sign-ins (403 account_disabled), as SCIM's `active: false` does
    /// (members provisioned by SCIM are Entra's to disable).
    Disable {
        /// Their UPN, or their object id when members share a UPN.
        who: String,
    },
    /// Let a disabled member in again.
    Enable {
        /// Their UPN, or their object id when members share a UPN.
        who: String,
    },
    /// Forget the member and their provisioned memberships; a later sign-in creates them anew.
    Remove {
        /// Their UPN, or their object id when members share a UPN.
        who: String,
    },
}

/// `members`: runs `action` on `tenant`'s members (every allowed tenant's for `list` with no
/// tenant), answering text, or JSON with `json`, for the binary to print. Members SCIM
/// provisioned are listed, but their state is Entra's: disable, enable and remove refuse them.
pub async fn members(
    config: &ApiConfig,
    store: &MemberStore,
    tenant: Option<&str>,
    action: MembersAction,
    json: bool,
    now: i64,
) -> Result<String, AdminError> {
    let required_tenant =
        || tenant.map(str::to_owned).ok_or_else(|| AdminError("expected --tenant (found none)".into()));
    let one = |member: &Member| if json { format!("{}\n", member_json(member)) } else { member_line(member) };
    match action {
        MembersAction::Add { upn, name, roles } => {
            let tenant = required_tenant()?;
            let upn = upn_of(&upn)?;
            let roles = if roles.is_empty() { config.default_roles.clone() } else { roles };
            if let Some(bad) =
                roles.iter().find(|r| r.is_empty() || r.contains(|c: char| c.is_whitespace() || c == ','))
            {
                return Err(AdminError(format!(
                    "--role: expected a role name without spaces or commas (found {bad:?})"
                )));
            }
            let name = name.unwrap_or_else(|| upn.clone());
            let member = conflict(store.pre_create(&tenant, &upn, &name, &roles, now).await?)?;
            Ok(one(&member))
        }
        MembersAction::List => {
            let allowed =
                |member: &Member| config.allowed_tenants.iter().any(|t| t.eq_ignore_ascii_case(&member.tenant_id));
            let all: Vec<Member> = store.list(tenant).await?.into_iter().filter(allowed).collect();
            Ok(if json {
                format!("{}\n", serde_json::Value::Array(all.iter().map(member_json).collect()))
            } else {
                all.iter().map(member_line).collect()
            })
        }
        MembersAction::Disable { who } => {
            Ok(one(&conflict(store.set_disabled(&required_tenant()?, &who, Some(now)).await?)?))
        }
        MembersAction::Enable { who } => {
            Ok(one(&conflict(store.set_disabled(&required_tenant()?, &who, None).await?)?))
        }
        MembersAction::Remove { who } => {
            let gone = conflict(store.remove(&required_tenant()?, &who).await?)?;
            Ok(if json {
                format!("{}\n", serde_json::json!({ "removed": member_json(&gone) }))
            } else {
                format!("removed {}\n", gone.upn)
            })
        }
    }
}

fn conflict(outcome: Result<Member, crate::members::Conflict>) -> Result<Member, AdminError> {
    outcome.map_err(|conflict| AdminError(conflict.0))
}

/// A UPN as Entra writes one: a name, `@`, a domain.
fn upn_of(upn: &str) -> Result<String, AdminError> {
    let upn = upn.trim();
    match upn.split_once('@') {
        Some((name, domain)) if !name.is_empty() && domain.contains('.') && !upn.contains(char::is_whitespace) => {
            Ok(upn.to_owned())
        }
        _ => Err(AdminError(format!("expected a user principal name such as alice@contoso.example (found {upn:?})"))),
    }
}

/// Where a member stands: pre-created (not linked yet), active or disabled.
fn state_of(member: &Member) -> &'static str {
    match (member.object_id.is_empty(), member.disabled_at.is_some()) {
        (_, true) => "disabled",
        (true, false) => "pending",
        (false, false) => "active",
    }
}

fn member_line(member: &Member) -> String {
    let roles = if member.roles.is_empty() { "-".to_owned() } else { member.roles.join(",") };
    let id =
        if member.object_id.is_empty() { "not linked yet".to_owned() } else { format!("oid {}", member.object_id) };
    format!("{:<40} {:<8} roles {roles:<20} tenant {}  {id}\n", member.upn, state_of(member), member.tenant_id)
}

fn member_json(member: &Member) -> serde_json::Value {
    serde_json::json!({
        "upn": member.upn,
        "display_name": member.display_name,
        "tenant_id": member.tenant_id,
        "object_id": (!member.object_id.is_empty()).then_some(&member.object_id),
        "state": state_of(member),
        "roles": member.roles,
        "created_at": member.created_at,
        "last_seen_at": (member.last_seen_at != 0).then_some(member.last_seen_at),
    })
}
