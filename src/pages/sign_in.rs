//! The signed-out page, with Microsoft's sign-in button.

use leptos::prelude::*;

use crate::auth::Explanation;

/// Invites the user to sign in; `notice` says why they are signed out, when it is news.
#[component]
pub fn SignIn(
    /// Starts the sign-in.
    on_sign_in: impl Fn() + 'static,
    /// Why the user is signed out (session ended, signed out elsewhere).
    notice: Option<Explanation>,
    /// The organisation picked and how to pick another, when there is a choice.
    organisation: Option<(String, Callback<()>)>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="welcome">
            <h1 id="welcome">"Your channels"</h1>
            {notice.map(|notice| view! {
                <div class="panel notice" role="status">
                    <p>{notice.message}</p>
                    {notice.detail.map(|detail| view! { <p class="detail"><code>{detail}</code></p> })}
                </div>
            })}
            <p>"Sign in with your work account to see the channels your groups give you."</p>
            // Microsoft's branding guidelines: the four-square logo, "Sign in with Microsoft".
            <button class="microsoft" on:click=move |_| on_sign_in()>
                <svg aria-hidden="true" width="21" height="21" viewBox="0 0 21 21">
                    <rect x="1" y="1" width="9" height="9" fill="#f25022" />
                    <rect x="11" y="1" width="9" height="9" fill="#7fba00" />
                    <rect x="1" y="11" width="9" height="9" fill="#00a4ef" />
                    <rect x="11" y="11" width="9" height="9" fill="#ffb900" />
                </svg>
                <span>"Sign in with Microsoft"</span>
            </button>
            {organisation.map(|(name, change)| view! {
                <p class="organisation">
                    "Organisation: " <strong>{name}</strong> " "
                    <button class="link" on:click=move |_| change.run(())>"Change organisation"</button>
                </p>
            })}
        </section>
    }
}
