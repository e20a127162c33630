//! The thin API: validates Entra access tokens, names the user, assigns their channels, and
//! serves the SPA with its runtime configuration.
//!
//! The flow through the modules: [`config`] (typed settings) → [`auth`] (bearer token →
//! verified claims) → [`channels`] (groups → channels) → the `/api/me` answer. [`router`]
//! builds everything from a configuration; `main.rs` only reads the environment and serves.

pub mod auth;
pub mod channels;
pub mod config;
pub mod error;
pub mod spa;

use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use channels_protocol::wire::Me;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::keys::KeyCache;
use crate::auth::validate::{Clock, Expectations};
use crate::auth::{Authenticated, Validator};
use crate::config::ApiConfig;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The API's configuration.
    pub config: Arc<ApiConfig>,
    /// The token validator.
    pub validator: Arc<Validator>,
    /// The tenant's signing keys (the validator's cache), for the background refresh.
    pub keys: Arc<KeyCache>,
}

impl AppState {
    /// State for `config`, with keys from the tenant's OIDC metadata and the given clock.
    pub fn new(config: ApiConfig, clock: Clock) -> Self {
        let keys = Arc::new(KeyCache::from_metadata(format!(
            "{}/v2.0/.well-known/openid-configuration",
            metadata_base(&config)
        )));
        Self::with_keys(config, keys, clock)
    }

    /// State for `config` with a given key cache.
    pub fn with_keys(config: ApiConfig, keys: Arc<KeyCache>, clock: Clock) -> Self {
        let expect = Expectations {
            issuers: config.issuer_templates(),
            audiences: config.audiences.clone(),
            tenants: config.allowed_tenants.clone(),
            scope: config.scope.clone(),
            full_scope: config.full_scope(),
            leeway: config.clock_skew,
        };
        Self { validator: Arc::new(Validator::new(expect, keys.clone(), clock)), keys, config: Arc::new(config) }
    }
}

fn metadata_base(config: &ApiConfig) -> String {
    format!("{}/{}", config.authority.as_str(), config.tenant_id)
}

/// The system clock, in seconds since the epoch.
pub fn system_clock() -> Clock {
    Arc::new(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// The whole HTTP surface: `/api/*`, `/config.json`, `/healthz`, and the SPA when built.
pub fn router(state: AppState) -> std::io::Result<Router> {
    let no_store = SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let api = Router::new()
        .route("/api/me", get(me))
        .route("/api/channels", get(channels))
        .route("/config.json", get(runtime_config))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .layer(no_store);
    let app = match &state.config.spa_dir {
        Some(dir) => api.merge(spa::router(dir, state.config.authority.as_str())?),
        None => api,
    };
    Ok(app.with_state(state))
}

async fn runtime_config(axum::extract::State(state): axum::extract::State<AppState>) -> impl IntoResponse {
    Json(state.config.runtime_config())
}

/// `GET /readyz`: ready when the tenant's signing keys are loaded (fetched now if need be).
async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    match state.keys.ensure_loaded().await {
        Ok(keys) if keys > 0 => Json(serde_json::json!({ "ready": true, "signing_keys": keys })).into_response(),
        Ok(_) => not_ready("the tenant's key set holds no RSA signing key".to_owned()),
        Err(auth::keys::KeyError::Unavailable(why)) | Err(auth::keys::KeyError::UnknownKid(why)) => not_ready(why),
    }
}

fn not_ready(why: String) -> axum::response::Response {
    let body = channels_protocol::wire::ApiError {
        error: "not_ready".into(),
        message: format!("expected the tenant's signing keys to be loaded (found none: {why})"),
        fix: Some("Check that ENTRA_AUTHORITY and ENTRA_TENANT_ID name a reachable tenant.".into()),
    };
    (axum::http::StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

/// One configured channel, and whether the caller has it.
#[derive(serde::Serialize)]
struct ChannelView {
    name: String,
    granted: bool,
}

/// `GET /api/channels`: every configured channel, marked with whether the caller has it.
async fn channels(
    axum::extract::State(state): axum::extract::State<AppState>,
    Authenticated(verified): Authenticated,
) -> Json<Vec<ChannelView>> {
    let granted = state.config.channels.assign(&verified).channels;
    Json(
        state
            .config
            .channels
            .channels()
            .iter()
            .map(|c| ChannelView { name: c.name.clone(), granted: granted.contains(&c.name) })
            .collect(),
    )
}

/// `GET /api/me`: the signed-in user and their channels.
async fn me(
    axum::extract::State(state): axum::extract::State<AppState>,
    Authenticated(verified): Authenticated,
) -> Json<Me> {
    let assignment = state.config.channels.assign(&verified);
    let claims = verified.claims();
    Json(Me {
        upn: claims.upn.clone().or_else(|| claims.preferred_username.clone()).unwrap_or_default(),
        name: claims.name.clone().unwrap_or_default(),
        tenant_id: claims.tid.clone(),
        object_id: claims.oid.clone(),
        groups: claims.groups.clone().unwrap_or_default(),
        channels: assignment.channels,
        notice: assignment.notice,
    })
}
