//! Token validation: an untrusted bearer token becomes [`VerifiedClaims`] only through
//! [`validate::Validator`], and everything after (members, channels) takes only that type.
//! [`keys`] fetches the tenant's signing keys; [`extract`] is the HTTP side, the axum extractor
//! that runs the validator on a request's `Authorization` header.

pub mod extract;
pub mod keys;
pub mod validate;

pub use extract::Authenticated;
pub use validate::{TokenError, Validator, VerifiedClaims};
