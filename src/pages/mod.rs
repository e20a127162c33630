//! One page per phase of the lifecycle.

mod organisation;
mod profile;
mod sign_in;

pub use organisation::choose_organisation;
pub use profile::profile;
pub use sign_in::sign_in;

use channels_protocol::authorize::Prompt;
use channels_protocol::logout::FrontChannelLogout;

use crate::auth::{Explanation, CALLBACK_PATH, FRONT_CHANNEL_LOGOUT_PATH};
use crate::browser::{self, location, storage};
use crate::Phase;

/// Why the tab is signed out when the sign-out happened elsewhere.
pub fn signed_out_elsewhere() -> Explanation {
    Explanation {
        message: "You were signed out, in another tab or at Microsoft. Sign in to continue.".to_owned(),
        fix: None,
        detail: None,
    }
}

/// Why the tab is signed out when its stored session could not be read (`why`).
fn session_unreadable(why: String) -> Explanation {
    Explanation {
        message: "This tab's stored session could not be read (saved by an earlier version of this app, or \
                  damaged), so it cannot be restored. Sign in to continue."
            .to_owned(),
        fix: None,
        detail: Some(why),
    }
}

/// The phase at page load: completing on `/sso` with a response, renewing when the tab has a
/// stored session (the access token lives in memory only), else signed out. A bare `/sso` is
/// the return from Entra's sign-out (the one redirect URI per host serves both), so it becomes
/// `/`. The front-channel logout URL ends the sessions of this origin's tabs that it names.
pub fn initial_phase() -> Phase {
    if location::path() == FRONT_CHANNEL_LOGOUT_PATH {
        let request = FrontChannelLogout::parse(&location::query());
        location::replace_path("/");
        match request {
            Ok(request) => {
                browser::broadcast_front_channel_logout(&request);
                if browser::front_channel_logout_ends_this_tab(&request) {
                    storage::clear();
                    return Phase::Ended(signed_out_elsewhere(), Prompt::Default);
                }
            }
            Err(why) => browser::ignored_front_channel_logout(&why),
        }
    }
    if location::path() == CALLBACK_PATH {
        if !location::query().is_empty() {
            return Phase::Completing;
        }
        location::replace_path("/");
    }
    match storage::load_session() {
        Ok(Some(_)) => Phase::Renewing,
        Ok(None) => Phase::SignedOut,
        Err(why) => {
            storage::clear();
            Phase::Ended(session_unreadable(why), Prompt::Default)
        }
    }
}
