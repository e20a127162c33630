//! The native client's half of the registration (the *Mobile and desktop* platform) as Entra
//! treats it, over real HTTP: loopback redirect URIs on any port, redemption without an
//! `Origin`, refresh tokens that live 90 days from their last use, and the device code flow,
//! which needs *Allow public client flows*. docs/emulator.md lists each with its test here.

mod common;

use std::sync::atomic::Ordering;

use common::{aadsts, param, world, world_of, World};
use entra_emulator::directory::demo;
use serde_json::Value;

/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const DAY: u64 = 24 * 60 * 60;

fn scope() -> String {
    format!("openid offline_access api://{}/{}", demo::CLIENT_ID, demo::SCOPE)
}

/// The authorize URL of a terminal client listening on `redirect_uri`.
fn authorize(world: &World, redirect_uri: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", demo::CLIENT_ID)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &scope())
        .append_pair("state", "s1")
        .append_pair("nonce", "n1")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("{}/{}/oauth2/v2.0/authorize?{query}", world.emulator.origin(), demo::TENANT_ID)
}

/// Signs alice in for a client listening on `redirect_uri`; the code it is sent back with.
async fn code_for(world: &World, redirect_uri: &str) -> String {
    let answer = world.pick(&authorize(world, redirect_uri), "alice@contoso.example").await;
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    let query = location.strip_prefix(&format!("{redirect_uri}?")).unwrap_or_else(|| panic!("back to {location}"));
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    assert_eq!(param(&params, "state"), "s1");
    param(&params, "code")
}

fn redemption<'a>(code: &'a str, redirect_uri: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("client_id", demo::CLIENT_ID),
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", VERIFIER),
    ]
}

async fn tokens(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn refresh(token: &str) -> [(&str, &str); 3] {
    [("client_id", demo::CLIENT_ID), ("grant_type", "refresh_token"), ("refresh_token", token)]
}

#[tokio::test]
async fn a_native_client_signs_in_on_any_loopback_port_and_redeems_without_an_origin() {
    let world = world().await;
    // `http://localhost` is registered under Mobile and desktop: any port, as the OS gives it.
    for redirect_uri in ["http://localhost:53117/", "http://localhost:8/"] {
        let code = code_for(&world, redirect_uri).await;
        let body = tokens(world.token(&redemption(&code, redirect_uri), None).await).await;
        assert!(body["refresh_token"].is_string() && body["id_token"].is_string(), "{body}");
        assert!(body.get("refresh_token_expires_in").is_none(), "only a SPA is told its refresh token's lifetime");
        let claims: Value = world.verify(body["access_token"].as_str().unwrap()).await;
        assert_eq!((claims["azp"].as_str(), claims["scp"].as_str()), (Some(demo::CLIENT_ID), Some(demo::SCOPE)));
    }
    // A browser redeeming a native code: Entra refuses the cross-origin redemption.
    let code = code_for(&world, "http://localhost:40000/").await;
    let refused = world.token(&redemption(&code, "http://localhost:40000/"), Some("http://localhost:40000")).await;
    aadsts(refused, 400, "invalid_request", 9002326).await;
    // Another loopback host, or another path, is not the registered URI.
    for unregistered in ["http://127.0.0.1:53117/", "http://localhost:53117/callback"] {
        let page = world.get(&authorize(&world, unregistered)).await;
        assert_eq!(page.status(), 400, "{unregistered}");
        assert!(page.text().await.unwrap().contains("AADSTS50011"), "{unregistered}");
    }
    // Entra's nativeclient URI is registered too, for clients that read the code from the page.
    let native = demo::NATIVE_CLIENT_REDIRECT_URI;
    let code = code_for(&world, native).await;
    tokens(world.token(&redemption(&code, native), None).await).await;
}

#[tokio::test]
async fn native_refresh_tokens_live_ninety_days_from_their_last_use() {
    let world = world().await;
    let redirect_uri = "http://localhost:50000/";
    let code = code_for(&world, redirect_uri).await;
    let first = tokens(world.token(&redemption(&code, redirect_uri), None).await).await;
    let first = first["refresh_token"].as_str().unwrap().to_owned();
    // Day 80: used, so the token it is exchanged for lives 90 days from now.
    world.now.fetch_add(80 * DAY, Ordering::SeqCst);
    let second = tokens(world.token(&refresh(&first), None).await).await;
    let second = second["refresh_token"].as_str().unwrap().to_owned();
    // Day 160: the second, issued at day 80, is alive; the first's 90 days ended at day 90.
    world.now.fetch_add(80 * DAY, Ordering::SeqCst);
    tokens(world.token(&refresh(&second), None).await).await;
    let expired = aadsts(world.token(&refresh(&first), None).await, 400, "invalid_grant", 700082).await;
    assert!(expired.error_description.contains("inactive for 90.00:00:00"), "{}", expired.error_description);
    // Day 260: the second, unused for 100 days, has expired too; a browser may not redeem a
    // native token either.
    world.now.fetch_add(100 * DAY, Ordering::SeqCst);
    aadsts(world.token(&refresh(&second), None).await, 400, "invalid_grant", 700082).await;
    let code = code_for(&world, redirect_uri).await;
    let fresh = tokens(world.token(&redemption(&code, redirect_uri), None).await).await;
    let form = refresh(fresh["refresh_token"].as_str().unwrap());
    let cross_origin = world.token(&form, Some("http://localhost:50000")).await;
    aadsts(cross_origin, 400, "invalid_request", 9002326).await;
}

/// `POST /devicecode` for the demo app at the demo tenant.
async fn device_code(world: &World) -> Value {
    let url = format!("{}/{}/oauth2/v2.0/devicecode", world.emulator.origin(), demo::TENANT_ID);
    let response = world.http.post(url).form(&[("client_id", demo::CLIENT_ID), ("scope", &scope())]).send().await;
    tokens(response.unwrap()).await
}

fn poll(device_code: &str) -> [(&str, &str); 3] {
    [
        ("client_id", demo::CLIENT_ID),
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", device_code),
    ]
}

#[tokio::test]
async fn the_device_code_flow_waits_for_its_user_then_issues_once() {
    let mut directory = demo::directory();
    directory.tenants[0].apps[0].public_client_flows = true;
    let world = world_of(directory).await;
    let device = device_code(&world).await;
    let (user_code, code) = (device["user_code"].as_str().unwrap(), device["device_code"].as_str().unwrap());
    let page = format!("{}/devicelogin", world.emulator.origin());
    assert_eq!(device["verification_uri"], page.as_str());
    assert_eq!((device["expires_in"].as_u64(), device["interval"].as_u64()), (Some(900), Some(5)));
    assert_eq!(
        device["message"],
        format!(
            "To sign in, use a web browser to open the page {page} and enter the code {user_code} to authenticate."
        )
    );
    aadsts(world.token(&poll(code), None).await, 400, "authorization_pending", 70016).await;

    assert!(world.get(&page).await.text().await.unwrap().contains("Enter code"));
    let wrong = world.post_form(&page, &[("user_code", "NOTACODE1")]).await.text().await.unwrap();
    assert!(wrong.contains("That code didn&#39;t work"), "{wrong}");
    // Typed as people type it: lower case, with a space.
    let typed = format!("{} {}", &user_code[..4], &user_code[4..]).to_lowercase();
    let picker = world.post_form(&page, &[("user_code", &typed)]).await.text().await.unwrap();
    assert!(picker.contains("value=\"alice@contoso.example\""), "{picker}");
    aadsts(world.token(&poll(code), None).await, 400, "authorization_pending", 70016).await;
    let done = world.post_form(&page, &[("user_code", user_code), ("username", "alice@contoso.example")]).await;
    assert!(done.text().await.unwrap().contains("You may now close this window"));
    // A code is used once: nobody else signs in with it afterwards.
    let again = world.post_form(&page, &[("user_code", user_code), ("username", "bob@contoso.example")]).await;
    assert!(again.text().await.unwrap().contains("That code didn&#39;t work"));

    let body = tokens(world.token(&poll(code), None).await).await;
    assert!(body["refresh_token"].is_string() && body["id_token"].is_string(), "{body}");
    let claims: Value = world.verify(body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["upn"], "alice@contoso.example");
    assert_eq!((claims["azp"].as_str(), claims["scp"].as_str()), (Some(demo::CLIENT_ID), Some(demo::SCOPE)));
    aadsts(world.token(&poll(code), None).await, 400, "bad_verification_code", 70000).await;

    // A code nobody signs in for expires after 15 minutes.
    let unused = device_code(&world).await;
    world.now.fetch_add(900, Ordering::SeqCst);
    aadsts(world.token(&poll(unused["device_code"].as_str().unwrap()), None).await, 400, "expired_token", 70020).await;
}

/// The device sign-in refuses what the tenant's admin refuses at `/authorize`.
#[tokio::test]
async fn the_device_sign_in_keeps_the_tenants_blocks() {
    let mut directory = demo::directory();
    directory.tenants[0].apps[0].public_client_flows = true;
    directory.tenants[0].enterprise_apps[0].conditional_access_block = true;
    let world = world_of(directory).await;
    let device = device_code(&world).await;
    let page = format!("{}/devicelogin", world.emulator.origin());
    let form = [("user_code", device["user_code"].as_str().unwrap()), ("username", "alice@contoso.example")];
    let blocked = world.post_form(&page, &form).await;
    assert_eq!(blocked.status(), 400);
    assert!(blocked.text().await.unwrap().contains("AADSTS53003"));
    aadsts(
        world.token(&poll(device["device_code"].as_str().unwrap()), None).await,
        400,
        "authorization_pending",
        70016,
    )
    .await;
}

#[tokio::test]
async fn without_public_client_flows_the_device_code_is_refused_as_entra_refuses_it() {
    let world = world().await;
    let device = device_code(&world).await;
    let refused =
        aadsts(world.token(&poll(device["device_code"].as_str().unwrap()), None).await, 401, "invalid_client", 7000218);
    assert!(refused.await.error_description.contains("'client_assertion' or 'client_secret'"));
}
