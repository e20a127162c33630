//! `preview`: the channels a user would get and which group or role grants each, with the
//! warnings of a tenant whose groups SCIM provisions.

use std::fmt::Write as _;

use super::output::{tenant_argument, AdminError, Printed};
use super::token::unverified_claims;
use crate::channels::{Groups, ProvisionedGroup};
use crate::config::ApiConfig;
use crate::members::{MemberStore, StoreError};
use crate::scim::store::ScimStore;
use crate::scim::tokens::ScimTokens;

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

/// What `preview` is asked about: a user by UPN, tenant, groups and roles, or an access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewOf {
    /// A user as the arguments describe them (no groups: their provisioned memberships).
    User {
        /// The sign-in name shown.
        upn: String,
        /// `--tenant`, required when several are allowed.
        tenant: Option<String>,
        /// The groups claim's values.
        groups: Vec<String>,
        /// App roles.
        roles: Vec<String>,
    },
    /// The holder of this access token (its claims read without verifying it).
    Token {
        /// The token.
        token: String,
        /// The name shown when the token has no `upn` or `preferred_username`.
        upn: String,
    },
}

/// `preview` as the binary runs it. Without groups given, the user's provisioned memberships,
/// if SCIM pushed any; a database out of reach only leaves them out, with a note.
pub async fn preview_command(config: &ApiConfig, of: PreviewOf) -> Result<Printed, AdminError> {
    match of {
        PreviewOf::User { upn, tenant, groups, roles } => {
            let tenant = tenant_argument(config, tenant)?;
            let groups = Some(&groups).filter(|g| !g.is_empty()).map(Vec::as_slice);
            let (provisioned, scim, note) =
                provisioning_of(config, &tenant, groups.is_none().then_some(upn.as_str())).await;
            let user = Previewed {
                tenant: &tenant,
                upn: &upn,
                groups,
                roles: &roles,
                overage: false,
                provisioned: &provisioned,
                scim,
            };
            Ok(Printed { out: preview(config, &user), note })
        }
        PreviewOf::Token { token, upn } => {
            let claims = unverified_claims(&token)?;
            let upn = claims.display_upn().map_or(upn, str::to_owned);
            let roles = claims.roles.clone().unwrap_or_default();
            let (_, scim, note) = provisioning_of(config, &claims.tid, None).await;
            let user = Previewed {
                tenant: &claims.tid,
                upn: &upn,
                groups: claims.groups.as_deref(),
                roles: &roles,
                overage: claims.has_group_overage(),
                provisioned: &[],
                scim,
            };
            let out = format!(
                "(claims read from the token without verifying it; check-token verifies)
{}",
                preview(config, &user)
            );
            Ok(Printed { out, note })
        }
    }
}

/// Whether SCIM provisioning is on for `tenant` (it has a live SCIM token), and the provisioned
/// memberships of the member whose UPN is `upn`, when asked; a database out of reach leaves both
/// out, with a note for the admin.
pub async fn provisioning_of(
    config: &ApiConfig,
    tenant: &str,
    upn: Option<&str>,
) -> (Vec<ProvisionedGroup>, bool, String) {
    let read = async {
        let store = MemberStore::connect(config.database_url.secret()).await?;
        let scim = ScimTokens::new(&store).provisioned_tenants().await?.contains(tenant);
        let provisioned = ScimStore::new(store.clone());
        let member = match upn {
            Some(upn) => provisioned.by_upn(tenant, upn).await?,
            None => None,
        };
        let groups = match member {
            Some(member) => provisioned.provisioned_groups(tenant, &member.object_id).await?,
            None => Vec::new(),
        };
        store.close().await;
        Ok::<_, StoreError>((groups, scim, String::new()))
    };
    read.await
        .unwrap_or_else(|error| (Vec::new(), false, format!("note: provisioned memberships not read ({error})\n")))
}

/// Once SCIM provisioning is on for a tenant (a live SCIM token), its channels granted by a
/// group name, or by a domain-qualified name, each get a warning in the start-up log: see
/// [`provisioning_warnings`].
pub async fn warn_of_provisioned_names(config: &ApiConfig, tokens: &ScimTokens) {
    let tenants = match tokens.provisioned_tenants().await {
        Ok(tenants) => tenants,
        Err(error) => return tracing::warn!(%error, "SCIM tokens not read at start"),
    };
    for tenant in &tenants {
        for warning in provisioning_warnings(config, tenant) {
            tracing::warn!(tenant, "{warning}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
