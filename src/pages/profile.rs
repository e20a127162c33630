//! The signed-in page: who you are and your channels, from `GET /api/me`.

use std::sync::Arc;

use channels_protocol::wire::Me;
use leptos::prelude::*;

use crate::auth::session::Session;
use crate::auth::Explanation;
use crate::browser::http::{self, ApiFailure};
use crate::components::{ChannelList, ErrorPanel, NoticePanel};

/// Shows the user and their channels.
#[component]
pub fn Profile(
    /// The signed-in session.
    session: Arc<Session>,
    /// Signs out.
    on_sign_out: impl Fn() + Send + Sync + 'static,
    /// Starts a fresh sign-in when the API no longer accepts the session's token.
    on_sign_in_again: Callback<()>,
) -> impl IntoView {
    let me = LocalResource::new({
        let session = session.clone();
        move || {
            let session = session.clone();
            async move { http::me(&session.access_token).await }
        }
    });
    let name = session.stored.name.clone();
    let username = session.stored.username.clone();
    view! {
        <section class="card" aria-labelledby="who">
            <h1 id="who">{name}</h1>
            <p class="upn">{username}</p>
            {move || match me.get() {
                None => view! { <p class="muted" role="status">"Loading your channels…"</p> }.into_any(),
                Some(Ok(me)) => view! { <Channels me /> }.into_any(),
                Some(Err(ApiFailure::Unauthorized(error))) => {
                    explain_refusal(error.message, error.fix, Some(on_sign_in_again))
                }
                Some(Err(ApiFailure::Refused(error))) => explain_refusal(error.message, error.fix, None),
                Some(Err(ApiFailure::Unreachable(what))) => {
                    explain_refusal(format!("The API could not be reached: {what}"), None, None)
                }
            }}
            <button class="secondary" on:click=move |_| on_sign_out()>"Sign out"</button>
        </section>
    }
}

/// The API's refusal, explained; a 401 offers a fresh sign-in.
fn explain_refusal(message: String, fix: Option<String>, retry: Option<Callback<()>>) -> AnyView {
    let explanation = Explanation { message, fix, detail: None };
    view! { <ErrorPanel title="The API refused your sign-in" explanation retry /> }.into_any()
}

/// The channels part of the profile.
#[component]
fn Channels(
    /// The API's answer.
    me: Me,
) -> impl IntoView {
    view! {
        <h2>"Your channels"</h2>
        <ChannelList channels=me.channels />
        {me.notice.map(|notice| view! { <NoticePanel notice /> })}
    }
}
