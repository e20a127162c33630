//! The file as written: one typed section per table, every key optional, unknown keys refused
//! (a typo must not pass), and the defaults of every key in one place ([`defaults`]). serde
//! parses what has a type of its own (socket addresses, the log format, numbers, flags), so a
//! wrong value in the file is a TOML error that points at its line; the Entra values (GUIDs,
//! origins, clouds) are text here and checked by [`super::entra`], whose errors name the key and
//! the portal step that gives the right value.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// What a key is when neither the file nor the environment sets it.
pub mod defaults {
    /// `server.listen`.
    pub const LISTEN: &str = "127.0.0.1:9300";
    /// `server.shutdown_drain_seconds`.
    pub const DRAIN_SECONDS: u64 = 5;
    /// `server.shutdown_grace_seconds`.
    pub const GRACE_SECONDS: u64 = 30;
    /// `server.spa_dir`: this folder, when it holds a built SPA.
    pub const SPA_DIR: &str = "dist";
    /// `database.url`.
    pub const DATABASE_URL: &str = "sqlite://channels.db?mode=rwc";
    /// `members.default_roles`.
    pub const DEFAULT_ROLE: &str = "member";
    /// `entra.authority`.
    pub const AUTHORITY: &str = "https://login.microsoftonline.com";
    /// `entra.scope`.
    pub const SCOPE: &str = "UserProfile.ReadWrite";
    /// `entra.token_versions`.
    pub const TOKEN_VERSION: &str = "2.0";
    /// `entra.clock_skew_seconds`.
    pub const CLOCK_SKEW_SECONDS: u64 = 300;
}

/// The log lines' format (`log.format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One line of text per event, for people.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub server: RawServer,
    pub entra: RawEntra,
    pub channels: Vec<RawChannel>,
    pub database: RawDatabase,
    pub members: RawMembers,
    pub spa: RawSpa,
    pub log: RawLog,
    pub metrics: RawMetrics,
    pub step_up: RawStepUp,
    pub native_client: RawNativeClient,
}

/// `[server]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<SocketAddr>,
    pub workers: Option<std::num::NonZeroUsize>,
    pub spa_dir: Option<PathBuf>,
    pub allowed_origins: Option<Vec<String>>,
    pub shutdown_drain_seconds: Option<u64>,
    pub shutdown_grace_seconds: Option<u64>,
    pub trust_request_id: Option<bool>,
}

/// `[entra]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntra {
    pub authority: Option<String>,
    pub cloud: Option<String>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub allowed_tenants: Option<Vec<String>>,
    pub audiences: Option<Vec<String>>,
    pub allowed_client_apps: Option<Vec<String>>,
    pub scope: Option<String>,
    pub token_versions: Option<Vec<String>>,
    pub clock_skew_seconds: Option<u64>,
    pub ca_file: Option<PathBuf>,
}

/// One `[[channels]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannel {
    pub name: String,
    pub tenant: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// `[database]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    pub url: Option<String>,
}

/// `[members]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMembers {
    pub default_roles: Option<Vec<String>>,
}

/// `[spa]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpa {
    pub scope: Option<String>,
    pub domain_hint: Option<String>,
    pub login_hint: Option<String>,
    pub implicit_flow: Option<bool>,
    #[serde(default)]
    pub profiles: Vec<RawProfile>,
}

/// One `[[spa.profiles]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub name: String,
    pub tenant_id: String,
    pub client_id: String,
    pub domain_hint: Option<String>,
    pub login_hint: Option<String>,
    #[serde(default)]
    pub implicit_flow: bool,
}

/// `[log]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub format: Option<LogFormat>,
}

/// `[metrics]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    pub listen: Option<SocketAddr>,
}

/// `[native_client]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNativeClient {
    pub enabled: Option<bool>,
    pub device_code: Option<bool>,
}

/// `[step_up]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStepUp {
    pub profile: Option<String>,
    #[serde(default)]
    pub tenants: BTreeMap<String, String>,
    pub other_tenants: Option<String>,
}
