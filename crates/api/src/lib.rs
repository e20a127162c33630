//! The thin API: validates Entra access tokens, names the user, assigns their channels, keeps
//! member records, and serves the SPA with its runtime configuration.
//!
//! The flow through the modules: [`config`] (typed settings) → [`auth`] (bearer token →
//! verified claims) → [`channels`] (groups → channels) and [`members`] (who signed in) → the
//! handlers below. [`router`] builds everything from a state; `main.rs` only reads the
//! environment and serves.

pub mod admin;
pub mod auth;
pub mod channels;
pub mod config;
pub mod error;
pub mod members;
pub mod ops;
pub mod scim;
pub mod spa;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use channels_protocol::wire::{Me, MemberRecord};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::keys::KeyCache;
use crate::auth::validate::{Clock, Expectations};
use crate::auth::{Authenticated, Validator};
use crate::config::{ApiConfig, StepUpRule};
use crate::error::ApiError;
use crate::members::{Member, MemberStore, Provisioning, StoreError};

/// The largest preferences document a member may store.
pub const MAX_PROFILE_BYTES: usize = 4 * 1024;

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
    /// Set when the shutdown begins: `/readyz` then answers 503.
    pub draining: ops::Draining,
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
            members,
            draining: ops::Draining::default(),
            config: Arc::new(config),
            clock,
        })
    }

    fn now(&self) -> i64 {
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
    let http = auth::keys::http_client(&config.extra_roots.certificates);
    KeyCache::from_authority(config.authority.as_str(), &config.tenant_id, config.cloud, http)
}

/// The system clock, in seconds since the epoch.
pub fn system_clock() -> Clock {
    Arc::new(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// The whole HTTP surface: `/api/*`, `/config.json`, `/healthz`, `/readyz`, and the SPA when built.
pub fn router(state: AppState) -> std::io::Result<Router> {
    let api = Router::new()
        .route("/api/me", get(me))
        .route("/api/me/profile", put(put_profile).layer(DefaultBodyLimit::max(MAX_PROFILE_BYTES)))
        .route("/api/channels", get(channels))
        .route("/config.json", get(runtime_config))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .layer(no_store());
    let api = if state.config.allowed_origins.is_empty() {
        api
    } else {
        let origins = state.config.allowed_origins.iter().map(|o| HeaderValue::from_str(o).expect("a parsed origin"));
        api.layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(origins.collect::<Vec<_>>())
                .allow_methods([axum::http::Method::GET, axum::http::Method::PUT])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                // A claims challenge must reach the SPA of another origin.
                .expose_headers([header::WWW_AUTHENTICATE]),
        )
    };
    let app = api.merge(scim::router(state.clone()).layer(no_store()));
    let app = match &state.config.spa_dir {
        Some(dir) => app.merge(spa::router(dir, state.config.authority.as_str())?),
        None => app,
    };
    let trusted = state.config.operations.trust_request_id;
    Ok(ops::layers(spa::security_headers(app), trusted).with_state(state))
}

/// Answers about people and tokens are never cached.
fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

async fn runtime_config(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.config.spa_config())
}

/// `GET /readyz`: ready when the tenant's signing keys are loaded (fetched now if need be) and
/// the member database answers.
async fn readyz(State(state): State<AppState>) -> Response {
    if state.draining.is_draining() {
        return draining();
    }
    let keys = match state.keys.ensure_loaded().await {
        Ok(0) => return not_ready("signing keys", "the tenant's key set holds no RSA signing key".to_owned()),
        Ok(keys) => keys,
        Err(auth::keys::KeyError::Unavailable(why) | auth::keys::KeyError::UnknownKid(why)) => {
            return not_ready("signing keys", why)
        }
    };
    if let Err(error) = state.members.ping().await {
        return not_ready("member database", error.to_string());
    }
    if state.draining.is_draining() {
        return draining(); // began while the keys or the database were being checked
    }
    Json(serde_json::json!({ "ready": true, "signing_keys": keys, "database": "ok" })).into_response()
}

/// The 503 of an instance shutting down, so that the load balancer sends it nothing new.
fn draining() -> Response {
    let body = channels_protocol::wire::ApiError {
        error: "draining".into(),
        message: "expected an instance taking requests (found it shutting down: requests still in flight finish)"
            .into(),
        fix: None,
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

/// A 503 naming what is missing; why (URLs, errors of the network or database) goes to the log.
fn not_ready(what: &str, why: String) -> Response {
    tracing::warn!(%why, "not ready: {what}");
    let body = channels_protocol::wire::ApiError {
        error: "not_ready".into(),
        message: format!("expected the {what} to be available (found it unavailable; the API's log says why)"),
        fix: Some("Check ENTRA_AUTHORITY, ENTRA_TENANT_ID and CHANNELS_DATABASE_URL.".into()),
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

/// One configured channel, and whether the caller has it.
#[derive(serde::Serialize)]
struct ChannelView {
    name: String,
    granted: bool,
}

/// `GET /api/channels`: every channel of the caller's tenant, marked with whether the caller
/// has it (another tenant's channels are not the caller's business).
async fn channels(
    State(state): State<AppState>,
    Authenticated(verified): Authenticated,
) -> Result<Json<Vec<ChannelView>>, ApiError> {
    let (_, _, assignment, _) = signed_in(&state, &verified).await?;
    let all = state.config.channels.channels_of(&verified.claims().tid);
    Ok(Json(
        all.map(|c| ChannelView { name: c.name.clone(), granted: assignment.channels.contains(&c.name) }).collect(),
    ))
}

/// The member of a verified sign-in (found, linked or created), refused when provisioning has
/// disabled them; their channels; and the groups those came from (the token's, or when it has
/// none, the ones SCIM provisioned).
async fn signed_in(
    state: &AppState,
    verified: &auth::VerifiedClaims,
) -> Result<(Member, Provisioning, channels::Assignment, Vec<String>), ApiError> {
    let (member, provisioning) = state.members.sign_in(verified, &state.config.default_roles, state.now()).await?;
    if member.disabled_at.is_some() {
        return Err(ApiError::Disabled);
    }
    let claims = verified.claims();
    if let Some(groups) = &claims.groups {
        return Ok((member, provisioning, state.config.channels.assign(verified), groups.clone()));
    }
    let provisioned = state.members.provisioned_groups(&claims.tid, &claims.oid).await?;
    if provisioned.is_empty() {
        return Ok((member, provisioning, state.config.channels.assign(verified), Vec::new()));
    }
    let names: Vec<String> = provisioned.iter().map(|g| g.display_name.clone()).collect();
    let roles = claims.roles.as_deref().unwrap_or_default();
    Ok((member, provisioning, state.config.channels.assign_provisioned(&claims.tid, &provisioned, roles), names))
}

/// `GET /api/me`: the signed-in user, their channels and their member record (created at the
/// first sign-in, refreshed at every later one).
async fn me(State(state): State<AppState>, Authenticated(verified): Authenticated) -> Result<Json<Me>, ApiError> {
    let (member, provisioning, assignment, groups) = signed_in(&state, &verified).await?;
    let claims = verified.claims();
    Ok(Json(Me {
        upn: claims.upn.clone().or_else(|| claims.preferred_username.clone()).unwrap_or_default(),
        name: claims.name.clone().unwrap_or_default(),
        tenant_id: claims.tid.clone(),
        object_id: claims.oid.clone(),
        groups,
        channels: assignment.channels,
        notice: assignment.notice,
        member: Some(record(member, provisioning)),
    }))
}

fn record(member: Member, provisioning: Provisioning) -> MemberRecord {
    MemberRecord {
        roles: member.roles,
        preferences: member.preferences,
        created_at: member.created_at,
        last_seen_at: member.last_seen_at,
        provisioning: serde_json::to_value(provisioning)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    }
}

/// `PUT /api/me/profile`: replaces the caller's preferences (a JSON object of at most
/// [`MAX_PROFILE_BYTES`]). The `UserProfile.ReadWrite` scope is required, as on every call.
async fn put_profile(
    State(state): State<AppState>,
    Authenticated(verified): Authenticated,
    body: axum::body::Bytes,
) -> Result<Json<MemberRecord>, ApiError> {
    let preferences: serde_json::Value = serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest {
        code: "invalid_profile",
        message: format!("expected a JSON object of preferences (found invalid JSON: {e})"),
    })?;
    if !preferences.is_object() {
        return Err(ApiError::BadRequest {
            code: "invalid_profile",
            message: format!("expected a JSON object of preferences (found {})", kind_of(&preferences)),
        });
    }
    // The first call may come before any GET /api/me: provision first, then update. A disabled
    // member is refused before any step-up: no sign-in could change that answer.
    let (member, _) = state.members.sign_in(&verified, &state.config.default_roles, state.now()).await?;
    if member.disabled_at.is_some() {
        return Err(ApiError::Disabled);
    }
    let claims = verified.claims();
    // The context is the token's own tenant's: its `acrs` proves nothing of another tenant's policy.
    match state.config.step_up.rule(&claims.tid) {
        StepUpRule::Required(context) => {
            let found = claims.acrs.clone().unwrap_or_default();
            if !found.iter().any(|acr| acr == context) {
                return Err(ApiError::StepUp {
                    context: context.to_owned(),
                    found,
                    authorize_endpoint: format!(
                        "{}/{}/oauth2/v2.0/authorize",
                        state.config.authority.as_str(),
                        claims.tid
                    ),
                });
            }
        }
        StepUpRule::Refused => return Err(ApiError::StepUpUnavailable { tenant: claims.tid.clone() }),
        StepUpRule::NotRequired => {}
    }
    let claims = verified.claims();
    let member = state
        .members
        .set_preferences(&claims.tid, &claims.oid, &preferences)
        .await?
        .ok_or_else(|| StoreError("the member vanished during the update".into()))?;
    Ok(Json(record(member, Provisioning::Updated)))
}

fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
