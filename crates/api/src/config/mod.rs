//! The API's configuration: one TOML file (`CHANNELS_CONFIG`), environment variables over it,
//! parsed once into typed values. Invalid configuration fails at start, naming the key and what
//! it expects.
//!
//! Nothing is trusted that was not configured: the authority is
//! `https://login.microsoftonline.com` unless named, an `http:` authority is refused, and the
//! tenant and client ids are required. The demo deployment (`config/demo.toml`, against the
//! emulator on 127.0.0.1:9400) runs only when asked for, by [`DEMO_VARIABLE`] or `--demo`; then
//! a loopback `http:` authority (the emulator) is accepted too.
//!
//! The parts, in the order a value goes through them: [`raw`] (the file's typed sections and
//! every default) → [`env`] (the environment over it, from one table of variables) →
//! [`settings`] with [`entra`] and [`step_up`] (pure checks: the Entra rules, then the rest) → the files the
//! configuration names, read last ([`values::ExtraRoots`], the SPA's folder).

pub mod entra;
pub mod env;
pub mod error;
pub mod raw;
pub mod settings;
pub mod step_up;
pub mod values;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use entra::{Spa, TokenVersion};
pub use error::ConfigError;
pub use raw::LogFormat;
pub use settings::{ApiConfig, NativeClient, Operations, Server};
pub use step_up::{StepUp, StepUpRule, WithoutStepUp};
pub use values::{parse_origin, Authority, DatabaseUrl, ExtraRoots};

/// The demo deployment, used with [`DEMO_VARIABLE`] when no file is given.
pub const DEMO_CONFIG: &str = include_str!("../../config/demo.toml");
/// `CHANNELS_DEMO=1` (or `channels-api --demo`): the demo deployment when no file is given, and
/// a loopback `http:` authority (the emulator) accepted.
pub const DEMO_VARIABLE: &str = "CHANNELS_DEMO";
/// The demo tenant (the emulator's built-in directory).
pub const DEMO_TENANT_ID: &str = "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
/// The demo app registration's client id.
pub const DEMO_CLIENT_ID: &str = "6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d";

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
    /// [`DEMO_VARIABLE`]): the file, the environment over it, the checks, then the files it names.
    pub fn parse(text: &str, var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut raw: raw::RawConfig = toml::from_str(text).map_err(|e| {
            ConfigError::new("the configuration file", "valid TOML with the documented keys", e.to_string())
        })?;
        env::overlay(&mut raw, &var)?;
        let mut config = Self::validate(raw, is_demo(&var))?;
        if let Some(file) = config.extra_roots.file.take() {
            config.extra_roots = ExtraRoots::read(file)?;
        }
        if config.server.spa_dir.is_none() {
            let built = PathBuf::from(raw::defaults::SPA_DIR);
            config.server.spa_dir = built.join("index.html").is_file().then_some(built);
        }
        Ok(config)
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
