//! The emulator's HTTP server: the router that wires every endpoint's handler to Entra's
//! paths (and the emulator-only `/_emulator/` controls), the home page, and serving it on a
//! listener, over HTTP or HTTPS. No handler imports this module.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Html;
use axum::routing::{get, post};
use axum::Router;
use channels_protocol::clock::Clock;
use tokio::net::TcpListener;

use crate::directory::Directory;
use crate::html;
use crate::state::Emulator;
use crate::{authorize, control, device, discovery, logout, token};

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
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device::device_code))
        .route("/devicelogin", get(device::enter_code).post(device::sign_in))
        .route("/{tenant}/oauth2/v2.0/logout", get(logout::logout))
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
