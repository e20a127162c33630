//! Members: the people who signed in, keyed by `(tid, oid)` and never by UPN.
//!
//! Auto-provisioning (Ivanti's pattern): the first valid sign-in creates the member with the
//! configured default roles; later sign-ins refresh the display name, UPN and last-seen time.
//! A member an admin pre-created by UPN, in a tenant, is linked to the `(tid, oid)` of the first
//! sign-in of that tenant whose token's `upn` is that UPN, once; from then on the UPN is only
//! shown. Never by `preferred_username`, which the user's sign-in name fills and which is not
//! unique across tenants (guests, personal accounts), and never across tenants. SQLite by default, PostgreSQL by URL:
//! one set of SQL through sqlx's `Any` driver, migrations embedded and run at start.

use serde::Serialize;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use crate::auth::VerifiedClaims;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A member record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// Tenant id (half of the key).
    pub tenant_id: String,
    /// Object id (the other half).
    pub object_id: String,
    /// The UPN, as last seen.
    pub upn: String,
    /// The display name, as last seen.
    pub display_name: String,
    /// Roles in this product (not Entra app roles).
    pub roles: Vec<String>,
    /// Preferences the member may change (`PUT /api/me/profile`).
    pub preferences: serde_json::Value,
    /// When the member was created (seconds since the epoch).
    pub created_at: i64,
    /// The last sign-in.
    pub last_seen_at: i64,
    /// Since when SCIM provisioning has the member disabled (`active: false`); such a member is
    /// refused by the API until provisioning enables them again.
    pub disabled_at: Option<i64>,
}

/// How a sign-in found its member (the API's answer calls it `provisioning`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInOutcome {
    /// The first sign-in: created with the default roles.
    Created,
    /// The first sign-in of a member an admin pre-created by UPN.
    Linked,
    /// A returning member.
    Updated,
}

/// Why a change was refused by what is stored: what was expected and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict(pub String);

/// A database failure; the detail goes to the log, the client gets a generic 503.
#[derive(Debug, thiserror::Error)]
#[error("member store: {0}")]
pub struct StoreError(pub String);

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        Self(error.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        Self(error.to_string())
    }
}

/// The member store.
#[derive(Clone)]
pub struct MemberStore {
    pub(crate) pool: AnyPool,
    /// Members seen recently, with when the database last confirmed them: a returning member
    /// whose name and UPN are unchanged is answered from here, and last-seen is written at most
    /// every [`LAST_SEEN_RESOLUTION`] seconds, so API calls do not each cost a database write.
    pub(crate) recent: moka::sync::Cache<(String, String), (Member, i64)>,
}

/// How stale a member's recorded last-seen time may be, in seconds.
pub const LAST_SEEN_RESOLUTION: i64 = 5 * 60;

/// How long a remembered member is trusted before the database is read again, in seconds: a
/// SCIM disable received by another instance takes effect here within this time (at once on the
/// instance that received it).
pub const RECHECK_SECONDS: i64 = 10;

pub(crate) const COLUMNS: &str =
    "tenant_id, object_id, upn, display_name, roles, preferences, created_at, last_seen_at, disabled_at";

impl MemberStore {
    /// Connects to `url` (`sqlite://file.db?mode=rwc` or `postgres://…`) and migrates.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite");
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 1 } else { 8 })
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if sqlite {
                        // With WAL, NORMAL never corrupts; a power cut may lose the last commits.
                        sqlx::Executor::execute(&mut *connection, "PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(url)
            .await?;
        if sqlite {
            // One writer at a time either way; WAL lets readiness probes read meanwhile.
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        MIGRATOR.run(&pool).await?;
        let recent = moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(std::time::Duration::from_secs(LAST_SEEN_RESOLUTION as u64))
            .build();
        Ok(Self { pool, recent })
    }

    /// Closes the connections; every later call fails (at shutdown, and in tests of a store that
    /// cannot answer).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Finds, links or creates the member for a verified sign-in, at time `now`.
    pub async fn sign_in(
        &self,
        claims: &VerifiedClaims,
        default_roles: &[String],
        now: i64,
    ) -> Result<(Member, SignInOutcome), StoreError> {
        let _timed = Timed::start("sign_in");
        let claims = claims.claims();
        let upn = claims.display_upn().unwrap_or_default().to_owned();
        // Linking a pre-created member takes the token's `upn` claim, nothing else.
        let link_key = claims.upn.as_deref().map(str::to_lowercase);
        let name = claims.name.clone().unwrap_or_default();
        let key = (claims.tid.clone(), claims.oid.clone());
        if let Some((member, checked)) = self.recent.get(&key) {
            if member.upn == upn && member.display_name == name && now - member.last_seen_at < LAST_SEEN_RESOLUTION {
                if now - checked < RECHECK_SECONDS {
                    return Ok((member, SignInOutcome::Updated));
                }
                // A read, not a write: has provisioning disabled or enabled the member meanwhile?
                let row = sqlx::query("SELECT disabled_at FROM members WHERE tenant_id = $1 AND object_id = $2")
                    .bind(&claims.tid)
                    .bind(&claims.oid)
                    .fetch_optional(&self.pool)
                    .await?;
                let disabled_at = row.map(|row| row.try_get::<Option<i64>, _>("disabled_at")).transpose()?;
                if disabled_at == Some(member.disabled_at) {
                    self.recent.insert(key, (member.clone(), now));
                    return Ok((member, SignInOutcome::Updated));
                }
            }
        }
        let mut tx = self.pool.begin().await?;
        // A member provisioning disabled is refused: their sign-in changes nothing stored.
        let touch = format!(
            "UPDATE members SET upn = CASE WHEN disabled_at IS NULL THEN $3 ELSE upn END, \
             upn_key = CASE WHEN disabled_at IS NULL THEN $4 ELSE upn_key END, \
             display_name = CASE WHEN disabled_at IS NULL THEN $5 ELSE display_name END, \
             last_seen_at = CASE WHEN disabled_at IS NULL THEN $6 ELSE last_seen_at END \
             WHERE tenant_id = $1 AND object_id = $2 RETURNING {COLUMNS}"
        );
        let touch = sqlx::query(&touch)
            .bind(&claims.tid)
            .bind(&claims.oid)
            .bind(&upn)
            .bind(upn.to_lowercase())
            .bind(&name)
            .bind(now);
        let outcome = if let Some(row) = touch.fetch_optional(&mut *tx).await? {
            (member(&row)?, SignInOutcome::Updated)
        } else if let Some(row) = match &link_key {
            Some(link_key) => {
                sqlx::query(&format!(
                    "UPDATE members SET object_id = $2, upn = $3, display_name = $4, last_seen_at = $5 \
                     WHERE object_id IS NULL AND tenant_id = $1 AND upn_key = $6 RETURNING {COLUMNS}"
                ))
                .bind(&claims.tid)
                .bind(&claims.oid)
                .bind(&upn)
                .bind(&name)
                .bind(now)
                .bind(link_key)
                .fetch_optional(&mut *tx)
                .await?
            }
            None => None,
        } {
            (member(&row)?, SignInOutcome::Linked)
        } else {
            let roles = serde_json::to_string(default_roles).expect("roles serialise");
            // Two first sign-ins at once: one inserts; the other finds the conflict, waits for
            // that insert to commit, and updates the member it created.
            let inserted = sqlx::query(&format!(
                "INSERT INTO members ({COLUMNS}, upn_key) VALUES ($1, $2, $3, $4, $5, '{{}}', $6, $6, NULL, $7) \
                 ON CONFLICT (tenant_id, object_id) DO NOTHING RETURNING {COLUMNS}"
            ))
            .bind(&claims.tid)
            .bind(&claims.oid)
            .bind(&upn)
            .bind(&name)
            .bind(roles)
            .bind(now)
            .bind(upn.to_lowercase())
            .fetch_optional(&mut *tx)
            .await?;
            match inserted {
                Some(row) => (member(&row)?, SignInOutcome::Created),
                None => {
                    let row = sqlx::query(&format!(
                        "UPDATE members SET last_seen_at = $3 WHERE tenant_id = $1 AND object_id = $2 RETURNING {COLUMNS}"
                    ))
                    .bind(&claims.tid)
                    .bind(&claims.oid)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    (member(&row)?, SignInOutcome::Updated)
                }
            }
        };
        tx.commit().await?;
        self.recent.insert(key, (outcome.0.clone(), now));
        Ok(outcome)
    }

    /// An admin pre-creates a member of `tenant_id` by UPN, with roles; the first sign-in of that
    /// tenant with that `upn`, or SCIM's first provisioning of that `userName`, links it. A member
    /// of that tenant who has that UPN already is a conflict.
    pub async fn pre_create(
        &self,
        tenant_id: &str,
        upn: &str,
        display_name: &str,
        roles: &[String],
        now: i64,
    ) -> Result<Result<Member, Conflict>, StoreError> {
        let tenant_id = tenant_id.to_ascii_lowercase();
        let mut tx = self.pool.begin().await?;
        let existing = sqlx::query("SELECT object_id FROM members WHERE tenant_id = $1 AND upn_key = $2")
            .bind(&tenant_id)
            .bind(upn.to_lowercase())
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = existing {
            let found = match row.try_get::<Option<String>, _>("object_id")? {
                Some(object_id) => format!("the member {object_id}, who has signed in or was provisioned"),
                None => "a pre-created member".to_owned(),
            };
            return Ok(Err(Conflict(format!(
                "expected a UPN no member of tenant {tenant_id} has (found {upn}: {found})"
            ))));
        }
        let inserted = sqlx::query(&format!(
            "INSERT INTO members (tenant_id, upn, upn_key, display_name, roles, preferences, created_at) \
             VALUES ($1, $2, $3, $4, $5, '{{}}', $6) RETURNING {COLUMNS}"
        ))
        .bind(&tenant_id)
        .bind(upn)
        .bind(upn.to_lowercase())
        .bind(display_name)
        .bind(serde_json::to_string(roles).expect("roles serialise"))
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        match inserted {
            Ok(row) => {
                tx.commit().await?;
                Ok(Ok(member(&row)?))
            }
            // The same UPN pre-created at the same moment by another admin.
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(Err(Conflict(format!(
                "expected a UPN no member of tenant {tenant_id} has (found {upn}: pre-created just now)"
            )))),
            Err(error) => Err(error.into()),
        }
    }

    /// The members of `tenant` (every tenant's with `None`), pre-created ones included, oldest
    /// first.
    pub async fn list(&self, tenant: Option<&str>) -> Result<Vec<Member>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM members WHERE $1 IS NULL OR tenant_id = $1 ORDER BY tenant_id, created_at, upn_key"
        ))
        .bind(tenant.map(str::to_ascii_lowercase))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(member).collect()
    }

    /// The one member of `tenant` that `who` names, by object id (a GUID) or by UPN, for an
    /// admin to change: none, several (a UPN two members share), or one provisioned by SCIM
    /// (whose state Entra's provisioning owns) is a refusal naming what was found.
    async fn administered(&self, tenant: &str, who: &str) -> Result<Result<Member, Conflict>, StoreError> {
        let (tenant, key) = (tenant.to_ascii_lowercase(), who.trim().to_lowercase());
        let column = if channels_protocol::claims::is_guid(&key) { "object_id" } else { "upn_key" };
        let rows = sqlx::query(&format!("SELECT {COLUMNS}, scim FROM members WHERE tenant_id = $1 AND {column} = $2"))
            .bind(&tenant)
            .bind(&key)
            .fetch_all(&self.pool)
            .await?;
        let found = match rows.as_slice() {
            [] => {
                return Ok(Err(Conflict(format!(
                    "expected a member of tenant {tenant} with the UPN or object id {who} (found none; `members list` \
                     shows them)"
                ))))
            }
            [row] => row,
            several => {
                let ids = several
                    .iter()
                    .map(|row| Ok(row.try_get::<Option<String>, _>("object_id")?.unwrap_or_else(|| "pending".into())))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?;
                return Ok(Err(Conflict(format!(
                    "expected one member named {who} (found {}: {}): name one by its object id",
                    ids.len(),
                    ids.join(", ")
                ))));
            }
        };
        if found.try_get::<Option<String>, _>("scim")?.is_some() {
            return Ok(Err(Conflict(format!(
                "expected a member an admin manages here (found {who} provisioned by Entra, whose provisioning \
                 decides whether they are active and whether they exist: unassign or assign them in Enterprise \
                 applications → Channels → Users and groups)"
            ))));
        }
        Ok(Ok(member(found)?))
    }

    /// Disables (`Some(now)`) or enables (`None`) the member of `tenant` named by `who` (UPN or
    /// object id), as SCIM's `active` does for provisioned ones: a disabled member is refused by
    /// the API.
    pub async fn set_disabled(
        &self,
        tenant: &str,
        who: &str,
        disabled_at: Option<i64>,
    ) -> Result<Result<Member, Conflict>, StoreError> {
        let found = match self.administered(tenant, who).await? {
            Ok(found) => found,
            Err(conflict) => return Ok(Err(conflict)),
        };
        let row = sqlx::query(&format!(
            "UPDATE members SET disabled_at = CASE WHEN $4 IS NULL THEN NULL ELSE COALESCE(disabled_at, $4) END \
             WHERE tenant_id = $1 AND upn_key = $2 AND (object_id = $3 OR (object_id IS NULL AND $3 = '')) \
             RETURNING {COLUMNS}"
        ))
        .bind(&found.tenant_id)
        .bind(found.upn.to_lowercase())
        .bind(&found.object_id)
        .bind(disabled_at)
        .fetch_one(&self.pool)
        .await?;
        self.recent.invalidate(&(found.tenant_id.clone(), found.object_id.clone()));
        Ok(Ok(member(&row)?))
    }

    /// Removes the member of `tenant` named by `who` (UPN or object id), with their provisioned
    /// memberships. Their next sign-in creates them again, with the default roles.
    pub async fn remove(&self, tenant: &str, who: &str) -> Result<Result<Member, Conflict>, StoreError> {
        let found = match self.administered(tenant, who).await? {
            Ok(found) => found,
            Err(conflict) => return Ok(Err(conflict)),
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM members WHERE tenant_id = $1 AND upn_key = $2 AND (object_id = $3 OR (object_id IS NULL AND $3 = ''))",
        )
        .bind(&found.tenant_id)
        .bind(found.upn.to_lowercase())
        .bind(&found.object_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM scim_memberships WHERE tenant_id = $1 AND object_id = $2")
            .bind(&found.tenant_id)
            .bind(&found.object_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.recent.invalidate(&(found.tenant_id.clone(), found.object_id.clone()));
        Ok(Ok(found))
    }

    /// Replaces the preferences of the member `(tid, oid)`.
    pub async fn set_preferences(
        &self,
        tenant_id: &str,
        object_id: &str,
        preferences: &serde_json::Value,
    ) -> Result<Option<Member>, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE members SET preferences = $3 WHERE tenant_id = $1 AND object_id = $2 RETURNING {COLUMNS}"
        ))
        .bind(tenant_id)
        .bind(object_id)
        .bind(preferences.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let updated = row.as_ref().map(member).transpose()?;
        if updated.is_some() {
            self.recent.invalidate(&(tenant_id.to_owned(), object_id.to_owned()));
        }
        Ok(updated)
    }

    /// Every member, oldest first.
    pub async fn all(&self) -> Result<Vec<Member>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM members WHERE object_id IS NOT NULL ORDER BY created_at, upn_key"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(member).collect()
    }
}

pub(crate) fn member(row: &AnyRow) -> Result<Member, StoreError> {
    let json = |column: &str| -> Result<serde_json::Value, StoreError> {
        let text: String = row.try_get(column)?;
        serde_json::from_str(&text).map_err(|e| StoreError(format!("{column}: {e}")))
    };
    Ok(Member {
        tenant_id: row.try_get::<Option<String>, _>("tenant_id")?.unwrap_or_default(),
        object_id: row.try_get::<Option<String>, _>("object_id")?.unwrap_or_default(),
        upn: row.try_get("upn")?,
        display_name: row.try_get("display_name")?,
        roles: serde_json::from_value(json("roles")?).map_err(|e| StoreError(format!("roles: {e}")))?,
        preferences: json("preferences")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get::<Option<i64>, _>("last_seen_at")?.unwrap_or_default(),
        disabled_at: row.try_get("disabled_at")?,
    })
}

/// Records how long a member-store operation took, in the metrics, when dropped (on every
/// way out, errors included).
pub(crate) struct Timed {
    operation: &'static str,
    started: std::time::Instant,
}

impl Timed {
    pub(crate) fn start(operation: &'static str) -> Self {
        Self { operation, started: std::time::Instant::now() }
    }
}

impl Drop for Timed {
    fn drop(&mut self) {
        metrics::histogram!("channels_member_store_seconds", "operation" => self.operation)
            .record(self.started.elapsed());
    }
}
