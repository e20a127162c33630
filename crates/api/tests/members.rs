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
use channels_api::members::Provisioning;
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
    ) -> (channels_api::members::Member, Provisioning) {
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
    assert_eq!(how, Provisioning::Created);
    assert_eq!(
        (created.roles.clone(), created.created_at, created.last_seen_at),
        (vec!["member".to_owned()], 100, 100)
    );
    let renamed = format!("alice.moreau-{}@contoso.example", h.run);
    let (updated, how) = h.sign_in(&h.oid(1), &renamed, "Alice Moreau-Ng", 200).await;
    assert_eq!(how, Provisioning::Updated);
    assert_eq!((updated.upn.as_str(), updated.display_name.as_str()), (renamed.as_str(), "Alice Moreau-Ng"));
    assert_eq!((updated.created_at, updated.last_seen_at), (100, 200));

    // Within the last-seen resolution (five minutes) an unchanged member costs no write; from
    // its end, one.
    assert_eq!(channels_api::members::LAST_SEEN_RESOLUTION, 300);
    let (cached, how) = h.sign_in(&h.oid(1), &renamed, "Alice Moreau-Ng", 250).await;
    assert_eq!((how, cached.last_seen_at), (Provisioning::Updated, 200));
    let (cached, _) = h.sign_in(&h.oid(1), &renamed, "Alice Moreau-Ng", 200 + 299).await;
    assert_eq!(cached.last_seen_at, 200, "a second before the resolution's end: no write");
    let (written, _) = h.sign_in(&h.oid(1), &renamed, "Alice Moreau-Ng", 200 + 300).await;
    assert_eq!(written.last_seen_at, 500, "at its end: written");
    let (later, _) = h.sign_in(&h.oid(1), &renamed, "Alice Moreau-Ng", 500 + 301).await;
    assert_eq!(later.last_seen_at, 801);

    // The UPN is not the key: another object id with the same UPN is another member.
    let (other, how) = h.sign_in(&h.oid(2), &renamed, "New Alice", 300).await;
    assert_eq!(how, Provisioning::Created);
    assert_eq!(other.object_id, h.oid(2));

    // An admin's pre-created member belongs to its tenant and is linked by the token's `upn`:
    // not by another tenant's user of that UPN, nor by a sign-in name (`preferred_username`).
    let frank = format!("Frank-{}@Contoso.example", h.run);
    store.pre_create(demo::TENANT_ID, &frank, "Frank", &["dispatcher".to_owned()], 50).await.unwrap();
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
    assert_eq!((how, stranger.roles), (Provisioning::Created, vec!["member".to_owned()]));
    let sign_in_name_only = h
        .verified_as(|claims| {
            claims.oid = h.oid(7);
            claims.upn = None;
            claims.preferred_username = Some(frank.clone());
        })
        .await;
    let (named, how) = store.sign_in(&sign_in_name_only, &roles, 360).await.unwrap();
    assert_eq!((how, named.roles), (Provisioning::Created, vec!["member".to_owned()]));
    // Its tenant's user with that `upn` (case-insensitively) links it at the first sign-in; it
    // keeps its roles, and is never linked again.
    let (linked, how) = h.sign_in(&h.oid(3), &frank.to_lowercase(), "Frank Ibe", 400).await;
    assert_eq!(how, Provisioning::Linked);
    assert_eq!((linked.object_id.as_str(), linked.roles.clone()), (h.oid(3).as_str(), vec!["dispatcher".to_owned()]));
    let (second, how) = h.sign_in(&h.oid(4), &frank, "Another Frank", 500).await;
    assert_eq!(how, Provisioning::Created);
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
    assert_eq!(outcomes.iter().filter(|(_, how)| *how == Provisioning::Created).count(), 1);
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
