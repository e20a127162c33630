//! The signing-key cache against a real JWKS server on loopback that counts its requests and
//! can be taken down: a flood of unknown kids costs the identity provider one fetch, and an
//! outage keeps the cached keys working.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use channels_api::auth::keys::{KeyCache, KeyError};
use entra_emulator::keys::SigningKey;

#[derive(Default)]
struct Counters {
    metadata_fetches: AtomicUsize,
    key_set_fetches: AtomicUsize,
    down: AtomicBool,
}

/// Serves OIDC metadata and a key set with one key; returns the metadata URL.
async fn identity_provider(key: &SigningKey, counters: Arc<Counters>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let metadata =
        serde_json::json!({ "issuer": format!("{base}/t/v2.0"), "jwks_uri": format!("{base}/t/discovery/v2.0/keys") });
    let keys = serde_json::json!({ "keys": [key.jwk()] });
    let up = |counters: &Counters| !counters.down.load(Ordering::SeqCst);
    let app = Router::new()
        .route(
            "/t/v2.0/.well-known/openid-configuration",
            get({
                let counters = counters.clone();
                move || async move {
                    counters.metadata_fetches.fetch_add(1, Ordering::SeqCst);
                    up(&counters).then_some(Json(metadata)).ok_or(axum::http::StatusCode::SERVICE_UNAVAILABLE)
                }
            }),
        )
        .route(
            "/t/discovery/v2.0/keys",
            get(move || async move {
                counters.key_set_fetches.fetch_add(1, Ordering::SeqCst);
                up(&counters).then_some(Json(keys)).ok_or(axum::http::StatusCode::SERVICE_UNAVAILABLE)
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("{base}/t/v2.0/.well-known/openid-configuration")
}

#[tokio::test]
async fn a_flood_of_unknown_kids_costs_one_fetch_and_an_outage_keeps_the_cached_keys() {
    let key = SigningKey::generate();
    let counters = Arc::new(Counters::default());
    let cache = KeyCache::from_metadata(identity_provider(&key, counters.clone()).await);

    assert!(cache.key(key.kid()).await.is_ok());
    assert_eq!(counters.key_set_fetches.load(Ordering::SeqCst), 1);
    for n in 0..200 {
        let kid = format!("made-up-{n}");
        assert_eq!(cache.key(&kid).await.unwrap_err(), KeyError::UnknownKid(kid));
    }
    assert_eq!(counters.key_set_fetches.load(Ordering::SeqCst), 1, "at most one fetch per 5 minutes");

    counters.down.store(true, Ordering::SeqCst);
    assert!(cache.key(key.kid()).await.is_ok(), "cached keys outlive an outage");
}

#[tokio::test]
async fn with_nothing_cached_an_outage_is_reported_and_not_hammered() {
    let key = SigningKey::generate();
    let counters = Arc::new(Counters::default());
    counters.down.store(true, Ordering::SeqCst);
    let cache = KeyCache::from_metadata(identity_provider(&key, counters.clone()).await);
    for _ in 0..20 {
        assert!(
            matches!(cache.key(key.kid()).await, Err(KeyError::Unavailable(why)) if why.contains("expected 200 (found 503"))
        );
    }
    assert_eq!(counters.metadata_fetches.load(Ordering::SeqCst), 1, "one attempt, then at most one per 10 s");
    assert_eq!(counters.key_set_fetches.load(Ordering::SeqCst), 0, "the metadata failed first; keys were not asked");
    assert!(matches!(cache.ensure_loaded().await, Err(KeyError::Unavailable(_))));
}
