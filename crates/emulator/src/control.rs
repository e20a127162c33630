//! Emulator-only routes under `/_emulator/` (Entra has no such paths): tests and local runs
//! roll the signing keys and move the emulator's clock while clients keep running.
//!
//! Each needs the [`CONTROL_HEADER`]: a web page on a developer's machine can post a form to the
//! emulator, but a form cannot send a header, and a cross-origin `fetch` that sends one must
//! first pass a CORS preflight, which these routes never answer.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::Emulator;

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
    emulator.clock_offset.fetch_add(params.seconds, Ordering::SeqCst);
    Json(emulator.now())
}

/// `POST /_emulator/refresh-tokens/expire`: every refresh token issued so far reaches the SPA
/// lifetime's end now (its next use is AADSTS700084), without moving the clock that access
/// tokens are checked against. Answers how many were expired.
pub async fn expire_refresh_tokens(State(emulator): State<Arc<Emulator>>) -> Json<usize> {
    Json(crate::token::expire_all(&emulator))
}
