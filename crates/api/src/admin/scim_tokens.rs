//! `scim-token`: make, list or revoke the bearer tokens of Entra's SCIM provisioning service.

use std::fmt::Write as _;

use super::output::{tenant_argument, AdminError, Printed};
use crate::config::ApiConfig;
use crate::members::MemberStore;
use crate::scim::timestamp;
use crate::scim::tokens::ScimTokens;

/// What `scim-token` does.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum ScimTokenAction {
    /// Make a token for one tenant; it is printed once and only its hash is stored.
    Create {
        /// The tenant (directory) id the token provisions; required when several are allowed.
        #[arg(long)]
        tenant: Option<String>,
        /// A name to tell tokens apart, e.g. "entra-2026-12".
        #[arg(long, default_value = "entra provisioning")]
        label: String,
    },
    /// List the tokens (never their secrets).
    List,
    /// Revoke a token by its id (the middle part of the token, shown by `list`).
    Revoke {
        /// The token's id.
        id: String,
    },
}

/// Runs `action` on the configured database at time `now`: the new token alone on standard
/// output (a script pipes it on), what to do with it on standard error.
pub async fn scim_token(config: &ApiConfig, action: ScimTokenAction, now: i64) -> Result<Printed, AdminError> {
    let store = MemberStore::connect(config.database_url.secret()).await?;
    let printed = run(config, &ScimTokens::new(&store), action, now).await;
    store.close().await;
    printed
}

async fn run(
    config: &ApiConfig,
    tokens: &ScimTokens,
    action: ScimTokenAction,
    now: i64,
) -> Result<Printed, AdminError> {
    let mut printed = Printed::default();
    match action {
        ScimTokenAction::Create { tenant, label } => {
            let tenant = tenant_argument(config, tenant)?;
            let (record, token) = tokens.create(&tenant, &label, now).await?;
            let _ = writeln!(
                printed.note,
                "SCIM token {} for tenant {tenant} ({label}); it is shown once, only its hash is kept.",
                record.id
            );
            printed.note.push_str(
                "Paste it into Entra: Enterprise applications → Channels → Provisioning → Admin credentials → Secret \
                 token.\n",
            );
            let _ = writeln!(printed.out, "{}", token.secret());
        }
        ScimTokenAction::List => {
            for token in tokens.list().await? {
                let state = token.revoked_at.map_or("live".to_owned(), |at| format!("revoked {}", timestamp(at)));
                let _ = writeln!(
                    printed.out,
                    "{}  tenant {}  made {}  {state}  {}",
                    token.id,
                    token.tenant_id,
                    timestamp(token.created_at),
                    token.label
                );
            }
        }
        ScimTokenAction::Revoke { id } => {
            if !tokens.revoke(&id, now).await? {
                return Err(AdminError(format!(
                    "expected the id of a live token, as `scim-token list` shows (found {id})"
                )));
            }
            let _ = writeln!(printed.out, "revoked {id}: Entra's requests with it are refused from now on");
        }
    }
    Ok(printed)
}
