//! The provisioning service's bearer tokens: made by `channels-api scim-token create`, shown
//! once, kept only as a SHA-256 of their secret part. Each belongs to one tenant, fixed when it
//! is made; several may be live at once (so one can be rotated without a gap), and each can be
//! revoked.
//!
//! A token reads `channels-scim.<id>.<secret>`: the id finds the row (it is not secret, and
//! says which token an admin is looking at), the secret is 32 random bytes. A plain SHA-256
//! suffices for a 256-bit random secret (nothing to guess, so no slow hash is needed), and the
//! comparison takes the same time whatever the bytes.
//!
//! Requests are checked against a copy of the live tokens' ids, tenants and hashes kept in
//! memory ([`LiveTokens`]), so that a refused token costs no database query: the copy is read
//! again when it is 10 s old, or when an id it does not know is presented and it is a second old
//! (a token just made by `scim-token create` works within a second; made-up ids cost at most a
//! query a second). `scim-token revoke` runs in a process of its own, so a revocation takes
//! effect on every running instance within 10 s.

use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::members::{MemberStore, StoreError};

/// The SCIM tokens in the member database, with the live ones' copy ([`LiveTokens`]).
#[derive(Clone)]
pub struct ScimTokens {
    pool: sqlx::AnyPool,
    live: std::sync::Arc<LiveTokens>,
}

channels_protocol::secret_type!(
    /// A SCIM bearer token, as printed once to the admin.
    ScimToken
);

const PREFIX: &str = "channels-scim";

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The token's id (the middle part of the token).
    pub id: String,
    /// The tenant it provisions.
    pub tenant_id: String,
    /// What the admin called it.
    pub label: String,
    /// When it was made.
    pub created_at: i64,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

fn random(bytes: usize) -> Vec<u8> {
    let mut buffer = vec![0u8; bytes];
    getrandom::getrandom(&mut buffer).expect("the operating system's random source");
    buffer
}

fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The live tokens, by id: `(tenant, hash of the secret)`, and when they were read.
struct LiveTokens {
    read: tokio::sync::Mutex<Held>,
    /// Set by a create or a revoke in this process: the copy is read again at the next request.
    stale: std::sync::atomic::AtomicBool,
    /// The oldest a copy may be before it is read again.
    pub(crate) max_age: Duration,
    /// How often the database may be asked at most: for an id the copy does not know, or after
    /// a failed read.
    pub(crate) min_age: Duration,
}

type Snapshot = std::collections::HashMap<String, (String, String)>;

#[derive(Default)]
struct Held {
    /// The last good copy, and when it was read.
    snapshot: Option<(Instant, std::sync::Arc<Snapshot>)>,
    /// The last time the database was asked, and its error if it failed.
    attempt: Option<(Instant, Option<String>)>,
}

impl Default for LiveTokens {
    fn default() -> Self {
        Self {
            read: Default::default(),
            stale: Default::default(),
            max_age: Duration::from_secs(10),
            min_age: Duration::from_secs(1),
        }
    }
}

impl LiveTokens {
    /// Forgets the copy: the next request reads the tokens again.
    fn forget(&self) {
        self.stale.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl ScimTokens {
    /// The tokens of `members`' database, with a copy of the live ones kept for 10 s.
    pub fn new(members: &MemberStore) -> Self {
        Self::with_ages(members, LiveTokens::default())
    }

    /// The tokens, with the copy kept as `live` says (tests shorten and lengthen it).
    fn with_ages(members: &MemberStore, live: LiveTokens) -> Self {
        Self { pool: members.pool.clone(), live: std::sync::Arc::new(live) }
    }

    /// The live tokens' copy, read again from the database if it is older than `max_age`, or
    /// than `min_age` when `unknown_id` is not in it; never more often than every `min_age`. A
    /// failed read keeps the last copy for up to six times `max_age` (a minute by default), so
    /// that a database restart does not stop provisioning, and is not retried by each waiting
    /// request in turn.
    async fn live_tokens(&self, unknown_id: Option<&str>) -> Result<std::sync::Arc<Snapshot>, StoreError> {
        let live = &self.live;
        let mut copy = live.read.lock().await;
        let stale = live.stale.swap(false, std::sync::atomic::Ordering::SeqCst);
        if let Some((at, snapshot)) = copy.snapshot.as_ref().filter(|_| !stale) {
            let knows = unknown_id.is_none_or(|id| snapshot.contains_key(id));
            if at.elapsed() < live.max_age && (knows || at.elapsed() < live.min_age) {
                return Ok(snapshot.clone());
            }
        }
        let usable = |copy: &Held| {
            copy.snapshot.as_ref().filter(|(at, _)| at.elapsed() < live.max_age * 6).map(|(_, s)| s.clone())
        };
        let recent = copy.attempt.as_ref().filter(|(at, _)| !stale && at.elapsed() < live.min_age);
        if let Some((_, error)) = recent {
            return match (usable(&copy), error) {
                (Some(snapshot), _) => Ok(snapshot),
                (None, Some(error)) => Err(StoreError(error.clone())),
                (None, None) => Ok(Default::default()),
            };
        }
        let read = async {
            let rows = sqlx::query("SELECT id, tenant_id, hash FROM scim_tokens WHERE revoked_at IS NULL")
                .fetch_all(&self.pool)
                .await?;
            rows.iter()
                .map(|row| Ok((row.try_get("id")?, (row.try_get("tenant_id")?, row.try_get("hash")?))))
                .collect::<Result<Snapshot, sqlx::Error>>()
        };
        match read.await {
            Ok(snapshot) => {
                let snapshot = std::sync::Arc::new(snapshot);
                copy.snapshot = Some((Instant::now(), snapshot.clone()));
                copy.attempt = Some((Instant::now(), None));
                Ok(snapshot)
            }
            Err(error) => {
                let error = StoreError::from(error);
                copy.attempt = Some((Instant::now(), Some(error.0.clone())));
                match usable(&copy) {
                    Some(snapshot) => {
                        tracing::warn!(%error, "SCIM tokens not read again; using the copy read before");
                        Ok(snapshot)
                    }
                    None => Err(error),
                }
            }
        }
    }

    /// Makes a token for `tenant_id`; the returned token is the only copy of its secret.
    pub async fn create(&self, tenant_id: &str, label: &str, now: i64) -> Result<(TokenRecord, ScimToken), StoreError> {
        let id: String = random(8).iter().map(|b| format!("{b:02x}")).collect();
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random(32));
        sqlx::query("INSERT INTO scim_tokens (id, tenant_id, label, hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&id)
            .bind(tenant_id)
            .bind(label)
            .bind(digest(&secret))
            .bind(now)
            .execute(&self.pool)
            .await?;
        self.live.forget();
        let record = TokenRecord {
            id: id.clone(),
            tenant_id: tenant_id.to_owned(),
            label: label.to_owned(),
            created_at: now,
            revoked_at: None,
        };
        Ok((record, ScimToken::new(format!("{PREFIX}.{id}.{secret}"))))
    }

    /// Every token, newest first.
    pub async fn list(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, label, created_at, revoked_at FROM scim_tokens ORDER BY created_at DESC, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TokenRecord {
                    id: row.try_get("id")?,
                    tenant_id: row.try_get("tenant_id")?,
                    label: row.try_get("label")?,
                    created_at: row.try_get("created_at")?,
                    revoked_at: row.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    /// The tenants that have a live SCIM token: those whose provisioning is on.
    pub async fn provisioned_tenants(&self) -> Result<std::collections::BTreeSet<String>, StoreError> {
        let tokens = self.list().await?;
        Ok(tokens.into_iter().filter(|t| t.revoked_at.is_none()).map(|t| t.tenant_id).collect())
    }

    /// Revokes the token `id`; false when there is no live token of that id.
    pub async fn revoke(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let revoked = sqlx::query("UPDATE scim_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        self.live.forget();
        Ok(revoked.rows_affected() > 0)
    }

    /// The tenant a presented token provisions, if it is a live token of ours.
    pub async fn provisioned_by(&self, presented: &str) -> Result<Option<String>, StoreError> {
        let mut parts = presented.splitn(3, '.');
        let (Some(PREFIX), Some(id), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
            return Ok(None);
        };
        let mut live = self.live_tokens(None).await?;
        if !live.contains_key(id) {
            live = self.live_tokens(Some(id)).await?;
        }
        let Some((tenant, stored)) = live.get(id) else { return Ok(None) };
        let matches = channels_protocol::secret::constant_time_eq(digest(secret).as_bytes(), stored.as_bytes());
        Ok(matches.then(|| tenant.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store(dir: &tempfile::TempDir, max_age: u64, min_age: u64) -> ScimTokens {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("members.db").display());
        let members = MemberStore::connect(&url).await.unwrap();
        let ages = LiveTokens {
            max_age: Duration::from_secs(max_age),
            min_age: Duration::from_secs(min_age),
            ..LiveTokens::default()
        };
        ScimTokens::with_ages(&members, ages)
    }

    /// Issue #30: a refused token costs no database query. Once the live tokens are read, the
    /// database is closed (any query would fail): refusals, and the live token, still answer.
    #[tokio::test]
    async fn refused_tokens_cost_no_query() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir, 3600, 3600).await;
        let (record, token) = store.create("t", "test", 0).await.unwrap();
        assert_eq!(store.provisioned_by(token.secret()).await.unwrap().as_deref(), Some("t"));
        store.pool.close().await;
        let wrong_secret = format!("{PREFIX}.{}.{}", record.id, "A".repeat(43));
        assert_eq!(store.provisioned_by(&wrong_secret).await.unwrap(), None, "a known id, a wrong secret");
        let made_up = format!("{PREFIX}.0011223344556677.{}", "A".repeat(43));
        assert_eq!(store.provisioned_by(&made_up).await.unwrap(), None, "an unknown id");
        assert_eq!(store.provisioned_by("not-a-token").await.unwrap(), None);
        assert_eq!(store.provisioned_by(token.secret()).await.unwrap().as_deref(), Some("t"), "from memory");
        // Asked to read again, the closed database fails: the last copy still answers.
        store.live.forget();
        assert_eq!(store.provisioned_by(token.secret()).await.unwrap().as_deref(), Some("t"), "the last good copy");
        assert_eq!(store.provisioned_by(&wrong_secret).await.unwrap(), None);
    }

    /// A revocation made by another process (`scim-token revoke`) takes effect when the copy is
    /// read again, at its `max_age`; a database that never answered is an error, not an admission.
    #[tokio::test]
    async fn another_processes_revocation_takes_effect_when_the_copy_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let (rereading, keeping) = (store(&dir, 0, 0).await, store(&dir, 3600, 3600).await);
        let cli = store(&dir, 3600, 3600).await;
        let (record, token) = cli.create("t", "test", 0).await.unwrap();
        assert_eq!(rereading.provisioned_by(token.secret()).await.unwrap().as_deref(), Some("t"));
        assert_eq!(keeping.provisioned_by(token.secret()).await.unwrap().as_deref(), Some("t"));
        assert!(cli.revoke(&record.id, 1).await.unwrap());
        assert_eq!(rereading.provisioned_by(token.secret()).await.unwrap(), None, "read again: revoked");
        assert_eq!(keeping.provisioned_by(token.secret()).await.unwrap().as_deref(), Some("t"), "until max_age");
        let never = store(&dir, 3600, 3600).await;
        never.pool.close().await;
        assert!(never.provisioned_by(token.secret()).await.is_err());
    }
}
