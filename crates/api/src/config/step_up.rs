//! Step-up per tenant (`[step_up]`): the authentication context that saving preferences needs
//! of each allowed tenant's tokens, and what a tenant without one gets.

use super::env::named;
use super::error::ConfigError;
use super::raw::RawStepUp;

/// Step-up per tenant. `acrs` is written by the token's own tenant, and a tenant whose admin made
/// no Conditional Access policy for a context adds it to `acrs` without asking anything; so each
/// tenant's context is its own, and for an allowed tenant with none the operator chooses whether
/// the action is refused or allowed without step-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepUp {
    /// Tenant (lower-case) → the context its users' tokens must carry.
    contexts: std::collections::BTreeMap<String, String>,
    /// What a tenant without a context of its own gets; `None` only when no tenant has one.
    otherwise: Option<WithoutStepUp>,
}

/// `step_up.other_tenants`: the action for an allowed tenant that has no context of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithoutStepUp {
    /// `"refuse"`: the action is refused (403), with the operator's fix.
    Refuse,
    /// `"allow"`: the action needs no step-up for that tenant's users.
    Allow,
}

/// What [`StepUp`] asks of a tenant's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepUpRule<'a> {
    /// `acrs` must hold this context.
    Required(&'a str),
    /// The action is refused: the tenant has no context, and the operator chose to refuse.
    Refused,
    /// No step-up.
    NotRequired,
}

impl StepUp {
    /// Step-up with `context` for the one allowed tenant (`step_up.profile`).
    fn single(tenant: &str, context: &str) -> Self {
        Self { contexts: [(tenant.to_ascii_lowercase(), context.to_owned())].into(), otherwise: None }
    }

    /// What saving preferences asks of a token of `tenant`. A tenant with no context of its own
    /// is refused unless the operator allowed it, whenever any tenant has one.
    pub fn rule(&self, tenant: &str) -> StepUpRule<'_> {
        match self.contexts.get(&tenant.to_ascii_lowercase()) {
            Some(context) => StepUpRule::Required(context),
            None if self.contexts.is_empty() && self.otherwise.is_none() => StepUpRule::NotRequired,
            None => match self.otherwise {
                Some(WithoutStepUp::Allow) => StepUpRule::NotRequired,
                Some(WithoutStepUp::Refuse) | None => StepUpRule::Refused,
            },
        }
    }

    /// Each allowed tenant's rule, in words, for the start-up log.
    pub fn describe<'a>(&'a self, tenants: &'a [String]) -> impl Iterator<Item = (&'a str, String)> + 'a {
        tenants.iter().map(move |tenant| {
            let rule = match self.rule(tenant) {
                StepUpRule::Required(context) => format!("requires the authentication context {context}"),
                StepUpRule::Refused => {
                    "refused: no authentication context for this tenant (step_up.other_tenants = \"refuse\")".to_owned()
                }
                StepUpRule::NotRequired if self.contexts.is_empty() => "no step-up configured".to_owned(),
                StepUpRule::NotRequired => "allowed without step-up (step_up.other_tenants = \"allow\")".to_owned(),
            };
            (tenant.as_str(), rule)
        })
    }
}

impl StepUp {
    /// `[step_up]` for `allowed_tenants`.
    pub(super) fn validate(raw: RawStepUp, allowed_tenants: &[String]) -> Result<StepUp, ConfigError> {
        const WHERE: &str = "an authentication context id, c1 to c99 (Entra: Protection → Conditional Access → \
                             Authentication contexts)";
        let context = |key: String, context: String| {
            if channels_protocol::step_up::is_context_id(&context) {
                Ok(context)
            } else {
                Err(ConfigError::new(key, WHERE, context))
            }
        };
        // An empty value (CHANNELS_STEP_UP_PROFILE=) turns the demo's requirement off.
        let profile = raw.profile.filter(|context| !context.is_empty());
        let profile = profile.map(|c| context(named("step_up.profile"), c)).transpose()?;
        let mut contexts = std::collections::BTreeMap::new();
        for (tenant, value) in raw.tenants {
            let key = format!("step_up.tenants.{tenant}");
            if !allowed_tenants.iter().any(|allowed| allowed.eq_ignore_ascii_case(&tenant)) {
                return Err(ConfigError::new(
                    key,
                    format!("an allowed tenant ({})", allowed_tenants.join(", ")),
                    tenant,
                ));
            }
            contexts.insert(tenant.to_ascii_lowercase(), context(key, value)?);
        }
        match (profile, allowed_tenants) {
            (Some(_), _) if !contexts.is_empty() => {
                return Err(ConfigError::new(
                    named("step_up.profile"),
                    "either step_up.profile (one allowed tenant) or step_up.tenants, not both",
                    "both",
                ))
            }
            (Some(profile), [only]) => return Ok(StepUp::single(only, &profile)),
            (Some(profile), _) => {
                return Err(ConfigError::new(
                    named("step_up.profile"),
                    "with several allowed tenants, each tenant's own context in step_up.tenants (acrs is written \
                     by the token's own tenant, and a tenant with no policy for a context grants it without asking)",
                    profile,
                ))
            }
            (None, _) => {}
        }
        let otherwise = match raw.other_tenants.as_deref() {
            None => None,
            Some("refuse") => Some(WithoutStepUp::Refuse),
            Some("allow") => Some(WithoutStepUp::Allow),
            Some(other) => {
                return Err(ConfigError::new("step_up.other_tenants", "\"refuse\" or \"allow\"", other));
            }
        };
        let without: Vec<&str> = allowed_tenants
            .iter()
            .filter(|t| !contexts.contains_key(&t.to_ascii_lowercase()))
            .map(String::as_str)
            .collect();
        if !contexts.is_empty() && !without.is_empty() && otherwise.is_none() {
            return Err(ConfigError::new(
                "step_up.other_tenants",
                "\"refuse\" or \"allow\": what saving preferences does for an allowed tenant with no context in \
                 step_up.tenants",
                format!("none, and no context for {}", without.join(", ")),
            ));
        }
        Ok(StepUp { contexts, otherwise })
    }
}
