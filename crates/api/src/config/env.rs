//! The environment over the file: one table of `(variable, key)` that the overlay applies, that
//! error messages name keys by ([`named`]), and that the documentation is checked against.

use std::path::PathBuf;

use serde::de::IntoDeserializer as _;
use serde::Deserialize as _;

use super::error::ConfigError;
use super::raw::{LogFormat, RawConfig};

/// An environment variable that sets a key of the file.
pub struct Variable {
    /// The variable, e.g. `ENTRA_TENANT_ID`.
    pub name: &'static str,
    /// The key it sets, e.g. `entra.tenant_id`.
    pub key: &'static str,
    slot: Slot,
}

/// Where a variable's text goes, and how it is read.
enum Slot {
    Text(fn(&mut RawConfig) -> &mut Option<String>),
    Path(fn(&mut RawConfig) -> &mut Option<PathBuf>),
    Seconds(fn(&mut RawConfig) -> &mut Option<u64>),
    Flag(fn(&mut RawConfig) -> &mut Option<bool>),
    /// A socket address, with an example for the error.
    Address(fn(&mut RawConfig) -> &mut Option<std::net::SocketAddr>, &'static str),
    Workers(fn(&mut RawConfig) -> &mut Option<std::num::NonZeroUsize>),
    LogFormat(fn(&mut RawConfig) -> &mut Option<LogFormat>),
}

const fn variable(name: &'static str, key: &'static str, slot: Slot) -> Variable {
    Variable { name, key, slot }
}

/// Every variable, and the key it sets.
pub const VARIABLES: [Variable; 17] = [
    variable("CHANNELS_API_ADDR", "server.listen", Slot::Address(|c| &mut c.server.listen, "127.0.0.1:9300")),
    variable("CHANNELS_API_WORKERS", "server.workers", Slot::Workers(|c| &mut c.server.workers)),
    variable("CHANNELS_SPA_DIR", "server.spa_dir", Slot::Path(|c| &mut c.server.spa_dir)),
    variable(
        "CHANNELS_SHUTDOWN_DRAIN_SECONDS",
        "server.shutdown_drain_seconds",
        Slot::Seconds(|c| &mut c.server.shutdown_drain_seconds),
    ),
    variable(
        "CHANNELS_SHUTDOWN_GRACE_SECONDS",
        "server.shutdown_grace_seconds",
        Slot::Seconds(|c| &mut c.server.shutdown_grace_seconds),
    ),
    variable("CHANNELS_TRUST_REQUEST_ID", "server.trust_request_id", Slot::Flag(|c| &mut c.server.trust_request_id)),
    variable("ENTRA_AUTHORITY", "entra.authority", Slot::Text(|c| &mut c.entra.authority)),
    variable("ENTRA_CLOUD", "entra.cloud", Slot::Text(|c| &mut c.entra.cloud)),
    variable("ENTRA_TENANT_ID", "entra.tenant_id", Slot::Text(|c| &mut c.entra.tenant_id)),
    variable("ENTRA_CLIENT_ID", "entra.client_id", Slot::Text(|c| &mut c.entra.client_id)),
    variable("ENTRA_CA_FILE", "entra.ca_file", Slot::Path(|c| &mut c.entra.ca_file)),
    variable("CHANNELS_DATABASE_URL", "database.url", Slot::Text(|c| &mut c.database.url)),
    variable("CHANNELS_SPA_SCOPE", "spa.scope", Slot::Text(|c| &mut c.spa.scope)),
    variable("CHANNELS_SPA_IMPLICIT_FLOW", "spa.implicit_flow", Slot::Flag(|c| &mut c.spa.implicit_flow)),
    variable("CHANNELS_LOG_FORMAT", "log.format", Slot::LogFormat(|c| &mut c.log.format)),
    variable("CHANNELS_METRICS_ADDR", "metrics.listen", Slot::Address(|c| &mut c.metrics.listen, "127.0.0.1:9301")),
    variable("CHANNELS_STEP_UP_PROFILE", "step_up.profile", Slot::Text(|c| &mut c.step_up.profile)),
];

/// `key` as errors name it: with its variable when it has one (`entra.tenant_id
/// (ENTRA_TENANT_ID)`).
pub fn named(key: &str) -> String {
    match VARIABLES.iter().find(|v| v.key == key) {
        Some(variable) => format!("{key} ({})", variable.name),
        None => key.to_owned(),
    }
}

/// Sets every key whose variable `var` has. A variable's text that is not of the key's type is an
/// error naming the variable (or, for the types the file would point at, the key with it).
pub fn overlay(raw: &mut RawConfig, var: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    for variable in &VARIABLES {
        let Some(value) = var(variable.name) else { continue };
        match variable.slot {
            Slot::Text(slot) => *slot(raw) = Some(value),
            Slot::Path(slot) => *slot(raw) = Some(PathBuf::from(value)),
            Slot::Seconds(slot) => {
                let seconds =
                    value.parse().map_err(|_| ConfigError::new(variable.name, "a whole number of seconds", &value))?;
                *slot(raw) = Some(seconds);
            }
            Slot::Flag(slot) => {
                *slot(raw) = Some(match value.to_ascii_lowercase().as_str() {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    _ => return Err(ConfigError::new(variable.name, "true or false (1 or 0)", value)),
                });
            }
            Slot::Workers(slot) => {
                let workers = value.parse().map_err(|_| {
                    ConfigError::new(named(variable.key), "a number of worker threads, 1 or more", &value)
                })?;
                *slot(raw) = Some(workers);
            }
            Slot::Address(slot, example) => {
                let address = value.parse().map_err(|_| {
                    ConfigError::new(named(variable.key), format!("a socket address such as {example}"), &value)
                })?;
                *slot(raw) = Some(address);
            }
            Slot::LogFormat(slot) => {
                let format = LogFormat::deserialize(value.as_str().into_deserializer()).map_err(
                    |_: serde::de::value::Error| ConfigError::new(named(variable.key), "\"text\" or \"json\"", &value),
                )?;
                *slot(raw) = Some(format);
            }
        }
    }
    Ok(())
}
