//! `/api/me` end to end on loopback: a real emulator (its OIDC metadata and JWKS over HTTP)
//! and a real API server; tokens are the emulator's, with one field changed per negative case.

mod common;

use std::sync::Arc;

use channels_api::config::ApiConfig;
use channels_api::AppState;
use channels_protocol::claims::AccessTokenClaims;
use channels_protocol::wire::{ApiError, Me};
use common::{json, serve};
use entra_emulator::directory::demo;
use entra_emulator::Running;
use tokio::net::TcpListener;

const NOW: u64 = 1_800_000_000;

struct World {
    emulator: Running,
    api: String,
    http: reqwest::Client,
    _database: tempfile::TempDir,
}

/// The demo configuration against `authority`, with a fresh SQLite database.
fn config(authority: &str) -> (ApiConfig, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ApiConfig::demo();
    config.authority = channels_api::config::Authority::demo(authority).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("members.db").display());
    config.database_url = channels_api::config::DatabaseUrl::parse(&url).unwrap();
    (config, dir)
}

async fn world() -> World {
    let clock = Arc::new(|| NOW);
    let emulator =
        entra_emulator::spawn(TcpListener::bind("127.0.0.1:0").await.unwrap(), demo::tenant(), clock.clone())
            .await
            .unwrap();
    let (config, database) = config(emulator.origin());
    let api = serve(AppState::connect(config, clock).await.unwrap()).await;
    World { emulator, api, http: reqwest::Client::new(), _database: database }
}

impl World {
    fn claims(&self, upn: &str) -> AccessTokenClaims {
        let tenant = self.emulator.emulator.tenant();
        let user = tenant.user_by_upn(upn).unwrap();
        self.emulator.emulator.access_token_claims(&tenant.apps[0], user, &[demo::SCOPE.to_owned()], NOW)
    }

    fn token(&self, claims: &AccessTokenClaims) -> String {
        self.emulator.emulator.key().sign(claims)
    }

    async fn get_me(&self, token: Option<&str>) -> reqwest::Response {
        let request = self.http.get(format!("{}/api/me", self.api));
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        request.send().await.unwrap()
    }

    /// Expects a refusal with this status and machine code; returns the challenge header and body.
    async fn refused(&self, token: Option<&str>, status: u16, code: &str) -> (String, ApiError) {
        let response = self.get_me(token).await;
        assert_eq!(response.status().as_u16(), status);
        let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
        let body: ApiError = response.json().await.unwrap();
        assert_eq!(body.error, code, "{body:?}");
        (challenge, body)
    }
}

#[tokio::test]
async fn alice_gets_her_three_channels() {
    let world = world().await;
    let response = world.get_me(Some(&world.token(&world.claims("alice@contoso.example")))).await;
    assert_eq!(response.status(), 200);
    let me: Me = response.json().await.unwrap();
    assert_eq!(me.upn, "alice@contoso.example");
    assert_eq!(me.name, "Alice Moreau");
    assert_eq!(me.tenant_id, demo::TENANT_ID);
    assert_eq!(me.groups, ["Dispatch", "Fire-North"]);
    assert_eq!(me.channels, ["All Call", "Dispatch Ops", "Fire North Tac"]);
    assert_eq!(me.notice, None);
    let member = me.member.unwrap();
    assert_eq!((member.provisioning.as_str(), member.roles), ("created", vec!["member".to_owned()]));
    assert_eq!((member.created_at, member.last_seen_at), (NOW as i64, NOW as i64));
    let again: Me =
        world.get_me(Some(&world.token(&world.claims("alice@contoso.example")))).await.json().await.unwrap();
    assert_eq!(again.member.unwrap().provisioning, "updated");
}

#[tokio::test]
async fn profile_preferences_are_stored_and_bad_bodies_explained() {
    let world = world().await;
    // Saving needs the demo's authentication context c1 (the step-up test shows the challenge).
    let mut claims = world.claims("bob@contoso.example");
    claims.acrs = Some(vec!["c1".to_owned()]);
    let token = world.token(&claims);
    let put =
        |body: String| world.http.put(format!("{}/api/me/profile", world.api)).bearer_auth(&token).body(body).send();
    let response = put(r#"{"theme":"dark","favourite":"All Call"}"#.into()).await.unwrap();
    assert_eq!(response.status(), 200);
    let me: Me = world.get_me(Some(&token)).await.json().await.unwrap();
    assert_eq!(me.member.unwrap().preferences, serde_json::json!({ "theme": "dark", "favourite": "All Call" }));

    let response = put("[1, 2]".into()).await.unwrap();
    assert_eq!(response.status(), 400);
    let body: ApiError = response.json().await.unwrap();
    assert_eq!(
        (body.error.as_str(), body.message.as_str()),
        ("invalid_profile", "expected a JSON object of preferences (found an array)")
    );
    let too_big = format!(r#"{{"x":"{}"}}"#, "a".repeat(5000));
    assert_eq!(put(too_big).await.unwrap().status(), 413);
    let anonymous = world.http.put(format!("{}/api/me/profile", world.api)).body("{}").send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn saving_preferences_without_the_authentication_context_is_a_claims_challenge() {
    let world = world().await;
    let put = |acrs: Option<Vec<&str>>| {
        let mut claims = world.claims("alice@contoso.example");
        claims.acrs = acrs.map(|acrs| acrs.into_iter().map(str::to_owned).collect());
        world.http.put(format!("{}/api/me/profile", world.api)).bearer_auth(world.token(&claims)).body("{}").send()
    };
    for (acrs, found) in [(None, "none"), (Some(vec!["c2"]), "c2")] {
        let response = put(acrs).await.unwrap();
        assert_eq!(response.status(), 401);
        let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
        // Microsoft's shape: the authorize endpoint of the token's tenant, and base64 of
        // {"access_token":{"acrs":{"essential":true,"value":"c1"}}}.
        assert_eq!(
            challenge,
            format!(
                "Bearer realm=\"\", authorization_uri=\"{}/4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f/oauth2/v2.0/authorize\", \
                 error=\"insufficient_claims\", claims=\"eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19\"",
                world.emulator.origin()
            )
        );
        let body: ApiError = response.json().await.unwrap();
        assert_eq!(body.error, "insufficient_claims");
        assert!(
            body.message.contains(&format!("authentication context c1 for this action (found acrs {found})")),
            "{body:?}"
        );
        assert!(body.fix.unwrap().contains("Conditional Access → Authentication contexts → c1"));
    }
    assert_eq!(put(Some(vec!["c2", "c1"])).await.unwrap().status(), 200);
    // Reading needs no step-up.
    assert_eq!(world.get_me(Some(&world.token(&world.claims("alice@contoso.example")))).await.status(), 200);
}

/// Issue #30: `acrs` is written by the token's own tenant. With two tenants allowed, a tenant that
/// never made a Conditional Access policy for `c1` hands out `acrs: ["c1"]` without MFA: its
/// token proves nothing of Contoso's policy.
/// An API allowing Contoso and Fabrikam, with this `[step_up]`, on the emulator's keys.
async fn two_tenants(world: &World, step_up: String) -> (String, tempfile::TempDir) {
    let origin = world.emulator.origin();
    let text = format!(
        "[entra]\nauthority = \"{origin}\"\ntenant_id = \"organizations\"\nallowed_tenants = [\"{}\", \"{}\"]\n\
         client_id = \"{}\"\n[step_up]\n{step_up}",
        demo::TENANT_ID,
        demo::FABRIKAM_TENANT_ID,
        demo::CLIENT_ID
    );
    let multi = ApiConfig::parse(&text, channels_api::config::demo_only).unwrap();
    let (mut config, database) = config(origin);
    (config.tenant_id, config.allowed_tenants, config.step_up) =
        (multi.tenant_id, multi.allowed_tenants, multi.step_up);
    let jwks = serde_json::from_value(serde_json::json!({ "keys": [world.emulator.emulator.key().jwk()] })).unwrap();
    let keys = Arc::new(channels_api::auth::keys::KeyCache::fixed(&jwks));
    (serve(AppState::with_keys(config, keys, Arc::new(|| NOW)).await.unwrap()).await, database)
}

#[tokio::test]
async fn step_up_is_each_tenants_own_and_a_tenant_without_a_context_gets_the_operators_choice() {
    let world = world().await;
    let put_as = |api: String, tenant: &'static str, acrs: &[&str]| {
        let mut claims = world.claims("alice@contoso.example");
        claims.iss = claims.iss.replace(demo::TENANT_ID, tenant);
        claims.tid = tenant.into();
        claims.acrs = Some(acrs.iter().map(|a| a.to_string()).collect());
        let request = world.http.put(format!("{api}/api/me/profile")).bearer_auth(world.token(&claims));
        async move { request.body("{}").send().await.unwrap() }
    };
    let api = |step_up: String| two_tenants(&world, step_up);
    let contoso_only = format!("tenants = {{ \"{}\" = \"c1\" }}\n", demo::TENANT_ID);
    let (refusing, _db) = api(format!("{contoso_only}other_tenants = \"refuse\"")).await;
    let fabrikam = put_as(refusing.clone(), demo::FABRIKAM_TENANT_ID, &["c1"]).await;
    assert_eq!(fabrikam.status(), 403, "Fabrikam's c1 is not Contoso's policy");
    assert!(fabrikam.headers().get("www-authenticate").is_none(), "no step-up could satisfy it: no challenge");
    let body: ApiError = fabrikam.json().await.unwrap();
    assert_eq!(body.error, "step_up_not_configured");
    assert!(body.message.contains(demo::FABRIKAM_TENANT_ID), "{body:?}");
    assert!(body.fix.unwrap().contains(&format!("step_up.tenants.\"{}\"", demo::FABRIKAM_TENANT_ID)));
    assert_eq!(put_as(refusing.clone(), demo::TENANT_ID, &[]).await.status(), 401, "Contoso's users step up");
    assert_eq!(put_as(refusing, demo::TENANT_ID, &["c1"]).await.status(), 200);

    let (allowing, _db) = api(format!("{contoso_only}other_tenants = \"allow\"")).await;
    assert_eq!(put_as(allowing.clone(), demo::FABRIKAM_TENANT_ID, &[]).await.status(), 200, "allowed, as chosen");
    assert_eq!(put_as(allowing, demo::TENANT_ID, &[]).await.status(), 401);

    let (each, _db) =
        api(format!("tenants = {{ \"{}\" = \"c1\", \"{}\" = \"c3\" }}", demo::TENANT_ID, demo::FABRIKAM_TENANT_ID))
            .await;
    let challenged = put_as(each.clone(), demo::FABRIKAM_TENANT_ID, &["c1"]).await;
    assert_eq!(challenged.status(), 401, "Fabrikam's own context is c3");
    let challenge = challenged.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains(&format!("/{}/oauth2/v2.0/authorize", demo::FABRIKAM_TENANT_ID)), "{challenge}");
    assert_eq!(put_as(each, demo::FABRIKAM_TENANT_ID, &["c3"]).await.status(), 200);
}

#[tokio::test]
async fn carol_and_dave_are_told_why_they_have_no_channels() {
    let world = world().await;
    let carol: Me =
        world.get_me(Some(&world.token(&world.claims("carol@contoso.example")))).await.json().await.unwrap();
    assert!(carol.channels.is_empty());
    assert_eq!(carol.notice.unwrap().code, "no_groups_claim");
    let dave: Me = world.get_me(Some(&world.token(&world.claims("dave@contoso.example")))).await.json().await.unwrap();
    assert!(dave.channels.is_empty());
    let notice = dave.notice.unwrap();
    assert_eq!(notice.code, "groups_overage");
    assert!(notice.fix.unwrap().contains("Groups assigned to the application"));
}

#[tokio::test]
async fn no_token_is_a_bare_bearer_challenge() {
    let world = world().await;
    let (challenge, _) = world.refused(None, 401, "missing_token").await;
    assert_eq!(challenge, "Bearer");
}

#[tokio::test]
async fn wrong_signature_is_refused() {
    let world = world().await;
    let token = world.token(&world.claims("alice@contoso.example"));
    let (head, signature) = token.rsplit_once('.').unwrap();
    let mut signature = signature.to_owned().into_bytes();
    signature[10] = if signature[10] == b'A' { b'B' } else { b'A' };
    let forged = format!("{head}.{}", String::from_utf8(signature).unwrap());
    let (challenge, body) = world.refused(Some(&forged), 401, "bad_signature").await;
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\", error_description=\"expected a valid RS256 signature")
    );
    assert!(body.message.contains("does not verify"));
}

#[tokio::test]
async fn stripped_signatures_a_missing_expiry_a_future_nbf_and_another_tenants_genuine_token_are_refused() {
    let world = world().await;
    let token = world.token(&world.claims("alice@contoso.example"));
    let (head, _) = token.rsplit_once('.').unwrap();
    world.refused(Some(&format!("{head}.")), 401, "bad_signature").await;
    world.refused(Some(head), 401, "malformed_token").await;

    // Correctly signed, but without `exp`.
    let mut claims = serde_json::to_value(world.claims("alice@contoso.example")).unwrap();
    claims.as_object_mut().unwrap().remove("exp");
    world.refused(Some(&world.emulator.emulator.key().sign(&claims)), 401, "malformed_token").await;

    let mut claims = world.claims("alice@contoso.example");
    claims.nbf = NOW + 301;
    world.refused(Some(&world.token(&claims)), 401, "token_not_yet_valid").await;

    // A genuine token of another tenant, signed by the same (shared) Entra keys.
    let mut claims = world.claims("alice@contoso.example");
    claims.tid = demo::FABRIKAM_TENANT_ID.into();
    claims.iss = world.emulator.emulator.issuer_of(demo::FABRIKAM_TENANT_ID);
    let (_, body) = world.refused(Some(&world.token(&claims)), 401, "tenant_not_allowed").await;
    assert!(body.message.contains(demo::FABRIKAM_TENANT_ID), "{}", body.message);
}

#[tokio::test]
async fn wrong_audience_issuer_and_expiry_are_refused_with_what_was_found_but_not_the_configuration() {
    let world = world().await;
    let mut claims = world.claims("alice@contoso.example");
    claims.aud = "11111111-2222-3333-4444-555555555555".into();
    let (challenge, body) = world.refused(Some(&world.token(&claims)), 401, "wrong_audience").await;
    assert_eq!(body.message, "expected a token for this API (found aud 11111111-2222-3333-4444-555555555555)");
    assert!(!challenge.contains(demo::CLIENT_ID), "the accepted audiences are not told: {challenge}");

    let mut claims = world.claims("alice@contoso.example");
    claims.iss = "https://login.microsoftonline.com/4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f/v2.0".into();
    let (challenge, body) = world.refused(Some(&world.token(&claims)), 401, "wrong_issuer").await;
    assert_eq!(
        body.message,
        "expected the issuer this API trusts for the token's tenant (found iss https://login.microsoftonline.com/4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f/v2.0)"
    );
    assert!(!challenge.contains(world.emulator.origin()) && !body.message.contains(world.emulator.origin()));

    let mut claims = world.claims("alice@contoso.example");
    claims.exp = NOW - 301;
    let (challenge, _) = world.refused(Some(&world.token(&claims)), 401, "token_expired").await;
    assert!(challenge.contains(&format!("token expired at {}", NOW - 301)));
}

#[tokio::test]
async fn only_the_client_applications_the_api_was_built_for_are_accepted() {
    let world = world().await;
    // Another app, in any tenant, that was granted the scope: its azp is not the SPA's.
    let mut claims = world.claims("alice@contoso.example");
    assert_eq!(claims.azp.as_deref(), Some(demo::CLIENT_ID), "the SPA's own tokens name it");
    claims.azp = Some("99999999-8888-4777-8666-555555555555".into());
    let (challenge, body) = world.refused(Some(&world.token(&claims)), 401, "client_app_not_allowed").await;
    assert_eq!(
        body.message,
        "expected a client application this API accepts in azp (v2) or appid (v1) (found 99999999-8888-4777-8666-555555555555)"
    );
    assert!(body.fix.unwrap().contains("entra.allowed_client_apps"));
    assert!(!challenge.contains(demo::CLIENT_ID), "the accepted apps are not told: {challenge}");

    // A token naming no client application at all.
    claims.azp = None;
    let (challenge, body) = world.refused(Some(&world.token(&claims)), 401, "client_app_not_allowed").await;
    assert_eq!(
        body.message,
        "expected a client application this API accepts in azp (v2) or appid (v1) (found neither claim)"
    );
    assert!(!challenge.contains(demo::CLIENT_ID), "the accepted apps are not told: {challenge}");

    // An ID token names no client application either, and is refused as what it is.
    let emulator = &world.emulator.emulator;
    let tenant = emulator.tenant();
    let alice = tenant.user_by_upn("alice@contoso.example").unwrap();
    let id_token = emulator.id_token(tenant, &tenant.apps[0], alice, Some("n-1"), None, None, NOW);
    world.refused(Some(&id_token), 401, "id_token").await;

    // Listed in entra.allowed_client_apps, the other app is accepted (and the SPA's no longer is).
    let (mut config, _database) = config(world.emulator.origin());
    config.allowed_client_apps = vec!["99999999-8888-4777-8666-555555555555".into()];
    let api = serve(AppState::connect(config, Arc::new(|| NOW)).await.unwrap()).await;
    claims.azp = Some("99999999-8888-4777-8666-555555555555".into());
    let response = world.http.get(format!("{api}/api/me")).bearer_auth(world.token(&claims)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let own = world.token(&world.claims("alice@contoso.example"));
    let response = world.http.get(format!("{api}/api/me")).bearer_auth(own).send().await.unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn missing_scope_is_403_insufficient_scope() {
    let world = world().await;
    let mut claims = world.claims("alice@contoso.example");
    claims.scp = Some("User.Read".into());
    let (challenge, body) = world.refused(Some(&world.token(&claims)), 403, "insufficient_scope").await;
    let scope = format!("api://{}/UserProfile.ReadWrite", demo::CLIENT_ID);
    assert!(challenge.starts_with(&format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\"")), "{challenge}");
    assert!(body.fix.unwrap().contains("Expose an API"));
}

#[tokio::test]
async fn graph_and_id_tokens_are_named_as_such() {
    let world = world().await;
    let mut claims = world.claims("alice@contoso.example");
    claims.aud = "00000003-0000-0000-c000-000000000000".into();
    let (_, body) = world.refused(Some(&world.token(&claims)), 401, "graph_token").await;
    assert!(body.fix.unwrap().contains("User.Read"));

    let mut claims = serde_json::to_value(world.claims("alice@contoso.example")).unwrap();
    claims.as_object_mut().unwrap().remove("scp");
    claims["nonce"] = "n".into();
    let id_token = world.emulator.emulator.key().sign(&claims);
    world.refused(Some(&id_token), 401, "id_token").await;
    // Either sign is enough: a `nonce` in the payload (Entra's access tokens carry none, even
    // with a scope), or neither `scp` nor `roles` (what an access token is for).
    claims["scp"] = demo::SCOPE.into();
    world.refused(Some(&world.emulator.emulator.key().sign(&claims)), 401, "id_token").await;
    claims.as_object_mut().unwrap().remove("scp");
    claims.as_object_mut().unwrap().remove("nonce");
    world.refused(Some(&world.emulator.emulator.key().sign(&claims)), 401, "id_token").await;
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn algorithms_other_than_rs256_are_refused_before_any_key_is_used() {
    let world = world().await;
    let claims = world.claims("alice@contoso.example");
    let payload = b64(serde_json::to_string(&claims).unwrap().as_bytes());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = format!("{}.{payload}.", b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes()));
        let (challenge, _) = world.refused(Some(&token), 401, "unsupported_algorithm").await;
        assert!(challenge.contains(&format!("expected alg RS256 (found {alg})")), "{challenge}");
    }
    // Key confusion: HS256 keyed with the tenant's public key bytes.
    let public_key = serde_json::to_vec(world.emulator.emulator.key().jwk()).unwrap();
    for alg in [jsonwebtoken::Algorithm::HS256, jsonwebtoken::Algorithm::HS384, jsonwebtoken::Algorithm::HS512] {
        let mut header = jsonwebtoken::Header::new(alg);
        header.kid = Some(world.emulator.emulator.key().kid().to_owned());
        let token =
            jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(&public_key)).unwrap();
        world.refused(Some(&token), 401, "unsupported_algorithm").await;
    }
}

#[tokio::test]
async fn keys_carried_in_the_header_are_refused() {
    let world = world().await;
    let claims = world.claims("alice@contoso.example");
    // The attacker's own key, announced in the header it signs.
    let attacker = entra_emulator::keys::SigningKey::generate();
    let attacker_jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(attacker.jwk().clone()).unwrap();
    let mut header = attacker.header();
    header.jwk = Some(attacker_jwk);
    world.refused(Some(&attacker.sign_with_header(&header, &claims)), 401, "embedded_key").await;
    for (name, set) in [
        ("jku", (|h: &mut jsonwebtoken::Header| h.jku = Some("http://127.0.0.1:1/keys".into())) as fn(&mut _)),
        ("x5u", |h| h.x5u = Some("http://127.0.0.1:1/cert".into())),
        ("x5c", |h| h.x5c = Some(vec!["MIIB".into()])),
    ] {
        let mut header = attacker.header();
        set(&mut header);
        let (_, body) = world.refused(Some(&attacker.sign_with_header(&header, &claims)), 401, "embedded_key").await;
        assert!(body.message.contains(&format!("`{name}`")), "{}", body.message);
    }
    // A kid that is not in the tenant's key set.
    world.refused(Some(&attacker.sign(&claims)), 401, "unknown_key").await;
}

#[tokio::test]
async fn kids_shaped_like_paths_queries_or_urls_are_only_unknown_keys_and_a_missing_kid_is_named() {
    let world = world().await;
    let claims = world.claims("alice@contoso.example");
    // Signed by the tenant's real key: only the kid is the attacker's. A kid is a lookup in
    // the cached key set, never a path, a query or a URL.
    let key = world.emulator.emulator.key();
    for kid in ["../../../../etc/passwd", "' OR '1'='1' --", "http://127.0.0.1:1/keys", "%00", ""] {
        let mut header = key.header();
        header.kid = Some(kid.to_owned());
        world.refused(Some(&key.sign_with_header(&header, &claims)), 401, "unknown_key").await;
    }
    let mut header = key.header();
    header.kid = None;
    let (_, body) = world.refused(Some(&key.sign_with_header(&header, &claims)), 401, "malformed_token").await;
    assert!(body.message.contains("expected a `kid` header (found none)"), "{}", body.message);
}

#[tokio::test]
async fn another_tenant_and_graph_header_nonce_are_refused() {
    let world = world().await;
    let mut claims = world.claims("alice@contoso.example");
    claims.tid = "0000aaaa-0000-4000-8000-000000000000".into();
    let (challenge, body) = world.refused(Some(&world.token(&claims)), 401, "tenant_not_allowed").await;
    assert_eq!(body.message, "expected a tenant this API accepts (found tid 0000aaaa-0000-4000-8000-000000000000)");
    assert!(!challenge.contains(demo::TENANT_ID), "the allow-list is not told: {challenge}");

    let claims = world.claims("alice@contoso.example");
    let header =
        format!(r#"{{"typ":"JWT","alg":"RS256","kid":"{}","nonce":"abc"}}"#, world.emulator.emulator.key().kid());
    let signed = world.token(&claims);
    let graph_like = format!("{}.{}", b64(header.as_bytes()), signed.split_once('.').unwrap().1);
    world.refused(Some(&graph_like), 401, "graph_token").await;
}

#[tokio::test]
async fn an_unreachable_identity_provider_is_503_not_a_bad_token() {
    let world = world().await;
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (config, _database) = config(&format!("http://{}", closed.local_addr().unwrap()));
    drop(closed);
    let api = serve(AppState::connect(config, Arc::new(|| NOW)).await.unwrap()).await;
    let token = world.token(&world.claims("alice@contoso.example"));
    for _ in 0..2 {
        let response = world.http.get(format!("{api}/api/me")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 503);
        let body: ApiError = response.json().await.unwrap();
        assert_eq!(body.error, "keys_unavailable");
    }
    let response = world.http.get(format!("{api}/readyz")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let body = response.json::<ApiError>().await.unwrap();
    assert_eq!(body.error, "not_ready");
    // What is not ready, but not the URLs and network errors behind it (those are logged).
    assert_eq!(
        body.message,
        "expected the signing keys to be available (found it unavailable; the API's log says why)"
    );
}

#[tokio::test]
async fn verified_tokens_are_remembered_but_never_past_their_expiry() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let world = world().await;
    let now = Arc::new(AtomicU64::new(NOW));
    let clock = now.clone();
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(serde_json::json!({ "keys": [world.emulator.emulator.key().jwk()] })).unwrap();
    let (config, _database) = config(world.emulator.origin());
    let state = AppState::with_keys(
        config,
        Arc::new(channels_api::auth::keys::KeyCache::fixed(&jwks)),
        Arc::new(move || clock.load(Ordering::SeqCst)),
    )
    .await
    .unwrap();
    let validator = &state.validator;
    let claims = world.claims("alice@contoso.example");
    let token = world.token(&claims);
    assert_eq!(validator.validate(&token).await.unwrap().claims().oid, claims.oid);
    assert_eq!(validator.validate(&token).await.unwrap().claims().oid, claims.oid);
    assert_eq!(validator.remembered_tokens(), 1, "one entry for one token, however often it is used");

    let mut no_scope = claims.clone();
    no_scope.scp = Some("Other.Read".into());
    assert!(validator.validate(&world.token(&no_scope)).await.is_err());
    assert_eq!(validator.remembered_tokens(), 1, "refused tokens are not remembered");

    now.store(claims.exp + 301, Ordering::SeqCst);
    assert_eq!(
        validator.validate(&token).await.unwrap_err(),
        channels_api::auth::TokenError::Expired { exp: claims.exp, now: claims.exp + 301 }
    );
}

/// 200 groups, distinct for each `n`: a token of about 9 KB, as an overage-sized user has.
fn many_groups(n: usize) -> Vec<String> {
    (0..200).map(|g| format!("CONTOSO\\Group-{n:03}-{g:03}-padding-to-thirty")).collect()
}

#[tokio::test]
async fn the_verified_token_cache_is_bounded_by_bytes_not_only_by_count() {
    let world = world().await;
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(serde_json::json!({ "keys": [world.emulator.emulator.key().jwk()] })).unwrap();
    let (config, _database) = config(world.emulator.origin());
    let limit = 256 * 1024;
    let validator = channels_api::auth::Validator::remembering_at_most(
        channels_api::expectations(&config),
        Arc::new(channels_api::auth::keys::KeyCache::fixed(&jwks)),
        Arc::new(|| NOW),
        limit,
    );
    // 100 distinct valid tokens of about 9 KB each (200 groups, as an overage-sized user has).
    let mut claims = world.claims("alice@contoso.example");
    for n in 0..100 {
        claims.groups = Some(many_groups(n));
        let token = world.token(&claims);
        assert!(token.len() > 8_000);
        assert!(validator.validate(&token).await.is_ok());
    }
    let (count, bytes) = (validator.remembered_tokens(), validator.remembered_bytes());
    assert!(bytes <= limit, "{bytes} bytes remembered");
    assert!((1..=30).contains(&count), "{count} tokens remembered, of 100");
}

#[tokio::test]
async fn the_default_cache_remembers_every_token_of_a_busy_minute() {
    // 150 distinct tokens of about 9 KB (1.4 MB in all) fit the default 64 MiB: a budget a few
    // megabytes smaller would already drop some, and every one would pay for RSA again.
    let world = world().await;
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(serde_json::json!({ "keys": [world.emulator.emulator.key().jwk()] })).unwrap();
    let (config, _database) = config(world.emulator.origin());
    let validator = channels_api::auth::Validator::new(
        channels_api::expectations(&config),
        Arc::new(channels_api::auth::keys::KeyCache::fixed(&jwks)),
        Arc::new(|| NOW),
    );
    let mut claims = world.claims("alice@contoso.example");
    let mut bytes = 0;
    for n in 0..150 {
        claims.groups = Some(many_groups(n));
        let token = world.token(&claims);
        bytes += token.len() as u64 + u64::from(channels_api::auth::validate::REMEMBERED_OVERHEAD);
        assert!(validator.validate(&token).await.is_ok());
    }
    assert_eq!(validator.remembered_tokens(), 150);
    assert_eq!(validator.remembered_bytes(), bytes, "each token's text and the fixed overhead");
    assert!(bytes > 1_300_000, "{bytes} bytes");
}

#[tokio::test]
async fn the_clock_skew_allowance_holds_to_the_second_on_both_ends_of_a_token_lifetime() {
    let world = world().await;
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(serde_json::json!({ "keys": [world.emulator.emulator.key().jwk()] })).unwrap();
    let (config, _database) = config(world.emulator.origin());
    let skew = config.clock_skew;
    assert_eq!(skew, 300, "the demo configuration's (Microsoft.Identity.Web's) five minutes");
    let validator = channels_api::auth::Validator::new(
        channels_api::expectations(&config),
        Arc::new(channels_api::auth::keys::KeyCache::fixed(&jwks)),
        Arc::new(|| NOW),
    );
    let mut claims = world.claims("alice@contoso.example");
    // Expired `skew` seconds ago: still accepted; one second more: refused.
    claims.nbf = NOW - 3600;
    claims.exp = NOW - skew;
    assert!(validator.validate(&world.token(&claims)).await.is_ok());
    claims.exp = NOW - skew - 1;
    let refused = validator.validate(&world.token(&claims)).await.unwrap_err();
    assert_eq!(refused, channels_api::auth::TokenError::Expired { exp: NOW - skew - 1, now: NOW });
    // Valid from `skew` seconds ahead: accepted; one second later: refused.
    claims.exp = NOW + 3600;
    claims.nbf = NOW + skew;
    assert!(validator.validate(&world.token(&claims)).await.is_ok());
    claims.nbf = NOW + skew + 1;
    let refused = validator.validate(&world.token(&claims)).await.unwrap_err();
    assert_eq!(refused, channels_api::auth::TokenError::NotYetValid { nbf: NOW + skew + 1, now: NOW });
}

#[tokio::test]
async fn the_authorization_scheme_is_matched_without_case() {
    let world = world().await;
    let token = world.token(&world.claims("alice@contoso.example"));
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let request =
            world.http.get(format!("{}/api/me", world.api)).header("authorization", format!("{scheme} {token}"));
        assert_eq!(request.send().await.unwrap().status(), 200, "{scheme}");
    }
    for wrong in [format!("Basic {token}"), format!("Bearer{token}"), token.clone()] {
        let request = world.http.get(format!("{}/api/me", world.api)).header("authorization", wrong);
        assert_eq!(request.send().await.unwrap().status(), 401);
    }
}

#[tokio::test]
async fn only_the_authority_may_frame_the_front_channel_logout_route() {
    let world = world().await;
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("index.html"), "<html><script type=\"module\">boot()</script></html>").unwrap();
    let (mut config, _database) = config(world.emulator.origin());
    config.server.spa_dir = Some(site.path().to_owned());
    let api = serve(AppState::connect(config, Arc::new(|| NOW)).await.unwrap()).await;
    let policy = |path: &'static str| {
        let request = world.http.get(format!("{api}{path}"));
        async move {
            let response = request.send().await.unwrap();
            response.headers()["content-security-policy"].to_str().unwrap().to_owned()
        }
    };
    let (logout, page) = (policy("/logout").await, policy("/").await);
    assert!(logout.ends_with(&format!("frame-ancestors {}", world.emulator.origin())), "{logout}");
    assert!(page.ends_with("frame-ancestors 'none'"), "{page}");
    assert!(policy("/sso").await.ends_with("frame-ancestors 'none'"));
    let framed_by = format!("frame-ancestors {}", world.emulator.origin());
    assert_eq!(logout.replace(&framed_by, "frame-ancestors 'none'"), page, "the rest of the policy is the same");
}

#[tokio::test]
async fn the_spa_is_served_compressed_to_a_browser_that_accepts_it_and_whole_to_one_that_does_not() {
    let world = world().await;
    let site = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(site.path().join(name), bytes).unwrap();
    write("index.html", b"<html><script type=\"module\">boot()</script></html>");
    write("index.html.br", b"index, as brotli");
    write("app-0123456789abcdef.wasm", b"\0asm whole");
    write("app-0123456789abcdef.wasm.br", b"wasm, as brotli");
    write("app-0123456789abcdef.wasm.gz", b"wasm, as gzip");
    let (mut config, _database) = config(world.emulator.origin());
    config.server.spa_dir = Some(site.path().to_owned());
    let api = serve(AppState::connect(config, Arc::new(|| NOW)).await.unwrap()).await;
    let fetch = |path: &'static str, accept: &'static str| {
        let request = world.http.get(format!("{api}{path}")).header("accept-encoding", accept);
        async move {
            let response = request.send().await.unwrap();
            let header = |name| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
            let (encoding, vary, kind) = (header("content-encoding"), header("vary"), header("content-type"));
            (encoding, vary, kind, response.bytes().await.unwrap())
        }
    };
    let wasm = "/app-0123456789abcdef.wasm";
    let (encoding, vary, kind, body) = fetch(wasm, "gzip, deflate, br").await;
    assert_eq!((encoding.as_deref(), &body[..]), (Some("br"), &b"wasm, as brotli"[..]));
    assert_eq!(kind.as_deref(), Some("application/wasm"), "streaming compilation needs the wasm's own type");
    assert!(vary.is_some_and(|vary| vary.contains("accept-encoding")), "a shared cache keeps the encodings apart");
    let (encoding, _, _, body) = fetch(wasm, "gzip").await;
    assert_eq!((encoding.as_deref(), &body[..]), (Some("gzip"), &b"wasm, as gzip"[..]));
    let (encoding, vary, _, body) = fetch(wasm, "identity").await;
    assert_eq!((encoding, &body[..]), (None, &b"\0asm whole"[..]));
    assert!(vary.is_some_and(|vary| vary.contains("accept-encoding")));
    // A client-side route answers with index.html, compressed the same way; a file without a
    // compressed copy is sent whole.
    let (encoding, _, _, body) = fetch("/sso", "br").await;
    assert_eq!((encoding.as_deref(), &body[..]), (Some("br"), &b"index, as brotli"[..]));
    let (encoding, _, _, _) = fetch("/index.html", "gzip").await;
    assert_eq!(encoding, None, "no index.html.gz: the whole file");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let world = world().await;
    let token = world.token(&world.claims("alice@contoso.example"));
    let requests = [
        world.http.get(format!("{}/api/me", world.api)).bearer_auth(&token),
        world.http.get(format!("{}/api/me", world.api)),
        world.http.get(format!("{}/api/channels", world.api)).bearer_auth(&token),
        world.http.put(format!("{}/api/me/profile", world.api)).bearer_auth(&token).body("[]"),
        world.http.get(format!("{}/config.json", world.api)),
        world.http.get(format!("{}/healthz", world.api)),
        world.http.get(format!("{}/readyz", world.api)),
        world.http.get(format!("{}/no-such-route", world.api)),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        let url = response.url().to_string();
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            header("content-security-policy").as_deref(),
            Some("default-src 'none'; frame-ancestors 'none'"),
            "{url}"
        );
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{url}");
        assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"), "{url}");
    }
}

#[tokio::test]
async fn readyz_and_the_channel_list() {
    let world = world().await;
    // The emulator publishes its signing key and the next one, as Entra does.
    let ready: serde_json::Value = json(world.http.get(format!("{}/readyz", world.api))).await;
    assert_eq!(ready, serde_json::json!({ "ready": true, "signing_keys": 2, "database": "ok" }));
    let token = world.token(&world.claims("bob@contoso.example"));
    let list: serde_json::Value = json(world.http.get(format!("{}/api/channels", world.api)).bearer_auth(token)).await;
    assert_eq!(
        list,
        serde_json::json!([
            { "name": "All Call", "granted": true },
            { "name": "Dispatch Ops", "granted": false },
            { "name": "Fire North Tac", "granted": false },
            { "name": "Police South Ops", "granted": true },
            { "name": "Site 7 Patrol", "granted": false },
        ])
    );
}

#[tokio::test]
async fn cors_answers_only_the_configured_spa_origins() {
    let world = world().await;
    let (mut config, _database) = config(world.emulator.origin());
    config.server.allowed_origins = vec!["https://app.example.com".into()];
    let api = serve(AppState::connect(config, Arc::new(|| NOW)).await.unwrap()).await;
    let preflight = |origin: &'static str| {
        world
            .http
            .request(reqwest::Method::OPTIONS, format!("{api}/api/me"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "authorization")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example.com");
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none());
    // Without configured origins there is no CORS at all.
    let none = world.http.get(format!("{}/healthz", world.api)).header("Origin", "https://app.example.com").send();
    assert!(none.await.unwrap().headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn multi_tenant_fills_the_issuer_from_tid_and_keeps_to_the_allow_list() {
    let world = world().await;
    let text = format!(
        "[entra]\nauthority = \"{}\"\ntenant_id = \"organizations\"\nallowed_tenants = [\"{}\"]\nclient_id = \"{}\"\n",
        world.emulator.origin(),
        demo::TENANT_ID,
        demo::CLIENT_ID
    );
    let (mut config, _database) = config(world.emulator.origin());
    let multi = ApiConfig::parse(&text, channels_api::config::demo_only).unwrap();
    (config.tenant_id, config.allowed_tenants) = (multi.tenant_id, multi.allowed_tenants);
    let jwks = serde_json::from_value(serde_json::json!({ "keys": [world.emulator.emulator.key().jwk()] })).unwrap();
    let keys = Arc::new(channels_api::auth::keys::KeyCache::fixed(&jwks));
    let state = AppState::with_keys(config, keys, Arc::new(|| NOW)).await.unwrap();

    let claims = world.claims("alice@contoso.example");
    assert!(state.validator.validate(&world.token(&claims)).await.is_ok());

    let other = "0000aaaa-0000-4000-8000-000000000000";
    let mut foreign = claims.clone();
    foreign.tid = other.into();
    foreign.iss = foreign.iss.replace(demo::TENANT_ID, other);
    let error = state.validator.validate(&world.token(&foreign)).await.unwrap_err();
    assert_eq!(error.code(), "tenant_not_allowed");

    // Signed by the shared key set, but issued for another tenant than its tid says.
    let mut mixed = claims.clone();
    mixed.iss = mixed.iss.replace(demo::TENANT_ID, other);
    let error = state.validator.validate(&world.token(&mixed)).await.unwrap_err();
    assert_eq!(error.code(), "wrong_issuer");
}

#[tokio::test]
async fn duplicate_keys_odd_encodings_and_oversized_input_are_refused_without_harm() {
    let world = world().await;
    let key = world.emulator.emulator.key();
    let claims = serde_json::to_string(&world.claims("alice@contoso.example")).unwrap();
    let header = b64(format!(r#"{{"typ":"JWT","alg":"RS256","kid":"{}"}}"#, key.kid()).as_bytes());

    // A correctly signed payload whose second `aud` would win in a last-wins parser.
    let duplicate = claims.replacen('{', r#"{"aud":"11111111-2222-3333-4444-555555555555","#, 1);
    let token = key.sign_raw(&format!("{header}.{}", b64(duplicate.as_bytes())));
    let (_, body) = world.refused(Some(&token), 401, "malformed_token").await;
    assert!(body.message.contains("expected Entra access token claims (duplicate field `aud`"), "{}", body.message);

    let not_utf8 = key.sign_raw(&format!("{header}.{}", b64(&[0xff, 0xfe, b'{', b'}'])));
    world.refused(Some(&not_utf8), 401, "malformed_token").await;
    let (_, body) = world.refused(Some("a*c.def.ghi"), 401, "malformed_token").await;
    assert!(body.message.contains("expected base64url"), "{}", body.message);

    let huge = format!("{header}.{}.sig", "A".repeat(20_000));
    let (_, body) = world.refused(Some(&huge), 401, "malformed_token").await;
    assert!(body.message.starts_with("malformed token: expected a token of at most 16384 bytes"), "{}", body.message);

    // Headers beyond the server's limit (hyper's, about 400 KiB): 431, then the connection is
    // closed, and the server lives on. Over raw TCP, because an HTTP client still sending the
    // rest of the header sees only the closed connection.
    assert_eq!(giant_header_status(&world.api, 1 << 20).await, "431", "no crash: 431 Request Header Fields Too Large");
    world.refused(None, 401, "missing_token").await;
}

/// The status code the server answers to a request with one header of `size` bytes. The
/// server may reset the connection right after its answer; a few tries rule out that race.
async fn giant_header_status(api: &str, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = api.trim_start_matches("http://");
    let request = format!("GET /api/me HTTP/1.1\r\nHost: {addr}\r\nX-Big: {}\r\n\r\n", "a".repeat(size));
    for _ in 0..5 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = stream.write_all(request.as_bytes()).await;
        let mut answer = vec![0u8; 64];
        if let Ok(Ok(n)) = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut answer)).await {
            if let Some(status) = String::from_utf8_lossy(&answer[..n]).strip_prefix("HTTP/1.1 ") {
                return status.chars().take(3).collect();
            }
        }
    }
    "no answer".to_owned()
}

#[tokio::test]
async fn key_urls_in_the_header_are_never_fetched() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let world = world().await;
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let trap = axum::Router::new().fallback(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { "{}" }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trap_url = format!("http://{}/keys", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, trap).await.unwrap() });

    let attacker = entra_emulator::keys::SigningKey::generate();
    let claims = world.claims("alice@contoso.example");
    let mut jku = attacker.header();
    jku.jku = Some(trap_url.clone());
    let mut x5u = attacker.header();
    x5u.x5u = Some(trap_url);
    for header in [jku, x5u] {
        world.refused(Some(&attacker.sign_with_header(&header, &claims)), 401, "embedded_key").await;
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the attacker's URL saw no request");
}

#[tokio::test]
async fn runtime_config_points_the_spa_at_the_tenant_whatever_forwarded_headers_say() {
    let world = world().await;
    let config: channels_protocol::wire::RuntimeConfig =
        json(world.http.get(format!("{}/config.json", world.api))).await;
    assert_eq!(config.authority, world.emulator.origin());
    assert_eq!(config.tenant_id, demo::TENANT_ID);
    assert_eq!(config.api_scope, format!("api://{}/UserProfile.ReadWrite", demo::CLIENT_ID));

    // Forwarded headers name no authority, tenant or scope: the configuration does.
    let forwarded: channels_protocol::wire::RuntimeConfig = json(
        world
            .http
            .get(format!("{}/config.json", world.api))
            .header("x-forwarded-host", "evil.example")
            .header("x-forwarded-proto", "http")
            .header("forwarded", "host=evil.example;proto=http"),
    )
    .await;
    assert_eq!(forwarded, config);
    let token = world.token(&world.claims("alice@contoso.example"));
    let me: Me = json(
        world.http.get(format!("{}/api/me", world.api)).bearer_auth(token).header("x-forwarded-host", "evil.example"),
    )
    .await;
    assert_eq!(me.upn, "alice@contoso.example", "identity comes from the token only");
}
