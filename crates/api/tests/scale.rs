//! Two `channels-api` instances on one PostgreSQL behind HAProxy with the repository's
//! configuration (deploy/haproxy.cfg), on loopback, bounded in count and time: the same users'
//! first sign-ins sent to both instances at once create each member once; then a few hundred
//! sign-ins go through the balancer while one instance is killed (SIGKILL) and restarted, and
//! every one is answered: the balancer's health check (`/readyz`) takes the instance out and
//! back, and retries what it had sent there. `./dev scale` is the full run, with figures.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entra_emulator::directory::{demo, User};
use entra_emulator::Emulator;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Sign-ins through the balancer: each of the users four times.
const USERS: usize = 200;
const REQUESTS: usize = 4 * USERS;

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A user in alice's groups whose object id ends with `run`, never seen before.
fn new_user(n: usize, run: &str) -> User {
    let tenant = demo::tenant();
    let alice = tenant.user_by_upn("alice@contoso.example").unwrap();
    User::member(
        format!("{n:08x}-0000-4000-8000-{run}"),
        format!("scale{n}@contoso.example"),
        "Scale",
        &alice.member_of,
    )
}

fn token(emulator: &Emulator, user: &User) -> String {
    let app = &emulator.tenant().apps[0];
    emulator.key().sign(&emulator.access_token_claims(app, user, &[demo::SCOPE.to_owned()], now()))
}

/// Starts an instance on `port`; waits until it is ready (keys loaded, database answering).
async fn instance(port: u16, authority: &str, database: &str) -> tokio::process::Child {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_channels-api"))
        .env("CHANNELS_API_ADDR", format!("127.0.0.1:{port}"))
        .env("ENTRA_AUTHORITY", authority)
        .env("CHANNELS_DEMO", "1")
        .env("CHANNELS_DATABASE_URL", database)
        .env("CHANNELS_TRUST_REQUEST_ID", "true")
        .env("RUST_LOG", "error")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await.is_ok_and(|r| r.status() == 200) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("channels-api on {port} did not become ready");
}

/// Each server's status (`UP`, `DOWN`, …) and 2xx answers so far, and the backend's retries and
/// redispatches (as `BACKEND`), from HAProxy's admin socket.
async fn servers(socket: &std::path::Path) -> HashMap<String, (String, u64)> {
    let mut stream = tokio::net::UnixStream::connect(socket).await.unwrap();
    stream.write_all(b"show stat\n").await.unwrap();
    let mut csv = String::new();
    stream.read_to_string(&mut csv).await.unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().trim_start_matches("# ").split(',').collect();
    let column = |name| header.iter().position(|h| *h == name).unwrap();
    let (name, status, answers) = (column("svname"), column("status"), column("hrsp_2xx"));
    let (retries, redispatches) = (column("wretr"), column("wredis"));
    let number = |field: &str| field.parse().unwrap_or(0);
    lines
        .map(|line| line.split(',').collect::<Vec<_>>())
        .filter(|fields| fields.len() > status && (fields[name].starts_with("api") || fields[name] == "BACKEND"))
        .map(|fields| {
            // The backend's row: how many requests were retried or sent to another instance.
            let count = match fields[name] {
                "BACKEND" => number(fields[retries]) + number(fields[redispatches]),
                _ => number(fields[answers]),
            };
            (fields[name].to_owned(), (fields[status].to_owned(), count))
        })
        .collect()
}

/// Waits (at most 10 s) until HAProxy reports `server` with `status`.
async fn until_status(socket: &std::path::Path, server: &str, status: &str) {
    for _ in 0..200 {
        if servers(socket).await.get(server).is_some_and(|(now, _)| now == status) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("HAProxy never reported {server} {status}: {:?}", servers(socket).await);
}

/// How many members whose object id ends with `run` exist, and how many distinct ones.
async fn members(database: &str, run: &str) -> (i64, i64) {
    let pool = sqlx::PgPool::connect(database).await.unwrap();
    let counts: (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT object_id) FROM members WHERE object_id LIKE $1")
            .bind(format!("%{run}"))
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL and HAProxy: ./dev test provides both and sets CHANNELS_TEST_POSTGRES_URL"]
async fn two_instances_behind_haproxy_create_each_member_once_and_survive_a_kill() {
    let database = std::env::var("CHANNELS_TEST_POSTGRES_URL").expect("CHANNELS_TEST_POSTGRES_URL names a database");
    let running = entra_emulator::spawn(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        demo::tenant(),
        entra_emulator::system_clock(),
    )
    .await
    .unwrap();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let run = format!("{:012x}", nanos % (1 << 48));
    let (port1, port2) = (free_port(), free_port());
    let _first = instance(port1, running.origin(), &database).await;
    let mut second = instance(port2, running.origin(), &database).await;
    let http = reqwest::Client::new();

    // The same 50 users' first sign-ins, each sent to both instances at once: one member each.
    let concurrent: Vec<User> = (0..50).map(|n| new_user(n, &run)).collect();
    let answers = futures_all(concurrent.iter().flat_map(|user| {
        let token = token(&running.emulator, user);
        [port1, port2].map(|port| http.get(format!("http://127.0.0.1:{port}/api/me")).bearer_auth(token.clone()).send())
    }))
    .await;
    assert!(answers.iter().all(|r| r.as_ref().is_ok_and(|r| r.status() == 200)), "{answers:?}");
    assert_eq!(members(&database, &run).await, (50, 50), "each member created once, by either instance");

    // HAProxy with the repository's configuration in front of both.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("haproxy.sock");
    let listen = format!("127.0.0.1:{}", free_port());
    let _haproxy = tokio::process::Command::new("haproxy")
        .args(["-f", concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/haproxy.cfg")])
        .env("HAPROXY_LISTEN", &listen)
        .env("HAPROXY_SOCKET", &socket)
        .env("API1", format!("127.0.0.1:{port1}"))
        .env("API2", format!("127.0.0.1:{port2}"))
        .kill_on_drop(true)
        .spawn()
        .expect("haproxy (Debian's package; ./dev test installs it)");
    for _ in 0..100 {
        if socket.exists() && tokio::net::UnixStream::connect(&socket).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    until_status(&socket, "api1", "UP").await;
    until_status(&socket, "api2", "UP").await;

    // New users' sign-ins through the balancer, 16 at a time; instance 2 is killed once 150
    // are answered, and started again once the balancer has taken it out.
    let tokens: Vec<String> = (100..100 + USERS).map(|n| token(&running.emulator, &new_user(n, &run))).collect();
    let tokens = Arc::new(tokens);
    let sent = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let statuses = Arc::new(Mutex::new(HashMap::<u16, usize>::new()));
    let killed = Arc::new(tokio::sync::Notify::new());
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (http, tokens, sent, answered, statuses, killed) =
                (http.clone(), tokens.clone(), sent.clone(), answered.clone(), statuses.clone(), killed.clone());
            let url = format!("http://{listen}/api/me");
            tokio::spawn(async move {
                loop {
                    let n = sent.fetch_add(1, Ordering::SeqCst);
                    if n >= REQUESTS {
                        return;
                    }
                    let token = &tokens[n % USERS];
                    let status = match http.get(&url).bearer_auth(token).send().await {
                        Ok(response) => response.status().as_u16(),
                        Err(_) => 0,
                    };
                    *statuses.lock().unwrap().entry(status).or_default() += 1;
                    if answered.fetch_add(1, Ordering::SeqCst) + 1 == 150 {
                        killed.notify_one();
                    }
                }
            })
        })
        .collect();
    tokio::time::timeout(Duration::from_secs(30), killed.notified()).await.expect("150 sign-ins answered");
    second.start_kill().unwrap();
    second.wait().await.unwrap();
    until_status(&socket, "api2", "DOWN").await;
    let before_restart = servers(&socket).await["api2"].1;
    let _second = instance(port2, running.origin(), &database).await;
    until_status(&socket, "api2", "UP").await;
    for worker in workers {
        tokio::time::timeout(Duration::from_secs(60), worker).await.expect("the load ends").unwrap();
    }

    let statuses = statuses.lock().unwrap().clone();
    assert_eq!(statuses, HashMap::from([(200, REQUESTS)]), "every sign-in answered, the kill included");
    assert_eq!(members(&database, &run).await, (50 + USERS as i64, 50 + USERS as i64));
    // Back in: the restarted instance takes its share again.
    for token in tokens.iter().take(20) {
        let response = http.get(format!("http://{listen}/api/me")).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let after = servers(&socket).await;
    assert!(after["api1"].1 > 0 && after["api2"].1 > before_restart, "{after:?}");
    assert!(after["BACKEND"].1 > 0, "the kill met requests, which HAProxy sent elsewhere: {after:?}");
}

/// Runs every future at once; their outputs in order.
async fn futures_all<F: std::future::Future + Send + 'static>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}
