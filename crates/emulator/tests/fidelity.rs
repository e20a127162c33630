//! Entra behaviours beyond the SPA's happy path, over real HTTP: v1 and Graph tokens, consent,
//! user assignment, the SSO session with `prompt=none` and sign-out, `common` with several
//! tenants, optional claims and group formats, key rolls and the emulator's clock.
//! docs/emulator.md lists each behaviour with the test here that shows it.

mod common;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use common::{aadsts, param, redirect_params, verifier, world_of, World, SPA};
use entra_emulator::control::CONTROL_HEADER;
use entra_emulator::directory::{demo, Audience, Directory, GroupFormat, OnPremisesFormat, TokenVersion, GRAPH_APP_ID};
use serde_json::Value;

/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn api_scope() -> String {
    format!("api://{}/{}", demo::CLIENT_ID, demo::SCOPE)
}

/// An authorize URL at `segment` for `client_id`, with PKCE, state `s1` and nonce `n1`.
fn authorize(world: &World, segment: &str, client_id: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("client_id", client_id)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", &format!("{SPA}/sso"))
        .append_pair("scope", scope)
        .append_pair("state", "s1")
        .append_pair("nonce", "n1")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256");
    for (name, value) in extra {
        query.append_pair(name, value);
    }
    format!("{}/{segment}/oauth2/v2.0/authorize?{}", world.emulator.origin(), query.finish())
}

fn demo_url(world: &World, scope: &str, extra: &[(&str, &str)]) -> String {
    authorize(world, demo::TENANT_ID, demo::CLIENT_ID, scope, extra)
}

/// The redirect's parameters, from a 302 back to the SPA.
fn back(response: &reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(response.status(), 302, "a redirect back to the app");
    redirect_params(response, &format!("{SPA}/sso?"))
}

/// Redeems the code in `params` for the demo app and returns the token response.
async fn redeem(world: &World, client_id: &str, params: &[(String, String)]) -> Value {
    let response = world.redeem_for(client_id, &param(params, "code"), Some(VERIFIER), Some(SPA)).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn decode(token: &str, part: usize) -> Value {
    let segment = token.split('.').nth(part).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

fn error_of(params: &[(String, String)]) -> (String, String) {
    let description = param(params, "error_description");
    (param(params, "error"), description.split(':').next().unwrap().to_owned())
}

#[tokio::test]
async fn a_v1_resource_gets_v1_tokens_signed_with_the_x5t_header() {
    let mut directory = demo::directory();
    directory.tenants[0].apps[0].token_version = TokenVersion::V1;
    let world = world_of(directory).await;
    let params =
        world.sign_in(&demo_url(&world, &format!("openid {}", api_scope()), &[]), "alice@contoso.example").await;
    let body = redeem(&world, demo::CLIENT_ID, &params).await;
    let token = body["access_token"].as_str().unwrap();
    let header = decode(token, 0);
    assert_eq!(header["x5t"], header["kid"]);
    let claims: Value = world.verify(token).await;
    assert_eq!(claims["iss"], format!("https://sts.windows.net/{}/", demo::TENANT_ID));
    assert_eq!(claims["aud"], format!("api://{}", demo::CLIENT_ID), "v1 aud is the resource as requested");
    assert_eq!((claims["appid"].as_str(), claims["appidacr"].as_str()), (Some(demo::CLIENT_ID), Some("0")));
    assert_eq!((claims["ver"].as_str(), claims["unique_name"].as_str()), (Some("1.0"), Some("alice@contoso.example")));
    assert_eq!((claims["given_name"].as_str(), claims["family_name"].as_str()), (Some("Alice"), Some("Moreau")));
    assert!(claims.get("azp").is_none() && claims.get("preferred_username").is_none());
    // The v1 key path publishes the same keys.
    let kid = header["kid"].as_str().unwrap();
    assert!(world.jwks("discovery/keys").await.find(kid).is_some());
}

#[tokio::test]
async fn graph_scopes_need_consent_and_give_tokens_only_graph_can_verify() {
    let world = world_of(demo::directory()).await;
    let url = demo_url(&world, "openid offline_access User.Read", &[]);
    let consent = world.pick(&url, "alice@contoso.example").await;
    assert_eq!(consent.status(), 200, "the registration does not list Graph, so the user is asked");
    let page = consent.text().await.unwrap();
    assert!(page.contains("Permissions requested") && page.contains("User.Read") && page.contains("Microsoft Graph"));
    let accepted = world.post_form(&url, &[("username", "alice@contoso.example"), ("consent", "accept")]).await;
    let body = redeem(&world, demo::CLIENT_ID, &back(&accepted)).await;
    let token = body["access_token"].as_str().unwrap();
    assert!(decode(token, 0)["nonce"].is_string(), "Graph tokens carry a nonce in the header");
    let claims = decode(token, 1);
    assert_eq!((claims["aud"].as_str(), claims["scp"].as_str()), (Some(GRAPH_APP_ID), Some("User.Read")));
    assert_eq!(body["scope"], "User.Read");
    let jwks = world.jwks("discovery/v2.0/keys").await;
    let key =
        jsonwebtoken::DecodingKey::from_jwk(jwks.find(decode(token, 0)["kid"].as_str().unwrap()).unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_aud = false;
    validation.validate_exp = false;
    let error = jsonwebtoken::decode::<Value>(token, &key, &validation).unwrap_err();
    assert_eq!(error.kind(), &jsonwebtoken::errors::ErrorKind::InvalidSignature, "nobody but Graph verifies it");
    // The consent is remembered: the same request goes through silently now.
    let silent = world.get(&demo_url(&world, "openid User.Read", &[("prompt", "none")])).await;
    assert!(param(&back(&silent), "code").starts_with("1.A"));
}

#[tokio::test]
async fn declined_consent_is_aadsts65004_and_silent_requests_report_consent_required() {
    let world = world_of(demo::directory()).await;
    let url = demo_url(&world, "openid User.Read", &[]);
    assert_eq!(world.pick(&url, "alice@contoso.example").await.status(), 200);
    let declined = world.post_form(&url, &[("username", "alice@contoso.example"), ("consent", "decline")]).await;
    let params = back(&declined);
    assert_eq!(error_of(&params), ("access_denied".into(), "AADSTS65004".into()));
    assert_eq!((param(&params, "error_subcode"), param(&params, "state")), ("cancel".into(), "s1".into()));
    let silent = world.get(&demo_url(&world, "openid User.Read", &[("prompt", "none")])).await;
    assert_eq!(error_of(&back(&silent)), ("consent_required".into(), "AADSTS65001".into()));
    // prompt=consent asks again even for what the admin granted.
    let forced = world.get(&demo_url(&world, &api_scope(), &[("prompt", "consent")])).await;
    assert_eq!(forced.status(), 200);
    let asked = world
        .post_form(&demo_url(&world, &api_scope(), &[("prompt", "consent")]), &[("username", "alice@contoso.example")])
        .await;
    assert!(asked.text().await.unwrap().contains(demo::SCOPE));
}

#[tokio::test]
async fn assignment_required_turns_unassigned_users_away_with_aadsts50105() {
    let mut directory = demo::directory();
    let enterprise_app = &mut directory.tenants[0].enterprise_apps[0];
    enterprise_app.assignment_required = true;
    enterprise_app.assigned = vec!["0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0001".into()]; // Dispatch
    let world = world_of(directory).await;
    let url = demo_url(&world, &api_scope(), &[]);
    let refused = world.pick(&url, "bob@contoso.example").await;
    assert_eq!(refused.status(), 400, "Entra shows this on its own page, not at the redirect URI");
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("AADSTS50105: Your administrator has configured the application Channels"));
    let silent = world.get(&demo_url(&world, &api_scope(), &[("prompt", "none")])).await;
    assert_eq!(error_of(&back(&silent)), ("access_denied".into(), "AADSTS50105".into()));
    assert!(
        param(&world.sign_in(&url, "alice@contoso.example").await, "code").starts_with("1.A"),
        "alice is in Dispatch"
    );
}

#[tokio::test]
async fn the_sso_session_serves_prompt_none_until_sign_out_which_calls_front_channel_logout() {
    const ROTA: &str = "40da0000-0000-4000-8000-00000000a0da";
    let mut directory = demo::directory();
    directory.tenants[0].apps[0].logout_url = Some(format!("{SPA}/logout"));
    let mut rota = directory.tenants[0].apps[0].clone();
    (rota.app_id, rota.display_name, rota.logout_url) =
        (ROTA.into(), "Rota".into(), Some(format!("{SPA}/rota-logout")));
    directory.tenants[0].apps.push(rota);
    let world = world_of(directory).await;
    let scope = format!("openid offline_access {}", api_scope());
    let silent_url = demo_url(&world, &scope, &[("prompt", "none")]);
    let silent = || world.get(&silent_url);
    assert_eq!(error_of(&back(&silent().await)), ("login_required".into(), "AADSTS50058".into()));
    world.sign_in(&demo_url(&world, &scope, &[]), "alice@contoso.example").await;
    let params = back(&silent().await);
    let body = redeem(&world, demo::CLIENT_ID, &params).await;
    let id_token = decode(body["id_token"].as_str().unwrap(), 1);
    assert_eq!(id_token["preferred_username"], "alice@contoso.example");
    // The session's id: in the ID token (the registration asks for `sid`) and the answer's
    // session_state, the same for every sign-in of the session.
    let sid = id_token["sid"].as_str().expect("the sid optional claim").to_owned();
    assert_eq!(param(&params, "session_state"), sid);
    let hinted = world.get(&demo_url(&world, &scope, &[("login_hint", "alice@contoso.example")])).await;
    let hinted = back(&hinted);
    assert!(param(&hinted, "code").starts_with("1.A"), "a login_hint naming the session's user: no page");
    assert_eq!(param(&hinted, "session_state"), sid);
    let not_hers = demo_url(&world, &scope, &[("prompt", "none"), ("login_hint", "bob@contoso.example")]);
    assert_eq!(
        error_of(&back(&world.get(&not_hers).await)),
        ("interaction_required".into(), "AADSTS16000".into()),
        "a silent request for someone else than the session's user is not answered with her"
    );
    let other = world.get(&demo_url(&world, &scope, &[("login_hint", "bob@contoso.example")])).await;
    assert_eq!(other.status(), 200, "another user gets the picker");

    // A second app signed in to silently joins the session: sign-out calls it too.
    let rota = world.get(&authorize(&world, demo::TENANT_ID, ROTA, "openid profile", &[("prompt", "none")])).await;
    assert!(param(&back(&rota), "code").starts_with("1.A"));

    let logout = format!(
        "{}/{}/oauth2/v2.0/logout?post_logout_redirect_uri={SPA}/sso",
        world.emulator.origin(),
        demo::TENANT_ID
    );
    let signed_out = world.get(&logout).await;
    assert!(signed_out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let page = signed_out.text().await.unwrap();
    // As Entra calls it: the logout URL with the ended session's sid, and no iss.
    assert!(page.contains(&format!("<iframe hidden title=\"sign-out\" src=\"{SPA}/logout?sid={sid}\">")), "{page}");
    assert!(page.contains(&format!("src=\"{SPA}/rota-logout?sid={sid}\"")), "the silently joined app too: {page}");
    assert!(page.contains(&format!("content=\"1;url={SPA}/sso\"")));
    assert_eq!(error_of(&back(&silent().await)), ("login_required".into(), "AADSTS50058".into()));
}

#[tokio::test]
async fn common_needs_a_multi_tenant_app_and_issues_tokens_for_the_users_tenant() {
    let single = world_of(demo::directory()).await;
    let page = single.get(&authorize(&single, "common", demo::CLIENT_ID, &api_scope(), &[])).await;
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("AADSTS50194"));

    let mut directory = demo::directory();
    directory.tenants[0].apps[0].audience = Audience::MultipleOrgs;
    let world = world_of(directory).await;
    let url = authorize(&world, "organizations", demo::CLIENT_ID, &format!("openid {}", api_scope()), &[]);
    let picker = world.get(&url).await.text().await.unwrap();
    assert!(picker.contains("alice@contoso.example") && picker.contains("frank@fabrikam.example"));
    let hinted = authorize(&world, "common", demo::CLIENT_ID, &api_scope(), &[("domain_hint", "fabrikam.example")]);
    let narrowed = world.get(&hinted).await.text().await.unwrap();
    assert!(narrowed.contains("frank@fabrikam.example") && !narrowed.contains("alice@contoso.example"));

    // Fabrikam's admin never consented to Contoso's app: Frank is asked.
    assert_eq!(world.pick(&url, "frank@fabrikam.example").await.status(), 200);
    let accepted = world.post_form(&url, &[("username", "frank@fabrikam.example"), ("consent", "accept")]).await;
    let body = redeem(&world, demo::CLIENT_ID, &back(&accepted)).await;
    let claims: Value = world.verify(body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["tid"], demo::FABRIKAM_TENANT_ID);
    assert_eq!(claims["iss"], world.emulator.emulator.issuer_of(demo::FABRIKAM_TENANT_ID));
    assert_eq!(claims["groups"], serde_json::json!(["Operations", "Harbour"]), "nested groups count");

    let metadata: Value = world
        .get(&format!("{}/common/v2.0/.well-known/openid-configuration", world.emulator.origin()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["issuer"], format!("{}/{{tenantid}}/v2.0", world.emulator.origin()));
}

#[tokio::test]
async fn scope_errors_are_entras() {
    let mut directory = demo::directory();
    let mut no_reply = directory.tenants[0].apps[0].clone();
    (no_reply.app_id, no_reply.redirect_uris) = ("11110000-0000-4000-8000-000000000000".into(), Vec::new());
    directory.tenants[0].apps.push(no_reply);
    let mut itself = directory.tenants[1].apps[0].clone();
    itself.identifier_uris = vec!["https://channels.fabrikam.example".into()];
    directory.tenants[1].apps[0] = itself;
    let world = world_of(directory).await;
    let expect = |url: String, error: &'static str, code: &'static str| {
        let world = &world;
        async move {
            let response = world.get(&url).await;
            assert_eq!(error_of(&back(&response)), (error.to_owned(), code.to_owned()), "{url}");
        }
    };
    expect(demo_url(&world, &format!("api://{}/Nope", demo::CLIENT_ID), &[]), "invalid_client", "AADSTS650053").await;
    expect(demo_url(&world, "https://graph.microsoft.com/.default", &[]), "invalid_client", "AADSTS650057").await;
    expect(demo_url(&world, "api://nowhere/Read", &[]), "invalid_resource", "AADSTS500011").await;
    expect(demo_url(&world, &format!("api://{}/", demo::CLIENT_ID), &[]), "invalid_scope", "AADSTS70011").await;
    let by_uri = authorize(
        &world,
        demo::FABRIKAM_TENANT_ID,
        demo::FABRIKAM_CLIENT_ID,
        "https://channels.fabrikam.example/UserProfile.ReadWrite",
        &[],
    );
    expect(by_uri, "invalid_request", "AADSTS90009").await;
    // Entra names the tenant of the request in its message.
    let elsewhere = authorize(&world, demo::FABRIKAM_TENANT_ID, demo::FABRIKAM_CLIENT_ID, "api://nowhere/Read", &[]);
    let description = param(&back(&world.get(&elsewhere).await), "error_description");
    assert!(description.contains("not found in the tenant named Fabrikam."), "{description}");

    let page =
        world.get(&authorize(&world, demo::TENANT_ID, "11110000-0000-4000-8000-000000000000", &api_scope(), &[])).await;
    assert_eq!(page.status(), 400, "nothing to redirect to: Entra's own page");
    assert!(page.text().await.unwrap().contains("AADSTS500113"));

    // `.default` is what the registration lists; OpenID scopes alone give a Graph token.
    let params = world
        .sign_in(&demo_url(&world, &format!("api://{}/.default", demo::CLIENT_ID), &[]), "alice@contoso.example")
        .await;
    assert_eq!(redeem(&world, demo::CLIENT_ID, &params).await["scope"], api_scope());
    let params = world.sign_in(&demo_url(&world, "openid profile", &[]), "alice@contoso.example").await;
    let body = redeem(&world, demo::CLIENT_ID, &params).await;
    assert_eq!(decode(body["access_token"].as_str().unwrap(), 1)["aud"], GRAPH_APP_ID);
}

#[tokio::test]
async fn optional_claims_and_group_formats_reach_the_access_token() {
    let mut directory = demo::directory();
    let app = &mut directory.tenants[0].apps[0];
    app.access_token_claims.guest_upn = false;
    app.access_token_claims.email = true;
    app.group_format = GroupFormat {
        on_premises: Some(OnPremisesFormat::NetbiosDomain),
        emit_as_roles: true,
        ..GroupFormat::default()
    };
    let world = world_of(directory).await;
    let claims_of = |upn: &'static str| {
        let world = &world;
        async move {
            let params = world.sign_in(&demo_url(world, &api_scope(), &[]), upn).await;
            let body = redeem(world, demo::CLIENT_ID, &params).await;
            world.verify::<Value>(body["access_token"].as_str().unwrap()).await
        }
    };
    let alice = claims_of("alice@contoso.example").await;
    assert_eq!(alice["roles"], serde_json::json!(["CONTOSO\\Dispatch", "CONTOSO\\Fire-North"]));
    assert!(alice.get("groups").is_none(), "emit_as_roles moves groups into roles");
    assert_eq!(
        (alice["upn"].as_str(), alice["email"].as_str()),
        (Some("alice@contoso.example"), Some("alice@contoso.example"))
    );
    let erin = claims_of("erin_partner.example#EXT#@contoso.example").await;
    assert!(erin.get("upn").is_none(), "guests get upn only with include_externally_authenticated_upn");
}

#[tokio::test]
async fn keys_roll_refresh_tokens_expire_and_the_clock_moves_on_demand() {
    let world = world_of(Directory::from(demo::tenant())).await;
    let url = |path: &str| format!("{}/_emulator/{path}", world.emulator.origin());
    let control = |path: &str| world.http.post(url(path)).header(CONTROL_HEADER, "1").send();
    // What a cross-site form can send (no header of its own) changes nothing.
    let forged = world.http.post(url("keys/roll")).form(&[("emergency", "true")]).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.text().await.unwrap().starts_with("expected the header `x-emulator-control: 1`"));
    let before: Vec<String> =
        world.jwks("discovery/v2.0/keys").await.keys.iter().map(|k| k.common.key_id.clone().unwrap()).collect();
    assert_eq!(before.len(), 2, "the signing key and the next one are published");
    let after: Vec<String> = control("keys/roll").await.unwrap().json().await.unwrap();
    assert_eq!(after[0], before[1], "a scheduled roll signs with the key published in advance");
    assert!(after.contains(&before[0]), "the old key stays published for tokens in flight");
    let emergency: Vec<String> = control("keys/roll?emergency=true").await.unwrap().json().await.unwrap();
    assert!(
        !emergency.contains(&after[0]) && !before.contains(&emergency[0]),
        "a compromised key is withdrawn at once"
    );
    let (code, pending) = world.code().await;
    let body: Value = world.redeem(&code, Some(verifier(&pending)), Some(SPA)).await.json().await.unwrap();
    assert_eq!(decode(body["access_token"].as_str().unwrap(), 0)["kid"], emergency[0].as_str());
    let expired: usize = control("refresh-tokens/expire").await.unwrap().json().await.unwrap();
    assert_eq!(expired, 1);
    let refresh_token = body["refresh_token"].as_str().unwrap();
    let form = [("client_id", demo::CLIENT_ID), ("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    aadsts(world.token(&form, Some(SPA)).await, 400, "invalid_grant", 700084).await;

    let (code, pending) = world.code().await;
    let now: u64 = control("clock?seconds=601").await.unwrap().json().await.unwrap();
    assert_eq!(now, common::START + 601);
    aadsts(world.redeem(&code, Some(verifier(&pending)), Some(SPA)).await, 400, "invalid_grant", 70008).await;
}

#[tokio::test]
async fn the_redirect_uri_platform_decides_how_a_code_is_redeemed() {
    use entra_emulator::directory::Platform;
    let mut directory = demo::directory();
    let uris = &mut directory.tenants[0].apps[0].redirect_uris;
    uris.push((Platform::Web, "http://localhost:8080/web".into()));
    uris.push((Platform::PublicClient, "http://localhost:8080/native".into()));
    let world = world_of(directory).await;
    let code_for = |redirect: &'static str| {
        let world = &world;
        async move {
            let url = demo_url(world, &api_scope(), &[]).replace("%2Fsso", redirect);
            let response = world.pick(&url, "alice@contoso.example").await;
            let params = redirect_params(&response, &format!("{SPA}{}?", redirect.replace("%2F", "/")));
            param(&params, "code")
        }
    };
    let redeem = |code: String, redirect: &'static str, origin: Option<&'static str>, secret: Option<&'static str>| {
        let world = &world;
        async move {
            let redirect_uri = format!("{SPA}{}", redirect.replace("%2F", "/"));
            let mut form = vec![
                ("client_id", demo::CLIENT_ID),
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect_uri.as_str()),
                ("code_verifier", VERIFIER),
            ];
            form.extend(secret.map(|s| ("client_secret", s)));
            world.token(&form, origin).await
        }
    };
    aadsts(redeem(code_for("%2Fweb").await, "%2Fweb", Some(SPA), None).await, 400, "invalid_request", 9002326).await;
    aadsts(redeem(code_for("%2Fweb").await, "%2Fweb", None, None).await, 401, "invalid_client", 7000218).await;
    aadsts(redeem(code_for("%2Fweb").await, "%2Fweb", None, Some("guess")).await, 401, "invalid_client", 7000215).await;
    let native = redeem(code_for("%2Fnative").await, "%2Fnative", None, None).await;
    assert_eq!(native.status(), 200, "a public client redeems from outside a browser, with PKCE and no secret");
}

#[tokio::test]
async fn conditional_access_asks_for_mfa_interactively_refuses_silently_and_can_block() {
    let mut directory = demo::directory();
    directory.tenants[0].enterprise_apps[0].mfa_required = true;
    let world = world_of(directory).await;
    let scope = format!("openid {}", api_scope());
    let url = demo_url(&world, &scope, &[]);
    let prompt = world.pick(&url, "alice@contoso.example").await;
    assert_eq!(prompt.status(), 200);
    assert!(prompt.text().await.unwrap().contains("Approve sign-in request"));
    // Without approving, a silent request needs interaction (the session has no MFA).
    let silent_url = demo_url(&world, &scope, &[("prompt", "none")]);
    assert_eq!(error_of(&back(&world.get(&silent_url).await)), ("interaction_required".into(), "AADSTS50076".into()));
    let hinted = world.get(&demo_url(&world, &scope, &[("login_hint", "alice@contoso.example")])).await;
    assert_eq!(hinted.status(), 200, "SSO by login_hint is still interactive: the MFA prompt shows");
    assert!(hinted.text().await.unwrap().contains("Approve sign-in request"));
    let approved = world.post_form(&url, &[("username", "alice@contoso.example"), ("mfa", "approved")]).await;
    assert!(param(&back(&approved), "code").starts_with("1.A"));
    assert!(param(&back(&world.get(&silent_url).await), "code").starts_with("1.A"), "the session carries the MFA");

    let mut directory = demo::directory();
    directory.tenants[0].enterprise_apps[0].conditional_access_block = true;
    let blocked = world_of(directory).await;
    let page = blocked.pick(&demo_url(&blocked, &scope, &[]), "alice@contoso.example").await;
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("AADSTS53003: Access has been blocked by Conditional Access policies"));
}

#[tokio::test]
async fn an_empty_scope_at_code_redemption_is_aadsts28003() {
    let world = world_of(demo::directory()).await;
    let params = world.sign_in(&demo_url(&world, &api_scope(), &[]), "alice@contoso.example").await;
    let redirect_uri = format!("{SPA}/sso");
    let code = param(&params, "code");
    let form = [
        ("client_id", demo::CLIENT_ID),
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", VERIFIER),
        ("scope", " "),
    ];
    aadsts(world.token(&form, Some(SPA)).await, 400, "invalid_scope", 28003).await;
}

#[tokio::test]
async fn an_authentication_context_asked_for_goes_through_its_policy_and_reaches_acrs() {
    let world = world_of(demo::directory()).await;
    let scope = format!("openid offline_access {}", api_scope());
    let step_up = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"},"xms_cc":{"values":["cp1"]}}}"#;
    let acrs_of = |body: &Value| decode(body["access_token"].as_str().unwrap(), 1)["acrs"].clone();

    // The client capabilities alone ask for no context: no MFA, no acrs.
    let plain = demo_url(&world, &scope, &[("claims", r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#)]);
    let signed_in = world.sign_in(&plain, "alice@contoso.example").await;
    assert_eq!(acrs_of(&redeem(&world, demo::CLIENT_ID, &signed_in).await), Value::Null);

    // c1, which the demo tenant's policy protects with MFA: the approval prompt first.
    let url = demo_url(&world, &scope, &[("claims", step_up), ("login_hint", "alice@contoso.example")]);
    let prompt = world.get(&url).await;
    assert_eq!(prompt.status(), 200);
    assert!(prompt.text().await.unwrap().contains("Approve sign-in request"));
    let approved = world.post_form(&url, &[("username", "alice@contoso.example"), ("mfa", "approved")]).await;
    let tokens = redeem(&world, demo::CLIENT_ID, &back(&approved)).await;
    assert_eq!(acrs_of(&tokens), serde_json::json!(["c1"]));
    // A refresh keeps what the sign-in satisfied.
    let form = [
        ("client_id", demo::CLIENT_ID),
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ("scope", scope.as_str()),
    ];
    let refreshed: Value = world.token(&form, Some(SPA)).await.json().await.unwrap();
    assert_eq!(acrs_of(&refreshed), serde_json::json!(["c1"]));

    // A context no policy protects is added without a prompt, as Entra does.
    let mut directory = demo::directory();
    directory.tenants[0].enterprise_apps[0].auth_contexts_requiring_mfa.clear();
    let unprotected = world_of(directory).await;
    let url = demo_url(&unprotected, &scope, &[("claims", step_up)]);
    let signed_in = unprotected.sign_in(&url, "bob@contoso.example").await;
    assert_eq!(acrs_of(&redeem(&unprotected, demo::CLIENT_ID, &signed_in).await), serde_json::json!(["c1"]));
}

/// An implicit-grant authorize URL for the demo app: `response_type`, state `s1`, nonce `n1`
/// (unless `extra` says otherwise), no PKCE.
fn implicit_url(world: &World, response_type: &str, extra: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("client_id", demo::CLIENT_ID)
        .append_pair("response_type", response_type)
        .append_pair("redirect_uri", &format!("{SPA}/sso"))
        .append_pair("scope", &format!("openid profile {}", api_scope()))
        .append_pair("state", "s1");
    for (name, value) in extra {
        query.append_pair(name, value);
    }
    format!("{}/{}/oauth2/v2.0/authorize?{}", world.emulator.origin(), demo::TENANT_ID, query.finish())
}

/// The demo directory with the registration's implicit grant switches as given.
fn implicit_directory(access_tokens: bool, id_tokens: bool) -> Directory {
    let mut directory = demo::directory();
    directory.tenants[0].apps[0].implicit_grant = entra_emulator::directory::ImplicitGrant { access_tokens, id_tokens };
    directory
}

#[tokio::test]
async fn the_implicit_grant_is_refused_as_entra_refuses_it_unless_the_registration_allows_it() {
    // The registration as docs/entra-setup.md makes it: both switches off.
    let world = world_of(implicit_directory(false, false)).await;
    let nonce = [("nonce", "n1")];
    let refused = |response: reqwest::Response| {
        assert_eq!(response.status(), 302);
        // Errors go back in the fragment, where the app asked for tokens.
        redirect_params(&response, &format!("{SPA}/sso#"))
    };
    let error = refused(world.get(&implicit_url(&world, "id_token token", &nonce)).await);
    assert_eq!(param(&error, "error"), "unsupported_response_type");
    assert!(param(&error, "error_description").starts_with("AADSTS700054: response_type 'id_token' is not enabled"));
    assert_eq!(param(&error, "state"), "s1");
    // ID tokens on, access tokens still off.
    let world = world_of(implicit_directory(false, true)).await;
    let error = refused(world.get(&implicit_url(&world, "id_token token", &nonce)).await);
    assert!(param(&error, "error_description").starts_with("AADSTS700051: response_type 'token' is not enabled"));
    // Both on: an ID token needs a nonce, and tokens never go in the query.
    let world = world_of(implicit_directory(true, true)).await;
    let error = refused(world.get(&implicit_url(&world, "id_token token", &[])).await);
    assert!(param(&error, "error_description").contains("'nonce'"), "{error:?}");
    let in_query =
        world.get(&implicit_url(&world, "id_token token", &[("nonce", "n1"), ("response_mode", "query")])).await;
    assert!(param(&redirect_params(&in_query, &format!("{SPA}/sso?")), "error_description").contains("'fragment'"));
    // A hybrid flow is not emulated, and says so.
    let hybrid = back(&world.get(&implicit_url(&world, "code id_token", &nonce)).await);
    assert!(param(&hybrid, "error_description").contains("hybrid flows are not emulated"));
}

#[tokio::test]
async fn the_implicit_grant_answers_in_the_fragment_with_tokens_bound_by_nonce_and_at_hash() {
    let world = world_of(implicit_directory(true, true)).await;
    let url = implicit_url(&world, "id_token token", &[("nonce", "n1")]);
    let answer = world.pick(&url, "alice@contoso.example").await;
    assert_eq!(answer.status(), 302);
    let params = redirect_params(&answer, &format!("{SPA}/sso#"));
    let names: Vec<&str> = params.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        ["access_token", "token_type", "expires_in", "scope", "id_token", "state", "session_state"],
        "no code and no refresh token"
    );
    assert_eq!(param(&params, "token_type"), "Bearer");
    assert_eq!(param(&params, "scope"), api_scope());
    let expires_in: u64 = param(&params, "expires_in").parse().unwrap();
    assert!((3600..5400).contains(&expires_in), "{expires_in}");
    let access_token = param(&params, "access_token");
    let access: Value = world.verify(&access_token).await;
    assert_eq!(access["aud"], demo::CLIENT_ID);
    assert_eq!(access["groups"], serde_json::json!(["Dispatch", "Fire-North"]));
    let id: Value = world.verify(&param(&params, "id_token")).await;
    assert_eq!(id["nonce"], "n1");
    assert_eq!(id["sid"], param(&params, "session_state"));
    let at_hash =
        channels_protocol::token::access_token_hash(&channels_protocol::secret::AccessToken::new(access_token));
    assert_eq!(id["at_hash"], at_hash.as_str());

    // Entra's session then renews it silently, in the same shape.
    let silent = world.get(&implicit_url(&world, "id_token token", &[("nonce", "n2"), ("prompt", "none")])).await;
    let renewed = redirect_params(&silent, &format!("{SPA}/sso#"));
    let id: Value = world.verify(&param(&renewed, "id_token")).await;
    assert_eq!(id["nonce"], "n2");
}

#[tokio::test]
async fn six_groups_do_not_fit_the_implicit_grants_address_bar_and_become_hasgroups() {
    // Alice in `count` synced groups (Entra: "currently six or more groups" do not fit).
    let with_groups = |count: usize| {
        let mut directory = implicit_directory(true, true);
        let tenant = &mut directory.tenants[0];
        let synced: Vec<String> =
            tenant.groups.iter().filter(|g| g.on_premises.is_some()).map(|g| g.id.clone()).take(count).collect();
        assert_eq!(synced.len(), count);
        tenant.users.iter_mut().find(|u| u.upn == "alice@contoso.example").unwrap().member_of = synced;
        directory
    };
    async fn implicit_access(world: &World) -> Value {
        let url = implicit_url(world, "id_token token", &[("nonce", "n1")]);
        let params = redirect_params(&world.pick(&url, "alice@contoso.example").await, &format!("{SPA}/sso#"));
        decode(&param(&params, "access_token"), 1)
    }
    // Five still fit.
    let five = implicit_access(&world_of(with_groups(5)).await).await;
    assert_eq!(five["groups"].as_array().map(Vec::len), Some(5));
    assert_eq!(five.get("hasgroups"), None);
    let world = world_of(with_groups(6)).await;
    let access = implicit_access(&world).await;
    assert_eq!(access["hasgroups"], true);
    assert_eq!(access.get("groups"), None);
    // The code flow carries all six.
    let code = world.sign_in(&demo_url(&world, &format!("openid {}", api_scope()), &[]), "alice@contoso.example").await;
    let tokens = redeem(&world, demo::CLIENT_ID, &code).await;
    let access = decode(tokens["access_token"].as_str().unwrap(), 1);
    assert_eq!(access["groups"].as_array().map(Vec::len), Some(6));
    assert_eq!(access.get("hasgroups"), None);
}

/// The demo app, with a front-channel logout URL, signed in to interactively; and a second app
/// (Rota, its implicit grant on) with its own logout URL and also `redirect_uri` registered.
async fn signed_in_with_rota(redirect_uri: &str) -> World {
    let mut directory = demo::directory();
    directory.tenants[0].apps[0].logout_url = Some(format!("{SPA}/logout"));
    let mut rota = directory.tenants[0].apps[0].clone();
    (rota.app_id, rota.display_name, rota.logout_url) =
        (ROTA.into(), "Rota".into(), Some(format!("{SPA}/rota-logout")));
    rota.implicit_grant = entra_emulator::directory::ImplicitGrant { access_tokens: true, id_tokens: true };
    rota.redirect_uris.push((entra_emulator::directory::Platform::Spa, redirect_uri.to_owned()));
    directory.tenants[0].apps.push(rota);
    let world = world_of(directory).await;
    world
        .sign_in(&demo_url(&world, &format!("openid offline_access {}", api_scope()), &[]), "alice@contoso.example")
        .await;
    world
}

const ROTA: &str = "40da0000-0000-4000-8000-00000000a0da";

/// Signs Rota in silently at `url`, expecting the answer at `prefix` to carry `issued`; then
/// signs out of the session and returns the sign-out page.
async fn rota_answered_then_signed_out(world: &World, url: &str, prefix: &str, issued: &str) -> String {
    let answer = world.get(url).await;
    assert_eq!(answer.status(), 302);
    let params = redirect_params(&answer, prefix);
    assert!(!param(&params, issued).is_empty(), "{params:?}");
    let logout = format!("{}/{}/oauth2/v2.0/logout", world.emulator.origin(), demo::TENANT_ID);
    world.get(&logout).await.text().await.unwrap()
}

/// Issue #31: a silent implicit-grant sign-in (tokens in the fragment, no code) joins the SSO
/// session like a code does, so sign-out calls that app's front-channel logout URL too.
#[tokio::test]
async fn issue_31_a_silent_implicit_sign_in_is_signed_out_front_channel() {
    let world = signed_in_with_rota(&format!("{SPA}/sso")).await;
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("client_id", ROTA)
        .append_pair("response_type", "id_token")
        .append_pair("redirect_uri", &format!("{SPA}/sso"))
        .append_pair("scope", "openid profile")
        .append_pair("nonce", "n1")
        .append_pair("prompt", "none");
    let url = format!("{}/{}/oauth2/v2.0/authorize?{}", world.emulator.origin(), demo::TENANT_ID, query.finish());
    let page = rota_answered_then_signed_out(&world, &url, &format!("{SPA}/sso#"), "id_token").await;
    assert!(page.contains(&format!("src=\"{SPA}/logout?sid=")), "{page}");
    assert!(page.contains(&format!("src=\"{SPA}/rota-logout?sid=")), "the implicit sign-in's app too: {page}");
}

/// Issue #31: a code that is not the answer's first parameter (the registered redirect URI has
/// a query of its own) joins the SSO session too.
#[tokio::test]
async fn issue_31_a_code_after_the_redirect_uris_own_query_is_signed_out_front_channel() {
    let redirect_uri = format!("{SPA}/sso?app=rota");
    let world = signed_in_with_rota(&redirect_uri).await;
    let encoded = |uri: &str| form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>();
    let url = authorize(&world, demo::TENANT_ID, ROTA, "openid profile", &[("prompt", "none")])
        .replace(&encoded(&format!("{SPA}/sso")), &encoded(&redirect_uri));
    let page = rota_answered_then_signed_out(&world, &url, &format!("{redirect_uri}&"), "code").await;
    assert!(page.contains(&format!("src=\"{SPA}/rota-logout?sid=")), "the code's app too: {page}");
}
