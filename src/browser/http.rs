//! The network: the runtime configuration, the token endpoint and the API.

use channels_protocol::provider_error::ProviderError;
use channels_protocol::secret::AccessToken;
use channels_protocol::token::{TokenErrorBody, TokenRequestBody, TokenResponse};
use channels_protocol::wire::{ApiError, Me, SpaConfig};
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use web_sys::AbortSignal;

use crate::auth::SignInError;

/// How long a request may go unanswered, body included. A fetch waits forever by itself, and
/// the page would say "Loading…" for as long.
pub const ANSWER_WITHIN_SECONDS: u32 = 15;

/// `request`, aborted by the browser if it has no whole answer within [`ANSWER_WITHIN_SECONDS`].
fn within_deadline(request: RequestBuilder) -> RequestBuilder {
    request.abort_signal(Some(&AbortSignal::timeout_with_u32(ANSWER_WITHIN_SECONDS * 1000)))
}

/// Whether a request sent by [`within_deadline`] failed for want of an answer in time.
fn timed_out(error: &gloo_net::Error) -> bool {
    matches!(error, gloo_net::Error::JsError(e) if e.name == "TimeoutError")
}

/// Why a request sent by [`within_deadline`] failed.
fn unanswered(error: gloo_net::Error) -> String {
    if timed_out(&error) {
        return format!("no answer within {ANSWER_WITHIN_SECONDS} seconds");
    }
    error.to_string()
}

/// `GET /config.json` from the server that served the SPA.
pub async fn runtime_config() -> Result<SpaConfig, String> {
    let response = within_deadline(Request::get("/config.json"))
        .send()
        .await
        .map_err(|e| "Could not load /config.json: ".to_owned() + &unanswered(e))?;
    if !response.ok() {
        return Err(format!("Could not load /config.json: expected 200 (found {})", response.status()));
    }
    json(&response).await.map_err(|e| format!("/config.json is not the expected configuration: {e}"))
}

/// The body of `response` as a `T`.
async fn json<T: DeserializeOwned>(response: &Response) -> Result<T, String> {
    super::json::parse(&response.text().await.map_err(unanswered)?)
}

/// Redeems a code at Entra's token endpoint: a cross-origin POST with no secret.
pub async fn redeem(token_endpoint: &str, body: &TokenRequestBody) -> Result<TokenResponse, SignInError> {
    let request = within_deadline(Request::post(token_endpoint))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body.as_str())
        .map_err(|e| SignInError::Network(e.to_string()))?;
    // A refused cross-origin request and an unreachable host fail alike, and have one fix.
    let response = request.send().await.map_err(|e| {
        if timed_out(&e) {
            SignInError::TokenEndpointTimedOut
        } else {
            SignInError::TokenEndpointUnreachable
        }
    })?;
    if response.ok() {
        return json(&response).await.map_err(|e| SignInError::Network(format!("unexpected token response: {e}")));
    }
    match json::<TokenErrorBody>(&response).await {
        Ok(body) => Err(SignInError::Provider(ProviderError::from(body))),
        Err(_) => Err(SignInError::Network(format!("token endpoint answered {}", response.status()))),
    }
}

/// A refusal by the API, or a failure to reach it.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiFailure {
    /// 401: the session's token is no longer accepted.
    Unauthorized(ApiError),
    /// Another refusal, explained by the API.
    Refused(ApiError),
    /// No answer, or one that is not the API's.
    Unreachable(String),
}

/// `GET /api/me` with the access token.
pub async fn me(token: &AccessToken) -> Result<Me, ApiFailure> {
    let response = within_deadline(Request::get("/api/me"))
        .header("Authorization", &format!("Bearer {}", token.secret()))
        .send()
        .await
        .map_err(|e| ApiFailure::Unreachable(unanswered(e)))?;
    if response.ok() {
        return json(&response).await.map_err(ApiFailure::Unreachable);
    }
    let status = response.status();
    let error: ApiError =
        json(&response).await.map_err(|_| ApiFailure::Unreachable(format!("the API answered {status}")))?;
    Err(if status == 401 { ApiFailure::Unauthorized(error) } else { ApiFailure::Refused(error) })
}
