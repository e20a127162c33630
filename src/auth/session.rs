//! The signed-in session of one tab, and when to renew it.
//!
//! The access token lives in memory only. What survives a reload is a [`StoredSession`] in the
//! tab's `sessionStorage`: the user's name and the refresh token, which renews the access token
//! at start-up and [`RENEW_BEFORE`] seconds before it expires. Entra rotates refresh tokens; the
//! newest one always replaces the old. A session of the implicit flow has no refresh token: a
//! top-level silent sign-in renews it, at the same times.

use channels_protocol::authorize::Account;
use channels_protocol::logout::LogoutId;
use channels_protocol::secret::{AccessToken, RefreshToken};
use channels_protocol::token::TokenResponse;
use serde::{Deserialize, Serialize};

/// Renew this many seconds before the access token expires.
pub const RENEW_BEFORE: u64 = 5 * 60;

/// After a silent sign-in, wait this long before another: a failing one cannot loop.
pub const SILENT_RETRY_AFTER: u64 = 10 * 60;

/// Seconds between tries of a renewal that could not reach Entra, while the page's access token
/// still works.
pub const RENEWAL_RETRY_AFTER: u64 = 30;

/// How to get a fresh session when renewal with the refresh token failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// A top-level `prompt=none` sign-in: Entra's own session brings the user back unseen.
    Silent,
    /// The user signs in again.
    Interactive,
}

/// Entra rejected the refresh token (`refresh_rejected`: `invalid_grant`, such as AADSTS700084
/// at the SPA's fixed 24 hours): try once silently, unless a silent sign-in was tried in the
/// last [`SILENT_RETRY_AFTER`] seconds. Anything else (the network, Entra down) is not cured
/// by a redirect.
pub fn recovery(refresh_rejected: bool, last_silent_attempt: Option<u64>, now: u64) -> Recovery {
    let tried_lately = last_silent_attempt.is_some_and(|at| now.saturating_sub(at) < SILENT_RETRY_AFTER);
    if refresh_rejected && !tried_lately {
        Recovery::Silent
    } else {
        Recovery::Interactive
    }
}

/// A live session.
#[derive(Debug)]
pub struct Session {
    /// The bearer token for the API (memory only).
    pub access_token: AccessToken,
    /// When it expires (seconds since the epoch).
    pub expires_at: u64,
    /// What survives a reload.
    pub stored: StoredSession,
}

/// The part of a session kept in `sessionStorage`: never the access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredSession {
    /// The newest refresh token, when `offline_access` was granted.
    pub refresh_token: Option<RefreshToken>,
    /// Display name from the ID token.
    pub name: String,
    /// Who signed in, from the ID token: a silent sign-in must bring back this account. A
    /// session stored without it (by an older version) does not load: the user signs in again.
    pub account: Account,
    /// The client id of the registration that issued the refresh token.
    #[serde(default)]
    pub client_id: String,
    /// The ID token's issuer and `sid`, which a front-channel logout must name to end this
    /// session (`None` when the ID token had no `sid`).
    #[serde(default)]
    pub logout_id: Option<LogoutId>,
    /// Signed in with the implicit flow: no refresh token, renewed by a silent sign-in.
    #[serde(default)]
    pub implicit_flow: bool,
}

impl Session {
    /// A session from a token response, for the user named in `previous`; a rotated refresh
    /// token in the response replaces the previous one.
    pub fn new(tokens: TokenResponse, previous: &StoredSession, now: u64) -> Self {
        let refresh_token =
            tokens.refresh_token.or_else(|| previous.refresh_token.as_ref().map(|t| RefreshToken::new(t.secret())));
        let stored = StoredSession {
            refresh_token,
            name: previous.name.clone(),
            account: previous.account.clone(),
            client_id: previous.client_id.clone(),
            logout_id: previous.logout_id.clone(),
            implicit_flow: previous.implicit_flow,
        };
        Self { access_token: tokens.access_token, expires_at: now + tokens.expires_in, stored }
    }

    /// Seconds from `now` until the access token should be renewed (0: now), or `None` when it
    /// cannot be (no refresh token, outside the implicit flow).
    pub fn renew_in(&self, now: u64) -> Option<u64> {
        (self.stored.refresh_token.is_some() || self.stored.implicit_flow)
            .then(|| self.expires_at.saturating_sub(RENEW_BEFORE).saturating_sub(now))
    }

    /// After a renewal that could not reach Entra: seconds until the next try, while the access
    /// token outlives that wait; `None` when it does not (the user is then asked).
    pub fn retry_renewal_in(&self, now: u64) -> Option<u64> {
        (now + RENEWAL_RETRY_AFTER < self.expires_at).then_some(RENEWAL_RETRY_AFTER)
    }
}
