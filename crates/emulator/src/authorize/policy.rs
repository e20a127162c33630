//! What the tenant's policy makes of a sign-in once the user is known: the user must be
//! assigned to the app, Conditional Access may block it or ask for multi-factor
//! authentication (for the app, or for an authentication context the request names), and
//! permissions not yet consented need the user's consent. The answer is a [`Decision`]; the
//! pages and the issuing act on it.

use super::consent::Consents;
use super::request::{AuthorizeParams, Checked};
use super::scopes::Requested;
use crate::directory::{AppRegistration, Directory, Tenant, User};
use crate::error::AadError;

/// How the user took part.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Interaction<'f> {
    /// `prompt=none` or SSO: no page may be shown. `mfa`: the session's sign-in did MFA; `sid`:
    /// that session's id.
    Silent {
        /// The session's sign-in did MFA.
        mfa: bool,
        /// The session's id.
        sid: &'f str,
    },
    /// The user picked an account, approved the MFA prompt if one was shown (`mfa`), and
    /// answered the consent page if one was shown; `sid`: the session this sign-in opens.
    Interactive {
        /// The consent page's answer (`accept` or `decline`), when it was shown.
        consent: Option<&'f str>,
        /// MFA was done now or earlier in the session.
        mfa: bool,
        /// The session this sign-in opens.
        sid: &'f str,
    },
}

impl<'f> Interaction<'f> {
    /// Whether the sign-in did multi-factor authentication.
    pub fn mfa(self) -> bool {
        match self {
            Self::Silent { mfa, .. } | Self::Interactive { mfa, .. } => mfa,
        }
    }

    /// The consent page's answer, carried through the MFA prompt.
    pub fn consent(self) -> Option<&'f str> {
        match self {
            Self::Silent { .. } => None,
            Self::Interactive { consent, .. } => consent,
        }
    }

    /// The browser session the code is issued in: the ID token's `sid`, the answer's
    /// `session_state`, and what a front-channel logout names.
    pub fn sid(self) -> &'f str {
        match self {
            Self::Silent { sid, .. } | Self::Interactive { sid, .. } => sid,
        }
    }

    /// Refuses with `error`: on Entra's own page for an interactive sign-in, at the app's
    /// redirect URI for a silent one.
    fn refuse<'r>(self, error: AadError) -> Decision<'r> {
        match self {
            Self::Silent { .. } => Decision::Refuse(error),
            Self::Interactive { .. } => Decision::RefuseOnPage(error),
        }
    }
}

/// The policy's answer to a sign-in.
pub enum Decision<'r> {
    /// Refused: the error goes back to the app's redirect URI.
    Refuse(AadError),
    /// Refused on the emulator's own page, as Entra shows an interactive user what they
    /// cannot get past (not assigned, blocked by Conditional Access).
    RefuseOnPage(AadError),
    /// The multi-factor prompt must be approved first (interactive sign-ins only).
    AskMfa,
    /// These permissions need the user's consent (interactive sign-ins only).
    AskConsent(Vec<&'r Requested>),
    /// A code or tokens may be issued, once the permissions the user just `accepted` on the
    /// consent page are recorded, with the authentication contexts `acrs` satisfied.
    Grant {
        /// Permissions accepted on the consent page now, to remember.
        accepted: Vec<&'r Requested>,
        /// The authentication contexts the sign-in satisfied.
        acrs: Vec<String>,
    },
}

/// Whether the tenant's admin keeps `user` from `client` whatever the sign-in: not assigned
/// when assignment is required (AADSTS50105), or blocked by Conditional Access (AADSTS53003).
pub fn access_refusal(tenant: &Tenant, client: &AppRegistration, user: &User) -> Option<AadError> {
    if !tenant.is_assigned(&client.app_id, user) {
        return Some(AadError::new(
            "access_denied",
            50105,
            format!("Your administrator has configured the application {} ('{}') to block users unless they are specifically granted ('assigned') access to the application. The signed in user '{}' is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator. Please contact your administrator to assign access to this application.", client.display_name, client.app_id, user.upn),
        ));
    }
    // Conditional Access, as the tenant's admin set it for this app.
    tenant.enterprise_app(&client.app_id).conditional_access_block.then(|| {
        AadError::new(
            "access_denied",
            53003,
            "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        )
    })
}

/// What the tenant's policy decides for `user` signing in to the checked request's client.
pub fn decide<'r>(
    directory: &Directory,
    consents: &Consents,
    checked: &'r Checked<'_>,
    params: &AuthorizeParams,
    tenant: &Tenant,
    user: &User,
    interaction: Interaction<'_>,
) -> Decision<'r> {
    let client = checked.client;
    if let Some(refusal) = access_refusal(tenant, client, user) {
        return interaction.refuse(refusal);
    }
    let policy = tenant.enterprise_app(&client.app_id);
    // Authentication contexts asked for: those a policy protects with MFA need it; the others
    // are granted as they are (Entra adds an unprotected context to `acrs` too).
    let acrs = params.claims.as_deref().map(channels_protocol::step_up::requested_contexts).unwrap_or_default();
    let context_needs_mfa = acrs.iter().any(|context| policy.auth_contexts_requiring_mfa.contains(context));
    if (policy.mfa_required || context_needs_mfa) && !interaction.mfa() {
        return match interaction {
            Interaction::Silent { .. } => Decision::Refuse(AadError::new(
                "interaction_required",
                50076,
                format!("Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{}'.", client.app_id),
            )),
            Interaction::Interactive { .. } => Decision::AskMfa,
        };
    }
    let forced = params.prompt.as_deref() == Some("consent");
    let missing: Vec<&Requested> =
        checked.requested.iter().filter(|p| forced || !consents.given(directory, tenant, user, client, p)).collect();
    match interaction {
        Interaction::Interactive { consent: Some("decline"), .. } => {
            let error = AadError::new("access_denied", 65004, "User declined to consent to access the app.");
            Decision::Refuse(error.with_subcode("cancel"))
        }
        Interaction::Interactive { consent: Some("accept"), .. } => Decision::Grant { accepted: missing, acrs },
        Interaction::Interactive { .. } if !missing.is_empty() => Decision::AskConsent(missing),
        Interaction::Silent { .. } if !missing.is_empty() => Decision::Refuse(AadError::new(
            "consent_required",
            65001,
            format!("The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.", client.app_id, client.display_name),
        )),
        _ => Decision::Grant { accepted: Vec::new(), acrs },
    }
}
