//! What operators see and do: a request id on every request, in its response and in each of its
//! log lines; logs as text or JSON; Prometheus metrics on a listener of their own; and a
//! shutdown that drains first (`/readyz` answers 503 while requests are still served), then
//! lets the requests in flight finish.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::auth::keys::{KeyCache, KeyError};
use crate::config::{LogFormat, Operations};
use crate::members::MemberStore;

/// The header that carries a request's id, in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id kept from a client (a load balancer's): longer ones are replaced.
const MAX_REQUEST_ID: usize = 128;

/// Starts the log: `RUST_LOG` filters it (default `info`), `format` shapes it. JSON lines carry
/// the request's span (its id, method and path) with each event.
pub fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).init(),
    }
}

/// Wraps `app` so that every request has an id (kept from the client only when `trusted`),
/// answered in `X-Request-Id` and named by each log line of the request, and is counted in the
/// metrics by route and status.
pub fn layers<S: Clone + Send + Sync + 'static>(app: Router<S>, trusted: bool) -> Router<S> {
    // The span is at ERROR, so that it is on whatever `RUST_LOG` keeps: a warning of the request
    // names its id too. A 5xx is a warning: `/readyz` answers 503 by design while draining.
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request| {
            let id = request.headers().get(&REQUEST_ID).and_then(|id| id.to_str().ok()).unwrap_or_default();
            tracing::error_span!("request", id = %id, method = %request.method(), path = %request.uri().path())
        })
        .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::WARN));
    // Outermost first: the client's id is vetted, an id is set, the response gets it, then the
    // request is traced (in a span named by the id) and counted.
    app.layer(axum::middleware::from_fn(count))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::from_fn(move |request, next| vet_request_id(trusted, request, next)))
}

/// Drops a client's `X-Request-Id` unless client ids are trusted, and one that is too long or
/// not plain visible ASCII even then (it goes into every log line of the request).
async fn vet_request_id(trusted: bool, mut request: Request, next: Next) -> Response {
    let acceptable = |id: &HeaderValue| {
        id.len() <= MAX_REQUEST_ID && !id.is_empty() && id.as_bytes().iter().all(|b| b.is_ascii_graphic())
    };
    if !trusted || !request.headers().get(&REQUEST_ID).is_some_and(acceptable) {
        request.headers_mut().remove(&REQUEST_ID);
    }
    next.run(request).await
}

/// Counts a request by its route (the pattern, never the path a client chose) and status,
/// with its duration.
async fn count(request: Request, next: Next) -> Response {
    let route = match request.extensions().get::<MatchedPath>() {
        Some(path) => path.as_str().to_owned(),
        None if request.uri().path().starts_with("/api/") => "unmatched".to_owned(),
        None => "spa".to_owned(),
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("channels_http_requests_total", "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("channels_http_request_duration_seconds", "route" => route).record(started.elapsed());
    response
}

/// Installs the process's metrics recorder and serves `/metrics` on `listen`, with the
/// recorder's upkeep (histograms drained every 5 s) for as long as the process runs.
pub async fn serve_metrics(listen: SocketAddr) -> std::io::Result<()> {
    let handle = install_recorder();
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let handle = handle.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(())
}

fn install_recorder() -> PrometheusHandle {
    let recorder = PrometheusBuilder::new()
        .set_buckets(&[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
        .expect("bucket bounds are given")
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).expect("the metrics recorder is installed once, at start");
    handle
}

/// Whether the instance is shutting down: `/readyz` then answers 503, so that a load balancer
/// stops sending it requests.
#[derive(Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// Whether the shutdown has begun.
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Begins the shutdown.
    pub fn begin(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// How the process was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM: an orchestrator or a load balancer's owner; drain first.
    Terminate,
    /// SIGINT (Ctrl-C): a person at a terminal; no drain.
    Interrupt,
}

/// Resolves at SIGTERM or SIGINT (Ctrl-C).
pub async fn stop_signal() -> Stop {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("a SIGTERM handler");
    tokio::select! {
        _ = terminate.recv() => Stop::Terminate,
        _ = tokio::signal::ctrl_c() => Stop::Interrupt,
    }
}

/// The shutdown's two phases, as `operations` sets them: at SIGTERM the instance is marked
/// draining (`/readyz` 503) and keeps serving for the drain time; then the server stops
/// accepting and waits for requests in flight, for at most the grace time, after which they are
/// cut off. Whether every request finished.
pub async fn shut_down(
    stop: Stop,
    operations: &Operations,
    draining: &Draining,
    mut server: tokio::task::JoinHandle<std::io::Result<()>>,
    stop_accepting: tokio::sync::oneshot::Sender<()>,
) -> bool {
    draining.begin();
    if stop == Stop::Terminate {
        tracing::info!(seconds = operations.drain.as_secs(), "SIGTERM: draining, /readyz answers 503");
        tokio::time::sleep(operations.drain).await;
    }
    let _ = stop_accepting.send(());
    match tokio::time::timeout(operations.grace, &mut server).await {
        Ok(Ok(Ok(()))) => {
            tracing::info!("stopped: every request in flight finished");
            true
        }
        Ok(outcome) => {
            tracing::error!(?outcome, "the server failed while stopping");
            false
        }
        Err(_) => {
            server.abort();
            tracing::warn!(seconds = operations.grace.as_secs(), "stopped with requests still in flight");
            false
        }
    }
}

/// `GET /readyz`: ready when the tenant's signing keys are loaded (fetched now if need be) and
/// the member database answers; 503 `draining` once the shutdown has begun.
pub async fn readiness(draining: &Draining, keys: &KeyCache, members: &MemberStore) -> Response {
    if draining.is_draining() {
        return draining_answer();
    }
    let keys = match keys.ensure_loaded().await {
        Ok(0) => return not_ready("signing keys", "the tenant's key set holds no RSA signing key".to_owned()),
        Ok(keys) => keys,
        Err(KeyError::Unavailable(why) | KeyError::UnknownKid(why)) => return not_ready("signing keys", why),
    };
    if let Err(error) = members.ping().await {
        return not_ready("member database", error.to_string());
    }
    if draining.is_draining() {
        return draining_answer(); // began while the keys or the database were being checked
    }
    Json(serde_json::json!({ "ready": true, "signing_keys": keys, "database": "ok" })).into_response()
}

/// The 503 of an instance shutting down, so that the load balancer sends it nothing new.
fn draining_answer() -> Response {
    let body = channels_protocol::wire::ApiError {
        error: "draining".into(),
        message: "expected an instance taking requests (found it shutting down: requests still in flight finish)"
            .into(),
        fix: None,
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

/// A 503 naming what is missing; why (URLs, errors of the network or database) goes to the log.
fn not_ready(what: &str, why: String) -> Response {
    tracing::warn!(%why, "not ready: {what}");
    let body = channels_protocol::wire::ApiError {
        error: "not_ready".into(),
        message: format!("expected the {what} to be available (found it unavailable; the API's log says why)"),
        fix: Some("Check ENTRA_AUTHORITY, ENTRA_TENANT_ID and CHANNELS_DATABASE_URL.".into()),
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}
