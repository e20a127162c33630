//! The scopes of an authorize request: which are OpenID Connect's own, and which delegated
//! permissions of which resource (an API of the directory, or Microsoft Graph) the others ask
//! for, with Entra's errors for those that name nothing registered.

use channels_protocol::cloud::Cloud;

use crate::directory::{AppRegistration, Directory, ExposedScope, GRAPH_APP_ID, GRAPH_RESOURCE, GRAPH_SCOPES};
use crate::error::AadError;
use crate::grant::Resource;

/// The OpenID Connect scopes the emulator understands, as its discovery document lists them
/// (`scopes_supported`): they ask for OpenID Connect rather than for a resource, and need no
/// consent. (The SPA's request sends the space-separated `channels_protocol::authorize::OIDC_SCOPES`.)
pub const OIDC_SCOPES_SUPPORTED: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// One requested delegated permission.
#[derive(Debug, Clone)]
pub struct Requested {
    /// The resource whose permission it is.
    pub resource: Resource,
    /// The resource's display name, for the consent page.
    pub resource_name: String,
    /// The resource's app id (Graph's for Graph).
    pub resource_app_id: String,
    /// The permission's id in the resource's registration.
    pub permission_id: String,
    /// The permission's name (`UserProfile.ReadWrite`), as `scp` carries it.
    pub value: String,
}

/// A request's `scope` parameter, split: the delegated permissions it asks for, and the OpenID
/// Connect scopes among it.
pub fn requested_scopes(
    directory: &Directory,
    tenant_name: &str,
    client: &AppRegistration,
    scope: &str,
) -> Result<(Vec<Requested>, Vec<String>), AadError> {
    let mut requested = Vec::new();
    let mut oidc = Vec::new();
    for scope in scope.split(' ').filter(|s| !s.is_empty()) {
        if OIDC_SCOPES_SUPPORTED.contains(&scope) {
            oidc.push(scope.to_owned());
        } else {
            requested.extend(resolve_scope(directory, tenant_name, client, scope)?);
        }
    }
    Ok((requested, oidc))
}

/// The permissions one `scope` value asks for: `api://…/Name`, `<client id>/Name`,
/// `…/.default`, Graph's `User.Read` (bare or prefixed).
pub fn resolve_scope(
    directory: &Directory,
    tenant_name: &str,
    client: &AppRegistration,
    scope: &str,
) -> Result<Vec<Requested>, AadError> {
    let (resource, value) = scope.rsplit_once('/').unwrap_or((GRAPH_RESOURCE, scope));
    if value.is_empty() || resource.is_empty() {
        return Err(AadError::new(
            "invalid_scope",
            70011,
            format!("The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' ('{scope}') is not valid: expected <resource>/<scope name>, such as api://<client id>/UserProfile.ReadWrite."),
        ));
    }
    let is_graph = Cloud::is_graph_audience(resource);
    let unknown_scope = |resource_id: &str| {
        AadError::new(
            "invalid_client",
            650053,
            format!("The application '{}' asked for scope '{value}' that doesn't exist on the resource '{resource_id}'. Contact the app vendor.", client.display_name),
        )
    };
    let graph = |(id, value): (&str, &str)| Requested {
        resource: Resource::Graph,
        resource_name: "Microsoft Graph".to_owned(),
        resource_app_id: GRAPH_APP_ID.to_owned(),
        permission_id: id.to_owned(),
        value: value.to_owned(),
    };
    if is_graph {
        if value == ".default" {
            return default_scopes(client, GRAPH_APP_ID, GRAPH_SCOPES.iter().map(|&(id, v)| graph((id, v))).collect());
        }
        let known = GRAPH_SCOPES
            .iter()
            .find(|(_, v)| v.eq_ignore_ascii_case(value))
            .ok_or_else(|| unknown_scope(GRAPH_APP_ID))?;
        return Ok(vec![graph(*known)]);
    }
    let api = directory.resource(resource).ok_or_else(|| {
        AadError::new(
            "invalid_resource",
            500011,
            format!("The resource principal named {resource} was not found in the tenant named {tenant_name}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."),
        )
    })?;
    if api.app_id == client.app_id && !resource.to_ascii_lowercase().contains(&client.app_id.to_ascii_lowercase()) {
        return Err(AadError::new(
            "invalid_request",
            90009,
            format!("Application '{}'({}) is requesting a token for itself. This scenario is supported only if resource is specified using the GUID based App Identifier.", client.app_id, client.display_name),
        ));
    }
    let permission = |scope: &ExposedScope| Requested {
        resource: Resource::Api { app_id: api.app_id.clone(), requested_as: resource.to_owned() },
        resource_name: api.display_name.clone(),
        resource_app_id: api.app_id.clone(),
        permission_id: scope.id.clone(),
        value: scope.value.clone(),
    };
    if value == ".default" {
        return default_scopes(client, &api.app_id, api.scopes.iter().map(permission).collect());
    }
    api.scope(value).map(|scope| vec![permission(scope)]).ok_or_else(|| unknown_scope(&api.app_id))
}

/// `.default`: the permissions of the resource that the client's registration lists.
fn default_scopes(
    client: &AppRegistration,
    resource_app_id: &str,
    all: Vec<Requested>,
) -> Result<Vec<Requested>, AadError> {
    let listed: Vec<Requested> =
        all.into_iter().filter(|p| client.requires(resource_app_id, &p.permission_id)).collect();
    if listed.is_empty() {
        return Err(AadError::new(
            "invalid_client",
            650057,
            format!("Invalid resource. The client has requested access to a resource which is not listed in the requested permissions in the client's application registration. Client app ID: {}({}). Resource value from request: {resource_app_id}.", client.app_id, client.display_name),
        ));
    }
    Ok(listed)
}
