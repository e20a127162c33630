//! The `{tenant}` path segment every Entra route starts with, resolved against the directory,
//! and the client app as seen from it: the first checks of every endpoint, with Entra's errors.

use crate::directory::{AppRegistration, Audience, Tenant};
use crate::error::AadError;
use crate::state::Emulator;

/// What the `{tenant}` path segment names.
#[derive(Debug, Clone, Copy)]
pub enum TenantPath<'a> {
    /// A tenant, by id or verified domain.
    Tenant(&'a Tenant),
    /// `common` or `organizations`: the user's own tenant, decided at sign-in.
    Any,
}

impl Emulator {
    /// Resolves the `{tenant}` path segment, or AADSTS90002.
    pub(crate) fn tenant_path(&self, segment: &str) -> Result<TenantPath<'_>, AadError> {
        if segment.eq_ignore_ascii_case("common") || segment.eq_ignore_ascii_case("organizations") {
            return Ok(TenantPath::Any);
        }
        self.directory().tenant(segment).map(TenantPath::Tenant).ok_or_else(|| {
            AadError::new(
                "invalid_tenant",
                90002,
                format!("Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
            )
        })
    }

    /// The app with this client id as seen from `path`: registered in the tenant, or a
    /// multi-tenant app from elsewhere; AADSTS700016 or, for a single-tenant app at
    /// `common`, AADSTS50194.
    pub(crate) fn client<'a>(&'a self, path: TenantPath<'a>, client_id: &str) -> Result<&'a AppRegistration, AadError> {
        let not_found = |directory: &str| {
            AadError::new(
                "unauthorized_client",
                700016,
                format!("Application with identifier '{client_id}' was not found in the directory '{directory}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."),
            )
        };
        match path {
            TenantPath::Tenant(tenant) => match (tenant.app(client_id), self.directory().app(client_id)) {
                (Some(app), _) => Ok(app),
                (None, Some((_, app))) if app.audience == Audience::MultipleOrgs => Ok(app),
                _ => Err(not_found(&tenant.id)),
            },
            TenantPath::Any => {
                let (_, app) = self.directory().app(client_id).ok_or_else(|| not_found("common"))?;
                if app.audience == Audience::MyOrg {
                    return Err(AadError::new(
                        "invalid_request",
                        50194,
                        format!("Application '{}'({}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.", app.app_id, app.display_name),
                    ));
                }
                Ok(app)
            }
        }
    }
}
