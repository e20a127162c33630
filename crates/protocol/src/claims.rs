//! Step 6: the access token claims, as the emulator mints them and the API reads them.
//!
//! Field names are Entra's (`access-tokens` on Microsoft Learn). Group overage replaces
//! `groups` by `_claim_names`/`_claim_sources`, or in the implicit flow by `hasgroups`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Claims of an Entra v2 access token for our API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// Audience: the API's client id (v2) or App ID URI (v1).
    pub aud: String,
    /// Issuer: `{authority}/{tid}/v2.0` (v2) or `https://sts.windows.net/{tid}/` (v1).
    pub iss: String,
    /// Issued at.
    pub iat: u64,
    /// Not before.
    pub nbf: u64,
    /// Expiry.
    pub exp: u64,
    /// Tenant id.
    pub tid: String,
    /// The user's immutable object id in the tenant.
    pub oid: String,
    /// Pairwise subject.
    pub sub: String,
    /// Delegated scopes, space-separated. Absent on app-only tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// App roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// User principal name (an optional claim on v2 tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// Sign-in name (v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Groups, in the format the registration picked (sAMAccountName here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// Overage: `{"groups": "src1"}` when the user is in too many groups.
    #[serde(rename = "_claim_names", default, skip_serializing_if = "Option::is_none")]
    pub claim_names: Option<BTreeMap<String, String>>,
    /// Overage in the implicit flow: `true` instead of `groups` when the groups would make the
    /// address bar's fragment too long (6 or more groups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hasgroups: Option<bool>,
    /// Overage: where the groups could be fetched (Microsoft Graph).
    #[serde(rename = "_claim_sources", default, skip_serializing_if = "Option::is_none")]
    pub claim_sources: Option<serde_json::Value>,
    /// The client the token was issued to (v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// How that client authenticated: `0` public client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azpacr: Option<String>,
    /// The client the token was issued to (v1; v2 says `azp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// The token version: `1.0` or `2.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<String>,
    /// Conditional Access authentication contexts the sign-in satisfied (`c1`…`c99`), present
    /// when the client asked for them with a `claims` request (step-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acrs: Option<Vec<String>>,
}

impl AccessTokenClaims {
    /// The name shown for the user: `upn`, or `preferred_username` when the token has no `upn`
    /// (guests, personal accounts). Shown only: a member is keyed by `tid` and `oid`, and only the
    /// `upn` claim links a pre-created one.
    pub fn display_upn(&self) -> Option<&str> {
        self.upn.as_deref().or(self.preferred_username.as_deref())
    }

    /// Whether the groups claim was dropped for overage: `_claim_names` (over 200 groups), or
    /// `hasgroups` (the implicit flow, 6 or more).
    pub fn has_group_overage(&self) -> bool {
        self.claim_names.as_ref().is_some_and(|names| names.contains_key("groups")) || self.hasgroups == Some(true)
    }

    /// The client application the token was issued to: `azp` (v2) or `appid` (v1).
    pub fn client_app(&self) -> Option<&str> {
        self.azp.as_deref().or(self.appid.as_deref())
    }

    /// The delegated scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scp.as_deref().unwrap_or_default().split(' ').filter(|s| !s.is_empty())
    }
}

/// Whether `value` is a GUID in its 8-4-4-4-12 form, as Entra writes tenant, object and group
/// ids (either case).
pub fn is_guid(value: &str) -> bool {
    value.len() == 36
        && value.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::{is_guid, AccessTokenClaims};

    fn claims(extra: serde_json::Value) -> AccessTokenClaims {
        let mut value = serde_json::json!({
            "aud": "a", "iss": "i", "iat": 1, "nbf": 1, "exp": 2, "tid": "t", "oid": "o", "sub": "s"
        });
        value.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn overage_client_app_and_scopes_are_read_as_entra_writes_them() {
        let overage = claims(serde_json::json!({ "_claim_names": { "groups": "src1" } }));
        assert!(overage.has_group_overage());
        let implicit = claims(serde_json::json!({ "hasgroups": true }));
        assert!(implicit.has_group_overage(), "the implicit flow's overage");
        assert!(!claims(serde_json::json!({ "groups": ["Dispatch"] })).has_group_overage());
        assert!(!claims(serde_json::json!({ "_claim_names": { "other": "src1" } })).has_group_overage());

        assert_eq!(claims(serde_json::json!({ "azp": "v2-app", "appid": "v1-app" })).client_app(), Some("v2-app"));
        assert_eq!(claims(serde_json::json!({ "appid": "v1-app" })).client_app(), Some("v1-app"));
        assert_eq!(claims(serde_json::json!({})).client_app(), None);

        let scopes = claims(serde_json::json!({ "scp": " UserProfile.ReadWrite  User.Read " }));
        assert_eq!(scopes.scopes().collect::<Vec<_>>(), ["UserProfile.ReadWrite", "User.Read"]);
        assert_eq!(claims(serde_json::json!({})).scopes().count(), 0);
    }

    #[test]
    fn a_guid_is_hex_in_groups_of_8_4_4_4_12() {
        for guid in ["72f988bf-86f1-41af-91ab-2d7cd011db47", "0C6A1F52-1D1E-4B1A-9A57-3F0E2A7D0001"] {
            assert!(is_guid(guid), "{guid}");
        }
        for not in [
            "",
            "contoso.onmicrosoft.com",
            "72f988bf86f141af91ab2d7cd011db47",      // no dashes
            "72f988bf-86f1-41af-91ab-2d7cd011db4",   // one digit short
            "72f988bf-86f1-41af-91ab-2d7cd011db470", // one too many
            "72f988bf-86f141af-91ab-2d7cd011db47-",  // a dash moved
            "72f988bg-86f1-41af-91ab-2d7cd011db47",  // not hex
            "72f988bé-86f1-41af-91ab-2d7cd011db4",   // not ASCII (36 bytes)
            "Sales-Team-West-Region-Channel-0001",
        ] {
            assert!(!is_guid(not), "{not}");
        }
    }
}
