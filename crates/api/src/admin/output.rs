//! What every tool shares: its answer ([`Printed`]), why it refused ([`AdminError`]), and the
//! `--tenant` it resolves first.

use crate::config::ApiConfig;
use crate::members::StoreError;

/// Why an admin tool refused: what was expected and what was found.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AdminError(pub String);

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        Self(error.to_string())
    }
}

/// What a tool prints: its answer on standard output, and what the admin should know besides
/// on standard error (so that a script can take the answer alone).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Printed {
    /// For standard output.
    pub out: String,
    /// For standard error.
    pub note: String,
}

/// The tenant named by `--tenant`, or the only one allowed.
pub fn tenant_argument(config: &ApiConfig, tenant: Option<String>) -> Result<String, AdminError> {
    match (tenant, config.allowed_tenants.as_slice()) {
        (Some(tenant), allowed) if allowed.iter().any(|a| a.eq_ignore_ascii_case(&tenant)) => {
            Ok(tenant.to_ascii_lowercase())
        }
        (Some(tenant), allowed) => Err(AdminError(format!(
            "--tenant: expected an allowed tenant, one of {} (found {tenant})",
            allowed.join(", ")
        ))),
        (None, [only]) => Ok(only.clone()),
        (None, several) => {
            Err(AdminError(format!("--tenant: expected the user's tenant, one of {} (found none)", several.join(", "))))
        }
    }
}
