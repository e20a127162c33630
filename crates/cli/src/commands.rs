//! What each command does, from the saved profile to the text it prints (returned, so that
//! `main.rs` only prints it).

use std::path::PathBuf;
use std::time::Duration;

use channels_protocol::secret::AccessToken;

use crate::error::CliError;
use crate::login::{self, SignedIn};
use crate::profile::{Profile, Profiles};
use crate::store::{Kept, TokenStore};

/// Where a command works: the HTTP client, the configuration folder and the profile's name.
pub struct Context {
    /// For Entra and the API.
    pub http: reqwest::Client,
    /// Where profiles (and, without a keychain, tokens) are kept.
    pub dir: PathBuf,
    /// The profile, `default` unless `--profile` names another.
    pub profile: String,
}

/// How `login` signs in.
pub struct LoginOptions {
    /// The API to read the sign-in settings from (a first login, or a change).
    pub api: Option<String>,
    /// With several organisations at that API, which one.
    pub organisation: Option<String>,
    /// The device code flow instead of the browser.
    pub device_code: bool,
    /// How long the browser sign-in may take.
    pub timeout: Duration,
}

/// `channels login`: signs in and keeps the refresh token. Returns what to tell the user.
pub async fn login(context: &Context, options: LoginOptions) -> Result<String, CliError> {
    Profiles::check_name(&context.profile)?;
    let mut profiles = Profiles::load(&context.dir)?;
    let profile = match (&options.api, &options.organisation) {
        (Some(api), organisation) => Profile::discover(&context.http, api, organisation.as_deref()).await?,
        (None, Some(_)) => {
            return Err(CliError(
                "--organisation: expected it with --api, the address whose organisations it names (found no --api)"
                    .to_owned(),
            ))
        }
        (None, None) => profiles.get(&context.profile)?.clone(),
    };
    let config = profile.sign_in.clone();
    let SignedIn { tokens, who } = match options.device_code {
        true => login::with_device_code(&context.http, &config).await?,
        false => login::with_browser(&context.http, &config, options.timeout).await?,
    };
    let refresh_token = tokens.refresh_token.ok_or_else(|| {
        CliError("expected a refresh token (found none: Entra did not grant offline_access)".to_owned())
    })?;
    let kept = TokenStore::new(&context.dir, &context.profile).save(&refresh_token)?;
    profiles.save(&context.profile, profile)?;
    let name = who.name.unwrap_or_default();
    let upn = who.preferred_username.unwrap_or_default();
    let mut told =
        format!("Signed in as {name} ({upn}), profile `{}`. `channels me` shows your channels.\n", context.profile);
    if let Kept::File(file) = kept {
        told.push_str(&file_warning(&file));
    }
    Ok(told)
}

/// A fresh access token for the profile, the rotated refresh token kept.
async fn access_token(context: &Context) -> Result<(Profile, AccessToken), CliError> {
    Profiles::check_name(&context.profile)?;
    let profile = Profiles::load(&context.dir)?.get(&context.profile)?.clone();
    let store = TokenStore::new(&context.dir, &context.profile);
    let refresh_token = store.load()?.ok_or_else(|| {
        CliError(format!("expected a sign-in for profile `{}` (found none): run `channels login`", context.profile))
    })?;
    let tokens = login::refresh(&context.http, &profile.sign_in, &refresh_token).await?;
    if let Some(rotated) = &tokens.refresh_token {
        // Said once: when the keychain stops taking the token, not at every command after.
        if let (Kept::File(file), Some(Kept::Keychain)) = (store.save(rotated)?, store.kept_before()) {
            eprint!("{}", file_warning(&file));
        }
    }
    Ok((profile, tokens.access_token))
}

/// The one line that says where the sign-in is, when it is in a file.
fn file_warning(file: &std::path::Path) -> String {
    let why = match std::env::var(crate::store::STORE_VARIABLE).as_deref() {
        Ok("file") => "as CHANNELS_TOKEN_STORE=file asks",
        _ => "no OS keychain here",
    };
    let who = if cfg!(unix) { "readable by you only" } else { "protect it as you would a password" };
    format!("warning: {why}; your sign-in is kept in {} ({who})\n", file.display())
}

/// `channels token`: an access token for the API, for `curl -H "Authorization: Bearer …"`.
pub async fn token(context: &Context) -> Result<String, CliError> {
    let (_, token) = access_token(context).await?;
    Ok(format!("{}\n", token.secret()))
}

/// `channels me`: who you are and your channels, as text or as the API's JSON.
pub async fn me(context: &Context, json: bool) -> Result<String, CliError> {
    let (profile, token) = access_token(context).await?;
    let (me, raw) = crate::api::me(&context.http, &profile.api, &token).await?;
    if json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&raw).expect("JSON")));
    }
    let mut out = format!("{} <{}>\n", me.name, me.upn);
    match me.channels.is_empty() {
        true => out.push_str("Channels: none\n"),
        false => out.push_str(&format!("Channels: {}\n", me.channels.join(", "))),
    }
    if let Some(notice) = me.notice {
        out.push_str(&format!("Note: {}\n", notice.message));
        if let Some(fix) = notice.fix {
            out.push_str(&format!("Fix: {fix}\n"));
        }
    }
    Ok(out)
}

/// `channels logout`: forgets the profile's sign-in and settings.
pub async fn logout(context: &Context) -> Result<String, CliError> {
    Profiles::check_name(&context.profile)?;
    TokenStore::new(&context.dir, &context.profile).forget()?;
    let known = Profiles::load(&context.dir)?.forget(&context.profile)?;
    Ok(match known {
        true => format!(
            "Signed out: profile `{}` is forgotten here (Entra ends the sign-in itself after 90 days unused, or \
             when an admin revokes it).\n",
            context.profile
        ),
        false => format!("Profile `{}` was not signed in.\n", context.profile),
    })
}
