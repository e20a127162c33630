//! The network, plainly: one request and its whole answer, within a deadline (`exchange`),
//! and the runtime configuration. The token endpoint ([`crate::auth::token_endpoint`]) and the
//! API ([`crate::api`]) are read over it.

use channels_protocol::wire::SpaConfig;
use gloo_net::http::{Request, RequestBuilder};
use serde::de::DeserializeOwned;
use web_sys::AbortSignal;

/// How long a request may go unanswered, body included. A fetch waits forever by itself, and
/// the page would say "Loading…" for as long.
pub const ANSWER_WITHIN_SECONDS: u32 = 15;

/// A whole answer: its status, its body, and its `WWW-Authenticate` challenge, if any.
pub(crate) struct WholeResponse {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) challenge: Option<String>,
}

impl WholeResponse {
    pub(crate) fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as a `T`.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_str(&self.body).map_err(|e| e.to_string())
    }
}

/// Why an [`exchange`] has no whole answer.
pub(crate) struct Unanswered {
    /// The answer's status, when its headers came but its body did not.
    pub(crate) status: Option<u16>,
    error: gloo_net::Error,
}

impl Unanswered {
    /// Whether the deadline ran out. Chromium rejects with the deadline's own `TimeoutError`;
    /// an `AbortError` (from engines that do not pass the reason on) can only be the deadline
    /// too: nothing else aborts these requests.
    pub(crate) fn timed_out(&self) -> bool {
        matches!(&self.error, gloo_net::Error::JsError(e) if e.name == "TimeoutError" || e.name == "AbortError")
    }

    /// Why, in words: "no answer within 15 seconds", or the browser's error.
    pub(crate) fn reason(&self) -> String {
        match self.status {
            _ if self.timed_out() => format!("no answer within {ANSWER_WITHIN_SECONDS} seconds"),
            Some(status) => format!("an answer ({status}) whose body could not be read: {}", self.error),
            None => self.error.to_string(),
        }
    }
}

/// Sends `request` (with `body`, if any) and reads its whole answer. The browser aborts it when
/// that takes longer than [`ANSWER_WITHIN_SECONDS`], also when the body stalls after the headers.
pub(crate) async fn exchange(request: RequestBuilder, body: Option<&str>) -> Result<WholeResponse, Unanswered> {
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
    Ok(WholeResponse { status, body, challenge })
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
