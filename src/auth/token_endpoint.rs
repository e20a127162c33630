//! Entra's token endpoint and signing keys, as the SPA reaches them: cross-origin, with no
//! secret, over the browser's plain request ([`crate::browser::http`]).

use channels_protocol::provider_error::ProviderError;
use channels_protocol::token::{Jwks, TokenErrorBody, TokenRequestBody, TokenResponse};
use gloo_net::http::Request;

use crate::browser::http::exchange;

/// Why a token request has no tokens.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenEndpointError {
    /// No answer within [`crate::browser::http::ANSWER_WITHIN_SECONDS`].
    TimedOut,
    /// The browser could not reach it, or was not allowed to (a refused cross-origin request
    /// and an unreachable host fail alike, and have one fix).
    Unreachable,
    /// An answer that is not Entra's, in words.
    Network(String),
    /// Entra refused.
    Provider(ProviderError),
}

/// Redeems a code (or a refresh token) at Entra's token endpoint: a cross-origin POST with no
/// secret.
pub async fn redeem(token_endpoint: &str, body: &TokenRequestBody) -> Result<TokenResponse, TokenEndpointError> {
    let request = Request::post(token_endpoint).header("Content-Type", "application/x-www-form-urlencoded");
    let answer = exchange(request, Some(body.as_str())).await.map_err(|why| match why.status {
        _ if why.timed_out() => TokenEndpointError::TimedOut,
        None => TokenEndpointError::Unreachable,
        Some(_) => TokenEndpointError::Network("the token endpoint sent ".to_owned() + &why.reason()),
    })?;
    if answer.ok() {
        return answer.json().map_err(|e| TokenEndpointError::Network(format!("unexpected token response: {e}")));
    }
    match answer.json::<TokenErrorBody>() {
        Ok(body) => Err(TokenEndpointError::Provider(ProviderError::from(body))),
        Err(_) => Err(TokenEndpointError::Network(format!("token endpoint answered {}", answer.status))),
    }
}

/// The tenant's signing keys, from Entra's `jwks_uri` (cross-origin: Entra allows any origin).
pub async fn keys(url: &str) -> Result<Jwks, String> {
    let answer = exchange(Request::get(url), None).await.map_err(|why| format!("{url}: {}", why.reason()))?;
    if !answer.ok() {
        return Err(format!("{url}: expected 200 (found {})", answer.status));
    }
    answer.json().map_err(|e| format!("{url}: expected a JSON Web Key Set ({e})"))
}
