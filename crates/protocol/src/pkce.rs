//! Step 1 of the sign-in: Proof Key for Code Exchange (RFC 7636).
//!
//! The SPA makes a fresh [`CodeVerifier`] for every login from 32 CSPRNG bytes (43 base64url
//! characters, RFC 7636 §4.1), sends only its S256 [`CodeChallenge`] to `/authorize`, and
//! proves possession with the verifier when it redeems the code. The emulator uses
//! [`ChallengeMethod::verify`] on the other side.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use sha2::{Digest, Sha256};

use crate::secret::constant_time_eq;

crate::secret_type!(
    /// The PKCE `code_verifier`. Not `Clone`: one verifier serves exactly one login.
    CodeVerifier
);

/// Why a string is not a valid RFC 7636 verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifierError {
    /// RFC 7636 §4.1 asks for 43 to 128 characters.
    Length(usize),
    /// Only `A-Z a-z 0-9 - . _ ~` are allowed.
    Character(char),
}

impl std::fmt::Display for VerifierError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Length(n) => write!(f, "expected a code_verifier of 43 to 128 characters (found {n})"),
            Self::Character(c) => {
                write!(f, "expected a code_verifier of unreserved characters A-Z a-z 0-9 - . _ ~ (found {c:?})")
            }
        }
    }
}

impl std::error::Error for VerifierError {}

impl CodeVerifier {
    /// A verifier from 32 random bytes: 43 base64url characters, 256 bits of entropy.
    /// The caller supplies the bytes from a CSPRNG (`crypto.getRandomValues` in the browser).
    pub fn from_random_bytes(bytes: &[u8; 32]) -> Self {
        Self::new(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Checks a verifier received from a client against RFC 7636 §4.1.
    pub fn parse(value: &str) -> Result<Self, VerifierError> {
        if !(43..=128).contains(&value.len()) {
            return Err(VerifierError::Length(value.chars().count()));
        }
        if let Some(c) = value.chars().find(|c| !is_unreserved(*c)) {
            return Err(VerifierError::Character(c));
        }
        Ok(Self::new(value))
    }

    /// The S256 challenge: `BASE64URL(SHA256(ASCII(verifier)))`, no padding (RFC 7636 §4.2).
    pub fn challenge(&self) -> CodeChallenge {
        CodeChallenge(s256(self.secret()))
    }
}

fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The S256 `code_challenge` sent to `/authorize`. Public by design.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// The base64url text of the challenge.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `code_challenge_method` as Entra accepts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeMethod {
    /// SHA-256, the only method the SPA sends.
    S256,
    /// The verifier itself; Entra still accepts it, so the emulator does too.
    Plain,
}

impl ChallengeMethod {
    /// Parses the `code_challenge_method` parameter; absent means `plain` (RFC 7636 §4.3).
    pub fn parse(value: Option<&str>) -> Option<Self> {
        match value {
            None | Some("plain") => Some(Self::Plain),
            Some("S256") => Some(Self::S256),
            Some(_) => None,
        }
    }

    /// Whether `verifier` answers `challenge` (RFC 7636 §4.6), compared in constant time.
    pub fn verify(self, challenge: &str, verifier: &str) -> bool {
        let derived = match self {
            Self::S256 => s256(verifier),
            Self::Plain => verifier.to_owned(),
        };
        constant_time_eq(derived.as_bytes(), challenge.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B: these 32 octets give this verifier and this challenge.
    const APPENDIX_B_OCTETS: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191,
        240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = CodeVerifier::from_random_bytes(&APPENDIX_B_OCTETS);
        assert_eq!(verifier.secret(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(verifier.challenge().as_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn verifier_from_random_bytes_is_43_unreserved_characters() {
        let verifier = CodeVerifier::from_random_bytes(&[0xff; 32]);
        assert_eq!(verifier.secret().len(), 43);
        assert!(CodeVerifier::parse(verifier.secret()).is_ok());
    }

    #[test]
    fn parse_rejects_short_long_and_reserved() {
        assert_eq!(CodeVerifier::parse("short").unwrap_err(), VerifierError::Length(5));
        assert_eq!(CodeVerifier::parse(&"a".repeat(129)).unwrap_err(), VerifierError::Length(129));
        let with_plus = format!("{}+", "a".repeat(43));
        assert_eq!(CodeVerifier::parse(&with_plus).unwrap_err(), VerifierError::Character('+'));
        assert_eq!(VerifierError::Length(5).to_string(), "expected a code_verifier of 43 to 128 characters (found 5)");
        assert_eq!(
            VerifierError::Character('+').to_string(),
            "expected a code_verifier of unreserved characters A-Z a-z 0-9 - . _ ~ (found '+')"
        );
    }

    #[test]
    fn challenge_methods_verify_only_the_matching_verifier() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(ChallengeMethod::S256.verify(challenge, verifier));
        assert!(!ChallengeMethod::S256.verify(challenge, &verifier.replace('d', "e")));
        assert!(ChallengeMethod::Plain.verify(verifier, verifier));
        assert!(!ChallengeMethod::Plain.verify(challenge, verifier));
        assert_eq!(ChallengeMethod::parse(None), Some(ChallengeMethod::Plain));
        assert_eq!(ChallengeMethod::parse(Some("S256")), Some(ChallengeMethod::S256));
        assert_eq!(ChallengeMethod::parse(Some("s256")), None);
    }

    #[test]
    fn verifier_debug_is_redacted() {
        let verifier = CodeVerifier::from_random_bytes(&APPENDIX_B_OCTETS);
        assert_eq!(format!("{verifier:?}"), "CodeVerifier([redacted])");
    }
}
