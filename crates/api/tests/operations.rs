//! What operators rely on, against the `channels-api` binary as it runs in production: a request
//! id in every response and log line, JSON logs without tokens, Prometheus metrics on their own
//! listener, and a SIGTERM that drains (`/readyz` 503) and lets requests in flight finish.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::{Json, Router};
use entra_emulator::directory::demo;
use entra_emulator::Emulator;
use tokio::io::AsyncReadExt as _;

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// alice's access token, as the identity provider at `issuer` signs it with the emulator's key.
fn token(emulator: &Emulator, issuer: Option<&str>) -> String {
    let tenant = emulator.tenant();
    let alice = tenant.user_by_upn("alice@contoso.example").unwrap();
    let mut claims = emulator.access_token_claims(&tenant.apps[0], alice, &[demo::SCOPE.to_owned()], now());
    if let Some(issuer) = issuer {
        claims.iss = issuer.to_owned();
    }
    emulator.key().sign(&claims)
}

/// An identity provider for the demo tenant that serves the emulator's key `delay` late: a
/// request that needs the keys stays in flight that long.
async fn slow_identity_provider(emulator: &Emulator, delay: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let tenant = demo::TENANT_ID;
    let metadata = serde_json::json!({
        "issuer": format!("{base}/{tenant}/v2.0"),
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
    });
    let keys = serde_json::json!({ "keys": [emulator.key().jwk()] });
    let app = Router::new()
        .route(&format!("/{tenant}/v2.0/.well-known/openid-configuration"), get(move || async move { Json(metadata) }))
        .route(
            &format!("/{tenant}/discovery/v2.0/keys"),
            get(move || async move {
                tokio::time::sleep(delay).await;
                Json(keys)
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

struct Api {
    child: tokio::process::Child,
    origin: String,
    _database: tempfile::TempDir,
}

/// Starts the binary against `authority` with these extra variables; waits for `/healthz`.
async fn start_api(authority: &str, env: &[(&str, String)]) -> Api {
    let database = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_channels-api"));
    command
        .env("CHANNELS_API_ADDR", format!("127.0.0.1:{port}"))
        .env("ENTRA_AUTHORITY", authority)
        .env("CHANNELS_DEMO", "1")
        .env("CHANNELS_DATABASE_URL", format!("sqlite://{}?mode=rwc", database.path().join("m.db").display()))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let child = command.spawn().unwrap();
    let origin = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{origin}/healthz")).await.is_ok_and(|r| r.status() == 200) {
            return Api { child, origin, _database: database };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("channels-api did not start");
}

impl Api {
    /// Sends SIGTERM, as an orchestrator stopping the instance does.
    fn terminate(&self) {
        let pid = self.child.id().unwrap().to_string();
        assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    }

    /// Waits for the process to end (at most `within`); returns its exit status and its log.
    async fn ended(mut self, within: Duration) -> (std::process::ExitStatus, String) {
        let status = tokio::time::timeout(within, self.child.wait()).await.expect("the API stopped in time").unwrap();
        let mut log = String::new();
        self.child.stdout.take().unwrap().read_to_string(&mut log).await.unwrap();
        (status, log)
    }
}

fn request_id(response: &reqwest::Response) -> String {
    response.headers().get("x-request-id").expect("every response names its request").to_str().unwrap().to_owned()
}

#[tokio::test]
async fn request_ids_json_logs_and_metrics_name_every_request_and_never_a_token() {
    let running = common::emulator(entra_emulator::system_clock()).await;
    let metrics_port = free_port();
    let api = start_api(
        running.origin(),
        &[("CHANNELS_METRICS_ADDR", format!("127.0.0.1:{metrics_port}")), ("CHANNELS_LOG_FORMAT", "json".into())],
    )
    .await;
    let http = reqwest::Client::new();
    let token = token(&running.emulator, None);

    // Not trusted by default: a client's id is replaced by one of the API's own.
    let ok = http.get(format!("{}/api/me", api.origin)).bearer_auth(&token).header("x-request-id", "lb-1").send().await;
    let ok = ok.unwrap();
    assert_eq!(ok.status(), 200);
    let ok_id = request_id(&ok);
    assert_ne!(ok_id, "lb-1");
    assert_eq!(ok_id.len(), 36, "a UUID: {ok_id}");
    // A refusal: the token is signed, but for another tenant.
    let mut claims = running.emulator.access_token_claims(
        &running.emulator.tenant().apps[0],
        running.emulator.tenant().user_by_upn("bob@contoso.example").unwrap(),
        &[demo::SCOPE.to_owned()],
        now(),
    );
    claims.tid = "0badc0de-0000-4000-8000-000000000000".into();
    let foreign = running.emulator.key().sign(&claims);
    let refused = http.get(format!("{}/api/me", api.origin)).bearer_auth(&foreign).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let refused_id = request_id(&refused);
    assert_ne!(refused_id, ok_id);

    // The metrics: on their own listener only, by route pattern and status, with the reasons.
    let api_metrics = http.get(format!("{}/metrics", api.origin)).send().await.unwrap();
    assert_ne!(api_metrics.status(), 200, "not served with the API");
    let metrics = http.get(format!("http://127.0.0.1:{metrics_port}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let metrics = metrics.text().await.unwrap();
    for line in [
        r#"channels_http_requests_total{route="/api/me",status="200"} 1"#,
        r#"channels_http_requests_total{route="/api/me",status="401"} 1"#,
        r#"channels_token_refusals_total{reason="tenant_not_allowed"} 1"#,
        r#"channels_verified_token_cache_total{result="miss"} 2"#,
        r#"channels_signing_key_fetches_total{outcome="ok"} 1"#,
        r#"channels_member_store_seconds_count{operation="sign_in"} 1"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "expected `{line}` in /metrics:\n{metrics}");
    }
    assert!(metrics.contains("channels_http_request_duration_seconds_bucket{route=\"/api/me\""), "{metrics}");

    // The log: JSON lines; the refusal names its reason, tenant and client app, in the span of
    // its request; no line holds a token.
    api.terminate();
    let (status, log) = api.ended(Duration::from_secs(20)).await;
    assert!(status.success(), "{status}");
    let lines: Vec<serde_json::Value> =
        log.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect();
    let refusal = lines
        .iter()
        .find(|line| line["fields"]["message"] == "token refused")
        .unwrap_or_else(|| panic!("no refusal logged:\n{log}"));
    assert_eq!(refusal["fields"]["code"], "tenant_not_allowed");
    assert_eq!(refusal["fields"]["tenant"], "0badc0de-0000-4000-8000-000000000000");
    assert_eq!(refusal["fields"]["client_app"], demo::CLIENT_ID);
    assert_eq!(refusal["span"]["id"], refused_id.as_str(), "{refusal}");
    for secret in [&token, &foreign] {
        let signature = secret.rsplit('.').next().unwrap();
        assert!(!log.contains(signature), "a token in the log");
    }
}

#[tokio::test]
async fn a_load_balancers_request_id_is_kept_when_trusted_and_only_if_it_is_plain() {
    let running = common::emulator(entra_emulator::system_clock()).await;
    let api = start_api(running.origin(), &[("CHANNELS_TRUST_REQUEST_ID", "true".into())]).await;
    let http = reqwest::Client::new();
    let sent = |id: &str| http.get(format!("{}/healthz", api.origin)).header("x-request-id", id).send();
    assert_eq!(request_id(&sent("lb-7f3a").await.unwrap()), "lb-7f3a");
    for unfit in ["x".repeat(129), "two words".to_owned()] {
        let kept = request_id(&sent(&unfit).await.unwrap());
        assert_ne!(kept, unfit);
        assert_eq!(kept.len(), 36);
    }
}

/// The binary serves on [`channels_api::listen`]'s connections (`TCP_NODELAY`). A static file goes
/// out in two writes, its headers then its body; under Nagle's algorithm the body waits for the
/// client's delayed ACK of the headers, 40 ms or more, on a quarter to a third of the requests of
/// a kept-alive connection. A plain client (no `TCP_NODELAY` of its own, as a browser's kernel
/// acknowledges) asks for one file 40 times on one connection: at most a few answers may be that
/// slow on a loaded machine, not the 9 to 13 that the stall made (measured without `listen`).
#[tokio::test]
async fn the_binary_sends_a_files_body_without_waiting_for_a_delayed_ack() {
    use tokio::io::AsyncWriteExt as _;
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("index.html"), "<html><script type=\"module\">boot()</script></html>").unwrap();
    std::fs::write(site.path().join("main.css"), "body { margin: 0 }").unwrap();
    let running = common::emulator(entra_emulator::system_clock()).await;
    let api = start_api(running.origin(), &[("CHANNELS_SPA_DIR", site.path().display().to_string())]).await;
    let mut connection = tokio::net::TcpStream::connect(api.origin.trim_start_matches("http://")).await.unwrap();
    let request = b"GET /main.css HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut stalled = 0;
    for _ in 0..40 {
        let started = Instant::now();
        connection.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        while !answer.ends_with(b"body { margin: 0 }") {
            let mut chunk = [0; 4096];
            let read = connection.read(&mut chunk).await.unwrap();
            assert!(read > 0, "the API closed the connection: {}", String::from_utf8_lossy(&answer));
            answer.extend_from_slice(&chunk[..read]);
        }
        if started.elapsed() >= Duration::from_millis(35) {
            stalled += 1;
        }
    }
    assert!(stalled < 5, "{stalled} of 40 answers took 35 ms or more: the body waited behind its headers");
}

#[tokio::test]
async fn sigterm_drains_first_then_lets_requests_in_flight_finish_within_the_grace_time() {
    let running = common::emulator(entra_emulator::system_clock()).await;
    let delay = Duration::from_secs(3);
    let idp = slow_identity_provider(&running.emulator, delay).await;
    let issuer = format!("{idp}/{}/v2.0", demo::TENANT_ID);
    let env = [("CHANNELS_SHUTDOWN_DRAIN_SECONDS", "3".to_owned()), ("CHANNELS_SHUTDOWN_GRACE_SECONDS", "10".into())];
    let api = start_api(&idp, &env).await;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
    let origin = api.origin.clone();

    // A first request waits for the keys (3 s); SIGTERM comes meanwhile.
    let token = token(&running.emulator, Some(&issuer));
    let in_flight = tokio::spawn({
        let (http, url) = (reqwest::Client::new(), format!("{origin}/api/me"));
        async move { http.get(url).bearer_auth(token).send().await.map(|r| r.status().as_u16()) }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let terminated = Instant::now();
    api.terminate();
    // Draining: not ready at once, still serving during the drain time.
    let mut answer = http.get(format!("{origin}/readyz")).send().await;
    for _ in 0..20 {
        if answer.as_ref().is_ok_and(|r| r.status() == 503) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        answer = http.get(format!("{origin}/readyz")).send().await;
    }
    let answer = answer.unwrap();
    assert_eq!(answer.status(), 503);
    assert_eq!(answer.json::<serde_json::Value>().await.unwrap()["error"], "draining");
    assert_eq!(http.get(format!("{origin}/healthz")).send().await.unwrap().status(), 200, "still serving");
    // The request in flight finishes; then the process ends, well within the grace time.
    assert_eq!(in_flight.await.unwrap().unwrap(), 200);
    let (status, log) = api.ended(Duration::from_secs(15)).await;
    assert!(status.success(), "{status}\n{log}");
    let took = terminated.elapsed();
    assert!(took < Duration::from_secs(10), "the drain and the request in flight, not the grace: {took:?}");
    assert!(http.get(format!("{origin}/healthz")).send().await.is_err(), "no longer listening");

    // A request longer than the grace time does not hold the process.
    let slower = slow_identity_provider(&running.emulator, Duration::from_secs(30)).await;
    let env = [("CHANNELS_SHUTDOWN_DRAIN_SECONDS", "0".to_owned()), ("CHANNELS_SHUTDOWN_GRACE_SECONDS", "1".into())];
    let api = start_api(&slower, &env).await;
    let token = self::token(&running.emulator, Some(&format!("{slower}/{}/v2.0", demo::TENANT_ID)));
    let stuck = tokio::spawn(http.get(format!("{}/api/me", api.origin)).bearer_auth(token).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let terminated = Instant::now();
    api.terminate();
    let (status, log) = api.ended(Duration::from_secs(10)).await;
    assert!(status.success(), "{status}");
    assert!(terminated.elapsed() < Duration::from_secs(5), "{:?}", terminated.elapsed());
    assert!(log.contains("stopped with requests still in flight"), "{log}");
    assert!(stuck.await.unwrap().is_err(), "the stuck request was cut off");
}

/// Issue #30: the start-up log names each tenant's step-up rule, and once a tenant has a live
/// SCIM token, every channel it grants by a group name (a group's owners can rename their group).
#[tokio::test]
async fn the_start_up_log_names_step_up_per_tenant_and_flags_names_once_scim_is_on() {
    let running = common::emulator(entra_emulator::system_clock()).await;
    let origin = running.origin().to_owned();
    let started = |url: String| {
        let origin = origin.clone();
        async move {
            let env = [("CHANNELS_DATABASE_URL", url), ("CHANNELS_SHUTDOWN_DRAIN_SECONDS", "0".to_owned())];
            let api = start_api(&origin, &env).await;
            api.terminate();
            api.ended(Duration::from_secs(20)).await.1
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    let log = started(url.clone()).await;
    assert!(log.contains("step-up for saving preferences: requires the authentication context c1"), "{log}");
    assert!(!log.contains("is granted by the group name"), "no SCIM token yet: {log}");
    let store = channels_api::members::MemberStore::connect(&url).await.unwrap();
    let tokens = channels_api::scim::tokens::ScimTokens::new(&store);
    tokens.create(channels_api::config::DEMO_TENANT_ID, "entra", 0).await.unwrap();
    store.close().await;
    let log = started(url).await;
    let flagged = log.lines().filter(|l| l.contains("WARN") && l.contains("is granted by the group name")).count();
    assert_eq!(flagged, 7, "each name reference of the demo's channels: {log}");

    // Two tenants: a line for each, naming it and its rule.
    let (contoso, fabrikam) = (channels_api::config::DEMO_TENANT_ID, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d");
    let file = dir.path().join("two.toml");
    std::fs::write(
        &file,
        format!(
            "[entra]\ntenant_id = \"organizations\"\nallowed_tenants = [\"{contoso}\", \"{fabrikam}\"]\n\
             client_id = \"{}\"\n[step_up]\ntenants = {{ \"{contoso}\" = \"c1\" }}\nother_tenants = \"refuse\"\n",
            channels_api::config::DEMO_CLIENT_ID
        ),
    )
    .unwrap();
    let env = [
        ("CHANNELS_CONFIG", file.display().to_string()),
        ("CHANNELS_DATABASE_URL", format!("sqlite://{}?mode=rwc", dir.path().join("two.db").display())),
        ("CHANNELS_SHUTDOWN_DRAIN_SECONDS", "0".to_owned()),
    ];
    let api = start_api(&origin, &env).await;
    api.terminate();
    let log = api.ended(Duration::from_secs(20)).await.1;
    let rule = |tenant: &str| log.lines().find(|l| l.contains("step-up for saving preferences") && l.contains(tenant));
    assert!(rule(contoso).is_some_and(|l| l.contains("requires the authentication context c1")), "{log}");
    assert!(rule(fabrikam).is_some_and(|l| l.contains("refused: no authentication context")), "{log}");
}
