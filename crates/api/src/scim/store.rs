//! What SCIM provisioning stores, in the member database: users are members (keyed by
//! `(tenant_id, object_id)`, the object id being both Entra's `externalId` and the SCIM `id`),
//! groups and their memberships have tables of their own. Every query names the tenant of the
//! caller's SCIM token; nothing crosses tenants.

use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

use channels_protocol::claims::is_guid;

use super::membership::MembershipChange;
use crate::channels::ProvisionedGroup;
use crate::members::Conflict;
use crate::members::{member, Member, MemberStore, StoreError, Timed, COLUMNS};

/// Memberships added by one statement (two binds besides: the tenant and the group).
const MEMBERSHIP_BATCH: usize = 500;

/// A condition of a SCIM filter on users; the store decides the SQL (columns, case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserCriterion {
    /// The `userName` provisioned, or for a member who only signed in, their UPN
    /// (case-insensitive).
    UserName(String),
    /// The object id (`id` and `externalId`; case-insensitive).
    ObjectId(String),
    /// The name shown, exactly.
    DisplayName(String),
    /// The user's `active` flag.
    Active(bool),
}

/// A condition of a SCIM filter on groups; the store decides the SQL (columns, case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupCriterion {
    /// The `displayName` (case-insensitive).
    DisplayName(String),
    /// The `externalId`: an object id (case-insensitive), or other text, exactly.
    ExternalId(String),
    /// The SCIM id (made here).
    Id(String),
    /// The group has this member (by object id; case-insensitive).
    HasMember(String),
}

/// One SQL condition with its bind, numbered `$n`.
trait Condition {
    fn sql(&self, n: usize) -> (String, Option<String>);
}

impl Condition for UserCriterion {
    fn sql(&self, n: usize) -> (String, Option<String>) {
        match self {
            // Two index lookups: written as one `OR`, SQLite scanned the tenant's every member
            // for each of the lookups Entra makes per user (quadratic over a provisioning cycle).
            Self::UserName(name) => (
                format!(
                    " AND object_id IN (SELECT object_id FROM members WHERE tenant_id = $1 AND scim_user_key = ${n} \
                     UNION ALL SELECT object_id FROM members WHERE tenant_id = $1 AND scim_user_key IS NULL \
                     AND upn_key = ${n})"
                ),
                Some(name.to_lowercase()),
            ),
            Self::ObjectId(id) => (format!(" AND object_id = ${n}"), Some(id.to_lowercase())),
            Self::DisplayName(name) => (format!(" AND display_name = ${n}"), Some(name.clone())),
            Self::Active(true) => (" AND disabled_at IS NULL".to_owned(), None),
            Self::Active(false) => (" AND disabled_at IS NOT NULL".to_owned(), None),
        }
    }
}

impl Condition for GroupCriterion {
    fn sql(&self, n: usize) -> (String, Option<String>) {
        match self {
            Self::DisplayName(name) => (format!(" AND display_key = ${n}"), Some(name.to_lowercase())),
            // Object ids are stored lower-case (`put_group`).
            Self::ExternalId(id) if is_guid(id) => (format!(" AND external_id = ${n}"), Some(id.to_ascii_lowercase())),
            Self::ExternalId(id) => (format!(" AND external_id = ${n}"), Some(id.clone())),
            Self::Id(id) => (format!(" AND id = ${n}"), Some(id.clone())),
            Self::HasMember(object_id) => (
                format!(
                    " AND EXISTS (SELECT 1 FROM scim_memberships m WHERE m.tenant_id = scim_groups.tenant_id \
                     AND m.group_id = scim_groups.id AND m.object_id = ${n})"
                ),
                Some(object_id.to_lowercase()),
            ),
        }
    }
}

/// The conditions of `criteria`, after `$1` (the tenant), and their binds.
fn where_clause(criteria: &[impl Condition]) -> (String, Vec<String>) {
    let mut sql = String::new();
    let mut binds = Vec::new();
    for criterion in criteria {
        let (condition, bind) = criterion.sql(2 + binds.len());
        sql += &condition;
        binds.extend(bind);
    }
    (sql, binds)
}

/// A provisioned (or signed-in) user: the member and the SCIM resource as last sent.
#[derive(Debug, Clone)]
pub struct ScimUser {
    /// The member.
    pub member: Member,
    /// The resource as Entra last sent it (empty for a member who only signed in).
    pub resource: Map<String, Value>,
    /// When provisioning last changed it.
    pub updated_at: Option<i64>,
}

/// A provisioned group.
#[derive(Debug, Clone)]
pub struct ScimGroup {
    /// The SCIM id (made here).
    pub id: String,
    /// The resource as sent, without members.
    pub resource: Map<String, Value>,
    /// Member object ids, when asked for.
    pub members: Option<Vec<String>>,
    /// Created (seconds since the epoch).
    pub created_at: i64,
    /// Last changed.
    pub updated_at: i64,
}

/// The columns a user write sets.
pub struct UserColumns<'a> {
    /// The object id (`externalId`, lower-case).
    pub object_id: &'a str,
    /// `userName`.
    pub user_name: &'a str,
    /// The name shown.
    pub display_name: &'a str,
    /// `active`.
    pub active: bool,
}

/// `FROM members WHERE …` for the users of `$1` matching `criteria`, and its binds: a pre-created
/// member (no object id yet) is no SCIM user.
fn users_where(criteria: &[UserCriterion]) -> (String, Vec<String>) {
    let (filter, binds) = where_clause(criteria);
    (format!("FROM members WHERE tenant_id = $1 AND object_id IS NOT NULL{filter}"), binds)
}

/// `sql` with a provisioned user's binds, in the order the statements that take over a member
/// number them: $1 the tenant, $2 the object id, $3 the userName, $4 it lower-cased, $5 the display
/// name, $6 disabled since, $7 the resource as sent, $8 now.
fn user_write<'q>(
    sql: &'q str,
    tenant: &'q str,
    columns: &UserColumns<'q>,
    disabled_at: Option<i64>,
    scim: &'q str,
    now: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(sql)
        .bind(tenant)
        .bind(columns.object_id)
        .bind(columns.user_name)
        .bind(columns.user_name.to_lowercase())
        .bind(columns.display_name)
        .bind(disabled_at)
        .bind(scim)
        .bind(now)
}

/// Another provisioned user of `tenant` with the userName of `columns`, as the conflict to answer.
async fn user_name_taken<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    tenant: &str,
    columns: &UserColumns<'_>,
) -> Result<Option<Conflict>, StoreError> {
    let taken =
        sqlx::query("SELECT object_id FROM members WHERE tenant_id = $1 AND scim_user_key = $2 AND object_id <> $3")
            .bind(tenant)
            .bind(columns.user_name.to_lowercase())
            .bind(columns.object_id)
            .fetch_optional(executor)
            .await?;
    let Some(row) = taken else { return Ok(None) };
    let other: String = row.try_get("object_id")?;
    Ok(Some(Conflict(format!(
        "expected a userName no other provisioned user has (found `{}` in use by the user {other})",
        columns.user_name
    ))))
}

fn json_object(text: Option<String>) -> Result<Map<String, Value>, StoreError> {
    match text {
        None => Ok(Map::new()),
        Some(text) => serde_json::from_str(&text).map_err(|e| StoreError(format!("stored SCIM resource: {e}"))),
    }
}

fn scim_user(row: &AnyRow) -> Result<ScimUser, StoreError> {
    Ok(ScimUser {
        member: member(row)?,
        resource: json_object(row.try_get("scim")?)?,
        updated_at: row.try_get("scim_updated_at")?,
    })
}

fn scim_group(row: &AnyRow) -> Result<ScimGroup, StoreError> {
    Ok(ScimGroup {
        id: row.try_get("id")?,
        resource: json_object(Some(row.try_get("resource")?))?,
        members: None,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// What Entra's provisioning wrote: users (members with their SCIM resource), groups and
/// memberships, in the member database.
#[derive(Clone)]
pub struct ScimStore {
    members: MemberStore,
}

impl ScimStore {
    /// The provisioned users and groups of `members`' database.
    pub fn new(members: MemberStore) -> Self {
        Self { members }
    }

    /// Users of `tenant` matching every criterion: how many, and the page asked for (`offset`
    /// from 0), oldest first.
    pub async fn users(
        &self,
        tenant: &str,
        criteria: &[UserCriterion],
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<ScimUser>), StoreError> {
        let (base, binds) = users_where(criteria);
        let select = format!("SELECT {COLUMNS}, scim, scim_updated_at");
        let (total, rows) = self.page(tenant, &select, &base, &binds, "created_at, object_id", offset, limit).await?;
        Ok((total, rows.iter().map(scim_user).collect::<Result<_, _>>()?))
    }

    /// How many rows `base` (`FROM … WHERE tenant_id = $1 …`) has, and one page of them.
    #[allow(clippy::too_many_arguments)]
    async fn page(
        &self,
        tenant: &str,
        select: &str,
        base: &str,
        binds: &[String],
        order: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<AnyRow>), StoreError> {
        let count = format!("SELECT COUNT(*) AS n {base}");
        let page = format!("{select} {base} ORDER BY {order} LIMIT {limit} OFFSET {offset}");
        let (mut count, mut page) = (sqlx::query(&count).bind(tenant), sqlx::query(&page).bind(tenant));
        for bind in binds {
            count = count.bind(bind);
            page = page.bind(bind);
        }
        let total: i64 = count.fetch_one(&self.members.pool).await?.try_get("n")?;
        Ok((total, page.fetch_all(&self.members.pool).await?))
    }

    /// The user `object_id` of `tenant`.
    pub async fn user(&self, tenant: &str, object_id: &str) -> Result<Option<ScimUser>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, scim, scim_updated_at FROM members WHERE tenant_id = $1 AND object_id = $2"
        ))
        .bind(tenant)
        .bind(object_id)
        .fetch_optional(&self.members.pool)
        .await?;
        row.as_ref().map(scim_user).transpose()
    }

    /// Creates the user, or takes over the member of that object id who signed in before
    /// provisioning began. A user provisioned already, or another provisioned user with the same
    /// `userName`, is a conflict.
    pub async fn create_user(
        &self,
        tenant: &str,
        columns: &UserColumns<'_>,
        resource: &Map<String, Value>,
        default_roles: &[String],
        now: i64,
    ) -> Result<Result<ScimUser, Conflict>, StoreError> {
        let mut tx = self.members.pool.begin().await?;
        if let Some(conflict) = user_name_taken(&mut *tx, tenant, columns).await? {
            return Ok(Err(conflict));
        }
        let disabled_at = (!columns.active).then_some(now);
        let scim = Value::Object(resource.clone()).to_string();
        // A member an admin pre-created by this userName, in this tenant, becomes this user, with
        // the roles the admin gave: unless the user is a member already (signed in before).
        let link = format!(
            "UPDATE members SET object_id = $2, upn = $3, display_name = $5, disabled_at = COALESCE(disabled_at, $6), scim = $7, \
             scim_updated_at = $8, scim_user_key = $4 WHERE tenant_id = $1 AND object_id IS NULL AND upn_key = $4 \
             AND NOT EXISTS (SELECT 1 FROM members m WHERE m.tenant_id = $1 AND m.object_id = $2) \
             RETURNING {COLUMNS}, scim, scim_updated_at"
        );
        let linked = user_write(&link, tenant, columns, disabled_at, &scim, now).fetch_optional(&mut *tx).await?;
        if let Some(row) = linked {
            let created = scim_user(&row)?;
            tx.commit().await?;
            self.forget(tenant, columns.object_id);
            return Ok(Ok(created));
        }
        let roles = serde_json::to_string(default_roles).expect("roles serialise");
        let inserted = sqlx::query(&format!(
            "INSERT INTO members ({COLUMNS}, upn_key, scim, scim_updated_at, scim_user_key) \
             VALUES ($1, $2, $3, $4, $5, '{{}}', $6, NULL, $7, $8, $9, $6, $8) \
             ON CONFLICT (tenant_id, object_id) DO NOTHING RETURNING {COLUMNS}, scim, scim_updated_at"
        ))
        .bind(tenant)
        .bind(columns.object_id)
        .bind(columns.user_name)
        .bind(columns.display_name)
        .bind(roles)
        .bind(now)
        .bind(disabled_at)
        .bind(columns.user_name.to_lowercase())
        .bind(&scim)
        .fetch_optional(&mut *tx)
        .await?;
        let created = match inserted {
            Some(row) => scim_user(&row)?,
            None => {
                // The person signed in before provisioning reached them: the same member.
                let adopt = format!(
                    "UPDATE members SET upn = $3, upn_key = $4, display_name = $5, disabled_at = $6, scim = $7, \
                     scim_updated_at = $8, scim_user_key = $4 WHERE tenant_id = $1 AND object_id = $2 AND scim IS NULL \
                     RETURNING {COLUMNS}, scim, scim_updated_at"
                );
                let adopted =
                    user_write(&adopt, tenant, columns, disabled_at, &scim, now).fetch_optional(&mut *tx).await?;
                match adopted {
                    Some(row) => scim_user(&row)?,
                    None => {
                        return Ok(Err(Conflict(format!(
                            "expected a user not provisioned yet (found the user {} provisioned already: \
                             Entra should have found it by its userName or externalId)",
                            columns.object_id
                        ))))
                    }
                }
            }
        };
        tx.commit().await?;
        self.forget(tenant, columns.object_id);
        Ok(Ok(created))
    }

    /// Stores a changed user (after a PATCH or PUT); `None` when it is gone. A disabled user
    /// keeps the time of their first disable; preferences and roles are never touched.
    pub async fn update_user(
        &self,
        tenant: &str,
        columns: &UserColumns<'_>,
        resource: &Map<String, Value>,
        now: i64,
    ) -> Result<Result<Option<ScimUser>, Conflict>, StoreError> {
        if let Some(conflict) = user_name_taken(&self.members.pool, tenant, columns).await? {
            return Ok(Err(conflict));
        }
        let active = if columns.active { "NULL" } else { "COALESCE(disabled_at, $6)" };
        let row = sqlx::query(&format!(
            "UPDATE members SET upn = $3, upn_key = $4, display_name = $5, disabled_at = {active}, scim = $7, \
             scim_updated_at = $6, scim_user_key = $4 WHERE tenant_id = $1 AND object_id = $2 RETURNING {COLUMNS}, scim, scim_updated_at"
        ))
        .bind(tenant)
        .bind(columns.object_id)
        .bind(columns.user_name)
        .bind(columns.user_name.to_lowercase())
        .bind(columns.display_name)
        .bind(now)
        .bind(Value::Object(resource.clone()).to_string())
        .fetch_optional(&self.members.pool)
        .await?;
        self.forget(tenant, columns.object_id);
        Ok(Ok(row.as_ref().map(scim_user).transpose()?))
    }

    /// Deletes the user and their memberships (Entra's hard delete, 30 days after a soft one).
    pub async fn delete_user(&self, tenant: &str, object_id: &str) -> Result<bool, StoreError> {
        let deleted = self.delete_with_memberships(tenant, "members", "object_id", "object_id", object_id).await?;
        self.forget(tenant, object_id);
        Ok(deleted)
    }

    /// Deletes the row of `table` whose `key` is `id` in `tenant`, and the memberships whose
    /// `membership_key` names it, in one transaction; false when there was no such row.
    async fn delete_with_memberships(
        &self,
        tenant: &str,
        table: &'static str,
        key: &'static str,
        membership_key: &'static str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.members.pool.begin().await?;
        sqlx::query(&format!("DELETE FROM scim_memberships WHERE tenant_id = $1 AND {membership_key} = $2"))
            .bind(tenant)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1 AND {key} = $2"))
            .bind(tenant)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted > 0)
    }

    /// Groups of `tenant` matching every criterion: how many, and the page asked for.
    pub async fn groups(
        &self,
        tenant: &str,
        criteria: &[GroupCriterion],
        offset: i64,
        limit: i64,
        with_members: bool,
    ) -> Result<(i64, Vec<ScimGroup>), StoreError> {
        let (filter, binds) = where_clause(criteria);
        let base = format!("FROM scim_groups WHERE tenant_id = $1{filter}");
        let (total, rows) = self.page(tenant, "SELECT *", &base, &binds, "created_at, id", offset, limit).await?;
        let mut groups = rows.iter().map(scim_group).collect::<Result<Vec<_>, _>>()?;
        if with_members {
            for group in &mut groups {
                group.members = Some(self.members_of(tenant, &group.id).await?);
            }
        }
        Ok((total, groups))
    }

    /// The group `id` of `tenant`, with its members if asked.
    pub async fn group(&self, tenant: &str, id: &str, with_members: bool) -> Result<Option<ScimGroup>, StoreError> {
        let row = sqlx::query("SELECT * FROM scim_groups WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(&self.members.pool)
            .await?;
        let Some(mut group) = row.as_ref().map(scim_group).transpose()? else { return Ok(None) };
        if with_members {
            group.members = Some(self.members_of(tenant, id).await?);
        }
        Ok(Some(group))
    }

    async fn members_of(&self, tenant: &str, group: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT object_id FROM scim_memberships WHERE tenant_id = $1 AND group_id = $2 ORDER BY object_id",
        )
        .bind(tenant)
        .bind(group)
        .fetch_all(&self.members.pool)
        .await?;
        rows.iter().map(|row| row.try_get("object_id").map_err(StoreError::from)).collect()
    }

    /// Stores a group: created when `id` is new, replaced otherwise, with `change` applied to its
    /// memberships, in one transaction. A `displayName` another group of the tenant has is a
    /// conflict.
    pub async fn put_group(
        &self,
        tenant: &str,
        group: &ScimGroup,
        display_name: &str,
        external_id: Option<&str>,
        change: &MembershipChange,
    ) -> Result<Result<(), Conflict>, StoreError> {
        let _timed = Timed::start("scim_put_group");
        let mut tx = self.members.pool.begin().await?;
        let display_key = display_name.to_lowercase();
        // A displayName and an externalId are each one group's within a tenant.
        let unique = [
            ("display_key", "a displayName", Some(display_key.as_str()), display_name),
            ("external_id", "an externalId", external_id, external_id.unwrap_or_default()),
        ];
        for (column, attribute, key, shown) in unique {
            let Some(key) = key else { continue };
            let sql = format!("SELECT id FROM scim_groups WHERE tenant_id = $1 AND {column} = $2 AND id <> $3");
            let clash = sqlx::query(&sql).bind(tenant).bind(key).bind(&group.id).fetch_optional(&mut *tx).await?;
            if let Some(row) = clash {
                let other: String = row.try_get("id")?;
                return Ok(Err(Conflict(format!(
                    "expected {attribute} no other group has (found `{shown}` in use by the group {other})"
                ))));
            }
        }
        // Members live in their own table; the resource never holds them.
        let mut resource = group.resource.clone();
        resource.remove("members");
        let resource = Value::Object(resource).to_string();
        sqlx::query(
            "INSERT INTO scim_groups (tenant_id, id, external_id, display_name, display_key, resource, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, id) DO UPDATE SET \
             external_id = $3, display_name = $4, display_key = $5, resource = $6, updated_at = $8",
        )
        .bind(tenant)
        .bind(&group.id)
        .bind(external_id)
        .bind(display_name)
        .bind(&display_key)
        .bind(resource)
        .bind(group.created_at)
        .bind(group.updated_at)
        .execute(&mut *tx)
        .await?;
        if change.clear {
            sqlx::query("DELETE FROM scim_memberships WHERE tenant_id = $1 AND group_id = $2")
                .bind(tenant)
                .bind(&group.id)
                .execute(&mut *tx)
                .await?;
        }
        // Removals one by one, each by the whole primary key: a batch as `object_id IN (…)` was
        // planned by PostgreSQL, before its statistics caught up with a bulk load, as a scan of
        // the group's members filtered by the list (5 s for 5 000 removals from a 100 000-member
        // group: bench/results/scim.md). Additions in batches of MEMBERSHIP_BATCH.
        for object_id in &change.remove {
            sqlx::query("DELETE FROM scim_memberships WHERE tenant_id = $1 AND group_id = $2 AND object_id = $3")
                .bind(tenant)
                .bind(&group.id)
                .bind(object_id)
                .execute(&mut *tx)
                .await?;
        }
        for batch in change.add.chunks(MEMBERSHIP_BATCH) {
            let rows = (0..batch.len()).map(|i| format!("($1, $2, ${})", i + 3)).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "INSERT INTO scim_memberships (tenant_id, group_id, object_id) VALUES {rows} \
                 ON CONFLICT (tenant_id, group_id, object_id) DO NOTHING"
            );
            let mut query = sqlx::query(&sql).bind(tenant).bind(&group.id);
            for id in batch {
                query = query.bind(id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Deletes the group and its memberships.
    pub async fn delete_group(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        self.delete_with_memberships(tenant, "scim_groups", "id", "group_id", id).await
    }

    /// The provisioned groups of the member `(tenant, object_id)`, by display name.
    pub async fn provisioned_groups(&self, tenant: &str, object_id: &str) -> Result<Vec<ProvisionedGroup>, StoreError> {
        let rows = sqlx::query(
            "SELECT g.display_name, g.external_id FROM scim_memberships m JOIN scim_groups g \
             ON g.tenant_id = m.tenant_id AND g.id = m.group_id \
             WHERE m.tenant_id = $1 AND m.object_id = $2 ORDER BY g.display_key",
        )
        .bind(tenant)
        .bind(object_id)
        .fetch_all(&self.members.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ProvisionedGroup {
                    display_name: row.try_get("display_name")?,
                    external_id: row.try_get("external_id")?,
                })
            })
            .collect()
    }

    /// The member of `tenant` whose UPN is `upn` (case-insensitive), if one has an object id.
    pub async fn by_upn(&self, tenant: &str, upn: &str) -> Result<Option<Member>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM members WHERE tenant_id = $1 AND upn_key = $2 AND object_id IS NOT NULL"
        ))
        .bind(tenant)
        .bind(upn.to_lowercase())
        .fetch_optional(&self.members.pool)
        .await?;
        row.as_ref().map(member).transpose()
    }

    /// Forgets the remembered member, so that this instance's next request reads the change.
    fn forget(&self, tenant: &str, object_id: &str) {
        self.members.recent.invalidate(&(tenant.to_owned(), object_id.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entra looks every user up by `userName` in each cycle: on SQLite, that lookup is two index
    /// searches and a search by object id, never a scan of the tenant's members (which made a
    /// 100 000-user cycle quadratic: bench/results/scim.md).
    #[tokio::test]
    async fn the_user_name_lookup_searches_indexes_and_scans_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("members.db").display());
        let store = ScimStore::new(MemberStore::connect(&url).await.unwrap());
        // A tenant of many members, and the statistics a deployed database gathers.
        for n in 0..200 {
            let columns = UserColumns {
                object_id: &format!("{n:08x}-0000-4000-8000-000000000000"),
                user_name: &format!("user{n}@contoso.example"),
                display_name: "User",
                active: true,
            };
            store.create_user("t", &columns, &Map::new(), &[], 0).await.unwrap().unwrap();
        }
        sqlx::query("ANALYZE").execute(&store.members.pool).await.unwrap();
        let (base, binds) = users_where(&[UserCriterion::UserName("alice@contoso.example".into())]);
        let sql = format!("EXPLAIN QUERY PLAN SELECT COUNT(*) AS n {base}");
        let mut plan = sqlx::query(&sql).bind("t");
        for bind in &binds {
            plan = plan.bind(bind);
        }
        let steps: Vec<String> = plan
            .fetch_all(&store.members.pool)
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get("detail").unwrap())
            .collect();
        assert!(steps.iter().all(|step| !step.starts_with("SCAN")), "{steps:?}");
        assert!(steps.iter().any(|step| step.contains("members_identity (tenant_id=? AND object_id=?)")), "{steps:?}");
        assert!(steps.iter().any(|step| step.contains("members_scim_user")), "{steps:?}");
        assert!(steps.iter().any(|step| step.contains("members_upn")), "{steps:?}");
    }
}
