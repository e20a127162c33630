//! An Entra ID-shaped identity provider for local runs and tests.
//!
//! Same paths, token shapes and `AADSTS` errors as `login.microsoftonline.com`, so that what
//! passes against it works against a real tenant. The emulator's own origin stands in for
//! `https://login.microsoftonline.com` (v1 tokens keep Entra's literal `https://sts.windows.net/`
//! issuer). A library first ([`spawn`] binds any port and takes its issuer from the bound
//! address), a binary second. docs/emulator.md lists each behaviour emulated, with its test.
//!
//! The flow through the modules: [`directory`] (tenants, users, groups, apps; [`manifest`]
//! reads them from Microsoft's JSON shapes) → [`discovery`] (metadata and keys) → [`authorize`]
//! (sign-in and consent pages, the code or the implicit grant's tokens) → [`token`] (code and
//! refresh token redemption; [`device`] the device code flow's other two steps) → [`mint`] (v1,
//! v2, Graph and ID tokens) → [`logout`] (sign-out,
//! front-channel logout). Beside them: [`grant`] keeps the codes and refresh tokens,
//! [`session`] the SSO sessions, `state` the [`Emulator`] that holds both, and `server` wires
//! the routes. [`control`] holds the emulator-only routes: key rolls, the clock, and
//! [`provisioning`] cycles (Entra's SCIM provisioning service, played against a SCIM URL).

pub mod authorize;
pub mod control;
pub mod device;
pub mod directory;
pub mod discovery;
pub mod error;
pub mod grant;
mod html;
pub mod keys;
pub mod logout;
pub mod manifest;
pub mod mint;
pub mod provisioning;
mod server;
pub mod session;
mod state;
mod tenant_path;
pub mod token;

pub use channels_protocol::clock::{system_clock, Clock};
pub use server::{router, spawn, spawn_tls, Running, RunningTls};
pub use state::Emulator;
pub use tenant_path::TenantPath;
