//! Reading a JWT the SPA holds, without verifying it: the API verifies every token it accepts;
//! the SPA only reads its own ID token (straight from the token endpoint) and explains its
//! access token on the diagnostics page.
//!
//! Only the compact form's shape and base64url are checked here. Parsing the JSON is left to
//! the caller, so that the SPA can hand it to the browser's own `JSON.parse` and carry no JSON
//! parser in its wasm (a JWT library would bring one: see the README's size figures).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Why a string is not a compact JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeError {
    /// Not three dot-separated segments.
    Segments(usize),
    /// The payload segment is not base64url without padding.
    Base64,
}

impl ShapeError {
    /// A sentence saying what was expected and what was found.
    pub fn message(self) -> String {
        match self {
            Self::Segments(found) => {
                "expected a JWT of three dot-separated segments (found ".to_owned() + &found.to_string() + ")"
            }
            Self::Base64 => "expected a base64url payload segment (found other characters)".to_owned(),
        }
    }
}

/// The payload of a compact JWS (`header.payload.signature`), base64url-decoded.
pub fn unverified_payload(token: &str) -> Result<Vec<u8>, ShapeError> {
    let segments: Vec<&str> = token.split('.').collect();
    let [_, payload, _] = segments[..] else { return Err(ShapeError::Segments(segments.len())) };
    URL_SAFE_NO_PAD.decode(payload).map_err(|_| ShapeError::Base64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_of_the_real_entra_token_decodes_to_its_claims() {
        // The Azure AD-signed token of the shared fixtures, as the API's tests keep it.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../api/tests/fixtures/aad-real/v1-access-token.jwt");
        let token = std::fs::read_to_string(path).unwrap();
        let payload = unverified_payload(token.trim()).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert!(claims["iss"].as_str().unwrap().starts_with("https://sts.windows.net/"));
    }

    #[test]
    fn other_shapes_are_refused_saying_what_was_found() {
        assert_eq!(unverified_payload("nope"), Err(ShapeError::Segments(1)));
        assert_eq!(unverified_payload("a.b.c.d.e"), Err(ShapeError::Segments(5)));
        assert_eq!(unverified_payload("a.b+/.c"), Err(ShapeError::Base64));
        assert_eq!(ShapeError::Segments(5).message(), "expected a JWT of three dot-separated segments (found 5)");
    }
}
