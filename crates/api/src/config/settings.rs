//! The validated configuration: what the API runs with, built from the file's sections by pure
//! checks (no file is read and no folder probed here: [`super`] does that after).

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use channels_protocol::cloud::Cloud;
use channels_protocol::wire::{RuntimeConfig, SpaConfig};

use super::entra::{self, Spa, TokenVersion};
use super::env::named;
use super::error::ConfigError;
use super::raw::{defaults, LogFormat, RawConfig, RawLog, RawMetrics, RawServer};
use super::step_up::StepUp;
use super::values::{guid, parse_origin, Authority, DatabaseUrl, ExtraRoots};
use crate::channels::ChannelMap;

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Where and how the API serves.
    pub server: Server,
    /// The identity provider's origin (`https://login.microsoftonline.com`, or the emulator's).
    pub authority: Authority,
    /// The Microsoft cloud of the tenant (`entra.cloud`, `ENTRA_CLOUD`; by default the one the
    /// authority's host names): it decides the issuers accepted.
    pub cloud: Cloud,
    /// Whether this is the demo (`CHANNELS_DEMO`): a local emulator is trusted.
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
    /// How the SPA signs in: its scope, hints, flow and the organisations to choose from.
    pub spa: Spa,
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
    /// Certificate authorities trusted for the authority's TLS besides the built-in ones
    /// (`entra.ca_file`, read after validation).
    pub extra_roots: ExtraRoots,
    /// How the service is run: shutdown, request ids, logs, metrics.
    pub operations: Operations,
    /// The Conditional Access authentication context (`c1`…`c99`) that saving preferences
    /// (`PUT /api/me/profile`) requires of each tenant's users: a token without it in `acrs`
    /// gets a claims challenge (step-up).
    pub step_up: StepUp,
    /// Whether the registration serves `channels`, the terminal client, too.
    pub native_client: NativeClient,
}

/// `[native_client]`: the registration's *Mobile and desktop* platform, for `channels` (the API
/// accepts its tokens as the SPA's: same registration, audience and scope).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NativeClient {
    /// The manifest registers `http://localhost` (any port) and Entra's `nativeclient` URI.
    pub enabled: bool,
    /// The manifest allows public client flows (`isFallbackPublicClient`), which
    /// `channels login --device-code` needs; off by default, as Instant Connect's guide advises.
    pub device_code: bool,
}

/// Where and how the API serves (`[server]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Worker threads (`CHANNELS_API_WORKERS`); one per core when `None`.
    pub workers: Option<NonZeroUsize>,
    /// The built SPA to serve, if any.
    pub spa_dir: Option<PathBuf>,
    /// Origins allowed to call the API cross-origin (CORS), when the SPA is hosted elsewhere.
    pub allowed_origins: Vec<String>,
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

impl ApiConfig {
    /// The configuration the file's sections describe; `demo` trusts a loopback emulator. The
    /// Entra rules ([`entra`]) go in the order each needs the last: the authority and cloud, the
    /// client id, the tenants, then what depends on them.
    pub(super) fn validate(raw: RawConfig, demo: bool) -> Result<Self, ConfigError> {
        let RawConfig {
            server,
            entra: raw_entra,
            channels,
            database,
            members,
            spa,
            log,
            metrics,
            step_up,
            native_client,
        } = raw;
        let operations = Operations::validate(&server, log, metrics)?;
        let database_url = DatabaseUrl::parse(database.url.as_deref().unwrap_or(defaults::DATABASE_URL))?;
        let default_roles = members.default_roles.unwrap_or_else(|| vec![defaults::DEFAULT_ROLE.to_owned()]);
        let server = Server::validate(server)?;
        let (authority, cloud) =
            entra::authority_and_cloud(raw_entra.authority.as_deref(), raw_entra.cloud.as_deref(), demo)?;
        let client_id = guid(
            raw_entra.client_id.as_deref(),
            &named("entra.client_id"),
            "App registrations → this app → Overview → Application (client) ID",
        )?;
        let (tenant_id, allowed_tenants) =
            entra::tenants(raw_entra.tenant_id.unwrap_or_default(), raw_entra.allowed_tenants)?;
        let step_up = StepUp::validate(step_up, &allowed_tenants)?;
        let scope = entra::scope(raw_entra.scope)?;
        let explicit_audiences = raw_entra.audiences.filter(|a| !a.is_empty());
        let (spa, audiences) = entra::spa_and_audiences(spa, &client_id, &scope, &allowed_tenants, explicit_audiences)?;
        let token_versions = entra::token_versions(raw_entra.token_versions, cloud)?;
        let clock_skew = entra::clock_skew(raw_entra.clock_skew_seconds)?;
        let channels = entra::channel_map(channels, &allowed_tenants, cloud)?;
        let allowed_client_apps = entra::client_apps(raw_entra.allowed_client_apps, &client_id, &spa)?;
        Ok(ApiConfig {
            server,
            authority,
            cloud,
            demo,
            tenant_id,
            allowed_tenants,
            client_id,
            audiences,
            allowed_client_apps,
            scope,
            spa,
            token_versions,
            clock_skew,
            channels,
            database_url,
            default_roles,
            extra_roots: ExtraRoots { file: raw_entra.ca_file, certificates: Vec::new() },
            operations,
            step_up,
            native_client: NativeClient {
                enabled: native_client.enabled.unwrap_or(false),
                device_code: native_client.device_code.unwrap_or(false),
            },
        })
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
        SpaConfig::new(self.runtime_config(), self.spa.profiles.clone())
    }

    /// The default sign-in of the SPA.
    pub fn runtime_config(&self) -> RuntimeConfig {
        RuntimeConfig {
            authority: self.authority.as_str().to_owned(),
            tenant_id: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            api_scope: self.spa.scope.clone(),
            hints: self.spa.hints.clone(),
            implicit_flow: self.spa.implicit_flow,
            cloud: self.cloud,
        }
    }

    /// The organisations that sign in with the implicit flow, by name (`spa` for the default
    /// sign-in): each gets a warning when the API starts.
    pub fn implicit_flow_organisations(&self) -> Vec<String> {
        let default = (self.spa.implicit_flow && self.spa.profiles.is_empty()).then(|| "spa".to_owned());
        default
            .into_iter()
            .chain(self.spa.profiles.iter().filter(|p| p.implicit_flow).map(|p| p.name.clone()))
            .collect()
    }
}

impl Server {
    fn validate(server: RawServer) -> Result<Self, ConfigError> {
        let allowed_origins = server
            .allowed_origins
            .unwrap_or_default()
            .iter()
            .map(|origin| parse_origin(origin, "server.allowed_origins"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            listen: server.listen.unwrap_or_else(|| defaults::LISTEN.parse().expect("the default address")),
            workers: server.workers,
            spa_dir: server.spa_dir,
            allowed_origins,
        })
    }
}

impl Operations {
    fn validate(server: &RawServer, log: RawLog, metrics: RawMetrics) -> Result<Self, ConfigError> {
        let drain = server.shutdown_drain_seconds.unwrap_or(defaults::DRAIN_SECONDS);
        let grace = server.shutdown_grace_seconds.unwrap_or(defaults::GRACE_SECONDS);
        for (key, value) in [("server.shutdown_drain_seconds", drain), ("server.shutdown_grace_seconds", grace)] {
            if value > 600 {
                return Err(ConfigError::new(key, "at most 600 seconds", value.to_string()));
            }
        }
        Ok(Self {
            drain: Duration::from_secs(drain),
            grace: Duration::from_secs(grace),
            trust_request_id: server.trust_request_id.unwrap_or(false),
            log_format: log.format.unwrap_or_default(),
            metrics_listen: metrics.listen,
        })
    }
}
