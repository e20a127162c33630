//! The provisioning service's bearer tokens: made by `channels-api scim-token create`, shown
//! once, kept only as a SHA-256 of their secret part. Each belongs to one tenant, fixed when it
//! is made; several may be live at once (so one can be rotated without a gap), and each can be
//! revoked.
//!
//! A token reads `channels-scim.<id>.<secret>`: the id finds the row (it is not secret, and
//! says which token an admin is looking at), the secret is 32 random bytes. A plain SHA-256
//! suffices for a 256-bit random secret (nothing to guess, so no slow hash is needed), and the
//! comparison takes the same time whatever the bytes.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::members::{MemberStore, StoreError};

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

impl MemberStore {
    /// Makes a token for `tenant_id`; the returned token is the only copy of its secret.
    pub async fn create_scim_token(
        &self,
        tenant_id: &str,
        label: &str,
        now: i64,
    ) -> Result<(TokenRecord, ScimToken), StoreError> {
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
    pub async fn scim_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
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

    /// Revokes the token `id`; false when there is no live token of that id.
    pub async fn revoke_scim_token(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let revoked = sqlx::query("UPDATE scim_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(revoked.rows_affected() > 0)
    }

    /// The tenant a presented token provisions, if it is a live token of ours.
    pub async fn scim_tenant(&self, presented: &str) -> Result<Option<String>, StoreError> {
        let mut parts = presented.splitn(3, '.');
        let (Some(PREFIX), Some(id), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
            return Ok(None);
        };
        let row = sqlx::query("SELECT tenant_id, hash FROM scim_tokens WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let stored: String = row.try_get("hash")?;
        let matches = channels_protocol::secret::constant_time_eq(digest(secret).as_bytes(), stored.as_bytes());
        Ok(matches.then(|| row.try_get("tenant_id")).transpose()?)
    }
}
