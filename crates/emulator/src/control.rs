//! Emulator-only routes under `/_emulator/` (Entra has no such paths): tests and local runs
//! roll the signing keys and move the emulator's clock while clients keep running, and run
//! provisioning cycles against a SCIM endpoint.
//!
//! Each needs the [`CONTROL_HEADER`]: a web page on a developer's machine can post a form to the
//! emulator, but a form cannot send a header, and a cross-origin `fetch` that sends one must
//! first pass a CORS preflight, which these routes never answer.

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::provisioning::{cycle, JobKey};
use crate::state::Emulator;

/// The header every control request must carry (any value).
pub const CONTROL_HEADER: &str = "x-emulator-control";

/// Refuses a control request without [`CONTROL_HEADER`] (403), saying what it needs.
pub async fn require_header(request: Request, next: Next) -> Response {
    if request.headers().contains_key(CONTROL_HEADER) {
        return next.run(request).await;
    }
    let message = format!(
        "expected the header `{CONTROL_HEADER}: 1` on emulator controls (found none): a cross-site form cannot send it"
    );
    (StatusCode::FORBIDDEN, message).into_response()
}

/// `?emergency=true` withdraws the signing key at once instead of a scheduled roll.
#[derive(Deserialize)]
pub struct RollParams {
    #[serde(default)]
    emergency: bool,
}

/// `POST /_emulator/keys/roll[?emergency=true]`: answers the published `kid`s, signing key first.
pub async fn roll_keys(State(emulator): State<Arc<Emulator>>, Query(params): Query<RollParams>) -> Json<Vec<String>> {
    let keys = emulator.keys();
    if params.emergency {
        keys.replace_compromised();
    } else {
        keys.roll();
    }
    Json(keys.published().iter().map(|key| key.kid().to_owned()).collect())
}

/// `?seconds=N`: how far to move the clock forward.
#[derive(Deserialize)]
pub struct ClockParams {
    seconds: u64,
}

/// `POST /_emulator/clock?seconds=N`: moves the emulator's clock forward (codes, refresh tokens
/// and token lifetimes all follow it); answers the new time.
pub async fn advance_clock(State(emulator): State<Arc<Emulator>>, Query(params): Query<ClockParams>) -> Json<u64> {
    emulator.advance_clock(params.seconds);
    Json(emulator.now())
}

/// `POST /_emulator/refresh-tokens/expire`: every refresh token issued so far reaches the SPA
/// lifetime's end now (its next use is AADSTS700084), without moving the clock that access
/// tokens are checked against. Answers how many were expired.
pub async fn expire_refresh_tokens(State(emulator): State<Arc<Emulator>>) -> Json<usize> {
    Json(emulator.grants().expire_refresh_tokens(emulator.now()))
}

/// A provisioning cycle to run: `{"tenant": "contoso.example", "scim_url":
/// "http://127.0.0.1:9300/scim/v2", "token": "…"}`, and the enterprise app (`app_id`, by default
/// the tenant's first registration).
#[derive(Deserialize)]
pub struct CycleRequest {
    tenant: String,
    #[serde(default)]
    app_id: Option<String>,
    scim_url: String,
    token: String,
}

/// Whether `url` is an http(s) URL on loopback: the emulator sends nothing anywhere else.
fn is_loopback(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")) else { return false };
    let host = rest.split('/').next().unwrap_or_default();
    let host = host
        .rsplit_once(':')
        .map_or(host, |(host, port)| if port.chars().all(|c| c.is_ascii_digit()) { host } else { rest });
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

/// `POST /_emulator/provisioning/cycle`: runs the job's next cycle (initial, then incremental)
/// and answers its report: every request sent and what the endpoint answered.
pub async fn provisioning_cycle(State(emulator): State<Arc<Emulator>>, Json(request): Json<CycleRequest>) -> Response {
    let Some(tenant) = emulator.directory().tenant(&request.tenant) else {
        return (StatusCode::NOT_FOUND, format!("expected a tenant of the emulator (found `{}`)", request.tenant))
            .into_response();
    };
    if !is_loopback(&request.scim_url) {
        let message = format!(
            "expected a SCIM URL on loopback, e.g. http://127.0.0.1:9300/scim/v2 (found `{}`)",
            request.scim_url
        );
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    let app_id = match request.app_id {
        Some(app_id) if tenant.enterprise_apps.iter().any(|app| app.app_id == app_id) => app_id,
        Some(app_id) => {
            let message = format!("expected an enterprise application of {} (found `{app_id}`)", tenant.display_name);
            return (StatusCode::NOT_FOUND, message).into_response();
        }
        None => match tenant.apps.first() {
            Some(app) => app.app_id.clone(),
            None => return (StatusCode::NOT_FOUND, "expected the tenant to have an app registration").into_response(),
        },
    };
    let key = JobKey { tenant: tenant.id.clone(), app_id, scim_url: request.scim_url };
    let out_of_scope = emulator.out_of_scope().lock().expect("scope lock").clone();
    // One cycle of a job at a time, as Entra runs them.
    let mut jobs = emulator.provisioning_jobs().lock().await;
    let watermark = jobs.entry(key.clone()).or_default();
    let report = cycle(tenant, &key, &request.token, &out_of_scope, watermark).await;
    Json(report).into_response()
}

/// `{"upn": "bob@contoso.example", "in_scope": false}`.
#[derive(Deserialize)]
pub struct ScopeChange {
    upn: String,
    in_scope: bool,
}

/// `POST /_emulator/provisioning/scope`: takes a user out of provisioning scope (as unassigning
/// them from the enterprise app does), or puts them back; the next cycle disables or enables them.
pub async fn provisioning_scope(State(emulator): State<Arc<Emulator>>, Json(change): Json<ScopeChange>) -> Response {
    let Some((_, user)) = emulator.directory().user_by_upn(&change.upn) else {
        return (StatusCode::NOT_FOUND, format!("expected a user of the emulator (found `{}`)", change.upn))
            .into_response();
    };
    let mut out_of_scope = emulator.out_of_scope().lock().expect("scope lock");
    if change.in_scope {
        out_of_scope.remove(&user.oid);
    } else {
        out_of_scope.insert(user.oid.clone());
    }
    Json(out_of_scope.iter().cloned().collect::<Vec<_>>()).into_response()
}
