//! `/{tenant}/oauth2/v2.0/authorize`: checks the request in Entra's order, signs the user in
//! (an account picker: a plain form that works without JavaScript), asks for consent when the
//! admin has not given it, and redirects back with a code, or, in the implicit grant, with the
//! tokens themselves in the fragment (only when the registration allows it, as in Entra).
//!
//! Errors before the redirect URI is trusted (tenant, client, redirect URI) and the user
//! assignment error of an interactive sign-in are shown on the emulator's own page, as Entra
//! does; the others are redirected to the app. A sign-in leaves an SSO session (a cookie), so
//! `prompt=none` succeeds while it lasts, as it does against Entra.
//!
//! In the order a request goes through them: `request` (the checks) with `scopes` (what the
//! scopes ask for), `policy` (assignment, Conditional Access, `consent`: a typed decision),
//! then `pages` (picker, MFA, consent) or `issue` (the code or the tokens, saying which);
//! `endpoint` holds the two handlers that run them.

mod consent;
mod endpoint;
mod issue;
mod pages;
mod policy;
mod request;
mod scopes;

pub(crate) use consent::Consents;
pub use endpoint::{show, sign_in, SignInForm};
pub(crate) use policy::access_refusal;
pub use request::AuthorizeParams;
pub(crate) use scopes::requested_scopes;
pub use scopes::OIDC_SCOPES_SUPPORTED;
