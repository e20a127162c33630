//! The values every part of the configuration checks the same way: origins (the authority's
//! among them), GUIDs, sign-in hints, the database URL and the extra certificate authorities.

use std::path::PathBuf;

use channels_protocol::claims::is_guid;
use channels_protocol::wire::Hints;

use super::env::named;
use super::error::ConfigError;

/// The key of the authority, for its errors.
pub const AUTHORITY_KEY: &str = "entra.authority";

/// An identity provider origin: `https://…`, or, for the demo's emulator, `http://` on loopback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority(String);

impl Authority {
    /// Parses `entra.authority`: an `https:` origin (see [`parse_origin`]).
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let origin = parse_origin(value, &named(AUTHORITY_KEY))?;
        // The parsed origin's scheme: `HTTP://` or a leading space are http too.
        if origin.starts_with("http:") {
            return Err(ConfigError::new(
                named(AUTHORITY_KEY),
                "an https origin such as https://login.microsoftonline.com (http:// only for the emulator on loopback, with CHANNELS_DEMO=1 or --demo)",
                value,
            ));
        }
        Ok(Self(origin))
    }

    /// Parses `entra.authority` for the demo: `https:`, or `http:` on loopback (the emulator).
    pub fn demo(value: &str) -> Result<Self, ConfigError> {
        parse_origin(value, &named(AUTHORITY_KEY)).map(Self)
    }

    /// The origin text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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
        let key = named("entra.ca_file");
        let expected = "a readable PEM file of one or more certificates (-----BEGIN CERTIFICATE-----)";
        let pem =
            std::fs::read(&path).map_err(|e| ConfigError::new(&key, expected, format!("{}: {e}", path.display())))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .ok()
            .filter(|certificates| !certificates.is_empty())
            .ok_or_else(|| ConfigError::new(&key, expected, format!("{}: no certificate", path.display())))?;
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
                named("database.url"),
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

/// A GUID from the Entra portal, lower-cased; `where_` says where the portal shows it.
pub fn guid(value: Option<&str>, key: &str, where_: &str) -> Result<String, ConfigError> {
    let value = value.unwrap_or_default();
    if is_guid(value) {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(ConfigError::new(key, format!("a GUID ({where_} in the Entra portal)"), value))
    }
}

/// Hints as configured, each checked: a domain name for `domain_hint`, a sign-in name or an
/// email for `login_hint`, with nothing a URL could carry further.
pub fn hints(domain_hint: Option<String>, login_hint: Option<String>, key: &str) -> Result<Hints, ConfigError> {
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
