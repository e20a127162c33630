//! What every request handler shares: the configuration, the token validator with its signing
//! keys, the member database, the shutdown flag, the clock, and the `/config.json` answer
//! (built once, at start).

use std::sync::Arc;

use axum::body::Bytes;

use crate::auth::keys::{self, KeyCache};
use crate::auth::validate::{Clock, Expectations};
use crate::auth::Validator;
use crate::config::ApiConfig;
use crate::members::{MemberStore, StoreError};
use crate::ops::Draining;
use crate::scim::store::ScimStore;
use crate::scim::tokens::ScimTokens;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The API's configuration.
    pub config: Arc<ApiConfig>,
    /// The token validator.
    pub validator: Arc<Validator>,
    /// The tenant's signing keys (the validator's cache), for the background refresh.
    pub keys: Arc<KeyCache>,
    /// The member database.
    pub members: MemberStore,
    /// The users and groups Entra's provisioning wrote there.
    pub provisioned: ScimStore,
    /// The SCIM tokens, and which tenant each provisions.
    pub scim_tokens: ScimTokens,
    /// Set when the shutdown begins: `/readyz` then answers 503.
    pub draining: Draining,
    /// What `/config.json` serves, written once: the SPA's sign-in settings as JSON.
    pub spa_config: Bytes,
    clock: Clock,
}

impl AppState {
    /// State for `config`: keys from the tenant's OIDC metadata, members in the configured
    /// database (migrated now).
    pub async fn connect(config: ApiConfig, clock: Clock) -> Result<Self, StoreError> {
        let keys = key_cache(&config);
        Self::with_keys(config, Arc::new(keys), clock).await
    }

    /// State for `config` with a given key cache.
    pub async fn with_keys(config: ApiConfig, keys: Arc<KeyCache>, clock: Clock) -> Result<Self, StoreError> {
        let expect = expectations(&config);
        let members = MemberStore::connect(config.database_url.secret()).await?;
        Ok(Self {
            validator: Arc::new(Validator::new(expect, keys.clone(), clock.clone())),
            keys,
            provisioned: ScimStore::new(members.clone()),
            scim_tokens: ScimTokens::new(&members),
            members,
            draining: Draining::default(),
            spa_config: serde_json::to_vec(&config.spa_config()).expect("the SPA's settings serialise").into(),
            config: Arc::new(config),
            clock,
        })
    }

    /// The time, in seconds since the epoch.
    pub fn now(&self) -> i64 {
        (self.clock)() as i64
    }
}

/// What tokens must be, under `config`.
pub fn expectations(config: &ApiConfig) -> Expectations {
    Expectations {
        issuers: config.issuer_templates(),
        audiences: config.audiences.clone(),
        tenants: config.allowed_tenants.clone(),
        client_apps: config.allowed_client_apps.clone(),
        scope: config.scope.clone(),
        full_scope: config.full_scope(),
        leeway: config.clock_skew,
    }
}

/// The configured tenant's signing keys, from the configured authority, fetched on first use.
pub fn key_cache(config: &ApiConfig) -> KeyCache {
    let http = keys::http_client(&config.extra_roots.certificates);
    KeyCache::from_authority(config.authority.as_str(), &config.tenant_id, config.cloud, http)
}
