//! Which Microsoft cloud a tenant lives in, and the shapes that follow from it: the issuers of
//! its tokens, the audiences of its Microsoft Graph, and, in Entra External ID, groups as object
//! ids only. Microsoft documents each cloud's hosts (national clouds, External ID's
//! `<tenant>.ciamlogin.com`); the issuers are those of each cloud's discovery documents.

use serde::{Deserialize, Serialize};

/// Microsoft Graph's application id, the same in every cloud.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// A Microsoft cloud.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cloud {
    /// The global cloud (`login.microsoftonline.com`); its v2 issuer is the authority's own
    /// origin, so the emulator on loopback is this cloud too.
    #[default]
    Global,
    /// Azure Government (`login.microsoftonline.us`).
    UsGovernment,
    /// Azure operated by 21Vianet (`login.chinacloudapi.cn`, alias
    /// `login.partner.microsoftonline.cn`).
    China,
    /// Entra External ID in an external tenant (`<tenant>.ciamlogin.com`): groups come as object
    /// ids only, since nothing syncs from on-premises AD there.
    ExternalId,
}

/// The lower-case host of an `https://` origin.
fn host_of(authority: &str) -> Option<String> {
    let rest = authority.strip_prefix("https://")?;
    Some(rest.split(['/', ':']).next()?.to_ascii_lowercase())
}

/// Every cloud's Microsoft Graph audience URLs.
const GRAPH_AUDIENCES: [(Cloud, &str); 5] = [
    (Cloud::Global, "https://graph.microsoft.com"),
    (Cloud::ExternalId, "https://graph.microsoft.com"),
    (Cloud::UsGovernment, "https://graph.microsoft.us"),
    (Cloud::UsGovernment, "https://dod-graph.microsoft.us"),
    (Cloud::China, "https://microsoftgraph.chinacloudapi.cn"),
];

impl Cloud {
    /// The names configuration accepts.
    pub const NAMES: &'static str = "global, us_government, china or external_id";

    /// The cloud named `name` (as in configuration: `us_government`…).
    pub fn parse(name: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::from(name)).ok()
    }

    /// Its name, as configuration spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::UsGovernment => "us_government",
            Self::China => "china",
            Self::ExternalId => "external_id",
        }
    }

    /// The cloud whose sign-in host `authority` (`https://host`) is, when it is one of
    /// Microsoft's; `None` for any other host (the emulator, a proxy).
    pub fn of_authority(authority: &str) -> Option<Self> {
        match host_of(authority)?.as_str() {
            "login.microsoftonline.com" => Some(Self::Global),
            "login.microsoftonline.us" => Some(Self::UsGovernment),
            "login.chinacloudapi.cn" | "login.partner.microsoftonline.cn" => Some(Self::China),
            host if host.ends_with(".ciamlogin.com") => Some(Self::ExternalId),
            _ => None,
        }
    }

    /// For an older alias of a cloud's sign-in host (`login.windows.net`, `login.microsoft.com`,
    /// `login.usgovcloudapi.net`), the host to use instead: Entra's tokens and metadata name the
    /// main host whichever one signed the user in, so an alias as the authority would refuse
    /// them all.
    pub fn alias_of(authority: &str) -> Option<&'static str> {
        match host_of(authority)?.as_str() {
            "login.windows.net" | "login.microsoft.com" => Some("https://login.microsoftonline.com"),
            "login.usgovcloudapi.net" => Some("https://login.microsoftonline.us"),
            _ => None,
        }
    }

    /// The issuer of v2 tokens of tenant `tid` (`{tenantid}` gives a template) signed in at
    /// `authority`: the authority's own origin in the global cloud (and the emulator's), the
    /// cloud's sign-in host in Azure Government and in China (`login.partner.microsoftonline.cn`,
    /// whichever alias was used), and `https://{tid}.ciamlogin.com` in External ID whatever the
    /// tenant's subdomain.
    pub fn v2_issuer(self, authority: &str, tid: &str) -> String {
        match self {
            Self::Global => format!("{}/{tid}/v2.0", authority.trim_end_matches('/')),
            Self::UsGovernment => format!("https://login.microsoftonline.us/{tid}/v2.0"),
            Self::China => format!("https://login.partner.microsoftonline.cn/{tid}/v2.0"),
            Self::ExternalId => format!("https://{tid}.ciamlogin.com/{tid}/v2.0"),
        }
    }

    /// The issuer of v1 tokens of tenant `tid`; `None` in External ID, which documents none.
    pub fn v1_issuer(self, tid: &str) -> Option<String> {
        match self {
            Self::Global | Self::UsGovernment => Some(format!("https://sts.windows.net/{tid}/")),
            Self::China => Some(format!("https://sts.chinacloudapi.cn/{tid}/")),
            Self::ExternalId => None,
        }
    }

    /// The audience of this cloud's Microsoft Graph tokens asked for by URL.
    pub fn graph_audience(self) -> &'static str {
        GRAPH_AUDIENCES.iter().find(|(cloud, _)| *cloud == self).map(|(_, url)| *url).unwrap_or_default()
    }

    /// Whether `aud` is Microsoft Graph's, in any cloud: its application id, or one of the
    /// clouds' Graph URLs (with or without a trailing `/`).
    pub fn is_graph_audience(aud: &str) -> bool {
        aud.eq_ignore_ascii_case(GRAPH_APP_ID)
            || GRAPH_AUDIENCES.iter().any(|(_, url)| aud.trim_end_matches('/').eq_ignore_ascii_case(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: &str = "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";

    #[test]
    fn each_clouds_sign_in_hosts_name_it() {
        let of = Cloud::of_authority;
        assert_eq!(of("https://login.microsoftonline.com"), Some(Cloud::Global));
        assert_eq!(of("https://LOGIN.microsoftonline.us/"), Some(Cloud::UsGovernment));
        assert_eq!(of("https://login.chinacloudapi.cn"), Some(Cloud::China));
        assert_eq!(of("https://login.partner.microsoftonline.cn"), Some(Cloud::China));
        assert_eq!(of("https://contoso.ciamlogin.com"), Some(Cloud::ExternalId));
        assert_eq!(of("https://ciamlogin.com.example"), None);
        assert_eq!(of("http://127.0.0.1:9400"), None, "the emulator names no cloud");
        assert_eq!(of("http://login.microsoftonline.com"), None, "only https is Microsoft's");
        // Older aliases sign in too, but tokens name the main host: they are pointed to it.
        assert_eq!(of("https://login.windows.net"), None);
        assert_eq!(Cloud::alias_of("https://login.windows.net/"), Some("https://login.microsoftonline.com"));
        assert_eq!(Cloud::alias_of("https://login.microsoft.com"), Some("https://login.microsoftonline.com"));
        assert_eq!(Cloud::alias_of("https://login.usgovcloudapi.net"), Some("https://login.microsoftonline.us"));
        assert_eq!(Cloud::alias_of("https://login.microsoftonline.com"), None);
        for cloud in [Cloud::Global, Cloud::UsGovernment, Cloud::China, Cloud::ExternalId] {
            assert_eq!(Cloud::parse(cloud.name()), Some(cloud));
        }
        assert_eq!(Cloud::parse("gcc-high"), None);
    }

    #[test]
    fn issuers_are_each_clouds_own() {
        let v2 = |cloud: Cloud, authority| cloud.v2_issuer(authority, TID);
        assert_eq!(
            v2(Cloud::Global, "https://login.microsoftonline.com/"),
            format!("https://login.microsoftonline.com/{TID}/v2.0")
        );
        assert_eq!(v2(Cloud::Global, "http://127.0.0.1:9400"), format!("http://127.0.0.1:9400/{TID}/v2.0"));
        assert_eq!(
            v2(Cloud::UsGovernment, "https://login.microsoftonline.us"),
            format!("https://login.microsoftonline.us/{TID}/v2.0")
        );
        assert_eq!(
            v2(Cloud::China, "https://login.chinacloudapi.cn"),
            format!("https://login.partner.microsoftonline.cn/{TID}/v2.0")
        );
        assert_eq!(
            v2(Cloud::ExternalId, "https://contoso.ciamlogin.com"),
            format!("https://{TID}.ciamlogin.com/{TID}/v2.0")
        );
        assert_eq!(Cloud::UsGovernment.v1_issuer(TID), Some(format!("https://sts.windows.net/{TID}/")));
        assert_eq!(Cloud::China.v1_issuer("{tenantid}").as_deref(), Some("https://sts.chinacloudapi.cn/{tenantid}/"));
        assert_eq!(Cloud::ExternalId.v1_issuer(TID), None);
    }

    #[test]
    fn graph_is_recognised_in_every_cloud() {
        assert_eq!(Cloud::UsGovernment.graph_audience(), "https://graph.microsoft.us");
        assert_eq!(Cloud::China.graph_audience(), "https://microsoftgraph.chinacloudapi.cn");
        for aud in [
            GRAPH_APP_ID,
            "https://graph.microsoft.com/",
            "https://dod-graph.microsoft.us",
            "https://microsoftgraph.chinacloudapi.cn",
        ] {
            assert!(Cloud::is_graph_audience(aud), "{aud}");
        }
        assert!(!Cloud::is_graph_audience("api://6b7a8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d"));
    }
}
