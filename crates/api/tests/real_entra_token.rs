//! Validation against artefacts Entra itself produced (copied from shared/fixtures; see the
//! README files beside them): a v1 access token signed by Azure AD in 2016 with its key, and
//! Entra's real `common` JWKS.

use std::sync::Arc;

use channels_api::auth::keys::KeyCache;
use channels_api::auth::validate::{Expectations, TokenError, Validator};
use jsonwebtoken::jwk::JwkSet;

const TOKEN: &str = include_str!("fixtures/aad-real/v1-access-token.jwt");
const JWKS: &str = include_str!("fixtures/aad-real/jwks.json");
const ISSUER: &str = "https://sts.windows.net/268da1a1-9db4-48b9-b1fe-683250ba90cc/";
const AUDIENCE: &str = "spn:6514a8ca-d9e4-4155-b292-65258398f3aa";
const TENANT: &str = "268da1a1-9db4-48b9-b1fe-683250ba90cc";
/// The client application the token was issued to (its v1 `appid`).
const CLIENT_APP: &str = "bebfad57-efd7-419b-b74b-4b9dab7bd470";
/// Between the token's `nbf` (1467311248) and `exp` (1467315148).
const INSIDE_LIFETIME: u64 = 1_467_313_000;

fn validator(expect: Expectations, now: u64) -> Validator {
    let jwks: JwkSet = serde_json::from_str(JWKS).unwrap();
    Validator::new(expect, Arc::new(KeyCache::fixed(&jwks)), Arc::new(move || now))
}

fn expectations() -> Expectations {
    Expectations {
        issuers: vec![ISSUER.into()],
        audiences: vec![AUDIENCE.into()],
        tenants: vec![TENANT.into()],
        client_apps: vec![CLIENT_APP.into()],
        scope: "user_impersonation".into(),
        full_scope: format!("{AUDIENCE}/user_impersonation"),
        leeway: 300,
    }
}

fn token() -> String {
    TOKEN.trim().to_owned()
}

#[tokio::test]
async fn token_signed_by_azure_ad_validates_inside_its_lifetime() {
    let verified = validator(expectations(), INSIDE_LIFETIME).validate(&token()).await.unwrap();
    assert_eq!(verified.claims().upn.as_deref(), Some("robot@sijun.onmicrosoft.com"));
    assert_eq!(verified.claims().oid, "7912fe7b-b5ab-425b-bb1f-0e83b99fca7f");
}

#[tokio::test]
async fn any_flipped_byte_breaks_it() {
    let token = token();
    let validator = validator(expectations(), INSIDE_LIFETIME);
    let payload_end = token.rfind('.').unwrap();
    let mut bad_signatures = 0;
    // Every character, each replaced by another base64url character.
    for position in (0..token.len()).filter(|&i| token.as_bytes()[i] != b'.') {
        let mut bytes = token.clone().into_bytes();
        bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        let refused = validator.validate(&altered).await.expect_err("an altered token is refused");
        match refused {
            TokenError::Signature => bad_signatures += 1,
            // In the signature (but its last character, whose low bits are padding), a change is
            // a signature that does not verify, not a decoding problem.
            _ if position > payload_end && position < token.len() - 1 => {
                panic!("byte {position} of the signature: expected bad_signature (found {refused:?})")
            }
            // In the header or payload: refused before the signature only when it no longer
            // decodes, or names another algorithm or key; never by a check of the claims, which
            // would mean altered claims were read as if signed.
            TokenError::Malformed(_) | TokenError::Algorithm(_) | TokenError::UnknownKey(_) => {}
            other => panic!("byte {position}: altered claims reached the claim checks ({other:?})"),
        }
    }
    let signature_len = token.len() - payload_end - 1;
    assert!(bad_signatures > signature_len, "payload changes that still decode fail the signature too");
}

#[tokio::test]
async fn wrong_audience_issuer_client_app_or_time_is_refused() {
    let token = token();
    let mut other_audience = expectations();
    other_audience.audiences = vec!["api://someone-else".into()];
    assert!(matches!(
        validator(other_audience, INSIDE_LIFETIME).validate(&token).await,
        Err(TokenError::Audience { found, .. }) if found == AUDIENCE
    ));
    let mut other_issuer = expectations();
    other_issuer.issuers = vec!["https://login.microsoftonline.com/268da1a1-9db4-48b9-b1fe-683250ba90cc/v2.0".into()];
    assert!(matches!(
        validator(other_issuer, INSIDE_LIFETIME).validate(&token).await,
        Err(TokenError::Issuer { found, .. }) if found == ISSUER
    ));
    // A v1 token names its client application in `appid`: another app's token is refused.
    let mut other_client = expectations();
    other_client.client_apps = vec!["6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d".into()];
    assert_eq!(
        validator(other_client, INSIDE_LIFETIME).validate(&token).await.unwrap_err(),
        TokenError::ClientApp {
            expected: vec!["6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d".into()],
            found: Some(CLIENT_APP.into())
        }
    );
    assert_eq!(
        validator(expectations(), 1_467_315_148 + 301).validate(&token).await.unwrap_err(),
        TokenError::Expired { exp: 1_467_315_148, now: 1_467_315_148 + 301 }
    );
    assert_eq!(
        validator(expectations(), 1_467_311_248 - 301).validate(&token).await.unwrap_err(),
        TokenError::NotYetValid { nbf: 1_467_311_248, now: 1_467_311_248 - 301 }
    );
}

#[tokio::test]
async fn entra_common_key_set_parses_and_lacks_this_key() {
    let jwks: JwkSet = serde_json::from_str(include_str!("fixtures/entra-common/keys.json")).unwrap();
    assert_eq!(jwks.keys.len(), 7);
    let cache = KeyCache::fixed(&jwks);
    for jwk in &jwks.keys {
        let kid = jwk.common.key_id.as_deref().unwrap();
        assert!(cache.key(kid).await.is_ok(), "Entra's key {kid} is usable");
    }
    let validator = Validator::new(expectations(), Arc::new(KeyCache::fixed(&jwks)), Arc::new(|| INSIDE_LIFETIME));
    assert_eq!(
        validator.validate(&token()).await.unwrap_err(),
        TokenError::UnknownKey("YbRAQRYcE_motWVJKHrwLBbd_9s".into())
    );
}
