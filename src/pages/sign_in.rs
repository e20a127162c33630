//! The signed-out page, with Microsoft's sign-in button.

use leptos::prelude::*;

use crate::auth::Explanation;
use crate::components::SignedOutNotice;
use crate::lifecycle::LifecycleState;

/// Invites the user to sign in; `notice` says why they are signed out, when it is news
/// (session ended, signed out elsewhere). With several organisations, names the one picked
/// and offers to pick another.
#[component]
pub fn SignInPage(on_sign_in: Callback<()>, #[prop(optional)] notice: Option<Explanation>) -> impl IntoView {
    let chosen = expect_context::<LifecycleState>().chosen();
    view! {
        <section class="card" aria-labelledby="welcome">
            <h1 id="welcome">"Your channels"</h1>
            {notice.map(|notice| view! { <SignedOutNotice notice /> })}
            <p>"Sign in with your work account to see the channels your groups give you."</p>
            // Microsoft's branding guidelines: the four-square logo (drawn by the style sheet),
            // "Sign in with Microsoft".
            <button class="microsoft" on:click=move |_| on_sign_in.run(())>
                <span class="logo" aria-hidden="true"></span>
                <span>"Sign in with Microsoft"</span>
            </button>
            {chosen
                .map(|chosen| {
                    view! {
                        <p class="organisation">
                            "Organisation: " <strong>{chosen.name}</strong> " "
                            <button class="link" on:click=move |_| chosen.change.run(())>
                                "Change organisation"
                            </button>
                        </p>
                    }
                })}
        </section>
    }
}
