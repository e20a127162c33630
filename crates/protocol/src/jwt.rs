//! Reading a JWT the SPA holds, without verifying it: the API verifies every token it accepts;
//! the SPA only reads its own ID token (straight from the token endpoint) and explains its
//! access token on the diagnostics page.
//!
//! jwt-compact parses the compact form (three segments, base64url, a JSON header naming an
//! algorithm) and the claims, unchecked. It reads `exp`, `nbf` and `iat` into timestamps of its
//! own; [`unverified_claims`] puts them back as whole seconds (a fraction is cut off, as Entra
//! never sends one), so callers see every claim. A time claim that is not a number, or out of
//! range, makes the claims unreadable: the error says which. The claims come back ordered by
//! name.

use jwt_compact::{Claims, UntrustedToken};
use serde_json::{Map, Value};

/// Why a token's claims cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// Not a compact JWS: the segments, their base64url or the header (jwt-compact's words).
    NotAJwt(String),
    /// A JWT whose claims are not a JSON object with numeric times.
    Claims(String),
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAJwt(why) => write!(f, "expected a JWT ({why})"),
            Self::Claims(why) => write!(f, "expected JSON claims ({why})"),
        }
    }
}

/// Every claim of a compact JWS (`header.payload.signature`), its signature not checked.
pub fn unverified_claims(token: &str) -> Result<Map<String, Value>, Unreadable> {
    let token = UntrustedToken::new(token).map_err(|error| Unreadable::NotAJwt(error.to_string()))?;
    let claims: Claims<Map<String, Value>> =
        token.deserialize_claims_unchecked().map_err(|error| Unreadable::Claims(error.to_string()))?;
    let mut all = claims.custom;
    for (name, time) in [("exp", claims.expiration), ("nbf", claims.not_before), ("iat", claims.issued_at)] {
        if let Some(time) = time {
            all.insert(name.to_owned(), time.timestamp().into());
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

    fn token(header: &str, claims: &str) -> String {
        URL_SAFE_NO_PAD.encode(header) + "." + &URL_SAFE_NO_PAD.encode(claims) + ".c2ln"
    }

    #[test]
    fn the_real_entra_token_reads_as_its_claims_timestamps_included() {
        // The Azure AD-signed token of the shared fixtures, as the API's tests keep it.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../api/tests/fixtures/aad-real/v1-access-token.jwt");
        let token = std::fs::read_to_string(path).unwrap();
        let claims = unverified_claims(token.trim()).unwrap();
        assert!(claims["iss"].as_str().unwrap().starts_with("https://sts.windows.net/"));
        // Its times, as the token has them (2016-06-30): back as the integers they were.
        assert_eq!(
            (&claims["iat"], &claims["nbf"], &claims["exp"]),
            (&1467311248.into(), &1467311248.into(), &1467315148.into())
        );
    }

    #[test]
    fn claims_come_back_as_written() {
        let claims = unverified_claims(&token(
            r#"{"alg":"RS256","typ":"JWT"}"#,
            r#"{"exp":1700000000,"scp":null,"groups":["a",7]}"#,
        ))
        .unwrap();
        assert_eq!(Value::Object(claims), serde_json::json!({"exp": 1700000000, "scp": null, "groups": ["a", 7]}));
        let without_times = unverified_claims(&token(r#"{"alg":"RS256"}"#, r#"{"aud":"c"}"#)).unwrap();
        assert_eq!(Value::Object(without_times), serde_json::json!({"aud": "c"}), "no time claim is invented");
    }

    #[test]
    fn other_shapes_are_refused_saying_what_was_expected() {
        assert!(unverified_claims("nope").unwrap_err().to_string().starts_with("expected a JWT ("));
        assert!(unverified_claims("a.b+/.c").unwrap_err().to_string().starts_with("expected a JWT ("));
        let not_json = token(r#"{"alg":"RS256"}"#, "not json");
        assert!(unverified_claims(&not_json).unwrap_err().to_string().starts_with("expected JSON claims ("));
        let array = token(r#"{"alg":"RS256"}"#, "[1,2]");
        assert!(unverified_claims(&array).unwrap_err().to_string().starts_with("expected JSON claims ("));
        let text_exp = token(r#"{"alg":"RS256"}"#, r#"{"exp":"soon"}"#);
        assert!(unverified_claims(&text_exp).unwrap_err().to_string().starts_with("expected JSON claims ("));
        let far = token(r#"{"alg":"RS256"}"#, r#"{"exp":1e300}"#);
        assert!(unverified_claims(&far).unwrap_err().to_string().starts_with("expected JSON claims ("), "out of range");
    }

    #[test]
    fn a_fractional_time_is_read_as_whole_seconds() {
        let claims = unverified_claims(&token(r#"{"alg":"RS256"}"#, r#"{"exp":1700000000.9,"nbf":1.7e9}"#)).unwrap();
        assert_eq!((&claims["exp"], &claims["nbf"]), (&1700000000.into(), &1700000000.into()));
    }
}
