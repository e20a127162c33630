//! The RS256 check of an ID token that came through the address bar (the implicit flow), done
//! by the browser's Web Crypto. jwt-compact splits the token and refuses any other algorithm
//! (`channels_protocol::token::signed_parts`); the RSA itself is the browser's, because
//! jwt-compact's own RS256 would ship a big-integer RSA implementation in the wasm for a check
//! the browser already has, natively and constant-time.

use channels_protocol::token::{Jwk, SignedParts};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// RSASSA-PKCS1-v1_5 with SHA-256: RS256 (RFC 7518 §3.3).
const RS256: &str = "RSASSA-PKCS1-v1_5";

fn js_error_text(error: JsValue) -> String {
    error.as_string().or_else(|| js_sys::JSON::stringify(&error).ok().map(String::from)).unwrap_or_default()
}

/// Whether `parts` carry a valid RS256 signature by `key`; `Err` when Web Crypto cannot say
/// (a key it does not accept, no Web Crypto at all).
pub async fn verifies(key: &Jwk, parts: &SignedParts<'_>) -> Result<bool, String> {
    let subtle = leptos::prelude::window().crypto().map_err(js_error_text)?.subtle();
    // The key as the JWKS published it (`n`, `e`); Web Crypto reads it as is.
    let jwk = web_sys::JsonWebKey::new(&key.kty);
    jwk.set_n(&key.n);
    jwk.set_e(&key.e);
    // Web IDL's RsaHashedImportParams holds the hash; its algorithm name is a member of the
    // Algorithm dictionary, which web-sys does not generate on it.
    let algorithm = web_sys::RsaHashedImportParams::new_with_str("SHA-256");
    js_sys::Reflect::set(&algorithm, &"name".into(), &RS256.into()).map_err(js_error_text)?;
    let usages = js_sys::Array::of1(&"verify".into());
    let imported = subtle.import_key_with_object("jwk", &jwk, &algorithm, false, &usages).map_err(js_error_text)?;
    let key: web_sys::CryptoKey = JsFuture::from(imported).await.map_err(js_error_text)?.unchecked_into();
    let verified = subtle
        .verify_with_str_and_u8_array_and_u8_array(RS256, &key, &parts.signature, parts.signing_input.as_bytes())
        .map_err(js_error_text)?;
    Ok(JsFuture::from(verified).await.map_err(js_error_text)?.as_bool() == Some(true))
}
