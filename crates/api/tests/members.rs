//! The member store's rules, on SQLite and on PostgreSQL: keyed by `(tid, oid)`, created on
//! the first sign-in with the default roles, linked once to an admin's pre-created UPN, never
//! duplicated by concurrent first sign-ins.
//!
//! The PostgreSQL run needs a server: `./dev test` starts one from Debian's packages and sets
//! `CHANNELS_TEST_POSTGRES_URL`.

use std::sync::Arc;

use channels_api::auth::keys::KeyCache;
use channels_api::auth::VerifiedClaims;
use channels_api::config::{ApiConfig, DatabaseUrl};
use channels_api::members::SignInOutcome;
use channels_api::AppState;
use channels_protocol::claims::AccessTokenClaims;
use entra_emulator::directory::demo;
use entra_emulator::keys::SigningKey;

const NOW: u64 = 1_800_000_000;

struct Harness {
    state: AppState,
    key: SigningKey,
    template: AccessTokenClaims,
    run: String,
}

impl Harness {
    async fn new(url: &str) -> Self {
        let key = SigningKey::generate();
        let jwks = serde_json::from_value(serde_json::json!({ "keys": [key.jwk()] })).unwrap();
        let mut config = ApiConfig::demo();
        config.database_url = DatabaseUrl::parse(url).unwrap();
        // Two tenants, to show that a pre-created member is linked only within its own.
        config.allowed_tenants.push(demo::FABRIKAM_TENANT_ID.to_owned());
        let issuer = format!("{}/{}/v2.0", config.authority.as_str(), demo::TENANT_ID);
        let state = AppState::with_keys(config, Arc::new(KeyCache::fixed(&jwks)), Arc::new(|| NOW)).await.unwrap();
        let emulator = entra_emulator::Emulator::new(demo::tenant(), "unused", entra_emulator::system_clock());
        let tenant = emulator.tenant();
        let user = tenant.user_by_upn("alice@contoso.example").unwrap();
        let mut template = emulator.access_token_claims(&tenant.apps[0], user, &[demo::SCOPE.to_owned()], NOW);
        template.iss = issuer;
        // Object ids unique to this run, so a shared PostgreSQL database needs no cleaning.
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        Self { state, key, template, run: format!("{:012x}", nanos % (1 << 48)) }
    }

    fn oid(&self, n: u32) -> String {
        format!("{n:08x}-0000-4000-8000-{}", self.run)
    }

    async fn verified(&self, oid: &str, upn: &str, name: &str) -> VerifiedClaims {
        self.verified_as(|claims| {
            claims.oid = oid.to_owned();
            claims.upn = Some(upn.to_owned());
            claims.name = Some(name.to_owned());
        })
        .await
    }

    /// A verified token of the template with `edit` applied.
    async fn verified_as(&self, edit: impl FnOnce(&mut AccessTokenClaims)) -> VerifiedClaims {
        let mut claims = self.template.clone();
        edit(&mut claims);
        self.state.validator.validate(&self.key.sign(&claims)).await.unwrap()
    }

    async fn sign_in(
        &self,
        oid: &str,
        upn: &str,
        name: &str,
        now: i64,
    ) -> (channels_api::members::Member, SignInOutcome) {
        let claims = self.verified(oid, upn, name).await;
        self.state.members.sign_in(&claims, &self.state.config.default_roles, now).await.unwrap()
    }
}

async fn member_store_rules(url: &str) {
    let h = Harness::new(url).await;
    let store = &h.state.members;
    let upn = format!("alice-{}@contoso.example", h.run);

    // First sign-in creates, with the default roles; later ones refresh name, UPN, last seen.
    let (created, how) = h.sign_in(&h.oid(1), &upn, "Alice Moreau", 100).await;
    assert_eq!(how, SignInOutcome::Created);
    assert_eq!(
        (created.roles.clone(), created.created_at, created.last_seen_at),
        (vec!["member".to_owned()], 100, 100)
    );
    let renamed = format!("alice.moreau-{}@contoso.example", h.run);
    let (updated, how) = h.sign_in(&h.oid(1), &renamed, "Alice Moreau-Ng", 200).await;
    assert_eq!(how, SignInOutcome::Updated);
    assert_eq!((updated.upn.as_str(), updated.display_name.as_str()), (renamed.as_str(), "Alice Moreau-Ng"));
    assert_eq!((updated.created_at, updated.last_seen_at), (100, 200));

    // Within the last-seen resolution (five minutes) an unchanged member costs no write; from
    // its end, one.
    assert_eq!(channels_api::members::LAST_SEEN_RESOLUTION, 300);
    let (cached, how) = h.sign_in(&h.oid(1), &renamed, "Alice Moreau-Ng", 250).await;
    assert_eq!((how, cached.last_seen_at), (SignInOutcome::Updated, 200));
    let (cached, _) = h.sign_in(&h.oid(1), &renamed, "Alice Moreau-Ng", 200 + 299).await;
    assert_eq!(cached.last_seen_at, 200, "a second before the resolution's end: no write");
    let (written, _) = h.sign_in(&h.oid(1), &renamed, "Alice Moreau-Ng", 200 + 300).await;
    assert_eq!(written.last_seen_at, 500, "at its end: written");
    let (later, _) = h.sign_in(&h.oid(1), &renamed, "Alice Moreau-Ng", 500 + 301).await;
    assert_eq!(later.last_seen_at, 801);

    // The UPN is not the key: another object id with the same UPN is another member.
    let (other, how) = h.sign_in(&h.oid(2), &renamed, "New Alice", 300).await;
    assert_eq!(how, SignInOutcome::Created);
    assert_eq!(other.object_id, h.oid(2));

    // An admin's pre-created member belongs to its tenant and is linked by the token's `upn`:
    // not by another tenant's user of that UPN, nor by a sign-in name (`preferred_username`).
    let frank = format!("Frank-{}@Contoso.example", h.run);
    store.pre_create(demo::TENANT_ID, &frank, "Frank", &["dispatcher".to_owned()], 50).await.unwrap().unwrap();
    let roles = h.state.config.default_roles.clone();
    let elsewhere = h
        .verified_as(|claims| {
            claims.oid = h.oid(6);
            claims.upn = Some(frank.clone());
            claims.tid = demo::FABRIKAM_TENANT_ID.to_owned();
            claims.iss = claims.iss.replace(demo::TENANT_ID, demo::FABRIKAM_TENANT_ID);
        })
        .await;
    let (stranger, how) = store.sign_in(&elsewhere, &roles, 350).await.unwrap();
    assert_eq!((how, stranger.roles), (SignInOutcome::Created, vec!["member".to_owned()]));
    let sign_in_name_only = h
        .verified_as(|claims| {
            claims.oid = h.oid(7);
            claims.upn = None;
            claims.preferred_username = Some(frank.clone());
        })
        .await;
    let (named, how) = store.sign_in(&sign_in_name_only, &roles, 360).await.unwrap();
    assert_eq!((how, named.roles), (SignInOutcome::Created, vec!["member".to_owned()]));
    // Its tenant's user with that `upn` (case-insensitively) links it at the first sign-in; it
    // keeps its roles, and is never linked again.
    let (linked, how) = h.sign_in(&h.oid(3), &frank.to_lowercase(), "Frank Ibe", 400).await;
    assert_eq!(how, SignInOutcome::Linked);
    assert_eq!((linked.object_id.as_str(), linked.roles.clone()), (h.oid(3).as_str(), vec!["dispatcher".to_owned()]));
    let (second, how) = h.sign_in(&h.oid(4), &frank, "Another Frank", 500).await;
    assert_eq!(how, SignInOutcome::Created);
    assert_eq!(second.roles, ["member"]);

    // Concurrent first sign-ins create one member.
    let oid = h.oid(5);
    let upn5 = format!("burst-{}@contoso.example", h.run);
    let claims = h.verified(&oid, &upn5, "Burst").await;
    let roles = h.state.config.default_roles.clone();
    let attempts = (0..16).map(|i| {
        let (store, claims, roles) = (store.clone(), claims.clone(), roles.clone());
        tokio::spawn(async move { store.sign_in(&claims, &roles, 600 + i).await.unwrap() })
    });
    let outcomes: Vec<_> = futures_join(attempts).await;
    assert_eq!(outcomes.iter().filter(|(_, how)| *how == SignInOutcome::Created).count(), 1);
    let everyone = store.all().await.unwrap();
    assert_eq!(everyone.iter().filter(|m| m.object_id == oid).count(), 1);

    // Preferences belong to the (tid, oid).
    let prefs = serde_json::json!({ "theme": "dark" });
    let saved = store.set_preferences(demo::TENANT_ID, &h.oid(1), &prefs).await.unwrap().unwrap();
    assert_eq!(saved.preferences, prefs);
    assert!(store.set_preferences(demo::TENANT_ID, &h.oid(99), &prefs).await.unwrap().is_none());
    store.ping().await.unwrap();
    // A store that cannot answer says so (what /readyz reports), with what failed.
    store.close().await;
    let error = store.ping().await.unwrap_err();
    assert!(error.to_string().starts_with("member store: "), "{error}");
}

/// Issue #30: `channels-api members` (the same store and rules as sign-in), and a pre-created
/// member linked by SCIM's first provisioning of its `userName` in its own tenant.
async fn admins_members(url: &str) {
    use channels_api::admin::{members, MembersAction};
    use channels_api::scim::store::UserColumns;
    let h = Harness::new(url).await;
    let (store, config) = (&h.state.members, &h.state.config);
    let run = |tenant: &'static str, action: MembersAction| async move {
        members(config, store, Some(tenant), action, true, 70)
            .await
            .map(|out| serde_json::from_str::<serde_json::Value>(&out).unwrap())
    };
    let add = |upn: &str, roles: &[&str]| MembersAction::Add {
        upn: upn.to_owned(),
        name: None,
        roles: roles.iter().map(|r| r.to_string()).collect(),
    };
    let grace = format!("Grace-{}@contoso.example", h.run);
    let added = run(demo::TENANT_ID, add(&grace, &["supervisor"])).await.unwrap();
    assert_eq!((added["state"].as_str(), &added["roles"]), (Some("pending"), &serde_json::json!(["supervisor"])));
    let twice = run(demo::TENANT_ID, add(&grace.to_uppercase(), &[])).await.unwrap_err();
    assert!(twice.0.contains("expected a UPN no member of tenant"), "{twice}");
    assert!(run(demo::TENANT_ID, add("grace", &[])).await.unwrap_err().0.contains("user principal name"));
    // Fabrikam's provisioning of the same userName creates its own user; Contoso's links it.
    let (fabrikam_oid, contoso_oid) = (h.oid(20), h.oid(21));
    let columns = |object_id| UserColumns { object_id, user_name: &grace, display_name: "Grace Hopper", active: true };
    let (roles, resource) = (["member".to_owned()], serde_json::Map::new());
    let (theirs, ours) = (columns(&fabrikam_oid), columns(&contoso_oid));
    let elsewhere = h.state.provisioned.create_user(demo::FABRIKAM_TENANT_ID, &theirs, &resource, &roles, 80).await;
    assert_eq!(elsewhere.unwrap().unwrap().member.roles, ["member"], "another tenant's user is not linked");
    let linked = h.state.provisioned.create_user(demo::TENANT_ID, &ours, &resource, &roles, 90).await;
    let linked = linked.unwrap().unwrap().member;
    assert_eq!((&linked.object_id, linked.roles.clone()), (&contoso_oid, vec!["supervisor".to_owned()]));
    assert_eq!(linked.created_at, 70, "the admin's member, not a new one");
    let listed = members(config, store, Some(demo::TENANT_ID), MembersAction::List, false, 95).await.unwrap();
    assert_eq!(listed.lines().filter(|l| l.contains(&grace)).count(), 1, "{listed}");
    assert!(listed.contains("active   roles supervisor") && listed.contains(&contoso_oid), "{listed}");
    // Provisioned by Entra, Grace's state is Entra's: the admin's door refuses to change it.
    for action in [MembersAction::Disable { who: grace.clone() }, MembersAction::Remove { who: contoso_oid.clone() }] {
        let refused = run(demo::TENANT_ID, action).await.unwrap_err();
        assert!(refused.0.contains("provisioned by Entra"), "{refused}");
    }

    // Heidi, pre-created and linked at her sign-in: disabled, her member says so (the API refuses
    // such a member: crates/api/tests/scim.rs); enabled, let in with the admin's roles.
    let heidi = format!("heidi-{}@contoso.example", h.run);
    run(demo::TENANT_ID, add(&heidi, &["supervisor"])).await.unwrap();
    let (linked, how) = h.sign_in(&h.oid(22), &heidi, "Heidi", 100).await;
    assert_eq!((how, linked.roles), (SignInOutcome::Linked, vec!["supervisor".to_owned()]));
    let disabled = run(demo::TENANT_ID, MembersAction::Disable { who: heidi.to_uppercase() }).await.unwrap();
    assert_eq!(disabled["state"], "disabled");
    let (member, _) = h.sign_in(&h.oid(22), &heidi, "Heidi", 400).await;
    assert!(member.disabled_at.is_some(), "read again at her next sign-in");
    assert_eq!(run(demo::TENANT_ID, MembersAction::Enable { who: heidi.clone() }).await.unwrap()["state"], "active");
    let (member, _) = h.sign_in(&h.oid(22), &heidi, "Heidi", 800).await;
    assert_eq!(member.disabled_at, None);

    // A UPN two members share (a pending one, and a sign-in whose token had no `upn` claim):
    // named by UPN, refused with both; named by object id, done.
    let ivan = format!("ivan-{}@contoso.example", h.run);
    run(demo::TENANT_ID, add(&ivan, &[])).await.unwrap();
    let without_upn = h
        .verified_as(|claims| {
            claims.oid = h.oid(23);
            claims.upn = None;
            claims.preferred_username = Some(ivan.clone());
        })
        .await;
    store.sign_in(&without_upn, &config.default_roles, 900).await.unwrap();
    let ambiguous = run(demo::TENANT_ID, MembersAction::Remove { who: ivan.clone() }).await.unwrap_err();
    assert!(ambiguous.0.contains("found 2") && ambiguous.0.contains(&h.oid(23)), "{ambiguous}");
    let removed = run(demo::TENANT_ID, MembersAction::Remove { who: h.oid(23).to_uppercase() }).await.unwrap();
    assert_eq!(removed["removed"]["object_id"], h.oid(23));
    let removed = run(demo::TENANT_ID, MembersAction::Remove { who: ivan.clone() }).await.unwrap();
    assert_eq!(removed["removed"]["state"], "pending", "then the UPN names one");
    let again = run(demo::TENANT_ID, MembersAction::Remove { who: ivan.clone() }).await.unwrap_err();
    assert!(again.0.contains("found none"), "{again}");
    let listed = members(config, store, None, MembersAction::List, false, 950).await.unwrap();
    assert!(!listed.contains(&ivan) && listed.contains(&heidi), "{listed}");

    // An admin's disable of a pending member survives SCIM's first provisioning of them (`active:
    // true` does not undo it), and a tenant no longer allowed is not listed.
    let judy = format!("judy-{}@contoso.example", h.run);
    run(demo::TENANT_ID, add(&judy, &[])).await.unwrap();
    assert_eq!(run(demo::TENANT_ID, MembersAction::Disable { who: judy.clone() }).await.unwrap()["state"], "disabled");
    let judy_oid = h.oid(24);
    let columns = UserColumns { object_id: &judy_oid, user_name: &judy, display_name: "Judy", active: true };
    let provisioned =
        h.state.provisioned.create_user(demo::TENANT_ID, &columns, &resource, &roles, 960).await.unwrap().unwrap();
    assert_eq!(provisioned.member.disabled_at, Some(70), "still disabled, since the admin's disable");
    let dropped = format!("kim-{}@dropped.example", h.run);
    store.pre_create("11111111-2222-4333-8444-555555555555", &dropped, "Kim", &[], 970).await.unwrap().unwrap();
    let listed = members(config, store, None, MembersAction::List, false, 980).await.unwrap();
    assert!(!listed.contains(&dropped) && listed.contains(&judy), "{listed}");
}

#[tokio::test]
async fn sqlite_admins_members() {
    let dir = tempfile::tempdir().unwrap();
    admins_members(&format!("sqlite://{}?mode=rwc", dir.path().join("members.db").display())).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: ./dev test starts one and sets CHANNELS_TEST_POSTGRES_URL"]
async fn postgres_admins_members() {
    let url =
        std::env::var("CHANNELS_TEST_POSTGRES_URL").expect("CHANNELS_TEST_POSTGRES_URL names a PostgreSQL database");
    admins_members(&url).await;
}

async fn futures_join<T: Send + 'static>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_member_store() {
    let dir = tempfile::tempdir().unwrap();
    member_store_rules(&format!("sqlite://{}?mode=rwc", dir.path().join("members.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: ./dev test starts one and sets CHANNELS_TEST_POSTGRES_URL"]
async fn postgres_member_store() {
    let url =
        std::env::var("CHANNELS_TEST_POSTGRES_URL").expect("CHANNELS_TEST_POSTGRES_URL names a PostgreSQL database");
    member_store_rules(&url).await;
}
