//! The API's configuration, parsed once from the environment into typed values.
//!
//! With no environment at all it serves the demo tenant against the emulator on
//! 127.0.0.1:9400, so `channels-api` runs alone with no arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use channels_protocol::wire::RuntimeConfig;

use crate::channels::ChannelMap;

/// The demo tenant (the emulator's built-in directory).
pub const DEMO_TENANT_ID: &str = "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
/// The demo app registration's client id.
pub const DEMO_CLIENT_ID: &str = "6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d";
/// The scope the API requires in `scp`.
pub const DEFAULT_SCOPE: &str = "UserProfile.ReadWrite";

/// Clock skew accepted on `exp` and `nbf`, in seconds: Microsoft.Identity.Web's default, so a
/// token that a .NET API accepts is accepted here too.
pub const CLOCK_SKEW: u64 = 300;

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The identity provider's origin (`https://login.microsoftonline.com`, or the emulator's).
    pub authority: Authority,
    /// The tenant whose tokens are accepted.
    pub tenant_id: String,
    /// The app registration's client id (the v2 `aud`).
    pub client_id: String,
    /// The delegated scope every call needs.
    pub scope: String,
    /// The built SPA to serve, if any.
    pub spa_dir: Option<PathBuf>,
    /// Which groups grant which channels.
    pub channels: ChannelMap,
}

/// An identity provider origin: `https://…`, or `http://` on loopback only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority(String);

impl Authority {
    /// Parses an origin, refusing plain HTTP anywhere but loopback, and anything beyond
    /// `scheme://host[:port]` (user info, path, query, fragment): the value ends up in key
    /// fetches and in the Content Security Policy.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let error = || {
            ConfigError {
            key: "ENTRA_AUTHORITY",
            expected: "an origin such as https://login.microsoftonline.com (http:// only on 127.0.0.1, [::1] or localhost), with no path",
            found: value.to_owned(),
        }
        };
        let url = reqwest::Url::parse(value).map_err(|_| error())?;
        let bare = url.username().is_empty()
            && url.password().is_none()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none();
        let loopback = match url.host() {
            Some(url::Host::Domain(name)) => name == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        let allowed = match url.scheme() {
            "https" => url.host().is_some(),
            "http" => loopback,
            _ => false,
        };
        if bare && allowed {
            Ok(Self(url.origin().ascii_serialization()))
        } else {
            Err(error())
        }
    }

    /// The origin text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The environment variable.
    pub key: &'static str,
    /// What it should hold.
    pub expected: &'static str,
    /// What it held.
    pub found: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {} (found {:?})",
            self.key, self.expected, self.found
        )
    }
}

impl std::error::Error for ConfigError {}

impl ApiConfig {
    /// The demo configuration: demo tenant, emulator on 127.0.0.1:9400, API on 127.0.0.1:9300.
    pub fn demo() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9300)),
            authority: Authority("http://127.0.0.1:9400".to_owned()),
            tenant_id: DEMO_TENANT_ID.to_owned(),
            client_id: DEMO_CLIENT_ID.to_owned(),
            scope: DEFAULT_SCOPE.to_owned(),
            spa_dir: None,
            channels: ChannelMap::demo(),
        }
    }

    /// The demo configuration with each environment variable that is set applied over it:
    /// `CHANNELS_API_ADDR`, `ENTRA_AUTHORITY`, `ENTRA_TENANT_ID`, `ENTRA_CLIENT_ID`,
    /// `CHANNELS_SPA_DIR` (default `dist` when it exists).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = Self::demo();
        if let Some(addr) = var("CHANNELS_API_ADDR") {
            config.listen = addr.parse().map_err(|_| ConfigError {
                key: "CHANNELS_API_ADDR",
                expected: "a socket address such as 127.0.0.1:9300",
                found: addr.clone(),
            })?;
        }
        if let Some(authority) = var("ENTRA_AUTHORITY") {
            config.authority = Authority::parse(&authority)?;
        }
        if let Some(tenant) = var("ENTRA_TENANT_ID") {
            config.tenant_id = guid(&tenant, "ENTRA_TENANT_ID")?;
        }
        if let Some(client) = var("ENTRA_CLIENT_ID") {
            config.client_id = guid(&client, "ENTRA_CLIENT_ID")?;
        }
        config.spa_dir = match var("CHANNELS_SPA_DIR") {
            Some(dir) => Some(PathBuf::from(dir)),
            None => Some(PathBuf::from("dist")).filter(|dir| dir.join("index.html").is_file()),
        };
        Ok(config)
    }

    /// The App ID URI: `api://<client id>`.
    pub fn app_id_uri(&self) -> String {
        format!("api://{}", self.client_id)
    }

    /// The full scope the SPA asks for: `api://<client id>/UserProfile.ReadWrite`.
    pub fn full_scope(&self) -> String {
        format!("{}/{}", self.app_id_uri(), self.scope)
    }

    /// What the SPA loads at start-up.
    pub fn runtime_config(&self) -> RuntimeConfig {
        RuntimeConfig {
            authority: self.authority.as_str().to_owned(),
            tenant_id: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            api_scope: self.full_scope(),
        }
    }
}

fn guid(value: &str, key: &'static str) -> Result<String, ConfigError> {
    let shape = [8, 4, 4, 4, 12];
    let parts: Vec<&str> = value.split('-').collect();
    let ok = parts.len() == 5
        && parts
            .iter()
            .zip(shape)
            .all(|(part, len)| part.len() == len && part.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(ConfigError {
            key,
            expected: "a GUID from the app registration's Overview page in the Entra portal",
            found: value.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_environment_gives_the_demo() {
        let config = ApiConfig::from_env(|_| None).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:9300");
        assert_eq!(
            config.runtime_config().api_scope,
            format!("api://{DEMO_CLIENT_ID}/UserProfile.ReadWrite")
        );
    }

    #[test]
    fn authority_is_https_or_loopback_http() {
        assert_eq!(
            Authority::parse("https://login.microsoftonline.com/")
                .unwrap()
                .as_str(),
            "https://login.microsoftonline.com"
        );
        assert!(Authority::parse("http://127.0.0.1:9400").is_ok());
        assert!(Authority::parse("http://localhost").is_ok());
        for bad in [
            "http://login.microsoftonline.com",
            "http://127.0.0.1.evil:1",
            "https://x/path",
            "ftp://x",
            "",
        ] {
            let error = Authority::parse(bad).unwrap_err();
            assert_eq!(error.found, bad.trim_end_matches('/'), "{bad}");
        }
    }

    #[test]
    fn bad_values_say_what_was_expected_and_found() {
        let error =
            ApiConfig::from_env(|key| (key == "ENTRA_CLIENT_ID").then(|| "my-app".to_owned()))
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "ENTRA_CLIENT_ID: expected a GUID from the app registration's Overview page in the Entra portal (found \"my-app\")"
        );
    }
}
