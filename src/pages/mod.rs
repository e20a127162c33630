//! One page per phase of the lifecycle.

mod organisation;
mod profile;
mod sign_in;

pub use organisation::ChooseOrganisation;
pub use profile::Profile;
pub use sign_in::SignInPage;

use channels_protocol::authorize::Prompt;
use channels_protocol::logout::FrontChannelLogout;
use leptos::prelude::*;

use crate::auth::{Explanation, CALLBACK_PATH, FRONT_CHANNEL_LOGOUT_PATH};
use crate::browser::{self, storage};
use crate::components::{ErrorPanel, Status};
use crate::lifecycle::{Phase, SignIn};

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

/// The phase at page load, at `path` with `query`: completing on `/sso` with a response,
/// renewing when the tab has a stored session (the access token lives in memory only), else
/// signed out. A bare `/sso` is the return from Entra's sign-out (the one redirect URI per host
/// serves both). The front-channel logout URL ends the sessions of this origin's tabs that it
/// names.
pub fn initial_phase(path: &str, query: &str) -> Phase {
    if path == FRONT_CHANNEL_LOGOUT_PATH {
        match FrontChannelLogout::parse(query) {
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
    if path == CALLBACK_PATH && !query.is_empty() {
        return Phase::Completing;
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

/// The page of the lifecycle's phase.
#[component]
pub fn Page() -> impl IntoView {
    let sign_in = expect_context::<SignIn>();
    let again = move |prompt: Prompt| Callback::new(move |()| sign_in.begin_afresh(prompt.clone()));
    move || match sign_in.phase.get() {
        Phase::SignedOut => {
            view! { <SignInPage on_sign_in=Callback::new(move |()| sign_in.begin(Prompt::Default)) /> }.into_any()
        }
        Phase::Ended(reason, prompt) => view! { <SignInPage on_sign_in=again(prompt) notice=reason /> }.into_any(),
        Phase::Completing => view! { <Status text="Signing you in…" /> }.into_any(),
        Phase::Renewing => view! { <Status text="Restoring your session…" /> }.into_any(),
        Phase::SignedIn(session) => view! { <Profile session on_sign_in_again=again(Prompt::Default) /> }.into_any(),
        Phase::Failed(explanation, retry) => {
            view! { <ErrorPanel title="Sign-in failed" explanation retry=Some(again(retry)) /> }.into_any()
        }
        // "Try again" keeps the session; a failure that lasts (a proxy in the way) must not
        // hold the tab, so the user may also start afresh.
        Phase::Interrupted(explanation) => {
            let sign_in_again = again(Prompt::Default);
            view! {
                <ErrorPanel
                    title="Your session could not be renewed"
                    explanation
                    retry=Some(Callback::new(move |()| sign_in.restore()))
                />
                <div class="actions">
                    <button class="secondary" on:click=move |_| sign_in_again.run(())>
                        "Sign in again"
                    </button>
                </div>
            }
            .into_any()
        }
    }
}
