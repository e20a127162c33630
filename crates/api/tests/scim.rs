//! SCIM provisioning end to end on loopback: the emulator plays Entra's provisioning service
//! (its control endpoint runs the cycles) against a real API server, whose `/api/me` then
//! answers tokens the emulator signs. On SQLite here; on PostgreSQL in `./dev test`'s
//! PostgreSQL stage (the ignored test).

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use channels_api::config::{ApiConfig, DatabaseUrl};
use channels_api::AppState;
use channels_protocol::wire::{ApiError, Me};
use common::serve;
use entra_emulator::control::CONTROL_HEADER;
use entra_emulator::directory::demo;
use entra_emulator::Running;
use serde_json::{json, Value};
use tokio::net::TcpListener;

const NOW: u64 = 1_800_000_000;
const BOB: &str = "b0b00000-0000-4000-8000-000000000002";
const ALICE: &str = "a11ce000-0000-4000-8000-000000000001";

struct World {
    emulator: Running,
    /// The API that receives the provisioning.
    api: String,
    /// A second instance on the same database, with its own clock.
    other: String,
    other_clock: Arc<AtomicU64>,
    state: AppState,
    http: reqwest::Client,
    token: String,
}

async fn world(url: &str) -> World {
    world_with(url, |_| ()).await
}

async fn world_with(url: &str, configure: impl FnOnce(&mut ApiConfig)) -> World {
    let emulator =
        entra_emulator::spawn(TcpListener::bind("127.0.0.1:0").await.unwrap(), demo::directory(), Arc::new(|| NOW))
            .await
            .unwrap();
    let mut config = ApiConfig::demo();
    config.authority = channels_api::config::Authority::demo(emulator.origin()).unwrap();
    config.database_url = DatabaseUrl::parse(url).unwrap();
    config.allowed_tenants.push(demo::FABRIKAM_TENANT_ID.to_owned());
    configure(&mut config);
    let state = AppState::connect(config.clone(), Arc::new(|| NOW)).await.unwrap();
    let (_, token) = state.scim_tokens.create(demo::TENANT_ID, "test", NOW as i64).await.unwrap();
    let other_clock = Arc::new(AtomicU64::new(NOW));
    let clock = other_clock.clone();
    let other_state = AppState::connect(config, Arc::new(move || clock.load(Ordering::SeqCst))).await.unwrap();
    World {
        emulator,
        api: serve(state.clone()).await,
        other: serve(other_state).await,
        other_clock,
        state,
        http: reqwest::Client::new(),
        token: token.secret().to_owned(),
    }
}

impl World {
    /// Runs the next provisioning cycle through the emulator's control endpoint.
    async fn cycle(&self) -> Value {
        let response = self
            .http
            .post(format!("{}/_emulator/provisioning/cycle", self.emulator.origin()))
            .header(CONTROL_HEADER, "1")
            .json(&json!({ "tenant": "contoso.example", "scim_url": format!("{}/scim/v2", self.api), "token": self.token }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn scope(&self, upn: &str, in_scope: bool) {
        let response = self
            .http
            .post(format!("{}/_emulator/provisioning/scope", self.emulator.origin()))
            .header(CONTROL_HEADER, "1")
            .json(&json!({ "upn": upn, "in_scope": in_scope }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    fn access_token(&self, upn: &str) -> String {
        let emulator = &self.emulator.emulator;
        let tenant = emulator.tenant();
        let mut claims = emulator.access_token_claims(
            &tenant.apps[0],
            tenant.user_by_upn(upn).unwrap(),
            &[demo::SCOPE.to_owned()],
            NOW,
        );
        // The demo's authentication context, which saving preferences requires.
        claims.acrs = Some(vec!["c1".to_owned()]);
        emulator.key().sign(&claims)
    }

    /// A token of `upn` whose `upn` claim says `claimed` instead (a renamed UPN, a guest's form).
    fn access_token_claiming(&self, upn: &str, claimed: &str) -> String {
        let emulator = &self.emulator.emulator;
        let tenant = emulator.tenant();
        let user = tenant.user_by_upn(upn).unwrap();
        let mut claims = emulator.access_token_claims(&tenant.apps[0], user, &[demo::SCOPE.to_owned()], NOW);
        claims.upn = Some(claimed.to_owned());
        emulator.key().sign(&claims)
    }

    /// `PUT /api/me/profile` as `upn`; answers the status.
    async fn save_preferences(&self, upn: &str, preferences: Value) -> u16 {
        let request = self.http.put(format!("{}/api/me/profile", self.api)).bearer_auth(self.access_token(upn));
        request.json(&preferences).send().await.unwrap().status().as_u16()
    }

    async fn me(&self, api: &str, upn: &str) -> reqwest::Response {
        self.http.get(format!("{api}/api/me")).bearer_auth(self.access_token(upn)).send().await.unwrap()
    }

    /// A SCIM request with the token; answers the status and the JSON body (Null when empty).
    async fn scim(&self, method: reqwest::Method, path: &str, body: Option<&str>) -> (u16, Value) {
        self.scim_as(&self.token, method, path, body).await
    }

    async fn scim_as(&self, token: &str, method: reqwest::Method, path: &str, body: Option<&str>) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}/scim/v2{path}", self.api)).bearer_auth(token);
        if let Some(body) = body {
            request = request.header("Content-Type", "application/scim+json").body(body.to_owned());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        if status != 204 {
            assert_eq!(response.headers()["content-type"], "application/scim+json", "{path}");
        }
        let text = response.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }
}

fn assert_scim_error(answer: &(u16, Value), status: u16, scim_type: Option<&str>, says: &str) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]), "{body}");
    assert_eq!(body["status"], json!(status.to_string()), "{body}");
    assert_eq!(body["scimType"].as_str(), scim_type, "{body}");
    assert!(body["detail"].as_str().unwrap().contains(says), "{body}");
}

async fn provisioning(url: &str) {
    let world = world(url).await;
    use reqwest::Method;

    // Before provisioning: bob signs in (a member by sign-in) and saves a preference; dave's
    // token has the overage, and nothing was provisioned: today's explanation, naming SCIM.
    assert_eq!(world.me(&world.api, "bob@contoso.example").await.status(), 200);
    assert_eq!(
        world.save_preferences("bob@contoso.example", json!({ "default_channel": "Police South Ops" })).await,
        200
    );
    let dave: Me = world.me(&world.api, "dave@contoso.example").await.json().await.unwrap();
    let notice = dave.notice.unwrap();
    assert_eq!((notice.code.as_str(), dave.channels.len()), ("groups_overage", 0));
    assert!(notice.fix.unwrap().contains("Provisioning → Automatic"));

    // The initial cycle: a probe, then users by userName, created; groups created and filled.
    let initial = world.cycle().await;
    assert_eq!(initial["cycle"], "initial");
    assert_eq!(initial["failures"], json!([]));
    // Bob and dave signed in before: found by their userName and patched, the same members.
    assert_eq!((initial["created_users"].as_u64(), initial["updated_users"].as_u64()), (Some(3), Some(2)));
    // Dispatch, Fire-North, Police-South, Marketing and dave's 230 sites.
    assert_eq!(initial["created_groups"], 234);
    let requests = initial["requests"].as_array().unwrap();
    let shown = |i: usize| format!("{} {} {}", requests[i]["method"], requests[i]["path"], requests[i]["status"]);
    assert!(shown(0).starts_with("\"GET\" \"/Users?filter=userName eq \\\""), "the probe: {}", shown(0));
    assert!(shown(0).ends_with(" 200"));
    assert_eq!(shown(1), "\"GET\" \"/Users?filter=userName eq \\\"alice@contoso.example\\\"\" 200");
    assert_eq!(shown(2), "\"POST\" \"/Users\" 201");
    assert_eq!(shown(3), "\"GET\" \"/Users?filter=userName eq \\\"bob@contoso.example\\\"\" 200");
    assert_eq!(shown(4), "\"PATCH\" \"/Users/b0b00000-0000-4000-8000-000000000002\" 200");
    assert!(requests.iter().any(|r| r["path"] == "/Groups?excludedAttributes=members"
        || r["path"].as_str().unwrap().starts_with("/Groups?excludedAttributes=members")));

    // Dave now gets the channel of his provisioned Site-007, and is told where it came from.
    let dave: Me = world.me(&world.api, "dave@contoso.example").await.json().await.unwrap();
    assert_eq!(dave.channels, ["Site 7 Patrol"]);
    assert_eq!(dave.notice.unwrap().code, "provisioned_groups");
    assert_eq!(dave.groups.len(), 230);
    // The provisioned alice and the alice who signs in are one member (created by provisioning).
    let alice: Me = world.me(&world.api, "alice@contoso.example").await.json().await.unwrap();
    assert_eq!(alice.member.unwrap().provisioning, "updated");
    assert_eq!(alice.channels, ["All Call", "Dispatch Ops", "Fire North Tac"], "the token's groups come first");

    // Nothing changed: an incremental cycle sends nothing.
    let quiet = world.cycle().await;
    assert_eq!((quiet["cycle"].as_str(), quiet["requests"].as_array().unwrap().len()), (Some("incremental"), 0));

    // Bob is unassigned: the next cycle disables him ("False" as a string), and his next call
    // is refused, here at once and on another instance within its recheck time.
    assert_eq!(world.me(&world.other, "bob@contoso.example").await.status(), 200);
    world.scope("bob@contoso.example", false).await;
    let disabling = world.cycle().await;
    assert_eq!((disabling["disabled_users"].as_u64(), disabling["failures"].as_array().unwrap().len()), (Some(1), 0));
    let refused = world.me(&world.api, "bob@contoso.example").await;
    assert_eq!(refused.status(), 403);
    let refusal: ApiError = refused.json().await.unwrap();
    assert_eq!(refusal.error, "account_disabled");
    assert!(refusal.message.contains("disabled by your organisation's provisioning"), "{refusal:?}");
    assert_eq!(world.me(&world.other, "bob@contoso.example").await.status(), 200, "remembered for up to 10 s");
    world.other_clock.fetch_add(channels_api::members::RECHECK_SECONDS as u64, Ordering::SeqCst);
    assert_eq!(world.me(&world.other, "bob@contoso.example").await.status(), 403, "read again after 10 s");
    let (status, bob) = world.scim(Method::GET, &format!("/Users/{BOB}"), None).await;
    assert_eq!(
        (status, &bob["active"], &bob["userName"]),
        (200, &json!(false), &json!("bob@contoso.example")),
        "soft delete"
    );
    let channels =
        world.http.get(format!("{}/api/channels", world.api)).bearer_auth(world.access_token("bob@contoso.example"));
    assert_eq!(channels.send().await.unwrap().status(), 403);
    let save = world.save_preferences("bob@contoso.example", json!({ "default_channel": "All Call" })).await;
    assert_eq!(save, 403, "no preference of a disabled member changes");
    // His refused calls (a newer name in the token, too) changed nothing stored.
    let refused = world.http.get(format!("{}/api/me", world.api));
    let refused = refused.bearer_auth(world.access_token_claiming("bob@contoso.example", "robert@contoso.example"));
    assert_eq!(refused.send().await.unwrap().status(), 403);
    assert_eq!(world.scim(Method::GET, &format!("/Users/{BOB}"), None).await.1, bob, "unchanged by refused calls");

    // Assigned again: enabled, with his preferences.
    world.scope("bob@contoso.example", true).await;
    let enabling = world.cycle().await;
    assert_eq!(enabling["updated_users"], 1, "{enabling}");
    let bob: Me = world.me(&world.api, "bob@contoso.example").await.json().await.unwrap();
    assert_eq!(bob.member.unwrap().preferences, json!({ "default_channel": "Police South Ops" }));

    // Lists: pagination, filters Entra sends, and members left out when asked.
    let (_, page) = world.scim(Method::GET, "/Users?startIndex=2&count=2", None).await;
    assert_eq!(
        (page["totalResults"].as_i64(), page["itemsPerPage"].as_i64(), page["startIndex"].as_i64()),
        (Some(5), Some(2), Some(2))
    );
    let (_, all) = world.scim(Method::GET, "/Users", None).await;
    assert_eq!(page["Resources"][0]["id"], all["Resources"][1]["id"]);
    let (_, by_external) = world.scim(Method::GET, &format!("/Users?filter=externalId+eq+%22{ALICE}%22"), None).await;
    assert_eq!(
        (by_external["totalResults"].as_i64(), &by_external["Resources"][0]["userName"]),
        (Some(1), &json!("alice@contoso.example"))
    );
    let (_, police) = world
        .scim(Method::GET, "/Groups?excludedAttributes=members&filter=displayName eq \"police-south\"", None)
        .await;
    let group = &police["Resources"][0];
    assert_eq!((group["displayName"].as_str(), group.get("members")), (Some("Police-South"), None));
    let id = group["id"].as_str().unwrap();
    let (_, with_bob) = world
        .scim(Method::GET, &format!("/Groups?filter=id eq \"{id}\" and members eq \"{BOB}\"&attributes=id"), None)
        .await;
    assert_eq!((with_bob["totalResults"].as_i64(), with_bob["Resources"][0].get("displayName")), (Some(1), None));
    let (_, full) = world.scim(Method::GET, &format!("/Groups/{id}"), None).await;
    assert_eq!(full["members"], json!([{ "value": BOB }]));

    // Entra finds a provisioned user by the userName it sent, whatever name a sign-in brings.
    let renamed = world.http.get(format!("{}/api/me", world.api));
    let renamed = renamed.bearer_auth(world.access_token_claiming("alice@contoso.example", "alice.m@contoso.example"));
    assert_eq!(renamed.send().await.unwrap().status(), 200);
    let (_, found) = world.scim(Method::GET, "/Users?filter=userName eq \"alice@contoso.example\"", None).await;
    assert_eq!((found["totalResults"].as_i64(), &found["Resources"][0]["id"]), (Some(1), &json!(ALICE)));

    // Another tenant's provisioning has its own users and groups: its Police-South is not Contoso's.
    let tokens = &world.state.scim_tokens;
    let (_, fabrikam) = tokens.create(demo::FABRIKAM_TENANT_ID, "fabrikam", NOW as i64).await.unwrap();
    let frank = "f4a4c000-0000-4000-8000-000000000006";
    let body = json!({ "userName": "frank@fabrikam.example", "externalId": frank }).to_string();
    assert_eq!(world.scim_as(fabrikam.secret(), Method::POST, "/Users", Some(&body)).await.0, 201);
    let body = json!({ "displayName": "Police-South", "members": [{ "value": frank }] }).to_string();
    assert_eq!(world.scim_as(fabrikam.secret(), Method::POST, "/Groups", Some(&body)).await.0, 201);
    // A Contoso object id in a Fabrikam group is a Fabrikam membership only: (tenant, object id).
    let bob_in_fabrikam = json!({ "displayName": "Dispatch", "members": [{ "value": BOB }] }).to_string();
    let answer = world.scim_as(fabrikam.secret(), Method::POST, "/Groups", Some(&bob_in_fabrikam)).await;
    assert_eq!(answer.0, 201, "{answer:?}");
    let bobs = world.state.provisioned.provisioned_groups(demo::TENANT_ID, BOB).await.unwrap();
    assert!(bobs.iter().all(|g| g.display_name != "Dispatch"), "Contoso's bob is not in Fabrikam's Dispatch: {bobs:?}");
    let (_, theirs) = world.scim_as(fabrikam.secret(), Method::GET, "/Users", None).await;
    assert_eq!(theirs["totalResults"], 1, "Fabrikam's token sees Fabrikam's user only");
    let (_, police) = world.scim(Method::GET, "/Groups?filter=displayName eq \"Police-South\"", None).await;
    assert_eq!(police["totalResults"], 1);
    let (_, contoso_police) =
        world.scim(Method::GET, &format!("/Groups/{}", police["Resources"][0]["id"].as_str().unwrap()), None).await;
    assert_eq!(contoso_police["members"], json!([{ "value": BOB }]), "Fabrikam's group added no one to Contoso's");

    // A member leaves a group in the filter form. A member not provisioned (yet) does not block
    // the others: kept, it takes effect for that object id. A member value that cannot be a user
    // id of ours is refused, and nothing of that PATCH is stored.
    let remove = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "remove", "path": format!("members[value eq \"{BOB}\"]") }] });
    assert_eq!(world.scim(Method::PATCH, &format!("/Groups/{id}"), Some(&remove.to_string())).await.0, 204);
    let (_, after) = world.scim(Method::GET, &format!("/Groups/{id}"), None).await;
    assert_eq!(after["members"], json!([]), "bob left");
    let odd = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "Add", "path": "members", "value": [{ "value": BOB }, { "value": "jyoung" }] }] });
    let answer = world.scim(Method::PATCH, &format!("/Groups/{id}"), Some(&odd.to_string())).await;
    assert_scim_error(&answer, 400, Some("invalidValue"), "found `jyoung`");
    let (_, after) = world.scim(Method::GET, &format!("/Groups/{id}"), None).await;
    assert_eq!(after["members"], json!([]), "the refused PATCH added no one");
    let stranger = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "Add", "path": "members", "value": [{ "value": BOB }, { "value": "0000DEAD-0000-4000-8000-000000000000" }] }] });
    assert_eq!(world.scim(Method::PATCH, &format!("/Groups/{id}"), Some(&stranger.to_string())).await.0, 204);
    let (_, after) = world.scim(Method::GET, &format!("/Groups/{id}"), None).await;
    assert_eq!(after["members"], json!([{ "value": "0000dead-0000-4000-8000-000000000000" }, { "value": BOB }]));
    assert_eq!(world.scim(Method::PATCH, &format!("/Groups/{id}"), Some(&remove.to_string())).await.0, 204);

    // Bad input: a SCIM error that says what was expected; the user as stored is untouched.
    let (_, alice_before) = world.scim(Method::GET, &format!("/Users/{ALICE}"), None).await;
    type Case<'a> = (Method, String, Option<String>, u16, Option<&'a str>, &'a str);
    let cases: [Case; 9] = [
        (Method::POST, "/Users".into(), Some("{not json".into()), 400, Some("invalidSyntax"), "invalid JSON"),
        (Method::POST, "/Users".into(), Some(json!({ "userName": "x@contoso.example", "externalId": ALICE, "shoeSize": 44 }).to_string()), 400, Some("invalidPath"), "`shoeSize`"),
        (Method::POST, "/Users".into(), Some(json!({ "userName": "alice@contoso.example", "externalId": ALICE }).to_string()), 409, Some("uniqueness"), "provisioned already"),
        (Method::POST, "/Users".into(), Some(json!({ "userName": "jy@contoso.example", "externalId": "jyoung" }).to_string()), 400, Some("invalidValue"), "map objectId to externalId"),
        (Method::POST, "/Users".into(), Some(format!("{{\"userName\": \"{}\"}}", "x".repeat(600 * 1024))), 413, None, "at most 524288 bytes"),
        (Method::GET, "/Users?filter=userName co \"ali\"".into(), None, 400, Some("invalidFilter"), "found `co`"),
        (Method::GET, "/Users?filter=title eq \"x\"".into(), None, 400, Some("invalidFilter"), "found `title`"),
        (Method::PATCH, "/Users/0000dead-0000-4000-8000-000000000000".into(), Some(remove.to_string()), 404, None, "found none"),
        (Method::PATCH, format!("/Users/{ALICE}"), Some(json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{ "op": "Replace", "path": "displayName", "value": "Changed" }, { "op": "Replace", "path": "externalId", "value": BOB }] }).to_string()), 400, Some("mutability"), "the member's key"),
    ];
    for (method, path, body, status, scim_type, says) in cases {
        let answer = world.scim(method, &path, body.as_deref()).await;
        assert_scim_error(&answer, status, scim_type, says);
    }
    let (_, alice_after) = world.scim(Method::GET, &format!("/Users/{ALICE}"), None).await;
    assert_eq!(alice_before, alice_after, "no refused request changed alice");

    // Discovery.
    let (_, config) = world.scim(Method::GET, "/ServiceProviderConfig", None).await;
    assert_eq!(
        (config["patch"]["supported"].as_bool(), config["bulk"]["supported"].as_bool()),
        (Some(true), Some(false))
    );
    let (_, types) = world.scim(Method::GET, "/ResourceTypes", None).await;
    assert_eq!(types["totalResults"], 2);
    let (_, schemas) = world.scim(Method::GET, "/Schemas", None).await;
    assert_eq!(schemas["totalResults"], 3);

    // Tokens: none, a made-up one, another tenant's (which sees only its own tenant), rotation.
    let none = world.http.get(format!("{}/scim/v2/Users", world.api)).send().await.unwrap();
    assert_eq!(
        (none.status().as_u16(), none.headers()["www-authenticate"].to_str().unwrap()),
        (401, "Bearer realm=\"scim\"")
    );
    let forged = world.scim_as("channels-scim.0011223344556677.forged", Method::GET, "/Users", None).await;
    assert_scim_error(&forged, 401, None, "unknown or revoked");
    let (id, _) = world.token.rsplit_once('.').unwrap();
    let wrong_secret = world.scim_as(&format!("{id}.{}", "A".repeat(43)), Method::GET, "/Users", None).await;
    assert_scim_error(&wrong_secret, 401, None, "unknown or revoked");
    let (status, theirs) = world.scim_as(fabrikam.secret(), Method::GET, "/Users", None).await;
    assert_eq!((status, &theirs["totalResults"]), (200, &json!(1)), "another tenant's token sees none of Contoso");
    assert_eq!(world.scim_as(fabrikam.secret(), Method::GET, &format!("/Users/{ALICE}"), None).await.0, 404);
    let (_, dropped) = tokens.create("11111111-2222-4333-8444-555555555555", "dropped", NOW as i64).await.unwrap();
    let refused = world.scim_as(dropped.secret(), Method::GET, "/Users", None).await;
    assert_scim_error(&refused, 403, None, "no longer lists");
    let (new, next) = tokens.create(demo::TENANT_ID, "rotated", NOW as i64).await.unwrap();
    let old = tokens.list().await.unwrap().into_iter().find(|t| t.label == "test").unwrap();
    assert!(tokens.revoke(&old.id, NOW as i64).await.unwrap());
    assert_eq!(world.scim(Method::GET, "/Users", None).await.0, 401, "revoked");
    assert_eq!(world.scim_as(next.secret(), Method::GET, "/Users", None).await.0, 200, "its successor works");
    assert!(!new.id.is_empty() && !format!("{next:?}").contains(next.secret()), "redacted in Debug");

    // Entra's hard delete: gone, with its memberships; a second delete is a 404.
    assert_eq!(world.scim_as(next.secret(), Method::DELETE, &format!("/Users/{BOB}"), None).await.0, 204);
    assert_eq!(world.scim_as(next.secret(), Method::DELETE, &format!("/Users/{BOB}"), None).await.0, 404);
}

/// Issue #30: in Entra a group's owners, who need not be admins, can rename their group, and the
/// next provisioning cycle sends the new `displayName`. Renamed to the object id of the group
/// behind a channel, or to `Evil\Dispatch`, it grants nothing; the group whose real
/// `externalId` that object id is still grants its channel.
#[tokio::test]
async fn a_group_renamed_by_its_owner_grants_no_channel_its_real_external_id_still_does() {
    use reqwest::Method;
    const HARBOUR: &str = "4a7b0000-0000-4000-8000-00000000aaaa";
    let dir = tempfile::tempdir().unwrap();
    let world = world_with(&common::sqlite_in(&dir), |config| {
        let mut channels = config.channels.channels().to_vec();
        channels.push(channels_api::channels::Channel {
            name: "Harbour Watch".into(),
            tenant: None,
            groups: vec![channels_api::channels::GroupRef::parse(HARBOUR).unwrap()],
            roles: Vec::new(),
        });
        config.channels = channels_api::channels::ChannelMap::new(channels);
    })
    .await;
    // Dave's tokens carry the overage: his channels come from provisioned memberships.
    let dave: Me = world.me(&world.api, "dave@contoso.example").await.json().await.unwrap();
    let dave_id = dave.object_id.clone();
    let group = |name: &str, external_id: &str| {
        json!({ "displayName": name, "externalId": external_id, "members": [{ "value": dave_id }] }).to_string()
    };
    let channels = || async {
        let dave: Me = world.me(&world.api, "dave@contoso.example").await.json().await.unwrap();
        dave.channels
    };
    let renamed_to_the_id = group(HARBOUR, "5d2e0a11-9b7c-4e3f-8a6d-000000000001");
    assert_eq!(world.scim(Method::POST, "/Groups", Some(&renamed_to_the_id)).await.0, 201);
    let renamed_with_a_domain = group("Evil\\Dispatch", "5d2e0a11-9b7c-4e3f-8a6d-000000000002");
    assert_eq!(world.scim(Method::POST, "/Groups", Some(&renamed_with_a_domain)).await.0, 201);
    assert_eq!(channels().await, Vec::<String>::new(), "neither renamed group grants a channel");
    let the_real_one = group("Renamed by its owner", &HARBOUR.to_uppercase());
    assert_eq!(world.scim(Method::POST, "/Groups", Some(&the_real_one)).await.0, 201);
    assert_eq!(channels().await, ["Harbour Watch"], "the real externalId, compared as a GUID");
}

/// Issue #30: what an independent SCIM 2.0 compliance checker found.
#[tokio::test]
async fn what_a_compliance_checker_found_is_answered_as_rfc_7644_says() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let world = world(&common::sqlite_in(&dir)).await;
    // An unknown path is a SCIM 404, never the SPA's page; POST /.search a SCIM 501.
    for path in ["/Nope", "/Users/a11ce000-0000-4000-8000-000000000001/manager", ""] {
        assert_scim_error(&world.scim(Method::GET, path, None).await, 404, None, "expected an endpoint of /scim/v2");
    }
    for path in ["/.search", "/Users/.search", "/Groups/.search"] {
        let answer = world.scim(Method::POST, path, Some("{}")).await;
        assert_scim_error(&answer, 501, None, "POST /.search is not supported");
    }
    let unauthenticated = world.http.get(format!("{}/scim/v2/Nope", world.api)).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401, "the token is checked first");

    let user = json!({ "userName": "jo@contoso.example", "externalId": ALICE, "displayName": "Jo",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "Dispatch" } });
    assert_eq!(world.scim(Method::POST, "/Users", Some(&user.to_string())).await.0, 201);
    let patch = |operations: Value| {
        json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations }).to_string()
    };
    // The extension's URN as the path, with an object of its attributes.
    let extension =
        patch(json!([{ "op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "value": { "employeeNumber": "701" } }]));
    let (status, jo) = world.scim(Method::PATCH, &format!("/Users/{ALICE}"), Some(&extension)).await;
    assert_eq!(status, 200, "{jo}");
    assert_eq!(
        jo["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        json!({ "department": "Dispatch", "employeeNumber": "701" })
    );
    // A remove of displayName removes it; of active, it is refused (mutability) and nothing changes.
    let (status, jo) = world
        .scim(
            Method::PATCH,
            &format!("/Users/{ALICE}"),
            Some(&patch(json!([{ "op": "remove", "path": "displayName" }]))),
        )
        .await;
    assert_eq!((status, jo.get("displayName")), (200, None), "{jo}");
    let answer = world
        .scim(Method::PATCH, &format!("/Users/{ALICE}"), Some(&patch(json!([{ "op": "remove", "path": "active" }]))))
        .await;
    assert_scim_error(&answer, 400, Some("mutability"), "send `active: false` to disable the user");
    assert_eq!(world.scim(Method::GET, &format!("/Users/{ALICE}"), None).await.1, jo, "unchanged by the refusal");
}

/// Issue #30: a group's membership changes cost what they name, across the store's batches of
/// 500, and leave every other member as it was; a group's externalId, which channels trust, stays.
async fn large_group(url: &str) {
    use reqwest::Method;
    let world = world(url).await;
    let id = |i: usize| format!("a0000000-0000-4000-8000-{i:012}");
    let patch = |operations: Value| {
        json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations }).to_string()
    };
    let body = json!({ "displayName": "All employees", "externalId": "5d2e0a11-9b7c-4e3f-8a6d-0000000000e1" });
    let (status, group) = world.scim(Method::POST, "/Groups", Some(&body.to_string())).await;
    assert_eq!(status, 201, "{group}");
    let path = format!("/Groups/{}", group["id"].as_str().unwrap());
    let members: Vec<Value> = (0..1_200).map(|i| json!({ "value": id(i) })).collect();
    let add = patch(json!([{ "op": "Add", "path": "members", "value": members }]));
    assert_eq!(world.scim(Method::PATCH, &path, Some(&add)).await.0, 204);
    let remove = patch(json!([
        { "op": "Remove", "path": format!("members[value eq \"{}\"]", id(7)) },
        { "op": "Remove", "path": "members", "value": [{ "value": id(700) }, { "value": id(1_199) }] },
        { "op": "Replace", "path": "displayName", "value": "Everyone" },
    ]));
    assert_eq!(world.scim(Method::PATCH, &path, Some(&remove)).await.0, 204);
    let (_, group) = world.scim(Method::GET, &path, None).await;
    let held: std::collections::BTreeSet<String> =
        group["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap().to_owned()).collect();
    let expected: std::collections::BTreeSet<String> =
        (0..1_200).filter(|i| ![7, 700, 1_199].contains(i)).map(id).collect();
    assert_eq!((group["displayName"].as_str(), held.len()), (Some("Everyone"), 1_197));
    assert_eq!(held, expected, "every other member as it was");
    // The externalId may not change, nor be another group's.
    let moved =
        patch(json!([{ "op": "Replace", "path": "externalId", "value": "5d2e0a11-9b7c-4e3f-8a6d-0000000000e2" }]));
    assert_scim_error(
        &world.scim(Method::PATCH, &path, Some(&moved)).await,
        400,
        Some("mutability"),
        "expected externalId to stay",
    );
    let twin = json!({ "displayName": "Twin", "externalId": "5D2E0A11-9B7C-4E3F-8A6D-0000000000E1" }).to_string();
    assert_scim_error(&world.scim(Method::POST, "/Groups", Some(&twin)).await, 409, Some("uniqueness"), "externalId");
    let filter = "/Groups?excludedAttributes=members&filter=externalId eq \"5D2E0A11-9B7C-4E3F-8A6D-0000000000E1\"";
    let (_, found) = world.scim(Method::GET, filter, None).await;
    assert_eq!(found["Resources"][0]["displayName"], "Everyone", "an object id in any case");
}

#[tokio::test]
async fn a_large_groups_changes_cost_what_they_name_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    large_group(&common::sqlite_in(&dir)).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: ./dev test sets CHANNELS_TEST_POSTGRES_URL"]
async fn a_large_groups_changes_cost_what_they_name_on_postgres() {
    large_group(&own_database("large").await).await;
}

/// A database of its own on the test server: the demo directory's object ids are fixed.
async fn own_database(prefix: &str) -> String {
    let url = std::env::var("CHANNELS_TEST_POSTGRES_URL").expect("CHANNELS_TEST_POSTGRES_URL");
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("{prefix}_{:012x}", nanos % (1 << 48));
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.unwrap();
    pool.close().await;
    let (server, _) = url.rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

#[tokio::test]
async fn provisioning_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    provisioning(&common::sqlite_in(&dir)).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: ./dev test sets CHANNELS_TEST_POSTGRES_URL"]
async fn provisioning_on_postgres() {
    provisioning(&own_database("scim").await).await;
}
