//! The signed-in page: who you are and your channels, from `GET /api/me`.

use std::sync::Arc;

use channels_protocol::wire::Me;
use leptos::prelude::*;

use crate::auth::session::Session;
use crate::auth::Explanation;
use crate::browser::http::{self, ApiFailure};
use crate::browser::location;
use crate::components::{ChannelList, Diagnostics, ErrorPanel, NoticePanel};

/// The diagnostics' own path.
pub const DIAGNOSTICS_PATH: &str = "/diagnostics";

/// Shows the user and their channels.
#[component]
pub fn Profile(
    /// The signed-in session.
    session: Arc<Session>,
    /// The tenant and app signed in to (for the diagnostics).
    config: channels_protocol::wire::RuntimeConfig,
    /// Signs out.
    on_sign_out: impl Fn() + Send + Sync + 'static,
    /// Starts a fresh sign-in when the API no longer accepts the session's token.
    on_sign_in_again: Callback<()>,
) -> impl IntoView {
    // One call per signed-in page: a signal and a task, lighter in the wasm than a resource.
    let me = RwSignal::new(None::<Result<Me, ApiFailure>>);
    leptos::task::spawn_local({
        let session = session.clone();
        async move {
            let answer = http::me(&session.access_token).await;
            me.try_set(Some(answer)); // the page may be gone (signed out meanwhile)
        }
    });
    // The diagnostics have their own address, so a link (or a sign-in started there) opens them.
    let show_diagnostics = RwSignal::new(location::path() == DIAGNOSTICS_PATH);
    let session_for_checks = session.clone();
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
            <div class="actions">
                <button class="secondary" on:click=move |_| on_sign_out()>"Sign out"</button>
                <button class="secondary" aria-expanded=move || show_diagnostics.get().to_string()
                    on:click=move |_| {
                        show_diagnostics.update(|shown| *shown = !*shown);
                        location::replace_path(if show_diagnostics.get_untracked() { DIAGNOSTICS_PATH } else { "/" });
                    }>
                    "Check this sign-in"
                </button>
            </div>
            {move || show_diagnostics.get().then(|| diagnostics(&session_for_checks, &config, me.get()))}
        </section>
    }
}

/// The diagnostics of this session's access token, with the API's verdict.
fn diagnostics(
    session: &Session,
    config: &channels_protocol::wire::RuntimeConfig,
    me: Option<Result<Me, ApiFailure>>,
) -> AnyView {
    use channels_protocol::diagnostics::{check, decode_claims, masked};
    let Some(claims) = decode_claims(session.access_token.secret()) else {
        return view! { <p role="alert">"The access token is not a JWT, so it cannot be examined here."</p> }
            .into_any();
    };
    let api = match me {
        Some(Ok(_)) => Ok(()),
        Some(Err(ApiFailure::Unauthorized(e) | ApiFailure::Refused(e))) => Err(format!("{}: {}", e.error, e.message)),
        Some(Err(ApiFailure::Unreachable(what))) => Err(what),
        None => Err("no answer yet".to_owned()),
    };
    let checks = check(&claims, config, api, session.stored.refresh_token.is_some());
    view! { <Diagnostics checks claims=masked(&claims) /> }.into_any()
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
        <p class="upn">"Tenant " <code>{me.tenant_id}</code></p>
        <h2>"Your channels"</h2>
        <ChannelList channels=me.channels />
        {me.notice.map(|notice| view! { <NoticePanel notice /> })}
    }
}
