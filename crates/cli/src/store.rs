//! Where a profile's refresh token is kept: the OS keychain (macOS Keychain, Windows Credential
//! Manager, the Secret Service on Linux) when there is one; otherwise a file only the user can
//! read (mode 0600 on Unix), with a one-line warning. Access tokens are never written anywhere:
//! each command redeems the refresh token for a fresh one.

use std::path::{Path, PathBuf};

use channels_protocol::secret::RefreshToken;

use crate::error::CliError;

/// The keychain's service name.
const SERVICE: &str = "channels";

/// `CHANNELS_TOKEN_STORE=file` skips the keychain (for machines whose keychain asks a person
/// to unlock it, and for tests of the file).
pub const STORE_VARIABLE: &str = "CHANNELS_TOKEN_STORE";

/// Where a token was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// In the OS keychain.
    Keychain,
    /// In this file, readable by the user only.
    File(PathBuf),
}

/// A profile's refresh token, wherever it is kept.
pub struct TokenStore {
    /// The keychain entry's account: the profile and its folder, so that two folders'
    /// profiles of one name (the demo's and production's) keep apart.
    account: String,
    file: PathBuf,
    keychain: bool,
    /// Where [`Self::load`] found the token.
    loaded_from: std::cell::Cell<Option<bool>>,
}

impl TokenStore {
    /// The store of `profile`'s token, its file in `dir`.
    pub fn new(dir: &Path, profile: &str) -> Self {
        let keychain = std::env::var(STORE_VARIABLE).map_or(true, |v| v != "file");
        Self {
            account: format!("{profile}@{}", dir.display()),
            file: dir.join(format!("{profile}.token")),
            keychain,
            loaded_from: Default::default(),
        }
    }

    fn entry(&self) -> Option<keyring::Entry> {
        self.keychain.then(|| keyring::Entry::new(SERVICE, &self.account).ok()).flatten()
    }

    /// Keeps `token`: in the keychain, or when it takes nothing, in the file (and then no older
    /// token stays in the keychain to be read instead).
    pub fn save(&self, token: &RefreshToken) -> Result<Kept, CliError> {
        if let Some(entry) = self.entry() {
            if entry.set_password(token.secret()).is_ok() {
                let _ = std::fs::remove_file(&self.file); // an older copy from a session without the keychain
                return Ok(Kept::Keychain);
            }
            let _ = entry.delete_credential();
        }
        write_private(&self.file, token.secret())?;
        Ok(Kept::File(self.file.clone()))
    }

    /// The kept token, if any.
    pub fn load(&self) -> Result<Option<RefreshToken>, CliError> {
        if let Some(Ok(token)) = self.entry().map(|entry| entry.get_password()) {
            self.loaded_from.set(Some(true));
            return Ok(Some(RefreshToken::new(token)));
        }
        match std::fs::read_to_string(&self.file) {
            Ok(token) if !token.trim().is_empty() => {
                self.loaded_from.set(Some(false));
                Ok(Some(RefreshToken::new(token.trim().to_owned())))
            }
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CliError(format!("{}: {e}", self.file.display()))),
        }
    }

    /// Where [`Self::load`] found the token: the keychain, or the file.
    pub fn kept_before(&self) -> Option<Kept> {
        self.loaded_from.get().map(|keychain| if keychain { Kept::Keychain } else { Kept::File(self.file.clone()) })
    }

    /// Forgets the token, in the keychain and the file.
    pub fn forget(&self) -> Result<(), CliError> {
        if let Some(entry) = self.entry() {
            let _ = entry.delete_credential();
        }
        match std::fs::remove_file(&self.file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(CliError(format!("{}: {e}", self.file.display())))
            }
            _ => Ok(()),
        }
    }
}

/// Writes `text` to `path`, readable and writable by its owner only from its creation on, and
/// whole or not at all: a file of its own, then renamed over `path` (two commands at once, or a
/// crash, never leave a half-written token to read).
fn write_private(path: &Path, text: &str) -> Result<(), CliError> {
    use std::io::Write as _;
    let error = |e: std::io::Error| CliError(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(error)?;
    }
    let temporary = path.with_extension(format!("{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            Err(error(e))
        }
    }
}
