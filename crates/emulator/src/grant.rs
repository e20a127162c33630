//! What the emulator hands out and later takes back: authorization codes (issued at
//! `/authorize`, redeemed once at `/token`), refresh grants (issued at `/token`, redeemed
//! there again) and device codes (issued at `/devicecode`, signed in for at `/devicelogin`,
//! redeemed once at `/token`), their lifetimes, the random text their handles are made of, and
//! the store that keeps them between requests.
//!
//! Every read or write of a code or a refresh token goes through [`Grants`]; the endpoints
//! decide what to issue and check what the request says, this module what the grant itself
//! allows (single use, expiry).

use std::collections::HashMap;
use std::sync::Mutex;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use channels_protocol::pkce::ChallengeMethod;
use rand::RngCore;

use crate::directory::Platform;
use crate::error::AadError;

/// Codes live about 10 minutes, as in Entra.
pub const CODE_LIFETIME: u64 = 600;

/// The fixed lifetime of a SPA refresh token, from the first sign-in.
pub const SPA_REFRESH_LIFETIME: u64 = 24 * 60 * 60;

/// The lifetime of a native (Mobile and desktop) or Web client's refresh token, from its last
/// use: each redemption starts it again (sliding).
pub const NATIVE_REFRESH_LIFETIME: u64 = 90 * 24 * 60 * 60;

/// How long a device code waits for its user, as Entra's `expires_in` says (15 minutes).
pub const DEVICE_CODE_LIFETIME: u64 = 900;

/// How often a device may poll, in seconds (`interval`).
pub const DEVICE_POLL_INTERVAL: u64 = 5;

/// The resource an access token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// An API registered in the directory, with the resource URI as the request spelled it
    /// (v1 tokens carry that spelling in `aud`).
    Api {
        /// The API's client id.
        app_id: String,
        /// `api://…` or the client id, as requested.
        requested_as: String,
    },
    /// Microsoft Graph.
    Graph,
}

/// What a code or a refresh token stands for.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// The user's tenant (the token's `tid`).
    pub tenant_id: String,
    /// The client the token is issued to.
    pub client_id: String,
    /// The signed-in user.
    pub user_oid: String,
    /// The resource of the access token.
    pub resource: Resource,
    /// Its scopes, bare names as in `scp`.
    pub scopes: Vec<String>,
    /// Authentication contexts the sign-in satisfied (the access token's `acrs`).
    pub acrs: Vec<String>,
    /// Issued by the implicit grant, in the address bar: six or more groups do not fit, and
    /// `hasgroups` replaces them.
    pub implicit: bool,
}

/// What a code stands for, kept until it is redeemed or expires.
#[derive(Clone)]
pub struct CodeGrant {
    /// The user, client, resource and scopes.
    pub authorization: Authorization,
    /// The redirect URI it was issued for; redemption must repeat it.
    pub redirect_uri: String,
    /// The platform of that redirect URI.
    pub platform: Platform,
    /// The PKCE challenge and method, when the request had one.
    pub challenge: Option<(String, ChallengeMethod)>,
    /// Whether `openid` was asked (an ID token is due).
    pub openid: bool,
    /// Whether `offline_access` was asked (a refresh token is due).
    pub offline_access: bool,
    /// The nonce for the ID token.
    pub nonce: Option<String>,
    /// The browser session it was issued in (the ID token's `sid`).
    pub sid: String,
    /// When the code was issued.
    pub issued_at: u64,
    /// Set on first redemption; a second one is AADSTS54005.
    pub redeemed: bool,
}

/// What a refresh token stands for.
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    /// The user, client, resource and scopes of the code it came from.
    pub authorization: Authorization,
    /// The platform of the code's redirect URI.
    pub platform: Platform,
    /// The end of its life: for the SPA platform fixed at sign-in (rotation keeps it), for
    /// others moved on by each use.
    pub expires_at: u64,
    /// Whether `openid` was granted at sign-in: refreshes then bring ID tokens too.
    pub openid: bool,
    /// The browser session of the sign-in (the ID tokens' `sid`).
    pub sid: String,
}

impl RefreshGrant {
    /// The refresh grant a code redeemed at `now` gives: its lifetime starts then.
    pub fn of_code(grant: &CodeGrant, now: u64) -> Self {
        Self {
            authorization: grant.authorization.clone(),
            platform: grant.platform,
            expires_at: now + Self::lifetime(grant.platform),
            openid: grant.openid,
            sid: grant.sid.clone(),
        }
    }

    /// How long a refresh token of a client of `platform` lives: 24 hours for the SPA platform,
    /// 90 days for the others.
    pub fn lifetime(platform: Platform) -> u64 {
        match platform {
            Platform::Spa => SPA_REFRESH_LIFETIME,
            Platform::Web | Platform::PublicClient => NATIVE_REFRESH_LIFETIME,
        }
    }

    /// The grant of the refresh token that replaces this one, redeemed at `now`: a SPA's keeps
    /// its expiry; the others' lifetime starts again.
    pub fn rotated(self, now: u64) -> Self {
        match self.platform {
            Platform::Spa => self,
            Platform::Web | Platform::PublicClient => Self { expires_at: now + NATIVE_REFRESH_LIFETIME, ..self },
        }
    }
}

/// A device code (RFC 8628) waiting for its user to sign in at `/devicelogin`.
#[derive(Debug, Clone)]
pub struct DeviceGrant {
    /// The client that asked for it.
    pub client_id: String,
    /// The `{tenant}` segment of the request (a tenant, `common` or `organizations`).
    pub tenant_segment: String,
    /// The resource and scopes the sign-in grants.
    pub resource: Resource,
    /// Their bare names, as `scp` carries them.
    pub scopes: Vec<String>,
    /// Whether `openid` was asked (an ID token is due).
    pub openid: bool,
    /// Whether `offline_access` was asked (a refresh token is due).
    pub offline_access: bool,
    /// The code the user types at `/devicelogin`.
    pub user_code: String,
    /// When it was issued.
    pub issued_at: u64,
    /// The user who signed in for it, once one has.
    pub approved: Option<Authorization>,
}

impl DeviceGrant {
    /// Whether its 15 minutes are over at `now`.
    pub fn expired(&self, now: u64) -> bool {
        self.issued_at + DEVICE_CODE_LIFETIME <= now
    }
}

/// The codes and refresh tokens issued and not yet forgotten.
#[derive(Default)]
pub struct Grants {
    codes: Mutex<HashMap<String, CodeGrant>>,
    refresh_tokens: Mutex<HashMap<String, RefreshGrant>>,
    /// Device codes, by the `device_code` the device polls with.
    devices: Mutex<HashMap<String, DeviceGrant>>,
}

impl Grants {
    /// Issues a code for `grant` (issued at `grant.issued_at`), forgetting the codes expired by then.
    pub fn issue_code(&self, grant: CodeGrant) -> String {
        let code = format!("1.A{}", random_text(48));
        let now = grant.issued_at;
        let mut codes = self.codes.lock().expect("code store lock");
        codes.retain(|_, grant| grant.issued_at + CODE_LIFETIME >= now);
        codes.insert(code.clone(), grant);
        code
    }

    /// Redeems `code` at `now`: it must be one issued (AADSTS9002313), not redeemed before
    /// (AADSTS54005) and not expired (AADSTS70008), then pass the endpoint's `checks` of the
    /// request against it. Only then is it spent; a failed redemption leaves it redeemable.
    pub fn redeem_code(
        &self,
        code: &str,
        now: u64,
        checks: impl FnOnce(&CodeGrant) -> Result<(), AadError>,
    ) -> Result<CodeGrant, AadError> {
        let mut codes = self.codes.lock().expect("code store lock");
        let grant = codes.get_mut(code).ok_or_else(|| {
            AadError::invalid_grant(
                9002313,
                "Invalid request. Request is malformed or invalid: the code is not one this tenant issued.",
            )
        })?;
        if grant.redeemed {
            return Err(AadError::invalid_grant(54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."));
        }
        if grant.issued_at + CODE_LIFETIME < now {
            return Err(AadError::invalid_grant(70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."));
        }
        checks(grant)?;
        grant.redeemed = true;
        Ok(grant.clone())
    }

    /// Issues a refresh token for `grant`.
    pub fn issue_refresh_token(&self, grant: RefreshGrant) -> String {
        let token = format!("1.A{}", random_text(96));
        self.refresh_tokens.lock().expect("refresh token store lock").insert(token.clone(), grant);
        token
    }

    /// What the refresh token `token` stands for, or AADSTS9002313 when it is not one issued.
    /// Redeeming it spends nothing: as in Entra, a rotated refresh token stays valid.
    pub fn refresh_grant(&self, token: &str) -> Result<RefreshGrant, AadError> {
        self.refresh_tokens.lock().expect("refresh token store lock").get(token).cloned().ok_or_else(|| {
            AadError::invalid_grant(
                9002313,
                "Invalid request. Request is malformed or invalid: the refresh token is not one this tenant issued.",
            )
        })
    }

    /// Issues a device code for `grant` (issued at `grant.issued_at`), with a user code of its
    /// own; forgets the expired ones. Returns the device code and the user code.
    pub fn issue_device_code(&self, mut grant: DeviceGrant) -> (String, String) {
        let device_code = format!("DAQABAAEAAAD{}", random_text(96));
        grant.user_code = user_code();
        let user_code = grant.user_code.clone();
        let now = grant.issued_at;
        let mut devices = self.devices.lock().expect("device code store lock");
        devices.retain(|_, grant| !grant.expired(now));
        devices.insert(device_code.clone(), grant);
        (device_code, user_code)
    }

    /// The device grant the user code `typed` names (any case, spaces and dashes ignored), if
    /// it is live at `now` and nobody has signed in with it yet (a code is used once).
    pub fn device_by_user_code(&self, typed: &str, now: u64) -> Option<DeviceGrant> {
        let typed: String = typed.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_uppercase();
        let devices = self.devices.lock().expect("device code store lock");
        devices
            .values()
            .find(|grant| grant.user_code == typed && !grant.expired(now) && grant.approved.is_none())
            .cloned()
    }

    /// Records that `authorization`'s user signed in for the device code of `user_code`.
    pub fn approve_device(&self, user_code: &str, authorization: Authorization) {
        let mut devices = self.devices.lock().expect("device code store lock");
        if let Some(grant) = devices.values_mut().find(|grant| grant.user_code == user_code) {
            grant.approved = Some(authorization);
        }
    }

    /// What a device polling with `device_code` for `client_id` at `now` gets: its grant once
    /// its user signed in (spent then), else `authorization_pending` (AADSTS70016),
    /// `expired_token` (AADSTS70020) or `bad_verification_code` (AADSTS70000).
    pub fn poll_device(&self, device_code: &str, client_id: &str, now: u64) -> Result<DeviceGrant, AadError> {
        let mut devices = self.devices.lock().expect("device code store lock");
        let grant = devices.get(device_code).filter(|grant| grant.client_id == client_id).ok_or_else(|| {
            AadError::new(
                "bad_verification_code",
                70000,
                "The device_code sent to the token endpoint was not recognized.",
            )
        })?;
        if grant.expired(now) {
            return Err(AadError::new(
                "expired_token",
                70020,
                "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
            ));
        }
        if grant.approved.is_none() {
            return Err(AadError::new(
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            ));
        }
        Ok(devices.remove(device_code).expect("found above"))
    }

    /// Ends the life of every refresh token at `now` (a SPA's 24 hours, a native client's 90
    /// days); returns how many there were.
    pub fn expire_refresh_tokens(&self, now: u64) -> usize {
        let mut tokens = self.refresh_tokens.lock().expect("refresh token store lock");
        tokens.values_mut().for_each(|grant| grant.expires_at = grant.expires_at.min(now));
        tokens.len()
    }
}

/// A user code as Entra shows it: nine letters and digits, none of them easy to misread.
fn user_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 9];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

/// `bytes` random bytes from the OS, base64url: the handles of codes, refresh tokens and SSO
/// sessions, and the `uti` of tokens.
pub fn random_text(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}
