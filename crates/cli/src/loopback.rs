//! The loopback redirect of a native client (RFC 8252 §7.3): a listener on a port the OS picks
//! (`http://localhost:<port>/`, which Entra matches against the registered `http://localhost`
//! on any port) that takes exactly one answer: a request to `/` with this sign-in's `state`.
//! Other paths (a browser's `/favicon.ico`) get a 404 and are ignored; a wrong `state` ends the
//! sign-in; no answer within the timeout ends it too. The browser tab is told it can close.

use std::future::IntoFuture as _;
use std::time::Duration;

use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use channels_protocol::callback::{self, Callback};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::error::CliError;

/// The listener, bound and not yet answered.
pub struct Loopback {
    listeners: Vec<TcpListener>,
    port: u16,
}

impl Loopback {
    /// Binds a port the OS picks on 127.0.0.1, and the same port on [::1] where there is IPv6
    /// (`localhost` may resolve to either; RFC 8252 §8.3). Loopback only.
    pub async fn bind() -> Result<Self, CliError> {
        let v4 = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| CliError(format!("expected a free port on 127.0.0.1 for Entra's answer (found none: {e})")))?;
        let port = v4.local_addr().map_err(|e| CliError(e.to_string()))?.port();
        let mut listeners = vec![v4];
        listeners.extend(TcpListener::bind(("::1", port)).await.ok());
        Ok(Self { listeners, port })
    }

    /// The redirect URI to send Entra back to.
    pub fn redirect_uri(&self) -> String {
        format!("http://localhost:{}/", self.port)
    }

    /// Starts taking requests, for the one answer whose `state` is `state`: before the browser
    /// opens, so that no answer waits on a listener that does not serve yet.
    pub fn listen(self, state: &str) -> Waiting {
        let (answered, answers) = mpsc::channel::<Result<Callback, CliError>>(1);
        let expected = state.to_owned();
        let app = Router::new()
            .route(
                "/",
                get(move |RawQuery(query): RawQuery| {
                    let (answered, expected) = (answered.clone(), expected.clone());
                    async move {
                        let (status, page, outcome) = read(query.as_deref().unwrap_or_default(), &expected);
                        let _ = answered.send(outcome).await;
                        (status, Html(page))
                    }
                }),
            )
            .fallback(|| async {
                (StatusCode::NOT_FOUND, Html(tab("Not found", "This is not the sign-in's address.")))
            });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let servers = self
            .listeners
            .into_iter()
            .map(|listener| {
                let mut stopped = stopped.clone();
                tokio::spawn(
                    axum::serve(listener, app.clone())
                        .with_graceful_shutdown(async move {
                            let _ = stopped.wait_for(|stop| *stop).await;
                        })
                        .into_future(),
                )
            })
            .collect();
        Waiting { answers, stop, servers, port: self.port }
    }
}

/// A listener serving, until its one answer.
pub struct Waiting {
    answers: mpsc::Receiver<Result<Callback, CliError>>,
    stop: tokio::sync::watch::Sender<bool>,
    servers: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
    port: u16,
}

impl Waiting {
    /// The answer, within `timeout`; then the listener closes.
    pub async fn answer(mut self, timeout: Duration) -> Result<Callback, CliError> {
        let outcome = match tokio::time::timeout(timeout, self.answers.recv()).await {
            Ok(Some(outcome)) => outcome,
            Ok(None) => Err(CliError("expected Entra's answer (found the listener closed)".to_owned())),
            Err(_) => Err(CliError(format!(
                "expected Entra's answer at {} within {} s (found none): if the browser shows AADSTS50011, the \
                 registration lacks the Mobile and desktop platform (an admin's step: docs/cli.md); otherwise sign \
                 in again with `channels login`, or use `channels login --device-code` where no browser can reach \
                 this machine",
                format_args!("http://localhost:{}/", self.port),
                timeout.as_secs()
            ))),
        };
        // The tab gets its page before the listener closes.
        let _ = self.stop.send(true);
        for server in self.servers {
            let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
        }
        outcome
    }
}

/// What one request to `/` means: the page to answer with, and the sign-in's outcome.
fn read(query: &str, expected: &str) -> (StatusCode, String, Result<Callback, CliError>) {
    let callback = match callback::parse(query) {
        Ok(callback) => callback,
        Err(error) => {
            let page = tab("Sign-in failed", "The answer was not one Entra sends. Go back to the terminal.");
            return (StatusCode::BAD_REQUEST, page, Err(CliError(format!("expected Entra's answer (found {error})"))));
        }
    };
    if callback.state() != Some(expected) {
        let page = tab("Sign-in refused", "This answer belongs to another sign-in. Go back to the terminal.");
        let error = CliError(
            "expected the answer to this sign-in (found another sign-in's state): nothing was redeemed; run \
             `channels login` again"
                .to_owned(),
        );
        return (StatusCode::BAD_REQUEST, page, Err(error));
    }
    let page = match &callback {
        Callback::Error { .. } => tab("Sign-in failed", "Entra refused the sign-in. The terminal says why."),
        _ => tab("Signed in", "You can close this tab and go back to the terminal."),
    };
    (StatusCode::OK, page, Ok(callback))
}

/// The page the browser tab shows.
fn tab(title: &str, text: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · Channels</title></head>\
         <body><h1>{title}</h1><p>{text}</p></body></html>"
    )
}
