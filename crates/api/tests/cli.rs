//! The admin tools, run as the real `channels-api` binary.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/aad-real");

/// A configuration for the 2016 Azure AD token of the fixtures (a v1 token for `spn:…`, issued
/// to the client application `bebfad57-…`, its `appid`).
const AAD_CONFIG: &str = r#"
[entra]
tenant_id = "268da1a1-9db4-48b9-b1fe-683250ba90cc"
client_id = "6514a8ca-d9e4-4155-b292-65258398f3aa"
audiences = ["spn:6514a8ca-d9e4-4155-b292-65258398f3aa"]
allowed_client_apps = ["bebfad57-efd7-419b-b74b-4b9dab7bd470"]
scope = "user_impersonation"
token_versions = ["1.0"]
"#;

fn run(args: &[&str], config: Option<&str>, stdin: &str) -> Output {
    run_with(args, config, stdin, &[])
}

/// Runs the binary in a directory of its own (a demo database lands there), with `env` set.
fn run_with(args: &[&str], config: Option<&str>, stdin: &str, env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_channels-api"));
    command.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).current_dir(dir.path());
    command.envs(env.iter().copied());
    command.env_remove("CHANNELS_CONFIG").env_remove("ENTRA_CLIENT_ID");
    if let Some(config) = config {
        let path = dir.path().join("channels.toml");
        std::fs::write(&path, config).unwrap();
        command.env("CHANNELS_CONFIG", path);
    }
    let mut child = command.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn check_token_accepts_the_real_azure_ad_token_offline_at_its_time() {
    let token = std::fs::read_to_string(format!("{FIXTURES}/v1-access-token.jwt")).unwrap();
    let jwks = format!("{FIXTURES}/jwks.json");
    let output = run(&["check-token", "--jwks", &jwks, "--at", "1467313000"], Some(AAD_CONFIG), &token);
    assert!(output.status.success(), "{}", text(&output));
    let report = text(&output);
    assert!(
        report.starts_with("token of robot@sijun.onmicrosoft.com (tid 268da1a1-9db4-48b9-b1fe-683250ba90cc"),
        "{report}"
    );
    assert!(report.ends_with("VALID for this configuration\n"), "{report}");
}

#[test]
fn check_token_lists_every_reason_with_its_fix() {
    let token = std::fs::read_to_string(format!("{FIXTURES}/v1-access-token.jwt")).unwrap();
    let jwks = format!("{FIXTURES}/jwks.json");
    let v2_only = AAD_CONFIG.replace(r#"token_versions = ["1.0"]"#, r#"token_versions = ["2.0"]"#);
    let output = run(&["check-token", "--jwks", &jwks, "--at", "1800000000"], Some(&v2_only), &token);
    assert_eq!(output.status.code(), Some(1));
    let report = text(&output);
    assert!(report.contains("INVALID for this configuration: 2 problem(s)"), "{report}");
    assert!(report.contains("  - expected iss https://login.microsoftonline.com/268da1a1-9db4-48b9-b1fe-683250ba90cc/v2.0 (found https://sts.windows.net/268da1a1-9db4-48b9-b1fe-683250ba90cc/)"), "{report}");
    assert!(
        report.contains("  - token expired at 1467315148; now is 1800000000\n    fix: Renew the token"),
        "{report}"
    );
}

#[test]
fn manifest_prints_the_registration_for_the_given_hosts() {
    let output = run(
        &["--demo", "manifest", "--host", "https://channels.example.com", "--host", "https://dc2.example.com"],
        None,
        "",
    );
    assert!(output.status.success());
    let manifest: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(manifest["spa"]["redirectUris"][1], "https://dc2.example.com/sso");
    assert_eq!(manifest["groupMembershipClaims"], "SecurityGroup");
    let missing = run(&["--demo", "manifest"], None, "");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("expected at least one --host"));
}

#[test]
fn the_e2e_implicit_registration_is_what_manifest_prints_for_an_organisation_that_opted_in() {
    let env = [("CHANNELS_SPA_IMPLICIT_FLOW", "true")];
    let output = run_with(&["--demo", "manifest", "--host", "http://localhost:8080"], None, "", &env);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let fixture = include_str!("../../../e2e/fixtures/implicit-manifest.json");
    assert_eq!(printed, serde_json::from_str::<serde_json::Value>(fixture).unwrap());
    assert_eq!(printed["web"]["implicitGrantSettings"]["enableAccessTokenIssuance"], true);
}

#[test]
fn preview_explains_the_channels() {
    let output = run(&["preview", "--demo", "--upn", "bob@contoso.example", "--group", "Police-South"], None, "");
    assert_eq!(
        text(&output),
        "bob@contoso.example (tenant 4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f) would get 2 channel(s):\n  All Call                 by group Police-South\n  Police South Ops         by group Police-South\n"
    );
    let nothing = text(&run(&["--demo", "preview", "--upn", "carol@contoso.example"], None, ""));
    assert!(nothing.contains("would get 0 channel(s)") && nothing.contains("note (no_groups_claim)"), "{nothing}");
}

#[test]
fn preview_shows_the_tenant_whose_groups_grant_each_channel() {
    let organisations = include_str!("../../../e2e/fixtures/organisations.toml");
    let fabrikam = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
    // Fabrikam's Harbour group grants Fabrikam's channels; Contoso's Dispatch group does not.
    let args = [
        "preview",
        "--upn",
        "frank@fabrikam.example",
        "--tenant",
        fabrikam,
        "--group",
        "Harbour",
        "--group",
        "Dispatch",
    ];
    assert_eq!(
        text(&run(&args, Some(organisations), "")),
        format!("frank@fabrikam.example (tenant {fabrikam}) would get 1 channel(s):\n  Harbour Ops              by group Harbour\n")
    );
    // With two tenants allowed, the tenant must be named.
    let output = run(&["preview", "--group", "Dispatch"], Some(organisations), "");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--tenant: expected the user's tenant, one of"));
}

#[test]
fn without_configuration_nothing_starts_and_the_demo_says_what_it_trusts() {
    // No file, no variables, no demo: nothing is trusted by default.
    let output = run(&["preview"], None, "");
    assert_eq!(output.status.code(), Some(2));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("entra.client_id (ENTRA_CLIENT_ID): expected a GUID"), "{error}");
    assert!(error.contains("CHANNELS_DEMO=1 runs the demo against a local emulator"), "{error}");

    // The demo, asked for, says at start that it trusts a local emulator.
    let database = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_channels-api"))
        .arg("--demo")
        .env_remove("CHANNELS_CONFIG")
        .env("CHANNELS_API_ADDR", "127.0.0.1:0")
        .env("CHANNELS_DATABASE_URL", format!("sqlite://{}?mode=rwc", database.path().join("m.db").display()))
        .env("RUST_LOG", "warn")
        // An organisation on the implicit flow is warned about at start too.
        .env("CHANNELS_SPA_IMPLICIT_FLOW", "true")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(server.stdout.take().unwrap()));
    let (first, second) = (lines.next().unwrap().unwrap(), lines.next().unwrap().unwrap());
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        first.contains("demo: trusting the Entra emulator at http://127.0.0.1:9400 (CHANNELS_DEMO=1 or --demo)"),
        "{first}"
    );
    assert!(second.contains("WARN") && second.contains("the implicit flow is on for this organisation"), "{second}");
    assert!(second.contains("organisation") && second.contains("\"spa\"") && second.contains("RFC 9700"), "{second}");
}

#[test]
fn invalid_configuration_fails_naming_the_key() {
    let output = run(
        &["preview"],
        Some("[entra]\ntenant_id = \"nope\"\nclient_id = \"6514a8ca-d9e4-4155-b292-65258398f3aa\"\n"),
        "",
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("entra.tenant_id (ENTRA_TENANT_ID): expected a GUID"), "{stderr}");
}

#[tokio::test]
async fn scim_tokens_are_made_once_listed_and_revoked_and_preview_reads_provisioned_memberships() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("members.db").display());
    let env = [("CHANNELS_DATABASE_URL", url.as_str())];
    let scim = |args: &[&str]| run_with(&[&["--demo", "scim-token"], args].concat(), None, "", &env);

    let made = scim(&["create", "--label", "entra 2026-12"]);
    assert!(made.status.success());
    let token = text(&made);
    assert!(token.starts_with("channels-scim.") && token.lines().count() == 1, "{token}");
    let told = String::from_utf8_lossy(&made.stderr).into_owned();
    assert!(told.contains("shown once") && told.contains("Provisioning → Admin credentials"), "{told}");
    let id = token.split('.').nth(1).unwrap();
    let listed = text(&scim(&["list"]));
    assert!(listed.starts_with(&format!("{id}  tenant 4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f")), "{listed}");
    assert!(listed.contains("live") && !listed.contains(token.trim()), "never the secret: {listed}");
    assert!(scim(&["revoke", id]).status.success());
    assert!(text(&scim(&["list"])).contains("revoked"));
    let again = scim(&["revoke", id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("expected the id of a live token"));
    let elsewhere = scim(&["create", "--tenant", "11111111-2222-4333-8444-555555555555"]);
    assert!(String::from_utf8_lossy(&elsewhere.stderr).contains("--tenant: expected an allowed tenant"));

    // Dave provisioned into Site-007 (as Entra's service would): preview names the memberships.
    let members = channels_api::members::MemberStore::connect(&url).await.unwrap();
    let store = channels_api::scim::store::ScimStore::new(members.clone());
    let tenant = "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    let dave = "da4e0000-0000-4000-8000-000000000004";
    let columns = channels_api::scim::store::UserColumns {
        object_id: dave,
        user_name: "dave@contoso.example",
        display_name: "Dave Ng",
        active: true,
    };
    store.create_user(tenant, &columns, &Default::default(), &[], 1).await.unwrap().unwrap();
    let mut resource = serde_json::Map::new();
    resource.insert("displayName".into(), "Site-007".into());
    let group = channels_api::scim::store::ScimGroup {
        id: "site-007".into(),
        resource,
        members: Some(vec![dave.to_owned()]),
        created_at: 1,
        updated_at: 1,
    };
    let change = channels_api::scim::membership::MembershipChange::replace_with(vec![dave.to_owned()]).unwrap();
    store.put_group(tenant, &group, "Site-007", None, &change).await.unwrap().unwrap();
    members.close().await;
    let preview = text(&run_with(&["--demo", "preview", "--upn", "dave@contoso.example"], None, "", &env));
    assert!(preview.starts_with("provisioned memberships (SCIM): Site-007\n"), "{preview}");
    assert!(preview.contains("  Site 7 Patrol            by provisioned group Site-007\n"), "{preview}");
    assert!(preview.contains("note (provisioned_groups)"), "{preview}");
    // Site 7 Patrol is granted by a name: a group's owners can rename their group to it.
    assert!(
        preview.contains("warning: channel \"Site 7 Patrol\" is granted by the group name `site-007`"),
        "{preview}"
    );
}

/// Issue #30: `members`, the admin's door to pre-created members, from the shell.
#[test]
fn members_are_pre_created_listed_disabled_and_removed_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("members.db").display());
    let env = [("CHANNELS_DATABASE_URL", url.as_str())];
    let members = |args: &[&str]| run_with(&[&["--demo", "members"], args].concat(), None, "", &env);

    let added = members(&["add", "ivy@contoso.example", "--role", "dispatcher", "--role", "supervisor"]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(text(&added).starts_with("ivy@contoso.example"), "{}", text(&added));
    let listed: serde_json::Value = serde_json::from_str(&text(&members(&["list", "--json"]))).unwrap();
    assert_eq!(listed[0]["upn"], "ivy@contoso.example");
    assert_eq!(listed[0]["state"], "pending");
    assert_eq!(listed[0]["roles"], serde_json::json!(["dispatcher", "supervisor"]));
    assert_eq!(listed[0]["tenant_id"], "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f");
    assert!(text(&members(&["disable", "IVY@contoso.example"])).contains("disabled"));
    let again = members(&["add", "ivy@contoso.example"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("expected a UPN no member of tenant"));
    let bad = members(&["add", "ivy"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected a user principal name"), "{bad:?}");
    let elsewhere = members(&["--tenant", "11111111-2222-4333-8444-555555555555", "add", "x@contoso.example"]);
    assert!(String::from_utf8_lossy(&elsewhere.stderr).contains("--tenant: expected an allowed tenant"));
    assert_eq!(text(&members(&["remove", "ivy@contoso.example"])), "removed ivy@contoso.example\n");
    assert_eq!(text(&members(&["list"])), "", "none left");
}
