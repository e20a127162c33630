//! Step 5 (when sign-in fails): Entra's errors, typed and explained.
//!
//! Entra answers with an OAuth `error` and an `error_description` that begins with an
//! `AADSTS<number>:` code. Branch on the code, never on the free text (Microsoft's
//! `reference-error-codes`). [`KNOWN_ERRORS`] holds what each code means and the portal
//! step that fixes it; it is the one source for the SPA's messages and the docs.

/// An error returned by the identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// The OAuth error code (`invalid_request`, `invalid_grant`, `access_denied`, …).
    pub error: String,
    /// The AADSTS number, when the description starts with one.
    pub aadsts: Option<u32>,
    /// Entra's description, kept verbatim (shown as text, never as HTML).
    pub description: String,
}

impl ProviderError {
    /// Builds the error and reads the AADSTS number from the start of the description.
    pub fn new(error: impl Into<String>, description: impl Into<String>) -> Self {
        let description = description.into();
        let aadsts = description.strip_prefix("AADSTS").and_then(|rest| {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            rest[..digits].parse().ok()
        });
        Self { error: error.into(), aadsts, description }
    }

    /// What this code means and how to fix it, when it is one we know.
    pub fn known(&self) -> Option<&'static KnownError> {
        let code = self.aadsts?;
        KNOWN_ERRORS.iter().find(|known| known.codes.contains(&code))
    }
}

impl std::fmt::Display for ProviderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.known() {
            Some(known) => write!(f, "{} {}", known.meaning, known.fix),
            None if self.description.is_empty() => write!(f, "Sign-in failed: {}.", self.error),
            None => write!(f, "Sign-in failed: {}", self.description),
        }
    }
}

/// One row of the troubleshooting table.
#[derive(Debug)]
pub struct KnownError {
    /// The AADSTS numbers this row covers.
    pub codes: &'static [u32],
    /// What happened, in plain words.
    pub meaning: &'static str,
    /// What to do, with the exact portal step where an admin can fix it.
    pub fix: &'static str,
}

macro_rules! known {
    ($codes:expr, $meaning:expr, $fix:expr) => {
        KnownError { codes: &$codes, meaning: $meaning, fix: $fix }
    };
}

/// Every code in shared/ENTRA.md §6, and the other codes a misconfiguration of this app can
/// cause (the emulator produces each), with its meaning and fix.
pub const KNOWN_ERRORS: &[KnownError] = &[
    known!([50011], "The redirect URI of this app is not registered in Entra.",
        "Admin: App registrations → this app → Authentication → Single-page application → add this site's exact /sso URI."),
    known!([500113], "The app registration has no reply address.",
        "Admin: App registrations → this app → Authentication → Add a platform → Single-page application → add this site's /sso URI."),
    known!([9002326], "The redirect URI is registered as a Web platform, so the browser may not redeem the code.",
        "Admin: App registrations → this app → Authentication → move the URI from Web to Single-page application."),
    known!([9002327], "A single-page-app code was redeemed without an Origin header.",
        "Redeem the code from the browser, not from a server."),
    known!([7000218], "Entra expected a client secret, because the redirect URI sits under the Web platform.",
        "Admin: App registrations → this app → Authentication → move the URI from Web to Single-page application."),
    known!([700082], "Your terminal sign-in was unused for 90 days, so Entra ended it.",
        "Run `channels login` again."),
    known!([70020, 70019], "The device code expired before anyone signed in with it (15 minutes).",
        "Run `channels login --device-code` again and enter the new code within 15 minutes."),
    known!([700054], "This organisation signs in with the implicit flow, which asks /authorize for an ID token, and the app registration does not allow it.",
        "Admin: prefer the code flow: remove implicit_flow from this organisation in the API's configuration. If the tenant needs the implicit flow, App registrations → this app → Authentication → Implicit grant and hybrid flows → tick ID tokens and Access tokens."),
    known!([700051], "This organisation signs in with the implicit flow, which asks /authorize for an access token, and the app registration does not allow it.",
        "Admin: prefer the code flow: remove implicit_flow from this organisation in the API's configuration. If the tenant needs the implicit flow, App registrations → this app → Authentication → Implicit grant and hybrid flows → tick Access tokens and ID tokens."),
    known!([65001], "Nobody has consented to this app's API scope.",
        "Admin: App registrations → this app → API permissions → Grant admin consent, or pre-authorize the app under Expose an API."),
    known!([65004], "You declined the permissions the app asked for.",
        "Sign in again and accept, or ask an admin to grant consent for the organisation."),
    known!([650057], "The API scope is not among the app's API permissions.",
        "Admin: App registrations → this app → API permissions → Add a permission → My APIs → add the UserProfile.ReadWrite scope."),
    known!([500011], "The API (App ID URI) in the requested scope does not exist in this tenant.",
        "Admin: check the scope's App ID URI under Expose an API, and consent the API in this tenant."),
    known!([50105], "You are not assigned to this app.",
        "Admin: Enterprise applications → this app → Users and groups → Add user/group."),
    known!([50076, 50079], "Your organisation requires multi-factor authentication.",
        "Sign in again and complete the MFA prompt (or register a method if asked)."),
    known!([53003], "A Conditional Access policy blocked this sign-in.",
        "Admin: Entra ID → Sign-in logs → find this sign-in → Conditional Access tab."),
    known!([700016], "Entra has no app with this client id in this tenant.",
        "Admin: check the tenant id and client id in this app's configuration against App registrations → Overview."),
    known!([90009], "The app asked for a token for itself by its URI.",
        "Use the GUID form of the scope: api://<client-id>/UserProfile.ReadWrite."),
    known!([501481, 50148], "The PKCE code verifier did not match the challenge.",
        "Start the sign-in again in one tab; do not reuse an old sign-in link."),
    known!([70011, 28003], "The requested scope is invalid.",
        "Admin: use the full scope api://<client-id>/UserProfile.ReadWrite in the configuration."),
    known!([700084], "Your session is older than the 24 hours Entra allows a browser app.",
        "Sign in again."),
    known!([50058], "You have no active Entra session for a silent sign-in.",
        "Sign in interactively."),
    known!([16000], "You are signed in at Microsoft with another account than this app's session.",
        "Sign in again and pick your account."),
    known!([54005], "This sign-in code was already used.",
        "Start the sign-in again; never reload the /sso page."),
    known!([650053], "The app asked for a scope that its API does not expose.",
        "Admin: App registrations → the API → Expose an API → check the scope name (UserProfile.ReadWrite) and that it is enabled; fix spa.scope if it was changed."),
    known!([50194], "The app is registered for one organisation but signed in through the multi-tenant 'common' endpoint.",
        "Admin: set entra.tenant_id to the tenant GUID, or App registrations → this app → Authentication → Supported account types → multitenant."),
    known!([90002], "Entra has no tenant with this id or domain.",
        "Admin: set entra.tenant_id to the Directory (tenant) ID from Entra ID → Overview."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aadsts_number_is_read_from_the_description() {
        let error = ProviderError::new("invalid_request", "AADSTS50011: The redirect URI 'x' does not match.");
        assert_eq!(error.aadsts, Some(50011));
        assert!(error.to_string().contains("Authentication → Single-page application"));
        assert_eq!(ProviderError::new("server_error", "no code here").aadsts, None);
        assert_eq!(ProviderError::new("server_error", "AADSTS: nothing").aadsts, None);
    }

    #[test]
    fn every_code_of_the_entra_table_is_known() {
        let table = [
            50011, 500113, 9002326, 9002327, 7000218, 700054, 700051, 65001, 65004, 650057, 500011, 50105, 50076,
            50079, 53003, 700016, 90009, 501481, 50148, 70011, 28003, 700084, 50058, 54005, 650053, 50194, 90002,
            16000, // the emulator: a silent request for another account than the session's
        ];
        for code in table {
            let error = ProviderError::new("invalid_request", format!("AADSTS{code}: x"));
            assert!(error.known().is_some(), "AADSTS{code} has no explanation");
        }
    }

    #[test]
    fn unknown_codes_keep_entra_text() {
        let error = ProviderError::new("invalid_request", "AADSTS99999: Something new.");
        assert!(error.known().is_none());
        assert_eq!(error.to_string(), "Sign-in failed: AADSTS99999: Something new.");
    }
}
