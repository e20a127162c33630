//! The implicit flow's ID token check, run in headless Chromium: Web Crypto verifies a real
//! Azure AD RS256 signature with Entra's published key, and refuses it once a byte of the
//! payload or of the signature changes.
#![cfg(target_arch = "wasm32")]

use channels_protocol::secret::IdToken;
use channels_protocol::token::{signed_parts, signing_key, Jwks, SignedParts};
use channels_spa::browser::signature::verifies;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The Azure AD-signed token of the shared fixtures, and the keys Entra published for it.
const TOKEN: &str = include_str!("../crates/api/tests/fixtures/aad-real/v1-access-token.jwt");
const JWKS: &str = include_str!("../crates/api/tests/fixtures/aad-real/jwks.json");
/// Entra's real key set of today, whose keys did not sign that token.
const OTHER_KEYS: &str = include_str!("../crates/api/tests/fixtures/entra-common/keys.json");

#[wasm_bindgen_test]
async fn a_real_entra_signature_verifies_and_any_change_does_not() {
    let token = IdToken::new(TOKEN.trim());
    let keys: Jwks = serde_json::from_str(JWKS).unwrap();
    let parts = signed_parts(&token).unwrap();
    let key = signing_key(&keys, &parts.kid).unwrap();
    assert_eq!(verifies(key, &parts).await, Ok(true));

    // One changed byte in what was signed (the payload), or in the signature.
    let payload_changed = parts.signing_input.replacen('.', ".e", 1);
    let altered =
        SignedParts { kid: parts.kid.clone(), signing_input: &payload_changed, signature: parts.signature.clone() };
    assert_eq!(verifies(key, &altered).await, Ok(false));
    let mut signature = parts.signature.clone();
    signature[17] ^= 1;
    let forged = SignedParts { signature, ..parts };
    assert_eq!(verifies(key, &forged).await, Ok(false));

    // Another of Entra's keys does not verify it either.
    let others: Jwks = serde_json::from_str(OTHER_KEYS).unwrap();
    let parts = signed_parts(&token).unwrap();
    assert_eq!(verifies(&others.keys[0], &parts).await, Ok(false));
    assert!(signing_key(&others, &forged.kid).is_err(), "nor does it name the token's kid");
}
