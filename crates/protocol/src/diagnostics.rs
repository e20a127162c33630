//! "Validate connection settings", done better: the checks an ICE-style deployment needs, run
//! on the access token the SPA holds, each with the Entra portal fix when it fails.
//!
//! The token's claims are read without verifying its signature: the API verifies; this page
//! explains. Run after sign-in, on the diagnostics panel.

use serde_json::{Map, Value};

use crate::wire::RuntimeConfig;

/// Microsoft Graph's application id.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What is checked.
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What was found.
    pub found: String,
    /// The fix, shown when it failed.
    pub fix: &'static str,
}

/// Claim values that are opaque or replayable are masked before display.
pub const MASKED_CLAIMS: [&str; 5] = ["aio", "nonce", "rh", "sub", "uti"];

/// The decoded claims of a JWT, without verifying it; `None` when it is not a JWT.
pub fn decode_claims(token: &str) -> Option<Map<String, Value>> {
    let token = jwt_compact::UntrustedToken::new(token).ok()?;
    let claims = token.deserialize_claims_unchecked::<Map<String, Value>>().ok()?;
    let mut all = claims.custom;
    for (name, time) in [("exp", claims.expiration), ("nbf", claims.not_before), ("iat", claims.issued_at)] {
        if let Some(time) = time {
            all.insert(name.to_owned(), Value::from(time.timestamp()));
        }
    }
    Some(all)
}

/// The claims with [`MASKED_CLAIMS`] replaced, for display.
pub fn masked(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .map(|(k, v)| {
            let shown =
                if MASKED_CLAIMS.contains(&k.as_str()) { Value::from("•••• (masked)") } else { v.clone() };
            (k.clone(), shown)
        })
        .collect()
}

fn text(claims: &Map<String, Value>, name: &str) -> String {
    claims.get(name).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn is_guid(value: &str) -> bool {
    let lengths: Vec<usize> = value.split('-').map(str::len).collect();
    lengths == [8, 4, 4, 4, 12] && value.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

/// Runs every check on an access token's claims. `api` is the API's verdict (`Ok` or its
/// message); `refresh_token` whether the sign-in returned one.
pub fn check(
    claims: &Map<String, Value>,
    config: &RuntimeConfig,
    api: Result<(), String>,
    refresh_token: bool,
) -> Vec<Check> {
    let aud = text(claims, "aud");
    let scope = config.api_scope.rsplit('/').next().unwrap_or_default();
    let scp = text(claims, "scp");
    let groups: Vec<String> = claims
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let overage = claims.get("_claim_names").and_then(|n| n.get("groups")).is_some();
    let ver = text(claims, "ver");
    vec![
        Check {
            name: "The token is for this API, not Microsoft Graph",
            passed: aud == config.client_id || aud == format!("api://{}", config.client_id),
            found: format!("aud {aud}{}", if aud == GRAPH_APP_ID { " (Microsoft Graph)" } else { "" }),
            fix: "Request the scope api://<client-id>/UserProfile.ReadWrite, and remove Microsoft Graph permissions under App registrations → this app → API permissions.",
        },
        Check {
            name: "The API scope is granted",
            passed: scp.split(' ').any(|s| s == scope),
            found: format!("scp \"{scp}\""),
            fix: "App registrations → this app → Expose an API → add UserProfile.ReadWrite; API permissions → add it → Grant admin consent.",
        },
        Check {
            name: "The UPN is in the token",
            passed: claims.contains_key("upn"),
            found: if claims.contains_key("upn") { format!("upn {}", text(claims, "upn")) } else { "no upn claim".to_owned() },
            fix: "App registrations → this app → Token configuration → Add optional claim → Access → upn (turn on \"Externally authenticated\" for guests).",
        },
        Check {
            name: "Groups arrive as names",
            passed: !groups.is_empty() && !groups.iter().all(|g| is_guid(g)),
            found: if groups.is_empty() {
                "no groups claim".to_owned()
            } else {
                format!("groups {}", groups.iter().take(5).cloned().collect::<Vec<_>>().join(", "))
            },
            fix: "App registrations → this app → Token configuration → Add groups claim → Security groups → Access token: sAMAccountName; and make sure the channel groups are synced from AD.",
        },
        Check {
            name: "No groups overage",
            passed: !overage,
            found: if overage { "more than 200 groups: groups left out".to_owned() } else { "groups included".to_owned() },
            fix: "Token configuration → edit the groups claim → Groups assigned to the application; Enterprise applications → this app → Users and groups → assign the channel groups.",
        },
        Check {
            name: "Token version 2.0",
            passed: ver == "2.0",
            found: format!("ver {ver}"),
            fix: "App registrations → this app → Manifest → \"requestedAccessTokenVersion\": 2.",
        },
        Check {
            name: "The API accepts the token",
            passed: api.is_ok(),
            found: api.err().unwrap_or_else(|| "accepted".to_owned()),
            fix: "See the API's message above; channels-api check-token explains every reason.",
        },
        Check {
            name: "A refresh token was issued",
            passed: refresh_token,
            found: if refresh_token { "yes".to_owned() } else { "no".to_owned() },
            fix: "Ask for offline_access (this app does); check that no Conditional Access policy blocks refresh tokens.",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RuntimeConfig {
        RuntimeConfig {
            authority: "http://127.0.0.1:9400".into(),
            tenant_id: "t".into(),
            client_id: "c".into(),
            api_scope: "api://c/UserProfile.ReadWrite".into(),
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_well_configured_token_passes_everything() {
        let good = claims(serde_json::json!({
            "aud": "c", "scp": "UserProfile.ReadWrite", "upn": "alice@contoso.example",
            "groups": ["Dispatch"], "ver": "2.0"
        }));
        assert!(check(&good, &config(), Ok(()), true).iter().all(|c| c.passed));
    }

    #[test]
    fn each_misconfiguration_fails_its_check_with_the_fix() {
        let graph = claims(serde_json::json!({
            "aud": GRAPH_APP_ID, "scp": "User.Read", "groups": ["0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0001"], "ver": "1.0"
        }));
        let failed: Vec<&str> = check(&graph, &config(), Err("graph_token".into()), false)
            .into_iter()
            .filter(|c| !c.passed)
            .map(|c| c.name)
            .collect();
        assert_eq!(
            failed,
            [
                "The token is for this API, not Microsoft Graph",
                "The API scope is granted",
                "The UPN is in the token",
                "Groups arrive as names",
                "Token version 2.0",
                "The API accepts the token",
                "A refresh token was issued"
            ]
        );
        let overage = claims(serde_json::json!({ "_claim_names": { "groups": "src1" } }));
        assert!(!check(&overage, &config(), Ok(()), true)[4].passed);
    }

    #[test]
    fn opaque_claims_are_masked() {
        let shown = masked(&claims(serde_json::json!({ "sub": "pairwise", "name": "Alice" })));
        assert_eq!(shown["sub"], "•••• (masked)");
        assert_eq!(shown["name"], "Alice");
    }
}
