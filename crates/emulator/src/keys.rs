//! The token-signing keys: generated at start, never written anywhere.
//!
//! Entra signs with RS256 and publishes more than one key at `/discovery/v2.0/keys`, each with
//! its certificate (`x5c`) and thumbprint (`x5t`, also the `kid`); keys roll on a schedule
//! (the next key is published before it signs) and in emergencies (a new key signs at once).
//! [`KeySet`] does both on demand, so tests can roll keys while clients run.

use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::EncodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// How many keys stay published: the signing key, the next one, and the one before.
const PUBLISHED_KEYS: usize = 3;

/// An RS256 signing key with its certificate and JWKS entry.
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
    /// A fresh 2048-bit key from the operating system's CSPRNG, with a self-signed certificate.
    pub fn generate() -> Self {
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("RSA key generation");
        let pkcs8 = private.to_pkcs8_der().expect("PKCS#8 encoding of a fresh key");
        let certificate = self_signed_certificate(pkcs8.as_bytes());
        // As in Entra, the kid is the certificate's SHA-1 thumbprint (x5t).
        let kid = URL_SAFE_NO_PAD.encode(<sha1::Sha1 as sha1::Digest>::digest(&certificate));
        let jwk = serde_json::json!({
            "kty": "RSA",
            "use": "sig",
            "kid": kid,
            "x5t": kid,
            "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
            "x5c": [STANDARD.encode(&certificate)],
        });
        let encoding = EncodingKey::from_rsa_der(
            &rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_der(&private).expect("PKCS#1").to_bytes(),
        );
        Self { kid, encoding, jwk }
    }

    /// The key id in token headers and in the JWKS.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (with `x5t` and `x5c`, without the per-tenant `issuer`).
    pub fn jwk(&self) -> &serde_json::Value {
        &self.jwk
    }

    /// Entra's v2 access token header: `{"typ":"JWT","alg":"RS256","kid":…}`.
    pub fn header(&self) -> Header {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header
    }

    /// Entra's v1 header, which adds the thumbprint: `x5t` equal to `kid`.
    pub fn v1_header(&self) -> Header {
        let mut header = self.header();
        header.x5t = Some(self.kid.clone());
        header
    }

    /// Signs `claims` with Entra's v2 header.
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

    /// A Microsoft Graph-style token: the header carries a `nonce`, but the signature covers a
    /// header holding the nonce's SHA-256 instead — only Graph, which knows to hash it, can
    /// verify it. Everyone else sees a bad signature, exactly as with real Graph tokens.
    pub fn sign_graph<T: Serialize>(&self, claims: &T) -> String {
        let nonce = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let hashed = URL_SAFE_NO_PAD.encode(Sha256::digest(nonce.as_bytes()));
        let header = |nonce: &str| {
            let json =
                serde_json::json!({ "typ": "JWT", "nonce": nonce, "alg": "RS256", "x5t": self.kid, "kid": self.kid });
            URL_SAFE_NO_PAD.encode(json.to_string())
        };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialise"));
        let signed = self.sign_raw(&format!("{}.{payload}", header(&hashed)));
        let signature = signed.rsplit('.').next().expect("a signed token has a signature");
        format!("{}.{payload}.{signature}", header(&nonce))
    }
}

/// A self-signed certificate for `pkcs8` (Entra's token-signing certificates are self-signed,
/// issued to `accounts.accesscontrol.windows.net`). Written by rcgen: no crate in use here
/// makes X.509 otherwise.
fn self_signed_certificate(pkcs8: &[u8]) -> Vec<u8> {
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8);
    let key =
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256).expect("rcgen accepts RSA keys");
    let params = rcgen::CertificateParams::new(vec!["accounts.accesscontrol.windows.net".to_owned()])
        .expect("a valid subject name");
    params.self_signed(&key).expect("self-signing").der().to_vec()
}

/// The keys a tenant publishes; the first signs.
#[derive(Debug)]
pub struct KeySet {
    keys: RwLock<Vec<Arc<SigningKey>>>,
}

impl KeySet {
    /// A signing key and the next one, both published.
    pub fn generate() -> Self {
        Self { keys: RwLock::new(vec![Arc::new(SigningKey::generate()), Arc::new(SigningKey::generate())]) }
    }

    /// The key that signs now.
    pub fn signing(&self) -> Arc<SigningKey> {
        self.keys.read().expect("key set lock")[0].clone()
    }

    /// Every published key, the signing one first.
    pub fn published(&self) -> Vec<Arc<SigningKey>> {
        self.keys.read().expect("key set lock").clone()
    }

    /// A scheduled roll: the already-published next key starts signing, a new next key is
    /// published, and the old signing key stays published for tokens still in flight.
    pub fn roll(&self) {
        let fresh = Arc::new(SigningKey::generate());
        let mut keys = self.keys.write().expect("key set lock");
        keys.swap(0, 1);
        keys.insert(1, fresh);
        keys.truncate(PUBLISHED_KEYS);
    }

    /// An emergency roll: the signing key is withdrawn at once and a key that no client has
    /// seen signs from now on (clients must refetch on the unknown `kid`).
    pub fn replace_compromised(&self) {
        let fresh = Arc::new(SigningKey::generate());
        let mut keys = self.keys.write().expect("key set lock");
        keys[0] = fresh;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_roll_with_the_next_key_published_first_and_emergencies_withdraw_the_old_one() {
        let set = KeySet::generate();
        let [first, next] = [0, 1].map(|i| set.published()[i].kid().to_owned());
        assert_eq!(set.signing().kid(), first);
        set.roll();
        let kids: Vec<String> = set.published().iter().map(|k| k.kid().to_owned()).collect();
        assert_eq!(kids.len(), 3);
        assert_eq!((kids[0].as_str(), kids[2].as_str()), (next.as_str(), first.as_str()));
        set.replace_compromised();
        let after: Vec<String> = set.published().iter().map(|k| k.kid().to_owned()).collect();
        assert!(!after.contains(&next), "the compromised key is no longer published");
        assert_eq!(set.signing().kid(), after[0]);
    }

    #[test]
    fn the_jwk_carries_the_certificate_and_its_thumbprint() {
        let key = SigningKey::generate();
        let der = STANDARD.decode(key.jwk()["x5c"][0].as_str().unwrap()).unwrap();
        let thumbprint = URL_SAFE_NO_PAD.encode(<sha1::Sha1 as sha1::Digest>::digest(&der));
        assert_eq!((key.kid(), key.jwk()["x5t"].as_str().unwrap()), (thumbprint.as_str(), thumbprint.as_str()));
    }

    #[test]
    fn graph_tokens_do_not_verify_as_they_are() {
        let key = SigningKey::generate();
        let token = key.sign_graph(&serde_json::json!({ "aud": "00000003-0000-0000-c000-000000000000" }));
        let decoding =
            jsonwebtoken::DecodingKey::from_jwk(&serde_json::from_value(key.jwk().clone()).unwrap()).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let error = jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap_err();
        assert_eq!(error.kind(), &jsonwebtoken::errors::ErrorKind::InvalidSignature);
        // With the nonce hashed, as Graph does, the same signature verifies.
        let (header, rest) = token.split_once('.').unwrap();
        let mut header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        let nonce = header["nonce"].as_str().unwrap().to_owned();
        header["nonce"] = URL_SAFE_NO_PAD.encode(Sha256::digest(nonce.as_bytes())).into();
        let rehashed = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()));
        assert!(jsonwebtoken::decode::<serde_json::Value>(&rehashed, &decoding, &validation).is_ok());
    }
}
