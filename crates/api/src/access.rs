//! What a verified sign-in may do, decided apart from HTTP: its member (found, linked or
//! created, and refused when disabled), its channels (from the token's groups, or when it
//! carries none, from the groups SCIM provisioned) and the step-up an action needs.

use channels_protocol::claims::AccessTokenClaims;
use channels_protocol::wire::RuntimeConfig;

use crate::auth::VerifiedClaims;
use crate::channels::Assignment;
use crate::config::StepUpRule;
use crate::error::ApiError;
use crate::members::{Member, SignInOutcome};
use crate::state::AppState;

/// A member's sign-in, with what it grants.
#[derive(Debug)]
pub struct SignedIn {
    /// The member.
    pub member: Member,
    /// How the sign-in found them.
    pub outcome: SignInOutcome,
    /// Their channels.
    pub assignment: Assignment,
    /// The groups the channels came from: the token's, or the ones SCIM provisioned.
    pub groups: Vec<String>,
}

/// The member of a verified sign-in (found, linked or created), refused when provisioning or an
/// admin has disabled them.
pub async fn active_member(state: &AppState, verified: &VerifiedClaims) -> Result<(Member, SignInOutcome), ApiError> {
    let (member, outcome) = state.members.sign_in(verified, &state.config.default_roles, state.now()).await?;
    if member.disabled_at.is_some() {
        return Err(ApiError::Disabled);
    }
    Ok((member, outcome))
}

/// The active member of a verified sign-in and their channels: the token's groups count when it
/// has a `groups` claim; without one, the groups SCIM provisioned for them.
pub async fn signed_in(state: &AppState, verified: &VerifiedClaims) -> Result<SignedIn, ApiError> {
    let (member, outcome) = active_member(state, verified).await?;
    let channels = &state.config.channels;
    let claims = verified.claims();
    if let Some(groups) = &claims.groups {
        return Ok(SignedIn { member, outcome, assignment: channels.assign(verified), groups: groups.clone() });
    }
    let provisioned = state.provisioned.provisioned_groups(&claims.tid, &claims.oid).await?;
    if provisioned.is_empty() {
        return Ok(SignedIn { member, outcome, assignment: channels.assign(verified), groups: Vec::new() });
    }
    let groups = provisioned.iter().map(|g| g.display_name.clone()).collect();
    let roles = claims.roles.as_deref().unwrap_or_default();
    let assignment = channels.assign_provisioned(&claims.tid, &provisioned, roles);
    Ok(SignedIn { member, outcome, assignment, groups })
}

/// Whether the token's sign-in satisfied the authentication context that saving preferences
/// needs of its tenant. The context is the token's own tenant's: its `acrs` proves nothing of
/// another tenant's policy, and the claims challenge sends the user to their own tenant.
pub fn require_step_up(state: &AppState, claims: &AccessTokenClaims) -> Result<(), ApiError> {
    match state.config.step_up.rule(&claims.tid) {
        StepUpRule::Required(context) => {
            let found = claims.acrs.clone().unwrap_or_default();
            if found.iter().any(|acr| acr == context) {
                return Ok(());
            }
            let tenant = RuntimeConfig { tenant_id: claims.tid.clone(), ..state.config.runtime_config() };
            Err(ApiError::StepUp {
                context: context.to_owned(),
                found,
                authorize_endpoint: tenant.authorize_endpoint(),
            })
        }
        StepUpRule::Refused => Err(ApiError::StepUpUnavailable { tenant: claims.tid.clone() }),
        StepUpRule::NotRequired => Ok(()),
    }
}
