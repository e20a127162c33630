//! The tenant's token-signing key: generated at start, never written anywhere.
//!
//! Entra signs with RS256 and publishes the public half in the JWKS at
//! `/discovery/v2.0/keys`; the emulator does the same with a fresh 2048-bit key.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// An RS256 signing key with its JWKS entry.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwk: serde_json::Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("private", &"[redacted]").finish()
    }
}

impl SigningKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("RSA key generation");
        let der = private.to_pkcs1_der().expect("PKCS#1 encoding of a fresh key");
        let n = private.n().to_bytes_be();
        let e = private.e().to_bytes_be();
        // Entra's kids are certificate thumbprints; a thumbprint of the modulus serves the same purpose.
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(&n)[..20]);
        let jwk = serde_json::json!({
            "kty": "RSA",
            "use": "sig",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(&n),
            "e": URL_SAFE_NO_PAD.encode(&e),
        });
        Self { kid, encoding: EncodingKey::from_rsa_der(der.as_bytes()), jwk }
    }

    /// The key id in token headers and in the JWKS.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> &serde_json::Value {
        &self.jwk
    }

    /// Entra's access token header: `{"typ":"JWT","alg":"RS256","kid":…}`.
    pub fn header(&self) -> Header {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header
    }

    /// Signs `claims` with Entra's header.
    pub fn sign<T: Serialize>(&self, claims: &T) -> String {
        self.sign_with_header(&self.header(), claims)
    }

    /// Signs a ready-made `header.payload` (base64url) as is: tests forge payloads that no
    /// serialiser would write, such as duplicate keys.
    pub fn sign_raw(&self, signing_input: &str) -> String {
        let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.encoding, Algorithm::RS256)
            .expect("RS256 signing with a valid key");
        format!("{signing_input}.{signature}")
    }

    /// Signs `claims` under any RS256 header (tests forge headers with it).
    pub fn sign_with_header<T: Serialize>(&self, header: &Header, claims: &T) -> String {
        jsonwebtoken::encode(header, claims, &self.encoding).expect("RS256 signing with a valid key")
    }
}
