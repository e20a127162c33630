//! `channels`: the organisation's Entra registration as a native client (the *Mobile and
//! desktop* platform), for people and scripts in a terminal.
//!
//! The flow through the modules: [`profile`] (where to sign in: the API's `/config.json`, saved)
//! → [`login`] (the browser with [`loopback`], or a device code; refreshes) → [`store`] (the
//! refresh token, in the OS keychain or a private file) → [`api`] (the user's channels).
//! [`commands`] puts them together; `main.rs` parses arguments, finds the configuration folder
//! and prints.

pub mod api;
pub mod commands;
pub mod error;
pub mod login;
pub mod loopback;
pub mod profile;
pub mod store;
