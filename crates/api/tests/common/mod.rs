//! What the API's HTTP tests share: the demo emulator and an API server on loopback.
#![allow(dead_code)]

use channels_api::{router, AppState};
use entra_emulator::directory::demo;
use entra_emulator::{Clock, Running};
use tokio::net::TcpListener;

/// A SQLite member database in `dir`, created on first use.
pub fn sqlite_in(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}?mode=rwc", dir.path().join("members.db").display())
}

/// The emulator with the demo tenant, on a free loopback port.
pub async fn emulator(clock: Clock) -> Running {
    entra_emulator::spawn(TcpListener::bind("127.0.0.1:0").await.unwrap(), demo::tenant(), clock).await.unwrap()
}

/// Serves `state` on a free loopback port; returns its origin.
pub async fn serve(state: AppState) -> String {
    let app = router(state).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    api
}

/// Sends `request` and reads its JSON answer.
pub async fn json<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> T {
    request.send().await.unwrap().json().await.unwrap()
}
