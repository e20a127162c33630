//! `channels-bench scim API_BINARY DATABASE_URL USERS LABEL OUT.json`: SCIM provisioning at a real
//! tenant's size, against the release `channels-api` on loopback, while people sign in.
//!
//! As Entra's provisioning service does it: each user is looked up by `userName`, then created;
//! a group is created empty, then filled by PATCHes of member additions (the first batches and
//! the last ones, when the group already holds nearly everyone, are timed apart), then renamed.
//! Meanwhile four loops call `GET /api/me` with tokens whose users have no groups claim (their
//! channels come from provisioned memberships, so each call reads what provisioning writes).
//! Bounded: USERS users, one group, and the load loops stop with the provisioning.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use entra_emulator::directory::{demo, User};
use serde_json::{json, Value};

/// Members per PATCH: a cap-sized batch (`channels_api::scim::membership::MAX_MEMBERS`).
const BATCH: usize = 5_000;
/// Requests in flight at once from the provisioning side.
const PROVISIONING_WORKERS: usize = 4;
/// Loops calling `GET /api/me`.
const SIGN_IN_LOOPS: usize = 4;
/// Distinct signed-in users of the load.
const SIGN_IN_USERS: usize = 200;

fn object_id(n: usize) -> String {
    format!("{n:08x}-5c10-4000-8000-000000000000")
}

pub async fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [api_binary, database_url, users, label, out] = args else {
        return Err("usage: channels-bench scim API_BINARY DATABASE_URL USERS LABEL OUT.json".into());
    };
    let users: usize = users.parse().map_err(|_| format!("expected a user count (found {users:?})"))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let running = entra_emulator::spawn(listener, demo::tenant(), entra_emulator::system_clock()).await?;
    let env = |command: &mut tokio::process::Command| {
        command
            .env("CHANNELS_DEMO", "1")
            .env("ENTRA_AUTHORITY", running.origin())
            .env("CHANNELS_DATABASE_URL", database_url)
            .env("RUST_LOG", "warn")
            .env_remove("CHANNELS_CONFIG");
    };
    let mut create = tokio::process::Command::new(api_binary);
    create.args(["scim-token", "create", "--label", "bench"]);
    env(&mut create);
    let made = create.output().await?;
    if !made.status.success() {
        return Err(format!("scim-token create failed: {}", String::from_utf8_lossy(&made.stderr)).into());
    }
    let scim_token = String::from_utf8(made.stdout)?.trim().to_owned();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
        probe.local_addr()?.port()
    };
    let mut serve = tokio::process::Command::new(api_binary);
    serve.env("CHANNELS_API_ADDR", format!("127.0.0.1:{port}")).kill_on_drop(true);
    env(&mut serve);
    let _api = serve.spawn()?;
    let origin = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().pool_max_idle_per_host(16).build()?;
    for attempt in 0.. {
        if http.get(format!("{origin}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        if attempt > 200 {
            return Err("channels-api did not become ready".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The sign-in load: tokens of provisioned users whose tokens carry no groups.
    let emulator = running.emulator.clone();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let tenant = emulator.tenant();
    let tokens: Arc<Vec<String>> = Arc::new(
        (0..SIGN_IN_USERS.min(users))
            .map(|n| {
                let user = User::member(object_id(n), format!("user{n}@contoso.example"), &format!("User {n}"), &[]);
                let mut claims = emulator.access_token_claims(&tenant.apps[0], &user, &[demo::SCOPE.to_owned()], now);
                claims.groups = None;
                emulator.key().sign(&claims)
            })
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let loops: Vec<_> = (0..SIGN_IN_LOOPS)
        .map(|l| {
            let (http, origin, tokens, stop) = (http.clone(), origin.clone(), tokens.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut latencies, mut failures, mut n) = (Vec::new(), 0usize, l);
                while !stop.load(Ordering::Relaxed) {
                    let token = &tokens[n % tokens.len()];
                    n += SIGN_IN_LOOPS;
                    let started = Instant::now();
                    let ok = http
                        .get(format!("{origin}/api/me"))
                        .bearer_auth(token)
                        .timeout(Duration::from_secs(15))
                        .send()
                        .await
                        .is_ok_and(|r| r.status() == 200);
                    latencies.push(started.elapsed());
                    failures += usize::from(!ok);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                (latencies, failures)
            })
        })
        .collect();

    let scim = Scim { http: http.clone(), base: format!("{origin}/scim/v2"), token: scim_token };
    let started = Instant::now();
    // Users: Entra looks each up by userName, then creates it.
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..PROVISIONING_WORKERS)
        .map(|_| {
            let (scim, next) = (scim.clone(), next.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= users {
                        return Ok::<_, String>(times);
                    }
                    let user_name = format!("user{n}@contoso.example");
                    let t = Instant::now();
                    let filter = format!("/Users?filter=userName eq \"{user_name}\"");
                    scim.send(reqwest::Method::GET, &filter, None, 200).await?;
                    let user = json!({
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "externalId": object_id(n), "userName": user_name, "active": true,
                        "displayName": format!("User {n}"),
                        "name": { "givenName": "User", "familyName": n.to_string() },
                        "emails": [{ "primary": true, "type": "work", "value": user_name }],
                    });
                    scim.send(reqwest::Method::POST, "/Users", Some(user), 201).await?;
                    times.push(t.elapsed());
                }
            })
        })
        .collect();
    let mut user_times = Vec::new();
    for worker in workers {
        user_times.extend(worker.await??);
    }
    let users_took = started.elapsed();

    // The group: created empty, filled by PATCHes, renamed.
    let group = scim
        .send(
            reqwest::Method::POST,
            "/Groups",
            Some(json!({ "displayName": "All employees", "externalId": "5d2e0a11-9b7c-4e3f-8a6d-0000000000a1" })),
            201,
        )
        .await?;
    let path = format!("/Groups/{}", group["id"].as_str().ok_or("a group id")?);
    let mut patch_times = Vec::new();
    for batch in (0..users).collect::<Vec<_>>().chunks(BATCH) {
        let members: Vec<Value> = batch.iter().map(|&n| json!({ "value": object_id(n) })).collect();
        let body = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{ "op": "Add", "path": "members", "value": members }] });
        let t = Instant::now();
        scim.send(reqwest::Method::PATCH, &path, Some(body), 204).await?;
        patch_times.push(t.elapsed());
    }
    let rename = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "Replace", "path": "displayName", "value": "Everyone" }] });
    let t = Instant::now();
    scim.send(reqwest::Method::PATCH, &path, Some(rename), 204).await?;
    let rename_took = t.elapsed();
    let total = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (mut latencies, mut failures) = (Vec::new(), 0);
    for handle in loops {
        let (l, f) = handle.await?;
        latencies.extend(l);
        failures += f;
    }
    user_times.sort();
    latencies.sort();
    let ms = |d: Duration| (d.as_secs_f64() * 10_000.0).round() / 10.0;
    let quantile =
        |sorted: &[Duration], q: f64| sorted.get(((sorted.len() as f64 - 1.0) * q) as usize).copied().map_or(0.0, ms);
    let result = json!({
        "label": label,
        "users": users,
        "batch": BATCH,
        "users_seconds": users_took.as_secs_f64(),
        "user_ms_p50": quantile(&user_times, 0.5),
        "user_ms_p99": quantile(&user_times, 0.99),
        "patch_ms_first": patch_times.first().copied().map_or(0.0, ms),
        "patch_ms_last": patch_times.last().copied().map_or(0.0, ms),
        "patch_ms_max": patch_times.iter().max().copied().map_or(0.0, ms),
        "patches": patch_times.len(),
        "rename_ms": ms(rename_took),
        "total_seconds": total.as_secs_f64(),
        "me_requests": latencies.len(),
        "me_failures": failures,
        "me_ms_p50": quantile(&latencies, 0.5),
        "me_ms_p99": quantile(&latencies, 0.99),
        "me_ms_max": latencies.last().copied().map_or(0.0, ms),
    });
    std::fs::write(out, format!("{result:#}\n"))?;
    println!("{result}");
    Ok(())
}

#[derive(Clone)]
struct Scim {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Scim {
    /// One request; anything but `expected` is an error naming the request and the answer.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Result<Value, String> {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.header("Content-Type", "application/scim+json").body(body.to_string());
        }
        let response =
            request.timeout(Duration::from_secs(60)).send().await.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| format!("{method} {path}: {e}"))?;
        if status != expected {
            return Err(format!("{method} {path}: expected {expected} (found {status}: {text})"));
        }
        Ok(if text.is_empty() { Value::Null } else { serde_json::from_str(&text).map_err(|e| e.to_string())? })
    }
}
