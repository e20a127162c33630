//! `channels-bench scim API_BINARY DATABASE_URL USERS LABEL OUT.json`: SCIM provisioning at a real
//! tenant's size, against the release `channels-api` on loopback, while people sign in.
//!
//! As Entra's provisioning service does it: each user is looked up by `userName`, then created;
//! the group is looked up by `displayName`, created with no members, then filled by PATCHes of
//! member additions (Microsoft documents no batch size: [`BATCH`]), then renamed; last, a
//! cap-sized stress case: [`MAX_MEMBERS`] members removed in one PATCH and added back in another.
//! Meanwhile `GET /api/me` is called at a fixed rate (open loop: each latency is counted from when
//! its request was due, so a stall is not hidden by the load waiting for it) with tokens of
//! provisioned users whose tokens carry no groups claim: their channels come from provisioned
//! memberships, so each call reads what provisioning writes. Bounded: USERS users, one group, and
//! the load stops with the provisioning.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use entra_emulator::directory::{demo, User};
use serde_json::{json, Value};

/// Members per PATCH while the group is filled.
const BATCH: usize = 100;
/// The API's cap on member values per request (`channels_api::scim::membership::MAX_MEMBERS`).
const MAX_MEMBERS: usize = 5_000;
/// Requests in flight at once from the provisioning side.
const PROVISIONING_WORKERS: usize = 4;
/// `GET /api/me` calls per second, all through the run.
const SIGN_INS_PER_SECOND: u64 = 100;
/// Distinct signed-in users of the load (provisioned before the load starts).
const SIGN_IN_USERS: usize = 200;

/// The phases the sign-in latencies are reported by.
const PHASES: [&str; 3] = ["users", "group", "stress"];

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

    let scim = Scim { http: http.clone(), base: format!("{origin}/scim/v2"), token: scim_token };
    let started = Instant::now();
    // Users: Entra looks each up by userName, then creates it. The sign-in load's users first.
    let mut user_times = provision_users(&scim, 0..SIGN_IN_USERS.min(users)).await?;

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
    let phase = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (http, origin, tokens, stop, phase) =
            (http.clone(), origin.clone(), tokens.clone(), stop.clone(), phase.clone());
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / SIGN_INS_PER_SECOND));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut calls = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let due = ticks.tick().await;
                let (http, origin, token) = (http.clone(), origin.clone(), tokens[n % tokens.len()].clone());
                let phase = phase.load(Ordering::Relaxed);
                n += 1;
                calls.push(tokio::spawn(async move {
                    let request =
                        http.get(format!("{origin}/api/me")).bearer_auth(token).timeout(Duration::from_secs(15));
                    let ok = request.send().await.is_ok_and(|r| r.status() == 200);
                    (phase, due.elapsed(), ok)
                }));
            }
            let mut outcomes = Vec::new();
            for call in calls {
                outcomes.push(call.await.expect("a sign-in call"));
            }
            outcomes
        })
    };

    user_times.extend(provision_users(&scim, SIGN_IN_USERS.min(users)..users).await?);
    let users_took = started.elapsed();

    // The group: looked up, created with no members, filled by PATCHes of BATCH additions, renamed.
    phase.store(1, Ordering::Relaxed);
    scim.send(
        reqwest::Method::GET,
        "/Groups?excludedAttributes=members&filter=displayName eq \"All employees\"",
        None,
        200,
    )
    .await?;
    let body = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "All employees",
        "externalId": "5d2e0a11-9b7c-4e3f-8a6d-0000000000a1", "members": [] });
    let group = scim.send(reqwest::Method::POST, "/Groups", Some(body), 201).await?;
    let path = format!("/Groups/{}", group["id"].as_str().ok_or("a group id")?);
    let members =
        |range: std::ops::Range<usize>| -> Vec<Value> { range.map(|n| json!({ "value": object_id(n) })).collect() };
    let patch = |op: &str, members: Vec<Value>| {
        json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{ "op": op, "path": "members", "value": members }] })
    };
    let mut patch_times = Vec::new();
    for start in (0..users).step_by(BATCH) {
        let t = Instant::now();
        scim.send(reqwest::Method::PATCH, &path, Some(patch("Add", members(start..(start + BATCH).min(users)))), 204)
            .await?;
        patch_times.push(t.elapsed());
    }
    let rename = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "Replace", "path": "displayName", "value": "Everyone" }] });
    let t = Instant::now();
    scim.send(reqwest::Method::PATCH, &path, Some(rename), 204).await?;
    let rename_took = t.elapsed();

    // The stress case: the cap's worth of members out of the full group in one PATCH, and back.
    phase.store(2, Ordering::Relaxed);
    let stressed = users.saturating_sub(MAX_MEMBERS)..users;
    let t = Instant::now();
    scim.send(reqwest::Method::PATCH, &path, Some(patch("Remove", members(stressed.clone()))), 204).await?;
    let cap_remove = t.elapsed();
    let t = Instant::now();
    scim.send(reqwest::Method::PATCH, &path, Some(patch("Add", members(stressed))), 204).await?;
    let cap_add = t.elapsed();
    let total = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let outcomes = load.await?;

    let ms = |d: Duration| (d.as_secs_f64() * 10_000.0).round() / 10.0;
    let quantile = |sorted: &[Duration], q: f64| {
        sorted.get(((sorted.len() as f64 - 1.0) * q).round() as usize).copied().map_or(0.0, ms)
    };
    let summary = |times: &mut Vec<Duration>| {
        times.sort();
        json!({ "count": times.len(), "p50": quantile(times, 0.5), "p99": quantile(times, 0.99),
            "max": times.last().copied().map_or(0.0, ms) })
    };
    let tenth = (patch_times.len() / 10).max(1);
    let mean = |times: &[Duration]| ms(times.iter().sum::<Duration>() / times.len().max(1) as u32);
    let (first_tenth, last_tenth) = (mean(&patch_times[..tenth]), mean(&patch_times[patch_times.len() - tenth..]));
    let mut sign_ins = serde_json::Map::new();
    for (i, name) in PHASES.iter().enumerate() {
        let mut times: Vec<Duration> = outcomes.iter().filter(|(p, _, _)| *p == i).map(|(_, d, _)| *d).collect();
        let mut phase = summary(&mut times);
        phase["failures"] = json!(outcomes.iter().filter(|(p, _, ok)| *p == i && !ok).count());
        sign_ins.insert((*name).to_owned(), phase);
    }
    let result = json!({
        "label": label,
        "users": users,
        "batch": BATCH,
        "max_members": MAX_MEMBERS,
        "sign_ins_per_second": SIGN_INS_PER_SECOND,
        "users_seconds": users_took.as_secs_f64(),
        "user": summary(&mut user_times),
        "patch": summary(&mut patch_times),
        "patch_first_tenth_mean": first_tenth,
        "patch_last_tenth_mean": last_tenth,
        "rename_ms": ms(rename_took),
        "cap_remove_ms": ms(cap_remove),
        "cap_add_ms": ms(cap_add),
        "total_seconds": total.as_secs_f64(),
        "me": sign_ins,
    });
    std::fs::write(out, format!("{result:#}\n"))?;
    println!("{result}");
    Ok(())
}

/// Entra's way with each user of `range`: a lookup by userName, then a create; 4 in flight. The
/// time of each pair.
async fn provision_users(
    scim: &Scim,
    range: std::ops::Range<usize>,
) -> Result<Vec<Duration>, Box<dyn std::error::Error>> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(range.start));
    let end = range.end;
    let workers: Vec<_> = (0..PROVISIONING_WORKERS)
        .map(|_| {
            let (scim, next) = (scim.clone(), next.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= end {
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
    let mut times = Vec::new();
    for worker in workers {
        times.extend(worker.await??);
    }
    Ok(times)
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
