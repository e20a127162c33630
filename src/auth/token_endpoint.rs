//! Entra's token endpoint and signing keys, as the SPA reaches them: cross-origin, with no
//! secret, over the browser's plain request ([`crate::browser::http`]).

use channels_protocol::provider_error::ProviderError;
use channels_protocol::token::{Jwks, TokenErrorBody, TokenRequestBody, TokenResponse};
use gloo_net::http::Request;

use super::SignInError;
use crate::browser::http::exchange;

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
pub async fn keys(url: &str) -> Result<Jwks, String> {
    let answer = exchange(Request::get(url), None).await.map_err(|why| format!("{url}: {}", why.reason()))?;
    if !answer.ok() {
        return Err(format!("{url}: expected 200 (found {})", answer.status));
    }
    answer.json().map_err(|e| format!("{url}: expected a JSON Web Key Set ({e})"))
}
