//! The signing-key cache against a real identity provider on loopback that counts its requests
//! and can be taken down: a flood of unknown kids costs it one fetch, an outage keeps the cached
//! keys working, and keys are taken only from the configured authority's own metadata.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::response::Redirect;
use axum::routing::get;
use axum::{Json, Router};
use channels_api::auth::keys::{
    http_client, KeyCache, KeyError, MAX_DOCUMENT_BYTES, MIN_REFETCH_INTERVAL, REFRESH_PERIOD,
};
use entra_emulator::keys::SigningKey;

#[derive(Default)]
struct Counters {
    metadata_fetches: AtomicUsize,
    key_set_fetches: AtomicUsize,
    down: AtomicBool,
    /// A key published besides the first (the next one of a roll).
    published_too: std::sync::Mutex<Option<serde_json::Value>>,
}

/// Serves OIDC metadata for tenant `t` and a key set with one key; returns the authority (its
/// origin). `metadata` may change the document before it is served.
async fn identity_provider_serving(
    key: &SigningKey,
    counters: Arc<Counters>,
    metadata: impl FnOnce(&str, &mut serde_json::Value),
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut document =
        serde_json::json!({ "issuer": format!("{base}/t/v2.0"), "jwks_uri": format!("{base}/t/discovery/v2.0/keys") });
    metadata(&base, &mut document);
    let keys = serde_json::json!({ "keys": [key.jwk()] });
    let up = |counters: &Counters| !counters.down.load(Ordering::SeqCst);
    let app = Router::new()
        .route(
            "/t/v2.0/.well-known/openid-configuration",
            get({
                let counters = counters.clone();
                move || async move {
                    counters.metadata_fetches.fetch_add(1, Ordering::SeqCst);
                    up(&counters).then_some(Json(document)).ok_or(axum::http::StatusCode::SERVICE_UNAVAILABLE)
                }
            }),
        )
        .route(
            "/t/discovery/v2.0/keys",
            get(move || async move {
                counters.key_set_fetches.fetch_add(1, Ordering::SeqCst);
                let mut keys = keys.clone();
                if let Some(next) = counters.published_too.lock().unwrap().clone() {
                    keys["keys"].as_array_mut().unwrap().push(next);
                }
                up(&counters).then_some(Json(keys)).ok_or(axum::http::StatusCode::SERVICE_UNAVAILABLE)
            }),
        )
        .route("/elsewhere", get(|| async { Redirect::temporary("/t/discovery/v2.0/keys") }))
        .route("/large", get(|| async { "x".repeat(MAX_DOCUMENT_BYTES + 1) }))
        .route("/exact", get(|| async { "x".repeat(MAX_DOCUMENT_BYTES) }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

async fn identity_provider(key: &SigningKey, counters: Arc<Counters>) -> String {
    identity_provider_serving(key, counters, |_, _| {}).await
}

fn cache_of(authority: &str) -> KeyCache {
    KeyCache::from_authority(authority, "t", Default::default(), http_client(&[]))
}

#[tokio::test]
async fn a_flood_of_unknown_kids_costs_one_fetch_and_an_outage_keeps_the_cached_keys() {
    let key = SigningKey::generate();
    let counters = Arc::new(Counters::default());
    let cache = cache_of(&identity_provider(&key, counters.clone()).await);

    assert!(cache.key(key.kid()).await.is_ok());
    assert_eq!(counters.key_set_fetches.load(Ordering::SeqCst), 1);
    for n in 0..200 {
        let kid = format!("made-up-{n}");
        assert_eq!(cache.key(&kid).await.unwrap_err(), KeyError::UnknownKid(kid));
    }
    assert_eq!(counters.key_set_fetches.load(Ordering::SeqCst), 1, "at most one fetch per 5 minutes");
    assert_eq!(MIN_REFETCH_INTERVAL, Duration::from_secs(5 * 60), "Microsoft.Identity.Web's 5 minutes");
    // The background refresh is hourly (its task is not run here: docs/security.md says so).
    assert_eq!(REFRESH_PERIOD, Duration::from_secs(60 * 60));

    counters.down.store(true, Ordering::SeqCst);
    assert!(cache.key(key.kid()).await.is_ok(), "cached keys outlive an outage");
}

#[tokio::test]
async fn with_nothing_cached_an_outage_is_reported_and_not_hammered() {
    let key = SigningKey::generate();
    let counters = Arc::new(Counters::default());
    counters.down.store(true, Ordering::SeqCst);
    let cache = cache_of(&identity_provider(&key, counters.clone()).await);
    for _ in 0..20 {
        assert!(
            matches!(cache.key(key.kid()).await, Err(KeyError::Unavailable(why)) if why.contains("expected 200 (found 503"))
        );
    }
    assert_eq!(counters.metadata_fetches.load(Ordering::SeqCst), 1, "one attempt, then at most one per 10 s");
    assert_eq!(counters.key_set_fetches.load(Ordering::SeqCst), 0, "the metadata failed first; keys were not asked");
    assert!(matches!(cache.ensure_loaded().await, Err(KeyError::Unavailable(_))));
}

/// Short stand-ins for the 5 minutes between refetches and the 10 s between retries.
const INTERVAL: Duration = Duration::from_millis(300);
const PAST_INTERVAL: Duration = Duration::from_millis(350);

#[tokio::test]
async fn an_unknown_kid_refetches_once_due_and_a_failed_refetch_keeps_the_cached_keys() {
    let (key, next) = (SigningKey::generate(), SigningKey::generate());
    let counters = Arc::new(Counters::default());
    let cache = cache_of(&identity_provider(&key, counters.clone()).await).with_intervals(INTERVAL, INTERVAL);
    assert!(cache.key(key.kid()).await.is_ok());
    let fetches = || counters.metadata_fetches.load(Ordering::SeqCst);
    assert_eq!(fetches(), 1);
    // Readiness with keys loaded fetches nothing, even when a refetch would be due.
    tokio::time::sleep(PAST_INTERVAL).await;
    assert_eq!(cache.ensure_loaded().await, Ok(1));
    assert_eq!(fetches(), 1, "readiness does not refetch loaded keys");

    // The identity provider goes down; once a refetch is due, an unknown kid asks it again,
    // the fetch fails, and the cached keys keep working.
    counters.down.store(true, Ordering::SeqCst);
    tokio::time::sleep(PAST_INTERVAL).await;
    assert_eq!(cache.key(next.kid()).await.unwrap_err(), KeyError::UnknownKid(next.kid().to_owned()));
    assert_eq!(fetches(), 2, "the unknown kid asked the identity provider");
    assert!(cache.key(key.kid()).await.is_ok(), "a failed fetch keeps the cached keys");
    assert!(cache.key(next.kid()).await.is_err());
    assert_eq!(fetches(), 2, "not again before the interval");

    // Back, with the next key published: the next due refetch finds it.
    counters.down.store(false, Ordering::SeqCst);
    *counters.published_too.lock().unwrap() = Some(next.jwk().clone());
    tokio::time::sleep(PAST_INTERVAL).await;
    assert!(cache.key(next.kid()).await.is_ok());
    assert!(cache.key(key.kid()).await.is_ok());
    assert_eq!(fetches(), 3);
}

#[tokio::test]
async fn with_nothing_cached_a_failed_fetch_is_retried_once_the_interval_passed() {
    let key = SigningKey::generate();
    let counters = Arc::new(Counters::default());
    counters.down.store(true, Ordering::SeqCst);
    let cache = cache_of(&identity_provider(&key, counters.clone()).await).with_intervals(INTERVAL, INTERVAL);
    let fetches = || counters.metadata_fetches.load(Ordering::SeqCst);
    for _ in 0..5 {
        assert!(matches!(cache.key(key.kid()).await, Err(KeyError::Unavailable(_))));
    }
    assert_eq!(fetches(), 1);
    tokio::time::sleep(PAST_INTERVAL).await;
    assert!(matches!(cache.key(key.kid()).await, Err(KeyError::Unavailable(_))));
    assert_eq!(fetches(), 2, "retried once the interval passed");
    counters.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(PAST_INTERVAL).await;
    assert!(cache.key(key.kid()).await.is_ok(), "and recovered when the identity provider did");
}

/// The reason the keys could not be had, with nothing cached.
async fn refusal(authority: &str, key: &SigningKey) -> String {
    match cache_of(authority).key(key.kid()).await {
        Err(KeyError::Unavailable(why)) => why,
        other => panic!("expected the keys to be refused, found {other:?}"),
    }
}

#[tokio::test]
async fn keys_come_only_from_the_configured_authoritys_metadata_for_the_configured_tenant() {
    let key = SigningKey::generate();
    let counters = Arc::new(Counters::default());

    // Metadata naming another issuer (another tenant, or another authority's document).
    let other_issuer =
        identity_provider_serving(&key, counters.clone(), |base, m| m["issuer"] = format!("{base}/other/v2.0").into())
            .await;
    let why = refusal(&other_issuer, &key).await;
    assert!(why.contains(&format!("expected the issuer {other_issuer}/t/v2.0 (found")), "{why}");
    assert_eq!(counters.key_set_fetches.load(Ordering::SeqCst), 0, "no key set was asked for");

    // A jwks_uri off the authority: another host, another port, another scheme.
    let elsewhere = identity_provider(&key, Arc::new(Counters::default())).await;
    for jwks_uri in
        [format!("{elsewhere}/t/discovery/v2.0/keys"), "https://evil.example/keys".to_owned(), "not a url".to_owned()]
    {
        let counters = Arc::new(Counters::default());
        let authority =
            identity_provider_serving(&key, counters.clone(), |_, m| m["jwks_uri"] = jwks_uri.clone().into()).await;
        let why = refusal(&authority, &key).await;
        assert!(why.contains(&format!("expected a jwks_uri on the authority {authority} (found")), "{why}");
    }
}

#[tokio::test]
async fn redirects_are_not_followed_and_oversized_documents_are_refused_by_size() {
    let key = SigningKey::generate();
    let redirected = identity_provider_serving(&key, Arc::new(Counters::default()), |base, m| {
        m["jwks_uri"] = format!("{base}/elsewhere").into()
    })
    .await;
    let why = refusal(&redirected, &key).await;
    assert!(why.ends_with("expected 200 (found 307 Temporary Redirect; redirects are not followed)"), "{why}");

    let oversized = identity_provider_serving(&key, Arc::new(Counters::default()), |base, m| {
        m["jwks_uri"] = format!("{base}/large").into()
    })
    .await;
    let why = refusal(&oversized, &key).await;
    assert!(why.ends_with(&format!("/large: expected at most {MAX_DOCUMENT_BYTES} bytes (found more)")), "{why}");
    assert_eq!(MAX_DOCUMENT_BYTES, 256 * 1024, "the limit docs/configuration.md states");
    // The limit itself is allowed: that document is read (and refused as no JWK set).
    let exact = identity_provider_serving(&key, Arc::new(Counters::default()), |base, m| {
        m["jwks_uri"] = format!("{base}/exact").into()
    })
    .await;
    let why = refusal(&exact, &key).await;
    assert!(why.contains("/exact: expected a JWK set"), "{why}");
}
