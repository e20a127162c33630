//! The network: the runtime configuration, the token endpoint and the API.

use channels_protocol::provider_error::ProviderError;
use channels_protocol::secret::AccessToken;
use channels_protocol::token::{TokenErrorBody, TokenRequestBody, TokenResponse};
use channels_protocol::wire::{ApiError, Notice, SpaConfig};
use gloo_net::http::{Request, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use web_sys::AbortSignal;

use crate::auth::SignInError;

/// How long a request may go unanswered, body included. A fetch waits forever by itself, and
/// the page would say "Loading…" for as long.
pub const ANSWER_WITHIN_SECONDS: u32 = 15;

/// A whole answer: its status, its body, and its `WWW-Authenticate` challenge, if any.
struct Answer {
    status: u16,
    body: String,
    challenge: Option<String>,
}

impl Answer {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as a `T`.
    fn json<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_str(&self.body).map_err(|e| e.to_string())
    }
}

/// Why an [`exchange`] has no whole answer.
struct Unanswered {
    /// The answer's status, when its headers came but its body did not.
    status: Option<u16>,
    error: gloo_net::Error,
}

impl Unanswered {
    /// Whether the deadline ran out. Chromium rejects with the deadline's own `TimeoutError`;
    /// an `AbortError` (from engines that do not pass the reason on) can only be the deadline
    /// too: nothing else aborts these requests.
    fn timed_out(&self) -> bool {
        matches!(&self.error, gloo_net::Error::JsError(e) if e.name == "TimeoutError" || e.name == "AbortError")
    }

    /// Why, in words: "no answer within 15 seconds", or the browser's error.
    fn reason(&self) -> String {
        match self.status {
            _ if self.timed_out() => format!("no answer within {ANSWER_WITHIN_SECONDS} seconds"),
            Some(status) => format!("an answer ({status}) whose body could not be read: {}", self.error),
            None => self.error.to_string(),
        }
    }
}

/// Sends `request` (with `body`, if any) and reads its whole answer. The browser aborts it when
/// that takes longer than [`ANSWER_WITHIN_SECONDS`], also when the body stalls after the headers.
async fn exchange(request: RequestBuilder, body: Option<&str>) -> Result<Answer, Unanswered> {
    let unsent = |error| Unanswered { status: None, error };
    let request = request.abort_signal(Some(&AbortSignal::timeout_with_u32(ANSWER_WITHIN_SECONDS * 1000)));
    let request = match body {
        Some(body) => request.body(body),
        None => request.build(),
    }
    .map_err(unsent)?;
    let response = request.send().await.map_err(unsent)?;
    let status = response.status();
    let challenge = response.headers().get("www-authenticate");
    let body = response.text().await.map_err(|error| Unanswered { status: Some(status), error })?;
    Ok(Answer { status, body, challenge })
}

/// `GET /config.json` from the server that served the SPA.
pub async fn runtime_config() -> Result<SpaConfig, String> {
    let answer = exchange(Request::get("/config.json"), None)
        .await
        .map_err(|why| "Could not load /config.json: ".to_owned() + &why.reason())?;
    if !answer.ok() {
        return Err(format!("Could not load /config.json: expected 200 (found {})", answer.status));
    }
    answer.json().map_err(|e| format!("/config.json is not the expected configuration: {e}"))
}

/// Redeems a code at Entra's token endpoint: a cross-origin POST with no secret.
pub async fn redeem(token_endpoint: &str, body: &TokenRequestBody) -> Result<TokenResponse, SignInError> {
    let request = Request::post(token_endpoint).header("Content-Type", "application/x-www-form-urlencoded");
    let answer = exchange(request, Some(body.as_str())).await.map_err(|why| match why.status {
        _ if why.timed_out() => SignInError::TokenEndpointTimedOut,
        // A refused cross-origin request and an unreachable host fail alike, and have one fix.
        None => SignInError::TokenEndpointUnreachable,
        Some(_) => SignInError::Network("the token endpoint sent ".to_owned() + &why.reason()),
    })?;
    if answer.ok() {
        return answer.json().map_err(|e| SignInError::Network(format!("unexpected token response: {e}")));
    }
    match answer.json::<TokenErrorBody>() {
        Ok(body) => Err(SignInError::Provider(ProviderError::from(body))),
        Err(_) => Err(SignInError::Network(format!("token endpoint answered {}", answer.status))),
    }
}

/// The tenant's signing keys, from Entra's `jwks_uri` (cross-origin: Entra allows any origin).
pub async fn keys(url: &str) -> Result<channels_protocol::token::Jwks, String> {
    let answer = exchange(Request::get(url), None).await.map_err(|why| format!("{url}: {}", why.reason()))?;
    if !answer.ok() {
        return Err(format!("{url}: expected 200 (found {})", answer.status));
    }
    answer.json().map_err(|e| format!("{url}: expected a JSON Web Key Set ({e})"))
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

/// What the profile page reads of `GET /api/me` (`channels_protocol::wire::Me`); the
/// answer's other fields (the ids, the groups, the rest of the member record) are skipped unread.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MyChannels {
    /// The tenant id.
    pub tenant_id: String,
    /// The channels the user's groups grant, in the configured order.
    pub channels: Vec<String>,
    /// Why the list may be incomplete or empty.
    #[serde(default)]
    pub notice: Option<Notice>,
    /// The member record's preferences.
    #[serde(default)]
    pub member: Option<MyPreferences>,
}

/// The preferences of the member record: whatever keys they hold, kept when the form saves its own.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct MyPreferences {
    /// The stored preferences (a JSON object).
    #[serde(default)]
    pub preferences: serde_json::Map<String, serde_json::Value>,
}

/// Why saving the preferences did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveFailure {
    /// A claims challenge: the claims (JSON) a step-up sign-in must ask for.
    StepUp(String),
    /// Another refusal, explained by the API.
    Refused(ApiError),
    /// No answer, or one that is not the API's.
    Unreachable(String),
}

/// `PUT /api/me/profile` with the access token.
pub async fn save_profile(
    token: &AccessToken,
    preferences: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), SaveFailure> {
    let request = Request::put("/api/me/profile")
        .header("Authorization", &format!("Bearer {}", token.secret()))
        .header("Content-Type", "application/json");
    let body = serde_json::Value::Object(preferences.clone()).to_string();
    let answer = exchange(request, Some(&body)).await.map_err(|why| SaveFailure::Unreachable(why.reason()))?;
    if answer.ok() {
        return Ok(());
    }
    let challenge = answer.challenge.as_deref().filter(|_| answer.status == 401);
    if let Some(Ok(claims)) = challenge.map(channels_protocol::step_up::read_challenge) {
        return Err(SaveFailure::StepUp(claims));
    }
    let error: ApiError =
        answer.json().map_err(|_| SaveFailure::Unreachable(format!("the API answered {}", answer.status)))?;
    Err(SaveFailure::Refused(error))
}

/// `GET /api/me` with the access token.
pub async fn me(token: &AccessToken) -> Result<MyChannels, ApiFailure> {
    let request = Request::get("/api/me").header("Authorization", &format!("Bearer {}", token.secret()));
    let answer = exchange(request, None).await.map_err(|why| ApiFailure::Unreachable(why.reason()))?;
    if answer.ok() {
        return answer.json().map_err(ApiFailure::Unreachable);
    }
    let error: ApiError =
        answer.json().map_err(|_| ApiFailure::Unreachable(format!("the API answered {}", answer.status)))?;
    Err(if answer.status == 401 { ApiFailure::Unauthorized(error) } else { ApiFailure::Refused(error) })
}
