//! The signed-in session of one tab.

use channels_protocol::secret::AccessToken;
use channels_protocol::token::{IdTokenClaims, TokenResponse};
use serde::{Deserialize, Serialize};

/// Who is signed in, and the token to call the API with. The refresh token Entra returns is
/// not kept: nothing renews the session yet, and a refresh token unused is only a risk.
#[derive(Debug, Serialize, Deserialize)]
pub struct Session {
    /// The bearer token for the API.
    pub access_token: AccessToken,
    /// When it expires (seconds since the epoch).
    pub expires_at: u64,
    /// Display name from the ID token.
    pub name: String,
    /// Sign-in name from the ID token.
    pub username: String,
}

impl Session {
    /// A session from a token response and its checked ID token.
    pub fn new(tokens: TokenResponse, identity: IdTokenClaims, now: u64) -> Self {
        Self {
            access_token: tokens.access_token,
            expires_at: now + tokens.expires_in,
            name: identity.name.unwrap_or_default(),
            username: identity.preferred_username.unwrap_or_default(),
        }
    }

    /// Whether the access token has expired.
    pub fn is_expired(&self, now: u64) -> bool {
        now >= self.expires_at
    }
}
