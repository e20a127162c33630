//! `/{tenant}/oauth2/v2.0/token`: redeems codes and refresh tokens (the tokens themselves
//! come from [`crate::mint`]).
//!
//! Browser rules as Entra applies them: CORS answers only origins of registered SPA redirect
//! URIs; a SPA code needs an `Origin` (AADSTS9002327) and PKCE (AADSTS9002325); a Web code
//! redeemed from a browser is AADSTS9002326, and without a secret AADSTS7000218; so is a
//! native (Mobile and desktop) code or refresh token. SPA refresh tokens live 24 hours from
//! sign-in, rotate on use and keep that expiry (AADSTS700084); native ones live 90 days from
//! their last use (AADSTS700082). The device code grant needs *Allow public client flows*
//! (AADSTS7000218 without it) and answers `authorization_pending` until the user signs in.
//! A refresh brings a new ID token when `openid` was granted, and `client_info=1` (MSAL.js sends
//! it) adds the account's ids (`uid`, `utid`), as Entra does.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde::{Deserialize, Serialize};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::directory::{AppRegistration, Platform};
use crate::error::AadError;
use crate::grant::{Authorization, CodeGrant, RefreshGrant};
use crate::state::Emulator;

/// The token request's form fields.
#[derive(Default, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
    client_info: Option<String>,
    device_code: Option<String>,
}

/// The success body, as Entra sends it.
#[derive(Debug, Serialize)]
struct TokenBody {
    token_type: &'static str,
    scope: String,
    expires_in: u64,
    ext_expires_in: u64,
    access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token_expires_in: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    /// With `client_info=1`: base64url of `{"uid": <oid>, "utid": <tid>}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_info: Option<String>,
}

/// CORS for the token endpoint: only origins of registered SPA redirect URIs.
pub fn cors(emulator: &Arc<Emulator>) -> CorsLayer {
    let emulator = emulator.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin.to_str().is_ok_and(|origin| {
                emulator.directory().tenants.iter().flat_map(|tenant| &tenant.apps).any(|app| app.is_spa_origin(origin))
            })
        }))
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE])
}

/// `POST …/token`.
pub async fn redeem(
    State(emulator): State<Arc<Emulator>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let now = emulator.now();
    let from_browser = headers.contains_key(header::ORIGIN);
    let result = emulator.tenant_path(&tenant).and_then(|path| {
        let client_id = form.client_id.as_deref().ok_or_else(|| AadError::missing("client_id"))?;
        let app = emulator.client(path, client_id)?;
        let redemption = Redemption { emulator: &emulator, app, form: &form, from_browser, now };
        match form.grant_type.as_deref() {
            Some("authorization_code") => redemption.code(),
            Some("refresh_token") => redemption.refresh_token(),
            Some(channels_protocol::device::GRANT_TYPE) => redemption.device_code(),
            Some(other) => Err(AadError::new(
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            )),
            None => Err(AadError::missing("grant_type")),
        }
    });
    match result {
        Ok(body) => {
            let mut response = Json(body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(error) => error.into_json(now),
    }
}

/// The browser rules that both grants share.
fn check_client_kind(platform: Platform, from_browser: bool, form: &TokenForm) -> Result<(), AadError> {
    match (platform, from_browser) {
        (Platform::Spa, true) => Ok(()),
        (Platform::Spa, false) => Err(AadError::new(
            "invalid_request",
            9002327,
            "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
        )),
        (Platform::Web | Platform::PublicClient, true) => Err(AadError::new(
            "invalid_request",
            9002326,
            "Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type.",
        )),
        (Platform::Web, false) if form.client_secret.is_none() => Err(AadError::new(
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )),
        (Platform::Web, false) => Err(AadError::new(
            "invalid_client",
            7000215,
            "Invalid client secret provided. The emulator registers no client secrets.",
        )),
        (Platform::PublicClient, false) => Ok(()),
    }
}

/// A token request of a known client, to redeem.
#[derive(Clone, Copy)]
struct Redemption<'a> {
    emulator: &'a Emulator,
    app: &'a AppRegistration,
    form: &'a TokenForm,
    /// The request came from a browser (it has an `Origin`).
    from_browser: bool,
    now: u64,
}

impl Redemption<'_> {
    /// `grant_type=authorization_code`.
    fn code(self) -> Result<TokenBody, AadError> {
        let Self { emulator, app, form, now, .. } = self;
        let code = form.code.as_deref().ok_or_else(|| AadError::missing("code"))?;
        if form.scope.as_deref().is_some_and(|scope| scope.trim().is_empty()) {
            return Err(AadError::new(
                "invalid_scope",
                28003,
                "Provided value for the input parameter scope cannot be empty when requesting an access token using the provided authorization code. Please specify a valid scope.",
            ));
        }
        let grant = emulator.grants().redeem_code(code, now, |grant| self.repeats_authorize_request(grant))?;
        let refresh = grant.offline_access.then(|| RefreshGrant::of_code(&grant, now));
        let id_token = grant
            .openid
            .then(|| emulator.id_token_of(app, &grant.authorization, grant.nonce.as_deref(), &grant.sid, now));
        Ok(emulator.token_body(&grant.authorization, id_token, refresh, form, now))
    }

    /// `grant_type=refresh_token`.
    fn refresh_token(self) -> Result<TokenBody, AadError> {
        let Self { emulator, app, form, from_browser, now } = self;
        let token = form.refresh_token.as_deref().ok_or_else(|| AadError::missing("refresh_token"))?;
        let grant = emulator.grants().refresh_grant(token)?;
        if grant.authorization.client_id != app.app_id {
            return Err(AadError::invalid_grant(
                70000,
                "Provided grant is invalid or malformed: the refresh token was issued to another application.",
            ));
        }
        check_client_kind(grant.platform, from_browser, form)?;
        if now >= grant.expires_at && grant.platform == Platform::Spa {
            return Err(AadError::invalid_grant(700084, "The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page."));
        }
        if now >= grant.expires_at {
            return Err(AadError::invalid_grant(700082, "The refresh token has expired due to inactivity. The token was issued and was inactive for 90.00:00:00."));
        }
        // Rotation: a new refresh token (a SPA's with the original expiry, the others' for 90
        // days more); the old one stays valid, as in Entra.
        let grant = grant.rotated(now);
        let authorization = grant.authorization.clone();
        let asks_openid = form.scope.as_deref().is_none_or(|scope| scope.split(' ').any(|s| s == "openid"));
        let id_token =
            (grant.openid && asks_openid).then(|| emulator.id_token_of(app, &authorization, None, &grant.sid, now));
        Ok(emulator.token_body(&authorization, id_token, Some(grant), form, now))
    }

    /// `grant_type=urn:ietf:params:oauth:grant-type:device_code`: a public client flow, which
    /// the registration must allow (Authentication → Allow public client flows,
    /// `isFallbackPublicClient`); without it Entra asks for a secret (AADSTS7000218).
    fn device_code(self) -> Result<TokenBody, AadError> {
        let Self { emulator, app, form, from_browser, now } = self;
        if !app.public_client_flows {
            return Err(AadError::new(
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            ));
        }
        check_client_kind(Platform::PublicClient, from_browser, form)?;
        let device_code = form.device_code.as_deref().ok_or_else(|| AadError::missing("device_code"))?;
        let grant = emulator.grants().poll_device(device_code, &app.app_id, now)?;
        let authorization = grant.approved.expect("a polled grant was signed in for");
        let sid = crate::grant::random_text(16);
        let id_token = grant.openid.then(|| emulator.id_token_of(app, &authorization, None, &sid, now));
        let refresh = grant.offline_access.then(|| RefreshGrant {
            authorization: authorization.clone(),
            platform: Platform::PublicClient,
            expires_at: now + RefreshGrant::lifetime(Platform::PublicClient),
            openid: grant.openid,
            sid,
        });
        Ok(emulator.token_body(&authorization, id_token, refresh, form, now))
    }

    /// What the token request must repeat of the code's authorize request: the client, the
    /// redirect URI, a client of the redirect URI's platform, and the PKCE verifier.
    fn repeats_authorize_request(self, grant: &CodeGrant) -> Result<(), AadError> {
        let Self { app, form, from_browser, .. } = self;
        if grant.authorization.client_id != app.app_id {
            return Err(AadError::invalid_grant(
                70000,
                "Provided grant is invalid or malformed: the code was issued to another application.",
            ));
        }
        if form.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
            return Err(AadError::invalid_grant(
                70000,
                format!(
                    "Provided grant is invalid or malformed: expected redirect_uri '{}' (found '{}').",
                    grant.redirect_uri,
                    form.redirect_uri.as_deref().unwrap_or_default()
                ),
            ));
        }
        check_client_kind(grant.platform, from_browser, form)?;
        match (&grant.challenge, grant.platform) {
            (Some((challenge, method)), _) => {
                let verified = form.code_verifier.as_deref().is_some_and(|v| method.verify(challenge, v));
                if !verified {
                    return Err(AadError::invalid_grant(
                        501481,
                        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                    ));
                }
                Ok(())
            }
            (None, Platform::Spa) => Err(AadError::new(
                "invalid_request",
                9002325,
                "Proof Key for Code Exchange is required for cross-origin authorization code redemption.",
            )),
            (None, Platform::Web | Platform::PublicClient) => Ok(()),
        }
    }
}

impl Emulator {
    /// An ID token for the user and client of `authorization`, in the browser session `sid`.
    fn id_token_of(
        &self,
        app: &AppRegistration,
        authorization: &Authorization,
        nonce: Option<&str>,
        sid: &str,
        now: u64,
    ) -> String {
        let tenant = self.directory().tenant_by_id(&authorization.tenant_id).expect("grants name served tenants");
        let user = tenant.user_by_oid(&authorization.user_oid).expect("grants are issued to known users");
        self.id_token(tenant, app, user, nonce, Some(sid), None, now)
    }

    fn token_body(
        &self,
        authorization: &Authorization,
        id_token: Option<String>,
        refresh: Option<RefreshGrant>,
        form: &TokenForm,
        now: u64,
    ) -> TokenBody {
        let client_info = (form.client_info.as_deref() == Some("1")).then(|| {
            let ids = serde_json::json!({ "uid": authorization.user_oid, "utid": authorization.tenant_id });
            URL_SAFE_NO_PAD.encode(ids.to_string())
        });
        let access = self.access_token(authorization, now);
        let expires_in = access.expires_at - now;
        // Entra tells only a SPA how long its refresh token lives: it cannot be extended.
        let refresh_token_expires_in =
            refresh.as_ref().filter(|grant| grant.platform == Platform::Spa).map(|grant| grant.expires_at - now);
        let refresh_token = refresh.map(|grant| self.grants().issue_refresh_token(grant));
        TokenBody {
            token_type: "Bearer",
            scope: access.scope,
            expires_in,
            ext_expires_in: expires_in,
            access_token: access.token,
            refresh_token,
            refresh_token_expires_in,
            id_token,
            client_info,
        }
    }
}
