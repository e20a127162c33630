//! An Entra ID-shaped identity provider for local runs and tests.
//!
//! Same paths, token shapes and `AADSTS` errors as `login.microsoftonline.com`, so that what
//! passes against it works against a real tenant. The issuer is the emulator's own origin in
//! place of `https://login.microsoftonline.com`. A library first ([`spawn`] binds any port and
//! takes its issuer from the bound address), a binary second.
//!
//! The flow through the modules: [`discovery`] (metadata and keys) → [`authorize`] (sign-in
//! page, code) → [`token`] (code and refresh token redemption, token minting) → `logout`.

pub mod authorize;
pub mod directory;
pub mod discovery;
pub mod error;
mod html;
pub mod keys;
pub mod manifest;
pub mod token;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use tokio::net::TcpListener;

use crate::directory::Tenant;
use crate::error::AadError;
use crate::keys::SigningKey;

/// Seconds since the Unix epoch; injected so tests can move time.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// The emulator's state: one tenant, its signing key, and the grants it has handed out.
pub struct Emulator {
    tenant: Tenant,
    key: SigningKey,
    origin: String,
    clock: Clock,
    codes: Mutex<HashMap<String, authorize::CodeGrant>>,
    refresh_tokens: Mutex<HashMap<String, token::RefreshGrant>>,
}

impl Emulator {
    /// An emulator for `tenant` whose issuer is `origin` (`http://127.0.0.1:9400`).
    pub fn new(tenant: Tenant, origin: impl Into<String>, clock: Clock) -> Self {
        Self {
            tenant,
            key: SigningKey::generate(),
            origin: origin.into(),
            clock,
            codes: Mutex::default(),
            refresh_tokens: Mutex::default(),
        }
    }

    /// The directory served.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// The signing key (tests use it to sign tokens with one field changed).
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The origin that stands in for `https://login.microsoftonline.com`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The v2 issuer: `{origin}/{tenant id}/v2.0`.
    pub fn issuer(&self) -> String {
        format!("{}/{}/v2.0", self.origin, self.tenant.id)
    }

    fn now(&self) -> u64 {
        (self.clock)()
    }

    /// The app registration with this client id, or AADSTS700016.
    fn app(&self, client_id: &str) -> Result<&directory::AppRegistration, AadError> {
        self.tenant.app(client_id).ok_or_else(|| {
            AadError::new(
                "unauthorized_client",
                700016,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory '{}'.",
                    self.tenant.id
                ),
            )
        })
    }

    fn check_tenant(&self, segment: &str) -> Result<(), AadError> {
        if self.tenant.is_named(segment) {
            Ok(())
        } else {
            Err(AadError::new(
                "invalid_tenant",
                90002,
                format!("Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
            ))
        }
    }
}

/// The emulator's routes, Entra's paths.
pub fn router(emulator: Arc<Emulator>) -> Router {
    let token_cors = token::cors(&emulator);
    Router::new()
        .route("/", get(home))
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery::openid_configuration))
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys))
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize::show).post(authorize::sign_in))
        .route("/{tenant}/oauth2/v2.0/token", axum::routing::post(token::redeem).layer(token_cors))
        .route("/{tenant}/oauth2/v2.0/logout", get(logout))
        .with_state(emulator)
}

/// A running emulator, for tests and the binary.
pub struct Running {
    /// Its state, to mint tokens or inspect grants.
    pub emulator: Arc<Emulator>,
    /// The bound address.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// `http://{addr}`.
    pub fn origin(&self) -> &str {
        self.emulator.origin()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `tenant` on `listener`; the issuer is taken from the bound address.
pub async fn spawn(listener: TcpListener, tenant: Tenant, clock: Clock) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let emulator = Arc::new(Emulator::new(tenant, format!("http://{addr}"), clock));
    let app = router(emulator.clone());
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "emulator stopped");
        }
    });
    Ok(Running { emulator, addr, task })
}

async fn home(State(emulator): State<Arc<Emulator>>) -> Html<String> {
    let tenant = emulator.tenant();
    let body = format!(
        "<h1>Entra emulator</h1><p>Tenant <code>{}</code> ({}), {} users.</p>\
         <p>Metadata: <a href=\"/{0}/v2.0/.well-known/openid-configuration\">openid-configuration</a></p>",
        html::escape(&tenant.id),
        html::escape(&tenant.domains.join(", ")),
        tenant.users.len()
    );
    Html(html::page("Entra emulator", &body))
}

#[derive(Deserialize)]
struct LogoutParams {
    post_logout_redirect_uri: Option<String>,
}

/// `GET /{tenant}/oauth2/v2.0/logout`: the emulator keeps no sign-in session, so signing out
/// only returns to `post_logout_redirect_uri` when it is registered on an app of the tenant.
async fn logout(
    State(emulator): State<Arc<Emulator>>,
    Path(tenant): Path<String>,
    Query(params): Query<LogoutParams>,
) -> Response {
    if let Err(error) = emulator.check_tenant(&tenant) {
        return error.into_page();
    }
    if let Some(uri) = params.post_logout_redirect_uri {
        if emulator.tenant.apps.iter().any(|app| app.redirect_uri(&uri).is_some()) {
            return error::found(&uri);
        }
        return AadError::new(
            "invalid_request",
            50011,
            format!("The redirect URI '{uri}' specified in the request does not match the redirect URIs configured for the application."),
        )
        .into_page();
    }
    Html(html::page(
        "Signed out",
        "<h1>You signed out of your account</h1><p>It's a good idea to close all browser windows.</p>",
    ))
    .into_response()
}
