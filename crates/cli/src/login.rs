//! Signing in and staying signed in, with the organisation's registration as a native client:
//! the authorization code flow with PKCE through the system browser and a loopback redirect
//! (RFC 8252), the device code flow where there is no browser (RFC 8628), and the refresh that
//! gives every later command a fresh access token. The steps the SPA shares (the authorize
//! URL, the callback's checks, the token requests, the ID token's checks) come from
//! `channels_protocol`; this module does the I/O around them.

use std::time::Duration;

use channels_protocol::authorize::{start_native, LoginEntropy, OIDC_SCOPES};
use channels_protocol::callback::complete;
use channels_protocol::device::{self, DeviceAuthorization, Poll};
use channels_protocol::provider_error::ProviderError;
use channels_protocol::secret::RefreshToken;
use channels_protocol::token::{
    check_device_id_token, check_id_token, id_token_claims, IdTokenClaims, TokenErrorBody, TokenRequestBody,
    TokenResponse,
};
use channels_protocol::wire::RuntimeConfig;

use crate::error::CliError;
use crate::loopback::Loopback;

/// A completed sign-in: the tokens, and who signed in (the ID token's checked claims).
pub struct SignedIn {
    /// The token response.
    pub tokens: TokenResponse,
    /// The ID token's claims.
    pub who: IdTokenClaims,
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).expect("the operating system's random source");
    bytes
}

/// The authorization code flow: opens the system browser on the authorize URL (`$BROWSER`
/// when set), takes the answer on the loopback listener within `timeout`, and redeems the code.
pub async fn with_browser(
    http: &reqwest::Client,
    config: &RuntimeConfig,
    timeout: Duration,
) -> Result<SignedIn, CliError> {
    let loopback = Loopback::bind().await?;
    let entropy = LoginEntropy { verifier: random(), state: random(), nonce: random() };
    let login = start_native(config, &loopback.redirect_uri(), &entropy, now());
    let waiting = loopback.listen(login.pending.state.secret());
    eprintln!("Signing in in your browser. If it does not open, open this address:\n{}", login.url);
    // A browser command may run until the browser closes: it is not waited for, not even when
    // the command ends (a detached thread, not the runtime's blocking pool).
    let url = login.url.clone();
    std::thread::spawn(move || {
        if let Err(error) = webbrowser::open(&url) {
            eprintln!("(no browser opened: {error})");
        }
    });
    let callback = waiting.answer(timeout).await?;
    let redemption =
        complete(login.pending, callback, &config.client_id, now()).map_err(|e| CliError(e.to_string()))?;
    let tokens = redeem(http, config, &redemption.form).await?;
    let who =
        check_id_token(id_token_of(&tokens)?, config, &redemption.nonce, now()).map_err(|e| CliError(e.to_string()))?;
    Ok(SignedIn { tokens, who })
}

/// The device code flow: shows Entra's message on standard error, then polls until the user
/// has signed in elsewhere, the code expires, or Entra refuses.
pub async fn with_device_code(http: &reqwest::Client, config: &RuntimeConfig) -> Result<SignedIn, CliError> {
    let url = device::endpoint(config);
    let answer = http
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(device::request_body(config))
        .send()
        .await
        .map_err(|e| CliError::unreachable("Entra", e))?;
    if !answer.status().is_success() {
        return Err(refused(answer).await);
    }
    let authorization: DeviceAuthorization =
        answer.json().await.map_err(|e| CliError(format!("expected Entra's device code (found {e})")))?;
    eprintln!("{}", authorization.message);
    let deadline = now() + authorization.expires_in;
    let mut interval = authorization.interval.max(1);
    let poll = TokenRequestBody::device_code(&config.client_id, &authorization.device_code);
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        let answer = post_token(http, config, &poll).await?;
        if answer.status().is_success() {
            let tokens: TokenResponse =
                answer.json().await.map_err(|e| CliError(format!("expected Entra's tokens (found {e})")))?;
            let who =
                check_device_id_token(id_token_of(&tokens)?, config, now()).map_err(|e| CliError(e.to_string()))?;
            return Ok(SignedIn { tokens, who });
        }
        let body = error_body(answer).await?;
        match Poll::of(&body.error) {
            Poll::Pending if now() < deadline => {}
            Poll::Pending => {
                return Err(CliError(
                    "expected a sign-in with the code within 15 minutes (found none): run `channels login \
                     --device-code` again and enter the new code"
                        .to_owned(),
                ))
            }
            Poll::SlowDown => interval += 5,
            Poll::Failed => return Err(explained_for_device(ProviderError::from(body))),
        }
    }
}

/// A fresh access token for the holder of `refresh_token` (and the refresh token that
/// replaces it). A refresh token Entra no longer honours says to sign in again.
pub async fn refresh(
    http: &reqwest::Client,
    config: &RuntimeConfig,
    refresh_token: &RefreshToken,
) -> Result<TokenResponse, CliError> {
    let scope = format!("{OIDC_SCOPES} {}", config.api_scope);
    let body = TokenRequestBody::refresh_token(&config.client_id, refresh_token, &scope);
    let answer = post_token(http, config, &body).await?;
    if answer.status().is_success() {
        return answer.json().await.map_err(|e| CliError(format!("expected Entra's tokens (found {e})")));
    }
    let body = error_body(answer).await?;
    // Ended (expired, revoked) or in need of a new interactive sign-in (Conditional Access,
    // sign-in frequency): either way the terminal signs in again.
    if matches!(body.error.as_str(), "invalid_grant" | "interaction_required") {
        let error = ProviderError::from(body);
        return Err(CliError(format!(
            "expected a sign-in Entra still honours (found it ended: {}): run `channels login` again",
            error.description.lines().next().unwrap_or_default()
        )));
    }
    Err(explained(ProviderError::from(body)))
}

/// Redeems a code flow's token request.
async fn redeem(
    http: &reqwest::Client,
    config: &RuntimeConfig,
    body: &TokenRequestBody,
) -> Result<TokenResponse, CliError> {
    let answer = post_token(http, config, body).await?;
    if !answer.status().is_success() {
        return Err(refused(answer).await);
    }
    answer.json().await.map_err(|e| CliError(format!("expected Entra's tokens (found {e})")))
}

/// A token request, as a native client sends it: no `Origin`, no secret.
async fn post_token(
    http: &reqwest::Client,
    config: &RuntimeConfig,
    body: &TokenRequestBody,
) -> Result<reqwest::Response, CliError> {
    http.post(config.token_endpoint())
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.as_str().to_owned())
        .send()
        .await
        .map_err(|e| CliError::unreachable("Entra", e))
}

async fn error_body(answer: reqwest::Response) -> Result<TokenErrorBody, CliError> {
    let status = answer.status();
    answer.json().await.map_err(|e| CliError(format!("expected Entra's error (found HTTP {status}: {e})")))
}

async fn refused(answer: reqwest::Response) -> CliError {
    match error_body(answer).await {
        Ok(body) => explained(ProviderError::from(body)),
        Err(error) => error,
    }
}

/// Entra's refusal, with its meaning and fix when the code is a known one, and its words.
fn explained(error: ProviderError) -> CliError {
    let first = error.description.lines().next().unwrap_or_default().to_owned();
    match error.known() {
        Some(known) => CliError(format!("{} {}\n({first})", known.meaning, known.fix)),
        None => CliError(format!("Entra refused the sign-in: {first}")),
    }
}

/// The claims of the sign-in's ID token: it must come, since `openid` was asked.
fn id_token_of(tokens: &TokenResponse) -> Result<IdTokenClaims, CliError> {
    let id_token = tokens.id_token.as_ref().ok_or_else(|| {
        CliError("expected an ID token with the tokens (found none): the sign-in proves nothing of who you are".into())
    })?;
    id_token_claims(id_token).map_err(|e| CliError(e.to_string()))
}

/// Entra's refusal of a device sign-in: without *Allow public client flows* (AADSTS7000218),
/// the portal switch; otherwise as any refusal.
fn explained_for_device(error: ProviderError) -> CliError {
    if error.aadsts == Some(7000218) {
        let first = error.description.lines().next().unwrap_or_default();
        return CliError(format!(
            "The app registration does not allow public client flows, which the device code sign-in needs. Admin: \
             App registrations → this app → Authentication → Advanced settings → Allow public client flows → Yes \
             (native_client.device_code = true); or sign in with `channels login` in a browser, which needs no \
             such switch.\n({first})"
        ));
    }
    explained(error)
}
