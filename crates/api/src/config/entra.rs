//! The Entra rules: which tenants' tokens are accepted, by which audiences and client apps, in
//! which cloud, with which scope; the organisations the SPA offers (profiles); the channels each
//! tenant's groups grant ([`super::step_up`] has the step-up). Every error names the key and, where
//! the value comes from the Entra portal, where the portal shows it.

use channels_protocol::claims::is_guid;
use channels_protocol::cloud::Cloud;
use channels_protocol::wire::{Hints, Profile};

use super::env::named;
use super::error::ConfigError;
use super::raw::{defaults, RawChannel, RawSpa};
use super::values::{guid, hints, Authority, AUTHORITY_KEY};
use crate::channels::{Channel, ChannelMap, GroupRef};

/// How the SPA signs in (`[spa]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spa {
    /// The full scope the SPA asks Entra for (default `api://<client id>/<scope>`).
    pub scope: String,
    /// The hints the default sign-in sends (`spa.domain_hint`, `spa.login_hint`).
    pub hints: Hints,
    /// Whether the default sign-in uses the implicit flow (`spa.implicit_flow`): an opt-in, off
    /// by default, warned about at start.
    pub implicit_flow: bool,
    /// Organisations the SPA lets the user choose from, each with its own registration.
    pub profiles: Vec<Profile>,
}

/// An Entra access token version; the API registration's `requestedAccessTokenVersion` picks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVersion {
    /// `iss` = `https://sts.windows.net/{tid}/`.
    V1,
    /// `iss` = `{authority}/{tid}/v2.0`.
    V2,
}

/// The client apps whose tokens are accepted: `entra.allowed_client_apps`, or by default the
/// registration's own and each profile's.
pub(super) fn client_apps(apps: Option<Vec<String>>, client_id: &str, spa: &Spa) -> Result<Vec<String>, ConfigError> {
    match apps {
        Some(apps) if !apps.is_empty() => apps
            .iter()
            .map(|app| guid(Some(app), "entra.allowed_client_apps", "the client app's Application (client) ID"))
            .collect(),
        Some(_) => Err(ConfigError::new(
            "entra.allowed_client_apps",
            "the client ids of the apps that may call this API (leave it out for the SPA's own)",
            "[]",
        )),
        None => {
            Ok(std::iter::once(client_id.to_owned()).chain(spa.profiles.iter().map(|p| p.client_id.clone())).collect())
        }
    }
}

/// The bare scope every call needs: `entra.scope`, as exposed under Expose an API.
pub(super) fn scope(scope: Option<String>) -> Result<String, ConfigError> {
    let scope = scope.unwrap_or_else(|| defaults::SCOPE.to_owned());
    if scope.is_empty() || scope.contains(char::is_whitespace) || scope.contains('/') {
        return Err(ConfigError::new(
            "entra.scope",
            "the bare scope name exposed under Expose an API, e.g. UserProfile.ReadWrite",
            scope,
        ));
    }
    Ok(scope)
}

/// The accepted clock skew, at most 600 seconds.
pub(super) fn clock_skew(seconds: Option<u64>) -> Result<u64, ConfigError> {
    let clock_skew = seconds.unwrap_or(defaults::CLOCK_SKEW_SECONDS);
    if clock_skew > 600 {
        return Err(ConfigError::new("entra.clock_skew_seconds", "at most 600 seconds", clock_skew.to_string()));
    }
    Ok(clock_skew)
}

/// The authority (never one of a cloud's aliases) and its cloud: `entra.cloud` when set, which
/// must then be the authority's, else the one the authority's host names.
pub(super) fn authority_and_cloud(
    authority: Option<&str>,
    cloud: Option<&str>,
    demo: bool,
) -> Result<(Authority, Cloud), ConfigError> {
    let authority = authority.unwrap_or(defaults::AUTHORITY);
    let authority = if demo { Authority::demo(authority)? } else { Authority::parse(authority)? };
    if let Some(main) = Cloud::alias_of(authority.as_str()) {
        return Err(ConfigError::new(
            named(AUTHORITY_KEY),
            format!("{main}: Entra's tokens and keys name it whichever alias signed the user in"),
            authority.as_str(),
        ));
    }
    let named_cloud = Cloud::of_authority(authority.as_str());
    let cloud = match cloud {
        None => named_cloud.unwrap_or_default(),
        Some(name) => match (Cloud::parse(name), named_cloud) {
            (None, _) => return Err(ConfigError::new(named("entra.cloud"), Cloud::NAMES, name)),
            (Some(cloud), Some(host)) if cloud != host => {
                return Err(ConfigError::new(
                    named("entra.cloud"),
                    format!("{} (the cloud of entra.authority {}), or no entra.cloud", host.name(), authority.as_str()),
                    name,
                ))
            }
            (Some(cloud), _) => cloud,
        },
    };
    Ok((authority, cloud))
}

/// The `{tenant}` of the authority's URLs and the tenants allowed: one tenant GUID, or with
/// `organizations` or `common`, the list in `entra.allowed_tenants`.
pub(super) fn tenants(tenant_id: String, allowed: Option<Vec<String>>) -> Result<(String, Vec<String>), ConfigError> {
    let multi = matches!(tenant_id.as_str(), "organizations" | "common");
    let allowed_tenants: Vec<String> = if multi {
        let allowed = allowed.unwrap_or_default();
        if allowed.is_empty() {
            return Err(ConfigError::new(
                "entra.allowed_tenants",
                "the tenant GUIDs whose users may sign in, when tenant_id is organizations or common",
                "[]",
            ));
        }
        allowed
            .iter()
            .map(|t| guid(Some(t), "entra.allowed_tenants", "a directory (tenant) ID"))
            .collect::<Result<_, _>>()?
    } else {
        let tenant = guid(
            Some(&tenant_id),
            &named("entra.tenant_id"),
            "Entra ID → Overview → Tenant ID, or organizations/common",
        )?;
        vec![tenant]
    };
    let tenant_id = if allowed_tenants.len() == 1 && !multi { allowed_tenants[0].clone() } else { tenant_id };
    Ok((tenant_id, allowed_tenants))
}

/// How the SPA signs in, and the audiences accepted: by default the client id and App ID URI of
/// the registration and of each profile's; an explicit list must name every profile's.
pub(super) fn spa_and_audiences(
    spa: RawSpa,
    client_id: &str,
    scope: &str,
    allowed_tenants: &[String],
    explicit_audiences: Option<Vec<String>>,
) -> Result<(Spa, Vec<String>), ConfigError> {
    let mut audiences =
        explicit_audiences.clone().unwrap_or_else(|| vec![client_id.to_owned(), format!("api://{client_id}")]);
    let spa_scope = spa.scope.unwrap_or_else(|| format!("api://{client_id}/{scope}"));
    if spa_scope.is_empty() || spa_scope.contains(char::is_whitespace) {
        return Err(ConfigError::new(
            named("spa.scope"),
            "one full scope, e.g. api://<client id>/UserProfile.ReadWrite",
            spa_scope,
        ));
    }
    if spa.profiles.len() == 1 {
        return Err(ConfigError::new(
            "spa.profiles",
            "two or more organisations to choose from (with one, set entra.tenant_id and entra.client_id instead)",
            "one",
        ));
    }
    let spa_hints = hints(spa.domain_hint, spa.login_hint, "spa.")?;
    let implicit_flow = spa.implicit_flow.unwrap_or(false);
    if implicit_flow && !spa.profiles.is_empty() {
        return Err(ConfigError::new(
            named("spa.implicit_flow"),
            "implicit_flow in each [[spa.profiles]] entry whose organisation needs it (with profiles, the \
             flow is per organisation)",
            "true beside profiles",
        ));
    }
    let mut profiles = Vec::new();
    for (i, raw) in spa.profiles.into_iter().enumerate() {
        let key = |what: &str| format!("spa.profiles[{i}].{what}");
        if raw.name.trim().is_empty() || profiles.iter().any(|p: &Profile| p.name == raw.name) {
            return Err(ConfigError::new(key("name"), "a name shown to users, unique among the profiles", raw.name));
        }
        let tenant_id = guid(Some(&raw.tenant_id), &key("tenant_id"), "the organisation's Directory (tenant) ID")?;
        if !allowed_tenants.contains(&tenant_id) {
            return Err(ConfigError::new(
                key("tenant_id"),
                "one of entra.allowed_tenants, or its users' tokens would be refused",
                tenant_id,
            ));
        }
        let profile_client =
            guid(Some(&raw.client_id), &key("client_id"), "the registration's Application (client) ID")?;
        match &explicit_audiences {
            Some(listed) if !listed.contains(&profile_client) => {
                return Err(ConfigError::new(
                    "entra.audiences",
                    format!(
                        "to include {profile_client} (spa.profiles[{i}].client_id), or its tokens would be refused"
                    ),
                    listed.join(", "),
                ))
            }
            Some(_) => {}
            None => audiences.extend([profile_client.clone(), format!("api://{profile_client}")]),
        }
        // Every profile asks for the one scope the API requires (`entra.scope`).
        let api_scope = format!("api://{profile_client}/{scope}");
        let hints = hints(raw.domain_hint, raw.login_hint, &key(""))?;
        profiles.push(Profile {
            name: raw.name,
            tenant_id,
            client_id: profile_client,
            api_scope,
            hints,
            implicit_flow: raw.implicit_flow,
        });
    }
    Ok((Spa { scope: spa_scope, hints: spa_hints, implicit_flow, profiles }, audiences))
}

/// The access token versions accepted: `"1.0"` and/or `"2.0"`, v1 only in a cloud that has a v1
/// issuer.
pub(super) fn token_versions(versions: Option<Vec<String>>, cloud: Cloud) -> Result<Vec<TokenVersion>, ConfigError> {
    let token_versions = versions
        .unwrap_or_else(|| vec![defaults::TOKEN_VERSION.to_owned()])
        .iter()
        .map(|v| match v.as_str() {
            "1.0" => Ok(TokenVersion::V1),
            "2.0" => Ok(TokenVersion::V2),
            other => Err(ConfigError::new("entra.token_versions", "\"1.0\" and/or \"2.0\"", other)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if token_versions.is_empty() {
        return Err(ConfigError::new("entra.token_versions", "at least one of \"1.0\", \"2.0\"", "[]"));
    }
    if cloud.v1_issuer("").is_none() && token_versions.contains(&TokenVersion::V1) {
        return Err(ConfigError::new(
            "entra.token_versions",
            format!(
                "[\"2.0\"] in {}: it documents no v1 issuer (App registrations → this app → Manifest → \
                 \"requestedAccessTokenVersion\": 2)",
                cloud.name()
            ),
            "\"1.0\"",
        ));
    }
    Ok(token_versions)
}

/// The channels, each name used once per tenant.
pub(super) fn channel_map(
    channels: Vec<RawChannel>,
    allowed_tenants: &[String],
    cloud: Cloud,
) -> Result<ChannelMap, ConfigError> {
    let channels = channels
        .into_iter()
        .enumerate()
        .map(|(i, raw)| channel(raw, i, allowed_tenants, cloud))
        .collect::<Result<Vec<_>, _>>()?;
    // The tenant each channel applies to: its own, or the only one allowed.
    let single = (allowed_tenants.len() == 1).then(|| allowed_tenants[0].as_str());
    fn applies_to<'a>(channel: &'a Channel, single: Option<&'a str>) -> Option<&'a str> {
        channel.tenant.as_deref().or(single)
    }
    for (i, channel) in channels.iter().enumerate() {
        if channels[..i].iter().any(|c| c.name == channel.name && applies_to(c, single) == applies_to(channel, single))
        {
            return Err(ConfigError::new(
                format!("channels[{i}].name"),
                "a channel name used once per tenant",
                &channel.name,
            ));
        }
    }
    Ok(ChannelMap::new(channels))
}

/// A channel, its tenant one of `allowed_tenants`; required when there are several, or one
/// tenant's group or role (`Dispatch` exists anywhere) would grant another tenant's channel.
fn channel(raw: RawChannel, index: usize, allowed_tenants: &[String], cloud: Cloud) -> Result<Channel, ConfigError> {
    let key = |what: &str| format!("channels[{index}].{what}");
    // External ID's tokens carry group object ids only: a name could never match.
    if let Some(name) = raw.groups.iter().find(|g| cloud == Cloud::ExternalId && !is_guid(g)) {
        return Err(ConfigError::new(
            key("groups"),
            "group object ids in Entra External ID, whose tokens carry no group names (Entra admin center → \
             Groups → the group → Object ID)",
            name,
        ));
    }
    if raw.name.trim().is_empty() {
        return Err(ConfigError::new(key("name"), "a channel name", raw.name));
    }
    let tenant = match &raw.tenant {
        Some(tenant) => {
            let tenant = guid(Some(tenant), &key("tenant"), "the Directory (tenant) ID whose groups grant it")?;
            if !allowed_tenants.contains(&tenant) {
                return Err(ConfigError::new(key("tenant"), "one of entra.allowed_tenants", tenant));
            }
            Some(tenant)
        }
        None if allowed_tenants.len() > 1 => {
            return Err(ConfigError::new(
                key("tenant"),
                format!(
                    "the Directory (tenant) ID whose groups and roles grant \"{}\": several tenants are allowed, and a group name or role of one would grant the others' channels; repeat the channel once per tenant with its own groups",
                    raw.name
                ),
                "none",
            ))
        }
        None => None,
    };
    if raw.groups.is_empty() && raw.roles.is_empty() {
        return Err(ConfigError::new(
            key("groups"),
            format!("at least one group or role granting \"{}\"", raw.name),
            "none",
        ));
    }
    let groups = raw
        .groups
        .iter()
        .map(|g| {
            GroupRef::parse(g).ok_or_else(|| {
                ConfigError::new(
                    key("groups"),
                    "a sAMAccountName, DOMAIN\\name, dns.domain\\name or group object id",
                    g,
                )
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Channel { name: raw.name, tenant, groups, roles: raw.roles })
}
