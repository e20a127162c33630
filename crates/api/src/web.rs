//! The HTTP surface, thin: each handler takes a verified sign-in ([`Authenticated`]), asks
//! [`access`](crate::access) what it may do, and answers in the API's JSON. `/api/*`,
//! `/config.json`, `/healthz`, `/readyz`, SCIM and the SPA, with their CORS, cache and security
//! headers, are put together by [`router`].

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::serve::{ListenerExt as _, TapIo};
use axum::{Json, Router};
use channels_protocol::wire::{Me, MemberRecord};
use tokio::net::{TcpListener, TcpStream};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::access::{active_member, require_step_up, signed_in};
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::members::{Member, SignInOutcome, StoreError};
use crate::state::AppState;
use crate::{ops, scim, spa};

/// The largest preferences document a member may store.
pub const MAX_PROFILE_BYTES: usize = 4 * 1024;

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
    let api = if state.config.server.allowed_origins.is_empty() {
        api
    } else {
        let origins =
            state.config.server.allowed_origins.iter().map(|o| HeaderValue::from_str(o).expect("a parsed origin"));
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
    let app = match &state.config.server.spa_dir {
        Some(dir) => app.merge(spa::router(dir, state.config.authority.as_str())?),
        None => app,
    };
    let trusted = state.config.operations.trust_request_id;
    Ok(ops::layers(spa::security_headers(app), trusted).with_state(state))
}

/// Where [`router`] is served: `addr`, with `TCP_NODELAY` on every connection. A static file
/// goes out in two writes, its headers then its body; under Nagle's algorithm the body waits
/// for the headers' acknowledgement, which the browser's side may hold 40 ms on a kept-alive
/// connection. The page's HTML and stylesheet each paid that before.
pub async fn listen(addr: std::net::SocketAddr) -> std::io::Result<TapIo<TcpListener, fn(&mut TcpStream)>> {
    Ok(TcpListener::bind(addr).await?.tap_io(send_at_once as fn(&mut TcpStream)))
}

fn send_at_once(connection: &mut TcpStream) {
    if let Err(error) = connection.set_nodelay(true) {
        tracing::debug!(%error, "could not set TCP_NODELAY on a connection");
    }
}

/// Answers about people and tokens are never cached.
fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

/// `GET /config.json`: the SPA's sign-in settings, as written at start.
async fn runtime_config(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], state.spa_config.clone())
}

/// `GET /readyz`: see [`ops::readiness`].
async fn readyz(State(state): State<AppState>) -> Response {
    ops::readiness(&state.draining, &state.keys, &state.members).await
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
    let granted = signed_in(&state, &verified).await?.assignment.channels;
    let all = state.config.channels.channels_of(&verified.claims().tid);
    Ok(Json(all.map(|c| ChannelView { name: c.name.clone(), granted: granted.contains(&c.name) }).collect()))
}

/// `GET /api/me`: the signed-in user, their channels and their member record (created at the
/// first sign-in, refreshed at every later one).
async fn me(State(state): State<AppState>, Authenticated(verified): Authenticated) -> Result<Json<Me>, ApiError> {
    let sign_in = signed_in(&state, &verified).await?;
    let claims = verified.claims();
    Ok(Json(Me {
        upn: claims.display_upn().unwrap_or_default().to_owned(),
        name: claims.name.clone().unwrap_or_default(),
        tenant_id: claims.tid.clone(),
        object_id: claims.oid.clone(),
        groups: sign_in.groups,
        channels: sign_in.assignment.channels,
        notice: sign_in.assignment.notice,
        member: Some(record(sign_in.member, sign_in.outcome)),
    }))
}

fn record(member: Member, outcome: SignInOutcome) -> MemberRecord {
    MemberRecord {
        roles: member.roles,
        preferences: member.preferences,
        created_at: member.created_at,
        last_seen_at: member.last_seen_at,
        provisioning: serde_json::to_value(outcome)
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
    active_member(&state, &verified).await?;
    let claims = verified.claims();
    require_step_up(&state, claims)?;
    let member = state
        .members
        .set_preferences(&claims.tid, &claims.oid, &preferences)
        .await?
        .ok_or_else(|| StoreError("the member vanished during the update".into()))?;
    Ok(Json(record(member, SignInOutcome::Updated)))
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

#[cfg(test)]
mod tests {
    use axum::serve::Listener as _;

    #[tokio::test]
    async fn every_connection_sends_small_answers_at_once() {
        let mut listener = super::listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (connection, peer) = listener.accept().await;
        assert_eq!(peer, client.local_addr().unwrap());
        assert!(connection.nodelay().unwrap(), "Nagle's algorithm would hold a body behind its headers");
    }
}
