//! `manifest`: the app registration that matches this configuration.

use sha2::{Digest, Sha256};

use super::output::AdminError;
use crate::config::{parse_origin, ApiConfig, TokenVersion};

/// `manifest`: the Microsoft Graph app manifest that matches this configuration — one SPA
/// redirect URI per host, the exposed scope, `upn` and `groups` (sAMAccountName) optional
/// claims, and no Microsoft Graph permission — for the portal's manifest upload. The implicit
/// grant's two switches are on only when the organisation of this registration opted into the
/// implicit flow; the Mobile and desktop platform only when it serves `channels`
/// (`native_client`).
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
    let implicit = config.spa.implicit_flow
        || config.spa.profiles.iter().any(|profile| profile.implicit_flow && profile.client_id == config.client_id);
    // The Mobile and desktop platform, for `channels`: a loopback URI (any port at sign-in) and
    // Entra's nativeclient URI, as Instant Connect's step 5E registers it.
    let native_redirect_uris: &[&str] = match config.native_client.enabled {
        true => &["http://localhost", "https://login.microsoftonline.com/common/oauth2/nativeclient"],
        false => &[],
    };
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
        "publicClient": { "redirectUris": native_redirect_uris },
        "isFallbackPublicClient": config.native_client.device_code,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_matches_the_configuration() {
        let config = ApiConfig::demo();
        let hosts = ["https://channels.example.com".to_owned(), "https://dc2.example.com/".to_owned()];
        let manifest = manifest(&config, &hosts).unwrap();
        // The demo serves `channels` too: the Mobile and desktop platform, no public client flows.
        assert_eq!(
            manifest["publicClient"]["redirectUris"],
            serde_json::json!(["http://localhost", "https://login.microsoftonline.com/common/oauth2/nativeclient"])
        );
        assert_eq!(manifest["isFallbackPublicClient"], false);
        let mut browser_only = ApiConfig::demo();
        browser_only.native_client.enabled = false;
        let browser_only = super::manifest(&browser_only, &hosts).unwrap();
        assert_eq!(browser_only["publicClient"]["redirectUris"], serde_json::json!([]));
        let mut device_code = ApiConfig::demo();
        device_code.native_client.device_code = true;
        assert_eq!(super::manifest(&device_code, &hosts).unwrap()["isFallbackPublicClient"], true);
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
        let opted_in =
            ApiConfig { spa: crate::config::Spa { implicit_flow: true, ..ApiConfig::demo().spa }, ..ApiConfig::demo() };
        let implicit = super::manifest(&opted_in, &hosts).unwrap()["web"]["implicitGrantSettings"].clone();
        assert_eq!(implicit, serde_json::json!({ "enableAccessTokenIssuance": true, "enableIdTokenIssuance": true }));
        let organisations = include_str!("../../../../e2e/fixtures/organisations.toml");
        let mut config = ApiConfig::parse(organisations, |_| None).unwrap();
        let granted = |config: &ApiConfig| {
            super::manifest(config, &hosts).unwrap()["web"]["implicitGrantSettings"]["enableIdTokenIssuance"] == true
        };
        config.spa.profiles[1].implicit_flow = true; // Fabrikam: another registration
        assert!(!granted(&config));
        config.spa.profiles[0].implicit_flow = true; // Contoso: this one
        assert!(granted(&config));
    }

    #[test]
    fn manifest_refuses_missing_and_insecure_hosts() {
        let config = ApiConfig::demo();
        assert!(manifest(&config, &[]).unwrap_err().0.starts_with("expected at least one --host"));
        let error = manifest(&config, &["http://channels.example.com".to_owned()]).unwrap_err();
        assert!(error.0.starts_with("--host: expected an origin"), "{error}");
    }
}
