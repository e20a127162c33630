//! The Channels API, as the signed-in page calls it: `GET /api/me` and `PUT /api/me/profile`
//! with the access token, and what the page reads of their answers.

use channels_protocol::secret::AccessToken;
use channels_protocol::wire::{ApiError, Notice};
use gloo_net::http::Request;
use serde::Deserialize;

use crate::browser::http::exchange;

/// What an admin checks when the API does not answer as itself.
pub const UNREACHABLE_FIX: &str = "Admin: check that channels-api is running and that this site's web server forwards \
                                   /api/ to it (docs/architecture.md, Running it for real); then try again.";

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
