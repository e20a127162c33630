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
    profile: String,
    file: PathBuf,
    keychain: bool,
}

impl TokenStore {
    /// The store of `profile`'s token, its file in `dir`.
    pub fn new(dir: &Path, profile: &str) -> Self {
        let keychain = std::env::var(STORE_VARIABLE).map_or(true, |v| v != "file");
        Self { profile: profile.to_owned(), file: dir.join(format!("{profile}.token")), keychain }
    }

    fn entry(&self) -> Option<keyring::Entry> {
        self.keychain.then(|| keyring::Entry::new(SERVICE, &self.profile).ok()).flatten()
    }

    /// Keeps `token`: in the keychain, or when there is none, in the file.
    pub fn save(&self, token: &RefreshToken) -> Result<Kept, CliError> {
        if let Some(entry) = self.entry() {
            if entry.set_password(token.secret()).is_ok() {
                let _ = std::fs::remove_file(&self.file); // an older copy from a session without the keychain
                return Ok(Kept::Keychain);
            }
        }
        write_private(&self.file, token.secret())?;
        Ok(Kept::File(self.file.clone()))
    }

    /// The kept token, if any.
    pub fn load(&self) -> Result<Option<RefreshToken>, CliError> {
        if let Some(Ok(token)) = self.entry().map(|entry| entry.get_password()) {
            return Ok(Some(RefreshToken::new(token)));
        }
        match std::fs::read_to_string(&self.file) {
            Ok(token) => Ok(Some(RefreshToken::new(token.trim().to_owned()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CliError(format!("{}: {e}", self.file.display()))),
        }
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

/// Writes `text` to `path`, readable and writable by its owner only, from its creation on.
fn write_private(path: &Path, text: &str) -> Result<(), CliError> {
    use std::io::Write as _;
    let error = |e: std::io::Error| CliError(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(error)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(error)?;
    #[cfg(unix)]
    {
        // A file made before, with other permissions, is narrowed too.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(error)?;
    }
    file.write_all(text.as_bytes()).map_err(error)
}
