//! The thin API: validates Entra access tokens, names the user, assigns their channels, keeps
//! member records, and serves the SPA with its runtime configuration.
//!
//! The flow through the modules: [`config`] (typed settings) → [`auth`] (bearer token →
//! verified claims) → [`access`] (the member, refused when disabled; their channels from
//! [`channels`]; the step-up an action needs) with [`members`] (who signed in) → [`web`] (the
//! handlers and the [`router`]), sharing an [`AppState`]. [`scim`] is Entra's provisioning
//! endpoint, [`spa`] serves the built SPA, [`ops`] is what operators see, [`admin`] what the
//! `channels-api` subcommands do; `main.rs` only reads arguments and prints.

pub mod access;
pub mod admin;
pub mod auth;
pub mod channels;
pub mod config;
pub mod error;
pub mod members;
pub mod ops;
pub mod scim;
pub mod spa;
pub mod state;
pub mod web;

pub use channels_protocol::clock::system_clock;
pub use state::{expectations, key_cache, AppState};
pub use web::{listen, router, MAX_PROFILE_BYTES};
