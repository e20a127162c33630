//! The device authorization grant (RFC 8628), for a client with no browser of its own: the
//! request for a code, Entra's answer (the code the user types, and the message to show
//! them), and the token request the device polls with, and what each poll's error means.

use serde::Deserialize;

use crate::authorize::OIDC_SCOPES;
use crate::token::TokenRequestBody;
use crate::wire::RuntimeConfig;

/// The grant type of the token requests that poll (RFC 8628 §3.4).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

crate::secret_type!(
    /// The code the device polls with (not the one the user types).
    DeviceCode
);

/// Entra's answer at `/devicecode`.
#[derive(Debug, Deserialize)]
pub struct DeviceAuthorization {
    /// The code the user types at the verification page.
    pub user_code: String,
    /// The code the device polls with.
    pub device_code: DeviceCode,
    /// Where the user signs in (`https://microsoft.com/devicelogin` at Entra).
    pub verification_uri: String,
    /// Seconds until the codes expire.
    pub expires_in: u64,
    /// Seconds to wait between polls.
    #[serde(default = "default_interval")]
    pub interval: u64,
    /// What to show the user, in Entra's words.
    pub message: String,
}

fn default_interval() -> u64 {
    5
}

/// `{authority}/{tenant}/oauth2/v2.0/devicecode`.
pub fn endpoint(config: &RuntimeConfig) -> String {
    format!("{}/{}/oauth2/v2.0/devicecode", config.authority.trim_end_matches('/'), config.tenant_id)
}

/// The form body of the device authorization request: the same scopes as the code flow's.
pub fn request_body(config: &RuntimeConfig) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &config.client_id)
        .append_pair("scope", &format!("{OIDC_SCOPES} {}", config.api_scope))
        .finish()
}

impl TokenRequestBody {
    /// `grant_type=urn:ietf:params:oauth:grant-type:device_code`: one poll.
    pub fn device_code(client_id: &str, device_code: &DeviceCode) -> Self {
        Self::from_encoded(
            form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", client_id)
                .append_pair("grant_type", GRANT_TYPE)
                .append_pair("device_code", device_code.secret())
                .finish(),
        )
    }
}

/// What a poll's OAuth `error` means for the device (RFC 8628 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// The user has not signed in yet: poll again after the interval.
    Pending,
    /// Polling too fast: add five seconds to the interval, then poll again.
    SlowDown,
    /// Anything else ends the sign-in.
    Failed,
}

impl Poll {
    /// The meaning of the token endpoint's `error` during a device sign-in.
    pub fn of(error: &str) -> Self {
        match error {
            "authorization_pending" => Self::Pending,
            "slow_down" => Self::SlowDown,
            _ => Self::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RuntimeConfig {
        RuntimeConfig {
            authority: "https://login.microsoftonline.com/".into(),
            tenant_id: "contoso.onmicrosoft.com".into(),
            client_id: "c1".into(),
            api_scope: "api://c1/UserProfile.ReadWrite".into(),
            hints: Default::default(),
            implicit_flow: false,
            cloud: Default::default(),
        }
    }

    #[test]
    fn the_request_asks_for_the_code_flows_scopes_at_entras_path() {
        assert_eq!(
            endpoint(&config()),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode"
        );
        assert_eq!(
            request_body(&config()),
            "client_id=c1&scope=openid+profile+offline_access+api%3A%2F%2Fc1%2FUserProfile.ReadWrite"
        );
        let poll = TokenRequestBody::device_code("c1", &DeviceCode::new("DAQ+/x".to_owned()));
        assert_eq!(
            poll.as_str(),
            "client_id=c1&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=DAQ%2B%2Fx"
        );
        assert!(!format!("{poll:?}").contains("DAQ"), "the device code is a secret");
    }

    #[test]
    fn entras_answer_is_read_and_each_poll_error_says_what_to_do() {
        let answer: DeviceAuthorization = serde_json::from_str(
            r#"{"user_code":"GWAXHZJ4M","device_code":"DAQABAA","verification_uri":"https://microsoft.com/devicelogin",
                "expires_in":900,"interval":5,"message":"To sign in, use a web browser…"}"#,
        )
        .unwrap();
        assert_eq!((answer.user_code.as_str(), answer.expires_in, answer.interval), ("GWAXHZJ4M", 900, 5));
        assert_eq!(answer.device_code.secret(), "DAQABAA");
        assert!(!format!("{answer:?}").contains("DAQABAA"));
        assert_eq!(Poll::of("authorization_pending"), Poll::Pending);
        assert_eq!(Poll::of("slow_down"), Poll::SlowDown);
        for ended in ["expired_token", "authorization_declined", "bad_verification_code", "invalid_client"] {
            assert_eq!(Poll::of(ended), Poll::Failed, "{ended}");
        }
    }
}
