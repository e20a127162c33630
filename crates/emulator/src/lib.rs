//! An Entra ID-shaped identity provider for local runs and tests.
//!
//! Same paths, token shapes and `AADSTS` errors as `login.microsoftonline.com`, so that what
//! passes against it works against a real tenant. The emulator's own origin stands in for
//! `https://login.microsoftonline.com` (v1 tokens keep Entra's literal `https://sts.windows.net/`
//! issuer). A library first ([`spawn`] binds any port and takes its issuer from the bound
//! address), a binary second. docs/emulator.md lists each behaviour emulated, with its test.
//!
//! The flow through the modules: [`directory`] (tenants, users, groups, apps; [`manifest`]
//! reads them from Microsoft's JSON shapes) → [`discovery`] (metadata and keys) → [`authorize`]
//! (sign-in and consent pages, the SSO session, the code) → [`token`] (code and refresh token
//! redemption) → [`mint`] (v1, v2, Graph and ID tokens) → [`session`] (sign-out, front-channel
//! logout). [`control`] holds the emulator-only routes: key rolls, the clock, and
//! [`provisioning`] cycles (Entra's SCIM provisioning service, played against a SCIM URL).

pub mod authorize;
pub mod control;
pub mod directory;
pub mod discovery;
pub mod error;
mod html;
pub mod keys;
pub mod manifest;
pub mod mint;
pub mod provisioning;
pub mod session;
pub mod token;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::response::Html;
use axum::routing::{get, post};
use axum::Router;
use channels_protocol::cloud::Cloud;
use tokio::net::TcpListener;

use crate::directory::{AppRegistration, Audience, Directory, Tenant};
use crate::error::AadError;
use crate::keys::{KeySet, SigningKey};

pub use channels_protocol::clock::{system_clock, Clock};

/// What the `{tenant}` path segment names.
#[derive(Debug, Clone, Copy)]
pub enum TenantPath<'a> {
    /// A tenant, by id or verified domain.
    Tenant(&'a Tenant),
    /// `common` or `organizations`: the user's own tenant, decided at sign-in.
    Any,
}

/// The emulator's state: the directory, the signing keys, and what it has handed out.
pub struct Emulator {
    directory: Directory,
    keys: KeySet,
    origin: String,
    clock: Clock,
    clock_offset: AtomicU64,
    codes: Mutex<HashMap<String, authorize::CodeGrant>>,
    refresh_tokens: Mutex<HashMap<String, token::RefreshGrant>>,
    sessions: Mutex<HashMap<String, session::SsoSession>>,
    consents: Mutex<HashSet<authorize::Consent>>,
    /// Provisioning jobs and what each last sent (held across a cycle's requests).
    provisioning_jobs: tokio::sync::Mutex<HashMap<provisioning::JobKey, provisioning::Watermark>>,
    /// Users taken out of provisioning scope (unassigned from the app), by object id.
    out_of_scope: Mutex<BTreeSet<String>>,
}

impl Emulator {
    /// An emulator for `directory` whose authority is `origin` (`http://127.0.0.1:9400`).
    pub fn new(directory: impl Into<Directory>, origin: impl Into<String>, clock: Clock) -> Self {
        Self {
            directory: directory.into(),
            keys: KeySet::generate(),
            origin: origin.into(),
            clock,
            clock_offset: AtomicU64::new(0),
            codes: Mutex::default(),
            refresh_tokens: Mutex::default(),
            sessions: Mutex::default(),
            consents: Mutex::default(),
            provisioning_jobs: tokio::sync::Mutex::default(),
            out_of_scope: Mutex::default(),
        }
    }

    /// Every tenant served.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The first tenant (the demo's Contoso).
    pub fn tenant(&self) -> &Tenant {
        &self.directory.tenants[0]
    }

    /// The key that signs now (tests use it to sign tokens with one field changed).
    pub fn key(&self) -> Arc<SigningKey> {
        self.keys.signing()
    }

    /// The published keys, to roll them.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The origin that stands in for `https://login.microsoftonline.com`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The v2 issuer of the first tenant: `{origin}/{tenant id}/v2.0`.
    pub fn issuer(&self) -> String {
        self.issuer_of(&self.tenant().id)
    }

    /// The v2 issuer of `tenant_id` (`{tenantid}` for the multi-tenant template): the emulator's
    /// origin in the global cloud, the cloud's own form in another ([`Directory::cloud`]).
    pub fn issuer_of(&self, tenant_id: &str) -> String {
        self.directory.cloud.v2_issuer(&self.origin, tenant_id)
    }

    /// The v1 issuer of `tenant_id`: `https://sts.windows.net/{tid}/`, or the cloud's (External ID
    /// documents none; the global one stands in).
    pub fn v1_issuer_of(&self, tenant_id: &str) -> String {
        let cloud = self.directory.cloud;
        cloud.v1_issuer(tenant_id).or_else(|| Cloud::Global.v1_issuer(tenant_id)).unwrap_or_default()
    }

    /// Now, by the injected clock plus whatever [`control`] moved it forward.
    pub fn now(&self) -> u64 {
        (self.clock)() + self.clock_offset.load(Ordering::SeqCst)
    }

    /// Resolves the `{tenant}` path segment, or AADSTS90002.
    fn tenant_path(&self, segment: &str) -> Result<TenantPath<'_>, AadError> {
        if segment.eq_ignore_ascii_case("common") || segment.eq_ignore_ascii_case("organizations") {
            return Ok(TenantPath::Any);
        }
        self.directory.tenant(segment).map(TenantPath::Tenant).ok_or_else(|| {
            AadError::new(
                "invalid_tenant",
                90002,
                format!("Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
            )
        })
    }

    /// The app with this client id as seen from `path`: registered in the tenant, or a
    /// multi-tenant app from elsewhere; AADSTS700016 or, for a single-tenant app at
    /// `common`, AADSTS50194.
    fn client<'a>(&'a self, path: TenantPath<'a>, client_id: &str) -> Result<&'a AppRegistration, AadError> {
        let not_found = |directory: &str| {
            AadError::new(
                "unauthorized_client",
                700016,
                format!("Application with identifier '{client_id}' was not found in the directory '{directory}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."),
            )
        };
        match path {
            TenantPath::Tenant(tenant) => match (tenant.app(client_id), self.directory.app(client_id)) {
                (Some(app), _) => Ok(app),
                (None, Some((_, app))) if app.audience == Audience::MultipleOrgs => Ok(app),
                _ => Err(not_found(&tenant.id)),
            },
            TenantPath::Any => {
                let (_, app) = self.directory.app(client_id).ok_or_else(|| not_found("common"))?;
                if app.audience == Audience::MyOrg {
                    return Err(AadError::new(
                        "invalid_request",
                        50194,
                        format!("Application '{}'({}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.", app.app_id, app.display_name),
                    ));
                }
                Ok(app)
            }
        }
    }
}

/// The emulator's routes: Entra's paths, then the emulator-only `/_emulator/` controls.
pub fn router(emulator: Arc<Emulator>) -> Router {
    let token_cors = token::cors(&emulator);
    let controls = Router::new()
        .route("/_emulator/keys/roll", post(control::roll_keys))
        .route("/_emulator/clock", post(control::advance_clock))
        .route("/_emulator/refresh-tokens/expire", post(control::expire_refresh_tokens))
        .route("/_emulator/provisioning/cycle", post(control::provisioning_cycle))
        .route("/_emulator/provisioning/scope", post(control::provisioning_scope))
        .route_layer(axum::middleware::from_fn(control::require_header));
    let discovery = Router::new()
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery::openid_configuration))
        .route("/{tenant}/.well-known/openid-configuration", get(discovery::v1_openid_configuration))
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys))
        .route("/{tenant}/discovery/keys", get(discovery::keys))
        .route("/common/discovery/instance", get(discovery::instance))
        // Per route: unknown paths (the fallback) get no CORS answer.
        .route_layer(discovery::cors());
    Router::new()
        .route("/", get(home))
        .merge(discovery)
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize::show).post(authorize::sign_in))
        .route("/{tenant}/oauth2/v2.0/token", post(token::redeem).layer(token_cors))
        .route("/{tenant}/oauth2/v2.0/logout", get(session::logout))
        .merge(controls)
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

/// Serves `directory` on `listener`; the authority is taken from the bound address.
pub async fn spawn(listener: TcpListener, directory: impl Into<Directory>, clock: Clock) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let emulator = Arc::new(Emulator::new(directory, format!("http://{addr}"), clock));
    let app = router(emulator.clone());
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "emulator stopped");
        }
    });
    Ok(Running { emulator, addr, task })
}

async fn home(State(emulator): State<Arc<Emulator>>) -> Html<String> {
    let tenants: String = emulator
        .directory()
        .tenants
        .iter()
        .map(|tenant| {
            format!(
                "<li>{} <code>{}</code> ({}), {} users: \
                 <a href=\"/{1}/v2.0/.well-known/openid-configuration\">openid-configuration</a></li>",
                html::escape(&tenant.display_name),
                html::escape(&tenant.id),
                html::escape(&tenant.domains.join(", ")),
                tenant.users.len()
            )
        })
        .collect();
    Html(html::page("Entra emulator", &format!("<h1>Entra emulator</h1><ul>{tenants}</ul>")))
}

/// A running emulator on HTTPS, and the certificate to trust.
pub struct RunningTls {
    /// The emulator, whose origin is `https://localhost:{port}`.
    pub running: Running,
    /// Its self-signed certificate (PEM), for clients' trust stores.
    pub certificate_pem: String,
}

/// Serves `directory` over HTTPS on `listener` with a self-signed certificate for `localhost`
/// and `127.0.0.1`, made at start; the authority is `https://localhost:{port}`. For standard
/// clients that refuse plain-http authorities.
pub async fn spawn_tls(
    listener: TcpListener,
    directory: impl Into<Directory>,
    clock: Clock,
) -> std::io::Result<RunningTls> {
    let addr = listener.local_addr()?;
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .map_err(std::io::Error::other)?;
    let key = rustls_pki_types::PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der());
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key.into())
        .map_err(std::io::Error::other)?;
    let emulator = Arc::new(Emulator::new(directory, format!("https://localhost:{}", addr.port()), clock));
    let app = router(emulator.clone());
    let server = axum_server::from_tcp_rustls(
        listener.into_std()?,
        axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls)),
    );
    let task = tokio::spawn(async move {
        if let Err(error) = server.serve(app.into_make_service()).await {
            tracing::error!(%error, "emulator stopped");
        }
    });
    Ok(RunningTls { running: Running { emulator, addr, task }, certificate_pem: certified.cert.pem() })
}
