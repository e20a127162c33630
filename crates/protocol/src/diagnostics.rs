//! "Validate connection settings", done better: the checks an ICE-style deployment needs, run
//! on the access token the SPA holds, each with the Entra portal fix when it fails.
//!
//! The token's claims are read without verifying its signature: the API verifies; this page
//! explains. Run after sign-in, on the diagnostics panel.

use serde::Deserialize;

use crate::claims::is_guid;
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

/// What the checks read of an access token: every claim optional, since explaining a token
/// that lacks one is the point.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ObservedClaims {
    /// Audience.
    pub aud: String,
    /// Delegated scopes, space-separated.
    pub scp: String,
    /// The UPN optional claim.
    pub upn: Option<String>,
    /// Groups, in whatever format the registration emits.
    pub groups: Vec<String>,
    /// Present on group overage.
    #[serde(rename = "_claim_names")]
    pub claim_names: Option<ClaimNames>,
    /// Token version.
    pub ver: String,
}

/// The `_claim_names` of an overage token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ClaimNames {
    /// Where the groups would have been.
    pub groups: Option<String>,
}

/// Runs every check on an access token's claims. `api` is the API's verdict (`Ok` or its
/// message; `None` while it has not answered, and its check is left out); `refresh_token`
/// whether the sign-in returned one.
pub fn check(
    claims: &ObservedClaims,
    config: &RuntimeConfig,
    api: Option<Result<(), String>>,
    refresh_token: bool,
) -> Vec<Check> {
    let ObservedClaims { aud, scp, upn, groups, claim_names, ver } = claims;
    // The scope's own name, after its App ID URI. Read forwards, as the other splits are:
    // reading from the back brings a second copy of the string splitter into the SPA (0.4 KB).
    #[allow(clippy::double_ended_iterator_last)]
    let scope = config.api_scope.split('/').last().unwrap_or_default();
    let overage = claim_names.as_ref().is_some_and(|names| names.groups.is_some());
    let mut checks = vec![
        Check {
            name: "The token is for this API, not Microsoft Graph",
            passed: *aud == config.client_id || aud.strip_prefix("api://") == Some(&config.client_id),
            found: "aud ".to_owned() + aud + if aud == GRAPH_APP_ID { " (Microsoft Graph)" } else { "" },
            fix: "Request the scope api://<client-id>/UserProfile.ReadWrite, and remove Microsoft Graph permissions under App registrations → this app → API permissions.",
        },
        Check {
            name: "The API scope is granted",
            passed: scp.split(' ').any(|s| s == scope),
            found: "scp \"".to_owned() + scp + "\"",
            fix: "App registrations → this app → Expose an API → add UserProfile.ReadWrite; API permissions → add it → Grant admin consent.",
        },
        Check {
            name: "The UPN is in the token",
            passed: upn.is_some(),
            found: upn.as_ref().map_or("no upn claim".to_owned(), |upn| "upn ".to_owned() + upn),
            fix: "App registrations → this app → Token configuration → Add optional claim → Access → upn (turn on \"Externally authenticated\" for guests).",
        },
        Check {
            name: "Groups arrive as names",
            passed: !groups.is_empty() && !groups.iter().all(|g| is_guid(g)),
            found: if groups.is_empty() {
                "no groups claim".to_owned()
            } else {
                "groups ".to_owned() + &groups[..groups.len().min(5)].join(", ")
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
            found: "ver ".to_owned() + ver,
            fix: "App registrations → this app → Manifest → \"requestedAccessTokenVersion\": 2.",
        },
        Check {
            name: "A refresh token was issued",
            passed: refresh_token,
            found: if refresh_token { "yes".to_owned() } else { "no".to_owned() },
            fix: "Ask for offline_access (this app does); check that no Conditional Access policy blocks refresh tokens.",
        },
    ];
    if let Some(api) = api {
        let check = Check {
            name: "The API accepts the token",
            passed: api.is_ok(),
            found: api.err().unwrap_or_else(|| "accepted".to_owned()),
            fix: "See the API's message above; channels-api check-token explains every reason.",
        };
        checks.insert(checks.len() - 1, check);
    }
    checks
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

    fn claims(value: serde_json::Value) -> ObservedClaims {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_well_configured_token_passes_everything() {
        let good = claims(serde_json::json!({
            "aud": "c", "scp": "UserProfile.ReadWrite", "upn": "alice@contoso.example",
            "groups": ["Dispatch"], "ver": "2.0", "iat": 1, "tid": "t"
        }));
        let checks = check(&good, &config(), Some(Ok(())), true);
        assert!(checks.iter().all(|c| c.passed), "{checks:?}");
        assert_eq!(checks[3].found, "groups Dispatch");
        // A v1 token names the API by its App ID URI.
        let v1 = ObservedClaims { aud: "api://c".into(), ..good };
        assert!(check(&v1, &config(), Some(Ok(())), true)[0].passed);
        // Before the API answers, its check is left out, not failed.
        let waiting = check(&v1, &config(), None, true);
        assert_eq!(waiting.len(), 7);
        assert!(waiting.iter().all(|c| c.passed && c.name != "The API accepts the token"), "{waiting:?}");
    }

    #[test]
    fn each_misconfiguration_fails_its_check_with_the_fix() {
        let graph = claims(serde_json::json!({
            "aud": GRAPH_APP_ID, "scp": "User.Read", "groups": ["0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0001"], "ver": "1.0"
        }));
        let checks = check(&graph, &config(), Some(Err("graph_token".into())), false);
        let failed: Vec<&str> = checks.iter().filter(|c| !c.passed).map(|c| c.name).collect();
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
        assert_eq!(checks[0].found, "aud 00000003-0000-0000-c000-000000000000 (Microsoft Graph)");
        assert_eq!(checks[2].found, "no upn claim");
        let overage = claims(serde_json::json!({ "_claim_names": { "groups": "src1" } }));
        assert!(!check(&overage, &config(), Some(Ok(())), true)[4].passed);
        assert!(check(&ObservedClaims::default(), &config(), Some(Ok(())), true)[4].passed);
    }
}
