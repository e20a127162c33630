//! Newtypes for values that must never reach a log: verifiers, states, nonces, codes, tokens.
//!
//! Each prints as `Name([redacted])` in `Debug`, has no `Display`, and compares only through
//! [`constant_time_eq`] where an attacker could probe it.

/// Defines a secret string newtype with a redacted `Debug` and transparent serde.
#[macro_export]
macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a raw value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
            /// The raw value, for the one place that must send it.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

secret_type!(
    /// The OAuth `state`: binds the callback to the login this tab started.
    State
);
secret_type!(
    /// The OIDC `nonce`: binds the ID token to the login this tab started.
    Nonce
);
secret_type!(
    /// A one-time authorization code from `/authorize`.
    AuthorizationCode
);
secret_type!(
    /// A bearer access token for the API.
    AccessToken
);
secret_type!(
    /// A refresh token (SPA: 24 hours, rotated on each use).
    RefreshToken
);
secret_type!(
    /// An OIDC ID token.
    IdToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_finds_differences_that_cancel_out_under_xor() {
        // "ab" and "ba" differ by the same bits at both positions: an XOR-accumulated difference
        // would be zero. Each difference must count.
        assert!(!constant_time_eq(b"ab", b"ba"));
        assert!(!constant_time_eq(b"abab", b"baba"));
        assert!(constant_time_eq(b"abab", b"abab"));
    }

    #[test]
    fn debug_output_never_shows_the_value() {
        let token = AccessToken::new("eyJhbGciOiJSUzI1NiJ9.payload.signature");
        assert_eq!(format!("{token:?}"), "AccessToken([redacted])");
        assert_eq!(format!("{:?}", State::new("abc")), "State([redacted])");
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"state-1", b"state-1"));
        assert!(!constant_time_eq(b"state-1", b"state-2"));
        assert!(!constant_time_eq(b"state", b"state-1"));
    }
}
