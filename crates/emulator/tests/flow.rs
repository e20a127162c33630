//! The emulator over real HTTP on loopback, as a browser and a SPA would use it: the
//! authorize page, code redemption with PKCE and CORS, refresh tokens, and Entra's errors.

mod common;

use std::sync::atomic::Ordering;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use channels_protocol::claims::AccessTokenClaims;
use common::{aadsts, param, redirect_params, verifier, world, SPA, START};
use entra_emulator::directory::demo;
use reqwest::header::ACCESS_CONTROL_ALLOW_ORIGIN;

#[tokio::test]
async fn code_flow_with_pkce_gives_entra_shaped_tokens_with_cors_for_the_spa() {
    let world = world().await;
    let (url, pending) = world.login();
    let params = world.sign_in(&url, "alice@contoso.example").await;
    assert_eq!(param(&params, "state"), pending.state.secret());
    let response = world.redeem(&param(&params, "code"), Some(verifier(&pending)), Some(SPA)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], SPA);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], format!("api://{}/UserProfile.ReadWrite", demo::CLIENT_ID));
    assert!(body["refresh_token"].is_string());

    let access: AccessTokenClaims = world.verify(body["access_token"].as_str().unwrap()).await;
    assert_eq!(access.iss, format!("{}/{}/v2.0", world.emulator.origin(), demo::TENANT_ID));
    assert_eq!(access.aud, demo::CLIENT_ID);
    assert_eq!(access.scp.as_deref(), Some("UserProfile.ReadWrite"));
    assert_eq!(access.upn.as_deref(), Some("alice@contoso.example"));
    assert_eq!(access.groups, Some(vec!["Dispatch".to_owned(), "Fire-North".to_owned()]));
    assert_eq!(access.ver.as_deref(), Some("2.0"));
    assert!((START + 3600..START + 5400).contains(&access.exp));

    let id: serde_json::Value = world.verify(body["id_token"].as_str().unwrap()).await;
    assert_eq!(id["nonce"], pending.nonce.secret());
    assert_eq!(id["aud"], demo::CLIENT_ID);
}

#[tokio::test]
async fn a_code_is_single_use() {
    let world = world().await;
    let (code, pending) = world.code().await;
    assert_eq!(world.redeem(&code, Some(verifier(&pending)), Some(SPA)).await.status(), 200);
    aadsts(world.redeem(&code, Some(verifier(&pending)), Some(SPA)).await, 400, "invalid_grant", 54005).await;
}

#[tokio::test]
async fn a_wrong_or_missing_verifier_is_aadsts501481() {
    let world = world().await;
    let (code, _) = world.code().await;
    let other = "x".repeat(43);
    aadsts(world.redeem(&code, Some(&other), Some(SPA)).await, 400, "invalid_grant", 501481).await;
    aadsts(world.redeem(&code, None, Some(SPA)).await, 400, "invalid_grant", 501481).await;
}

#[tokio::test]
async fn a_spa_code_without_origin_is_aadsts9002327() {
    let world = world().await;
    let (code, pending) = world.code().await;
    aadsts(world.redeem(&code, Some(verifier(&pending)), None).await, 400, "invalid_request", 9002327).await;
}

#[tokio::test]
async fn cors_is_only_for_registered_spa_origins() {
    let world = world().await;
    let (code, pending) = world.code().await;
    let response = world.redeem(&code, Some(verifier(&pending)), Some("https://evil.example")).await;
    // As Entra: an Origin must be there, not a particular one (the redemption succeeds), but the
    // answer carries no CORS header for that origin, so a browser keeps it from the page.
    assert_eq!(response.status(), 200);
    assert!(response.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn expired_codes_are_aadsts70008() {
    let world = world().await;
    let (code, pending) = world.code().await;
    world.now.fetch_add(601, Ordering::SeqCst);
    aadsts(world.redeem(&code, Some(verifier(&pending)), Some(SPA)).await, 400, "invalid_grant", 70008).await;
}

#[tokio::test]
async fn refresh_tokens_rotate_keep_working_and_end_after_24_hours() {
    let world = world().await;
    let (code, pending) = world.code().await;
    let first: serde_json::Value = world.redeem(&code, Some(verifier(&pending)), Some(SPA)).await.json().await.unwrap();
    let old = first["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: String| {
        let world = &world;
        async move {
            let form =
                [("client_id", demo::CLIENT_ID), ("grant_type", "refresh_token"), ("refresh_token", token.as_str())];
            world.token(&form, Some(SPA)).await
        }
    };
    world.now.fetch_add(3600, Ordering::SeqCst);
    let second: serde_json::Value = refresh(old.clone()).await.json().await.unwrap();
    let new = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(new, old, "rotated");
    assert_eq!(second["refresh_token_expires_in"], 24 * 3600 - 3600, "the original expiry is kept");
    assert_eq!(refresh(old.clone()).await.status(), 200, "as in Entra, the old one is not revoked");
    world.now.fetch_add(23 * 3600, Ordering::SeqCst);
    aadsts(refresh(new).await, 400, "invalid_grant", 700084).await;
}

#[tokio::test]
async fn unregistered_redirect_uri_and_unknown_client_are_shown_not_redirected() {
    let world = world().await;
    let (url, _) = world.login();
    let evil = url.replace("localhost%3A8080", "evil.example");
    let page = world.http.get(&evil).send().await.unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("AADSTS50011: The redirect URI &#39;http://evil.example/sso&#39;"));
    let unknown = url.replace(demo::CLIENT_ID, "00000000-0000-0000-0000-000000000000");
    let page = world.http.get(&unknown).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("AADSTS700016"));
}

#[tokio::test]
async fn prompt_none_without_session_and_unknown_resources_are_redirected_errors() {
    let world = world().await;
    let (url, pending) = world.login();
    let response = world.http.get(format!("{url}&prompt=none")).send().await.unwrap();
    let params = redirect_params(&response, &format!("{SPA}/sso?"));
    assert_eq!(param(&params, "error"), "login_required");
    assert!(param(&params, "error_description").starts_with("AADSTS50058:"));
    assert_eq!(param(&params, "state"), pending.state.secret());

    let unknown = url.replace("api%3A%2F%2F6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d%2F", "api%3A%2F%2Funknown%2F");
    assert_ne!(unknown, url);
    let response = world.http.get(unknown).send().await.unwrap();
    let params = redirect_params(&response, &format!("{SPA}/sso?"));
    assert!(param(&params, "error_description").starts_with("AADSTS500011:"));
}

#[tokio::test]
async fn discovery_document_points_at_the_emulator() {
    let world = world().await;
    let url = format!("{}/{}/v2.0/.well-known/openid-configuration", world.emulator.origin(), demo::TENANT_ID);
    let metadata: serde_json::Value = world.http.get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(metadata["issuer"], format!("{}/{}/v2.0", world.emulator.origin(), demo::TENANT_ID));
    assert_eq!(metadata["jwks_uri"], format!("{}/{}/discovery/v2.0/keys", world.emulator.origin(), demo::TENANT_ID));
    let by_domain = format!("{}/contoso.example/v2.0/.well-known/openid-configuration", world.emulator.origin());
    assert_eq!(world.http.get(by_domain).send().await.unwrap().status(), 200);
    let unknown = format!("{}/fabrikam.example/v2.0/.well-known/openid-configuration", world.emulator.origin());
    aadsts(world.http.get(unknown).send().await.unwrap(), 400, "invalid_tenant", 90002).await;
}

#[tokio::test]
async fn discovery_keys_and_instance_discovery_are_served_to_any_origin() {
    let world = world().await;
    let origin = world.emulator.origin();
    let tenant = demo::TENANT_ID;
    let authorize = format!("{origin}/{tenant}/oauth2/v2.0/authorize");
    let instance = format!("{origin}/common/discovery/instance?api-version=1.1&authorization_endpoint={authorize}");
    let cached = [
        format!("{origin}/{tenant}/v2.0/.well-known/openid-configuration"),
        format!("{origin}/{tenant}/.well-known/openid-configuration"),
        format!("{origin}/common/v2.0/.well-known/openid-configuration"),
        instance.clone(),
    ];
    let keys = [format!("{origin}/{tenant}/discovery/v2.0/keys"), format!("{origin}/{tenant}/discovery/keys")];
    for url in cached.iter().chain(&keys) {
        // A page of any origin reads them, as every MSAL.js app does.
        let response = world.http.get(url).header("origin", "https://app.example").send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*", "{url}");
        let preflight = world
            .http
            .request(reqwest::Method::OPTIONS, url)
            .header("origin", "https://app.example")
            .header("access-control-request-method", "GET")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*", "{url}");
        assert_eq!(preflight.headers()["access-control-allow-methods"], "GET,OPTIONS", "{url}");
        let cache = response.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned());
        let expected = cached.contains(url).then(|| "max-age=86400, private".to_owned());
        assert_eq!(cache, expected, "{url}");
    }

    // The v1 document names the v1 issuer and endpoints, as Entra's does.
    let v1: serde_json::Value = world.http.get(&cached[1]).send().await.unwrap().json().await.unwrap();
    assert_eq!(v1["issuer"], format!("https://sts.windows.net/{tenant}/"));
    assert_eq!(v1["jwks_uri"], keys[1]);
    assert_eq!(v1["token_endpoint"], format!("{origin}/{tenant}/oauth2/token"));

    let body: serde_json::Value = world.http.get(&instance).send().await.unwrap().json().await.unwrap();
    let host = origin.trim_start_matches("http://");
    assert_eq!(body["tenant_discovery_endpoint"], format!("{origin}/{tenant}/v2.0/.well-known/openid-configuration"));
    assert_eq!(body["api-version"], "1.1");
    assert_eq!(
        body["metadata"],
        serde_json::json!([{ "preferred_network": host, "preferred_cache": host, "aliases": [host] }])
    );
    let elsewhere = format!(
        "{origin}/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.example/{tenant}/oauth2/v2.0/authorize"
    );
    aadsts(world.http.get(&elsewhere).send().await.unwrap(), 400, "invalid_instance", 50049).await;

    // Only these: an unknown path, the token endpoint and the controls answer no foreign origin.
    let foreign = |method: reqwest::Method, path: &str| {
        world
            .http
            .request(method, format!("{origin}{path}"))
            .header("origin", "https://app.example")
            .header("access-control-request-method", "POST")
            .send()
    };
    for (method, path) in [
        (reqwest::Method::GET, "/no/such/path".to_owned()),
        (reqwest::Method::OPTIONS, "/no/such/path".to_owned()),
        (reqwest::Method::OPTIONS, format!("/{tenant}/oauth2/v2.0/token")),
        (reqwest::Method::OPTIONS, "/_emulator/keys/roll".to_owned()),
    ] {
        let response = foreign(method.clone(), &path).await.unwrap();
        assert!(response.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none(), "{method} {path}");
    }
}

#[tokio::test]
async fn client_info_refreshed_id_tokens_and_the_sign_out_state_are_entras() {
    let world = world().await;
    let (code, pending) = world.code().await;
    let redirect_uri = format!("{SPA}/sso");
    let form = [
        ("client_id", demo::CLIENT_ID),
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", verifier(&pending)),
        ("client_info", "1"),
    ];
    let body: serde_json::Value = world.token(&form, Some(SPA)).await.json().await.unwrap();
    let alice = demo::tenant().user_by_upn("alice@contoso.example").unwrap().oid.clone();
    let client_info = |body: &serde_json::Value| -> serde_json::Value {
        let bytes = URL_SAFE_NO_PAD.decode(body["client_info"].as_str().expect("client_info")).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    assert_eq!(client_info(&body), serde_json::json!({ "uid": alice, "utid": demo::TENANT_ID }));

    // A refresh asking for openid brings a new ID token of the same user, without a nonce.
    let refresh_token = body["refresh_token"].as_str().unwrap();
    let scope = format!("openid profile offline_access api://{}/{}", demo::CLIENT_ID, demo::SCOPE);
    let form = [
        ("client_id", demo::CLIENT_ID),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("scope", scope.as_str()),
        ("client_info", "1"),
    ];
    let refreshed: serde_json::Value = world.token(&form, Some(SPA)).await.json().await.unwrap();
    let id: serde_json::Value = world.verify(refreshed["id_token"].as_str().expect("an ID token")).await;
    assert_eq!((id["oid"].as_str(), id["aud"].as_str()), (Some(alice.as_str()), Some(demo::CLIENT_ID)));
    assert!(id.get("nonce").is_none());
    assert_eq!(client_info(&refreshed)["uid"], alice);
    // Without openid in the scope, or without client_info=1, neither comes.
    let api_only = format!("api://{}/{}", demo::CLIENT_ID, demo::SCOPE);
    let form = [
        ("client_id", demo::CLIENT_ID),
        ("grant_type", "refresh_token"),
        ("refresh_token", refreshed["refresh_token"].as_str().unwrap()),
        ("scope", api_only.as_str()),
    ];
    let plain: serde_json::Value = world.token(&form, Some(SPA)).await.json().await.unwrap();
    assert!(plain["access_token"].is_string());
    assert!(plain.get("id_token").is_none() && plain.get("client_info").is_none(), "{plain}");

    // Sign-out returns the request's state to the post-logout redirect URI.
    let logout = format!(
        "{}/{}/oauth2/v2.0/logout?post_logout_redirect_uri={SPA}/sso&state=s%2B1%3D",
        world.emulator.origin(),
        demo::TENANT_ID
    );
    let response = world.get(&logout).await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], format!("{SPA}/sso?state=s%2B1%3D"));
}
