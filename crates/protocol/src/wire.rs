//! The JSON the API serves to the SPA: its runtime configuration and its answers.

use serde::{Deserialize, Serialize};

use crate::cloud::Cloud;

/// Where and as whom the SPA signs in. Served by the API at `/config.json` at start-up, so
/// one build of the SPA serves any tenant and any host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeConfig {
    /// The identity provider's origin: `https://login.microsoftonline.com`, or the emulator's.
    pub authority: String,
    /// The directory (tenant) id, a verified domain, `organizations` or `common`.
    pub tenant_id: String,
    /// The app registration's client id (the SPA and its API share one registration).
    pub client_id: String,
    /// The API's delegated scope, e.g. `api://<client-id>/UserProfile.ReadWrite`.
    pub api_scope: String,
    /// Hints every sign-in sends Entra, when configured.
    #[serde(default, skip_serializing_if = "Hints::is_empty")]
    pub hints: Hints,
    /// Sign in with the implicit grant (`response_type=id_token token`) instead of the
    /// authorization code flow with PKCE: an organisation's opt-in, for tenants whose MFA
    /// exceptions break the code flow. RFC 9700 advises against it; see
    /// [`crate::authorize::start`] for what the SPA does differently.
    #[serde(default, skip_serializing_if = "is_false")]
    pub implicit_flow: bool,
    /// The Microsoft cloud of the authority, which decides the ID token's issuer.
    #[serde(default, skip_serializing_if = "is_global")]
    pub cloud: Cloud,
}

fn is_global(cloud: &Cloud) -> bool {
    *cloud == Cloud::Global
}

fn is_false(value: &bool) -> bool {
    !value
}

/// What a line-of-business deployment tells Entra at every sign-in to skip its pickers:
/// `domain_hint` (the home realm: straight to the organisation's federated sign-in, or past the
/// "Pick an account" of a multi-tenant authority) and `login_hint` (the account's name filled in).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hints {
    /// `domain_hint`, e.g. `contoso.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_hint: Option<String>,
    /// `login_hint`, e.g. `kiosk@contoso.com`; a sign-in for a known account sends that account's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
}

impl Hints {
    /// Whether no hint is configured.
    pub fn is_empty(&self) -> bool {
        self.domain_hint.is_none() && self.login_hint.is_none()
    }
}

impl RuntimeConfig {
    fn endpoint(&self, path: &str) -> String {
        format!("{}/{}/{path}", self.authority.trim_end_matches('/'), self.tenant_id)
    }
    /// `{authority}/{tenant}/oauth2/v2.0/authorize`
    pub fn authorize_endpoint(&self) -> String {
        self.endpoint("oauth2/v2.0/authorize")
    }
    /// `{authority}/{tenant}/oauth2/v2.0/token`
    pub fn token_endpoint(&self) -> String {
        self.endpoint("oauth2/v2.0/token")
    }
    /// `{authority}/{tenant}/oauth2/v2.0/logout`
    pub fn logout_endpoint(&self) -> String {
        self.endpoint("oauth2/v2.0/logout")
    }
    /// The sign-out URL that returns to `post_logout_redirect_uri` (a registered redirect URI).
    pub fn logout_url(&self, post_logout_redirect_uri: &str) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("post_logout_redirect_uri", post_logout_redirect_uri)
            .finish();
        format!("{}?{query}", self.logout_endpoint())
    }
    /// `{authority}/{tenant}/discovery/v2.0/keys`: the signing keys (Entra's `jwks_uri`).
    pub fn keys_endpoint(&self) -> String {
        self.endpoint("discovery/v2.0/keys")
    }
    /// The v2 issuer of this tenant: `{authority}/{tenant}/v2.0` in the global cloud, the
    /// cloud's own form elsewhere ([`Cloud::v2_issuer`]).
    pub fn issuer(&self) -> String {
        self.cloud.v2_issuer(&self.authority, &self.tenant_id)
    }
}

/// What `/config.json` serves: the sign-in to use, and, when the deployment serves several
/// organisations with their own registrations (several "Entra profiles"), the ones to choose
/// from. The default sign-in's fields are spelled out rather than flattened in, because serde's
/// `flatten` costs the SPA's wasm several kilobytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaConfig {
    /// See [`RuntimeConfig::authority`].
    pub authority: String,
    /// See [`RuntimeConfig::tenant_id`].
    pub tenant_id: String,
    /// See [`RuntimeConfig::client_id`].
    pub client_id: String,
    /// See [`RuntimeConfig::api_scope`].
    pub api_scope: String,
    /// See [`RuntimeConfig::hints`].
    #[serde(default, skip_serializing_if = "Hints::is_empty")]
    pub hints: Hints,
    /// See [`RuntimeConfig::implicit_flow`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub implicit_flow: bool,
    /// See [`RuntimeConfig::cloud`]: one authority, so one cloud for every profile.
    #[serde(default, skip_serializing_if = "is_global")]
    pub cloud: Cloud,
    /// The organisations to choose from; with fewer than two there is no choice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<Profile>,
}

/// One organisation's sign-in: its tenant, its registration and the scope to ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// What the user picks, e.g. `Fabrikam`.
    pub name: String,
    /// The directory (tenant) id.
    pub tenant_id: String,
    /// The registration's client id in that tenant.
    pub client_id: String,
    /// The full API scope to ask for.
    pub api_scope: String,
    /// The hints its sign-ins send.
    #[serde(default, skip_serializing_if = "Hints::is_empty")]
    pub hints: Hints,
    /// Whether it signs in with the implicit grant ([`RuntimeConfig::implicit_flow`]).
    #[serde(default, skip_serializing_if = "is_false")]
    pub implicit_flow: bool,
}

impl SpaConfig {
    /// The default sign-in and the profiles to choose from.
    pub fn new(sign_in: RuntimeConfig, profiles: Vec<Profile>) -> Self {
        let RuntimeConfig { authority, tenant_id, client_id, api_scope, hints, implicit_flow, cloud } = sign_in;
        Self { authority, tenant_id, client_id, api_scope, hints, implicit_flow, cloud, profiles }
    }

    /// The default sign-in.
    pub fn sign_in(&self) -> RuntimeConfig {
        RuntimeConfig {
            authority: self.authority.clone(),
            tenant_id: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            api_scope: self.api_scope.clone(),
            hints: self.hints.clone(),
            implicit_flow: self.implicit_flow,
            cloud: self.cloud,
        }
    }

    /// The sign-in for the profile named `name` (the default sign-in's authority), if any.
    pub fn profile(&self, name: &str) -> Option<RuntimeConfig> {
        self.profiles.iter().find(|p| p.name == name).map(|p| RuntimeConfig {
            authority: self.authority.clone(),
            tenant_id: p.tenant_id.clone(),
            client_id: p.client_id.clone(),
            api_scope: p.api_scope.clone(),
            hints: p.hints.clone(),
            implicit_flow: p.implicit_flow,
            cloud: self.cloud,
        })
    }
}

/// A condition the user or the admin should know about, with the step that fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// A stable machine-readable code, e.g. `groups_overage`.
    pub code: String,
    /// What happened, in plain words.
    pub message: String,
    /// What an admin changes to fix it, when an admin can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// `GET /api/me`: who the token belongs to and the channels their groups grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// The user principal name, shown to people; never used as the key.
    pub upn: String,
    /// The display name.
    pub name: String,
    /// The tenant id (`tid`): half of the member key.
    pub tenant_id: String,
    /// The object id (`oid`): the other half of the member key.
    pub object_id: String,
    /// The `groups` claim as received (sAMAccountName form); when the token has none, the
    /// display names of the groups SCIM provisioning gave the user.
    pub groups: Vec<String>,
    /// The channels those groups grant, in the configured order.
    pub channels: Vec<String>,
    /// Why the channel list may be incomplete or empty, when the API knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Notice>,
    /// The stored member record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberRecord>,
}

/// What the API stores about a member (keyed by tenant and object id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    /// Roles in this product.
    pub roles: Vec<String>,
    /// Preferences the member set.
    pub preferences: serde_json::Value,
    /// First sign-in (seconds since the epoch).
    pub created_at: i64,
    /// This sign-in.
    pub last_seen_at: i64,
    /// `created` (first sign-in), `linked` (pre-created by an admin) or `updated`.
    pub provisioning: String,
}

/// The one error body of the API (beside RFC 6750's `WWW-Authenticate` header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// A stable machine-readable code, e.g. `invalid_token`.
    pub error: String,
    /// What was expected and what was found.
    pub message: String,
    /// The step that fixes it, when an admin or the user can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_entra_paths() {
        let config = RuntimeConfig {
            authority: "https://login.microsoftonline.com/".into(),
            tenant_id: "contoso.onmicrosoft.com".into(),
            client_id: "c".into(),
            api_scope: "api://c/UserProfile.ReadWrite".into(),
            hints: Default::default(),
            implicit_flow: false,
            cloud: Default::default(),
        };
        assert_eq!(
            config.authorize_endpoint(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize"
        );
        assert_eq!(
            config.token_endpoint(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(config.issuer(), "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0");
    }

    #[test]
    fn the_spa_configuration_keeps_the_single_tenant_shape_and_names_its_profiles() {
        let single: SpaConfig = serde_json::from_str(
            r#"{"authority":"https://login.microsoftonline.com","tenant_id":"t","client_id":"c","api_scope":"api://c/S"}"#,
        )
        .unwrap();
        assert!(single.profiles.is_empty());
        assert_eq!(serde_json::to_value(&single).unwrap().as_object().unwrap().len(), 4, "no profiles key");
        let several = SpaConfig {
            profiles: vec![Profile {
                name: "Fabrikam".into(),
                tenant_id: "f".into(),
                client_id: "fc".into(),
                api_scope: "api://fc/S".into(),
                hints: Hints { domain_hint: Some("fabrikam.example".into()), login_hint: None },
                implicit_flow: true,
            }],
            ..single.clone()
        };
        let fabrikam = several.profile("Fabrikam").unwrap();
        assert_eq!((fabrikam.tenant_id.as_str(), fabrikam.client_id.as_str()), ("f", "fc"));
        assert!(fabrikam.implicit_flow && !single.sign_in().implicit_flow, "the flow is the organisation's");
        assert_eq!(fabrikam.authority, single.authority);
        assert_eq!(SpaConfig::new(single.sign_in(), Vec::new()), single);
        assert!(several.profile("Contoso").is_none());
    }
}
