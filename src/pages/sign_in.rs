//! The signed-out page.

use leptos::prelude::*;

/// Invites the user to sign in.
#[component]
pub fn SignIn(
    /// Starts the sign-in.
    on_sign_in: impl Fn() + 'static,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="welcome">
            <h1 id="welcome">"Your channels"</h1>
            <p>"Sign in with your work account to see the channels your groups give you."</p>
            <button class="primary" on:click=move |_| on_sign_in()>"Sign in with Microsoft"</button>
        </section>
    }
}
