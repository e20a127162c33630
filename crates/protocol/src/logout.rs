//! Front-channel logout (OpenID Connect Front-Channel Logout 1.0): the identity provider opens
//! the app's logout URL with the `sid` of the session that ended, and the app ends its session
//! only when that is its session. Anyone can open the URL; only Entra knows the `sid`, which
//! comes in the ID token (an optional claim the registration asks for).
//!
//! Entra sends `sid` alone (no `iss`, unlike the specification's example); an `iss`, when one
//! comes, must be the session's issuer too.

use serde::{Deserialize, Serialize};

/// The SPA's front-channel logout route (the URL an admin may register as the front-channel
/// logout URL); the API lets only the authority frame it.
pub const PATH: &str = "/logout";

/// What identifies a signed-in session to a front-channel logout: its ID token's issuer and
/// session id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutId {
    /// The ID token's `iss`.
    pub iss: String,
    /// The ID token's `sid`.
    pub sid: String,
}

/// A front-channel logout request: `?sid=…[&iss=…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontChannelLogout {
    sid: String,
    iss: Option<String>,
}

impl FrontChannelLogout {
    /// Reads the logout URL's query (`?` first or not); a request without a `sid` (or with two)
    /// is not one, and says why.
    pub fn parse(query: &str) -> Result<Self, String> {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut sid = Vec::new();
        let mut iss = Vec::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                "sid" => sid.push(value.into_owned()),
                "iss" => iss.push(value.into_owned()),
                _ => {}
            }
        }
        if sid.is_empty() {
            return Err("expected the sid of the session that ended (found none)".to_owned());
        }
        if sid.len() > 1 || sid[0].is_empty() || iss.len() > 1 {
            return Err("expected one sid and at most one iss (found more, or an empty sid)".to_owned());
        }
        Ok(Self { sid: sid.remove(0), iss: iss.pop() })
    }

    /// Whether this request ends the session identified by `session` (`None`: a session whose
    /// ID token had no `sid`, which no front-channel logout can name).
    pub fn ends(&self, session: Option<&LogoutId>) -> bool {
        session
            .is_some_and(|session| session.sid == self.sid && self.iss.as_ref().is_none_or(|iss| *iss == session.iss))
    }

    /// The request as a query again (to pass it to the other tabs).
    pub fn to_query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("sid", &self.sid);
        if let Some(iss) = &self.iss {
            query.append_pair("iss", iss);
        }
        query.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> LogoutId {
        LogoutId { iss: "https://login.microsoftonline.com/t/v2.0".into(), sid: "00a1-sid".into() }
    }

    #[test]
    fn only_the_sessions_own_sid_and_issuer_end_it() {
        let ours = FrontChannelLogout::parse("sid=00a1-sid").unwrap();
        assert!(ours.ends(Some(&session())), "Entra's form: sid alone");
        assert_eq!(FrontChannelLogout::parse("?sid=00a1-sid").unwrap(), ours, "as location.search gives it");
        let with_issuer =
            FrontChannelLogout::parse("iss=https%3A%2F%2Flogin.microsoftonline.com%2Ft%2Fv2.0&sid=00a1-sid");
        assert!(with_issuer.unwrap().ends(Some(&session())), "the specification's form");
        for other in ["sid=00a1-other", "sid=00A1-SID", "sid=00a1-sid&iss=https%3A%2F%2Fevil.example%2Ft%2Fv2.0"] {
            assert!(!FrontChannelLogout::parse(other).unwrap().ends(Some(&session())), "{other}");
        }
        assert!(!ours.ends(None), "a session without a sid cannot be named");
        assert_eq!(FrontChannelLogout::parse(&with_issuer_query()).unwrap().to_query(), with_issuer_query());
    }

    fn with_issuer_query() -> String {
        "sid=00a1-sid&iss=https%3A%2F%2Flogin.microsoftonline.com%2Ft%2Fv2.0".to_owned()
    }

    #[test]
    fn a_request_without_exactly_one_sid_is_not_a_logout() {
        assert_eq!(
            FrontChannelLogout::parse("").unwrap_err(),
            "expected the sid of the session that ended (found none)"
        );
        assert!(FrontChannelLogout::parse("iss=x").is_err());
        assert!(FrontChannelLogout::parse("sid=").is_err());
        assert!(FrontChannelLogout::parse("sid=a&sid=b").is_err());
        assert!(FrontChannelLogout::parse("sid=a&iss=x&iss=y").is_err());
    }
}
