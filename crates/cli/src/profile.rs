//! Where `channels` signs in, per profile: the API's address and the Entra registration it
//! uses (authority, tenant, client id, API scope), read once from the API's own `/config.json`
//! by `channels login --api URL` and kept in `profiles.toml` (a small file a person can edit,
//! or write for an organisation the API does not describe).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use channels_protocol::wire::{RuntimeConfig, SpaConfig};
use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// One organisation's sign-in, as saved: the API, and the sign-in settings its `/config.json`
/// gave (authority, tenant, client id, API scope, cloud, hints).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The Channels API, e.g. `https://channels.example.com`.
    pub api: String,
    /// How to sign in.
    #[serde(flatten)]
    pub sign_in: RuntimeConfig,
}

impl Profile {
    /// The profile the API at `api` describes in its `/config.json`: its default sign-in, or
    /// with several organisations, the one named `organisation`.
    pub async fn discover(http: &reqwest::Client, api: &str, organisation: Option<&str>) -> Result<Self, CliError> {
        let api = api.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&api).map_err(|_| {
            CliError(format!(
                "--api: expected the Channels address, such as https://channels.example.com (found {api})"
            ))
        })?;
        let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
            return Err(CliError(format!(
                "--api: expected an https:// address (found {api}): your tokens would cross the network in clear \
                 (http:// only on this machine, for the demo)"
            )));
        }
        let url = format!("{api}/config.json");
        let answer = http.get(&url).send().await.map_err(|e| CliError::unreachable(&url, e))?;
        if !answer.status().is_success() {
            return Err(CliError(format!(
                "expected the Channels API's sign-in settings at {url} (found HTTP {}): check the address",
                answer.status()
            )));
        }
        let settings: SpaConfig = answer
            .json()
            .await
            .map_err(|e| CliError(format!("expected the Channels API's sign-in settings at {url} (found {e})")))?;
        let names = || settings.profiles.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
        let sign_in = match (organisation, settings.profiles.is_empty()) {
            (None, true) => settings.sign_in(),
            (Some(name), false) => settings
                .profile(name)
                .ok_or_else(|| CliError(format!("--organisation: expected one of {} (found {name})", names())))?,
            (None, false) => {
                return Err(CliError(format!(
                    "--organisation: expected the organisation to sign in to, one of {} (found none)",
                    names()
                )))
            }
            (Some(name), true) => {
                return Err(CliError(format!(
                    "--organisation: expected none, as {api} serves one organisation (found {name})"
                )))
            }
        };
        if sign_in.implicit_flow {
            return Err(CliError(
                "expected an organisation that signs in with the code flow (found one on the implicit flow, which \
                 a terminal cannot use): ask the admin to turn implicit_flow off"
                    .to_owned(),
            ));
        }
        Ok(Self { api, sign_in })
    }
}

/// `profiles.toml`: every saved profile, by name.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ProfilesFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// The saved profiles, in the configuration folder.
pub struct Profiles {
    path: PathBuf,
    file: ProfilesFile,
}

impl Profiles {
    /// Whether `name` can name a profile: letters, digits, `.`, `_` and `-`, not starting with
    /// `.` (it names a file too).
    pub fn check_name(name: &str) -> Result<(), CliError> {
        let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if name.is_empty() || name.starts_with('.') || !plain || name.len() > 64 {
            return Err(CliError(format!(
                "--profile: expected a name of letters, digits, `.`, `_` and `-` (found {name:?})"
            )));
        }
        Ok(())
    }

    /// The profiles saved in `dir` (none when the file does not exist yet).
    pub fn load(dir: &Path) -> Result<Self, CliError> {
        let path = dir.join("profiles.toml");
        let file = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| CliError(format!("{}: expected saved profiles ({e})", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ProfilesFile::default(),
            Err(e) => return Err(CliError(format!("{}: {e}", path.display()))),
        };
        Ok(Self { path, file })
    }

    /// The profile `name`, or what to run to make it.
    pub fn get(&self, name: &str) -> Result<&Profile, CliError> {
        self.file.profiles.get(name).ok_or_else(|| {
            CliError(format!(
                "expected a signed-in profile `{name}` (found none): run `channels login --api <the Channels address \
                 your organisation gave you>`{}",
                if name == "default" { String::new() } else { format!(" --profile {name}") }
            ))
        })
    }

    /// Saves `profile` as `name`.
    pub fn save(&mut self, name: &str, profile: Profile) -> Result<(), CliError> {
        self.file.profiles.insert(name.to_owned(), profile);
        self.write()
    }

    /// Forgets the profile `name`; whether there was one.
    pub fn forget(&mut self, name: &str) -> Result<bool, CliError> {
        let known = self.file.profiles.remove(name).is_some();
        self.write()?;
        Ok(known)
    }

    fn write(&self) -> Result<(), CliError> {
        let text = toml::to_string(&self.file).expect("profiles serialise");
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| CliError(format!("{}: {e}", dir.display())))?;
        }
        std::fs::write(&self.path, text).map_err(|e| CliError(format!("{}: {e}", self.path.display())))
    }
}
