//! The tenant's signing keys, fetched from its OIDC metadata's `jwks_uri` and cached.
//!
//! Keys are looked up by `kid` only (never taken from the token). An unknown `kid` triggers a
//! refetch at most once per [`MIN_REFETCH_INTERVAL`], so a flood of made-up kids cannot flood
//! the identity provider; a failed fetch keeps the cached keys (Entra's `signing-key-rollover`
//! guidance). [`KeyCache::refresh_periodically`] refetches hourly in the background.
//!
//! Keys come only from the configured authority: the metadata must name the issuer this API
//! expects, its `jwks_uri` must be on the authority's own origin, redirects are not followed and
//! neither document may exceed [`MAX_DOCUMENT_BYTES`].

use channels_protocol::cloud::Cloud;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

/// The shortest time between two fetches caused by unknown kids.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// While no key has ever been fetched, a failed fetch is retried after this long at the
/// earliest: the identity provider is not hammered, and the API recovers soon after it does.
pub const RETRY_WHEN_EMPTY: Duration = Duration::from_secs(10);
/// The background refresh period.
pub const REFRESH_PERIOD: Duration = Duration::from_secs(60 * 60);
/// The largest metadata or key set document read (Entra's are about 2 and 10 KiB).
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Why no key could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The key set has no key with this kid (after a refetch, when one was allowed).
    UnknownKid(String),
    /// The metadata or JWKS could not be fetched and nothing is cached.
    Unavailable(String),
}

/// Where the keys come from.
enum Source {
    /// `{authority}/{tenant}/v2.0/.well-known/openid-configuration` → `jwks_uri`.
    Metadata(Provider),
    /// A fixed key set (tests of tokens signed by keys we hold as files).
    Fixed,
}

/// The identity provider the keys are fetched from, and what its metadata must say.
struct Provider {
    /// `{authority}/{tenant}/v2.0/.well-known/openid-configuration`.
    metadata_url: String,
    /// The `issuer` the metadata must name: `{authority}/{tenant}/v2.0` (the cloud's form in
    /// another cloud), with Entra's `{tenantid}` template for `organizations` and `common`.
    issuer: String,
    /// The authority's origin, which `jwks_uri` must be on.
    origin: String,
    http: reqwest::Client,
}

struct Cached {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
    last_error: Option<String>,
}

/// A cache of one tenant's signing keys.
pub struct KeyCache {
    source: Source,
    cached: RwLock<Cached>,
    fetching: Mutex<()>,
    /// [`MIN_REFETCH_INTERVAL`] and [`RETRY_WHEN_EMPTY`], shorter in tests.
    intervals: (Duration, Duration),
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
}

impl KeyCache {
    /// Keys that `authority` (an origin) of `cloud` publishes for `tenant` (a tenant id,
    /// `organizations` or `common`), fetched on first use with `http` (see [`http_client`]).
    pub fn from_authority(authority: &str, tenant: &str, cloud: Cloud, http: reqwest::Client) -> Self {
        let in_issuer = if tenant.eq_ignore_ascii_case("organizations") || tenant.eq_ignore_ascii_case("common") {
            "{tenantid}"
        } else {
            tenant
        };
        let provider = Provider {
            metadata_url: format!("{authority}/{tenant}/v2.0/.well-known/openid-configuration"),
            issuer: cloud.v2_issuer(authority, in_issuer),
            origin: authority.to_owned(),
            http,
        };
        Self::new(Source::Metadata(provider), HashMap::new())
    }

    /// A fixed key set, never refetched.
    pub fn fixed(jwks: &JwkSet) -> Self {
        Self::new(Source::Fixed, decoding_keys(jwks))
    }

    fn new(source: Source, keys: HashMap<String, DecodingKey>) -> Self {
        Self {
            source,
            cached: RwLock::new(Cached { keys, fetched_at: None, last_error: None }),
            fetching: Mutex::new(()),
            intervals: (MIN_REFETCH_INTERVAL, RETRY_WHEN_EMPTY),
        }
    }

    /// The same cache with other intervals between fetches: at most one refetch per
    /// `min_refetch` for unknown kids, one attempt per `retry_when_empty` while nothing is
    /// cached (tests, which cannot wait 5 minutes).
    pub fn with_intervals(self, min_refetch: Duration, retry_when_empty: Duration) -> Self {
        Self { intervals: (min_refetch, retry_when_empty), ..self }
    }

    /// The key with this kid, refetching the set once if it is unknown and a refetch is due.
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, KeyError> {
        if let Some(key) = self.cached.read().await.keys.get(kid) {
            return Ok(key.clone());
        }
        let _one_fetch_at_a_time = self.fetching.lock().await;
        let due = {
            let cached = self.cached.read().await;
            if let Some(key) = cached.keys.get(kid) {
                return Ok(key.clone());
            }
            let (min_refetch, retry_when_empty) = self.intervals;
            let interval = if cached.keys.is_empty() { retry_when_empty } else { min_refetch };
            cached.fetched_at.is_none_or(|at| at.elapsed() >= interval)
        };
        if due {
            if let Err(error) = self.fetch().await {
                tracing::warn!(%error, "signing key fetch failed; keeping the cached keys, if any");
                self.cached.write().await.last_error = Some(error);
            }
        }
        let cached = self.cached.read().await;
        match (cached.keys.get(kid), &cached.last_error) {
            (Some(key), _) => Ok(key.clone()),
            (None, Some(error)) if cached.keys.is_empty() => Err(KeyError::Unavailable(error.clone())),
            (None, _) => Err(KeyError::UnknownKid(kid.to_owned())),
        }
    }

    /// How many keys are cached, fetching them first if there are none (for `/readyz`).
    pub async fn ensure_loaded(&self) -> Result<usize, KeyError> {
        let count = self.cached.read().await.keys.len();
        if count > 0 {
            return Ok(count);
        }
        match self.key("").await {
            Err(KeyError::Unavailable(error)) => Err(KeyError::Unavailable(error)),
            _ => Ok(self.cached.read().await.keys.len()),
        }
    }

    /// Refetches every [`REFRESH_PERIOD`] until the returned task is aborted.
    pub fn refresh_periodically(self: std::sync::Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(REFRESH_PERIOD).await;
                let _one_fetch_at_a_time = self.fetching.lock().await;
                if let Err(error) = self.fetch().await {
                    tracing::warn!(%error, "hourly signing key refresh failed; keeping the cached keys");
                }
            }
        })
    }

    /// [`Self::fetch_now`], counted by outcome in the metrics.
    async fn fetch(&self) -> Result<(), String> {
        let fetched = self.fetch_now().await;
        let outcome = if fetched.is_ok() { "ok" } else { "error" };
        metrics::counter!("channels_signing_key_fetches_total", "outcome" => outcome).increment(1);
        fetched
    }

    async fn fetch_now(&self) -> Result<(), String> {
        let Source::Metadata(provider) = &self.source else {
            return Ok(());
        };
        // The attempt counts even when it fails: a dead identity provider is not hammered.
        self.cached.write().await.fetched_at = Some(Instant::now());
        let url = &provider.metadata_url;
        let metadata: Metadata = serde_json::from_slice(&provider.get(url).await?)
            .map_err(|e| format!("{url}: expected OpenID metadata with `issuer` and `jwks_uri` ({e})"))?;
        if metadata.issuer != provider.issuer {
            return Err(format!(
                "{url}: expected the issuer {} (found {:?}); keys are taken only from the configured authority's metadata for the configured tenant",
                provider.issuer, metadata.issuer
            ));
        }
        let jwks_origin = reqwest::Url::parse(&metadata.jwks_uri).map(|u| u.origin().ascii_serialization());
        if jwks_origin.as_deref() != Ok(provider.origin.as_str()) {
            return Err(format!(
                "{url}: expected a jwks_uri on the authority {} (found {:?})",
                provider.origin, metadata.jwks_uri
            ));
        }
        let jwks: JwkSet = serde_json::from_slice(&provider.get(&metadata.jwks_uri).await?)
            .map_err(|e| format!("{}: expected a JWK set ({e})", metadata.jwks_uri))?;
        let keys = decoding_keys(&jwks);
        tracing::info!(issuer = %metadata.issuer, keys = keys.len(), "fetched signing keys");
        let mut cached = self.cached.write().await;
        cached.keys = keys;
        cached.last_error = None;
        Ok(())
    }
}

impl Provider {
    /// The body of a 200 answer to `GET url`, at most [`MAX_DOCUMENT_BYTES`] long.
    async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        let mut response = self.http.get(url).send().await.map_err(|e| format!("GET {url}: {e}"))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(format!("GET {url}: expected 200 (found {status}; redirects are not followed)"));
        }
        if !status.is_success() {
            return Err(format!("GET {url}: expected 200 (found {status})"));
        }
        let too_large = || format!("GET {url}: expected at most {MAX_DOCUMENT_BYTES} bytes (found more)");
        if response.content_length().is_some_and(|length| length > MAX_DOCUMENT_BYTES as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        // Also without a Content-Length: at most one chunk past the limit is ever held.
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("GET {url}: {e}"))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT_BYTES {
                return Err(too_large());
            }
        }
        Ok(body)
    }
}

/// The client that fetches metadata and keys: 10 s per request, no redirects, and TLS trusting
/// the web's root certificates, the operating system's store and `extra_roots` (a
/// TLS-inspecting proxy's authority, or the emulator's certificate: `entra.ca_file`).
pub fn http_client(extra_roots: &[reqwest::Certificate]) -> reqwest::Client {
    extra_roots
        .iter()
        .fold(reqwest::Client::builder(), |builder, root| builder.add_root_certificate(root.clone()))
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client with rustls")
}

/// The RSA signing keys of a set, by kid. Keys without a kid, or not RSA, are skipped.
fn decoding_keys(jwks: &JwkSet) -> HashMap<String, DecodingKey> {
    jwks.keys
        .iter()
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            matches!(jwk.algorithm, jsonwebtoken::jwk::AlgorithmParameters::RSA(_))
                .then(|| DecodingKey::from_jwk(jwk).ok())
                .flatten()
                .map(|key| (kid, key))
        })
        .collect()
}
