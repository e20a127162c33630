//! App registrations read from the Microsoft Graph app manifest — the very JSON an admin uploads
//! in the Entra portal (App registrations → Manifest) — so that the emulator enforces what the
//! registration says. `channels-api manifest` prints such a file; a test loads it here.

use serde::Deserialize;

use crate::directory::{AppRegistration, GroupFormat, Platform};

/// Why a manifest cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError(pub String);

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "app manifest: {}", self.0)
    }
}

impl std::error::Error for ManifestError {}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    app_id: String,
    display_name: Option<String>,
    #[serde(default)]
    identifier_uris: Vec<String>,
    #[serde(default)]
    spa: RedirectUris,
    #[serde(default)]
    web: RedirectUris,
    #[serde(default)]
    api: Api,
    group_membership_claims: Option<String>,
    #[serde(default)]
    optional_claims: OptionalClaims,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RedirectUris {
    #[serde(default)]
    redirect_uris: Vec<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Api {
    requested_access_token_version: Option<u8>,
    #[serde(default)]
    oauth2_permission_scopes: Vec<Scope>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Scope {
    value: String,
    #[serde(default = "enabled")]
    is_enabled: bool,
}

fn enabled() -> bool {
    true
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OptionalClaims {
    #[serde(default)]
    access_token: Vec<OptionalClaim>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OptionalClaim {
    name: String,
    #[serde(default)]
    additional_properties: Vec<String>,
}

impl AppRegistration {
    /// Reads an app registration from its Microsoft Graph manifest.
    pub fn from_manifest(json: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = serde_json::from_str(json).map_err(|e| ManifestError(e.to_string()))?;
        if manifest.api.requested_access_token_version != Some(2) {
            return Err(ManifestError(format!(
                "expected api.requestedAccessTokenVersion 2: the emulator issues v2 access tokens (found {:?})",
                manifest.api.requested_access_token_version
            )));
        }
        let emit_groups = match manifest.group_membership_claims.as_deref() {
            None | Some("None") => false,
            Some("SecurityGroup" | "All") => true,
            Some(other) => {
                return Err(ManifestError(format!(
                    "expected groupMembershipClaims None, SecurityGroup or All (found {other:?}, which the emulator does not emulate)"
                )))
            }
        };
        let claim = |name: &str| manifest.optional_claims.access_token.iter().find(|c| c.name == name);
        let group_format = match claim("groups") {
            Some(groups) if groups.additional_properties.iter().any(|p| p == "sam_account_name") => {
                GroupFormat::SamAccountName
            }
            _ => GroupFormat::ObjectId,
        };
        let platform = |platform: Platform, uris: Vec<String>| uris.into_iter().map(move |uri| (platform, uri));
        Ok(Self {
            display_name: manifest.display_name.unwrap_or_else(|| manifest.app_id.clone()),
            app_id: manifest.app_id,
            identifier_uris: manifest.identifier_uris,
            redirect_uris: platform(Platform::Spa, manifest.spa.redirect_uris)
                .chain(platform(Platform::Web, manifest.web.redirect_uris))
                .collect(),
            scopes: manifest
                .api
                .oauth2_permission_scopes
                .into_iter()
                .filter(|s| s.is_enabled)
                .map(|s| s.value)
                .collect(),
            emit_groups,
            group_format,
            upn_claim: claim("upn").is_some(),
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
              "identifierUris": ["api://6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d"],
              "spa": { "redirectUris": ["https://channels.example.com/sso"] },
              "web": { "redirectUris": ["https://old.example.com/signin"] },
              "api": { "requestedAccessTokenVersion": 2,
                       "oauth2PermissionScopes": [{ "value": "UserProfile.ReadWrite", "isEnabled": true },
                                                  { "value": "Old.Scope", "isEnabled": false }] },
              "groupMembershipClaims": "SecurityGroup",
              "optionalClaims": { "accessToken": [
                { "name": "upn", "additionalProperties": ["include_externally_authenticated_upn"] },
                { "name": "groups", "additionalProperties": ["sam_account_name"] } ] }
            }"#,
        )
        .unwrap();
        assert_eq!(app.redirect_uri("https://channels.example.com/sso"), Some(Platform::Spa));
        assert_eq!(app.redirect_uri("https://old.example.com/signin"), Some(Platform::Web));
        assert_eq!(app.scopes, ["UserProfile.ReadWrite"]);
        assert_eq!((app.emit_groups, app.group_format, app.upn_claim), (true, GroupFormat::SamAccountName, true));
    }

    #[test]
    fn what_the_emulator_cannot_honour_is_refused_with_the_reason() {
        let v1 = r#"{"appId":"a","api":{"requestedAccessTokenVersion":null}}"#;
        assert!(AppRegistration::from_manifest(v1)
            .unwrap_err()
            .0
            .starts_with("expected api.requestedAccessTokenVersion 2"));
        let app_groups =
            r#"{"appId":"a","api":{"requestedAccessTokenVersion":2},"groupMembershipClaims":"ApplicationGroup"}"#;
        assert!(AppRegistration::from_manifest(app_groups).unwrap_err().0.contains("ApplicationGroup"));
    }
}
