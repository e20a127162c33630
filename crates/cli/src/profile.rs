//! Where `channels` signs in, per profile: the API's address and the Entra registration it
//! uses (authority, tenant, client id, API scope), read once from the API's own `/config.json`
//! by `channels login --api URL` and kept in `profiles.toml` (a small file a person can edit,
//! or write for an organisation the API does not describe).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use channels_protocol::wire::{RuntimeConfig, SpaConfig};
use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// One organisation's sign-in, as saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The Channels API, e.g. `https://channels.example.com`.
    pub api: String,
    /// The identity provider, e.g. `https://login.microsoftonline.com`.
    pub authority: String,
    /// The directory (tenant) id.
    pub tenant_id: String,
    /// The app registration's client id.
    pub client_id: String,
    /// The API scope to ask for, e.g. `api://<client id>/UserProfile.ReadWrite`.
    pub api_scope: String,
}

impl Profile {
    /// The sign-in the profile describes.
    pub fn sign_in(&self) -> RuntimeConfig {
        RuntimeConfig::code_flow(&self.authority, &self.tenant_id, &self.client_id, &self.api_scope)
    }

    /// The profile the API at `api` describes in its `/config.json`: its default sign-in, or
    /// with several organisations, the one named `organisation`.
    pub async fn discover(http: &reqwest::Client, api: &str, organisation: Option<&str>) -> Result<Self, CliError> {
        let api = api.trim_end_matches('/').to_owned();
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
        Ok(Self {
            api,
            authority: sign_in.authority,
            tenant_id: sign_in.tenant_id,
            client_id: sign_in.client_id,
            api_scope: sign_in.api_scope,
        })
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
