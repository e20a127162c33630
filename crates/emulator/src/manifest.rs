//! The directory read from files in Microsoft's own shapes:
//!
//! - an app registration is the **Microsoft Graph app manifest** — the very JSON an admin
//!   uploads in the Entra portal (App registrations → Manifest) — so the emulator enforces
//!   what the registration says (`channels-api manifest` prints one; a test loads it here);
//! - a directory file lists tenants with users, groups (Graph's property names), those
//!   manifests, and service principals (the admin's consent and assignment decisions).
//!
//! What the emulator cannot honour is refused with the reason, never silently ignored.

use serde::Deserialize;

use crate::directory::{
    AppRegistration, Audience, Directory, EnterpriseApp, ExposedScope, Group, GroupFormat, GroupMembership,
    ImplicitGrant, OnPremises, OnPremisesFormat, OptionalClaims, Platform, Tenant, TokenVersion, User,
};

/// Why a manifest or directory file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("app manifest: {0}")]
pub struct ManifestError(pub String);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    app_id: String,
    display_name: Option<String>,
    sign_in_audience: Option<String>,
    #[serde(default)]
    identifier_uris: Vec<String>,
    #[serde(default)]
    spa: RedirectUris,
    #[serde(default)]
    web: Web,
    #[serde(default)]
    public_client: RedirectUris,
    #[serde(default)]
    api: Api,
    group_membership_claims: Option<String>,
    #[serde(default)]
    optional_claims: ManifestOptionalClaims,
    #[serde(default)]
    required_resource_access: Vec<ResourceAccess>,
    #[serde(default)]
    app_roles: Vec<serde_json::Value>,
    /// Azure AD Graph's name for `web.implicitGrantSettings.enableAccessTokenIssuance`.
    oauth2_allow_implicit_flow: Option<bool>,
    /// Azure AD Graph's name for `web.implicitGrantSettings.enableIdTokenIssuance`.
    oauth2_allow_id_token_implicit_flow: Option<bool>,
    /// Authentication → Allow public client flows.
    is_fallback_public_client: Option<bool>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RedirectUris {
    #[serde(default)]
    redirect_uris: Vec<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Web {
    #[serde(default)]
    redirect_uris: Vec<String>,
    logout_url: Option<String>,
    #[serde(default)]
    implicit_grant_settings: ImplicitGrantSettings,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImplicitGrantSettings {
    enable_access_token_issuance: Option<bool>,
    enable_id_token_issuance: Option<bool>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Api {
    requested_access_token_version: Option<u8>,
    #[serde(default)]
    oauth2_permission_scopes: Vec<Scope>,
    #[serde(default)]
    pre_authorized_applications: Vec<PreAuthorized>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Scope {
    id: String,
    value: String,
    #[serde(default = "enabled")]
    is_enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreAuthorized {
    app_id: String,
    #[serde(default)]
    delegated_permission_ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceAccess {
    resource_app_id: String,
    #[serde(default)]
    resource_access: Vec<Access>,
}

#[derive(Deserialize)]
struct Access {
    id: String,
    #[serde(rename = "type")]
    kind: String,
}

fn enabled() -> bool {
    true
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManifestOptionalClaims {
    #[serde(default)]
    access_token: Vec<OptionalClaim>,
    #[serde(default)]
    id_token: Vec<OptionalClaim>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OptionalClaim {
    name: String,
    #[serde(default)]
    additional_properties: Vec<String>,
}

fn optional_claims(claims: &[OptionalClaim]) -> OptionalClaims {
    let has = |name: &str| claims.iter().find(|claim| claim.name == name);
    OptionalClaims {
        upn: has("upn").is_some(),
        guest_upn: has("upn")
            .is_some_and(|upn| upn.additional_properties.iter().any(|p| p == "include_externally_authenticated_upn")),
        email: has("email").is_some(),
        given_name: has("given_name").is_some(),
        family_name: has("family_name").is_some(),
        sid: has("sid").is_some(),
    }
}

fn group_format(claims: &[OptionalClaim]) -> Result<GroupFormat, ManifestError> {
    let mut format = GroupFormat::default();
    let Some(groups) = claims.iter().find(|claim| claim.name == "groups") else {
        return Ok(format);
    };
    for property in &groups.additional_properties {
        match property.as_str() {
            "sam_account_name" => format.on_premises = Some(OnPremisesFormat::SamAccountName),
            "netbios_domain_and_sam_account_name" => format.on_premises = Some(OnPremisesFormat::NetbiosDomain),
            "dns_domain_and_sam_account_name" => format.on_premises = Some(OnPremisesFormat::DnsDomain),
            "cloud_displayname" => format.cloud_display_name = true,
            "emit_as_roles" => format.emit_as_roles = true,
            other => {
                return Err(ManifestError(format!(
                    "expected groups additionalProperties among sam_account_name, netbios_domain_and_sam_account_name, \
                     dns_domain_and_sam_account_name, cloud_displayname, emit_as_roles (found {other:?})"
                )))
            }
        }
    }
    Ok(format)
}

impl AppRegistration {
    /// Reads an app registration from its Microsoft Graph manifest.
    pub fn from_manifest(json: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = serde_json::from_str(json).map_err(|e| ManifestError(e.to_string()))?;
        Self::from_parsed(manifest)
    }

    fn from_parsed(manifest: Manifest) -> Result<Self, ManifestError> {
        let token_version = match manifest.api.requested_access_token_version {
            None | Some(1) => TokenVersion::V1,
            Some(2) => TokenVersion::V2,
            Some(other) => {
                return Err(ManifestError(format!(
                    "expected api.requestedAccessTokenVersion null, 1 or 2 (found {other})"
                )))
            }
        };
        let audience = match manifest.sign_in_audience.as_deref() {
            None | Some("AzureADMyOrg") => Audience::MyOrg,
            Some("AzureADMultipleOrgs") => Audience::MultipleOrgs,
            Some(other) => {
                return Err(ManifestError(format!(
                    "expected signInAudience AzureADMyOrg or AzureADMultipleOrgs (found {other:?}: personal Microsoft \
                     accounts are not emulated)"
                )))
            }
        };
        let group_format = group_format(&manifest.optional_claims.access_token)?;
        let group_membership = match manifest.group_membership_claims.as_deref() {
            None | Some("None") => GroupMembership::None,
            Some("SecurityGroup" | "All") => GroupMembership::SecurityGroup,
            Some("ApplicationGroup") => GroupMembership::ApplicationGroup,
            Some(other) => {
                return Err(ManifestError(format!(
                    "expected groupMembershipClaims None, SecurityGroup, ApplicationGroup or All (found {other:?}, \
                     which the emulator does not emulate)"
                )))
            }
        };
        if group_format.cloud_display_name && group_membership != GroupMembership::ApplicationGroup {
            return Err(ManifestError(
                "cloud_displayname needs groupMembershipClaims ApplicationGroup, as in Entra (found another value)"
                    .into(),
            ));
        }
        if !manifest.app_roles.is_empty() {
            return Err(ManifestError(format!(
                "expected no appRoles: app role assignments are not emulated (found {} role(s)); map channels by groups",
                manifest.app_roles.len()
            )));
        }
        // Either manifest's names; the two spellings of one switch must agree.
        let switch = |graph: Option<bool>, graph_name: &str, aad: Option<bool>, aad_name: &str| match (graph, aad) {
            (Some(graph), Some(aad)) if graph != aad => Err(ManifestError(format!(
                "expected {graph_name} and {aad_name} to agree (found {graph} and {aad}): they are one switch"
            ))),
            (graph, aad) => Ok(graph.or(aad).unwrap_or(false)),
        };
        let settings = &manifest.web.implicit_grant_settings;
        let implicit_grant = ImplicitGrant {
            access_tokens: switch(
                settings.enable_access_token_issuance,
                "web.implicitGrantSettings.enableAccessTokenIssuance",
                manifest.oauth2_allow_implicit_flow,
                "oauth2AllowImplicitFlow",
            )?,
            id_tokens: switch(
                settings.enable_id_token_issuance,
                "web.implicitGrantSettings.enableIdTokenIssuance",
                manifest.oauth2_allow_id_token_implicit_flow,
                "oauth2AllowIdTokenImplicitFlow",
            )?,
        };
        let required_resource_access = manifest
            .required_resource_access
            .into_iter()
            .map(|resource| {
                let scopes = resource.resource_access.into_iter().filter(|a| a.kind == "Scope").map(|a| a.id).collect();
                (resource.resource_app_id, scopes)
            })
            .collect();
        let platform = |platform: Platform, uris: Vec<String>| uris.into_iter().map(move |uri| (platform, uri));
        Ok(Self {
            display_name: manifest.display_name.unwrap_or_else(|| manifest.app_id.clone()),
            app_id: manifest.app_id,
            audience,
            identifier_uris: manifest.identifier_uris,
            redirect_uris: platform(Platform::Spa, manifest.spa.redirect_uris)
                .chain(platform(Platform::Web, manifest.web.redirect_uris))
                .chain(platform(Platform::PublicClient, manifest.public_client.redirect_uris))
                .collect(),
            logout_url: manifest.web.logout_url,
            token_version,
            scopes: manifest
                .api
                .oauth2_permission_scopes
                .into_iter()
                .filter(|s| s.is_enabled)
                .map(|s| ExposedScope { id: s.id, value: s.value })
                .collect(),
            pre_authorized: manifest
                .api
                .pre_authorized_applications
                .into_iter()
                .map(|p| (p.app_id, p.delegated_permission_ids))
                .collect(),
            group_membership,
            group_format,
            access_token_claims: optional_claims(&manifest.optional_claims.access_token),
            id_token_claims: optional_claims(&manifest.optional_claims.id_token),
            required_resource_access,
            implicit_grant,
            public_client_flows: manifest.is_fallback_public_client.unwrap_or(false),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectoryFile {
    tenants: Vec<TenantFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TenantFile {
    id: String,
    display_name: Option<String>,
    #[serde(default)]
    verified_domains: Vec<String>,
    #[serde(default)]
    users: Vec<UserFile>,
    #[serde(default)]
    groups: Vec<GroupFile>,
    #[serde(default)]
    applications: Vec<serde_json::Value>,
    #[serde(default)]
    service_principals: Vec<ServicePrincipalFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserFile {
    id: String,
    user_principal_name: String,
    display_name: String,
    given_name: Option<String>,
    surname: Option<String>,
    mail: Option<String>,
    #[serde(default)]
    member_of: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GroupFile {
    id: String,
    display_name: String,
    on_premises_sam_account_name: Option<String>,
    on_premises_net_bios_name: Option<String>,
    on_premises_domain_name: Option<String>,
    #[serde(default)]
    member_of: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ServicePrincipalFile {
    app_id: String,
    #[serde(default)]
    app_role_assignment_required: bool,
    #[serde(default)]
    assigned_to: Vec<String>,
    #[serde(default)]
    admin_consent_granted: bool,
    /// Emulator-specific: a Conditional Access policy requiring MFA for this app.
    #[serde(default)]
    mfa_required: bool,
    /// Emulator-specific: a Conditional Access policy blocking this app.
    #[serde(default)]
    conditional_access_block: bool,
    /// Emulator-specific: authentication contexts a Conditional Access policy protects with MFA.
    #[serde(default)]
    auth_contexts_requiring_mfa: Vec<String>,
}

impl Directory {
    /// Reads a directory file (see docs/emulator.md for its shape).
    pub fn from_json(json: &str) -> Result<Self, ManifestError> {
        let file: DirectoryFile = serde_json::from_str(json).map_err(|e| ManifestError(format!("directory: {e}")))?;
        let tenants = file.tenants.into_iter().map(TenantFile::into_tenant).collect::<Result<Vec<_>, _>>()?;
        if tenants.is_empty() {
            return Err(ManifestError("directory: expected at least one tenant (found none)".into()));
        }
        Ok(Self { tenants, cloud: Default::default() })
    }
}

impl TenantFile {
    fn into_tenant(self) -> Result<Tenant, ManifestError> {
        let tenant_id = self.id.clone();
        let in_tenant = |e: ManifestError| ManifestError(format!("tenant {tenant_id}: {}", e.0));
        let apps = self
            .applications
            .into_iter()
            .map(|json| serde_json::from_value::<Manifest>(json).map_err(|e| ManifestError(e.to_string())))
            .map(|manifest| manifest.and_then(AppRegistration::from_parsed))
            .collect::<Result<Vec<_>, _>>()
            .map_err(in_tenant)?;
        let groups = self
            .groups
            .into_iter()
            .map(|group| {
                let on_premises = match group.on_premises_sam_account_name {
                    Some(sam_account_name) => Some(OnPremises {
                        sam_account_name,
                        netbios_domain: group.on_premises_net_bios_name.unwrap_or_default(),
                        dns_domain: group.on_premises_domain_name.unwrap_or_default(),
                    }),
                    None => None,
                };
                Group { id: group.id, display_name: group.display_name, on_premises, member_of: group.member_of }
            })
            .collect();
        Ok(Tenant {
            display_name: self.display_name.unwrap_or_else(|| self.id.clone()),
            id: self.id,
            domains: self.verified_domains,
            users: self
                .users
                .into_iter()
                .map(|user| User {
                    oid: user.id,
                    upn: user.user_principal_name,
                    name: user.display_name,
                    given_name: user.given_name,
                    family_name: user.surname,
                    email: user.mail,
                    member_of: user.member_of,
                })
                .collect(),
            groups,
            apps,
            access_token_lifetime: None,
            enterprise_apps: self
                .service_principals
                .into_iter()
                .map(|sp| EnterpriseApp {
                    app_id: sp.app_id,
                    assignment_required: sp.app_role_assignment_required,
                    assigned: sp.assigned_to,
                    admin_consent: sp.admin_consent_granted,
                    mfa_required: sp.mfa_required,
                    conditional_access_block: sp.conditional_access_block,
                    auth_contexts_requiring_mfa: sp.auth_contexts_requiring_mfa,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_manifest_shape_is_read() {
        let app = AppRegistration::from_manifest(
            r#"{
              "appId": "6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d",
              "signInAudience": "AzureADMultipleOrgs",
              "identifierUris": ["api://6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d"],
              "spa": { "redirectUris": ["https://channels.example.com/sso"] },
              "web": { "redirectUris": ["https://old.example.com/signin"], "logoutUrl": "https://channels.example.com/logout" },
              "publicClient": { "redirectUris": ["http://localhost"] },
              "api": { "requestedAccessTokenVersion": 2,
                       "oauth2PermissionScopes": [{ "id": "1b0c", "value": "UserProfile.ReadWrite", "isEnabled": true },
                                                  { "id": "2c1d", "value": "Old.Scope", "isEnabled": false }],
                       "preAuthorizedApplications": [{ "appId": "c11e", "delegatedPermissionIds": ["1b0c"] }] },
              "groupMembershipClaims": "SecurityGroup",
              "optionalClaims": { "accessToken": [
                { "name": "upn", "additionalProperties": ["include_externally_authenticated_upn"] },
                { "name": "email" },
                { "name": "groups", "additionalProperties": ["netbios_domain_and_sam_account_name", "emit_as_roles"] } ],
                "idToken": [{ "name": "given_name" }] },
              "requiredResourceAccess": [{ "resourceAppId": "00000003-0000-0000-c000-000000000000",
                                           "resourceAccess": [{ "id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope" },
                                                              { "id": "df021288", "type": "Role" }] }]
            }"#,
        )
        .unwrap();
        assert_eq!(app.redirect_uri("https://channels.example.com/sso"), Some(Platform::Spa));
        assert_eq!(app.redirect_uri("https://old.example.com/signin"), Some(Platform::Web));
        assert_eq!(app.redirect_uri("http://localhost"), Some(Platform::PublicClient));
        assert_eq!(app.logout_url.as_deref(), Some("https://channels.example.com/logout"));
        assert_eq!((app.audience, app.token_version), (Audience::MultipleOrgs, TokenVersion::V2));
        assert_eq!(app.scopes, [ExposedScope { id: "1b0c".into(), value: "UserProfile.ReadWrite".into() }]);
        assert!(app.pre_authorizes("C11E", "1b0c") && !app.pre_authorizes("c11e", "2c1d"));
        assert!(app.requires(crate::directory::GRAPH_APP_ID, "e1fe6dd8-ba31-4d61-89e7-88639da4683d"));
        assert!(!app.requires(crate::directory::GRAPH_APP_ID, "df021288"), "app roles are not delegated scopes");
        assert_eq!(
            app.group_format,
            GroupFormat {
                on_premises: Some(OnPremisesFormat::NetbiosDomain),
                cloud_display_name: false,
                emit_as_roles: true
            }
        );
        let access = app.access_token_claims;
        assert!(access.upn && access.guest_upn && access.email && !access.given_name);
        assert!(app.id_token_claims.given_name && !app.id_token_claims.upn);
    }

    #[test]
    fn a_missing_version_means_v1_as_in_entra() {
        let app =
            AppRegistration::from_manifest(r#"{"appId":"a","api":{"requestedAccessTokenVersion":null}}"#).unwrap();
        assert_eq!(app.token_version, TokenVersion::V1);
        assert_eq!(app.group_membership, GroupMembership::None);
        assert_eq!(app.implicit_grant, ImplicitGrant::default(), "the implicit grant is off unless turned on");
    }

    #[test]
    fn the_implicit_grant_is_read_under_either_manifests_names() {
        let read = |json: &str| AppRegistration::from_manifest(json).unwrap().implicit_grant;
        let graph = r#"{"appId":"a","web":{"implicitGrantSettings":{"enableAccessTokenIssuance":true,"enableIdTokenIssuance":true}}}"#;
        assert_eq!(read(graph), ImplicitGrant { access_tokens: true, id_tokens: true });
        let aad = r#"{"appId":"a","oauth2AllowImplicitFlow":true}"#;
        assert_eq!(read(aad), ImplicitGrant { access_tokens: true, id_tokens: false });
        let both = r#"{"appId":"a","oauth2AllowIdTokenImplicitFlow":true,"web":{"implicitGrantSettings":{"enableIdTokenIssuance":true}}}"#;
        assert_eq!(read(both), ImplicitGrant { access_tokens: false, id_tokens: true });
    }

    #[test]
    fn what_the_emulator_cannot_honour_is_refused_with_the_reason() {
        let refused = |json: &str| AppRegistration::from_manifest(json).unwrap_err().0;
        assert!(refused(r#"{"appId":"a","groupMembershipClaims":"DirectoryRole"}"#).contains("DirectoryRole"));
        assert!(refused(r#"{"appId":"a","signInAudience":"PersonalMicrosoftAccount"}"#).contains("personal"));
        assert!(refused(r#"{"appId":"a","appRoles":[{"value":"Supervisor"}]}"#).contains("appRoles"));
        assert!(refused(r#"{"appId":"a","web":{"implicitGrantSettings":{"enableIdTokenIssuance":true}},"oauth2AllowIdTokenImplicitFlow":false}"#)
            .contains("expected web.implicitGrantSettings.enableIdTokenIssuance and oauth2AllowIdTokenImplicitFlow to agree"));
        assert!(refused(
            r#"{"appId":"a","groupMembershipClaims":"SecurityGroup",
                "optionalClaims":{"accessToken":[{"name":"groups","additionalProperties":["cloud_displayname"]}]}}"#
        )
        .contains("ApplicationGroup"));
        assert!(refused(
            r#"{"appId":"a","optionalClaims":{"accessToken":[{"name":"groups","additionalProperties":["sid"]}]}}"#
        )
        .contains("\"sid\""));
    }

    #[test]
    fn a_directory_file_uses_graph_property_names() {
        let directory = Directory::from_json(
            r#"{ "tenants": [{
                "id": "11111111-2222-4333-8444-555555555555", "displayName": "Northwind",
                "verifiedDomains": ["northwind.example"],
                "users": [{ "id": "u1", "userPrincipalName": "nina@northwind.example", "displayName": "Nina Berg",
                            "givenName": "Nina", "surname": "Berg", "mail": "nina@northwind.example", "memberOf": ["g2"] }],
                "groups": [{ "id": "g1", "displayName": "Ops", "onPremisesSamAccountName": "Ops",
                             "onPremisesNetBiosName": "NORTHWIND", "onPremisesDomainName": "northwind.example" },
                           { "id": "g2", "displayName": "Night shift", "memberOf": ["g1"] }],
                "applications": [{ "appId": "app1", "api": { "requestedAccessTokenVersion": 2 },
                                   "groupMembershipClaims": "SecurityGroup",
                                   "optionalClaims": { "accessToken": [{ "name": "groups",
                                       "additionalProperties": ["dns_domain_and_sam_account_name"] }] } }],
                "servicePrincipals": [{ "appId": "app1", "appRoleAssignmentRequired": true, "assignedTo": ["g2"],
                                        "adminConsentGranted": true }]
            }] }"#,
        )
        .unwrap();
        let tenant = directory.tenant("northwind.example").unwrap();
        let nina = tenant.user_by_upn("NINA@northwind.example").unwrap();
        assert_eq!(nina.family_name.as_deref(), Some("Berg"));
        assert!(tenant.is_assigned("app1", nina));
        assert_eq!(
            tenant.groups_claim(&tenant.apps[0], nina),
            crate::directory::GroupsClaim::Groups(vec!["northwind.example\\Ops".into()]),
            "nested: Night shift is cloud-only and left out; Ops comes through nesting"
        );
        let typo = r#"{ "tenants": [{ "id": "t", "user": [] }] }"#;
        assert!(Directory::from_json(typo).unwrap_err().0.contains("unknown field `user`"));
        let bad_app = r#"{ "tenants": [{ "id": "t", "applications": [{ "appId": "a", "signInAudience": "x" }] }] }"#;
        assert!(Directory::from_json(bad_app).unwrap_err().0.starts_with("tenant t: expected signInAudience"));
    }

    #[test]
    fn the_documented_example_directory_loads() {
        let directory = Directory::from_json(include_str!("../examples/directory.json")).unwrap();
        let tenant = directory.tenant("northwind.example").unwrap();
        let (nina, omar) = (tenant.user_by_upn("nina@northwind.example").unwrap(), &tenant.users[1]);
        assert_eq!(
            tenant.groups_claim(&tenant.apps[0], nina),
            crate::directory::GroupsClaim::Groups(vec!["NORTHWIND\\Ops".into(), "NORTHWIND\\NightShift".into()])
        );
        assert!(tenant.is_assigned(&tenant.apps[0].app_id, nina), "Night shift is assigned and Nina is in it");
        assert!(!tenant.is_assigned(&tenant.apps[0].app_id, omar), "Omar is in no assigned group");
    }
}
