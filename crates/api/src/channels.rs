//! The last step of the flow: from a verified token's groups and roles to the user's channels.
//!
//! Group names arrive as sAMAccountName (the ICE pattern), possibly domain-qualified, or as
//! object ids; they match case-insensitively. An empty answer is never silent: overage and a
//! missing groups claim each come with a notice that says what the admin must configure.
//!
//! A channel's groups and roles belong to a tenant: when several tenants are allowed, each
//! channel names its own (the configuration refuses one that does not), and only a token of that
//! tenant (`tid`) is granted it; a plain name such as `Dispatch` may exist in every tenant.

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
        groups: &'a [String],
        roles: &'a [String],
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.channels_of(tenant)
            .filter(move |channel| {
                channel.groups.iter().any(|g| groups.iter().any(|claim| g.matches(claim)))
                    || channel.roles.iter().any(|r| roles.contains(r))
            })
            .map(|channel| channel.name.as_str())
    }

    /// Why each channel granted to a user of `tenant` is granted: `(channel, "group Dispatch")`,
    /// in map order.
    pub fn explain(&self, tenant: &str, groups: &[String], roles: &[String]) -> Vec<(String, String)> {
        self.channels_of(tenant)
            .filter_map(|channel| {
                let by_group = groups.iter().find(|claim| channel.groups.iter().any(|g| g.matches(claim)));
                let by_role = roles.iter().find(|role| channel.roles.contains(role));
                let reason = match (by_group, by_role) {
                    (Some(group), _) => format!("group {group}"),
                    (None, Some(role)) => format!("app role {role}"),
                    (None, None) => return None,
                };
                Some((channel.name.clone(), reason))
            })
            .collect()
    }

    /// Assigns channels to the holder of `claims`.
    pub fn assign(&self, claims: &VerifiedClaims) -> Assignment {
        let claims = claims.claims();
        let roles = claims.roles.as_deref().unwrap_or_default();
        self.assign_parts(&claims.tid, claims.groups.as_deref(), roles, claims.has_group_overage())
    }

    /// Assigns channels to a user of `tenant` from the groups SCIM provisioning pushed for them
    /// (display names and external ids), used when their token carries no groups.
    pub fn assign_provisioned(&self, tenant: &str, groups: &[String], roles: &[String]) -> Assignment {
        let channels: Vec<String> = self.channels_for(tenant, groups, roles).map(str::to_owned).collect();
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
        let channels: Vec<String> = self.channels_for(tenant, groups, roles).map(str::to_owned).collect();
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
    use crate::config::ApiConfig;

    const TENANT: &str = crate::config::DEMO_TENANT_ID;

    fn names<'a>(map: &'a ChannelMap, groups: &'a [String], roles: &'a [String]) -> Vec<&'a str> {
        map.channels_for(TENANT, groups, roles).collect()
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
    fn demo_map_matches_group_names_case_insensitively_in_map_order() {
        let map = ApiConfig::demo().channels;
        assert_eq!(
            names(&map, &strings(&["fire-north", "DISPATCH"]), &[]),
            ["All Call", "Dispatch Ops", "Fire North Tac"]
        );
        assert_eq!(names(&map, &strings(&["Police-South"]), &[]), ["All Call", "Police South Ops"]);
        assert!(names(&map, &strings(&["Marketing"]), &[]).is_empty());
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
        assert_eq!(map.channels_for(TENANT, &dispatch, &supervisor).collect::<Vec<_>>(), ["All Call"]);
        assert_eq!(map.channels_for(fabrikam, &dispatch, &[]).collect::<Vec<_>>(), ["Harbour Ops"]);
        assert_eq!(map.channels_for(fabrikam, &[], &supervisor).collect::<Vec<_>>(), ["Harbour Ops"]);
        assert_eq!(map.channels_for(&fabrikam.to_uppercase(), &strings(&["operations"]), &[]).count(), 1);
        assert_eq!(map.channels_of(TENANT).count(), 1);
        assert_eq!(map.explain(fabrikam, &dispatch, &[]), [("Harbour Ops".to_owned(), "group Harbour".to_owned())]);
    }

    #[test]
    fn group_refs_refuse_empty_parts() {
        for bad in ["", "\\x", "x\\", "a\\b\\c"] {
            assert_eq!(GroupRef::parse(bad), None, "{bad:?}");
        }
    }
}
