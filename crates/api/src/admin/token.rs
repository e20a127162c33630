//! `check-token` and `preview --token`: what a token holds, and whether this configuration
//! accepts it.

use std::fmt::Write as _;

use channels_protocol::claims::AccessTokenClaims;

use std::path::Path;
use std::sync::Arc;

use channels_protocol::clock::{system_clock, Clock};

use super::output::AdminError;
use crate::auth::keys::KeyCache;
use crate::auth::Validator;
use crate::config::ApiConfig;
use crate::state::{expectations, key_cache};

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

/// `check-token` as the binary runs it: against the tenant's keys, or the JWK set in the file
/// `jwks` (offline), as of now or of the Unix time `at` (for captured tokens). The report, and
/// whether the token is valid.
pub async fn check_token_command(
    config: &ApiConfig,
    token: &str,
    jwks: Option<&Path>,
    at: Option<u64>,
) -> Result<(String, bool), AdminError> {
    let keys = match jwks {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| AdminError(format!("{}: {e}", path.display())))?;
            let set = serde_json::from_str(&text)
                .map_err(|e| AdminError(format!("{}: expected a JWK set ({e})", path.display())))?;
            KeyCache::fixed(&set)
        }
        None => key_cache(config),
    };
    let clock: Clock = match at {
        Some(at) => Arc::new(move || at),
        None => system_clock(),
    };
    let validator = Validator::new(expectations(config), Arc::new(keys), clock);
    Ok(check_token(&validator, token).await)
}

/// The claims of `token`, read without verifying it (`preview --token` says so).
pub fn unverified_claims(token: &str) -> Result<AccessTokenClaims, AdminError> {
    let payload =
        token.split('.').nth(1).ok_or_else(|| AdminError("expected a JWT (three dot-separated parts)".into()))?;
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
        .map_err(|e| AdminError(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| AdminError(e.to_string()))
}
