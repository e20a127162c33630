//! Consent to delegated permissions: whether a user's sign-in to a client may be given a
//! permission without asking (the API pre-authorizes the client, or the admin consented for
//! the tenant), and the consents users gave on the consent page, kept for later sign-ins.

use std::collections::HashSet;
use std::sync::Mutex;

use super::scopes::Requested;
use crate::directory::{AppRegistration, Directory, Tenant, User};

/// A user's consent to one delegated permission for one client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Consent {
    tenant_id: String,
    user_oid: String,
    client_id: String,
    resource_app_id: String,
    permission_id: String,
}

impl Consent {
    fn new(tenant: &Tenant, user: &User, client: &AppRegistration, permission: &Requested) -> Self {
        Self {
            tenant_id: tenant.id.clone(),
            user_oid: user.oid.clone(),
            client_id: client.app_id.clone(),
            resource_app_id: permission.resource_app_id.clone(),
            permission_id: permission.permission_id.clone(),
        }
    }
}

/// The consents users gave.
#[derive(Default)]
pub struct Consents(Mutex<HashSet<Consent>>);

impl Consents {
    /// Records that `user` accepted `permissions` for `client` on the consent page.
    pub fn record(&self, tenant: &Tenant, user: &User, client: &AppRegistration, permissions: &[&Requested]) {
        let mut consents = self.0.lock().expect("consent lock");
        consents.extend(permissions.iter().map(|permission| Consent::new(tenant, user, client, permission)));
    }

    /// Whether `permission` is consented for `client`: pre-authorized by the API, granted by
    /// the admin (listed in the client's API permissions), or accepted earlier by the user.
    pub fn given(
        &self,
        directory: &Directory,
        tenant: &Tenant,
        user: &User,
        client: &AppRegistration,
        permission: &Requested,
    ) -> bool {
        let pre_authorized = directory
            .resource(&permission.resource_app_id)
            .is_some_and(|api| api.pre_authorizes(&client.app_id, &permission.permission_id));
        let admin = tenant.enterprise_app(&client.app_id).admin_consent
            && client.requires(&permission.resource_app_id, &permission.permission_id);
        pre_authorized
            || admin
            || self.0.lock().expect("consent lock").contains(&Consent::new(tenant, user, client, permission))
    }
}
