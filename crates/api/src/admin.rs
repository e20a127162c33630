//! The admin tools of `channels-api`: `check-token`, `manifest`, `preview` and `members`. Each
//! returns its report as text, so the binary only prints it and tests read it.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::auth::Validator;
use crate::channels::{Groups, ProvisionedGroup};
use crate::config::{parse_origin, ApiConfig, TokenVersion};
use crate::members::{Member, MemberStore, StoreError};

/// `check-token`: whether `token` is valid for this configuration, and if not, every reason
/// with its fix. Returns the report and whether the token is valid.
pub async fn check_token(validator: &Validator, token: &str) -> (String, bool) {
    let (claims, problems) = validator.diagnose(token.trim()).await;
    let mut out = String::new();
    if let Some(claims) = &claims {
        let who = claims.upn.as_deref().or(claims.preferred_username.as_deref()).unwrap_or("(no upn)");
        let _ = writeln!(out, "token of {who} (tid {}, oid {})", claims.tid, claims.oid);
        let _ =
            writeln!(out, "  iss {}\n  aud {}\n  scp {}", claims.iss, claims.aud, claims.scp.as_deref().unwrap_or("-"));
        let _ = writeln!(out, "  ver {}  nbf {}  exp {}", claims.ver.as_deref().unwrap_or("-"), claims.nbf, claims.exp);
        match (&claims.groups, claims.has_group_overage()) {
            (_, true) => {
                out.push_str("  groups: overage (more than 200, or 6 in the implicit flow; not in the token)\n")
            }
            (Some(groups), _) => {
                let _ = writeln!(out, "  groups: {}", groups.join(", "));
            }
            (None, _) => out.push_str("  groups: none in the token\n"),
        }
    }
    if problems.is_empty() {
        out.push_str("VALID for this configuration\n");
        return (out, true);
    }
    let _ = writeln!(out, "INVALID for this configuration: {} problem(s)", problems.len());
    for problem in &problems {
        let _ = writeln!(out, "  - {problem}");
        if let Some(fix) = problem.fix() {
            let _ = writeln!(out, "    fix: {fix}");
        }
    }
    (out, false)
}

/// Why an admin tool refused (`manifest`, `members`): what was expected and what was found.
#[derive(Debug, PartialEq, Eq)]
pub struct AdminError(pub String);

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AdminError {}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        Self(error.to_string())
    }
}

/// `manifest`: the Microsoft Graph app manifest that matches this configuration — one SPA
/// redirect URI per host, the exposed scope, `upn` and `groups` (sAMAccountName) optional
/// claims, and no Microsoft Graph permission — for the portal's manifest upload. The implicit
/// grant's two switches are on only when the organisation of this registration opted into the
/// implicit flow.
pub fn manifest(config: &ApiConfig, hosts: &[String]) -> Result<serde_json::Value, AdminError> {
    if hosts.is_empty() {
        return Err(AdminError(
            "expected at least one --host, e.g. --host https://channels.example.com (found none)".into(),
        ));
    }
    let redirect_uris = hosts
        .iter()
        .map(|host| parse_origin(host, "--host").map(|origin| format!("{origin}/sso")))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AdminError(e.to_string()))?;
    let scope_id = stable_guid(&format!("{}/{}", config.client_id, config.scope));
    let version =
        if config.token_versions.contains(&TokenVersion::V2) { serde_json::json!(2) } else { serde_json::Value::Null };
    // Implicit grant only for an organisation that opted in: the one this registration signs in.
    let implicit = config.spa_implicit_flow
        || config.profiles.iter().any(|profile| profile.implicit_flow && profile.client_id == config.client_id);
    Ok(serde_json::json!({
        "appId": config.client_id,
        "displayName": "Channels",
        "signInAudience": if config.allowed_tenants.len() > 1 { "AzureADMultipleOrgs" } else { "AzureADMyOrg" },
        "identifierUris": [config.app_id_uri()],
        "spa": { "redirectUris": redirect_uris },
        "web": {
            "redirectUris": [],
            "implicitGrantSettings": { "enableAccessTokenIssuance": implicit, "enableIdTokenIssuance": implicit }
        },
        "publicClient": { "redirectUris": [] },
        "api": {
            "requestedAccessTokenVersion": version,
            "oauth2PermissionScopes": [{
                "id": scope_id,
                "value": config.scope,
                "type": "User",
                "isEnabled": true,
                "adminConsentDisplayName": "Use Channels as the signed-in user",
                "adminConsentDescription": "Lets the Channels app read the signed-in user's channels and update their profile.",
                "userConsentDisplayName": "Use Channels as you",
                "userConsentDescription": "Lets Channels show your channels and save your preferences."
            }],
            "preAuthorizedApplications": []
        },
        "groupMembershipClaims": "SecurityGroup",
        "optionalClaims": {
            "accessToken": [
                { "name": "upn", "essential": false, "additionalProperties": ["include_externally_authenticated_upn"] },
                { "name": "groups", "essential": false, "additionalProperties": ["sam_account_name"] }
            ],
            // The session id: the SPA's front-channel logout route ends only the session it names.
            "idToken": [{ "name": "sid", "essential": false, "additionalProperties": [] }],
            "saml2Token": []
        },
        "requiredResourceAccess": [{
            "resourceAppId": config.client_id,
            "resourceAccess": [{ "id": scope_id, "type": "Scope" }]
        }]
    }))
}

/// A GUID derived from `seed`, so the manifest is the same every time it is printed.
fn stable_guid(seed: &str) -> String {
    let hash = Sha256::digest(seed.as_bytes());
    let hex: String = hash.iter().take(16).map(|b| format!("{b:02x}")).collect();
    // Version 4 and RFC 4122 variant bits, so the portal accepts it as a GUID.
    let version = format!("4{}", &hex[13..16]);
    let variant = format!("{:x}{}", (u8::from_str_radix(&hex[16..17], 16).unwrap_or(0) & 0x3) | 0x8, &hex[17..20]);
    format!("{}-{}-{version}-{variant}-{}", &hex[..8], &hex[8..12], &hex[20..32])
}

/// Who a preview is for: the user's tenant, sign-in name, groups (`None`: no groups claim),
/// app roles, and whether the groups were dropped for overage.
pub struct Previewed<'a> {
    /// The user's tenant (`tid`).
    pub tenant: &'a str,
    /// The name shown.
    pub upn: &'a str,
    /// The `groups` claim, if any.
    pub groups: Option<&'a [String]>,
    /// The `roles` claim.
    pub roles: &'a [String],
    /// Whether the groups were dropped for overage.
    pub overage: bool,
    /// The groups SCIM provisioning gave the user, used when the token has none.
    pub provisioned: &'a [ProvisionedGroup],
    /// Whether SCIM provisioning is on for the tenant (it has a live SCIM token).
    pub scim: bool,
}

/// What an admin should know of `tenant`'s channel references once SCIM provisioning is on: a
/// name reference matches a provisioned group's `displayName`, which the group's owners can
/// change, and a domain-qualified one never matches a provisioned group. One line each.
pub fn provisioning_warnings(config: &ApiConfig, tenant: &str) -> Vec<String> {
    let by_name = config.channels.granted_by_name(tenant).map(|(channel, name)| {
        format!(
            "channel {channel:?} is granted by the group name `{name}`: with SCIM provisioning on, a provisioned \
             group of that displayName grants it, and a group's owners can rename their group; name the group by \
             its object id instead (Entra: Groups → the group → Object ID)"
        )
    });
    let qualified = config.channels.qualified_refs(tenant).map(|(channel, reference)| {
        format!(
            "channel {channel:?}: `{reference}` is domain-qualified, so it matches the token's groups claim only, \
             never a provisioned group (SCIM carries no domain); add the group's object id to the channel for \
             provisioned members"
        )
    });
    by_name.chain(qualified).collect()
}

/// `preview`: the channels a user would get, in which tenant, and why.
pub fn preview(config: &ApiConfig, user: &Previewed) -> String {
    let Previewed { tenant, upn, groups, roles, overage, provisioned, scim } = *user;
    let mut out = String::new();
    let (assignment, reasons) = if groups.is_none() && !provisioned.is_empty() {
        let names: Vec<&str> = provisioned.iter().map(|g| g.display_name.as_str()).collect();
        let _ = writeln!(out, "provisioned memberships (SCIM): {}", names.join(", "));
        let reasons = config.channels.explain(tenant, Groups::Provisioned(provisioned), roles);
        (config.channels.assign_provisioned(tenant, provisioned, roles), reasons)
    } else {
        let reasons = config.channels.explain(tenant, Groups::Claim(groups.unwrap_or_default()), roles);
        (config.channels.assign_parts(tenant, groups, roles, overage), reasons)
    };
    let _ = writeln!(out, "{upn} (tenant {tenant}) would get {} channel(s):", assignment.channels.len());
    for (channel, reason) in reasons {
        let _ = writeln!(out, "  {channel:<24} by {reason}");
    }
    if let Some(notice) = assignment.notice {
        let _ = writeln!(out, "note ({}): {}", notice.code, notice.message);
        if let Some(fix) = notice.fix {
            let _ = writeln!(out, "fix: {fix}");
        }
    }
    if scim || !provisioned.is_empty() {
        for warning in provisioning_warnings(config, tenant) {
            let _ = writeln!(out, "warning: {warning}");
        }
    }
    out
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
    let tenant_of = || tenant.map(str::to_owned).ok_or_else(|| AdminError("expected --tenant (found none)".into()));
    let one = |member: &Member| if json { format!("{}\n", member_json(member)) } else { member_line(member) };
    match action {
        MembersAction::Add { upn, name, roles } => {
            let tenant = tenant_of()?;
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
            Ok(one(&conflict(store.set_disabled(&tenant_of()?, &who, Some(now)).await?)?))
        }
        MembersAction::Enable { who } => Ok(one(&conflict(store.set_disabled(&tenant_of()?, &who, None).await?)?)),
        MembersAction::Remove { who } => {
            let gone = conflict(store.remove(&tenant_of()?, &who).await?)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_matches_the_configuration() {
        let config = ApiConfig::demo();
        let hosts = ["https://channels.example.com".to_owned(), "https://dc2.example.com/".to_owned()];
        let manifest = manifest(&config, &hosts).unwrap();
        assert_eq!(
            manifest["spa"]["redirectUris"],
            serde_json::json!(["https://channels.example.com/sso", "https://dc2.example.com/sso"])
        );
        assert_eq!(manifest["identifierUris"], serde_json::json!([config.app_id_uri()]));
        assert_eq!(manifest["api"]["requestedAccessTokenVersion"], 2);
        let scope = &manifest["api"]["oauth2PermissionScopes"][0];
        assert_eq!(scope["value"], "UserProfile.ReadWrite");
        assert_eq!(manifest["requiredResourceAccess"][0]["resourceAccess"][0]["id"], scope["id"]);
        assert!(channels_protocol::claims::is_guid(scope["id"].as_str().unwrap()));
        assert_eq!(
            manifest["optionalClaims"]["accessToken"][1]["additionalProperties"],
            serde_json::json!(["sam_account_name"])
        );
        assert_eq!(manifest["optionalClaims"]["idToken"][0]["name"], "sid");
        let text = manifest.to_string();
        assert!(!text.contains("00000003-0000-0000-c000-000000000000"), "no Microsoft Graph permission");
        assert_eq!(manifest, super::manifest(&config, &hosts).unwrap(), "stable from run to run");
        let implicit = &manifest["web"]["implicitGrantSettings"];
        assert_eq!(
            implicit,
            &serde_json::json!({ "enableAccessTokenIssuance": false, "enableIdTokenIssuance": false })
        );
        // Only an organisation that opted in gets the implicit grant: the default sign-in's, or
        // the profile of this registration (the organisations fixture's first).
        let opted_in = ApiConfig { spa_implicit_flow: true, ..ApiConfig::demo() };
        let implicit = super::manifest(&opted_in, &hosts).unwrap()["web"]["implicitGrantSettings"].clone();
        assert_eq!(implicit, serde_json::json!({ "enableAccessTokenIssuance": true, "enableIdTokenIssuance": true }));
        let organisations = include_str!("../../../e2e/fixtures/organisations.toml");
        let mut config = ApiConfig::parse(organisations, |_| None).unwrap();
        let granted = |config: &ApiConfig| {
            super::manifest(config, &hosts).unwrap()["web"]["implicitGrantSettings"]["enableIdTokenIssuance"] == true
        };
        config.profiles[1].implicit_flow = true; // Fabrikam: another registration
        assert!(!granted(&config));
        config.profiles[0].implicit_flow = true; // Contoso: this one
        assert!(granted(&config));
    }

    #[test]
    fn manifest_refuses_missing_and_insecure_hosts() {
        let config = ApiConfig::demo();
        assert!(manifest(&config, &[]).unwrap_err().0.starts_with("expected at least one --host"));
        let error = manifest(&config, &["http://channels.example.com".to_owned()]).unwrap_err();
        assert!(error.0.starts_with("--host: expected an origin"), "{error}");
    }

    #[test]
    fn preview_says_which_group_grants_each_channel() {
        let config = ApiConfig::demo();
        let groups = vec!["CONTOSO\\Dispatch".to_owned()];
        let tenant = crate::config::DEMO_TENANT_ID;
        let alice = Previewed {
            tenant,
            upn: "alice@contoso.example",
            groups: Some(&groups),
            roles: &[],
            overage: false,
            provisioned: &[],
            scim: false,
        };
        assert_eq!(
            preview(&config, &alice),
            "alice@contoso.example (tenant 4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f) would get 2 channel(s):\n  All Call                 by group CONTOSO\\Dispatch\n  Dispatch Ops             by group CONTOSO\\Dispatch\n"
        );
        let dave = Previewed {
            tenant,
            upn: "dave@contoso.example",
            groups: None,
            roles: &[],
            overage: true,
            provisioned: &[],
            scim: false,
        };
        let overage = preview(&config, &dave);
        assert!(overage.contains("note (groups_overage)"), "{overage}");
        let site = |name: &str, id: &str| ProvisionedGroup { display_name: name.into(), external_id: Some(id.into()) };
        let provisioned = [site("Site-001", "5173e000-0000-4000-8000-000000000001"), site("Dispatch", "0c6a1f52")];
        let dave = Previewed { provisioned: &provisioned, ..dave };
        let text = preview(&config, &dave);
        assert!(
            text.starts_with("provisioned memberships (SCIM): Site-001, Dispatch\ndave@contoso.example (tenant 4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f) would get 2 channel(s):\n  All Call                 by provisioned group Dispatch\n  Dispatch Ops             by provisioned group Dispatch\nnote (provisioned_groups): These are the channels from your organisation's provisioning: your token carries no groups, so the API used the group memberships Entra provisioned.\nwarning: "),
            "{text}"
        );
        // Every name reference of the demo is flagged: seven, All Call's three among them.
        let warnings: Vec<&str> = text.lines().filter(|line| line.starts_with("warning: ")).collect();
        assert_eq!(warnings.len(), 7, "{text}");
        assert!(warnings[0].starts_with("warning: channel \"All Call\" is granted by the group name `dispatch`"));
        assert!(warnings.iter().all(|w| w.contains("rename") && w.contains("object id")), "{warnings:?}");
    }

    #[test]
    fn preview_flags_names_and_qualified_groups_once_scim_is_on() {
        let mut config = ApiConfig::demo();
        config.channels = crate::channels::ChannelMap::new(vec![crate::channels::Channel {
            name: "Ops".into(),
            tenant: None,
            groups: ["CONTOSO\\Dispatch", "0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0001"]
                .iter()
                .map(|g| crate::channels::GroupRef::parse(g).unwrap())
                .collect(),
            roles: Vec::new(),
        }]);
        let tenant = crate::config::DEMO_TENANT_ID;
        let user =
            Previewed { tenant, upn: "u", groups: None, roles: &[], overage: false, provisioned: &[], scim: false };
        assert!(!preview(&config, &user).contains("warning"), "SCIM off: nothing to flag");
        let text = preview(&config, &Previewed { scim: true, ..user });
        let warnings: Vec<&str> = text.lines().filter(|line| line.starts_with("warning: ")).collect();
        assert_eq!(warnings.len(), 1, "{text}");
        assert!(warnings[0].contains("`contoso\\dispatch` is domain-qualified"), "{text}");
        assert!(warnings[0].contains("never a provisioned group"), "{text}");
    }
}
