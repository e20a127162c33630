//! Step 4 of the sign-in: redeeming the code at the token endpoint, and checking the answer.
//!
//! The SPA is a public client: the request carries the PKCE verifier and no secret. The
//! ID token came straight from the token endpoint over the connection the browser opened, so,
//! as OIDC Core §3.1.3.7 allows, its issuer is trusted from that connection rather than from
//! a signature check; its audience, nonce and lifetime are still checked here.
//!
//! In the implicit flow the ID token comes through the browser's address bar instead, so
//! (OIDC Core §3.2.2.11) its RS256 signature is verified against the tenant's published keys
//! ([`signed_parts`], [`signing_key`]: the browser's Web Crypto does the RSA), and its `at_hash`
//! must be the access token's ([`check_access_token_hash`]).

use serde::{Deserialize, Serialize};

use crate::authorize::{shown, Account};
use crate::claims::is_guid;
use crate::pkce::CodeVerifier;
use crate::provider_error::ProviderError;
use crate::secret::{constant_time_eq, AccessToken, AuthorizationCode, IdToken, Nonce, RefreshToken};
use crate::wire::RuntimeConfig;

/// The form body of a token request. It holds the code and verifier, so `Debug` is redacted.
pub struct TokenRequestBody(String);

impl TokenRequestBody {
    /// `grant_type=authorization_code` with the PKCE verifier (consumed: sent once).
    pub fn authorization_code(
        client_id: &str,
        code: &AuthorizationCode,
        redirect_uri: &str,
        verifier: CodeVerifier,
    ) -> Self {
        Self(
            form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", client_id)
                .append_pair("grant_type", "authorization_code")
                .append_pair("code", code.secret())
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("code_verifier", verifier.secret())
                .finish(),
        )
    }

    /// `grant_type=refresh_token` (RFC 6749 §6), asking again for `scope`.
    pub fn refresh_token(client_id: &str, refresh_token: &RefreshToken, scope: &str) -> Self {
        Self(
            form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", client_id)
                .append_pair("grant_type", "refresh_token")
                .append_pair("refresh_token", refresh_token.secret())
                .append_pair("scope", scope)
                .finish(),
        )
    }

    /// A body already encoded by another grant's builder ([`crate::device`]).
    pub(crate) fn from_encoded(body: String) -> Self {
        Self(body)
    }

    /// The encoded body, for the one place that sends it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TokenRequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenRequestBody([redacted])")
    }
}

/// A successful token response (RFC 6749 §5.1 as Entra sends it).
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access token for the API.
    pub access_token: AccessToken,
    /// `Bearer`, in the authorization code flow.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The scopes granted, space-separated.
    #[serde(default)]
    pub scope: String,
    /// Present when `offline_access` was granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshToken>,
    /// Present when `openid` was granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<IdToken>,
}

/// An error from Entra's token endpoint, in Entra's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenErrorBody {
    /// The OAuth error code, e.g. `invalid_grant`.
    pub error: String,
    /// Begins with the AADSTS code: `AADSTS54005: OAuth2 Authorization code was already redeemed…`.
    pub error_description: String,
    /// The AADSTS numbers.
    #[serde(default)]
    pub error_codes: Vec<u32>,
    /// `2026-11-22 10:15:00Z` (the description quotes it too, as it does the two ids below).
    #[serde(default)]
    pub timestamp: String,
    /// The request id to quote to support.
    #[serde(default)]
    pub trace_id: String,
    /// The correlation id to quote to support.
    #[serde(default)]
    pub correlation_id: String,
}

impl From<TokenErrorBody> for ProviderError {
    fn from(body: TokenErrorBody) -> Self {
        let mut error = ProviderError::new(body.error, body.error_description);
        error.aadsts = error.aadsts.or(body.error_codes.first().copied());
        error
    }
}

/// The ID token claims the SPA uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// The client id the token was issued to.
    pub aud: String,
    /// Expiry (seconds since the epoch).
    pub exp: u64,
    /// The nonce the login sent.
    #[serde(default)]
    pub nonce: Option<String>,
    /// The tenant.
    #[serde(default)]
    pub tid: Option<String>,
    /// The user's object id.
    #[serde(default)]
    pub oid: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The sign-in name (usually the UPN).
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// The session at Entra (an optional claim), which a front-channel logout names.
    #[serde(default)]
    pub sid: Option<String>,
    /// The access token's hash, in an ID token issued with one at `/authorize` (the implicit
    /// flow).
    #[serde(default)]
    pub at_hash: Option<String>,
}

/// Why an ID token is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdTokenError {
    /// Not a JWT, or claims that do not parse.
    Malformed(String),
    /// `iss` is not the tenant's v2 issuer.
    Issuer { expected: String, found: String },
    /// `tid` is not the configured tenant.
    Tenant { expected: String, found: String },
    /// `aud` is not our client id.
    Audience { expected: String, found: String },
    /// `nonce` is not the one this login sent: a replayed or injected token.
    Nonce,
    /// `exp` is in the past.
    Expired { exp: u64, now: u64 },
    /// A silent sign-in for one account came back with another.
    OtherAccount { expected: String, found: String },
    /// The header names another algorithm than RS256, the only one accepted.
    Algorithm { found: String },
    /// No published key of the tenant has the header's `kid`.
    UnknownKey { kid: String },
    /// The signature does not verify with the tenant's key: forged or altered.
    Signature,
    /// The tenant's keys could not be had to check the signature.
    KeysUnavailable(String),
    /// `at_hash` is not the hash of the access token that came with the ID token.
    AccessTokenHash { expected: String, found: String },
}

impl std::fmt::Display for IdTokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "The ID token is malformed: {what}."),
            Self::Issuer { expected, found } => {
                write!(f, "The ID token comes from another issuer: expected iss {expected} (found {found}).")
            }
            Self::Tenant { expected, found } => {
                write!(f, "The ID token is from another tenant: expected tid {expected} (found {found}).")
            }
            Self::Audience { expected, found } => {
                write!(f, "The ID token is for another app: expected aud {expected} (found {found}).")
            }
            Self::Nonce => f.write_str(
                "The ID token does not carry the nonce this sign-in sent (replayed or injected). Start again.",
            ),
            Self::OtherAccount { expected, found } => write!(
                f,
                "Microsoft signed in another account than this tab's: expected {expected} (found {found}). Sign in \
                 again with the account you want."
            ),
            Self::Expired { exp, now } => {
                write!(f, "The ID token expired at {exp}, before now ({now}): check this device's clock.")
            }
            Self::Algorithm { found } => {
                write!(f, "The ID token is signed with another algorithm: expected RS256 (found {found}). Refused.")
            }
            Self::UnknownKey { kid } => write!(
                f,
                "The ID token is signed with a key the tenant does not publish: expected one of its keys (found \
                 kid {kid}). Refused: forged, or from another identity provider."
            ),
            Self::Signature => f.write_str(
                "The ID token's signature does not verify with the tenant's published key: expected Entra's \
                 signature (found another). Refused: forged or altered.",
            ),
            Self::KeysUnavailable(why) => write!(
                f,
                "The tenant's signing keys, needed to check the ID token's signature, could not be had: {why}."
            ),
            Self::AccessTokenHash { expected, found } => write!(
                f,
                "The ID token was not issued with this access token: expected at_hash {expected} (found {found}). \
                 Refused: the tokens were swapped."
            ),
        }
    }
}

impl IdTokenError {
    /// What fixes it, when someone can: an admin's setting, or this device's clock. A forged,
    /// replayed or swapped token has no fix but starting again.
    pub fn fix(&self) -> Option<&'static str> {
        Some(match self {
            Self::Issuer { .. } => {
                "Admin: entra.authority (and entra.cloud) in the API's configuration must be the Microsoft cloud the tenant lives in: login.microsoftonline.com, login.microsoftonline.us, login.chinacloudapi.cn or <subdomain>.ciamlogin.com."
            }
            Self::Tenant { .. } => {
                "Sign in with an account of the organisation this app is set up for (or choose your organisation again); admin: ENTRA_TENANT_ID, or the organisation's tenant_id in spa.profiles."
            }
            Self::Audience { .. } => {
                "Admin: the client id in the API's configuration (entra.client_id, or the organisation's in spa.profiles) must be App registrations → this app → Application (client) ID."
            }
            Self::Expired { .. } => "Set this device's date and time automatically, then sign in again.",
            Self::UnknownKey { .. } => {
                "If this persists, the sign-in did not come from the configured tenant: admin, check entra.authority and ENTRA_TENANT_ID."
            }
            Self::KeysUnavailable(_) => {
                "Check that this browser reaches Entra's keys (<authority>/<tenant>/discovery/v2.0/keys) through any proxy or firewall."
            }
            _ => return None,
        })
    }
}

impl std::error::Error for IdTokenError {}

/// Clock skew allowed on the ID token's `exp`, in seconds.
pub const ID_TOKEN_LEEWAY: u64 = 300;

/// Checks the claims of the ID token from a code redemption (read with
/// [`crate::jwt::unverified_claims`]): issuer and tenant, audience, nonce and expiry. The
/// issuer is `{authority}/{tid}/v2.0`; when the configuration names a tenant by GUID, `tid`
/// must be that tenant (a domain, `organizations` or `common` accept the token's own `tid`).
pub fn check_id_token(
    claims: IdTokenClaims,
    config: &RuntimeConfig,
    nonce: &Nonce,
    now: u64,
) -> Result<IdTokenClaims, IdTokenError> {
    check_claims(claims, config, Some(nonce), now)
}

/// [`check_id_token`] for the device code flow, which sends no nonce (RFC 8628: the device
/// code binds the sign-in): issuer and tenant, audience and expiry.
pub fn check_device_id_token(
    claims: IdTokenClaims,
    config: &RuntimeConfig,
    now: u64,
) -> Result<IdTokenClaims, IdTokenError> {
    check_claims(claims, config, None, now)
}

/// The claims of an ID token straight from the token endpoint, read without verifying its
/// signature (the TLS connection vouches for it: OIDC Core §3.1.3.7).
pub fn id_token_claims(id_token: &IdToken) -> Result<IdTokenClaims, IdTokenError> {
    let claims = crate::jwt::unverified_claims(id_token.secret())
        .map_err(|unreadable| IdTokenError::Malformed(unreadable.to_string()))?;
    serde_json::from_value(claims.into()).map_err(|e| IdTokenError::Malformed(e.to_string()))
}

fn check_claims(
    claims: IdTokenClaims,
    config: &RuntimeConfig,
    nonce: Option<&Nonce>,
    now: u64,
) -> Result<IdTokenClaims, IdTokenError> {
    let client_id = config.client_id.as_str();
    let exp = claims.exp;
    let tid = claims.tid.clone().unwrap_or_default();
    if is_guid(&config.tenant_id) && !tid.eq_ignore_ascii_case(&config.tenant_id) {
        return Err(IdTokenError::Tenant { expected: config.tenant_id.clone(), found: tid });
    }
    let issuer = RuntimeConfig { tenant_id: tid, ..config.clone() }.issuer();
    if claims.iss != issuer {
        return Err(IdTokenError::Issuer { expected: issuer, found: claims.iss });
    }
    if claims.aud != client_id {
        return Err(IdTokenError::Audience { expected: client_id.to_owned(), found: claims.aud });
    }
    if let Some(nonce) = nonce {
        let found = claims.nonce.as_deref().unwrap_or_default();
        if !constant_time_eq(found.as_bytes(), nonce.secret().as_bytes()) {
            return Err(IdTokenError::Nonce);
        }
    }
    if exp + ID_TOKEN_LEEWAY < now {
        return Err(IdTokenError::Expired { exp, now });
    }
    Ok(claims)
}

/// What verifying an ID token's signature takes: the header's key id, the signed bytes
/// (`header.payload`) and the signature.
#[derive(Debug)]
pub struct SignedParts<'a> {
    /// The `kid` of the key that signed it.
    pub kid: String,
    /// `header.payload`, as sent.
    pub signing_input: &'a str,
    /// The RS256 signature.
    pub signature: Vec<u8>,
}

/// Splits an ID token for its RS256 check. The algorithm is ours, never the header's: anything
/// but RS256 (`none`, `HS256`…) is refused before any key is looked at.
pub fn signed_parts(id_token: &IdToken) -> Result<SignedParts<'_>, IdTokenError> {
    let token = id_token.secret();
    let untrusted = jwt_compact::UntrustedToken::new(token).map_err(|e| IdTokenError::Malformed(e.to_string()))?;
    if untrusted.algorithm() != "RS256" {
        return Err(IdTokenError::Algorithm { found: untrusted.algorithm().to_owned() });
    }
    let kid = untrusted.header().key_id.clone().ok_or(IdTokenError::UnknownKey { kid: "(none)".to_owned() })?;
    let (signing_input, _) = token.rsplit_once('.').expect("a parsed JWT has three segments");
    Ok(SignedParts { kid, signing_input, signature: untrusted.signature_bytes().to_vec() })
}

/// One key of a JSON Web Key Set, as Entra's `jwks_uri` publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `RSA` for Entra's signing keys.
    pub kty: String,
    /// The key id a token's header names.
    #[serde(default)]
    pub kid: Option<String>,
    /// The RSA modulus (base64url).
    #[serde(default)]
    pub n: String,
    /// The RSA exponent (base64url).
    #[serde(default)]
    pub e: String,
}

/// A JSON Web Key Set.
#[derive(Debug, Clone, Deserialize)]
pub struct Jwks {
    /// Its keys.
    pub keys: Vec<Jwk>,
}

/// The tenant's RSA key named `kid`.
pub fn signing_key<'a>(jwks: &'a Jwks, kid: &str) -> Result<&'a Jwk, IdTokenError> {
    jwks.keys
        .iter()
        .find(|key| key.kty == "RSA" && key.kid.as_deref() == Some(kid) && !key.n.is_empty() && !key.e.is_empty())
        .ok_or_else(|| IdTokenError::UnknownKey { kid: kid.to_owned() })
}

/// `at_hash` of an access token (OIDC Core §3.2.2.9 for RS256): the left half of its SHA-256,
/// base64url.
pub fn access_token_hash(access_token: &AccessToken) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    use sha2::{Digest, Sha256};
    URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.secret().as_bytes())[..16])
}

/// In the implicit flow, checks that the ID token was issued with `access_token`: its `at_hash`
/// is required and must match, so an access token cannot be swapped in beside a good ID token.
pub fn check_access_token_hash(claims: &IdTokenClaims, access_token: &AccessToken) -> Result<(), IdTokenError> {
    let expected = access_token_hash(access_token);
    let found = claims.at_hash.clone().unwrap_or_else(|| "none".to_owned());
    if constant_time_eq(found.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(IdTokenError::AccessTokenHash { expected, found })
    }
}

/// After a silent sign-in restoring `expected`, checks that the ID token is that account's:
/// the same `tid` and `oid` (GUIDs compare without case), whatever its sign-in name says.
/// Entra refuses such a mismatch itself (AADSTS16000); this keeps the tab from switching
/// accounts whatever the identity provider does. An interactive sign-in (`None`) takes
/// whoever signed in.
pub fn check_same_account(claims: &IdTokenClaims, expected: Option<&Account>) -> Result<(), IdTokenError> {
    let Some(expected) = expected else { return Ok(()) };
    let found = Account {
        tid: claims.tid.clone().unwrap_or_default(),
        oid: claims.oid.clone().unwrap_or_default(),
        username: claims.preferred_username.clone().unwrap_or_default(),
    };
    let same_tenant = found.tid.eq_ignore_ascii_case(&expected.tid);
    let same_object = found.oid.eq_ignore_ascii_case(&expected.oid);
    if expected.is_identified() && same_tenant && same_object {
        return Ok(());
    }
    // Names alone can mislead (the same name on an account deleted and created again, or in
    // another tenant): the ids that differ are named too.
    let same_name = found.username.eq_ignore_ascii_case(&expected.username);
    let describe = |account: &Account| {
        let mut text =
            if account.username.is_empty() { "an account without a name".to_owned() } else { account.username.clone() };
        if (same_name && !same_object) || !expected.is_identified() {
            text += &format!(" with oid {}", shown(&account.oid));
        }
        if !same_tenant {
            text += &format!(" in tenant {}", shown(&account.tid));
        }
        text
    };
    Err(IdTokenError::OtherAccount { expected: describe(expected), found: describe(&found) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

    /// A token as Entra would send it, read back as the SPA does (payload, then JSON).
    fn id_token(claims: serde_json::Value) -> IdTokenClaims {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT","kid":"k"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let token = IdToken::new(format!("{header}.{payload}.c2ln"));
        serde_json::from_value(crate::jwt::unverified_claims(token.secret()).unwrap().into()).unwrap()
    }

    const TENANT: &str = "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";

    fn config(tenant: &str) -> RuntimeConfig {
        RuntimeConfig {
            authority: "http://127.0.0.1:9400".into(),
            tenant_id: tenant.into(),
            client_id: "c".into(),
            api_scope: "api://c/UserProfile.ReadWrite".into(),
            hints: Default::default(),
            implicit_flow: false,
            cloud: Default::default(),
        }
    }

    fn claims(nonce: &str, aud: &str, exp: u64) -> serde_json::Value {
        serde_json::json!({
            "iss": format!("http://127.0.0.1:9400/{TENANT}/v2.0"), "tid": TENANT, "aud": aud, "exp": exp,
            "nonce": nonce, "name": "Alice Moreau", "preferred_username": "alice@contoso.example",
        })
    }

    /// The device code flow's ID token has no nonce, and is checked for everything else: its
    /// issuer and tenant, audience and expiry.
    #[test]
    fn a_device_sign_ins_id_token_is_checked_without_a_nonce() {
        let no_nonce = |aud: &str, exp: u64| {
            let mut claims = claims("", aud, exp);
            claims.as_object_mut().unwrap().remove("nonce");
            id_token(claims)
        };
        let checked = check_device_id_token(no_nonce("c", 1_000), &config(TENANT), 900).unwrap();
        assert_eq!(checked.preferred_username.as_deref(), Some("alice@contoso.example"));
        let other_app = check_device_id_token(no_nonce("someone-else", 1_000), &config(TENANT), 900);
        assert!(matches!(other_app, Err(IdTokenError::Audience { .. })), "{other_app:?}");
        let expired = check_device_id_token(no_nonce("c", 1_000), &config(TENANT), 1_000 + ID_TOKEN_LEEWAY + 1);
        assert!(matches!(expired, Err(IdTokenError::Expired { .. })), "{expired:?}");
        let other_tenant = "0000aaaa-0000-4000-8000-000000000000";
        let elsewhere = check_device_id_token(no_nonce("c", 1_000), &config(other_tenant), 900);
        assert!(matches!(elsewhere, Err(IdTokenError::Tenant { .. })), "{elsewhere:?}");
        // The code flow's check still wants its nonce.
        let nonce = Nonce::new("n1".to_owned());
        assert!(matches!(check_id_token(no_nonce("c", 1_000), &config(TENANT), &nonce, 900), Err(IdTokenError::Nonce)));
    }

    #[test]
    fn each_refusal_of_an_id_token_says_what_was_expected_and_found() {
        let said = |error: IdTokenError| error.to_string();
        assert_eq!(said(IdTokenError::Malformed("x".into())), "The ID token is malformed: x.");
        assert_eq!(
            said(IdTokenError::Issuer { expected: "e".into(), found: "f".into() }),
            "The ID token comes from another issuer: expected iss e (found f)."
        );
        assert_eq!(
            said(IdTokenError::Tenant { expected: "e".into(), found: "f".into() }),
            "The ID token is from another tenant: expected tid e (found f)."
        );
        assert_eq!(
            said(IdTokenError::Audience { expected: "e".into(), found: "f".into() }),
            "The ID token is for another app: expected aud e (found f)."
        );
        assert!(said(IdTokenError::Nonce).starts_with("The ID token does not carry the nonce this sign-in sent"));
        assert_eq!(
            said(IdTokenError::Expired { exp: 1, now: 2 }),
            "The ID token expired at 1, before now (2): check this device's clock."
        );
        let other = said(IdTokenError::OtherAccount { expected: "a".into(), found: "b".into() });
        assert!(other.starts_with("Microsoft signed in another account than this tab's: expected a (found b)."));
    }

    #[test]
    fn id_token_with_our_nonce_and_audience_is_accepted() {
        let token = id_token(claims("n-1", "c", 2000));
        let checked = check_id_token(token.clone(), &config(TENANT), &Nonce::new("n-1"), 1000).unwrap();
        assert_eq!(checked.name.as_deref(), Some("Alice Moreau"));
        // A domain-named tenant accepts the token's own tid in the issuer.
        assert!(check_id_token(token.clone(), &config("contoso.example"), &Nonce::new("n-1"), 1000).is_ok());
    }

    #[test]
    fn id_token_with_another_nonce_audience_or_past_expiry_is_refused() {
        let nonce = Nonce::new("n-1");
        let wrong_nonce = id_token(claims("n-2", "c", 2000));
        assert_eq!(check_id_token(wrong_nonce, &config(TENANT), &nonce, 1000), Err(IdTokenError::Nonce));
        let wrong_aud = id_token(claims("n-1", "other", 2000));
        assert_eq!(
            check_id_token(wrong_aud, &config(TENANT), &nonce, 1000),
            Err(IdTokenError::Audience { expected: "c".into(), found: "other".into() })
        );
        let expired = id_token(claims("n-1", "c", 1000));
        assert_eq!(
            check_id_token(expired.clone(), &config(TENANT), &nonce, 1000 + ID_TOKEN_LEEWAY + 1),
            Err(IdTokenError::Expired { exp: 1000, now: 1000 + ID_TOKEN_LEEWAY + 1 })
        );
        // The leeway is the last accepted second, not one before: five minutes past `exp`.
        assert_eq!(ID_TOKEN_LEEWAY, 300);
        assert!(check_id_token(expired, &config(TENANT), &nonce, 1000 + ID_TOKEN_LEEWAY).is_ok());
        let mut other_tenant = claims("n-1", "c", 2000);
        other_tenant["tid"] = "0000aaaa-0000-4000-8000-000000000000".into();
        assert!(matches!(
            check_id_token(id_token(other_tenant), &config(TENANT), &nonce, 1000),
            Err(IdTokenError::Tenant { .. })
        ));
        let mut other_issuer = claims("n-1", "c", 2000);
        other_issuer["iss"] = format!("https://login.microsoftonline.com/{TENANT}/v2.0").into();
        assert!(matches!(
            check_id_token(id_token(other_issuer), &config(TENANT), &nonce, 1000),
            Err(IdTokenError::Issuer { .. })
        ));
        let no_exp: Result<IdTokenClaims, _> = serde_json::from_value(serde_json::json!({"iss": "i", "aud": "c"}));
        assert!(no_exp.is_err(), "an ID token without exp does not even parse");
    }

    #[test]
    fn a_silent_sign_in_must_return_the_account_it_asked_for() {
        let mut token = claims("n-1", "c", 2000);
        token["oid"] = "a11ce000-0000-4000-8000-000000000001".into();
        let alice = id_token(token);
        let account = |username: &str, oid: &str| Account {
            tid: TENANT.to_uppercase(),
            oid: oid.into(),
            username: username.into(),
        };
        assert_eq!(check_same_account(&alice, None), Ok(()), "an interactive sign-in takes whoever signs in");
        let her = account("alice@contoso.example", "A11CE000-0000-4000-8000-000000000001");
        assert_eq!(check_same_account(&alice, Some(&her)), Ok(()), "her ids, whatever their case");
        let renamed = account("alice.moreau@contoso.example", "a11ce000-0000-4000-8000-000000000001");
        assert_eq!(check_same_account(&alice, Some(&renamed)), Ok(()), "a renamed UPN is still her");
        assert_eq!(
            check_same_account(&alice, Some(&account("bob@contoso.example", "b0b00000-0000-4000-8000-000000000002"))),
            Err(IdTokenError::OtherAccount {
                expected: "bob@contoso.example".into(),
                found: "alice@contoso.example".into()
            })
        );
        assert_eq!(
            check_same_account(&alice, Some(&account("alice@contoso.example", "01d0a11c-0000-4000-8000-000000000003"))),
            Err(IdTokenError::OtherAccount {
                expected: "alice@contoso.example with oid 01d0a11c-0000-4000-8000-000000000003".into(),
                found: "alice@contoso.example with oid a11ce000-0000-4000-8000-000000000001".into()
            }),
            "the same name on another object is another account"
        );
        let mut elsewhere = her.clone();
        elsewhere.tid = "0000aaaa-0000-4000-8000-000000000000".into();
        assert_eq!(
            check_same_account(&alice, Some(&elsewhere)),
            Err(IdTokenError::OtherAccount {
                expected: "alice@contoso.example in tenant 0000aaaa-0000-4000-8000-000000000000".into(),
                found: format!("alice@contoso.example in tenant {TENANT}")
            }),
            "the same object id in another tenant is another account"
        );
        let unidentified = account("alice@contoso.example", "");
        assert_eq!(
            check_same_account(&alice, Some(&unidentified)),
            Err(IdTokenError::OtherAccount {
                expected: "alice@contoso.example with oid (none)".into(),
                found: "alice@contoso.example with oid a11ce000-0000-4000-8000-000000000001".into()
            }),
            "nothing to compare is refused"
        );
    }

    #[test]
    fn token_error_body_keeps_the_aadsts_code() {
        let body: TokenErrorBody = serde_json::from_str(
            r#"{"error":"invalid_grant","error_description":"AADSTS54005: OAuth2 Authorization code was already redeemed.","error_codes":[54005],"timestamp":"t","trace_id":"a","correlation_id":"b"}"#,
        )
        .unwrap();
        let error = ProviderError::from(body);
        assert_eq!(error.aadsts, Some(54005));
        assert_eq!(error.error, "invalid_grant");
    }

    #[test]
    fn request_body_debug_is_redacted() {
        let body = TokenRequestBody::authorization_code(
            "c",
            &AuthorizationCode::new("code"),
            "http://localhost/sso",
            CodeVerifier::from_random_bytes(&[1; 32]),
        );
        assert_eq!(format!("{body:?}"), "TokenRequestBody([redacted])");
    }

    #[test]
    fn at_hash_is_the_left_half_of_the_access_tokens_sha256_as_oidc_core_shows() {
        // OpenID Connect Core 1.0, Appendix A.4: the access token and the ID token's at_hash.
        let access_token = AccessToken::new("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y");
        assert_eq!(access_token_hash(&access_token), "77QmUPtjPfzWtF2AnpK9RQ");
        let mut claims = id_token(claims("n", "c", 1000));
        assert_eq!(
            check_access_token_hash(&claims, &access_token),
            Err(IdTokenError::AccessTokenHash { expected: "77QmUPtjPfzWtF2AnpK9RQ".into(), found: "none".into() }),
            "required in the implicit flow"
        );
        claims.at_hash = Some("77QmUPtjPfzWtF2AnpK9RQ".into());
        assert_eq!(check_access_token_hash(&claims, &access_token), Ok(()));
        let swapped = AccessToken::new("another access token");
        assert!(check_access_token_hash(&claims, &swapped).unwrap_err().to_string().contains("expected at_hash"));
    }

    #[test]
    fn the_signature_is_checked_as_rs256_with_the_key_the_tenant_publishes() {
        // The Azure AD-signed token and the JWKS of the shared fixtures.
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../api/tests/fixtures/aad-real/");
        let token = IdToken::new(std::fs::read_to_string(format!("{fixtures}v1-access-token.jwt")).unwrap().trim());
        let jwks: Jwks =
            serde_json::from_str(&std::fs::read_to_string(format!("{fixtures}jwks.json")).unwrap()).unwrap();
        let parts = signed_parts(&token).unwrap();
        assert_eq!(parts.kid, "YbRAQRYcE_motWVJKHrwLBbd_9s");
        assert_eq!(parts.signature.len(), 256, "an RSA-2048 signature");
        assert_eq!(parts.signing_input.matches('.').count(), 1, "header.payload");
        assert!(token.secret().starts_with(parts.signing_input));
        assert_eq!(signing_key(&jwks, &parts.kid).unwrap().kid.as_deref(), Some("YbRAQRYcE_motWVJKHrwLBbd_9s"));
        assert_eq!(signing_key(&jwks, "forged"), Err(IdTokenError::UnknownKey { kid: "forged".into() }));
        // The algorithm is ours: `none` and HS256 are refused before any key is looked at.
        let payload = token.secret().split('.').nth(1).unwrap();
        for (alg, header) in
            [("none", r#"{"alg":"none"}"#), ("HS256", r#"{"alg":"HS256","kid":"YbRAQRYcE_motWVJKHrwLBbd_9s"}"#)]
        {
            let forged = IdToken::new(format!("{}.{payload}.c2ln", URL_SAFE_NO_PAD.encode(header)));
            assert_eq!(signed_parts(&forged).unwrap_err(), IdTokenError::Algorithm { found: alg.into() });
        }
        let without_kid = IdToken::new(format!("{}.{payload}.c2ln", URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#)));
        assert_eq!(signed_parts(&without_kid).unwrap_err(), IdTokenError::UnknownKey { kid: "(none)".into() });
    }

    #[test]
    fn the_id_tokens_issuer_is_the_clouds_own() {
        use crate::cloud::Cloud;
        let nonce = Nonce::new("n");
        let china =
            RuntimeConfig { authority: "https://login.chinacloudapi.cn".into(), cloud: Cloud::China, ..config(TENANT) };
        let mut token = claims("n", "c", 1000);
        token["iss"] = format!("https://login.partner.microsoftonline.cn/{TENANT}/v2.0").into();
        assert!(check_id_token(id_token(token.clone()), &china, &nonce, 1000).is_ok());
        // The authority's own host is not China's issuer.
        token["iss"] = format!("https://login.chinacloudapi.cn/{TENANT}/v2.0").into();
        assert!(matches!(
            check_id_token(id_token(token.clone()), &china, &nonce, 1000),
            Err(IdTokenError::Issuer { .. })
        ));
        // External ID: the tenant id is the issuer's host, whatever the authority's subdomain.
        let external = RuntimeConfig {
            authority: "https://contoso.ciamlogin.com".into(),
            cloud: Cloud::ExternalId,
            ..config(TENANT)
        };
        token["iss"] = format!("https://{TENANT}.ciamlogin.com/{TENANT}/v2.0").into();
        assert!(check_id_token(id_token(token.clone()), &external, &nonce, 1000).is_ok());
        token["iss"] = format!("https://contoso.ciamlogin.com/{TENANT}/v2.0").into();
        assert!(matches!(check_id_token(id_token(token), &external, &nonce, 1000), Err(IdTokenError::Issuer { .. })));
    }

    #[test]
    fn a_refusal_someone_can_fix_names_the_fix_and_a_forgery_has_none() {
        let text = |error: IdTokenError| error.fix().unwrap_or_default();
        let (expected, found) = (String::new, String::new);
        assert!(text(IdTokenError::Issuer { expected: expected(), found: found() }).contains("entra.cloud"));
        assert!(text(IdTokenError::Tenant { expected: expected(), found: found() }).contains("ENTRA_TENANT_ID"));
        assert!(
            text(IdTokenError::Audience { expected: expected(), found: found() }).contains("Application (client) ID")
        );
        assert!(text(IdTokenError::Expired { exp: 1, now: 2 }).contains("date and time"));
        assert!(text(IdTokenError::UnknownKey { kid: found() }).contains("entra.authority"));
        assert!(text(IdTokenError::KeysUnavailable(found())).contains("discovery/v2.0/keys"));
        for forged in [
            IdTokenError::Signature,
            IdTokenError::Nonce,
            IdTokenError::AccessTokenHash { expected: expected(), found: found() },
            IdTokenError::Algorithm { found: found() },
        ] {
            assert_eq!(forged.fix(), None, "nothing to fix but starting again: {forged}");
        }
    }
}
