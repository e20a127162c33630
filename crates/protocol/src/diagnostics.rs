//! "Validate connection settings", done better: the checks an ICE-style deployment needs, run
//! on the access token the SPA holds, each with the Entra portal fix when it fails.
//!
//! The token's claims are read without verifying its signature: the API verifies; this page
//! explains. Run after sign-in, on the diagnostics panel.

use serde_json::{Map, Value};

use crate::claims::is_guid;
use crate::cloud::Cloud;
use crate::wire::RuntimeConfig;

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedClaims {
    /// Audience.
    pub aud: String,
    /// Delegated scopes, space-separated.
    pub scp: String,
    /// The UPN optional claim.
    pub upn: Option<String>,
    /// Groups, in whatever format the registration emits.
    pub groups: Vec<String>,
    /// Whether `_claim_names` names `groups`, or `hasgroups` is set (the implicit flow): the
    /// groups overage.
    pub overage: bool,
    /// Token version.
    pub ver: String,
}

impl ObservedClaims {
    /// Reads the claims the checks need; a claim of another type than Entra issues (`"scp":
    /// null`, a group that is not a string) is named: `groups[1]: expected a string (found
    /// another type)`. Read by hand from the JSON value, because these words are the page's.
    pub fn read(claims: &Map<String, Value>) -> Result<Self, String> {
        let expected_string = |at: String| at + ": expected a string (found another type)";
        // `null` is read as absent where the claim is optional (`upn`), as serde reads an `Option`.
        let text = |name: &str, optional: bool| match claims.get(name) {
            None => Ok(None),
            Some(Value::Null) if optional => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(expected_string(name.to_owned())),
        };
        let groups = match claims.get("groups") {
            None => Vec::new(),
            Some(Value::Array(groups)) => groups
                .iter()
                .enumerate()
                .map(|(i, group)| {
                    group.as_str().map(str::to_owned).ok_or_else(|| expected_string(format!("groups[{i}]")))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("groups: expected a sequence (found another type)".to_owned()),
        };
        let overage = match claims.get("_claim_names") {
            None | Some(Value::Null) => false,
            Some(Value::Object(names)) => names.get("groups").is_some_and(Value::is_string),
            Some(_) => return Err("_claim_names: expected an object (found another type)".to_owned()),
        } || claims.get("hasgroups") == Some(&Value::Bool(true));
        Ok(Self {
            aud: text("aud", false)?.unwrap_or_default(),
            scp: text("scp", false)?.unwrap_or_default(),
            upn: text("upn", true)?,
            groups,
            overage,
            ver: text("ver", false)?.unwrap_or_default(),
        })
    }
}

/// The claims as the diagnostics page shows them: indented JSON, the values of
/// [`MASKED_CLAIMS`] replaced.
pub fn masked_claims(claims: &Map<String, Value>) -> String {
    let mut shown = claims.clone();
    for name in MASKED_CLAIMS {
        if let Some(value) = shown.get_mut(name) {
            *value = Value::from("•••• (masked)");
        }
    }
    serde_json::to_string_pretty(&shown).expect("a JSON map is written")
}

/// Runs every check on an access token's claims. `api` is the API's verdict (`Ok` or its
/// message; `None` while it has not answered, and its check is left out); `refresh_token`
/// whether the sign-in returned one. In the implicit flow, which has none, the last check flags
/// the flow itself as the weaker configuration, with the reason.
pub fn check(
    claims: &ObservedClaims,
    config: &RuntimeConfig,
    api: Option<Result<(), String>>,
    refresh_token: bool,
) -> Vec<Check> {
    let ObservedClaims { aud, scp, upn, groups, overage, ver } = claims;
    // The scope's own name, after its App ID URI. Read forwards, as the other splits are:
    // reading from the back brings a second copy of the string splitter into the SPA (0.4 KB).
    #[allow(clippy::double_ended_iterator_last)]
    let scope = config.api_scope.split('/').last().unwrap_or_default();
    let groups_found = if groups.is_empty() {
        "no groups claim".to_owned()
    } else {
        "groups ".to_owned() + &groups[..groups.len().min(5)].join(", ")
    };
    let mut checks = vec![
        Check {
            name: "The token is for this API, not Microsoft Graph",
            passed: *aud == config.client_id || aud.strip_prefix("api://") == Some(&config.client_id),
            found: "aud ".to_owned() + aud + if Cloud::is_graph_audience(aud) { " (Microsoft Graph)" } else { "" },
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
        // External ID has no on-premises groups: object ids are all it can emit.
        if config.cloud == Cloud::ExternalId {
            Check {
                name: "Groups arrive (as object ids: External ID has no group names)",
                passed: !groups.is_empty(),
                found: groups_found,
                fix: "App registrations → this app → Token configuration → Add groups claim → Security groups (or Groups assigned to the application); map each channel to its groups' object ids.",
            }
        } else {
            Check {
                name: "Groups arrive as names",
                passed: !groups.is_empty() && !groups.iter().all(|g| is_guid(g)),
                found: groups_found,
                fix: "App registrations → this app → Token configuration → Add groups claim → Security groups → Access token: sAMAccountName; and make sure the channel groups are synced from AD.",
            }
        },
        Check {
            name: "No groups overage",
            passed: !*overage,
            found: if *overage { "more groups than a token holds: groups left out".to_owned() } else { "groups included".to_owned() },
            fix: "Token configuration → edit the groups claim → Groups assigned to the application; Enterprise applications → this app → Users and groups → assign the channel groups.",
        },
        Check {
            name: "Token version 2.0",
            passed: ver == "2.0",
            found: "ver ".to_owned() + ver,
            fix: "App registrations → this app → Manifest → \"requestedAccessTokenVersion\": 2.",
        },
    ];
    checks.push(if config.implicit_flow {
        // Opted into by the organisation, and never shown as fine: RFC 9700 §2.1.2.
        Check {
            name: "Signed in with the authorization code flow and PKCE",
            passed: false,
            found: "the implicit flow (weaker): the tokens came through the address bar, without PKCE, and \
                    there is no refresh token, so each renewal is a new sign-in"
                .to_owned(),
            fix: "RFC 9700 advises against the implicit grant. Once the tenant's MFA exceptions allow the code flow: remove implicit_flow from this organisation in the API's configuration, then App registrations → this app → Authentication → Implicit grant and hybrid flows → clear Access tokens and ID tokens.",
        }
    } else {
        Check {
            name: "A refresh token was issued",
            passed: refresh_token,
            found: if refresh_token { "yes".to_owned() } else { "no".to_owned() },
            fix: "Ask for offline_access (this app does); check that no Conditional Access policy blocks refresh tokens.",
        }
    });
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
            hints: Default::default(),
            implicit_flow: false,
            cloud: Default::default(),
        }
    }

    fn claims(value: Value) -> ObservedClaims {
        ObservedClaims::read(value.as_object().unwrap()).unwrap()
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
            "aud": crate::cloud::GRAPH_APP_ID, "scp": "User.Read", "groups": ["0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0001"], "ver": "1.0"
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
        let implicit_overage = claims(serde_json::json!({ "hasgroups": true }));
        assert!(!check(&implicit_overage, &config(), Some(Ok(())), true)[4].passed, "hasgroups is an overage");
    }

    #[test]
    fn in_external_id_groups_as_object_ids_are_all_there_is_and_pass() {
        let ids = claims(serde_json::json!({
            "aud": "c", "scp": "UserProfile.ReadWrite", "upn": "alice@contoso.example",
            "groups": ["0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0001"], "ver": "2.0"
        }));
        assert!(!check(&ids, &config(), Some(Ok(())), true)[3].passed, "elsewhere, names are expected");
        let external = RuntimeConfig { cloud: Cloud::ExternalId, ..config() };
        let checks = check(&ids, &external, Some(Ok(())), true);
        assert!(checks[3].passed && checks[3].name.contains("object ids"), "{:?}", checks[3]);
        assert!(!check(&ObservedClaims { groups: Vec::new(), ..ids }, &external, None, true)[3].passed);
        let graph_us = claims(serde_json::json!({ "aud": "https://graph.microsoft.us" }));
        assert_eq!(
            check(&graph_us, &config(), None, true)[0].found,
            "aud https://graph.microsoft.us (Microsoft Graph)"
        );
    }

    #[test]
    fn the_implicit_flow_is_flagged_as_the_weaker_configuration_with_the_reason() {
        let good = claims(serde_json::json!({
            "aud": "c", "scp": "UserProfile.ReadWrite", "upn": "alice@contoso.example", "groups": ["Dispatch"], "ver": "2.0"
        }));
        let implicit = RuntimeConfig { implicit_flow: true, ..config() };
        let checks = check(&good, &implicit, Some(Ok(())), false);
        let failed: Vec<&Check> = checks.iter().filter(|c| !c.passed).collect();
        assert_eq!(failed.len(), 1, "{checks:?}");
        assert_eq!(failed[0].name, "Signed in with the authorization code flow and PKCE");
        assert!(failed[0].found.starts_with("the implicit flow (weaker)"));
        assert!(failed[0].fix.contains("RFC 9700") && failed[0].fix.contains("Implicit grant and hybrid flows"));
        assert!(checks.iter().all(|c| c.name != "A refresh token was issued"), "none is due");
    }

    #[test]
    fn claims_of_other_types_are_named_where_they_are() {
        let refused = |value: Value| ObservedClaims::read(value.as_object().unwrap()).unwrap_err();
        assert_eq!(refused(serde_json::json!({"scp": null})), "scp: expected a string (found another type)");
        assert_eq!(
            refused(serde_json::json!({"groups": ["Dispatch", 7]})),
            "groups[1]: expected a string (found another type)"
        );
        assert_eq!(
            refused(serde_json::json!({"groups": "Dispatch"})),
            "groups: expected a sequence (found another type)"
        );
        assert_eq!(
            refused(serde_json::json!({"_claim_names": 1})),
            "_claim_names: expected an object (found another type)"
        );
        assert_eq!(
            claims(serde_json::json!({"upn": "a@b", "_claim_names": {"other": "src"}})).upn.as_deref(),
            Some("a@b")
        );
        assert!(!claims(serde_json::json!({"_claim_names": {"other": "src"}})).overage);
        // Absent and null are alike for the optional ones, as serde reads an `Option`.
        assert_eq!(claims(serde_json::json!({"upn": null, "_claim_names": null})), ObservedClaims::default());
        assert!(!claims(serde_json::json!({"_claim_names": {"groups": null}})).overage);
        assert!(claims(serde_json::json!({"_claim_names": {"groups": "src1"}})).overage);
    }

    #[test]
    fn opaque_values_are_masked_and_the_rest_shown_as_they_are() {
        let token = serde_json::json!({"sub": "pairwise-subject", "uti": "u-1", "name": "Alice", "exp": 1700000000, "scp": null});
        let shown = masked_claims(token.as_object().unwrap());
        assert!(
            shown.contains("\"sub\": \"•••• (masked)\"") && shown.contains("\"uti\": \"•••• (masked)\""),
            "{shown}"
        );
        assert!(!shown.contains("pairwise-subject") && !shown.contains("u-1"), "{shown}");
        assert!(
            shown.contains("\"name\": \"Alice\"")
                && shown.contains("\"exp\": 1700000000")
                && shown.contains("\"scp\": null"),
            "{shown}"
        );
        assert!(!shown.contains("nonce"), "a masked claim that is absent is not added");
    }
}
