//! One component per phase of the lifecycle.

mod profile;
mod sign_in;

pub use profile::Profile;
pub use sign_in::SignIn;

use crate::auth::CALLBACK_PATH;
use crate::browser::{location, storage};
use crate::Phase;

/// The phase at page load: completing on `/sso` with a response, renewing when the tab has a
/// stored session (the access token lives in memory only), else signed out. A bare `/sso` is the return from Entra's sign-out (the one
/// redirect URI per host serves both), so it becomes `/`.
pub fn initial_phase() -> Phase {
    if location::path() == CALLBACK_PATH {
        if !location::query().is_empty() {
            return Phase::Completing;
        }
        location::replace_path("/");
    }
    match storage::load_session() {
        Some(_) => Phase::Renewing,
        None => Phase::SignedOut,
    }
}
