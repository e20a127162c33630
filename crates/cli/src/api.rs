//! The Channels API, called as the SPA calls it: `GET /api/me` with the access token.

use channels_protocol::secret::AccessToken;
use channels_protocol::wire::{ApiError, Me};

use crate::error::CliError;

/// `GET {api}/api/me`: the user, their channels, and the API's JSON as it came.
pub async fn me(http: &reqwest::Client, api: &str, token: &AccessToken) -> Result<(Me, serde_json::Value), CliError> {
    let url = format!("{api}/api/me");
    let answer = http.get(&url).bearer_auth(token.secret()).send().await.map_err(|e| CliError::unreachable(&url, e))?;
    let status = answer.status();
    let json: serde_json::Value =
        answer.json().await.map_err(|e| CliError(format!("expected the API's answer at {url} (found {e})")))?;
    if !status.is_success() {
        let refusal: Option<ApiError> = serde_json::from_value(json.clone()).ok();
        return Err(match refusal {
            Some(ApiError { message, fix: Some(fix), .. }) => CliError(format!("{message}\nFix: {fix}")),
            Some(ApiError { message, .. }) => CliError(message),
            None => CliError(format!("expected your channels from {url} (found HTTP {status})")),
        });
    }
    let me = serde_json::from_value(json.clone())
        .map_err(|e| CliError(format!("expected your channels from {url} (found {e})")))?;
    Ok((me, json))
}
