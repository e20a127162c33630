//! The last step of the flow: from a verified token's groups to the user's channels.
//!
//! Group names arrive as sAMAccountName (the ICE pattern) and match case-insensitively. An
//! empty answer is never silent: overage and a missing groups claim each come with a notice
//! that says what the admin must configure.

use channels_protocol::wire::Notice;

use crate::auth::VerifiedClaims;

/// Which groups grant which channel, in display order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelMap {
    channels: Vec<Channel>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Channel {
    name: String,
    groups: Vec<String>,
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
    /// A map from `(channel, [groups])` pairs.
    pub fn new<C, G>(channels: impl IntoIterator<Item = (C, G)>) -> Self
    where
        C: Into<String>,
        G: IntoIterator,
        G::Item: Into<String>,
    {
        Self {
            channels: channels
                .into_iter()
                .map(|(name, groups)| Channel {
                    name: name.into(),
                    groups: groups.into_iter().map(Into::into).collect(),
                })
                .collect(),
        }
    }

    /// The demo deployment's channels.
    pub fn demo() -> Self {
        Self::new([
            ("All Call", vec!["Dispatch", "Fire-North", "Police-South"]),
            ("Dispatch Ops", vec!["Dispatch"]),
            ("Fire North Tac", vec!["Fire-North"]),
            ("Police South Ops", vec!["Police-South"]),
        ])
    }

    /// The channels granted by `groups` (case-insensitive names).
    pub fn channels_for<'a>(&'a self, groups: &[String]) -> impl Iterator<Item = &'a str> + 'a {
        let groups: Vec<String> = groups.iter().map(|g| g.to_lowercase()).collect();
        self.channels
            .iter()
            .filter(move |channel| {
                channel
                    .groups
                    .iter()
                    .any(|g| groups.contains(&g.to_lowercase()))
            })
            .map(|channel| channel.name.as_str())
    }

    /// Assigns channels to the holder of `claims`.
    pub fn assign(&self, claims: &VerifiedClaims) -> Assignment {
        let claims = claims.claims();
        if claims.has_group_overage() {
            return Assignment {
                channels: Vec::new(),
                notice: Some(Notice {
                    code: "groups_overage".into(),
                    message: "You are in more than 200 groups, so Entra left the groups out of your token \
                              (overage) and this API, which has no Microsoft Graph permission, cannot look them up."
                        .into(),
                    fix: Some(
                        "Admin: App registrations → this app → Token configuration → edit the groups claim → \
                         choose \"Groups assigned to the application\", then Enterprise applications → this app → \
                         Users and groups → assign the channel groups."
                            .into(),
                    ),
                }),
            };
        }
        let Some(groups) = claims.groups.as_deref() else {
            return Assignment {
                channels: Vec::new(),
                notice: Some(Notice {
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
                }),
            };
        };
        let channels: Vec<String> = self.channels_for(groups).map(str::to_owned).collect();
        let notice = channels.is_empty().then(|| Notice {
            code: "no_matching_groups".into(),
            message: format!(
                "None of your groups ({}) grants a channel.",
                groups.join(", ")
            ),
            fix: Some(
                "Admin: add the user to a channel group, or map one of these groups to a channel."
                    .into(),
            ),
        });
        Assignment { channels, notice }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_map_matches_group_names_case_insensitively_in_map_order() {
        let map = ChannelMap::demo();
        let alice: Vec<&str> = map
            .channels_for(&["fire-north".into(), "DISPATCH".into()])
            .collect();
        assert_eq!(alice, ["All Call", "Dispatch Ops", "Fire North Tac"]);
        let bob: Vec<&str> = map.channels_for(&["Police-South".into()]).collect();
        assert_eq!(bob, ["All Call", "Police South Ops"]);
        assert_eq!(map.channels_for(&["Marketing".into()]).count(), 0);
    }
}
