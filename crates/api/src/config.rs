//! The API's configuration: one TOML file (`CHANNELS_CONFIG`), environment variables over it,
//! parsed once into typed values. Invalid configuration fails at start, naming the key and what
//! it expects.
//!
//! Nothing is trusted that was not configured: the authority is
//! `https://login.microsoftonline.com` unless named, an `http:` authority is refused, and the
//! tenant and client ids are required. The demo deployment (`config/demo.toml`, against the
//! emulator on 127.0.0.1:9400) runs only when asked for, by [`DEMO_VARIABLE`] or `--demo`; then
//! a loopback `http:` authority (the emulator) is accepted too.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use channels_protocol::claims::is_guid;
use channels_protocol::cloud::Cloud;
use channels_protocol::wire::{Hints, Profile, RuntimeConfig, SpaConfig};
use serde::Deserialize;

use crate::channels::{Channel, ChannelMap, GroupRef};

/// The demo deployment, used with [`DEMO_VARIABLE`] when no file is given.
pub const DEMO_CONFIG: &str = include_str!("../config/demo.toml");
/// `CHANNELS_DEMO=1` (or `channels-api --demo`): the demo deployment when no file is given, and
/// a loopback `http:` authority (the emulator) accepted.
pub const DEMO_VARIABLE: &str = "CHANNELS_DEMO";
/// The demo tenant (the emulator's built-in directory).
pub const DEMO_TENANT_ID: &str = "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
/// The demo app registration's client id.
pub const DEMO_CLIENT_ID: &str = "6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d";

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The built SPA to serve, if any.
    pub spa_dir: Option<PathBuf>,
    /// Origins allowed to call the API cross-origin (CORS), when the SPA is hosted elsewhere.
    pub allowed_origins: Vec<String>,
    /// The identity provider's origin (`https://login.microsoftonline.com`, or the emulator's).
    pub authority: Authority,
    /// The Microsoft cloud of the tenant (`entra.cloud`, `ENTRA_CLOUD`; by default the one the
    /// authority's host names): it decides the issuers accepted.
    pub cloud: Cloud,
    /// Whether this is the demo ([`DEMO_VARIABLE`]): a local emulator is trusted.
    pub demo: bool,
    /// The `{tenant}` of the authority's URLs: a tenant GUID, `organizations` or `common`.
    pub tenant_id: String,
    /// Tenants whose tokens are accepted (`tid`).
    pub allowed_tenants: Vec<String>,
    /// The app registration's client id.
    pub client_id: String,
    /// Accepted `aud` values.
    pub audiences: Vec<String>,
    /// Client applications whose tokens are accepted (`azp`, `appid`): by default the SPA's
    /// own registration and each profile's.
    pub allowed_client_apps: Vec<String>,
    /// The delegated scope every call needs (bare name, as in `scp`).
    pub scope: String,
    /// The full scope the SPA asks Entra for (default `api://<client id>/<scope>`).
    pub spa_scope: String,
    /// The hints the default sign-in sends (`spa.domain_hint`, `spa.login_hint`).
    pub spa_hints: Hints,
    /// Whether the default sign-in uses the implicit flow (`spa.implicit_flow`,
    /// `CHANNELS_SPA_IMPLICIT_FLOW`): an opt-in, off by default, warned about at start.
    pub spa_implicit_flow: bool,
    /// Organisations the SPA lets the user choose from, each with its own registration.
    pub profiles: Vec<Profile>,
    /// Accepted access token versions.
    pub token_versions: Vec<TokenVersion>,
    /// Clock skew accepted on `exp` and `nbf`, seconds.
    pub clock_skew: u64,
    /// Which groups and roles grant which channels.
    pub channels: ChannelMap,
    /// The member database: `sqlite://…` or `postgres://…`.
    pub database_url: DatabaseUrl,
    /// Roles a member gets at the first sign-in.
    pub default_roles: Vec<String>,
    /// Certificate authorities trusted for the authority's TLS besides the built-in ones.
    pub extra_roots: ExtraRoots,
    /// How the service is run: shutdown, request ids, logs, metrics.
    pub operations: Operations,
    /// The Conditional Access authentication context (`c1`…`c99`) that saving preferences
    /// (`PUT /api/me/profile`) requires of each tenant's users: a token without it in `acrs`
    /// gets a claims challenge (step-up).
    pub step_up: StepUp,
}

/// Step-up per tenant. `acrs` is written by the token's own tenant, and a tenant whose admin made
/// no Conditional Access policy for a context adds it to `acrs` without asking anything; so each
/// tenant's context is its own, and for an allowed tenant with none the operator chooses whether
/// the action is refused or allowed without step-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepUp {
    /// Tenant (lower-case) → the context its users' tokens must carry.
    contexts: std::collections::BTreeMap<String, String>,
    /// What a tenant without a context of its own gets; `None` only when no tenant has one.
    otherwise: Option<WithoutStepUp>,
}

/// `step_up.other_tenants`: the action for an allowed tenant that has no context of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithoutStepUp {
    /// `"refuse"`: the action is refused (403), with the operator's fix.
    Refuse,
    /// `"allow"`: the action needs no step-up for that tenant's users.
    Allow,
}

/// What [`StepUp`] asks of a tenant's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepUpRule<'a> {
    /// `acrs` must hold this context.
    Required(&'a str),
    /// The action is refused: the tenant has no context, and the operator chose to refuse.
    Refused,
    /// No step-up.
    NotRequired,
}

impl StepUp {
    /// Step-up with `context` for the one allowed tenant (`step_up.profile`).
    fn single(tenant: &str, context: &str) -> Self {
        Self { contexts: [(tenant.to_ascii_lowercase(), context.to_owned())].into(), otherwise: None }
    }

    /// What saving preferences asks of a token of `tenant`. A tenant with no context of its own
    /// is refused unless the operator allowed it, whenever any tenant has one.
    pub fn rule(&self, tenant: &str) -> StepUpRule<'_> {
        match self.contexts.get(&tenant.to_ascii_lowercase()) {
            Some(context) => StepUpRule::Required(context),
            None if self.contexts.is_empty() && self.otherwise.is_none() => StepUpRule::NotRequired,
            None => match self.otherwise {
                Some(WithoutStepUp::Allow) => StepUpRule::NotRequired,
                Some(WithoutStepUp::Refuse) | None => StepUpRule::Refused,
            },
        }
    }

    /// Each allowed tenant's rule, in words, for the start-up log.
    pub fn describe<'a>(&'a self, tenants: &'a [String]) -> impl Iterator<Item = (&'a str, String)> + 'a {
        tenants.iter().map(move |tenant| {
            let rule = match self.rule(tenant) {
                StepUpRule::Required(context) => format!("requires the authentication context {context}"),
                StepUpRule::Refused => {
                    "refused: no authentication context for this tenant (step_up.other_tenants = \"refuse\")".to_owned()
                }
                StepUpRule::NotRequired if self.contexts.is_empty() => "no step-up configured".to_owned(),
                StepUpRule::NotRequired => "allowed without step-up (step_up.other_tenants = \"allow\")".to_owned(),
            };
            (tenant.as_str(), rule)
        })
    }
}

/// How the service is run: what operators set for its shutdown, its request ids, its logs and
/// its metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operations {
    /// After SIGTERM, how long `/readyz` answers 503 while requests are still served, so that
    /// a load balancer's health check takes the instance out first.
    pub drain: Duration,
    /// Then, how long requests in flight may take to finish before the process stops anyway.
    pub grace: Duration,
    /// Whether an `X-Request-Id` sent by the client (a load balancer in front) is kept; when not,
    /// every request gets a new one.
    pub trust_request_id: bool,
    /// The log lines' format.
    pub log_format: LogFormat,
    /// Where `/metrics` (Prometheus' text format) is served; nowhere when `None`. A listener of
    /// its own, so that the metrics are not public with the API.
    pub metrics_listen: Option<SocketAddr>,
}

/// The log lines' format (`log.format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One line of text per event, for people.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Certificate authorities read from `entra.ca_file`, trusted besides the web's roots and the
/// operating system's store (a TLS-inspecting proxy's authority, or the emulator's certificate).
#[derive(Clone, Default)]
pub struct ExtraRoots {
    /// The file they came from.
    pub file: Option<PathBuf>,
    /// Its certificates.
    pub certificates: Vec<reqwest::Certificate>,
}

impl ExtraRoots {
    /// Reads every certificate of a PEM file; an unreadable file or one without a certificate
    /// is an error naming the key.
    pub fn read(path: PathBuf) -> Result<Self, ConfigError> {
        let key = "entra.ca_file (ENTRA_CA_FILE)";
        let expected = "a readable PEM file of one or more certificates (-----BEGIN CERTIFICATE-----)";
        let pem =
            std::fs::read(&path).map_err(|e| ConfigError::new(key, expected, format!("{}: {e}", path.display())))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .ok()
            .filter(|certificates| !certificates.is_empty())
            .ok_or_else(|| ConfigError::new(key, expected, format!("{}: no certificate", path.display())))?;
        Ok(Self { file: Some(path), certificates })
    }
}

impl std::fmt::Debug for ExtraRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExtraRoots({:?}: {} certificates)", self.file, self.certificates.len())
    }
}

/// A database URL; `Debug` hides a password it may hold.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Accepts `sqlite:` and `postgres://` / `postgresql://` URLs.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        if ["sqlite:", "postgres://", "postgresql://"].iter().any(|p| value.starts_with(p)) {
            Ok(Self(value.to_owned()))
        } else {
            Err(ConfigError::new(
                "database.url (CHANNELS_DATABASE_URL)",
                "sqlite://file.db?mode=rwc or postgres://user:password@host/database",
                value.split('@').next_back().unwrap_or_default(),
            ))
        }
    }

    /// The URL, for the one place that connects.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = self.0.split(':').next().unwrap_or_default();
        write!(f, "DatabaseUrl({scheme}:[redacted])")
    }
}

/// An Entra access token version; the API registration's `requestedAccessTokenVersion` picks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVersion {
    /// `iss` = `https://sts.windows.net/{tid}/`.
    V1,
    /// `iss` = `{authority}/{tid}/v2.0`.
    V2,
}

/// An identity provider origin: `https://…`, or, for the demo's emulator, `http://` on loopback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority(String);

impl Authority {
    /// Parses `entra.authority`: an `https:` origin (see [`parse_origin`]).
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let origin = parse_origin(value, AUTHORITY_KEY)?;
        // The parsed origin's scheme: `HTTP://` or a leading space are http too.
        if origin.starts_with("http:") {
            return Err(ConfigError::new(
                AUTHORITY_KEY,
                "an https origin such as https://login.microsoftonline.com (http:// only for the emulator on loopback, with CHANNELS_DEMO=1 or --demo)",
                value,
            ));
        }
        Ok(Self(origin))
    }

    /// Parses `entra.authority` for the demo: `https:`, or `http:` on loopback (the emulator).
    pub fn demo(value: &str) -> Result<Self, ConfigError> {
        parse_origin(value, AUTHORITY_KEY).map(Self)
    }

    /// The origin text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const AUTHORITY_KEY: &str = "entra.authority (ENTRA_AUTHORITY)";

/// Parses an origin, refusing plain HTTP anywhere but loopback, and anything beyond
/// `scheme://host[:port]` (user info, path, query, fragment): origins end up in key fetches,
/// CORS answers and the Content Security Policy.
pub fn parse_origin(value: &str, key: &str) -> Result<String, ConfigError> {
    let error = || {
        ConfigError::new(
            key,
            "an origin such as https://login.microsoftonline.com (http:// only on 127.0.0.1, [::1] or localhost), with no path",
            value,
        )
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
        Ok(url.origin().ascii_serialization())
    } else {
        Err(error())
    }
}

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key, and its environment variable when it has one.
    pub key: String,
    /// What it should hold.
    pub expected: String,
    /// What it held.
    pub found: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, expected: impl Into<String>, found: impl Into<String>) -> Self {
        Self { key: key.into(), expected: expected.into(), found: found.into() }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: expected {} (found {:?})", self.key, self.expected, self.found)
    }
}

impl std::error::Error for ConfigError {}

/// The file as written: every key optional, unknown keys refused (a typo must not pass).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    entra: RawEntra,
    #[serde(default)]
    channels: Vec<RawChannel>,
    #[serde(default)]
    database: RawDatabase,
    #[serde(default)]
    members: RawMembers,
    #[serde(default)]
    spa: RawSpa,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    metrics: RawMetrics,
    #[serde(default)]
    step_up: RawStepUp,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStepUp {
    profile: Option<String>,
    #[serde(default)]
    tenants: std::collections::BTreeMap<String, String>,
    other_tenants: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpa {
    scope: Option<String>,
    domain_hint: Option<String>,
    login_hint: Option<String>,
    implicit_flow: Option<bool>,
    #[serde(default)]
    profiles: Vec<RawProfile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    tenant_id: String,
    client_id: String,
    domain_hint: Option<String>,
    login_hint: Option<String>,
    #[serde(default)]
    implicit_flow: bool,
}

/// Hints as configured, each checked: a domain name for `domain_hint`, a sign-in name or an
/// email for `login_hint`, with nothing a URL could carry further.
fn hints(domain_hint: Option<String>, login_hint: Option<String>, key: &str) -> Result<Hints, ConfigError> {
    let plain = |value: &str| {
        !value.is_empty() && value.len() <= 256 && !value.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    if let Some(domain) = domain_hint.as_deref().filter(|d| !plain(d) || d.contains(['@', '/'])) {
        return Err(ConfigError::new(format!("{key}domain_hint"), "a domain name such as contoso.com", domain));
    }
    if let Some(login) = login_hint.as_deref().filter(|l| !plain(l)) {
        return Err(ConfigError::new(format!("{key}login_hint"), "a sign-in name such as kiosk@contoso.com", login));
    }
    Ok(Hints { domain_hint, login_hint })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMembers {
    default_roles: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    spa_dir: Option<PathBuf>,
    allowed_origins: Option<Vec<String>>,
    shutdown_drain_seconds: Option<u64>,
    shutdown_grace_seconds: Option<u64>,
    trust_request_id: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntra {
    authority: Option<String>,
    cloud: Option<String>,
    tenant_id: Option<String>,
    client_id: Option<String>,
    allowed_tenants: Option<Vec<String>>,
    audiences: Option<Vec<String>>,
    allowed_client_apps: Option<Vec<String>>,
    scope: Option<String>,
    token_versions: Option<Vec<String>>,
    clock_skew_seconds: Option<u64>,
    ca_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    name: String,
    tenant: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
}

impl ApiConfig {
    /// The demo configuration.
    pub fn demo() -> Self {
        Self::parse(DEMO_CONFIG, demo_only).expect("the embedded demo configuration is valid")
    }

    /// Reads `CHANNELS_CONFIG` and applies the environment over it; without a file, the
    /// environment alone, or the demo configuration with [`DEMO_VARIABLE`].
    pub fn load(var: impl Fn(&str) -> Option<String>) -> Result<Self, Box<dyn std::error::Error>> {
        match var("CHANNELS_CONFIG") {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| format!("CHANNELS_CONFIG={path}: {e}"))?;
                Ok(Self::parse(&text, var).map_err(|e| format!("{path}: {e}"))?)
            }
            None if is_demo(&var) => Ok(Self::parse(DEMO_CONFIG, var)?),
            None => Ok(Self::parse("", var).map_err(|e| {
                format!("{e}; set CHANNELS_CONFIG to a configuration file, or the variables (CHANNELS_DEMO=1 runs the demo against a local emulator)")
            })?),
        }
    }

    /// Parses a configuration file's text, with `var` giving environment overrides (and
    /// [`DEMO_VARIABLE`]).
    pub fn parse(text: &str, var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let demo = is_demo(&var);
        let mut raw: RawConfig = toml::from_str(text).map_err(|e| {
            ConfigError::new("the configuration file", "valid TOML with the documented keys", e.to_string())
        })?;
        let overrides: [(&str, &mut Option<String>); 10] = [
            ("CHANNELS_STEP_UP_PROFILE", &mut raw.step_up.profile),
            ("CHANNELS_SPA_SCOPE", &mut raw.spa.scope),
            ("CHANNELS_DATABASE_URL", &mut raw.database.url),
            ("CHANNELS_API_ADDR", &mut raw.server.listen),
            ("CHANNELS_LOG_FORMAT", &mut raw.log.format),
            ("CHANNELS_METRICS_ADDR", &mut raw.metrics.listen),
            ("ENTRA_AUTHORITY", &mut raw.entra.authority),
            ("ENTRA_CLOUD", &mut raw.entra.cloud),
            ("ENTRA_TENANT_ID", &mut raw.entra.tenant_id),
            ("ENTRA_CLIENT_ID", &mut raw.entra.client_id),
        ];
        for (name, slot) in overrides {
            if let Some(value) = var(name) {
                *slot = Some(value);
            }
        }
        if let Some(dir) = var("CHANNELS_SPA_DIR") {
            raw.server.spa_dir = Some(PathBuf::from(dir));
        }
        if let Some(file) = var("ENTRA_CA_FILE") {
            raw.entra.ca_file = Some(PathBuf::from(file));
        }
        let seconds = [
            ("CHANNELS_SHUTDOWN_DRAIN_SECONDS", &mut raw.server.shutdown_drain_seconds),
            ("CHANNELS_SHUTDOWN_GRACE_SECONDS", &mut raw.server.shutdown_grace_seconds),
        ];
        for (name, slot) in seconds {
            if let Some(value) = var(name) {
                *slot = Some(value.parse().map_err(|_| ConfigError::new(name, "a whole number of seconds", &value))?);
            }
        }
        let flags = [
            ("CHANNELS_TRUST_REQUEST_ID", &mut raw.server.trust_request_id),
            ("CHANNELS_SPA_IMPLICIT_FLOW", &mut raw.spa.implicit_flow),
        ];
        for (name, slot) in flags {
            if let Some(value) = var(name) {
                *slot = Some(match value.to_ascii_lowercase().as_str() {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    _ => return Err(ConfigError::new(name, "true or false (1 or 0)", value)),
                });
            }
        }
        raw.validate(demo)
    }

    /// The App ID URI: `api://<client id>`.
    pub fn app_id_uri(&self) -> String {
        format!("api://{}", self.client_id)
    }

    /// The full scope the SPA asks for: `api://<client id>/UserProfile.ReadWrite`.
    pub fn full_scope(&self) -> String {
        format!("{}/{}", self.app_id_uri(), self.scope)
    }

    /// Accepted issuers, the cloud's ([`Cloud`]); `{tenantid}` stands for the token's `tid`.
    pub fn issuer_templates(&self) -> Vec<String> {
        self.token_versions
            .iter()
            .filter_map(|version| match version {
                TokenVersion::V1 => self.cloud.v1_issuer("{tenantid}"),
                TokenVersion::V2 => Some(self.cloud.v2_issuer(self.authority.as_str(), "{tenantid}")),
            })
            .collect()
    }

    /// What `/config.json` serves: the default sign-in and the profiles to choose from.
    pub fn spa_config(&self) -> SpaConfig {
        SpaConfig::new(self.runtime_config(), self.profiles.clone())
    }

    /// The default sign-in of the SPA.
    pub fn runtime_config(&self) -> RuntimeConfig {
        RuntimeConfig {
            authority: self.authority.as_str().to_owned(),
            tenant_id: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            api_scope: self.spa_scope.clone(),
            hints: self.spa_hints.clone(),
            implicit_flow: self.spa_implicit_flow,
            cloud: self.cloud,
        }
    }

    /// The organisations that sign in with the implicit flow, by name (`spa` for the default
    /// sign-in): each gets a warning when the API starts.
    pub fn implicit_flow_organisations(&self) -> Vec<String> {
        let default = (self.spa_implicit_flow && self.profiles.is_empty()).then(|| "spa".to_owned());
        default.into_iter().chain(self.profiles.iter().filter(|p| p.implicit_flow).map(|p| p.name.clone())).collect()
    }
}

/// Whether [`DEMO_VARIABLE`] asks for the demo (`1` or `true`).
fn is_demo(var: &impl Fn(&str) -> Option<String>) -> bool {
    var(DEMO_VARIABLE).is_some_and(|value| value == "1" || value.eq_ignore_ascii_case("true"))
}

/// An environment with only [`DEMO_VARIABLE`] set: the demo, as `./dev run` starts it.
pub fn demo_only(key: &str) -> Option<String> {
    (key == DEMO_VARIABLE).then(|| "1".to_owned())
}

impl RawConfig {
    fn validate(self, demo: bool) -> Result<ApiConfig, ConfigError> {
        let RawConfig { server, entra, channels, database, members, spa, log, metrics, step_up } = self;
        let operations = Operations::validate(&server, log, metrics)?;
        let database_url = DatabaseUrl::parse(database.url.as_deref().unwrap_or("sqlite://channels.db?mode=rwc"))?;
        let default_roles = members.default_roles.unwrap_or_else(|| vec!["member".to_owned()]);
        let listen = server.listen.unwrap_or_else(|| "127.0.0.1:9300".to_owned());
        let listen = listen.parse().map_err(|_| {
            ConfigError::new("server.listen (CHANNELS_API_ADDR)", "a socket address such as 127.0.0.1:9300", &listen)
        })?;
        let spa_dir =
            server.spa_dir.or_else(|| Some(PathBuf::from("dist")).filter(|dir| dir.join("index.html").is_file()));
        let allowed_origins = server
            .allowed_origins
            .unwrap_or_default()
            .iter()
            .map(|origin| parse_origin(origin, "server.allowed_origins"))
            .collect::<Result<Vec<_>, _>>()?;
        let authority = entra.authority.as_deref().unwrap_or("https://login.microsoftonline.com");
        let authority = if demo { Authority::demo(authority)? } else { Authority::parse(authority)? };
        if let Some(main) = Cloud::alias_of(authority.as_str()) {
            return Err(ConfigError::new(
                AUTHORITY_KEY,
                format!("{main}: Entra's tokens and keys name it whichever alias signed the user in"),
                authority.as_str(),
            ));
        }
        let named = Cloud::of_authority(authority.as_str());
        let cloud = match entra.cloud.as_deref() {
            None => named.unwrap_or_default(),
            Some(name) => match (Cloud::parse(name), named) {
                (None, _) => return Err(ConfigError::new("entra.cloud (ENTRA_CLOUD)", Cloud::NAMES, name)),
                (Some(cloud), Some(host)) if cloud != host => {
                    return Err(ConfigError::new(
                        "entra.cloud (ENTRA_CLOUD)",
                        format!(
                            "{} (the cloud of entra.authority {}), or no entra.cloud",
                            host.name(),
                            authority.as_str()
                        ),
                        name,
                    ))
                }
                (Some(cloud), _) => cloud,
            },
        };
        let client_id = guid(
            entra.client_id.as_deref(),
            "entra.client_id (ENTRA_CLIENT_ID)",
            "App registrations → this app → Overview → Application (client) ID",
        )?;
        let tenant_id = entra.tenant_id.unwrap_or_default();
        let allowed_tenants = if matches!(tenant_id.as_str(), "organizations" | "common") {
            let allowed = entra.allowed_tenants.unwrap_or_default();
            if allowed.is_empty() {
                return Err(ConfigError::new(
                    "entra.allowed_tenants",
                    "the tenant GUIDs whose users may sign in, when tenant_id is organizations or common",
                    "[]",
                ));
            }
            allowed
                .iter()
                .map(|t| guid(Some(t), "entra.allowed_tenants", "a directory (tenant) ID"))
                .collect::<Result<_, _>>()?
        } else {
            let tenant = guid(
                Some(&tenant_id),
                "entra.tenant_id (ENTRA_TENANT_ID)",
                "Entra ID → Overview → Tenant ID, or organizations/common",
            )?;
            vec![tenant]
        };
        let tenant_id = if allowed_tenants.len() == 1 && tenant_id != "organizations" && tenant_id != "common" {
            allowed_tenants[0].clone()
        } else {
            tenant_id
        };
        let step_up = step_up.validate(&allowed_tenants)?;
        let explicit_audiences = entra.audiences.filter(|a| !a.is_empty());
        let mut audiences =
            explicit_audiences.clone().unwrap_or_else(|| vec![client_id.clone(), format!("api://{client_id}")]);
        let scope = entra.scope.unwrap_or_else(|| "UserProfile.ReadWrite".to_owned());
        if scope.is_empty() || scope.contains(char::is_whitespace) || scope.contains('/') {
            return Err(ConfigError::new(
                "entra.scope",
                "the bare scope name exposed under Expose an API, e.g. UserProfile.ReadWrite",
                scope,
            ));
        }
        let spa_scope = spa.scope.unwrap_or_else(|| format!("api://{client_id}/{scope}"));
        if spa_scope.is_empty() || spa_scope.contains(char::is_whitespace) {
            return Err(ConfigError::new(
                "spa.scope (CHANNELS_SPA_SCOPE)",
                "one full scope, e.g. api://<client id>/UserProfile.ReadWrite",
                spa_scope,
            ));
        }
        if spa.profiles.len() == 1 {
            return Err(ConfigError::new(
                "spa.profiles",
                "two or more organisations to choose from (with one, set entra.tenant_id and entra.client_id instead)",
                "one",
            ));
        }
        let spa_hints = hints(spa.domain_hint, spa.login_hint, "spa.")?;
        let spa_implicit_flow = spa.implicit_flow.unwrap_or(false);
        if spa_implicit_flow && !spa.profiles.is_empty() {
            return Err(ConfigError::new(
                "spa.implicit_flow (CHANNELS_SPA_IMPLICIT_FLOW)",
                "implicit_flow in each [[spa.profiles]] entry whose organisation needs it (with profiles, the \
                 flow is per organisation)",
                "true beside profiles",
            ));
        }
        let mut profiles = Vec::new();
        for (i, raw) in spa.profiles.into_iter().enumerate() {
            let key = |what: &str| format!("spa.profiles[{i}].{what}");
            if raw.name.trim().is_empty() || profiles.iter().any(|p: &Profile| p.name == raw.name) {
                return Err(ConfigError::new(
                    key("name"),
                    "a name shown to users, unique among the profiles",
                    raw.name,
                ));
            }
            let tenant_id = guid(Some(&raw.tenant_id), &key("tenant_id"), "the organisation's Directory (tenant) ID")?;
            if !allowed_tenants.contains(&tenant_id) {
                return Err(ConfigError::new(
                    key("tenant_id"),
                    "one of entra.allowed_tenants, or its users' tokens would be refused",
                    tenant_id,
                ));
            }
            let profile_client =
                guid(Some(&raw.client_id), &key("client_id"), "the registration's Application (client) ID")?;
            match &explicit_audiences {
                Some(listed) if !listed.contains(&profile_client) => {
                    return Err(ConfigError::new(
                        "entra.audiences",
                        format!(
                            "to include {profile_client} (spa.profiles[{i}].client_id), or its tokens would be refused"
                        ),
                        listed.join(", "),
                    ))
                }
                Some(_) => {}
                None => audiences.extend([profile_client.clone(), format!("api://{profile_client}")]),
            }
            // Every profile asks for the one scope the API requires (`entra.scope`).
            let api_scope = format!("api://{profile_client}/{scope}");
            let hints = hints(raw.domain_hint, raw.login_hint, &key(""))?;
            profiles.push(Profile {
                name: raw.name,
                tenant_id,
                client_id: profile_client,
                api_scope,
                hints,
                implicit_flow: raw.implicit_flow,
            });
        }
        let token_versions = entra
            .token_versions
            .unwrap_or_else(|| vec!["2.0".to_owned()])
            .iter()
            .map(|v| match v.as_str() {
                "1.0" => Ok(TokenVersion::V1),
                "2.0" => Ok(TokenVersion::V2),
                other => Err(ConfigError::new("entra.token_versions", "\"1.0\" and/or \"2.0\"", other)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if token_versions.is_empty() {
            return Err(ConfigError::new("entra.token_versions", "at least one of \"1.0\", \"2.0\"", "[]"));
        }
        if cloud.v1_issuer("").is_none() && token_versions.contains(&TokenVersion::V1) {
            return Err(ConfigError::new(
                "entra.token_versions",
                format!(
                    "[\"2.0\"] in {}: it documents no v1 issuer (App registrations → this app → Manifest → \
                     \"requestedAccessTokenVersion\": 2)",
                    cloud.name()
                ),
                "\"1.0\"",
            ));
        }
        let clock_skew = entra.clock_skew_seconds.unwrap_or(300);
        if clock_skew > 600 {
            return Err(ConfigError::new("entra.clock_skew_seconds", "at most 600 seconds", clock_skew.to_string()));
        }
        let channels = channels
            .into_iter()
            .enumerate()
            .map(|(i, raw)| raw.validate(i, &allowed_tenants, cloud))
            .collect::<Result<Vec<_>, _>>()?;
        // The tenant each channel applies to: its own, or the only one allowed.
        let single = (allowed_tenants.len() == 1).then(|| allowed_tenants[0].as_str());
        fn applies_to<'a>(channel: &'a Channel, single: Option<&'a str>) -> Option<&'a str> {
            channel.tenant.as_deref().or(single)
        }
        for (i, channel) in channels.iter().enumerate() {
            if channels[..i]
                .iter()
                .any(|c| c.name == channel.name && applies_to(c, single) == applies_to(channel, single))
            {
                return Err(ConfigError::new(
                    format!("channels[{i}].name"),
                    "a channel name used once per tenant",
                    &channel.name,
                ));
            }
        }
        let extra_roots = entra.ca_file.map(ExtraRoots::read).transpose()?.unwrap_or_default();
        let allowed_client_apps = match entra.allowed_client_apps {
            Some(apps) if !apps.is_empty() => apps
                .iter()
                .map(|app| guid(Some(app), "entra.allowed_client_apps", "the client app's Application (client) ID"))
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => {
                return Err(ConfigError::new(
                    "entra.allowed_client_apps",
                    "the client ids of the apps that may call this API (leave it out for the SPA's own)",
                    "[]",
                ))
            }
            None => std::iter::once(client_id.clone()).chain(profiles.iter().map(|p| p.client_id.clone())).collect(),
        };
        Ok(ApiConfig {
            listen,
            spa_dir,
            allowed_origins,
            authority,
            cloud,
            demo,
            tenant_id,
            allowed_tenants,
            client_id,
            audiences,
            allowed_client_apps,
            scope,
            spa_scope,
            spa_hints,
            spa_implicit_flow,
            profiles,
            token_versions,
            clock_skew,
            channels: ChannelMap::new(channels),
            database_url,
            default_roles,
            extra_roots,
            operations,
            step_up,
        })
    }
}

impl RawStepUp {
    fn validate(self, allowed_tenants: &[String]) -> Result<StepUp, ConfigError> {
        const WHERE: &str = "an authentication context id, c1 to c99 (Entra: Protection → Conditional Access → \
                             Authentication contexts)";
        let context = |key: String, context: String| {
            if channels_protocol::step_up::is_context_id(&context) {
                Ok(context)
            } else {
                Err(ConfigError::new(key, WHERE, context))
            }
        };
        // An empty value (CHANNELS_STEP_UP_PROFILE=) turns the demo's requirement off.
        let profile = self.profile.filter(|context| !context.is_empty());
        let profile = profile.map(|c| context("step_up.profile (CHANNELS_STEP_UP_PROFILE)".into(), c)).transpose()?;
        let mut contexts = std::collections::BTreeMap::new();
        for (tenant, value) in self.tenants {
            let key = format!("step_up.tenants.{tenant}");
            if !allowed_tenants.iter().any(|allowed| allowed.eq_ignore_ascii_case(&tenant)) {
                return Err(ConfigError::new(
                    key,
                    format!("an allowed tenant ({})", allowed_tenants.join(", ")),
                    tenant,
                ));
            }
            contexts.insert(tenant.to_ascii_lowercase(), context(key, value)?);
        }
        match (profile, allowed_tenants) {
            (Some(_), _) if !contexts.is_empty() => {
                return Err(ConfigError::new(
                    "step_up.profile (CHANNELS_STEP_UP_PROFILE)",
                    "either step_up.profile (one allowed tenant) or step_up.tenants, not both",
                    "both",
                ))
            }
            (Some(profile), [only]) => return Ok(StepUp::single(only, &profile)),
            (Some(profile), _) => {
                return Err(ConfigError::new(
                    "step_up.profile (CHANNELS_STEP_UP_PROFILE)",
                    "with several allowed tenants, each tenant's own context in step_up.tenants (acrs is written \
                     by the token's own tenant, and a tenant with no policy for a context grants it without asking)",
                    profile,
                ))
            }
            (None, _) => {}
        }
        let otherwise = match self.other_tenants.as_deref() {
            None => None,
            Some("refuse") => Some(WithoutStepUp::Refuse),
            Some("allow") => Some(WithoutStepUp::Allow),
            Some(other) => {
                return Err(ConfigError::new("step_up.other_tenants", "\"refuse\" or \"allow\"", other));
            }
        };
        let without: Vec<&str> = allowed_tenants
            .iter()
            .filter(|t| !contexts.contains_key(&t.to_ascii_lowercase()))
            .map(String::as_str)
            .collect();
        if !contexts.is_empty() && !without.is_empty() && otherwise.is_none() {
            return Err(ConfigError::new(
                "step_up.other_tenants",
                "\"refuse\" or \"allow\": what saving preferences does for an allowed tenant with no context in \
                 step_up.tenants",
                format!("none, and no context for {}", without.join(", ")),
            ));
        }
        Ok(StepUp { contexts, otherwise })
    }
}

impl Operations {
    fn validate(server: &RawServer, log: RawLog, metrics: RawMetrics) -> Result<Self, ConfigError> {
        let drain = server.shutdown_drain_seconds.unwrap_or(5);
        let grace = server.shutdown_grace_seconds.unwrap_or(30);
        for (key, value) in [("server.shutdown_drain_seconds", drain), ("server.shutdown_grace_seconds", grace)] {
            if value > 600 {
                return Err(ConfigError::new(key, "at most 600 seconds", value.to_string()));
            }
        }
        let log_format = match log.format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => return Err(ConfigError::new("log.format (CHANNELS_LOG_FORMAT)", "\"text\" or \"json\"", other)),
        };
        let metrics_listen = metrics
            .listen
            .map(|listen| {
                listen.parse().map_err(|_| {
                    ConfigError::new(
                        "metrics.listen (CHANNELS_METRICS_ADDR)",
                        "a socket address such as 127.0.0.1:9301",
                        &listen,
                    )
                })
            })
            .transpose()?;
        Ok(Self {
            drain: Duration::from_secs(drain),
            grace: Duration::from_secs(grace),
            trust_request_id: server.trust_request_id.unwrap_or(false),
            log_format,
            metrics_listen,
        })
    }
}

impl RawChannel {
    /// A channel, its tenant one of `allowed_tenants`; required when there are several, or one
    /// tenant's group or role (`Dispatch` exists anywhere) would grant another tenant's channel.
    fn validate(self, index: usize, allowed_tenants: &[String], cloud: Cloud) -> Result<Channel, ConfigError> {
        let key = |what: &str| format!("channels[{index}].{what}");
        // External ID's tokens carry group object ids only: a name could never match.
        if let Some(name) = self.groups.iter().find(|g| cloud == Cloud::ExternalId && !is_guid(g)) {
            return Err(ConfigError::new(
                key("groups"),
                "group object ids in Entra External ID, whose tokens carry no group names (Entra admin center → \
                 Groups → the group → Object ID)",
                name,
            ));
        }
        if self.name.trim().is_empty() {
            return Err(ConfigError::new(key("name"), "a channel name", self.name));
        }
        let tenant = match &self.tenant {
            Some(tenant) => {
                let tenant = guid(Some(tenant), &key("tenant"), "the Directory (tenant) ID whose groups grant it")?;
                if !allowed_tenants.contains(&tenant) {
                    return Err(ConfigError::new(key("tenant"), "one of entra.allowed_tenants", tenant));
                }
                Some(tenant)
            }
            None if allowed_tenants.len() > 1 => {
                return Err(ConfigError::new(
                    key("tenant"),
                    format!(
                        "the Directory (tenant) ID whose groups and roles grant \"{}\": several tenants are allowed, and a group name or role of one would grant the others' channels; repeat the channel once per tenant with its own groups",
                        self.name
                    ),
                    "none",
                ))
            }
            None => None,
        };
        if self.groups.is_empty() && self.roles.is_empty() {
            return Err(ConfigError::new(
                key("groups"),
                format!("at least one group or role granting \"{}\"", self.name),
                "none",
            ));
        }
        let groups = self
            .groups
            .iter()
            .map(|g| {
                GroupRef::parse(g).ok_or_else(|| {
                    ConfigError::new(
                        key("groups"),
                        "a sAMAccountName, DOMAIN\\name, dns.domain\\name or group object id",
                        g,
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Channel { name: self.name, tenant, groups, roles: self.roles })
    }
}

fn guid(value: Option<&str>, key: &str, where_: &str) -> Result<String, ConfigError> {
    let value = value.unwrap_or_default();
    if is_guid(value) {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(ConfigError::new(key, format!("a GUID ({where_} in the Entra portal)"), value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::Groups;

    #[test]
    fn demo_map_matches_group_names_case_insensitively_in_map_order() {
        let map = ApiConfig::demo().channels;
        let names = |groups: &[&str]| -> Vec<String> {
            let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
            map.channels_for(DEMO_TENANT_ID, Groups::Claim(&groups), &[]).map(str::to_owned).collect()
        };
        assert_eq!(names(&["fire-north", "DISPATCH"]), ["All Call", "Dispatch Ops", "Fire North Tac"]);
        assert_eq!(names(&["Police-South"]), ["All Call", "Police South Ops"]);
        assert!(names(&["Marketing"]).is_empty());
    }

    /// The demo's environment with one more variable.
    fn demo_and(name: &'static str, value: impl Into<String>) -> impl Fn(&str) -> Option<String> {
        let value = value.into();
        move |key| if key == name { Some(value.clone()) } else { demo_only(key) }
    }

    #[test]
    fn operations_default_to_a_short_drain_text_logs_and_no_metrics_and_refuse_what_they_cannot_use() {
        let operations = ApiConfig::demo().operations;
        let expected = Operations {
            drain: Duration::from_secs(5),
            grace: Duration::from_secs(30),
            trust_request_id: false,
            log_format: LogFormat::Text,
            metrics_listen: None,
        };
        assert_eq!(operations, expected);
        let set = |name, value: &str| ApiConfig::parse(DEMO_CONFIG, demo_and(name, value)).map(|c| c.operations);
        assert_eq!(set("CHANNELS_LOG_FORMAT", "json").unwrap().log_format, LogFormat::Json);
        assert!(set("CHANNELS_TRUST_REQUEST_ID", "1").unwrap().trust_request_id);
        assert_eq!(set("CHANNELS_SHUTDOWN_GRACE_SECONDS", "0").unwrap().grace, Duration::ZERO);
        let metrics = set("CHANNELS_METRICS_ADDR", "127.0.0.1:9301").unwrap().metrics_listen;
        assert_eq!(metrics, Some("127.0.0.1:9301".parse().unwrap()));
        for (name, value, message) in [
            ("CHANNELS_LOG_FORMAT", "xml", "log.format (CHANNELS_LOG_FORMAT): expected \"text\" or \"json\" (found \"xml\")"),
            ("CHANNELS_TRUST_REQUEST_ID", "yes", "CHANNELS_TRUST_REQUEST_ID: expected true or false (1 or 0) (found \"yes\")"),
            ("CHANNELS_SHUTDOWN_DRAIN_SECONDS", "5s", "CHANNELS_SHUTDOWN_DRAIN_SECONDS: expected a whole number of seconds (found \"5s\")"),
            ("CHANNELS_SHUTDOWN_GRACE_SECONDS", "601", "server.shutdown_grace_seconds: expected at most 600 seconds (found \"601\")"),
            ("CHANNELS_METRICS_ADDR", "9301", "metrics.listen (CHANNELS_METRICS_ADDR): expected a socket address such as 127.0.0.1:9301 (found \"9301\")"),
        ] {
            assert_eq!(set(name, value).unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn without_a_file_the_environment_must_name_the_tenant_and_the_demo_is_asked_for() {
        // Nothing configured: a start-up error naming the key and its variable, not a demo.
        let error = ApiConfig::load(|_| None).unwrap_err().to_string();
        assert!(error.starts_with("entra.client_id (ENTRA_CLIENT_ID): expected a GUID"), "{error}");
        assert!(error.ends_with("(CHANNELS_DEMO=1 runs the demo against a local emulator)"), "{error}");
        let client_only = |key: &str| (key == "ENTRA_CLIENT_ID").then(|| DEMO_CLIENT_ID.to_owned());
        let error = ApiConfig::load(client_only).unwrap_err().to_string();
        assert!(error.starts_with("entra.tenant_id (ENTRA_TENANT_ID): expected a GUID"), "{error}");

        // The variables alone: Entra itself, never a local emulator.
        let variables = |key: &str| match key {
            "ENTRA_TENANT_ID" => Some(DEMO_TENANT_ID.to_owned()),
            "ENTRA_CLIENT_ID" => Some(DEMO_CLIENT_ID.to_owned()),
            _ => None,
        };
        let config = ApiConfig::load(variables).unwrap();
        assert_eq!(config.authority.as_str(), "https://login.microsoftonline.com");
        assert!(!config.demo);
        let emulator =
            |key: &str| if key == "ENTRA_AUTHORITY" { Some("http://127.0.0.1:9400".into()) } else { variables(key) };
        let error = ApiConfig::load(emulator).unwrap_err().to_string();
        assert!(error.starts_with("entra.authority (ENTRA_AUTHORITY): expected an https origin"), "{error}");
        assert!(error.contains("with CHANNELS_DEMO=1 or --demo"), "{error}");
        let demo_emulator = |key: &str| if key == DEMO_VARIABLE { Some("1".into()) } else { emulator(key) };
        assert_eq!(ApiConfig::load(demo_emulator).unwrap().authority.as_str(), "http://127.0.0.1:9400");
        // A file with an http authority is refused the same way, unless it is the demo.
        let error = ApiConfig::parse(DEMO_CONFIG, |_| None).unwrap_err();
        assert_eq!(
            (error.key.as_str(), error.found.as_str()),
            ("entra.authority (ENTRA_AUTHORITY)", "http://127.0.0.1:9400")
        );
    }

    #[test]
    fn the_demo_runs_only_when_asked_for() {
        let config = ApiConfig::load(demo_only).unwrap();
        assert!(config.demo);
        assert_eq!(config.listen.to_string(), "127.0.0.1:9300");
        assert_eq!(config.authority.as_str(), "http://127.0.0.1:9400");
        assert_eq!(config.allowed_tenants, [DEMO_TENANT_ID]);
        assert_eq!(config.audiences, [DEMO_CLIENT_ID.to_owned(), format!("api://{DEMO_CLIENT_ID}")]);
        assert_eq!(config.runtime_config().api_scope, format!("api://{DEMO_CLIENT_ID}/UserProfile.ReadWrite"));
        assert_eq!(config.issuer_templates(), ["http://127.0.0.1:9400/{tenantid}/v2.0"]);
    }

    #[test]
    fn environment_overrides_the_file() {
        let config = ApiConfig::parse(DEMO_CONFIG, |key| match key {
            "CHANNELS_API_ADDR" => Some("127.0.0.1:1234".into()),
            "ENTRA_AUTHORITY" => Some("https://login.microsoftonline.com".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:1234");
        assert_eq!(config.issuer_templates(), ["https://login.microsoftonline.com/{tenantid}/v2.0"]);
    }

    #[test]
    fn a_production_file_needs_only_tenant_client_and_channels() {
        let text = r#"
            [entra]
            tenant_id = "72F988BF-86F1-41AF-91AB-2D7CD011DB47"
            client_id = "11111111-2222-3333-4444-555555555555"
            token_versions = ["1.0", "2.0"]
            [[channels]]
            name = "Ops"
            groups = ["CONTOSO\\Ops", "c0ffee00-0000-4000-8000-000000000001"]
            roles = ["Supervisor"]
        "#;
        let config = ApiConfig::parse(text, |_| None).unwrap();
        assert_eq!(config.authority.as_str(), "https://login.microsoftonline.com");
        assert_eq!(config.tenant_id, "72f988bf-86f1-41af-91ab-2d7cd011db47");
        assert_eq!(
            config.issuer_templates(),
            ["https://sts.windows.net/{tenantid}/", "https://login.microsoftonline.com/{tenantid}/v2.0"]
        );
    }

    #[test]
    fn the_cloud_follows_the_authority_decides_the_issuers_and_is_checked() {
        let file = |authority: &str, extra: &str| {
            format!(
                "[entra]\nauthority = \"{authority}\"\ntenant_id = \"{DEMO_TENANT_ID}\"\n\
                 client_id = \"11111111-2222-3333-4444-555555555555\"\ntoken_versions = [\"1.0\", \"2.0\"]\n{extra}"
            )
        };
        let templates = |authority: &str| ApiConfig::parse(&file(authority, ""), |_| None).unwrap().issuer_templates();
        assert_eq!(
            templates("https://login.microsoftonline.us"),
            ["https://sts.windows.net/{tenantid}/", "https://login.microsoftonline.us/{tenantid}/v2.0"]
        );
        assert_eq!(
            templates("https://login.chinacloudapi.cn"),
            ["https://sts.chinacloudapi.cn/{tenantid}/", "https://login.partner.microsoftonline.cn/{tenantid}/v2.0"]
        );
        let china = ApiConfig::parse(&file("https://login.chinacloudapi.cn", ""), |_| None).unwrap();
        assert_eq!(
            serde_json::to_value(china.spa_config()).unwrap()["cloud"],
            "china",
            "the SPA checks the same issuer"
        );
        // External ID documents no v1 issuer: only v2 tokens.
        let external = file("https://contoso.ciamlogin.com", "").replace("[\"1.0\", \"2.0\"]", "[\"2.0\"]");
        let config = ApiConfig::parse(&external, |_| None).unwrap();
        assert_eq!(config.issuer_templates(), ["https://{tenantid}.ciamlogin.com/{tenantid}/v2.0"]);
        let v1 = ApiConfig::parse(&file("https://contoso.ciamlogin.com", ""), |_| None).unwrap_err();
        assert_eq!(v1.key, "entra.token_versions");
        assert!(v1.expected.contains("external_id"), "{v1}");
        // A cloud is named for an authority that is not Microsoft's (the emulator, a proxy), and
        // must agree with one that is.
        let emulator = ApiConfig::parse(&file("http://127.0.0.1:9400", ""), demo_and("ENTRA_CLOUD", "us_government"));
        assert_eq!(emulator.unwrap().issuer_templates()[1], "https://login.microsoftonline.us/{tenantid}/v2.0");
        let mismatch = ApiConfig::parse(&file("https://login.microsoftonline.com", "cloud = \"china\""), |_| None);
        assert!(mismatch.unwrap_err().to_string().contains("global (the cloud of entra.authority"));
        let unknown = ApiConfig::parse(&file("https://login.microsoftonline.com", "cloud = \"gcc\""), |_| None);
        assert!(unknown.unwrap_err().expected.contains("us_government"));
        // An older alias of a sign-in host: its tokens would name the main host, so it is refused.
        let alias = ApiConfig::parse(&file("https://login.windows.net", ""), |_| None).unwrap_err();
        assert_eq!((alias.key.as_str(), alias.found.as_str()), (AUTHORITY_KEY, "https://login.windows.net"));
        assert!(alias.expected.starts_with("https://login.microsoftonline.com: "), "{alias}");
        // In External ID, channels are mapped by group object id: a name could never match.
        let named = format!("{external}\n[[channels]]\nname = \"Dispatch Ops\"\ngroups = [\"Dispatch\"]\n");
        let refused = ApiConfig::parse(&named, |_| None).unwrap_err();
        assert_eq!((refused.key.as_str(), refused.found.as_str()), ("channels[0].groups", "Dispatch"));
        assert!(refused.expected.contains("object ids"), "{refused}");
    }

    #[test]
    fn multi_tenant_needs_an_allow_list() {
        let text = r#"
            [entra]
            tenant_id = "organizations"
            client_id = "11111111-2222-3333-4444-555555555555"
        "#;
        let error = ApiConfig::parse(text, |_| None).unwrap_err();
        assert_eq!(error.key, "entra.allowed_tenants");
        let allowed = format!("{text}\nallowed_tenants = [\"{DEMO_TENANT_ID}\"]");
        let config = ApiConfig::parse(&allowed, |_| None).unwrap();
        assert_eq!(config.tenant_id, "organizations");
        assert_eq!(config.allowed_tenants, [DEMO_TENANT_ID]);
    }

    #[test]
    fn the_implicit_flow_is_off_unless_an_organisation_opts_in_and_each_one_is_named() {
        let organisations = include_str!("../../../e2e/fixtures/organisations.toml");
        let config = ApiConfig::parse(organisations, |_| None).unwrap();
        assert!(config.implicit_flow_organisations().is_empty(), "off by default");
        assert!(serde_json::to_string(&config.spa_config()).unwrap().find("implicit").is_none(), "no key when off");
        let fabrikam = organisations.replacen(
            "client_id = \"2d4f6a8c-0b1d-4e3f-8a5c-7e9b1d3f5a70\"",
            "client_id = \"2d4f6a8c-0b1d-4e3f-8a5c-7e9b1d3f5a70\"\nimplicit_flow = true",
            1,
        );
        let config = ApiConfig::parse(&fabrikam, |_| None).unwrap();
        assert_eq!(config.implicit_flow_organisations(), ["Fabrikam"]);
        let served = serde_json::to_value(config.spa_config()).unwrap();
        let implicit: Vec<&str> = served["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["implicit_flow"] == true)
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(implicit, ["Fabrikam"]);
        // With profiles the flow is per organisation: a top-level one is refused, not ignored.
        let top_level =
            organisations.replacen("[[spa.profiles]]", "[spa]\nimplicit_flow = true\n\n[[spa.profiles]]", 1);
        assert_eq!(
            ApiConfig::parse(&top_level, |_| None).unwrap_err().key,
            "spa.implicit_flow (CHANNELS_SPA_IMPLICIT_FLOW)"
        );
        // A single organisation opts in with spa.implicit_flow or the environment.
        let demo = |value: &'static str| demo_and("CHANNELS_SPA_IMPLICIT_FLOW", value);
        let single = ApiConfig::parse(DEMO_CONFIG, demo("true")).unwrap();
        assert!(single.runtime_config().implicit_flow);
        assert_eq!(single.implicit_flow_organisations(), ["spa"]);
        assert!(!ApiConfig::parse(DEMO_CONFIG, demo("0")).unwrap().runtime_config().implicit_flow);
        assert_eq!(ApiConfig::parse(DEMO_CONFIG, demo("yes")).unwrap_err().key, "CHANNELS_SPA_IMPLICIT_FLOW");
    }

    #[test]
    fn sign_in_hints_are_served_per_organisation_and_checked() {
        let organisations = include_str!("../../../e2e/fixtures/organisations.toml");
        let hinted = organisations
            .replacen("[[spa.profiles]]", "[spa]\ndomain_hint = \"contoso.example\"\n\n[[spa.profiles]]", 1)
            .replacen("name = \"Fabrikam\"", "name = \"Fabrikam\"\nlogin_hint = \"frank@fabrikam.example\"", 1);
        let config = ApiConfig::parse(&hinted, demo_only).unwrap();
        let served = serde_json::to_value(config.spa_config()).unwrap();
        assert_eq!(served["hints"], serde_json::json!({ "domain_hint": "contoso.example" }));
        let fabrikam = served["profiles"].as_array().unwrap().iter().find(|p| p["name"] == "Fabrikam").unwrap();
        let both = serde_json::json!({ "domain_hint": "fabrikam.example", "login_hint": "frank@fabrikam.example" });
        assert_eq!(fabrikam["hints"], both);
        let contoso = served["profiles"].as_array().unwrap().iter().find(|p| p["name"] == "Contoso").unwrap();
        assert!(contoso.get("hints").is_none(), "each organisation its own");
        assert!(serde_json::to_value(ApiConfig::demo().spa_config()).unwrap().get("hints").is_none(), "none: no key");
        for (key, bad) in [("domain_hint", "user@contoso.example"), ("domain_hint", "a b"), ("login_hint", "x\ny")] {
            let text = DEMO_CONFIG.replacen("[spa]", &format!("[spa]\n{key} = {bad:?}"), 1);
            let error = ApiConfig::parse(&text, demo_only).unwrap_err();
            assert_eq!(error.key, format!("spa.{key}"), "{error}");
        }
    }

    #[test]
    fn the_step_up_context_is_c1_to_c99_and_the_demo_requires_c1() {
        let demo = ApiConfig::demo();
        assert_eq!(demo.step_up.rule(DEMO_TENANT_ID), StepUpRule::Required("c1"));
        let set = |value: &str| ApiConfig::parse(DEMO_CONFIG, demo_and("CHANNELS_STEP_UP_PROFILE", value));
        assert_eq!(set("c42").unwrap().step_up.rule(DEMO_TENANT_ID), StepUpRule::Required("c42"));
        assert_eq!(set("").unwrap().step_up.rule(DEMO_TENANT_ID), StepUpRule::NotRequired, "empty turns it off");
        for bad in ["c0", "c100", "mfa", "C1"] {
            let error = set(bad).unwrap_err();
            assert_eq!(error.key, "step_up.profile (CHANNELS_STEP_UP_PROFILE)");
            assert!(error.to_string().contains("an authentication context id, c1 to c99"), "{error}");
        }
        let plain = ApiConfig::parse("[entra]\nclient_id = \"6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d\"\ntenant_id = \"4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f\"", |_| None).unwrap();
        assert_eq!(plain.step_up, StepUp::default(), "off unless configured");
        assert_eq!(plain.step_up.rule(DEMO_TENANT_ID), StepUpRule::NotRequired);
    }

    /// What the mutation run of this file found untested (bench/results/mutants.md).
    #[test]
    fn scopes_clouds_and_implicit_organisations_are_checked_one_by_one() {
        for bad in ["", "User Profile", "api://x/UserProfile.ReadWrite"] {
            let text = DEMO_CONFIG.replacen("scope = \"UserProfile.ReadWrite\"", &format!("scope = {bad:?}"), 1);
            assert_eq!(ApiConfig::parse(&text, demo_only).unwrap_err().key, "entra.scope", "{bad:?}");
        }
        for bad in ["", "api://x/a b"] {
            let error = ApiConfig::parse(DEMO_CONFIG, demo_and("CHANNELS_SPA_SCOPE", bad)).unwrap_err();
            assert_eq!(error.key, "spa.scope (CHANNELS_SPA_SCOPE)", "{bad:?}");
        }
        let plain = "[entra]\nclient_id = \"6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d\"\ntenant_id = \"4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f\"";
        let named =
            |cloud: &'static str| ApiConfig::parse(plain, move |key| (key == "ENTRA_CLOUD").then(|| cloud.to_owned()));
        assert_eq!(named("global").unwrap().cloud, Cloud::default(), "the authority's own cloud, named");
        assert_eq!(named("china").unwrap_err().key, "entra.cloud (ENTRA_CLOUD)", "another cloud than the authority's");
        let organisations = include_str!("../../../e2e/fixtures/organisations.toml");
        for (rename, found) in [("name = \"\"", ""), ("name = \"Contoso\"", "Contoso")] {
            let text = organisations.replacen("name = \"Fabrikam\"", rename, 1);
            let error = ApiConfig::parse(&text, |_| None).unwrap_err();
            assert_eq!(
                (error.key.as_str(), error.found.as_str()),
                ("spa.profiles[1].name", found),
                "empty, then twice"
            );
        }
        let skew = |seconds: u32| {
            let text = DEMO_CONFIG.replacen("clock_skew_seconds = 300", &format!("clock_skew_seconds = {seconds}"), 1);
            ApiConfig::parse(&text, demo_only)
        };
        assert_eq!(skew(600).unwrap().clock_skew, 600);
        assert_eq!(skew(601).unwrap_err().key, "entra.clock_skew_seconds");
        let drain = |seconds: &str| ApiConfig::parse(DEMO_CONFIG, demo_and("CHANNELS_SHUTDOWN_DRAIN_SECONDS", seconds));
        assert_eq!(drain("600").unwrap().operations.drain, Duration::from_secs(600));
        assert_eq!(drain("601").unwrap_err().key, "server.shutdown_drain_seconds");
        let both =
            DEMO_CONFIG.replacen("[step_up]", &format!("[step_up]\ntenants = {{ \"{DEMO_TENANT_ID}\" = \"c2\" }}"), 1);
        let error = ApiConfig::parse(&both, demo_only).unwrap_err();
        assert_eq!((error.key.as_str(), error.found.as_str()), ("step_up.profile (CHANNELS_STEP_UP_PROFILE)", "both"));
        let demo = ApiConfig::demo();
        assert!(demo.implicit_flow_organisations().is_empty(), "off unless opted in");
        let opted = ApiConfig { spa_implicit_flow: true, ..ApiConfig::demo() };
        assert_eq!(opted.implicit_flow_organisations(), ["spa"]);
    }

    #[test]
    fn the_full_scope_is_the_app_id_uri_and_the_scope() {
        let demo = ApiConfig::demo();
        assert_eq!(demo.app_id_uri(), format!("api://{DEMO_CLIENT_ID}"));
        assert_eq!(demo.full_scope(), format!("api://{DEMO_CLIENT_ID}/UserProfile.ReadWrite"));
        assert_eq!(demo.spa_scope, demo.full_scope(), "what the SPA asks for, unless spa.scope says otherwise");
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused_and_secrets_are_redacted_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, "not a certificate").unwrap();
        let error = ExtraRoots::read(file.clone()).unwrap_err();
        assert_eq!(error.key, "entra.ca_file (ENTRA_CA_FILE)");
        assert!(error.found.ends_with("ca.pem: no certificate"), "{error}");
        let missing = ExtraRoots::read(dir.path().join("absent.pem")).unwrap_err();
        assert!(missing.found.contains("absent.pem"), "{missing}");
        let none = ExtraRoots::default();
        assert_eq!(format!("{none:?}"), "ExtraRoots(None: 0 certificates)");
        let url = DatabaseUrl::parse("postgres://channels:s3cret@db.internal/channels").unwrap();
        assert_eq!(format!("{url:?}"), "DatabaseUrl(postgres:[redacted])");
    }

    /// Issue #30: `acrs` is written by the token's own tenant, so each tenant's context is its
    /// own, and a tenant without one is refused or allowed only as the operator chose.
    #[test]
    fn step_up_is_per_tenant_and_a_tenant_without_a_context_is_the_operators_explicit_choice() {
        const FABRIKAM: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
        let multi = |step_up: &str| {
            ApiConfig::parse(
                &format!(
                    "[entra]\nclient_id = \"{DEMO_CLIENT_ID}\"\ntenant_id = \"organizations\"\n\
                     allowed_tenants = [\"{DEMO_TENANT_ID}\", \"{FABRIKAM}\"]\n[step_up]\n{step_up}"
                ),
                |_| None,
            )
        };
        let error = multi("profile = \"c1\"").unwrap_err();
        assert_eq!(error.key, "step_up.profile (CHANNELS_STEP_UP_PROFILE)", "one context for every tenant is refused");
        assert!(error.expected.contains("each tenant's own context in step_up.tenants"), "{error}");
        let error = multi(&format!("tenants = {{ \"{DEMO_TENANT_ID}\" = \"c1\" }}")).unwrap_err();
        assert_eq!(error.key, "step_up.other_tenants", "a tenant left without a choice is refused");
        assert!(error.found.contains(FABRIKAM), "{error}");
        let refuse =
            multi(&format!("tenants = {{ \"{DEMO_TENANT_ID}\" = \"c1\" }}\nother_tenants = \"refuse\"")).unwrap();
        assert_eq!(refuse.step_up.rule(&DEMO_TENANT_ID.to_uppercase()), StepUpRule::Required("c1"));
        assert_eq!(refuse.step_up.rule(FABRIKAM), StepUpRule::Refused);
        let described: Vec<_> = refuse.step_up.describe(&refuse.allowed_tenants).collect();
        assert_eq!(described[0], (DEMO_TENANT_ID, "requires the authentication context c1".to_owned()));
        assert!(described[1].1.starts_with("refused"), "{described:?}");
        let allow = multi(&format!("tenants = {{ \"{DEMO_TENANT_ID}\" = \"c1\", \"{FABRIKAM}\" = \"c7\" }}")).unwrap();
        assert_eq!(allow.step_up.rule(FABRIKAM), StepUpRule::Required("c7"), "each its own");
        assert_eq!(
            allow.step_up.rule("0000aaaa-0000-4000-8000-000000000000"),
            StepUpRule::Refused,
            "no choice: refused"
        );
        let allow = multi(&format!("tenants = {{ \"{FABRIKAM}\" = \"c2\" }}\nother_tenants = \"allow\"")).unwrap();
        assert_eq!(allow.step_up.rule(DEMO_TENANT_ID), StepUpRule::NotRequired);
        let described: Vec<_> = allow.step_up.describe(&allow.allowed_tenants).collect();
        assert_eq!(described[0].1, "allowed without step-up (step_up.other_tenants = \"allow\")");
        assert_eq!(described[1].1, "requires the authentication context c2");
        let none = multi("").unwrap();
        let described: Vec<_> = none.step_up.describe(&none.allowed_tenants).collect();
        assert!(described.iter().all(|(_, rule)| rule == "no step-up configured"), "{described:?}");
        let error = multi("tenants = { \"0000aaaa-0000-4000-8000-000000000000\" = \"c1\" }").unwrap_err();
        assert!(error.key.starts_with("step_up.tenants."), "only allowed tenants: {error}");
        let error = multi(&format!("tenants = {{ \"{FABRIKAM}\" = \"c2\" }}\nother_tenants = \"maybe\"")).unwrap_err();
        assert_eq!(error.key, "step_up.other_tenants");
        let error = multi(&format!("tenants = {{ \"{FABRIKAM}\" = \"mfa\" }}\nother_tenants = \"allow\"")).unwrap_err();
        assert!(error.expected.starts_with("an authentication context id"), "{error}");
    }

    #[test]
    fn bad_values_name_the_key_and_what_was_expected() {
        let error = ApiConfig::parse(DEMO_CONFIG, demo_and("ENTRA_CLIENT_ID", "my-app")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "entra.client_id (ENTRA_CLIENT_ID): expected a GUID (App registrations → this app → Overview → Application (client) ID in the Entra portal) (found \"my-app\")"
        );
        let typo = ApiConfig::parse("[entra]\nclient_idd = \"x\"", |_| None).unwrap_err();
        assert!(typo.found.contains("unknown field `client_idd`"), "{typo}");
        let empty_channel = format!("{DEMO_CONFIG}\n[[channels]]\nname = \"Empty\"\n");
        let error = ApiConfig::parse(&empty_channel, demo_only).unwrap_err();
        assert_eq!(error.key, "channels[5].groups");
        let bad_group = format!("{DEMO_CONFIG}\n[[channels]]\nname = \"X\"\ngroups = [\"\\\\Ops\"]\n");
        assert_eq!(ApiConfig::parse(&bad_group, demo_only).unwrap_err().found, "\\Ops");
    }

    #[test]
    fn database_urls_are_checked_and_their_passwords_never_printed() {
        let config =
            ApiConfig::parse(DEMO_CONFIG, demo_and("CHANNELS_DATABASE_URL", "postgres://u:hunter2@db/x")).unwrap();
        assert_eq!(config.database_url.secret(), "postgres://u:hunter2@db/x");
        assert!(!format!("{config:?}").contains("hunter2"));
        let error = ApiConfig::parse(DEMO_CONFIG, demo_and("CHANNELS_DATABASE_URL", "mysql://u:pw@db/x")).unwrap_err();
        assert_eq!(error.found, "db/x", "the password is not echoed");
    }

    #[test]
    fn authority_is_https_or_loopback_http() {
        assert_eq!(
            Authority::parse("https://login.microsoftonline.com/").unwrap().as_str(),
            "https://login.microsoftonline.com"
        );
        // Loopback http is the demo's emulator, and only the demo's.
        for loopback in ["http://127.0.0.1:9400", "http://localhost", "http://[::1]:9400"] {
            assert_eq!(Authority::demo(loopback).unwrap().as_str(), loopback);
            assert_eq!(Authority::parse(loopback).unwrap_err().found, loopback);
        }
        for spelled_otherwise in ["HTTP://127.0.0.1:9400", " http://127.0.0.1:9400", "Http://localhost"] {
            assert_eq!(Authority::parse(spelled_otherwise).unwrap_err().found, spelled_otherwise);
        }
        for bad in [
            "http://login.microsoftonline.com",
            "http://127.0.0.1.evil:1",
            "http://127.0.0.1:9400@evil.example",
            "http://10.0.0.1",
            "https://x/path",
            "https://x; frame-ancestors *",
            "https://x?q",
            "https://user@x",
            "ftp://x",
            "",
        ] {
            for parse in [Authority::parse, Authority::demo] {
                assert_eq!(parse(bad).unwrap_err().found, bad, "{bad}");
            }
        }
    }

    #[test]
    fn client_apps_default_to_the_spas_own_registrations_and_an_empty_list_is_refused() {
        assert_eq!(ApiConfig::demo().allowed_client_apps, [DEMO_CLIENT_ID]);
        let organisations =
            ApiConfig::parse(include_str!("../../../e2e/fixtures/organisations.toml"), |_| None).unwrap();
        let profiles: Vec<&str> = organisations.profiles.iter().map(|p| p.client_id.as_str()).collect();
        assert!(profiles.iter().all(|id| organisations.allowed_client_apps.iter().any(|a| a == id)), "{profiles:?}");
        let listed = DEMO_CONFIG
            .replace("[entra]\n", "[entra]\nallowed_client_apps = [\"5B0A0000-0000-4000-8000-00000000A001\"]\n");
        assert_eq!(
            ApiConfig::parse(&listed, demo_only).unwrap().allowed_client_apps,
            ["5b0a0000-0000-4000-8000-00000000a001"]
        );
        let empty = DEMO_CONFIG.replace("[entra]\n", "[entra]\nallowed_client_apps = []\n");
        assert_eq!(ApiConfig::parse(&empty, demo_only).unwrap_err().key, "entra.allowed_client_apps");
        let bad = DEMO_CONFIG.replace("[entra]\n", "[entra]\nallowed_client_apps = [\"my-app\"]\n");
        assert_eq!(ApiConfig::parse(&bad, demo_only).unwrap_err().found, "my-app");
    }

    #[test]
    fn with_several_tenants_each_channel_names_the_tenant_whose_groups_grant_it() {
        let text = include_str!("../../../e2e/fixtures/organisations.toml");
        let config = ApiConfig::parse(text, |_| None).unwrap();
        let tenants: Vec<_> = config.channels.channels().iter().map(|c| c.tenant.as_deref().unwrap()).collect();
        assert_eq!(
            tenants,
            [DEMO_TENANT_ID, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"]
        );

        // A channel of no tenant would let a group name of any allowed tenant grant it.
        let untied = format!("{text}\n[[channels]]\nname = \"Night Ops\"\ngroups = [\"NightShift\"]\n");
        let error = ApiConfig::parse(&untied, |_| None).unwrap_err();
        assert_eq!((error.key.as_str(), error.found.as_str()), ("channels[3].tenant", "none"));
        assert!(error.expected.contains("repeat the channel once per tenant"), "{error}");
        // A tenant that is not allowed, and the same channel twice in one tenant.
        let stranger = format!(
            "{text}\n[[channels]]\nname = \"X\"\ntenant = \"11111111-2222-4333-8444-555555555555\"\ngroups = [\"X\"]\n"
        );
        assert_eq!(ApiConfig::parse(&stranger, |_| None).unwrap_err().key, "channels[3].tenant");
        let twice = format!("{text}\n[[channels]]\nname = \"Harbour Ops\"\ntenant = \"9A8B7C6D-5E4F-4A3B-8C2D-1E0F9A8B7C6D\"\ngroups = [\"X\"]\n");
        assert_eq!(ApiConfig::parse(&twice, |_| None).unwrap_err().key, "channels[3].name");
        // One tenant keeps the short form, and a channel named with and without it is one twice.
        assert!(ApiConfig::demo().channels.channels().iter().all(|c| c.tenant.is_none()));
        let again = format!(
            "{DEMO_CONFIG}\n[[channels]]\nname = \"All Call\"\ntenant = \"{DEMO_TENANT_ID}\"\ngroups = [\"X\"]\n"
        );
        assert_eq!(ApiConfig::parse(&again, demo_only).unwrap_err().key, "channels[5].name");
    }

    #[test]
    fn several_organisations_each_get_a_profile_and_their_tokens_are_accepted() {
        let text = include_str!("../../../e2e/fixtures/organisations.toml");
        let config = ApiConfig::parse(text, |_| None).unwrap();
        let spa = config.spa_config();
        assert_eq!(spa.profiles.len(), 2);
        let fabrikam = spa.profile("Fabrikam").unwrap();
        assert_eq!(fabrikam.api_scope, "api://2d4f6a8c-0b1d-4e3f-8a5c-7e9b1d3f5a70/UserProfile.ReadWrite");
        assert!(config.audiences.contains(&fabrikam.client_id), "its tokens' aud is accepted");
        assert!(config.allowed_tenants.contains(&fabrikam.tenant_id));

        let foreign = text.replace(
            "tenant_id = \"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d\"\nclient_id",
            "tenant_id = \"11111111-2222-4333-8444-555555555555\"\nclient_id",
        );
        let error = ApiConfig::parse(&foreign, |_| None).unwrap_err().to_string();
        assert!(error.starts_with("spa.profiles[1].tenant_id: expected one of entra.allowed_tenants"), "{error}");
        let single = &text[..text.rfind("[[spa.profiles]]").unwrap()];
        let error = ApiConfig::parse(single, |_| None).unwrap_err().to_string();
        assert!(error.starts_with("spa.profiles: expected two or more organisations"), "{error}");
        let listed = text.replace("[entra]\n", "[entra]\naudiences = [\"6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d\"]\n");
        let error = ApiConfig::parse(&listed, |_| None).unwrap_err().to_string();
        assert!(
            error.starts_with("entra.audiences: expected to include 2d4f6a8c-0b1d-4e3f-8a5c-7e9b1d3f5a70"),
            "{error}"
        );
    }
}
