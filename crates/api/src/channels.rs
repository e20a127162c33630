//! The last step of the flow: from a verified token's groups and roles to the user's channels.
//!
//! Group names arrive as sAMAccountName (the ICE pattern), possibly domain-qualified, or as
//! object ids; they match case-insensitively. An empty answer is never silent: overage and a
//! missing groups claim each come with a notice that says what the admin must configure.
//!
//! A channel's groups and roles belong to a tenant: when several tenants are allowed, each
//! channel names its own (the configuration refuses one that does not), and only a token of that
//! tenant (`tid`) is granted it; a plain name such as `Dispatch` may exist in every tenant.
//!
//! Groups that SCIM provisioned (used when a token carries none) are trusted less than the
//! token's: a group's owners, who need not be admins, can rename it, and the next provisioning
//! cycle sends the new `displayName`. So a provisioned group matches an object-id reference by
//! its `externalId` only, a name reference by its whole `displayName` only, and a
//! domain-qualified reference never (SCIM carries no domain).

use channels_protocol::claims::is_guid;
use channels_protocol::wire::Notice;

use crate::auth::VerifiedClaims;

/// A group as the configuration names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRef {
    /// A sAMAccountName: matches that name from any domain (`Dispatch`, `CONTOSO\Dispatch`).
    Name(String),
    /// `NETBIOS\name` or `dns.domain\name`: matches that domain's group only, which avoids
    /// collisions between domains that reuse a name.
    Qualified {
        /// The NetBIOS or DNS domain, lower-cased.
        domain: String,
        /// The sAMAccountName, lower-cased.
        name: String,
    },
    /// A group object id (the claim's format when no on-premises format is configured).
    ObjectId(String),
}

impl GroupRef {
    /// Parses a configured group; `None` for an empty name or domain.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if is_guid(text) {
            return Some(Self::ObjectId(text.to_ascii_lowercase()));
        }
        match text.split_once('\\') {
            Some((domain, name)) if !domain.is_empty() && !name.is_empty() && !name.contains('\\') => {
                Some(Self::Qualified { domain: domain.to_lowercase(), name: name.to_lowercase() })
            }
            Some(_) => None,
            None if text.is_empty() => None,
            None => Some(Self::Name(text.to_lowercase())),
        }
    }

    /// Whether a provisioned group is this group: an object id against its `externalId` only,
    /// compared as a GUID; a name against its whole `displayName`, case-insensitively; a
    /// domain-qualified name never.
    pub fn matches_provisioned(&self, group: &ProvisionedGroup) -> bool {
        match self {
            Self::ObjectId(id) => group
                .external_id
                .as_deref()
                .is_some_and(|external| is_guid(external) && external.eq_ignore_ascii_case(id)),
            Self::Name(name) => group.display_name.to_lowercase() == *name,
            Self::Qualified { .. } => false,
        }
    }

    /// Whether a value of the `groups` claim is this group.
    pub fn matches(&self, claim: &str) -> bool {
        let claim = claim.to_lowercase();
        match self {
            Self::ObjectId(id) => claim == *id,
            Self::Name(name) => claim.rsplit('\\').next() == Some(name.as_str()),
            Self::Qualified { domain, name } => claim.split_once('\\') == Some((domain.as_str(), name.as_str())),
        }
    }
}

/// A group SCIM provisioning put a user in, as provisioning named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedGroup {
    /// The group's `displayName`: its owners can change it.
    pub display_name: String,
    /// The group's `externalId` (Entra's object id by default): nobody can change it.
    pub external_id: Option<String>,
}

/// A user's groups, and where they come from: which references may match depends on it.
#[derive(Debug, Clone, Copy)]
pub enum Groups<'a> {
    /// The token's `groups` claim, as Entra writes it from the directory.
    Claim(&'a [String]),
    /// The memberships SCIM provisioned, used when the token carries no groups.
    Provisioned(&'a [ProvisionedGroup]),
}

impl Groups<'_> {
    /// How the first of these groups that is one of `refs` is named: `group CONTOSO\Dispatch`,
    /// `provisioned group Dispatch`.
    fn granting(&self, refs: &[GroupRef]) -> Option<String> {
        match self {
            Self::Claim(claims) => {
                claims.iter().find(|claim| refs.iter().any(|g| g.matches(claim))).map(|claim| format!("group {claim}"))
            }
            Self::Provisioned(groups) => groups
                .iter()
                .find(|group| refs.iter().any(|g| g.matches_provisioned(group)))
                .map(|group| format!("provisioned group {}", group.display_name)),
        }
    }
}

/// One channel and what grants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// The channel's name.
    pub name: String,
    /// The tenant whose groups and roles grant it (lower-case); `None` only when the API allows
    /// one tenant.
    pub tenant: Option<String>,
    /// Groups whose members get it.
    pub groups: Vec<GroupRef>,
    /// App roles (`roles` claim) that grant it, matched exactly.
    pub roles: Vec<String>,
}

/// Which groups grant which channel, in display order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelMap {
    channels: Vec<Channel>,
}

/// The channels a user gets, and why there may be fewer than expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Channel names, in the map's order.
    pub channels: Vec<String>,
    /// Set when the list is empty or cannot be complete.
    pub notice: Option<Notice>,
}

impl ChannelMap {
    /// A map of these channels, in this order.
    pub fn new(channels: Vec<Channel>) -> Self {
        Self { channels }
    }

    /// The configured channels, of every tenant.
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    /// The channels of `tenant`'s users, granted or not.
    pub fn channels_of<'a>(&'a self, tenant: &'a str) -> impl Iterator<Item = &'a Channel> + 'a {
        self.channels
            .iter()
            .filter(move |channel| channel.tenant.as_deref().is_none_or(|t| t.eq_ignore_ascii_case(tenant)))
    }

    /// The channels granted to a user of `tenant` by `groups` and `roles`.
    pub fn channels_for<'a>(
        &'a self,
        tenant: &'a str,
        groups: Groups<'a>,
        roles: &'a [String],
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.explain_each(tenant, groups, roles).map(|(channel, _)| channel)
    }

    /// Why each channel granted to a user of `tenant` is granted: `(channel, "group Dispatch")`,
    /// in map order.
    pub fn explain(&self, tenant: &str, groups: Groups<'_>, roles: &[String]) -> Vec<(String, String)> {
        self.explain_each(tenant, groups, roles).map(|(channel, reason)| (channel.to_owned(), reason)).collect()
    }

    fn explain_each<'a>(
        &'a self,
        tenant: &'a str,
        groups: Groups<'a>,
        roles: &'a [String],
    ) -> impl Iterator<Item = (&'a str, String)> + 'a {
        self.channels_of(tenant).filter_map(move |channel| {
            let reason = groups.granting(&channel.groups).or_else(|| {
                roles.iter().find(|role| channel.roles.contains(role)).map(|role| format!("app role {role}"))
            })?;
            Some((channel.name.as_str(), reason))
        })
    }

    /// The channels of `tenant` that a group name grants, with that name: a provisioned group
    /// whose owners rename it to that name would grant them (flagged at start and by `preview`
    /// when SCIM provisioning is on).
    pub fn granted_by_name<'a>(&'a self, tenant: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.channels_of(tenant).flat_map(|channel| {
            channel.groups.iter().filter_map(move |group| match group {
                GroupRef::Name(name) => Some((channel.name.as_str(), name.as_str())),
                _ => None,
            })
        })
    }

    /// The domain-qualified references of `tenant`'s channels, which no provisioned group
    /// matches, with their channel.
    pub fn qualified_refs<'a>(&'a self, tenant: &'a str) -> impl Iterator<Item = (&'a str, String)> + 'a {
        self.channels_of(tenant).flat_map(|channel| {
            channel.groups.iter().filter_map(move |group| match group {
                GroupRef::Qualified { domain, name } => Some((channel.name.as_str(), format!("{domain}\\{name}"))),
                _ => None,
            })
        })
    }

    /// Assigns channels to the holder of `claims`.
    pub fn assign(&self, claims: &VerifiedClaims) -> Assignment {
        let claims = claims.claims();
        let roles = claims.roles.as_deref().unwrap_or_default();
        self.assign_parts(&claims.tid, claims.groups.as_deref(), roles, claims.has_group_overage())
    }

    /// Assigns channels to a user of `tenant` from the groups SCIM provisioning pushed for them,
    /// used when their token carries no groups.
    pub fn assign_provisioned(&self, tenant: &str, groups: &[ProvisionedGroup], roles: &[String]) -> Assignment {
        let channels: Vec<String> =
            self.channels_for(tenant, Groups::Provisioned(groups), roles).map(str::to_owned).collect();
        let message = if channels.is_empty() {
            "Your token carries no groups, so the API used the group memberships from your organisation's \
             provisioning; none of them grants a channel."
        } else {
            "These are the channels from your organisation's provisioning: your token carries no groups, \
             so the API used the group memberships Entra provisioned."
        };
        Assignment {
            notice: Some(Notice {
                code: "provisioned_groups".into(),
                message: message.into(),
                fix: channels.is_empty().then(|| {
                    "Admin: add the user to a channel group assigned to the Channels enterprise application.".into()
                }),
            }),
            channels,
        }
    }

    /// Assigns channels to a user of `tenant` from a `groups` claim (`None`: no claim at all),
    /// app roles, and whether the groups were dropped for overage.
    pub fn assign_parts(
        &self,
        tenant: &str,
        groups_claim: Option<&[String]>,
        roles: &[String],
        overage: bool,
    ) -> Assignment {
        let groups = groups_claim.unwrap_or_default();
        let channels: Vec<String> =
            self.channels_for(tenant, Groups::Claim(groups), roles).map(str::to_owned).collect();
        let notice = if overage {
            Some(Notice {
                code: "groups_overage".into(),
                message: "You are in more groups than Entra puts in a token (more than 200; with the implicit \
                          flow, 6 or more), so Entra left the groups out of your token (overage) and this API, \
                          which has no Microsoft Graph permission, cannot look them up."
                    .into(),
                fix: Some(
                    "Admin: App registrations → this app → Token configuration → edit the groups claim → \
                     choose \"Groups assigned to the application\", then Enterprise applications → this app → \
                     Users and groups → assign the channel groups. Or provision the groups with SCIM \
                     (Enterprise applications → this app → Provisioning → Automatic): the API then uses the \
                     memberships Entra pushes. With the implicit flow the limit is 6 groups: signing this \
                     organisation in with the code flow (no implicit_flow in its configuration) lifts it."
                        .into(),
                ),
            })
        } else if groups_claim.is_none() && channels.is_empty() {
            Some(Notice {
                code: "no_groups_claim".into(),
                message: "Your token carries no groups: you are in no group synced from on-premises AD \
                          (cloud-only groups have no sAMAccountName and are left out), or the app \
                          registration does not emit groups."
                    .into(),
                fix: Some(
                    "Admin: add the user to a channel group synced from AD, and check App registrations → \
                     this app → Token configuration → groups claim → Security groups, emitted as sAMAccountName."
                        .into(),
                ),
            })
        } else if channels.is_empty() {
            Some(Notice {
                code: "no_matching_groups".into(),
                message: format!("None of your groups ({}) grants a channel.", groups.join(", ")),
                fix: Some("Admin: add the user to a channel group, or map one of these groups to a channel.".into()),
            })
        } else {
            None
        };
        Assignment { channels, notice }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";

    fn names<'a>(map: &'a ChannelMap, groups: &'a [String], roles: &'a [String]) -> Vec<&'a str> {
        map.channels_for(TENANT, Groups::Claim(groups), roles).collect()
    }

    fn channel(name: &str, tenant: Option<&str>, groups: &[&str], roles: &[&str]) -> Channel {
        Channel {
            name: name.into(),
            tenant: tenant.map(str::to_owned),
            groups: groups.iter().map(|g| GroupRef::parse(g).unwrap()).collect(),
            roles: strings(roles),
        }
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_group_claim_format_is_understood() {
        let map = ChannelMap::new(vec![
            channel("Any", None, &["Dispatch"], &[]),
            channel("Contoso", None, &["CONTOSO\\Dispatch"], &[]),
            channel("Dns", None, &["contoso.com\\Dispatch"], &[]),
            channel("Id", None, &["0C6A1F52-1D1E-4B1A-9A57-3F0E2A7D0001"], &[]),
            channel("Role", None, &[], &["Supervisor"]),
        ]);
        assert_eq!(names(&map, &strings(&["dispatch"]), &[]), ["Any"]);
        assert_eq!(names(&map, &strings(&["contoso\\DISPATCH"]), &[]), ["Any", "Contoso"]);
        assert_eq!(names(&map, &strings(&["Contoso.com\\Dispatch"]), &[]), ["Any", "Dns"]);
        assert_eq!(names(&map, &strings(&["FABRIKAM\\Dispatch"]), &[]), ["Any"], "qualified entries keep their domain");
        assert_eq!(names(&map, &strings(&["0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0001"]), &[]), ["Id"]);
        assert_eq!(names(&map, &[], &strings(&["Supervisor"])), ["Role"]);
        assert!(names(&map, &[], &strings(&["supervisor"])).is_empty(), "roles match exactly");
    }

    #[test]
    fn a_tenants_channel_is_granted_only_to_its_tenants_users() {
        let fabrikam = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
        let map = ChannelMap::new(vec![
            channel("All Call", Some(TENANT), &["Dispatch"], &[]),
            channel("All Call", Some(fabrikam), &["Operations"], &[]),
            channel("Harbour Ops", Some(fabrikam), &["Harbour"], &["Supervisor"]),
        ]);
        let (dispatch, supervisor) = (strings(&["Dispatch", "Harbour"]), strings(&["Supervisor"]));
        let claim = Groups::Claim(&dispatch);
        assert_eq!(map.channels_for(TENANT, claim, &supervisor).collect::<Vec<_>>(), ["All Call"]);
        assert_eq!(map.channels_for(fabrikam, claim, &[]).collect::<Vec<_>>(), ["Harbour Ops"]);
        assert_eq!(map.channels_for(fabrikam, Groups::Claim(&[]), &supervisor).collect::<Vec<_>>(), ["Harbour Ops"]);
        let operations = strings(&["operations"]);
        assert_eq!(map.channels_for(&fabrikam.to_uppercase(), Groups::Claim(&operations), &[]).count(), 1);
        assert_eq!(map.channels_of(TENANT).count(), 1);
        assert_eq!(map.explain(fabrikam, claim, &[]), [("Harbour Ops".to_owned(), "group Harbour".to_owned())]);
    }

    fn provisioned(display_name: &str, external_id: Option<&str>) -> ProvisionedGroup {
        ProvisionedGroup { display_name: display_name.into(), external_id: external_id.map(str::to_owned) }
    }

    /// Issue #30: a group's owner renames it (to the object id of the group behind a channel, or
    /// to `Anything\Dispatch`) and the next provisioning cycle sends the new name.
    #[test]
    fn a_renamed_provisioned_group_grants_nothing_its_real_external_id_still_does() {
        const DISPATCH_ID: &str = "0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0001";
        let map = ChannelMap::new(vec![
            channel("By Id", None, &[DISPATCH_ID], &[]),
            channel("By Name", None, &["Dispatch"], &[]),
            channel("Qualified", None, &["CONTOSO\\Dispatch"], &[]),
        ]);
        let granted = |groups: &[ProvisionedGroup]| -> Vec<String> {
            map.channels_for(TENANT, Groups::Provisioned(groups), &[]).map(str::to_owned).collect()
        };
        let marketing = "5d2e0a11-9b7c-4e3f-8a6d-000000000099";
        assert!(granted(&[provisioned(DISPATCH_ID, Some(marketing))]).is_empty(), "an object id as display name");
        assert!(granted(&[provisioned(&DISPATCH_ID.to_uppercase(), None)]).is_empty());
        assert!(granted(&[provisioned("Evil\\Dispatch", Some(marketing))]).is_empty(), "a name is never split on \\");
        assert!(granted(&[provisioned("CONTOSO\\Dispatch", Some(marketing))]).is_empty(), "qualified never matches");
        assert!(granted(&[provisioned("Dispatch Team", Some(marketing))]).is_empty(), "whole names only");
        assert!(granted(&[provisioned("Marketing", Some("not-a-guid"))]).is_empty());
        assert_eq!(
            granted(&[provisioned("Renamed", Some(&DISPATCH_ID.to_uppercase()))]),
            ["By Id"],
            "externalId, as a GUID"
        );
        assert_eq!(granted(&[provisioned("DISPATCH", Some(marketing))]), ["By Name"], "whole, case-insensitive");
        assert_eq!(
            map.explain(TENANT, Groups::Provisioned(&[provisioned("Renamed", Some(DISPATCH_ID))]), &[]),
            [("By Id".to_owned(), "provisioned group Renamed".to_owned())]
        );
        assert_eq!(map.granted_by_name(TENANT).collect::<Vec<_>>(), [("By Name", "dispatch")]);
        assert_eq!(map.qualified_refs(TENANT).collect::<Vec<_>>(), [("Qualified", "contoso\\dispatch".to_owned())]);
    }

    #[test]
    fn group_refs_refuse_empty_parts() {
        for bad in ["", "\\x", "x\\", "a\\b\\c"] {
            assert_eq!(GroupRef::parse(bad), None, "{bad:?}");
        }
    }
}
