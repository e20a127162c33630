//! The configuration's tests: every key's default, every refusal's message.

use std::time::Duration;

use channels_protocol::cloud::Cloud;

use super::env::named;
use super::values::AUTHORITY_KEY;
use super::*;
use crate::channels::Groups;

#[test]
fn demo_map_matches_group_names_case_insensitively_in_map_order() {
    let map = ApiConfig::demo().channels;
    let names = |groups: &[&str]| -> Vec<String> {
        let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        map.channels_for(DEMO_TENANT_ID, Groups::Claim(&groups), &[]).map(str::to_owned).collect()
    };
    assert_eq!(names(&["fire-north", "DISPATCH"]), ["All Call", "Dispatch Ops", "Fire North Tac"]);
    assert_eq!(names(&["Police-South"]), ["All Call", "Police South Ops"]);
    assert!(names(&["Marketing"]).is_empty());
}

/// The demo's environment with one more variable.
fn demo_and(name: &'static str, value: impl Into<String>) -> impl Fn(&str) -> Option<String> {
    let value = value.into();
    move |key| if key == name { Some(value.clone()) } else { demo_only(key) }
}

#[test]
fn operations_default_to_a_short_drain_text_logs_and_no_metrics_and_refuse_what_they_cannot_use() {
    let operations = ApiConfig::demo().operations;
    let expected = Operations {
        drain: Duration::from_secs(5),
        grace: Duration::from_secs(30),
        trust_request_id: false,
        log_format: LogFormat::Text,
        metrics_listen: None,
    };
    assert_eq!(operations, expected);
    let set = |name, value: &str| ApiConfig::parse(DEMO_CONFIG, demo_and(name, value)).map(|c| c.operations);
    assert_eq!(set("CHANNELS_LOG_FORMAT", "json").unwrap().log_format, LogFormat::Json);
    assert!(set("CHANNELS_TRUST_REQUEST_ID", "1").unwrap().trust_request_id);
    assert_eq!(set("CHANNELS_SHUTDOWN_GRACE_SECONDS", "0").unwrap().grace, Duration::ZERO);
    let metrics = set("CHANNELS_METRICS_ADDR", "127.0.0.1:9301").unwrap().metrics_listen;
    assert_eq!(metrics, Some("127.0.0.1:9301".parse().unwrap()));
    for (name, value, message) in [
        (
            "CHANNELS_LOG_FORMAT",
            "xml",
            "log.format (CHANNELS_LOG_FORMAT): expected \"text\" or \"json\" (found \"xml\")",
        ),
        (
            "CHANNELS_TRUST_REQUEST_ID",
            "yes",
            "CHANNELS_TRUST_REQUEST_ID: expected true or false (1 or 0) (found \"yes\")",
        ),
        (
            "CHANNELS_SHUTDOWN_DRAIN_SECONDS",
            "5s",
            "CHANNELS_SHUTDOWN_DRAIN_SECONDS: expected a whole number of seconds (found \"5s\")",
        ),
        (
            "CHANNELS_SHUTDOWN_GRACE_SECONDS",
            "601",
            "server.shutdown_grace_seconds: expected at most 600 seconds (found \"601\")",
        ),
        (
            "CHANNELS_METRICS_ADDR",
            "9301",
            "metrics.listen (CHANNELS_METRICS_ADDR): expected a socket address such as 127.0.0.1:9301 (found \"9301\")",
        ),
    ] {
        assert_eq!(set(name, value).unwrap_err().to_string(), message);
    }
}

#[test]
fn without_a_file_the_environment_must_name_the_tenant_and_the_demo_is_asked_for() {
    // Nothing configured: a start-up error naming the key and its variable, not a demo.
    let error = ApiConfig::load(|_| None).unwrap_err().to_string();
    assert!(error.starts_with("entra.client_id (ENTRA_CLIENT_ID): expected a GUID"), "{error}");
    assert!(error.ends_with("(CHANNELS_DEMO=1 runs the demo against a local emulator)"), "{error}");
    let client_only = |key: &str| (key == "ENTRA_CLIENT_ID").then(|| DEMO_CLIENT_ID.to_owned());
    let error = ApiConfig::load(client_only).unwrap_err().to_string();
    assert!(error.starts_with("entra.tenant_id (ENTRA_TENANT_ID): expected a GUID"), "{error}");

    // The variables alone: Entra itself, never a local emulator.
    let variables = |key: &str| match key {
        "ENTRA_TENANT_ID" => Some(DEMO_TENANT_ID.to_owned()),
        "ENTRA_CLIENT_ID" => Some(DEMO_CLIENT_ID.to_owned()),
        _ => None,
    };
    let config = ApiConfig::load(variables).unwrap();
    assert_eq!(config.authority.as_str(), "https://login.microsoftonline.com");
    assert!(!config.demo);
    let emulator =
        |key: &str| if key == "ENTRA_AUTHORITY" { Some("http://127.0.0.1:9400".into()) } else { variables(key) };
    let error = ApiConfig::load(emulator).unwrap_err().to_string();
    assert!(error.starts_with("entra.authority (ENTRA_AUTHORITY): expected an https origin"), "{error}");
    assert!(error.contains("with CHANNELS_DEMO=1 or --demo"), "{error}");
    let demo_emulator = |key: &str| if key == DEMO_VARIABLE { Some("1".into()) } else { emulator(key) };
    assert_eq!(ApiConfig::load(demo_emulator).unwrap().authority.as_str(), "http://127.0.0.1:9400");
    // A file with an http authority is refused the same way, unless it is the demo.
    let error = ApiConfig::parse(DEMO_CONFIG, |_| None).unwrap_err();
    assert_eq!(
        (error.key.as_str(), error.found.as_str()),
        ("entra.authority (ENTRA_AUTHORITY)", "http://127.0.0.1:9400")
    );
}

#[test]
fn the_demo_runs_only_when_asked_for() {
    let config = ApiConfig::load(demo_only).unwrap();
    assert!(config.demo);
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:9300");
    assert_eq!(config.authority.as_str(), "http://127.0.0.1:9400");
    assert_eq!(config.allowed_tenants, [DEMO_TENANT_ID]);
    assert_eq!(config.audiences, [DEMO_CLIENT_ID.to_owned(), format!("api://{DEMO_CLIENT_ID}")]);
    assert_eq!(config.runtime_config().api_scope, format!("api://{DEMO_CLIENT_ID}/UserProfile.ReadWrite"));
    assert_eq!(config.issuer_templates(), ["http://127.0.0.1:9400/{tenantid}/v2.0"]);
}

#[test]
fn environment_overrides_the_file() {
    let config = ApiConfig::parse(DEMO_CONFIG, |key| match key {
        "CHANNELS_API_ADDR" => Some("127.0.0.1:1234".into()),
        "ENTRA_AUTHORITY" => Some("https://login.microsoftonline.com".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:1234");
    assert_eq!(config.issuer_templates(), ["https://login.microsoftonline.com/{tenantid}/v2.0"]);
}

#[test]
fn a_production_file_needs_only_tenant_client_and_channels() {
    let text = r#"
        [entra]
        tenant_id = "72F988BF-86F1-41AF-91AB-2D7CD011DB47"
        client_id = "11111111-2222-3333-4444-555555555555"
        token_versions = ["1.0", "2.0"]
        [[channels]]
        name = "Ops"
        groups = ["CONTOSO\\Ops", "c0ffee00-0000-4000-8000-000000000001"]
        roles = ["Supervisor"]
    "#;
    let config = ApiConfig::parse(text, |_| None).unwrap();
    assert_eq!(config.authority.as_str(), "https://login.microsoftonline.com");
    assert_eq!(config.tenant_id, "72f988bf-86f1-41af-91ab-2d7cd011db47");
    assert_eq!(
        config.issuer_templates(),
        ["https://sts.windows.net/{tenantid}/", "https://login.microsoftonline.com/{tenantid}/v2.0"]
    );
}

#[test]
fn the_cloud_follows_the_authority_decides_the_issuers_and_is_checked() {
    let file = |authority: &str, extra: &str| {
        format!(
            "[entra]\nauthority = \"{authority}\"\ntenant_id = \"{DEMO_TENANT_ID}\"\n\
             client_id = \"11111111-2222-3333-4444-555555555555\"\ntoken_versions = [\"1.0\", \"2.0\"]\n{extra}"
        )
    };
    let templates = |authority: &str| ApiConfig::parse(&file(authority, ""), |_| None).unwrap().issuer_templates();
    assert_eq!(
        templates("https://login.microsoftonline.us"),
        ["https://sts.windows.net/{tenantid}/", "https://login.microsoftonline.us/{tenantid}/v2.0"]
    );
    assert_eq!(
        templates("https://login.chinacloudapi.cn"),
        ["https://sts.chinacloudapi.cn/{tenantid}/", "https://login.partner.microsoftonline.cn/{tenantid}/v2.0"]
    );
    let china = ApiConfig::parse(&file("https://login.chinacloudapi.cn", ""), |_| None).unwrap();
    assert_eq!(serde_json::to_value(china.spa_config()).unwrap()["cloud"], "china", "the SPA checks the same issuer");
    // External ID documents no v1 issuer: only v2 tokens.
    let external = file("https://contoso.ciamlogin.com", "").replace("[\"1.0\", \"2.0\"]", "[\"2.0\"]");
    let config = ApiConfig::parse(&external, |_| None).unwrap();
    assert_eq!(config.issuer_templates(), ["https://{tenantid}.ciamlogin.com/{tenantid}/v2.0"]);
    let v1 = ApiConfig::parse(&file("https://contoso.ciamlogin.com", ""), |_| None).unwrap_err();
    assert_eq!(v1.key, "entra.token_versions");
    assert!(v1.expected.contains("external_id"), "{v1}");
    // A cloud is named for an authority that is not Microsoft's (the emulator, a proxy), and
    // must agree with one that is.
    let emulator = ApiConfig::parse(&file("http://127.0.0.1:9400", ""), demo_and("ENTRA_CLOUD", "us_government"));
    assert_eq!(emulator.unwrap().issuer_templates()[1], "https://login.microsoftonline.us/{tenantid}/v2.0");
    let mismatch = ApiConfig::parse(&file("https://login.microsoftonline.com", "cloud = \"china\""), |_| None);
    assert!(mismatch.unwrap_err().to_string().contains("global (the cloud of entra.authority"));
    let unknown = ApiConfig::parse(&file("https://login.microsoftonline.com", "cloud = \"gcc\""), |_| None);
    assert!(unknown.unwrap_err().expected.contains("us_government"));
    // An older alias of a sign-in host: its tokens would name the main host, so it is refused.
    let alias = ApiConfig::parse(&file("https://login.windows.net", ""), |_| None).unwrap_err();
    assert_eq!(
        (alias.key.as_str(), alias.found.as_str()),
        (named(AUTHORITY_KEY).as_str(), "https://login.windows.net")
    );
    assert!(alias.expected.starts_with("https://login.microsoftonline.com: "), "{alias}");
    // In External ID, channels are mapped by group object id: a name could never match.
    let named = format!("{external}\n[[channels]]\nname = \"Dispatch Ops\"\ngroups = [\"Dispatch\"]\n");
    let refused = ApiConfig::parse(&named, |_| None).unwrap_err();
    assert_eq!((refused.key.as_str(), refused.found.as_str()), ("channels[0].groups", "Dispatch"));
    assert!(refused.expected.contains("object ids"), "{refused}");
}

#[test]
fn multi_tenant_needs_an_allow_list() {
    let text = r#"
        [entra]
        tenant_id = "organizations"
        client_id = "11111111-2222-3333-4444-555555555555"
    "#;
    let error = ApiConfig::parse(text, |_| None).unwrap_err();
    assert_eq!(error.key, "entra.allowed_tenants");
    let allowed = format!("{text}\nallowed_tenants = [\"{DEMO_TENANT_ID}\"]");
    let config = ApiConfig::parse(&allowed, |_| None).unwrap();
    assert_eq!(config.tenant_id, "organizations");
    assert_eq!(config.allowed_tenants, [DEMO_TENANT_ID]);
}

#[test]
fn the_implicit_flow_is_off_unless_an_organisation_opts_in_and_each_one_is_named() {
    let organisations = include_str!("../../../../e2e/fixtures/organisations.toml");
    let config = ApiConfig::parse(organisations, |_| None).unwrap();
    assert!(config.implicit_flow_organisations().is_empty(), "off by default");
    assert!(serde_json::to_string(&config.spa_config()).unwrap().find("implicit").is_none(), "no key when off");
    let fabrikam = organisations.replacen(
        "client_id = \"2d4f6a8c-0b1d-4e3f-8a5c-7e9b1d3f5a70\"",
        "client_id = \"2d4f6a8c-0b1d-4e3f-8a5c-7e9b1d3f5a70\"\nimplicit_flow = true",
        1,
    );
    let config = ApiConfig::parse(&fabrikam, |_| None).unwrap();
    assert_eq!(config.implicit_flow_organisations(), ["Fabrikam"]);
    let served = serde_json::to_value(config.spa_config()).unwrap();
    let implicit: Vec<&str> = served["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["implicit_flow"] == true)
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(implicit, ["Fabrikam"]);
    // With profiles the flow is per organisation: a top-level one is refused, not ignored.
    let top_level = organisations.replacen("[[spa.profiles]]", "[spa]\nimplicit_flow = true\n\n[[spa.profiles]]", 1);
    assert_eq!(
        ApiConfig::parse(&top_level, |_| None).unwrap_err().key,
        "spa.implicit_flow (CHANNELS_SPA_IMPLICIT_FLOW)"
    );
    // A single organisation opts in with spa.implicit_flow or the environment.
    let demo = |value: &'static str| demo_and("CHANNELS_SPA_IMPLICIT_FLOW", value);
    let single = ApiConfig::parse(DEMO_CONFIG, demo("true")).unwrap();
    assert!(single.runtime_config().implicit_flow);
    assert_eq!(single.implicit_flow_organisations(), ["spa"]);
    assert!(!ApiConfig::parse(DEMO_CONFIG, demo("0")).unwrap().runtime_config().implicit_flow);
    assert_eq!(ApiConfig::parse(DEMO_CONFIG, demo("yes")).unwrap_err().key, "CHANNELS_SPA_IMPLICIT_FLOW");
}

#[test]
fn sign_in_hints_are_served_per_organisation_and_checked() {
    let organisations = include_str!("../../../../e2e/fixtures/organisations.toml");
    let hinted = organisations
        .replacen("[[spa.profiles]]", "[spa]\ndomain_hint = \"contoso.example\"\n\n[[spa.profiles]]", 1)
        .replacen("name = \"Fabrikam\"", "name = \"Fabrikam\"\nlogin_hint = \"frank@fabrikam.example\"", 1);
    let config = ApiConfig::parse(&hinted, demo_only).unwrap();
    let served = serde_json::to_value(config.spa_config()).unwrap();
    assert_eq!(served["hints"], serde_json::json!({ "domain_hint": "contoso.example" }));
    let fabrikam = served["profiles"].as_array().unwrap().iter().find(|p| p["name"] == "Fabrikam").unwrap();
    let both = serde_json::json!({ "domain_hint": "fabrikam.example", "login_hint": "frank@fabrikam.example" });
    assert_eq!(fabrikam["hints"], both);
    let contoso = served["profiles"].as_array().unwrap().iter().find(|p| p["name"] == "Contoso").unwrap();
    assert!(contoso.get("hints").is_none(), "each organisation its own");
    assert!(serde_json::to_value(ApiConfig::demo().spa_config()).unwrap().get("hints").is_none(), "none: no key");
    for (key, bad) in [("domain_hint", "user@contoso.example"), ("domain_hint", "a b"), ("login_hint", "x\ny")] {
        let text = DEMO_CONFIG.replacen("[spa]", &format!("[spa]\n{key} = {bad:?}"), 1);
        let error = ApiConfig::parse(&text, demo_only).unwrap_err();
        assert_eq!(error.key, format!("spa.{key}"), "{error}");
    }
}

#[test]
fn the_step_up_context_is_c1_to_c99_and_the_demo_requires_c1() {
    let demo = ApiConfig::demo();
    assert_eq!(demo.step_up.rule(DEMO_TENANT_ID), StepUpRule::Required("c1"));
    let set = |value: &str| ApiConfig::parse(DEMO_CONFIG, demo_and("CHANNELS_STEP_UP_PROFILE", value));
    assert_eq!(set("c42").unwrap().step_up.rule(DEMO_TENANT_ID), StepUpRule::Required("c42"));
    assert_eq!(set("").unwrap().step_up.rule(DEMO_TENANT_ID), StepUpRule::NotRequired, "empty turns it off");
    for bad in ["c0", "c100", "mfa", "C1"] {
        let error = set(bad).unwrap_err();
        assert_eq!(error.key, "step_up.profile (CHANNELS_STEP_UP_PROFILE)");
        assert!(error.to_string().contains("an authentication context id, c1 to c99"), "{error}");
    }
    let plain = ApiConfig::parse("[entra]\nclient_id = \"6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d\"\ntenant_id = \"4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f\"", |_| None).unwrap();
    assert_eq!(plain.step_up, StepUp::default(), "off unless configured");
    assert_eq!(plain.step_up.rule(DEMO_TENANT_ID), StepUpRule::NotRequired);
}

/// What the mutation run of this file found untested (bench/results/mutants.md).
#[test]
fn scopes_clouds_and_implicit_organisations_are_checked_one_by_one() {
    for bad in ["", "User Profile", "api://x/UserProfile.ReadWrite"] {
        let text = DEMO_CONFIG.replacen("scope = \"UserProfile.ReadWrite\"", &format!("scope = {bad:?}"), 1);
        assert_eq!(ApiConfig::parse(&text, demo_only).unwrap_err().key, "entra.scope", "{bad:?}");
    }
    for bad in ["", "api://x/a b"] {
        let error = ApiConfig::parse(DEMO_CONFIG, demo_and("CHANNELS_SPA_SCOPE", bad)).unwrap_err();
        assert_eq!(error.key, "spa.scope (CHANNELS_SPA_SCOPE)", "{bad:?}");
    }
    let plain = "[entra]\nclient_id = \"6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d\"\ntenant_id = \"4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f\"";
    let named =
        |cloud: &'static str| ApiConfig::parse(plain, move |key| (key == "ENTRA_CLOUD").then(|| cloud.to_owned()));
    assert_eq!(named("global").unwrap().cloud, Cloud::default(), "the authority's own cloud, named");
    assert_eq!(named("china").unwrap_err().key, "entra.cloud (ENTRA_CLOUD)", "another cloud than the authority's");
    let organisations = include_str!("../../../../e2e/fixtures/organisations.toml");
    for (rename, found) in [("name = \"\"", ""), ("name = \"Contoso\"", "Contoso")] {
        let text = organisations.replacen("name = \"Fabrikam\"", rename, 1);
        let error = ApiConfig::parse(&text, |_| None).unwrap_err();
        assert_eq!((error.key.as_str(), error.found.as_str()), ("spa.profiles[1].name", found), "empty, then twice");
    }
    let skew = |seconds: u32| {
        let text = DEMO_CONFIG.replacen("clock_skew_seconds = 300", &format!("clock_skew_seconds = {seconds}"), 1);
        ApiConfig::parse(&text, demo_only)
    };
    assert_eq!(skew(600).unwrap().clock_skew, 600);
    assert_eq!(skew(601).unwrap_err().key, "entra.clock_skew_seconds");
    let drain = |seconds: &str| ApiConfig::parse(DEMO_CONFIG, demo_and("CHANNELS_SHUTDOWN_DRAIN_SECONDS", seconds));
    assert_eq!(drain("600").unwrap().operations.drain, Duration::from_secs(600));
    assert_eq!(drain("601").unwrap_err().key, "server.shutdown_drain_seconds");
    let both =
        DEMO_CONFIG.replacen("[step_up]", &format!("[step_up]\ntenants = {{ \"{DEMO_TENANT_ID}\" = \"c2\" }}"), 1);
    let error = ApiConfig::parse(&both, demo_only).unwrap_err();
    assert_eq!((error.key.as_str(), error.found.as_str()), ("step_up.profile (CHANNELS_STEP_UP_PROFILE)", "both"));
    let demo = ApiConfig::demo();
    assert!(demo.implicit_flow_organisations().is_empty(), "off unless opted in");
    let opted = ApiConfig { spa: Spa { implicit_flow: true, ..ApiConfig::demo().spa }, ..ApiConfig::demo() };
    assert_eq!(opted.implicit_flow_organisations(), ["spa"]);
}

#[test]
fn the_full_scope_is_the_app_id_uri_and_the_scope() {
    let demo = ApiConfig::demo();
    assert_eq!(demo.app_id_uri(), format!("api://{DEMO_CLIENT_ID}"));
    assert_eq!(demo.full_scope(), format!("api://{DEMO_CLIENT_ID}/UserProfile.ReadWrite"));
    assert_eq!(demo.spa.scope, demo.full_scope(), "what the SPA asks for, unless spa.scope says otherwise");
}

#[test]
fn a_ca_file_without_a_certificate_is_refused_and_secrets_are_redacted_in_debug() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ca.pem");
    std::fs::write(&file, "not a certificate").unwrap();
    let error = ExtraRoots::read(file.clone()).unwrap_err();
    assert_eq!(error.key, "entra.ca_file (ENTRA_CA_FILE)");
    assert!(error.found.ends_with("ca.pem: no certificate"), "{error}");
    let missing = ExtraRoots::read(dir.path().join("absent.pem")).unwrap_err();
    assert!(missing.found.contains("absent.pem"), "{missing}");
    let none = ExtraRoots::default();
    assert_eq!(format!("{none:?}"), "ExtraRoots(None: 0 certificates)");
    let url = DatabaseUrl::parse("postgres://channels:s3cret@db.internal/channels").unwrap();
    assert_eq!(format!("{url:?}"), "DatabaseUrl(postgres:[redacted])");
}

/// Issue #30: `acrs` is written by the token's own tenant, so each tenant's context is its
/// own, and a tenant without one is refused or allowed only as the operator chose.
#[test]
fn step_up_is_per_tenant_and_a_tenant_without_a_context_is_the_operators_explicit_choice() {
    const FABRIKAM: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
    let multi = |step_up: &str| {
        ApiConfig::parse(
            &format!(
                "[entra]\nclient_id = \"{DEMO_CLIENT_ID}\"\ntenant_id = \"organizations\"\n\
                 allowed_tenants = [\"{DEMO_TENANT_ID}\", \"{FABRIKAM}\"]\n[step_up]\n{step_up}"
            ),
            |_| None,
        )
    };
    let error = multi("profile = \"c1\"").unwrap_err();
    assert_eq!(error.key, "step_up.profile (CHANNELS_STEP_UP_PROFILE)", "one context for every tenant is refused");
    assert!(error.expected.contains("each tenant's own context in step_up.tenants"), "{error}");
    let error = multi(&format!("tenants = {{ \"{DEMO_TENANT_ID}\" = \"c1\" }}")).unwrap_err();
    assert_eq!(error.key, "step_up.other_tenants", "a tenant left without a choice is refused");
    assert!(error.found.contains(FABRIKAM), "{error}");
    let refuse = multi(&format!("tenants = {{ \"{DEMO_TENANT_ID}\" = \"c1\" }}\nother_tenants = \"refuse\"")).unwrap();
    assert_eq!(refuse.step_up.rule(&DEMO_TENANT_ID.to_uppercase()), StepUpRule::Required("c1"));
    assert_eq!(refuse.step_up.rule(FABRIKAM), StepUpRule::Refused);
    let described: Vec<_> = refuse.step_up.describe(&refuse.allowed_tenants).collect();
    assert_eq!(described[0], (DEMO_TENANT_ID, "requires the authentication context c1".to_owned()));
    assert!(described[1].1.starts_with("refused"), "{described:?}");
    let allow = multi(&format!("tenants = {{ \"{DEMO_TENANT_ID}\" = \"c1\", \"{FABRIKAM}\" = \"c7\" }}")).unwrap();
    assert_eq!(allow.step_up.rule(FABRIKAM), StepUpRule::Required("c7"), "each its own");
    assert_eq!(allow.step_up.rule("0000aaaa-0000-4000-8000-000000000000"), StepUpRule::Refused, "no choice: refused");
    let allow = multi(&format!("tenants = {{ \"{FABRIKAM}\" = \"c2\" }}\nother_tenants = \"allow\"")).unwrap();
    assert_eq!(allow.step_up.rule(DEMO_TENANT_ID), StepUpRule::NotRequired);
    let described: Vec<_> = allow.step_up.describe(&allow.allowed_tenants).collect();
    assert_eq!(described[0].1, "allowed without step-up (step_up.other_tenants = \"allow\")");
    assert_eq!(described[1].1, "requires the authentication context c2");
    let none = multi("").unwrap();
    let described: Vec<_> = none.step_up.describe(&none.allowed_tenants).collect();
    assert!(described.iter().all(|(_, rule)| rule == "no step-up configured"), "{described:?}");
    let error = multi("tenants = { \"0000aaaa-0000-4000-8000-000000000000\" = \"c1\" }").unwrap_err();
    assert!(error.key.starts_with("step_up.tenants."), "only allowed tenants: {error}");
    let error = multi(&format!("tenants = {{ \"{FABRIKAM}\" = \"c2\" }}\nother_tenants = \"maybe\"")).unwrap_err();
    assert_eq!(error.key, "step_up.other_tenants");
    let error = multi(&format!("tenants = {{ \"{FABRIKAM}\" = \"mfa\" }}\nother_tenants = \"allow\"")).unwrap_err();
    assert!(error.expected.starts_with("an authentication context id"), "{error}");
}

#[test]
fn bad_values_name_the_key_and_what_was_expected() {
    let error = ApiConfig::parse(DEMO_CONFIG, demo_and("ENTRA_CLIENT_ID", "my-app")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "entra.client_id (ENTRA_CLIENT_ID): expected a GUID (App registrations → this app → Overview → Application (client) ID in the Entra portal) (found \"my-app\")"
    );
    let typo = ApiConfig::parse("[entra]\nclient_idd = \"x\"", |_| None).unwrap_err();
    assert!(typo.found.contains("unknown field `client_idd`"), "{typo}");
    let empty_channel = format!("{DEMO_CONFIG}\n[[channels]]\nname = \"Empty\"\n");
    let error = ApiConfig::parse(&empty_channel, demo_only).unwrap_err();
    assert_eq!(error.key, "channels[5].groups");
    let bad_group = format!("{DEMO_CONFIG}\n[[channels]]\nname = \"X\"\ngroups = [\"\\\\Ops\"]\n");
    assert_eq!(ApiConfig::parse(&bad_group, demo_only).unwrap_err().found, "\\Ops");
}

#[test]
fn database_urls_are_checked_and_their_passwords_never_printed() {
    let config = ApiConfig::parse(DEMO_CONFIG, demo_and("CHANNELS_DATABASE_URL", "postgres://u:hunter2@db/x")).unwrap();
    assert_eq!(config.database_url.secret(), "postgres://u:hunter2@db/x");
    assert!(!format!("{config:?}").contains("hunter2"));
    let error = ApiConfig::parse(DEMO_CONFIG, demo_and("CHANNELS_DATABASE_URL", "mysql://u:pw@db/x")).unwrap_err();
    assert_eq!(error.found, "db/x", "the password is not echoed");
}

#[test]
fn authority_is_https_or_loopback_http() {
    assert_eq!(
        Authority::parse("https://login.microsoftonline.com/").unwrap().as_str(),
        "https://login.microsoftonline.com"
    );
    // Loopback http is the demo's emulator, and only the demo's.
    for loopback in ["http://127.0.0.1:9400", "http://localhost", "http://[::1]:9400"] {
        assert_eq!(Authority::demo(loopback).unwrap().as_str(), loopback);
        assert_eq!(Authority::parse(loopback).unwrap_err().found, loopback);
    }
    for spelled_otherwise in ["HTTP://127.0.0.1:9400", " http://127.0.0.1:9400", "Http://localhost"] {
        assert_eq!(Authority::parse(spelled_otherwise).unwrap_err().found, spelled_otherwise);
    }
    for bad in [
        "http://login.microsoftonline.com",
        "http://127.0.0.1.evil:1",
        "http://127.0.0.1:9400@evil.example",
        "http://10.0.0.1",
        "https://x/path",
        "https://x; frame-ancestors *",
        "https://x?q",
        "https://user@x",
        "ftp://x",
        "",
    ] {
        for parse in [Authority::parse, Authority::demo] {
            assert_eq!(parse(bad).unwrap_err().found, bad, "{bad}");
        }
    }
}

#[test]
fn client_apps_default_to_the_spas_own_registrations_and_an_empty_list_is_refused() {
    assert_eq!(ApiConfig::demo().allowed_client_apps, [DEMO_CLIENT_ID]);
    let organisations =
        ApiConfig::parse(include_str!("../../../../e2e/fixtures/organisations.toml"), |_| None).unwrap();
    let profiles: Vec<&str> = organisations.spa.profiles.iter().map(|p| p.client_id.as_str()).collect();
    assert!(profiles.iter().all(|id| organisations.allowed_client_apps.iter().any(|a| a == id)), "{profiles:?}");
    let listed =
        DEMO_CONFIG.replace("[entra]\n", "[entra]\nallowed_client_apps = [\"5B0A0000-0000-4000-8000-00000000A001\"]\n");
    assert_eq!(
        ApiConfig::parse(&listed, demo_only).unwrap().allowed_client_apps,
        ["5b0a0000-0000-4000-8000-00000000a001"]
    );
    let empty = DEMO_CONFIG.replace("[entra]\n", "[entra]\nallowed_client_apps = []\n");
    assert_eq!(ApiConfig::parse(&empty, demo_only).unwrap_err().key, "entra.allowed_client_apps");
    let bad = DEMO_CONFIG.replace("[entra]\n", "[entra]\nallowed_client_apps = [\"my-app\"]\n");
    assert_eq!(ApiConfig::parse(&bad, demo_only).unwrap_err().found, "my-app");
}

#[test]
fn with_several_tenants_each_channel_names_the_tenant_whose_groups_grant_it() {
    let text = include_str!("../../../../e2e/fixtures/organisations.toml");
    let config = ApiConfig::parse(text, |_| None).unwrap();
    let tenants: Vec<_> = config.channels.channels().iter().map(|c| c.tenant.as_deref().unwrap()).collect();
    assert_eq!(
        tenants,
        [DEMO_TENANT_ID, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"]
    );

    // A channel of no tenant would let a group name of any allowed tenant grant it.
    let untied = format!("{text}\n[[channels]]\nname = \"Night Ops\"\ngroups = [\"NightShift\"]\n");
    let error = ApiConfig::parse(&untied, |_| None).unwrap_err();
    assert_eq!((error.key.as_str(), error.found.as_str()), ("channels[3].tenant", "none"));
    assert!(error.expected.contains("repeat the channel once per tenant"), "{error}");
    // A tenant that is not allowed, and the same channel twice in one tenant.
    let stranger = format!(
        "{text}\n[[channels]]\nname = \"X\"\ntenant = \"11111111-2222-4333-8444-555555555555\"\ngroups = [\"X\"]\n"
    );
    assert_eq!(ApiConfig::parse(&stranger, |_| None).unwrap_err().key, "channels[3].tenant");
    let twice = format!("{text}\n[[channels]]\nname = \"Harbour Ops\"\ntenant = \"9A8B7C6D-5E4F-4A3B-8C2D-1E0F9A8B7C6D\"\ngroups = [\"X\"]\n");
    assert_eq!(ApiConfig::parse(&twice, |_| None).unwrap_err().key, "channels[3].name");
    // One tenant keeps the short form, and a channel named with and without it is one twice.
    assert!(ApiConfig::demo().channels.channels().iter().all(|c| c.tenant.is_none()));
    let again =
        format!("{DEMO_CONFIG}\n[[channels]]\nname = \"All Call\"\ntenant = \"{DEMO_TENANT_ID}\"\ngroups = [\"X\"]\n");
    assert_eq!(ApiConfig::parse(&again, demo_only).unwrap_err().key, "channels[5].name");
}

#[test]
fn several_organisations_each_get_a_profile_and_their_tokens_are_accepted() {
    let text = include_str!("../../../../e2e/fixtures/organisations.toml");
    let config = ApiConfig::parse(text, |_| None).unwrap();
    let spa = config.spa_config();
    assert_eq!(spa.profiles.len(), 2);
    let fabrikam = spa.profile("Fabrikam").unwrap();
    assert_eq!(fabrikam.api_scope, "api://2d4f6a8c-0b1d-4e3f-8a5c-7e9b1d3f5a70/UserProfile.ReadWrite");
    assert!(config.audiences.contains(&fabrikam.client_id), "its tokens' aud is accepted");
    assert!(config.allowed_tenants.contains(&fabrikam.tenant_id));

    let foreign = text.replace(
        "tenant_id = \"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d\"\nclient_id",
        "tenant_id = \"11111111-2222-4333-8444-555555555555\"\nclient_id",
    );
    let error = ApiConfig::parse(&foreign, |_| None).unwrap_err().to_string();
    assert!(error.starts_with("spa.profiles[1].tenant_id: expected one of entra.allowed_tenants"), "{error}");
    let single = &text[..text.rfind("[[spa.profiles]]").unwrap()];
    let error = ApiConfig::parse(single, |_| None).unwrap_err().to_string();
    assert!(error.starts_with("spa.profiles: expected two or more organisations"), "{error}");
    let listed = text.replace("[entra]\n", "[entra]\naudiences = [\"6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d\"]\n");
    let error = ApiConfig::parse(&listed, |_| None).unwrap_err().to_string();
    assert!(error.starts_with("entra.audiences: expected to include 2d4f6a8c-0b1d-4e3f-8a5c-7e9b1d3f5a70"), "{error}");
}

/// Issue #31: a bad `CHANNELS_API_WORKERS` stops the start like every other bad value (it was
/// ignored, and the runtime took one thread per core).
#[test]
fn the_worker_count_is_checked_like_every_other_value() {
    let workers = |value: &str| ApiConfig::parse(DEMO_CONFIG, demo_and("CHANNELS_API_WORKERS", value));
    assert_eq!(workers("4").unwrap().server.workers.map(|n| n.get()), Some(4));
    assert_eq!(ApiConfig::demo().server.workers, None, "one per core by default");
    for bad in ["many", "0", "-1"] {
        assert_eq!(
            workers(bad).unwrap_err().to_string(),
            format!(
                "server.workers (CHANNELS_API_WORKERS): expected a number of worker threads, 1 or more (found {bad:?})"
            )
        );
    }
}

/// A value of the wrong type in the file is a TOML error that shows the line with a caret
/// under the value, as every other TOML error does.
#[test]
fn typed_values_of_the_file_are_refused_at_their_line() {
    let text = DEMO_CONFIG.replacen("listen = \"127.0.0.1:9300\"", "listen = \"port 80\"", 1);
    let error = ApiConfig::parse(&text, demo_only).unwrap_err();
    assert_eq!(error.key, "the configuration file");
    assert!(error.found.contains("listen = \"port 80\"") && error.found.contains('^'), "{}", error.found);
    assert!(error.found.contains("invalid socket address"), "{}", error.found);
    let text = DEMO_CONFIG.replacen("[log]", "[log]\nformat = \"xml\"", 1);
    let error = ApiConfig::parse(&text, demo_only).unwrap_err();
    assert!(error.found.contains("unknown variant `xml`, expected `text` or `json`"), "{}", error.found);
}
