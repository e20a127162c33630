//! `channels` against the Entra emulator and the real API on loopback, the binary run as a
//! person runs it: `$BROWSER` is a small script that completes the emulator's sign-in form over
//! HTTP (e2e/fixtures/browser.py), and the device code is entered at `/devicelogin` by the
//! test. The API is the same as the SPA's, unchanged: the native client's tokens carry the same
//! audience and scope.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use channels_api::config::{ApiConfig, Authority, DatabaseUrl};
use entra_emulator::directory::{demo, AppRegistration, Directory};
use entra_emulator::Running;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::Command;

/// The emulator, the API (both on one clock the test moves), and a configuration folder.
struct World {
    emulator: Running,
    api: String,
    now: Arc<AtomicU64>,
    dir: tempfile::TempDir,
    _server: tokio::task::JoinHandle<()>,
}

async fn world_of(directory: Directory) -> World {
    world_with(directory, ApiConfig::demo()).await
}

async fn world_with(directory: Directory, mut config: ApiConfig) -> World {
    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let now = Arc::new(AtomicU64::new(start));
    let clock = now.clone();
    let clock: entra_emulator::Clock = Arc::new(move || clock.load(Ordering::SeqCst));
    let emulator =
        entra_emulator::spawn(TcpListener::bind("127.0.0.1:0").await.unwrap(), directory, clock.clone()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    config.authority = Authority::demo(emulator.origin()).unwrap();
    let database = format!("sqlite://{}?mode=rwc", dir.path().join("members.db").display());
    config.database_url = DatabaseUrl::parse(&database).unwrap();
    config.server.spa_dir = None;
    let state = channels_api::AppState::connect(config, clock).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let app = channels_api::router(state).unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    World { emulator, api, now, dir, _server: server }
}

impl World {
    fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// `channels <args>`, with the test browser, the file store and this world's folder.
    fn channels(&self, args: &[&str]) -> Command {
        let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/fixtures/browser.py");
        let mut command = Command::new(env!("CARGO_BIN_EXE_channels"));
        command
            .args(args)
            .env("CHANNELS_CONFIG_DIR", self.config_dir())
            .env("CHANNELS_TOKEN_STORE", "file")
            .env("BROWSER", browser)
            .env_remove("CHANNELS_TEST_BROWSER")
            .env_remove("CHANNELS_TEST_USER")
            .kill_on_drop(true);
        command
    }

    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = self.channels(args);
        command.envs(env.iter().copied());
        tokio::time::timeout(std::time::Duration::from_secs(60), command.output())
            .await
            .expect("channels ends")
            .unwrap()
    }

    async fn login(&self, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let mut args = vec!["login", "--api", &self.api];
        args.extend(extra);
        self.run(&args, env).await
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "stdout: {}\nstderr: {}", text(&output.stdout), text(&output.stderr));
    text(&output.stdout)
}

fn failed(output: &Output) -> String {
    assert!(!output.status.success(), "expected a failure; stdout: {}", text(&output.stdout));
    text(&output.stderr)
}

fn claims(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn a_new_user_gets_their_channels_with_two_commands() {
    let world = world_of(demo::directory()).await;
    let login = world.login(&[], &[]).await;
    succeeded(&login);
    let told = text(&login.stderr);
    assert!(told.contains("Signed in as Alice Moreau (alice@contoso.example), profile `default`"), "{told}");
    let me = succeeded(&world.run(&["me"], &[]).await);
    assert_eq!(me, "Alice Moreau <alice@contoso.example>\nChannels: All Call, Dispatch Ops, Fire North Tac\n");
    let json: serde_json::Value = serde_json::from_str(&succeeded(&world.run(&["me", "--json"], &[]).await)).unwrap();
    assert_eq!(json["channels"], serde_json::json!(["All Call", "Dispatch Ops", "Fire North Tac"]));
    assert_eq!(json["member"]["provisioning"], "updated", "the same member the SPA's sign-in makes");
    // The API accepts the native client's token as it is: the same registration, audience
    // and scope; only the client authentication differs (a public client, azpacr 0).
    let token = succeeded(&world.run(&["token"], &[]).await);
    let claims = claims(token.trim());
    assert_eq!((claims["azp"].as_str(), claims["azpacr"].as_str()), (Some(demo::CLIENT_ID), Some("0")));
    assert_eq!(claims["scp"], demo::SCOPE);
    // Nothing printed that was not asked for: `me` and `token` say nothing on standard error.
    assert_eq!(text(&world.run(&["me"], &[]).await.stderr), "");
}

#[cfg(unix)]
#[tokio::test]
async fn without_a_keychain_the_sign_in_is_kept_in_a_file_only_the_user_can_read() {
    use std::os::unix::fs::PermissionsExt as _;
    let world = world_of(demo::directory()).await;
    let file = world.config_dir().join("default.token");
    std::fs::create_dir_all(world.config_dir()).unwrap();
    std::fs::write(&file, "an older, readable copy").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let login = world.login(&[], &[]).await;
    succeeded(&login);
    assert!(text(&login.stderr).contains("; your sign-in is kept in"), "one-line warning");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "readable and writable by the user only");
    assert!(std::fs::read_to_string(&file).unwrap().starts_with("1.A"), "the refresh token, not the old copy");
    // `logout` forgets it: the next command says to sign in.
    succeeded(&world.run(&["logout"], &[]).await);
    assert!(!file.exists());
    assert!(failed(&world.run(&["me"], &[]).await).contains("run `channels login --api"));
}

#[tokio::test]
async fn an_expired_access_token_is_renewed_silently_and_an_ended_sign_in_says_to_log_in_again() {
    let world = world_of(demo::directory()).await;
    succeeded(&world.login(&[], &[]).await);
    let first = succeeded(&world.run(&["token"], &[]).await);
    // Two hours on: the first access token has expired; the refresh token gives another.
    world.now.fetch_add(2 * 60 * 60, Ordering::SeqCst);
    let me = |token: String| {
        let url = format!("{}/api/me", world.api);
        async move { reqwest::Client::new().get(url).bearer_auth(token.trim()).send().await.unwrap().status() }
    };
    assert_eq!(me(first.clone()).await, 401, "the API refuses the expired token");
    let second = succeeded(&world.run(&["token"], &[]).await);
    assert!(claims(second.trim())["exp"].as_u64() > claims(first.trim())["exp"].as_u64());
    assert_eq!(me(second).await, 200, "and takes the renewed one");
    assert!(succeeded(&world.run(&["me"], &[]).await).contains("Channels: All Call"));
    // Entra ends the sign-in (expired, or revoked by an admin): the next command says what to do.
    let url = format!("{}/_emulator/refresh-tokens/expire", world.emulator.origin());
    let control = reqwest::Client::new().post(url).header(entra_emulator::control::CONTROL_HEADER, "1");
    assert!(control.send().await.unwrap().status().is_success());
    let ended = failed(&world.run(&["me"], &[]).await);
    assert!(ended.contains("found it ended: AADSTS700082") && ended.contains("run `channels login` again"), "{ended}");
}

#[tokio::test]
async fn each_profile_keeps_its_own_sign_in() {
    let world = world_of(demo::directory()).await;
    succeeded(&world.login(&[], &[]).await);
    let bob = world.login(&["--profile", "bob"], &[("CHANNELS_TEST_USER", "bob@contoso.example")]).await;
    succeeded(&bob);
    assert_eq!(
        succeeded(&world.run(&["--profile", "bob", "me"], &[]).await).lines().next(),
        Some("Bob Okafor <bob@contoso.example>")
    );
    assert!(
        succeeded(&world.run(&["me"], &[]).await).starts_with("Alice Moreau"),
        "the default profile is alice's still"
    );
    let unknown = failed(&world.run(&["--profile", "carol", "me"], &[]).await);
    assert!(unknown.contains("expected a signed-in profile `carol` (found none)"), "{unknown}");
    assert!(unknown.contains("--profile carol"), "{unknown}");
}

#[tokio::test]
async fn the_listener_takes_only_this_sign_ins_answer_at_its_path_in_time() {
    let world = world_of(demo::directory()).await;
    let wrong = failed(&world.login(&[], &[("CHANNELS_TEST_BROWSER", "wrong-state")]).await);
    assert!(wrong.contains("found another sign-in's state): nothing was redeemed"), "{wrong}");
    assert!(!world.config_dir().join("default.token").exists(), "nothing kept");
    // A request for another path (a browser's favicon) is answered 404 and not taken.
    succeeded(&world.login(&[], &[("CHANNELS_TEST_BROWSER", "wrong-path-first")]).await);
    let idle = failed(&world.login(&["--timeout", "2"], &[("CHANNELS_TEST_BROWSER", "idle")]).await);
    assert!(idle.contains("within 2 s (found none)"), "{idle}");
    assert!(idle.contains("channels login --device-code"), "{idle}");
}

/// `channels login --device-code`, answering at `/devicelogin` as `user` from "another device".
async fn device_login(world: &World, user: &str) -> Output {
    let mut command = world.channels(&["login", "--api", &world.api, "--device-code"]);
    command.stderr(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let message = lines.next_line().await.unwrap().expect("Entra's message");
    let code = message.split("enter the code ").nth(1).map(|rest| rest.split(' ').next().unwrap().to_owned());
    if let Some(code) = code {
        let page = format!("{}/devicelogin", world.emulator.origin());
        let form = [("user_code", code.as_str()), ("username", user)];
        let signed_in = reqwest::Client::new().post(page).form(&form).send().await.unwrap().text().await.unwrap();
        assert!(signed_in.contains("You may now close this window"), "{signed_in}");
    }
    let mut rest = vec![message];
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push(line);
    }
    let mut output =
        tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output()).await.unwrap().unwrap();
    output.stderr = rest.join("\n").into_bytes();
    output
}

#[tokio::test]
async fn the_device_code_flow_signs_in_where_there_is_no_browser() {
    let mut directory = demo::directory();
    directory.tenants[0].apps[0].public_client_flows = true;
    let world = world_of(directory).await;
    let login = device_login(&world, "alice@contoso.example").await;
    succeeded(&login);
    let told = text(&login.stderr);
    assert!(told.starts_with("To sign in, use a web browser to open the page"), "Entra's own message: {told}");
    assert!(succeeded(&world.run(&["me"], &[]).await).contains("Channels: All Call, Dispatch Ops, Fire North Tac"));
}

#[tokio::test]
async fn without_public_client_flows_the_device_code_sign_in_names_the_portal_switch() {
    // The demo registration, as Instant Connect advises: Allow public client flows is off.
    let world = world_of(demo::directory()).await;
    let refused = device_login(&world, "alice@contoso.example").await;
    let told = failed(&refused);
    assert!(told.contains("Allow public client flows → Yes"), "{told}");
    assert!(told.contains("(AADSTS7000218: The request body must contain"), "Entra's own words: {told}");
}

/// The registration `channels-api manifest` prints with `native_client.enabled` (the demo's),
/// loaded into the emulator: the terminal signs in through its Mobile and desktop platform; with
/// `native_client.device_code` too, the device code flow works through it.
#[tokio::test]
async fn the_printed_manifests_mobile_and_desktop_platform_signs_the_terminal_in() {
    let registered = |config: &ApiConfig| {
        let manifest = channels_api::admin::manifest(config, &["http://localhost:8080".to_owned()]).unwrap();
        let mut directory = demo::directory();
        directory.tenants[0].apps = vec![AppRegistration::from_manifest(&manifest.to_string()).unwrap()];
        directory
    };
    let config = ApiConfig::demo();
    let world = world_with(registered(&config), config.clone()).await;
    succeeded(&world.login(&[], &[]).await);
    assert!(succeeded(&world.run(&["me"], &[]).await).contains("Channels: All Call, Dispatch Ops, Fire North Tac"));
    let refused = device_login(&world, "alice@contoso.example").await;
    assert!(failed(&refused).contains("Allow public client flows"), "off unless the configuration asks for it");

    let mut config = ApiConfig::demo();
    config.native_client.device_code = true;
    let world = world_with(registered(&config), config).await;
    succeeded(&device_login(&world, "alice@contoso.example").await);
}

/// Each refresh gives a new refresh token, which is kept: the one from the login ends 90 days
/// after it was issued, and the terminal goes on with the newer one (without keeping the
/// rotated token, the second `token` failed).
#[tokio::test]
async fn the_rotated_refresh_token_is_kept_so_a_used_sign_in_lasts() {
    let world = world_of(demo::directory()).await;
    succeeded(&world.login(&[], &[]).await);
    let day = 24 * 60 * 60;
    world.now.fetch_add(80 * day, Ordering::SeqCst);
    succeeded(&world.run(&["token"], &[]).await);
    world.now.fetch_add(80 * day, Ordering::SeqCst);
    succeeded(&world.run(&["token"], &[]).await);
}

#[tokio::test]
async fn a_remote_api_must_be_https_and_a_profile_name_is_a_plain_name() {
    let world = world_of(demo::directory()).await;
    let clear = failed(&world.run(&["login", "--api", "http://channels.example.com"], &[]).await);
    assert!(clear.contains("expected an https:// address (found http://channels.example.com)"), "{clear}");
    let escape = failed(&world.run(&["--profile", "../elsewhere", "login", "--api", &world.api], &[]).await);
    assert!(escape.contains("--profile: expected a name of letters, digits"), "{escape}");
}
