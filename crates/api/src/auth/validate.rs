//! Validating an Entra access token, step by step (RFC 8725, RFC 6750, Microsoft's
//! `access-tokens` guidance; shared/ENTRA.md §4). Each step is numbered where it happens.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use channels_protocol::claims::{is_guid, AccessTokenClaims};
use jsonwebtoken::{Algorithm, Validation};
use sha2::{Digest, Sha256};

pub use channels_protocol::clock::Clock;

use super::keys::{KeyCache, KeyError};

/// Claims of a token that passed every validation step. Constructed only by [`Validator`].
#[derive(Debug, Clone)]
pub struct VerifiedClaims(Arc<AccessTokenClaims>);

impl VerifiedClaims {
    /// The claims.
    pub fn claims(&self) -> &AccessTokenClaims {
        &self.0
    }
}

/// The longest token looked at. Entra's access tokens with 200 groups are about 10 KB; anything
/// far larger is refused before any decoding or hashing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// How much memory remembered (verified) tokens may take at most, counted as the length of
/// each token's text (its claims, decoded, are smaller) plus a fixed [`REMEMBERED_OVERHEAD`]:
/// at most about 50 000 small tokens, or 6 000 with 200 groups each (about 10 KB). Bounded by
/// count alone, 100 000 such tokens held a gigabyte.
pub const VERIFIED_CACHE_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// What one remembered token costs besides its text (the key, the entry, the claims' fields).
pub const REMEMBERED_OVERHEAD: u32 = 512;
/// The longest a verified token is remembered (never past its `exp`): a key that Entra
/// withdraws stops vouching for cached tokens within this time.
pub const VERIFIED_CACHE_TTL: Duration = Duration::from_secs(5 * 60);

/// What a token must be to be accepted.
#[derive(Debug, Clone)]
pub struct Expectations {
    /// Accepted `iss` values, compared exactly after `{tenantid}` is replaced by the token's `tid`.
    pub issuers: Vec<String>,
    /// Accepted `aud` values.
    pub audiences: Vec<String>,
    /// Accepted `tid` values.
    pub tenants: Vec<String>,
    /// Client applications whose tokens are accepted (`azp`, or `appid` in v1 tokens).
    pub client_apps: Vec<String>,
    /// The delegated scope required in `scp` (bare name).
    pub scope: String,
    /// The scope as the SPA requests it, for the 403 challenge (`api://…/Name`).
    pub full_scope: String,
    /// Clock skew on `exp` and `nbf`, seconds.
    pub leeway: u64,
}

/// Why a token was refused. Each variant says what was expected and what was found (its
/// `Display`, for the log and `check-token`; [`TokenError::public_message`] for the caller).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWS compact token, or claims that do not parse.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// Step 1: the header's `alg` is not RS256.
    #[error("expected alg RS256 (found {0})")]
    Algorithm(String),
    /// Step 1: the header carries a key or a key URL.
    #[error("expected a key only by kid from the tenant's key set (found a `{0}` header)")]
    EmbeddedKey(&'static str),
    /// Step 2: a Microsoft Graph token (header `nonce` or Graph `aud`).
    #[error("expected an access token for this API (found a Microsoft Graph token, which only Graph can validate)")]
    GraphToken,
    /// Step 3: no key with this kid in the tenant's key set.
    #[error("expected a kid from the tenant's signing keys (found {0})")]
    UnknownKey(String),
    /// Step 3: the signing keys cannot be fetched.
    #[error("the tenant's signing keys cannot be fetched: {0}")]
    KeysUnavailable(String),
    /// Step 4: the signature does not verify.
    #[error("expected a valid RS256 signature by the tenant (found one that does not verify)")]
    Signature,
    /// Step 5: wrong issuer.
    #[error("expected iss {} (found {found})", expected.join(" or "))]
    Issuer { expected: Vec<String>, found: String },
    /// Step 6: wrong audience (a token for another API).
    #[error("expected aud {} (found {found})", expected.join(" or "))]
    Audience { expected: Vec<String>, found: String },
    /// Step 5: a tenant that is not allowed.
    #[error("expected tid {} (found {found})", expected.join(" or "))]
    Tenant { expected: Vec<String>, found: String },
    /// Step 8: expired.
    #[error("token expired at {exp}; now is {now}")]
    Expired { exp: u64, now: u64 },
    /// Step 8: not yet valid.
    #[error("token not valid before {nbf}; now is {now}")]
    NotYetValid { nbf: u64, now: u64 },
    /// Step 9: an ID token presented as an access token.
    #[error("expected an access token (found an ID token)")]
    IdToken,
    /// Step 7: issued to a client application this API does not accept (`found`: its client id,
    /// or `None` when the token names none).
    #[error(
        "expected the client application in azp (v2) or appid (v1) to be {} (found {})",
        expected.join(" or "),
        found.as_deref().unwrap_or("neither claim")
    )]
    ClientApp { expected: Vec<String>, found: Option<String> },
    /// Step 10: the required scope is missing (403, not 401). `required` is the full scope.
    #[error("expected the scope {required} (found scp {found:?})")]
    Scope { required: String, found: String },
}

impl TokenError {
    /// One of each refusal, with example values (for the troubleshooting table). The match
    /// below fails to compile when a variant is added and not listed.
    pub fn catalogue() -> Vec<TokenError> {
        let strings = || (vec!["<expected>".to_owned()], "<found>".to_owned());
        let all = vec![
            Self::Malformed("<what>".into()),
            Self::Algorithm("HS256".into()),
            Self::EmbeddedKey("jwk"),
            Self::GraphToken,
            Self::UnknownKey("<kid>".into()),
            Self::KeysUnavailable("<why>".into()),
            Self::Signature,
            Self::Issuer { expected: strings().0, found: strings().1 },
            Self::Tenant { expected: strings().0, found: strings().1 },
            Self::Audience { expected: strings().0, found: strings().1 },
            Self::Expired { exp: 1_700_000_000, now: 1_700_000_600 },
            Self::NotYetValid { nbf: 1_700_000_600, now: 1_700_000_000 },
            Self::IdToken,
            Self::Scope { required: "api://<client id>/UserProfile.ReadWrite".into(), found: "User.Read".into() },
            Self::ClientApp { expected: strings().0, found: Some(strings().1) },
        ];
        for error in &all {
            match error {
                Self::Malformed(_)
                | Self::Algorithm(_)
                | Self::EmbeddedKey(_)
                | Self::GraphToken
                | Self::UnknownKey(_)
                | Self::KeysUnavailable(_)
                | Self::Signature
                | Self::Issuer { .. }
                | Self::Tenant { .. }
                | Self::Audience { .. }
                | Self::Expired { .. }
                | Self::NotYetValid { .. }
                | Self::IdToken
                | Self::Scope { .. }
                | Self::ClientApp { .. } => {}
            }
        }
        all
    }

    /// A stable machine-readable code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed_token",
            Self::Algorithm(_) => "unsupported_algorithm",
            Self::EmbeddedKey(_) => "embedded_key",
            Self::GraphToken => "graph_token",
            Self::UnknownKey(_) => "unknown_key",
            Self::KeysUnavailable(_) => "keys_unavailable",
            Self::Signature => "bad_signature",
            Self::Issuer { .. } => "wrong_issuer",
            Self::Audience { .. } => "wrong_audience",
            Self::Tenant { .. } => "tenant_not_allowed",
            Self::Expired { .. } => "token_expired",
            Self::NotYetValid { .. } => "token_not_yet_valid",
            Self::IdToken => "id_token",
            Self::Scope { .. } => "insufficient_scope",
            Self::ClientApp { .. } => "client_app_not_allowed",
        }
    }

    /// The Entra portal step or client change that fixes it, when there is one.
    pub fn fix(&self) -> Option<&'static str> {
        Some(match self {
            Self::GraphToken => "The SPA requested a Microsoft Graph scope (such as User.Read) instead of api://<client-id>/UserProfile.ReadWrite: request the API scope, and remove Microsoft Graph entries under App registrations → this app → API permissions.",
            Self::Audience { .. } => "Request the scope api://<client-id>/UserProfile.ReadWrite of this API's app registration; check ENTRA_CLIENT_ID against App registrations → Overview.",
            Self::Issuer { .. } | Self::Tenant { .. } => "Sign in to the tenant this API is configured for (ENTRA_TENANT_ID), or configure the API for this tenant. A token of another Microsoft cloud (its iss host) needs that cloud's entra.authority (or entra.cloud).",
            Self::Expired { .. } | Self::NotYetValid { .. } => "Renew the token; if this keeps happening, check the clocks of the browser's device and the server.",
            Self::IdToken => "Send the access_token from the token response, not the id_token.",
            Self::Scope { .. } => "Admin: App registrations → this app → Expose an API → add the scope UserProfile.ReadWrite, and API permissions → add it and grant admin consent.",
            Self::UnknownKey(_) => "Sign in again; if it persists, the token was not issued by the configured tenant.",
            Self::ClientApp { .. } => "Call this API from the Channels app. Admin: if this client application should call it, add its Application (client) ID to entra.allowed_client_apps.",
            _ => return None,
        })
    }
}

impl TokenError {
    /// What the caller is told: the check that failed and what the token held, never the
    /// configuration it was compared against (the accepted issuers, audiences, tenants and
    /// client applications),
    /// which the log, `channels-api check-token` and the [`Display`](std::fmt::Display) form keep.
    pub fn public_message(&self) -> String {
        match self {
            Self::Issuer { found, .. } => {
                format!("expected the issuer this API trusts for the token's tenant (found iss {found})")
            }
            Self::Audience { found, .. } => format!("expected a token for this API (found aud {found})"),
            Self::Tenant { found, .. } => format!("expected a tenant this API accepts (found tid {found})"),
            Self::ClientApp { found, .. } => format!(
                "expected a client application this API accepts in azp (v2) or appid (v1) (found {})",
                found.as_deref().unwrap_or("neither claim")
            ),
            other => other.to_string(),
        }
    }
}

/// A verified token remembered by the hash of its text.
#[derive(Clone)]
struct Remembered {
    claims: Arc<AccessTokenClaims>,
    ttl: Duration,
    /// What it counts against [`VERIFIED_CACHE_MAX_BYTES`].
    bytes: u32,
}

struct RememberFor;

/// How long a verified token whose `lifetime` is left (its `exp`, with the leeway) is remembered.
fn remembered_for(lifetime: Duration) -> Duration {
    lifetime.min(VERIFIED_CACHE_TTL)
}

impl moka::Expiry<[u8; 32], Remembered> for RememberFor {
    fn expire_after_create(&self, _: &[u8; 32], value: &Remembered, _: std::time::Instant) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// Validates bearer tokens for one API.
pub struct Validator {
    expect: Expectations,
    keys: Arc<KeyCache>,
    clock: Clock,
    /// Tokens that passed every step, so repeated calls skip the RSA work. Bounded, and each
    /// entry lives no longer than its token (and [`VERIFIED_CACHE_TTL`]).
    verified: moka::sync::Cache<[u8; 32], Remembered>,
}

impl Validator {
    /// A validator with these expectations, keys and clock.
    pub fn new(expect: Expectations, keys: Arc<KeyCache>, clock: Clock) -> Self {
        Self::remembering_at_most(expect, keys, clock, VERIFIED_CACHE_MAX_BYTES)
    }

    /// A validator whose remembered tokens count for at most `bytes`.
    pub fn remembering_at_most(expect: Expectations, keys: Arc<KeyCache>, clock: Clock, bytes: u64) -> Self {
        let verified = moka::sync::Cache::builder()
            .max_capacity(bytes)
            .weigher(|_, remembered: &Remembered| remembered.bytes)
            .expire_after(RememberFor)
            .build();
        Self { expect, keys, clock, verified }
    }

    /// What tokens must be.
    pub fn expectations(&self) -> &Expectations {
        &self.expect
    }

    /// How many verified tokens are remembered now.
    pub fn remembered_tokens(&self) -> u64 {
        self.verified.run_pending_tasks();
        self.verified.entry_count()
    }

    /// How many bytes the remembered tokens count for now.
    pub fn remembered_bytes(&self) -> u64 {
        self.verified.run_pending_tasks();
        self.verified.weighted_size()
    }

    /// Runs every step; only a token that passes all of them becomes [`VerifiedClaims`]. A token
    /// seen before is answered from the cache, its lifetime checked again with the clock.
    pub async fn validate(&self, token: &str) -> Result<VerifiedClaims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed(format!(
                "expected a token of at most {MAX_TOKEN_BYTES} bytes (found {})",
                token.len()
            )));
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(remembered) = self.verified.get(&digest) {
            let now = (self.clock)();
            if remembered.claims.exp + self.expect.leeway >= now {
                metrics::counter!("channels_verified_token_cache_total", "result" => "hit").increment(1);
                return Ok(VerifiedClaims(remembered.claims));
            }
            self.verified.invalidate(&digest);
        }
        metrics::counter!("channels_verified_token_cache_total", "result" => "miss").increment(1);
        let claims = Arc::new(self.validate_uncached(token).await?);
        let now = (self.clock)();
        let lifetime = Duration::from_secs((claims.exp + self.expect.leeway).saturating_sub(now));
        let bytes = token.len() as u32 + REMEMBERED_OVERHEAD;
        self.verified.insert(digest, Remembered { claims: claims.clone(), ttl: remembered_for(lifetime), bytes });
        Ok(VerifiedClaims(claims))
    }

    async fn validate_uncached(&self, token: &str) -> Result<AccessTokenClaims, TokenError> {
        let (header, unverified) = split(token)?;
        if let Some(error) = header_problems(&header, &unverified).into_iter().next() {
            return Err(error);
        }
        let key = self.key_for(&header).await?;
        let claims = verify_signature(token, &key)?;
        match self.claim_problems(&claims, &unverified).into_iter().next() {
            Some(error) => Err(error),
            None => Ok(claims),
        }
    }

    /// Every reason this token is refused, not only the first (for `channels-api check-token`);
    /// empty when it is valid. Claims are read without a verified signature only to report.
    pub async fn diagnose(&self, token: &str) -> (Option<AccessTokenClaims>, Vec<TokenError>) {
        let (header, unverified) = match split(token) {
            Ok(parts) => parts,
            Err(error) => return (None, vec![error]),
        };
        let mut problems = header_problems(&header, &unverified);
        if problems.iter().any(|p| matches!(p, TokenError::Algorithm(_) | TokenError::EmbeddedKey(_))) {
            // With a foreign algorithm or key, the signature says nothing: the RS256 check is moot.
        } else {
            match self.key_for(&header).await {
                Ok(key) => problems.extend(verify_signature(token, &key).err()),
                Err(error) => problems.push(error),
            }
        }
        let claims: Option<AccessTokenClaims> = match serde_json::from_value(unverified.clone()) {
            Ok(claims) => Some(claims),
            Err(e) => {
                problems.push(TokenError::Malformed(format!("expected Entra access token claims ({e})")));
                None
            }
        };
        if let Some(claims) = &claims {
            problems.extend(self.claim_problems(claims, &unverified));
        }
        problems.dedup();
        (claims, problems)
    }

    /// Step 3: the key by kid, from the tenant's JWKS.
    async fn key_for(&self, header: &serde_json::Value) -> Result<jsonwebtoken::DecodingKey, TokenError> {
        let kid = header
            .get("kid")
            .and_then(|v| v.as_str())
            .ok_or_else(|| TokenError::Malformed("expected a `kid` header (found none)".into()))?;
        self.keys.key(kid).await.map_err(|error| match error {
            KeyError::UnknownKid(kid) => TokenError::UnknownKey(kid),
            KeyError::Unavailable(why) => TokenError::KeysUnavailable(why),
        })
    }

    /// Steps 5 to 10, on claims whose signature was verified (or, to report, was not).
    fn claim_problems(&self, claims: &AccessTokenClaims, unverified: &serde_json::Value) -> Vec<TokenError> {
        let mut problems = Vec::new();
        // Step 5: the tenant is allowed, and the issuer is exactly that tenant's (v1 and/or v2,
        // per configuration; multi-tenant templates are filled with the token's `tid`).
        if !self.expect.tenants.iter().any(|t| t.eq_ignore_ascii_case(&claims.tid)) {
            problems.push(TokenError::Tenant { expected: self.expect.tenants.clone(), found: claims.tid.clone() });
        }
        let issuers: Vec<String> = self.expect.issuers.iter().map(|i| i.replace("{tenantid}", &claims.tid)).collect();
        if !issuers.contains(&claims.iss) {
            problems.push(TokenError::Issuer { expected: issuers, found: claims.iss.clone() });
        }
        // Step 6: the audience is this API.
        if !self.expect.audiences.contains(&claims.aud) {
            problems.push(TokenError::Audience { expected: self.expect.audiences.clone(), found: claims.aud.clone() });
        }
        // Step 8: the lifetime, with the configured clock skew.
        let now = (self.clock)();
        if claims.exp + self.expect.leeway < now {
            problems.push(TokenError::Expired { exp: claims.exp, now });
        }
        if claims.nbf > now + self.expect.leeway {
            problems.push(TokenError::NotYetValid { nbf: claims.nbf, now });
        }
        // Step 9: an ID token for the same app has our issuer and audience but is not an access
        // token: it has a `nonce` claim and neither `scp` nor `roles`.
        if unverified.get("nonce").is_some() || (claims.scp.is_none() && claims.roles.is_none()) {
            problems.push(TokenError::IdToken);
            return problems;
        }
        // Step 7 (after step 9: ID tokens name no client app): the client application is one
        // this API was built for. Any app of any tenant can be granted the scope; the API takes
        // tokens from its own.
        let client_app = claims.client_app();
        if !client_app.is_some_and(|app| self.expect.client_apps.iter().any(|a| a.eq_ignore_ascii_case(app))) {
            problems.push(TokenError::ClientApp {
                expected: self.expect.client_apps.clone(),
                found: client_app.map(str::to_owned),
            });
        }
        if !claims.scopes().any(|scope| scope == self.expect.scope) {
            // Step 10: the delegated scope (RFC 6750 §3.1: 403 insufficient_scope).
            problems.push(TokenError::Scope {
                required: self.expect.full_scope.clone(),
                found: claims.scp.clone().unwrap_or_default(),
            });
        }
        problems
    }
}

/// Who a refused token says it is for and from, unverified, for the log: its tenant (`tid`) and
/// client application (`azp`, or `appid` in v1 tokens); never the token.
/// Only GUIDs are given (what Entra puts there), and nothing is read of a token past
/// [`MAX_TOKEN_BYTES`].
pub fn unverified_caller(token: &str) -> (Option<String>, Option<String>) {
    let Some((_, payload)) = Some(token).filter(|t| t.len() <= MAX_TOKEN_BYTES).and_then(|t| split(t).ok()) else {
        return (None, None);
    };
    let guid = |name: &str| {
        payload.get(name).and_then(|value| value.as_str()).filter(|value| is_guid(value)).map(str::to_owned)
    };
    (guid("tid"), guid("azp").or_else(|| guid("appid")))
}

/// The decoded header and (unverified) payload of a JWS compact token.
fn split(token: &str) -> Result<(serde_json::Value, serde_json::Value), TokenError> {
    let segments: Vec<&str> = token.split('.').collect();
    let [header, payload, _signature] = segments[..] else {
        return Err(TokenError::Malformed(format!("expected 3 dot-separated segments (found {})", segments.len())));
    };
    Ok((decode_json(header, "header")?, decode_json(payload, "payload")?))
}

/// Steps 1 and 2, on the header (and the payload's audience).
fn header_problems(header: &serde_json::Value, unverified: &serde_json::Value) -> Vec<TokenError> {
    let mut problems = Vec::new();
    // Step 1 (RFC 8725 §3.1): the algorithm is ours, RS256, never the token's choice; keys come
    // only from the tenant's key set, never from the header.
    match header.get("alg").and_then(|v| v.as_str()) {
        Some("RS256") => {}
        found => problems.push(TokenError::Algorithm(found.unwrap_or("none given").to_owned())),
    }
    for embedded in ["jwk", "jku", "x5u", "x5c"] {
        if header.get(embedded).is_some() {
            problems.push(TokenError::EmbeddedKey(embedded));
        }
    }
    // Step 2: Graph tokens carry a `nonce` in the header (their signature is over a hash of it)
    // or Graph's audience. They can never verify here; say why instead of "bad signature".
    let graph_audience =
        unverified.get("aud").and_then(|v| v.as_str()).is_some_and(channels_protocol::cloud::Cloud::is_graph_audience);
    if header.get("nonce").is_some() || graph_audience {
        problems.push(TokenError::GraphToken);
    }
    problems
}

/// Step 4: the RS256 signature. Times, issuer and audience are checked by [`Validator`] with
/// its own clock and messages, so the library checks only the signature and the algorithm.
fn verify_signature(token: &str, key: &jsonwebtoken::DecodingKey) -> Result<AccessTokenClaims, TokenError> {
    let mut signature_only = Validation::new(Algorithm::RS256);
    signature_only.validate_exp = false;
    signature_only.validate_nbf = false;
    signature_only.validate_aud = false;
    signature_only.required_spec_claims = HashSet::new();
    jsonwebtoken::decode::<AccessTokenClaims>(token, key, &signature_only).map(|data| data.claims).map_err(|error| {
        match error.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::Signature,
            jsonwebtoken::errors::ErrorKind::Json(e) => {
                TokenError::Malformed(format!("expected Entra access token claims ({e})"))
            }
            _ => TokenError::Malformed(error.to_string()),
        }
    })
}

fn decode_json(segment: &str, what: &str) -> Result<serde_json::Value, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenError::Malformed(format!("expected base64url in the {what} (found other characters)")))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| TokenError::Malformed(format!("expected a JSON object in the {what} ({e})")))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(TokenError::Malformed(format!("expected a JSON object in the {what}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size limit to the byte, as a unit test: the integration tests send far larger tokens,
    /// and a limit changed by a few bytes would otherwise only show as every sign-in refused,
    /// which the slower tests notice late.
    #[tokio::test]
    async fn a_token_is_refused_for_its_size_only_past_the_limit() {
        let expect = Expectations {
            issuers: vec![],
            audiences: vec![],
            tenants: vec![],
            client_apps: vec![],
            scope: "UserProfile.ReadWrite".into(),
            full_scope: "api://x/UserProfile.ReadWrite".into(),
            leeway: 0,
        };
        let keys = Arc::new(KeyCache::fixed(&serde_json::from_str(r#"{"keys":[]}"#).unwrap()));
        let validator = Validator::new(expect, keys, Arc::new(|| 0));
        let refused_for_size = |bytes: usize| {
            let token = "a".repeat(bytes);
            let validator = &validator;
            async move {
                matches!(validator.validate(&token).await, Err(TokenError::Malformed(m)) if m.contains("at most 16384 bytes"))
            }
        };
        // 16 KiB, as docs/security.md says: Entra's tokens with many claims stay well below it.
        assert!(!refused_for_size(16 * 1024).await, "16384 bytes are looked at (and refused for something else)");
        assert!(refused_for_size(16 * 1024 + 1).await, "16385 bytes are refused for their size");
    }

    /// The verified-token cache keeps a token for five minutes at most, and never past its
    /// token's lifetime: each entry expires after the time it was given.
    #[test]
    fn a_verified_token_is_remembered_for_five_minutes_or_its_lifetime_if_shorter() {
        assert_eq!(remembered_for(Duration::from_secs(3600)), Duration::from_secs(300));
        assert_eq!(remembered_for(Duration::from_secs(60)), Duration::from_secs(60));
        let claims: AccessTokenClaims = serde_json::from_value(serde_json::json!({
            "aud": "a", "iss": "i", "iat": 0, "nbf": 0, "exp": 60, "tid": "t", "oid": "o", "sub": "s"
        }))
        .unwrap();
        let entry = Remembered { claims: Arc::new(claims), ttl: Duration::from_secs(42), bytes: 1 };
        let expiry = moka::Expiry::expire_after_create(&RememberFor, &[0; 32], &entry, std::time::Instant::now());
        assert_eq!(expiry, Some(Duration::from_secs(42)));
    }
}
