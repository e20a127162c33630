//! One page per phase of the lifecycle.

mod organisation;
mod preferences;
mod profile;
mod sign_in;

pub use organisation::ChooseOrganisation;
pub use profile::Profile;
pub use sign_in::SignInPage;

use channels_protocol::authorize::Prompt;
use leptos::prelude::*;

use crate::components::{ErrorPanel, Status};
use crate::lifecycle::{LifecycleState, Phase};

/// The page of the lifecycle's phase.
#[component]
pub fn Page() -> impl IntoView {
    let lifecycle = expect_context::<LifecycleState>();
    let again = move |prompt: Prompt| Callback::new(move |()| lifecycle.begin_afresh(prompt.clone()));
    move || match lifecycle.phase.get() {
        Phase::SignedOut => {
            view! { <SignInPage on_sign_in=Callback::new(move |()| lifecycle.begin(Prompt::Default)) /> }.into_any()
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
                    retry=Some(Callback::new(move |()| lifecycle.restore()))
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
