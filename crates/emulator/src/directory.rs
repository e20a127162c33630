//! The tenant the emulator serves: its users, groups and app registration.
//!
//! [`Tenant::demo`] is the built-in demo tenant that local runs and tests use. The group
//! claim follows Entra's rules: with an on-premises format (`sam_account_name`), groups that
//! were never synced from AD are left out, and more than [`GROUP_OVERAGE_LIMIT`] groups
//! replace the claim by an overage pointer.

/// Entra drops `groups` from a JWT when the user is in more groups than this.
pub const GROUP_OVERAGE_LIMIT: usize = 200;

/// A directory (tenant).
#[derive(Debug, Clone)]
pub struct Tenant {
    /// The tenant id (GUID).
    pub id: String,
    /// Verified domains, usable in place of the id in URLs.
    pub domains: Vec<String>,
    /// People who can sign in.
    pub users: Vec<User>,
    /// Security groups.
    pub groups: Vec<Group>,
    /// App registrations.
    pub apps: Vec<AppRegistration>,
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
    /// Object ids of the groups the user is a direct member of.
    pub member_of: Vec<String>,
}

/// A security group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Object id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// The on-premises name, present only for groups synced from AD.
    pub sam_account_name: Option<String>,
}

/// Where a redirect URI is registered; it decides CORS and PKCE rules at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Single-page application: public client, cross-origin redemption with PKCE.
    Spa,
    /// Web: confidential client, redeemed by a server with a secret.
    Web,
}

/// The `groups` optional claim's format (`additionalProperties`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupFormat {
    /// Object ids (no additional property).
    ObjectId,
    /// `sam_account_name`: on-premises names; cloud-only groups are left out.
    SamAccountName,
}

/// An app registration, as its manifest describes it.
#[derive(Debug, Clone)]
pub struct AppRegistration {
    /// The client id.
    pub app_id: String,
    /// Display name, shown on the sign-in page.
    pub display_name: String,
    /// App ID URIs (`api://<appId>`).
    pub identifier_uris: Vec<String>,
    /// Redirect URIs with their platform.
    pub redirect_uris: Vec<(Platform, String)>,
    /// Delegated scopes the app exposes (`UserProfile.ReadWrite`).
    pub scopes: Vec<String>,
    /// `groupMembershipClaims` is `SecurityGroup` (or `All`): emit groups.
    pub emit_groups: bool,
    /// The groups claim format.
    pub group_format: GroupFormat,
    /// `upn` is configured as an optional access token claim.
    pub upn_claim: bool,
}

/// The groups claim of one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupsClaim {
    /// No claim at all: none configured, or no group survives the format.
    Absent,
    /// The names (or ids) to emit.
    Groups(Vec<String>),
    /// Too many groups: emit `_claim_names`/`_claim_sources` instead.
    Overage,
}

impl Tenant {
    /// Whether `segment` (the `{tenant}` path segment) names this tenant.
    pub fn is_named(&self, segment: &str) -> bool {
        segment.eq_ignore_ascii_case(&self.id) || self.domains.iter().any(|d| d.eq_ignore_ascii_case(segment))
    }

    /// The app with this client id.
    pub fn app(&self, client_id: &str) -> Option<&AppRegistration> {
        self.apps.iter().find(|app| app.app_id.eq_ignore_ascii_case(client_id))
    }

    /// The user with this UPN (case-insensitive, as Entra matches sign-in names).
    pub fn user_by_upn(&self, upn: &str) -> Option<&User> {
        self.users.iter().find(|user| user.upn.eq_ignore_ascii_case(upn))
    }

    /// The user with this object id.
    pub fn user_by_oid(&self, oid: &str) -> Option<&User> {
        self.users.iter().find(|user| user.oid == oid)
    }

    /// The groups claim `app` gets for `user`.
    pub fn groups_claim(&self, app: &AppRegistration, user: &User) -> GroupsClaim {
        if !app.emit_groups {
            return GroupsClaim::Absent;
        }
        let groups: Vec<&Group> =
            user.member_of.iter().filter_map(|id| self.groups.iter().find(|group| &group.id == id)).collect();
        let values: Vec<String> = match app.group_format {
            GroupFormat::ObjectId => groups.iter().map(|g| g.id.clone()).collect(),
            GroupFormat::SamAccountName => groups.iter().filter_map(|g| g.sam_account_name.clone()).collect(),
        };
        match values.len() {
            0 => GroupsClaim::Absent,
            n if n > GROUP_OVERAGE_LIMIT => GroupsClaim::Overage,
            _ => GroupsClaim::Groups(values),
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

    /// Whether `scope` (`api://…/Name`) is one this app exposes; returns the bare name.
    pub fn exposed_scope<'a>(&self, scope: &'a str) -> Option<&'a str> {
        let (resource, name) = scope.rsplit_once('/')?;
        let ours = self.identifier_uris.iter().any(|uri| uri == resource) || resource == self.app_id;
        (ours && self.scopes.iter().any(|s| s == name)).then_some(name)
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
    fn without_localhost_port(uri: &str) -> Option<&str> {
        let rest = uri.strip_prefix("http://localhost")?;
        let path_start = if let Some(port_and_path) = rest.strip_prefix(':') {
            let digits = port_and_path.find(|c: char| !c.is_ascii_digit()).unwrap_or(port_and_path.len());
            1 + digits
        } else {
            0
        };
        Some(&rest[path_start..])
    }
    match (without_localhost_port(registered), without_localhost_port(requested)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The demo tenant, Contoso (see the README).
pub mod demo {
    use super::*;

    /// Tenant id of the demo tenant.
    pub const TENANT_ID: &str = "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    /// Client id of the demo app registration (SPA and API in one).
    pub const CLIENT_ID: &str = "6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d";
    /// The delegated scope the API exposes.
    pub const SCOPE: &str = "UserProfile.ReadWrite";

    fn group(id: &str, name: &str, synced: bool) -> Group {
        Group { id: id.to_owned(), display_name: name.to_owned(), sam_account_name: synced.then(|| name.to_owned()) }
    }

    fn user(oid: &str, upn: &str, name: &str, member_of: &[&str]) -> User {
        User {
            oid: oid.to_owned(),
            upn: upn.to_owned(),
            name: name.to_owned(),
            member_of: member_of.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Builds the demo tenant.
    pub fn tenant() -> Tenant {
        const DISPATCH: &str = "0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0001";
        const FIRE_NORTH: &str = "0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0002";
        const POLICE_SOUTH: &str = "0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0003";
        const MARKETING: &str = "0c6a1f52-1d1e-4b1a-9a57-3f0e2a7d0004";
        let mut groups = vec![
            group(DISPATCH, "Dispatch", true),
            group(FIRE_NORTH, "Fire-North", true),
            group(POLICE_SOUTH, "Police-South", true),
            group(MARKETING, "Marketing", false),
        ];
        // Dave's 230 synced site groups push his token over the 200-group limit.
        let sites: Vec<Group> = (1..=230)
            .map(|n| group(&format!("5173e000-0000-4000-8000-{n:012}"), &format!("Site-{n:03}"), true))
            .collect();
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
            domains: vec!["contoso.example".to_owned()],
            users,
            groups,
            apps: vec![AppRegistration {
                app_id: CLIENT_ID.to_owned(),
                display_name: "Channels".to_owned(),
                identifier_uris: vec![format!("api://{CLIENT_ID}")],
                redirect_uris: vec![
                    (Platform::Spa, "http://localhost:8080/sso".to_owned()),
                    (Platform::Spa, "http://localhost:9300/sso".to_owned()),
                ],
                scopes: vec![SCOPE.to_owned()],
                emit_groups: true,
                group_format: GroupFormat::SamAccountName,
                upn_claim: true,
            }],
        }
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
    fn spa_origins_come_from_spa_redirect_uris() {
        let tenant = demo::tenant();
        let app = &tenant.apps[0];
        assert!(app.is_spa_origin("http://localhost:8080"));
        assert!(app.is_spa_origin("http://localhost:19300"));
        assert!(!app.is_spa_origin("http://evil.example"));
        assert_eq!(
            app.exposed_scope(&format!("api://{}/UserProfile.ReadWrite", demo::CLIENT_ID)),
            Some("UserProfile.ReadWrite")
        );
        assert_eq!(app.exposed_scope("api://other/UserProfile.ReadWrite"), None);
    }
}
