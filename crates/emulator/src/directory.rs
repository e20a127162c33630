//! The directory the emulator serves: tenants with their users, groups, app registrations and
//! enterprise applications (service principals).
//!
//! [`demo::directory`] is the built-in demo (Contoso, plus Fabrikam for multi-tenant runs);
//! [`crate::manifest`] reads the same model from a JSON file in Microsoft Graph's shapes. The
//! claim rules here are Entra's: groups are transitive (nested groups count), except for
//! `ApplicationGroup` (direct assignments only); an on-premises format leaves cloud-only groups
//! out; more than [`GROUP_OVERAGE_LIMIT`] groups replace the claim by an overage pointer.

use std::collections::BTreeSet;

use channels_protocol::cloud::Cloud;

/// Entra drops `groups` from a JWT when the user is in more groups than this.
pub const GROUP_OVERAGE_LIMIT: usize = 200;

/// Microsoft Graph's application id: the `aud` of Graph access tokens.
pub use channels_protocol::cloud::GRAPH_APP_ID;

/// Microsoft Graph's resource URI.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";

/// Graph's delegated scopes the emulator knows, with their well-known permission ids.
pub const GRAPH_SCOPES: [(&str, &str); 6] = [
    ("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read"),
    ("b340eb25-3456-403f-be2f-af7a0d370277", "User.ReadBasic.All"),
    ("37f7f235-527c-4136-accd-4a02d197296e", "openid"),
    ("14dad69e-099b-42c9-810b-d002981feec1", "profile"),
    ("64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "email"),
    ("7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "offline_access"),
];

/// Every tenant the emulator serves, and the Microsoft cloud whose shapes it serves them in.
#[derive(Debug, Clone)]
pub struct Directory {
    /// The tenants; the first is the one [`crate::Emulator::tenant`] returns.
    pub tenants: Vec<Tenant>,
    /// The cloud emulated (`ENTRA_EMULATOR_CLOUD`): its issuers, its Graph audience and, in
    /// External ID, groups as object ids only. In the global cloud the issuer is the emulator's
    /// own origin, as Entra's is `login.microsoftonline.com`'s.
    pub cloud: Cloud,
}

/// A directory (tenant).
#[derive(Debug, Clone)]
pub struct Tenant {
    /// The tenant id (GUID).
    pub id: String,
    /// Display name, shown on the sign-in page.
    pub display_name: String,
    /// Verified domains, usable in place of the id in URLs.
    pub domains: Vec<String>,
    /// People who can sign in.
    pub users: Vec<User>,
    /// Security groups.
    pub groups: Vec<Group>,
    /// App registrations whose home is this tenant.
    pub apps: Vec<AppRegistration>,
    /// Enterprise applications: what the tenant's admin decided about an app.
    pub enterprise_apps: Vec<EnterpriseApp>,
    /// A token lifetime policy (`AccessTokenLifetime`, seconds): the tenant's access tokens
    /// live exactly this long, instead of Entra's default of 60 to 90 minutes.
    pub access_token_lifetime: Option<u64>,
}

/// A user account.
#[derive(Debug, Clone)]
pub struct User {
    /// Immutable object id.
    pub oid: String,
    /// User principal name (guests: `name_home.tld#EXT#@tenant`).
    pub upn: String,
    /// Display name.
    pub name: String,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name (Graph's `surname`).
    pub family_name: Option<String>,
    /// Email address (Graph's `mail`).
    pub email: Option<String>,
    /// Object ids of the groups the user is a direct member of.
    pub member_of: Vec<String>,
}

impl User {
    /// A member of the tenant (no guest) with these groups; given and family name come from
    /// `name`, the email is the UPN.
    pub fn member(oid: impl Into<String>, upn: impl Into<String>, name: &str, member_of: &[String]) -> Self {
        let upn = upn.into();
        let (given, family) = name.split_once(' ').unwrap_or((name, ""));
        Self {
            oid: oid.into(),
            email: (!upn.contains("#EXT#")).then(|| upn.clone()),
            upn,
            name: name.to_owned(),
            given_name: Some(given.to_owned()),
            family_name: (!family.is_empty()).then(|| family.to_owned()),
            member_of: member_of.to_vec(),
        }
    }
}

/// A security group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Object id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// The on-premises attributes, present only for groups synced from AD.
    pub on_premises: Option<OnPremises>,
    /// Object ids of the groups this group is a member of (nesting).
    pub member_of: Vec<String>,
}

/// What AD Connect syncs of an on-premises group.
#[derive(Debug, Clone)]
pub struct OnPremises {
    /// `sAMAccountName`.
    pub sam_account_name: String,
    /// The NetBIOS domain (`CONTOSO`).
    pub netbios_domain: String,
    /// The DNS domain (`contoso.com`).
    pub dns_domain: String,
}

/// Where a redirect URI is registered; it decides CORS and PKCE rules at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Single-page application: public client, cross-origin redemption with PKCE.
    Spa,
    /// Web: confidential client, redeemed by a server with a secret.
    Web,
    /// Mobile and desktop: public client, redeemed without `Origin` and without a secret.
    PublicClient,
}

/// `signInAudience`: who may sign in to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// `AzureADMyOrg`: the home tenant only (`common` and `organizations` are AADSTS50194).
    MyOrg,
    /// `AzureADMultipleOrgs` (or wider): any tenant.
    MultipleOrgs,
}

/// The access token format the *resource* asks for (`api.requestedAccessTokenVersion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVersion {
    /// `null` or `1`: `iss` `https://sts.windows.net/{tid}/`, `appid`, `unique_name`, `x5t`.
    V1,
    /// `2`: `iss` `{authority}/{tid}/v2.0`, `azp`, `preferred_username`.
    V2,
}

/// `groupMembershipClaims`: which groups enter the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupMembership {
    /// No groups claim.
    None,
    /// Security groups, transitively (`SecurityGroup`, and `All` as the emulator has no other kinds).
    SecurityGroup,
    /// Only groups assigned to the application that the user is a direct member of.
    ApplicationGroup,
}

/// How each group is written: the `groups` optional claim's `additionalProperties`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupFormat {
    /// The on-premises form, if one was picked; cloud-only groups are then left out.
    pub on_premises: Option<OnPremisesFormat>,
    /// `cloud_displayname` (with `ApplicationGroup`): cloud-only groups by display name.
    pub cloud_display_name: bool,
    /// `emit_as_roles`: the groups go into `roles` instead of `groups`.
    pub emit_as_roles: bool,
}

/// The on-premises group formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnPremisesFormat {
    /// `sam_account_name`: `Dispatch`.
    SamAccountName,
    /// `netbios_domain_and_sam_account_name`: `CONTOSO\Dispatch`.
    NetbiosDomain,
    /// `dns_domain_and_sam_account_name`: `contoso.com\Dispatch`.
    DnsDomain,
}

/// Optional claims of one token type (`optionalClaims.accessToken` or `.idToken`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OptionalClaims {
    /// `upn`.
    pub upn: bool,
    /// `upn` with `include_externally_authenticated_upn`: guests get their `#EXT#` UPN.
    pub guest_upn: bool,
    /// `email`.
    pub email: bool,
    /// `given_name`.
    pub given_name: bool,
    /// `family_name`.
    pub family_name: bool,
    /// `sid`: the session id, which front-channel logout names (ID tokens).
    pub sid: bool,
}

/// A delegated permission an API exposes (`api.oauth2PermissionScopes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposedScope {
    /// Permission id (GUID), what `requiredResourceAccess` refers to.
    pub id: String,
    /// The scope name (`UserProfile.ReadWrite`).
    pub value: String,
}

/// An app registration, as its manifest describes it.
#[derive(Debug, Clone)]
pub struct AppRegistration {
    /// The client id.
    pub app_id: String,
    /// Display name, shown on the sign-in and consent pages.
    pub display_name: String,
    /// Who may sign in.
    pub audience: Audience,
    /// App ID URIs (`api://<appId>`).
    pub identifier_uris: Vec<String>,
    /// Redirect URIs with their platform.
    pub redirect_uris: Vec<(Platform, String)>,
    /// The front-channel logout URL (`web.logoutUrl`).
    pub logout_url: Option<String>,
    /// Access token format for this app's API.
    pub token_version: TokenVersion,
    /// Delegated scopes the app exposes.
    pub scopes: Vec<ExposedScope>,
    /// Clients pre-authorized for some of those scopes: (client id, permission ids).
    pub pre_authorized: Vec<(String, Vec<String>)>,
    /// Which groups its access tokens carry.
    pub group_membership: GroupMembership,
    /// How its access tokens write groups.
    pub group_format: GroupFormat,
    /// Optional claims of its access tokens.
    pub access_token_claims: OptionalClaims,
    /// Optional claims of its ID tokens.
    pub id_token_claims: OptionalClaims,
    /// API permissions it asks for: (resource app id, permission ids).
    pub required_resource_access: Vec<(String, Vec<String>)>,
    /// Authentication → Implicit grant and hybrid flows: which tokens `/authorize` may issue
    /// itself. Both off unless the admin turns them on.
    pub implicit_grant: ImplicitGrant,
    /// Authentication → Allow public client flows (`isFallbackPublicClient`): the device code
    /// flow needs it (AADSTS7000218 without). Off unless the admin turns it on.
    pub public_client_flows: bool,
}

/// The implicit grant's two switches (`web.implicitGrantSettings` in Microsoft Graph's manifest,
/// `oauth2AllowImplicitFlow` / `oauth2AllowIdTokenImplicitFlow` in Azure AD Graph's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImplicitGrant {
    /// Access tokens (`response_type` with `token`); off: AADSTS700051.
    pub access_tokens: bool,
    /// ID tokens (`response_type` with `id_token`); off: AADSTS700054.
    pub id_tokens: bool,
}

/// What a tenant's admin decided about an app (Enterprise applications in the portal).
#[derive(Debug, Clone, Default)]
pub struct EnterpriseApp {
    /// The client id.
    pub app_id: String,
    /// "Assignment required?": only assigned users (or members of assigned groups) sign in.
    pub assignment_required: bool,
    /// Users and groups assigned to the app (object ids).
    pub assigned: Vec<String>,
    /// "Grant admin consent": the app's `requiredResourceAccess` is consented for everyone.
    pub admin_consent: bool,
    /// A Conditional Access policy requires multi-factor authentication for this app.
    pub mfa_required: bool,
    /// A Conditional Access policy blocks this app (AADSTS53003).
    pub conditional_access_block: bool,
    /// Authentication contexts (`c1`…) a Conditional Access policy protects with MFA: a sign-in
    /// that asks for one (`claims` with `acrs`) goes through MFA first. One asked for that no
    /// policy protects is granted without a step, as Entra does.
    pub auth_contexts_requiring_mfa: Vec<String>,
}

/// The groups of one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupsClaim {
    /// No claim at all: none configured, or no group survives the format.
    Absent,
    /// The values to emit, in `groups` (or in `roles` with `emit_as_roles`).
    Groups(Vec<String>),
    /// Too many groups: emit `_claim_names`/`_claim_sources` instead.
    Overage,
}

impl From<Tenant> for Directory {
    fn from(tenant: Tenant) -> Self {
        Self { tenants: vec![tenant], cloud: Cloud::Global }
    }
}

impl Directory {
    /// The tenant a `{tenant}` path segment names (GUID or verified domain).
    pub fn tenant(&self, segment: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|tenant| tenant.is_named(segment))
    }

    /// The tenant with this id.
    pub fn tenant_by_id(&self, id: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|tenant| tenant.id == id)
    }

    /// The app registration with this client id, in whichever tenant is its home.
    pub fn app(&self, client_id: &str) -> Option<(&Tenant, &AppRegistration)> {
        self.tenants.iter().find_map(|tenant| tenant.app(client_id).map(|app| (tenant, app)))
    }

    /// The registration whose App ID URI or client id is `resource`.
    pub fn resource(&self, resource: &str) -> Option<&AppRegistration> {
        self.tenants.iter().flat_map(|tenant| &tenant.apps).find(|app| {
            app.app_id.eq_ignore_ascii_case(resource) || app.identifier_uris.iter().any(|uri| uri == resource)
        })
    }

    /// The user with this UPN in any tenant, with that tenant.
    pub fn user_by_upn(&self, upn: &str) -> Option<(&Tenant, &User)> {
        self.tenants.iter().find_map(|tenant| tenant.user_by_upn(upn).map(|user| (tenant, user)))
    }
}

impl Tenant {
    /// Whether `segment` (the `{tenant}` path segment) names this tenant.
    pub fn is_named(&self, segment: &str) -> bool {
        segment.eq_ignore_ascii_case(&self.id) || self.domains.iter().any(|d| d.eq_ignore_ascii_case(segment))
    }

    /// The app registered in this tenant with this client id.
    pub fn app(&self, client_id: &str) -> Option<&AppRegistration> {
        self.apps.iter().find(|app| app.app_id.eq_ignore_ascii_case(client_id))
    }

    /// The admin's settings for `app_id`; an app nobody configured needs consent and no assignment.
    pub fn enterprise_app(&self, app_id: &str) -> EnterpriseApp {
        self.enterprise_apps
            .iter()
            .find(|sp| sp.app_id.eq_ignore_ascii_case(app_id))
            .cloned()
            .unwrap_or_else(|| EnterpriseApp { app_id: app_id.to_owned(), ..EnterpriseApp::default() })
    }

    /// The user with this UPN (case-insensitive, as Entra matches sign-in names).
    pub fn user_by_upn(&self, upn: &str) -> Option<&User> {
        self.users.iter().find(|user| user.upn.eq_ignore_ascii_case(upn))
    }

    /// The user with this object id.
    pub fn user_by_oid(&self, oid: &str) -> Option<&User> {
        self.users.iter().find(|user| user.oid == oid)
    }

    fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|group| group.id == id)
    }

    /// Every group `user` belongs to, directly or through nesting, each once.
    pub fn transitive_groups(&self, user: &User) -> Vec<&Group> {
        let mut seen = BTreeSet::new();
        let mut pending: Vec<&str> = user.member_of.iter().map(String::as_str).collect();
        let mut groups = Vec::new();
        while let Some(id) = pending.pop() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(group) = self.group(id) {
                groups.push(group);
                pending.extend(group.member_of.iter().map(String::as_str));
            }
        }
        groups.sort_by(|a, b| a.id.cmp(&b.id));
        groups
    }

    /// Whether `user` may sign in to `app_id`: always, unless assignment is required; then only
    /// when the user, or a group the user is a direct member of, is assigned.
    pub fn is_assigned(&self, app_id: &str, user: &User) -> bool {
        let sp = self.enterprise_app(app_id);
        !sp.assignment_required || sp.assigned.iter().any(|id| *id == user.oid || user.member_of.contains(id))
    }

    /// The groups claim that `resource`'s access tokens carry for `user`.
    pub fn groups_claim(&self, resource: &AppRegistration, user: &User) -> GroupsClaim {
        let groups: Vec<&Group> = match resource.group_membership {
            GroupMembership::None => return GroupsClaim::Absent,
            GroupMembership::SecurityGroup => self.transitive_groups(user),
            GroupMembership::ApplicationGroup => {
                let assigned = self.enterprise_app(&resource.app_id).assigned;
                user.member_of.iter().filter(|id| assigned.contains(id)).filter_map(|id| self.group(id)).collect()
            }
        };
        let format = resource.group_format;
        let values: Vec<String> = groups.iter().filter_map(|group| format.write(group)).collect();
        match values.len() {
            0 => GroupsClaim::Absent,
            n if n > GROUP_OVERAGE_LIMIT => GroupsClaim::Overage,
            _ => GroupsClaim::Groups(values),
        }
    }
}

impl GroupFormat {
    /// The claim the groups go into: `groups`, or `roles` when the registration emits them so.
    pub fn claim(&self) -> &'static str {
        if self.emit_as_roles {
            "roles"
        } else {
            "groups"
        }
    }

    /// The claim value for `group`, or `None` when this format leaves it out.
    pub fn write(&self, group: &Group) -> Option<String> {
        match (&group.on_premises, self.on_premises) {
            (Some(on_prem), Some(OnPremisesFormat::SamAccountName)) => Some(on_prem.sam_account_name.clone()),
            (Some(on_prem), Some(OnPremisesFormat::NetbiosDomain)) => {
                Some(format!("{}\\{}", on_prem.netbios_domain, on_prem.sam_account_name))
            }
            (Some(on_prem), Some(OnPremisesFormat::DnsDomain)) => {
                Some(format!("{}\\{}", on_prem.dns_domain, on_prem.sam_account_name))
            }
            (None, _) if self.cloud_display_name => Some(group.display_name.clone()),
            // An on-premises format leaves groups without on-premises attributes out.
            (None, Some(_)) => None,
            (_, None) => Some(group.id.clone()),
        }
    }
}

impl AppRegistration {
    /// The registered redirect URI that `requested` matches, with its platform. Matching is
    /// exact and case-sensitive, except that `http://localhost` ignores the port, as in Entra.
    pub fn redirect_uri(&self, requested: &str) -> Option<Platform> {
        self.redirect_uris
            .iter()
            .find(|(_, registered)| redirect_uri_matches(registered, requested))
            .map(|(platform, _)| *platform)
    }

    /// Whether `origin` is the origin of one of this app's SPA redirect URIs.
    pub fn is_spa_origin(&self, origin: &str) -> bool {
        self.redirect_uris
            .iter()
            .filter(|(platform, _)| *platform == Platform::Spa)
            .any(|(_, uri)| redirect_uri_matches(&format!("{}/", origin_of(uri)), &format!("{origin}/")))
    }

    /// The exposed scope named `value`.
    pub fn scope(&self, value: &str) -> Option<&ExposedScope> {
        self.scopes.iter().find(|scope| scope.value == value)
    }

    /// Whether `resource_app_id` pre-authorizes this client for `scope_id`.
    pub fn pre_authorizes(&self, client_id: &str, scope_id: &str) -> bool {
        self.pre_authorized
            .iter()
            .any(|(client, scopes)| client.eq_ignore_ascii_case(client_id) && scopes.iter().any(|s| s == scope_id))
    }

    /// Whether this app's `requiredResourceAccess` lists `scope_id` of `resource_app_id`.
    pub fn requires(&self, resource_app_id: &str, scope_id: &str) -> bool {
        self.required_resource_access.iter().any(|(resource, scopes)| {
            resource.eq_ignore_ascii_case(resource_app_id) && scopes.iter().any(|s| s == scope_id)
        })
    }
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

fn redirect_uri_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    // A loopback redirect URI (RFC 8252 §7.3) matches on any port, as Entra matches
    // `http://localhost` and `http://127.0.0.1`: a native client listens where the OS lets it.
    fn without_loopback_port(uri: &str) -> Option<(&str, &str)> {
        let (host, rest) = ["http://localhost", "http://127.0.0.1"]
            .iter()
            .find_map(|host| uri.strip_prefix(host).map(|rest| (*host, rest)))?;
        let path_start = if let Some(port_and_path) = rest.strip_prefix(':') {
            let digits = port_and_path.find(|c: char| !c.is_ascii_digit()).unwrap_or(port_and_path.len());
            1 + digits
        } else {
            0
        };
        let path = &rest[path_start..];
        // `http://localhost` and `http://localhost/` are the same URI.
        Some((host, if path.is_empty() { "/" } else { path }))
    }
    match (without_loopback_port(registered), without_loopback_port(requested)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The demo directory: Contoso (the README's tenant) and Fabrikam (a second tenant for
/// multi-tenant and several-profile runs).
pub mod demo {
    use super::*;

    /// Tenant id of the demo tenant.
    pub const TENANT_ID: &str = "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    /// Client id of the demo app registration (SPA and API in one).
    pub const CLIENT_ID: &str = "6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d";
    /// The delegated scope the API exposes.
    pub const SCOPE: &str = "UserProfile.ReadWrite";
    /// Entra's redirect URI for native clients that have no loopback listener.
    pub const NATIVE_CLIENT_REDIRECT_URI: &str = "https://login.microsoftonline.com/common/oauth2/nativeclient";
    /// Its permission id.
    pub const SCOPE_ID: &str = "3c1e7a52-8f0b-4d6a-9e21-5b7c0d4f8a13";
    /// Tenant id of the second demo tenant.
    pub const FABRIKAM_TENANT_ID: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
    /// Client id of Fabrikam's own registration of Channels.
    pub const FABRIKAM_CLIENT_ID: &str = "2d4f6a8c-0b1d-4e3f-8a5c-7e9b1d3f5a70";

    fn group(id: &str, name: &str, synced: bool, netbios: &str, dns: &str) -> Group {
        Group {
            id: id.to_owned(),
            display_name: name.to_owned(),
            on_premises: synced.then(|| OnPremises {
                sam_account_name: name.to_owned(),
                netbios_domain: netbios.to_owned(),
                dns_domain: dns.to_owned(),
            }),
            member_of: Vec::new(),
        }
    }

    fn user(oid: &str, upn: &str, name: &str, member_of: &[&str]) -> User {
        let member_of: Vec<String> = member_of.iter().map(|s| s.to_string()).collect();
        User::member(oid, upn, name, &member_of)
    }

    /// The Channels registration as docs/entra-setup.md tells an admin to make it.
    pub fn channels_app(app_id: &str, scope_id: &str, redirect_uris: &[&str]) -> AppRegistration {
        AppRegistration {
            app_id: app_id.to_owned(),
            display_name: "Channels".to_owned(),
            audience: Audience::MyOrg,
            identifier_uris: vec![format!("api://{app_id}")],
            redirect_uris: redirect_uris.iter().map(|uri| (Platform::Spa, uri.to_string())).collect(),
            logout_url: None,
            token_version: TokenVersion::V2,
            scopes: vec![ExposedScope { id: scope_id.to_owned(), value: SCOPE.to_owned() }],
            pre_authorized: Vec::new(),
            group_membership: GroupMembership::SecurityGroup,
            group_format: GroupFormat { on_premises: Some(OnPremisesFormat::SamAccountName), ..GroupFormat::default() },
            access_token_claims: OptionalClaims { upn: true, guest_upn: true, ..OptionalClaims::default() },
            // The session id, which the SPA's front-channel logout route checks.
            id_token_claims: OptionalClaims { sid: true, ..OptionalClaims::default() },
            required_resource_access: vec![(app_id.to_owned(), vec![scope_id.to_owned()])],
            implicit_grant: ImplicitGrant::default(),
            public_client_flows: false,
        }
    }

    /// The registration with the native client enabled, as docs/entra-setup.md's Mobile and
    /// desktop step makes it: a loopback redirect URI for `channels login`, and Entra's
    /// `nativeclient` URI for desktop and mobile clients that use it. *Allow public client
    /// flows* stays off, as Instant Connect's guide advises: the device code flow then fails
    /// with AADSTS7000218.
    pub fn native_client(mut app: AppRegistration) -> AppRegistration {
        app.redirect_uris.extend(
            ["http://localhost", NATIVE_CLIENT_REDIRECT_URI].map(|uri| (Platform::PublicClient, uri.to_owned())),
        );
        app
    }

    /// Builds Contoso, the demo tenant.
    pub fn tenant() -> Tenant {
        const DISPATCH: &str = "0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0001";
        const FIRE_NORTH: &str = "0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0002";
        const POLICE_SOUTH: &str = "0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0003";
        const MARKETING: &str = "0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0004";
        let synced = |id: &str, name: &str| group(id, name, true, "CONTOSO", "contoso.example");
        let mut groups =
            vec![synced(DISPATCH, "Dispatch"), synced(FIRE_NORTH, "Fire-North"), synced(POLICE_SOUTH, "Police-South")];
        groups.push(group(MARKETING, "Marketing", false, "", ""));
        // Dave's 230 synced site groups push his token over the 200-group limit.
        let sites: Vec<Group> =
            (1..=230).map(|n| synced(&format!("5173e000-0000-4000-8000-{n:012}"), &format!("Site-{n:03}"))).collect();
        let dave_groups: Vec<&str> = sites.iter().map(|g| g.id.as_str()).collect();
        let users = vec![
            user(
                "a11ce000-0000-4000-8000-000000000001",
                "alice@contoso.example",
                "Alice Moreau",
                &[DISPATCH, FIRE_NORTH],
            ),
            user("b0b00000-0000-4000-8000-000000000002", "bob@contoso.example", "Bob Okafor", &[POLICE_SOUTH]),
            user("ca201000-0000-4000-8000-000000000003", "carol@contoso.example", "Carol Lindqvist", &[MARKETING]),
            user("da4e0000-0000-4000-8000-000000000004", "dave@contoso.example", "Dave Ng", &dave_groups),
            user(
                "e4140000-0000-4000-8000-000000000005",
                "erin_partner.example#EXT#@contoso.example",
                "Erin Walsh",
                &[DISPATCH],
            ),
        ];
        groups.extend(sites);
        Tenant {
            id: TENANT_ID.to_owned(),
            display_name: "Contoso".to_owned(),
            domains: vec!["contoso.example".to_owned()],
            users,
            groups,
            apps: vec![native_client(channels_app(
                CLIENT_ID,
                SCOPE_ID,
                &["http://localhost:8080/sso", "http://localhost:9300/sso"],
            ))],
            access_token_lifetime: None,
            enterprise_apps: vec![EnterpriseApp {
                app_id: CLIENT_ID.to_owned(),
                admin_consent: true,
                // The demo API requires c1 to save preferences; a policy asks for MFA.
                auth_contexts_requiring_mfa: vec!["c1".to_owned()],
                ..EnterpriseApp::default()
            }],
        }
    }

    /// Builds Fabrikam: one user in a nested synced group, its own Channels registration.
    pub fn fabrikam() -> Tenant {
        const OPERATIONS: &str = "fab00000-0000-4000-8000-0000000000a1";
        const HARBOUR: &str = "fab00000-0000-4000-8000-0000000000a2";
        let synced = |id: &str, name: &str| group(id, name, true, "FABRIKAM", "fabrikam.example");
        let mut harbour = synced(HARBOUR, "Harbour");
        // Harbour is nested in Operations: Frank, a member of Harbour, is in both.
        harbour.member_of.push(OPERATIONS.to_owned());
        Tenant {
            id: FABRIKAM_TENANT_ID.to_owned(),
            display_name: "Fabrikam".to_owned(),
            domains: vec!["fabrikam.example".to_owned()],
            users: vec![user(
                "f4a4c000-0000-4000-8000-000000000006",
                "frank@fabrikam.example",
                "Frank Osei",
                &[HARBOUR],
            )],
            groups: vec![synced(OPERATIONS, "Operations"), harbour],
            apps: vec![native_client(channels_app(
                FABRIKAM_CLIENT_ID,
                "7d2b9c40-1e3f-4a5b-8c6d-0f1e2d3c4b5a",
                &["http://localhost:8080/sso", "http://localhost:9300/sso"],
            ))],
            access_token_lifetime: None,
            enterprise_apps: vec![EnterpriseApp {
                app_id: FABRIKAM_CLIENT_ID.to_owned(),
                admin_consent: true,
                ..EnterpriseApp::default()
            }],
        }
    }

    /// Both demo tenants.
    pub fn directory() -> Directory {
        Directory { tenants: vec![tenant(), fabrikam()], cloud: Cloud::Global }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_redirect_uris_ignore_the_port_and_nothing_else() {
        assert!(redirect_uri_matches("http://localhost:8080/sso", "http://localhost:8080/sso"));
        assert!(redirect_uri_matches("http://localhost:8080/sso", "http://localhost:19300/sso"));
        assert!(redirect_uri_matches("http://localhost:8080/sso", "http://localhost/sso"));
        assert!(!redirect_uri_matches("http://localhost:8080/sso", "http://localhost:8080/SSO"));
        assert!(!redirect_uri_matches("http://localhost:8080/sso", "http://localhost.evil:8080/sso"));
        assert!(!redirect_uri_matches("http://localhost:8080/sso", "http://127.0.0.1:8080/sso"));
        assert!(!redirect_uri_matches("https://a.example/sso", "https://a.example/sso/"));
    }

    #[test]
    fn demo_groups_claim_follows_entra_rules() {
        let tenant = demo::tenant();
        let app = &tenant.apps[0];
        let claim = |upn| tenant.groups_claim(app, tenant.user_by_upn(upn).unwrap());
        assert_eq!(claim("alice@contoso.example"), GroupsClaim::Groups(vec!["Dispatch".into(), "Fire-North".into()]));
        assert_eq!(claim("carol@contoso.example"), GroupsClaim::Absent, "cloud-only groups are left out");
        assert_eq!(claim("dave@contoso.example"), GroupsClaim::Overage);
    }

    #[test]
    fn every_group_format_writes_what_entra_writes() {
        let tenant = demo::tenant();
        let alice = tenant.user_by_upn("alice@contoso.example").unwrap();
        let carol = tenant.user_by_upn("carol@contoso.example").unwrap();
        let mut app = tenant.apps[0].clone();
        let mut claim = |format: GroupFormat, user: &User| {
            app.group_format = format;
            tenant.groups_claim(&app, user)
        };
        let on_prem = |format| GroupFormat { on_premises: Some(format), ..GroupFormat::default() };
        assert_eq!(
            claim(on_prem(OnPremisesFormat::NetbiosDomain), alice),
            GroupsClaim::Groups(vec!["CONTOSO\\Dispatch".into(), "CONTOSO\\Fire-North".into()])
        );
        assert_eq!(
            claim(on_prem(OnPremisesFormat::DnsDomain), alice),
            GroupsClaim::Groups(vec!["contoso.example\\Dispatch".into(), "contoso.example\\Fire-North".into()])
        );
        assert_eq!(
            claim(GroupFormat::default(), carol),
            GroupsClaim::Groups(vec!["0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0004".into()]),
            "without an on-premises format, every group is written as its object id"
        );
        let cloud = GroupFormat { cloud_display_name: true, ..GroupFormat::default() };
        assert_eq!(claim(cloud, carol), GroupsClaim::Groups(vec!["Marketing".into()]));
    }

    #[test]
    fn nested_groups_count_but_application_groups_are_direct_only() {
        let mut tenant = demo::fabrikam();
        let frank = tenant.users[0].clone();
        let app = tenant.apps[0].clone();
        assert_eq!(tenant.groups_claim(&app, &frank), GroupsClaim::Groups(vec!["Operations".into(), "Harbour".into()]));
        let mut app_groups = app.clone();
        app_groups.group_membership = GroupMembership::ApplicationGroup;
        assert_eq!(tenant.groups_claim(&app_groups, &frank), GroupsClaim::Absent, "no group is assigned yet");
        tenant.enterprise_apps[0].assigned = vec!["fab00000-0000-4000-8000-0000000000a1".into()];
        assert_eq!(
            tenant.groups_claim(&app_groups, &frank),
            GroupsClaim::Absent,
            "Operations is assigned, but Frank is only in it through Harbour"
        );
        tenant.enterprise_apps[0].assigned = vec!["fab00000-0000-4000-8000-0000000000a2".into()];
        assert_eq!(tenant.groups_claim(&app_groups, &frank), GroupsClaim::Groups(vec!["Harbour".into()]));
    }

    #[test]
    fn assignment_required_admits_assigned_users_and_direct_group_members() {
        let mut tenant = demo::tenant();
        let alice = tenant.user_by_upn("alice@contoso.example").unwrap().clone();
        let bob = tenant.user_by_upn("bob@contoso.example").unwrap().clone();
        assert!(tenant.is_assigned(demo::CLIENT_ID, &bob), "assignment is not required by default");
        tenant.enterprise_apps[0].assignment_required = true;
        tenant.enterprise_apps[0].assigned = vec!["0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0001".into()];
        assert!(tenant.is_assigned(demo::CLIENT_ID, &alice), "alice is in Dispatch, which is assigned");
        assert!(!tenant.is_assigned(demo::CLIENT_ID, &bob));
        tenant.enterprise_apps[0].assigned.push(bob.oid.clone());
        assert!(tenant.is_assigned(demo::CLIENT_ID, &bob));
    }

    #[test]
    fn spa_origins_come_from_spa_redirect_uris() {
        let tenant = demo::tenant();
        let app = &tenant.apps[0];
        assert!(app.is_spa_origin("http://localhost:8080"));
        assert!(app.is_spa_origin("http://localhost:19300"));
        assert!(!app.is_spa_origin("http://evil.example"));
        let directory = demo::directory();
        assert_eq!(directory.resource(&format!("api://{}", demo::CLIENT_ID)).unwrap().app_id, demo::CLIENT_ID);
        assert_eq!(directory.resource(demo::FABRIKAM_CLIENT_ID).unwrap().app_id, demo::FABRIKAM_CLIENT_ID);
        assert!(directory.resource("api://other").is_none());
    }
}
