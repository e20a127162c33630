//! `check-token` and `preview --token`: what a token holds, and whether this configuration
//! accepts it.

use std::fmt::Write as _;

use channels_protocol::claims::AccessTokenClaims;

use super::output::AdminError;
use crate::auth::Validator;

/// `check-token`: whether `token` is valid for this configuration, and if not, every reason
/// with its fix. Returns the report and whether the token is valid.
pub async fn check_token(validator: &Validator, token: &str) -> (String, bool) {
    let (claims, problems) = validator.diagnose(token.trim()).await;
    let mut out = String::new();
    if let Some(claims) = &claims {
        let who = claims.display_upn().unwrap_or("(no upn)");
        let _ = writeln!(out, "token of {who} (tid {}, oid {})", claims.tid, claims.oid);
        let _ =
            writeln!(out, "  iss {}\n  aud {}\n  scp {}", claims.iss, claims.aud, claims.scp.as_deref().unwrap_or("-"));
        let _ = writeln!(out, "  ver {}  nbf {}  exp {}", claims.ver.as_deref().unwrap_or("-"), claims.nbf, claims.exp);
        match (&claims.groups, claims.has_group_overage()) {
            (_, true) => {
                out.push_str("  groups: overage (more than 200, or 6 in the implicit flow; not in the token)\n")
            }
            (Some(groups), _) => {
                let _ = writeln!(out, "  groups: {}", groups.join(", "));
            }
            (None, _) => out.push_str("  groups: none in the token\n"),
        }
    }
    if problems.is_empty() {
        out.push_str("VALID for this configuration\n");
        return (out, true);
    }
    let _ = writeln!(out, "INVALID for this configuration: {} problem(s)", problems.len());
    for problem in &problems {
        let _ = writeln!(out, "  - {problem}");
        if let Some(fix) = problem.fix() {
            let _ = writeln!(out, "    fix: {fix}");
        }
    }
    (out, false)
}

/// The claims of `token`, read without verifying it (`preview --token` says so).
pub fn unverified_claims(token: &str) -> Result<AccessTokenClaims, AdminError> {
    let payload =
        token.split('.').nth(1).ok_or_else(|| AdminError("expected a JWT (three dot-separated parts)".into()))?;
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
        .map_err(|e| AdminError(format!("expected a JWT's base64url payload ({e})")))?;
    serde_json::from_slice(&bytes).map_err(|e| AdminError(format!("expected an access token's claims ({e})")))
}
