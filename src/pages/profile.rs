//! The signed-in page: who you are and your channels, from `GET /api/me`.

use std::sync::{Arc, Weak};

use channels_protocol::diagnostics::{check, masked_claims, Check, ObservedClaims};
use channels_protocol::jwt::{unverified_claims, Unreadable};
use channels_protocol::wire::RuntimeConfig;
use leptos::prelude::*;

use super::preferences::Preferences;
use crate::api::{self, ApiFailure, MyChannels};
use crate::auth::session::Session;
use crate::auth::Explanation;
use crate::components::{ChannelList, CheckList, Diagnostics, ErrorPanel, NoticePanel, Status};
use crate::lifecycle::LifecycleState;
use crate::routes::{AddressBar, DIAGNOSTICS_PATH};

/// The API's answer to `GET /api/me`, and the session whose access token it was asked with
/// (held weakly: an answer kept for the page must not keep a replaced session's tokens alive).
#[derive(Clone)]
struct Asked {
    about: Weak<Session>,
    answer: Result<MyChannels, ApiFailure>,
}

impl Asked {
    /// Whether it is the answer about `session`'s access token.
    fn is_about(&self, session: &Arc<Session>) -> bool {
        Weak::ptr_eq(&self.about, &Arc::downgrade(session))
    }
}

/// Asks the API about `session`'s access token.
async fn ask(session: Arc<Session>) -> Asked {
    let answer = api::me(&session.access_token).await;
    Asked { about: Arc::downgrade(&session), answer }
}

/// Shows the user and their channels; `on_sign_in_again` starts a fresh sign-in when the API
/// no longer accepts the session's token. `session` is the newest session (renewals replace it).
#[component]
pub fn Profile(session: ArcRwSignal<Arc<Session>>, on_sign_in_again: Callback<()>) -> impl IntoView {
    let lifecycle = expect_context::<LifecycleState>();
    // One call per signed-in page, with the token of the moment: a renewal does not ask again
    // for the channels (the session is read untracked), "Try again" does.
    let me = LocalResource::new({
        let session = session.clone();
        move || ask(session.get_untracked())
    });
    // "Try again" shows "Loading…" at once. A verdict waiting on this answer (`ask_about`) is
    // polled a tick later (a LocalResource always waits one), when the reload is under way.
    let ask_again = Callback::new(move |()| {
        me.set(None);
        me.refetch();
    });
    // The diagnostics have their own address, so a link (or a sign-in started there) opens them.
    let router = expect_context::<AddressBar>();
    let shown = Memo::new(move |_| router.path() == DIAGNOSTICS_PATH);
    let toggle = move |_| router.replace(if shown.get_untracked() { "/" } else { DIAGNOSTICS_PATH });
    let signed_in = session.get_untracked();
    let for_preferences = session.clone();
    let channels = move || match me.get().map(|asked| asked.answer) {
        None => view! { <Status text="Loading your channels…" /> }.into_any(),
        Some(Ok(me)) => {
            let (channels, stored) = (me.channels.clone(), me.member.clone().unwrap_or_default().preferences);
            view! {
                <Channels me />
                <Preferences session=for_preferences.clone() channels stored />
            }
            .into_any()
        }
        Some(Err(ApiFailure::Unauthorized(error))) => {
            view! { <Refusal message=error.message fix=error.fix retry=Some(on_sign_in_again) /> }.into_any()
        }
        Some(Err(ApiFailure::Refused(error))) => view! { <Refusal message=error.message fix=error.fix /> }.into_any(),
        Some(Err(ApiFailure::Unreachable(what))) => {
            let explanation = Explanation::new(format!("Expected the API's answer to GET /api/me; found {what}."))
                .with_fix(api::UNREACHABLE_FIX.to_owned());
            view! { <ErrorPanel title="Your channels could not be loaded" explanation retry=Some(ask_again) /> }
                .into_any()
        }
    };
    let config = lifecycle.config();
    let diagnostics =
        move || shown.get().then(|| view! { <DiagnosticsPanel session=session.clone() config=config.clone() me /> });
    view! {
        <section class="card" aria-labelledby="who">
            <h1 id="who">{signed_in.stored.name.clone()}</h1>
            <p class="upn">{signed_in.stored.account.username.clone()}</p>
            {channels}
            <div class="actions">
                <button class="secondary" on:click=move |_| lifecycle.sign_out()>
                    "Sign out"
                </button>
                <button class="secondary" aria-expanded=move || shown.get().to_string() on:click=toggle>
                    "Check this sign-in"
                </button>
            </div>
            {diagnostics}
        </section>
    }
}

/// The API's answer about `examined`'s access token: the page's own when it was asked with that
/// token, else the API asked again (a renewal brought a new token).
async fn ask_about(me: LocalResource<Asked>, examined: Arc<Session>) -> Asked {
    let asked = me.await;
    if asked.is_about(&examined) {
        asked
    } else {
        ask(examined).await
    }
}

/// The verdict the diagnostics show: whether the API accepted the token, or what it said.
fn verdict(asked: Asked) -> Result<(), String> {
    match asked.answer {
        Ok(_) => Ok(()),
        Err(ApiFailure::Unauthorized(e) | ApiFailure::Refused(e)) => Err(format!("{}: {}", e.error, e.message)),
        Err(ApiFailure::Unreachable(what)) => Err(what),
    }
}

/// The diagnostics of the newest access token. A renewal updates the checks and the claims in
/// place (an open claims list stays open) and asks the API about the new token, so the verdict
/// shown is always about the token examined.
#[component]
fn DiagnosticsPanel(
    session: ArcRwSignal<Arc<Session>>,
    config: RuntimeConfig,
    me: LocalResource<Asked>,
) -> impl IntoView {
    // The checks of each token, with a verdict of its own: the token's checks show at once, the
    // API's joins them when it answers. A renewal replaces both (the verdict starts anew).
    let checks = {
        let session = session.clone();
        move || {
            let examined = session.get();
            let asked = LocalResource::new({
                let examined = examined.clone();
                move || ask_about(me, examined.clone())
            });
            let config = config.clone();
            move || {
                let api = asked.get().map(verdict);
                let waiting = api.is_none();
                view! { <CheckList checks=examine(&examined, &config, api) waiting /> }
            }
        }
    };
    let claims = move || match unverified_claims(session.get().access_token.secret()) {
        Ok(claims) => masked_claims(&claims),
        Err(Unreadable::NotAJwt(_)) => "(none: the access token is not a JWT with a JSON payload)".to_owned(),
        Err(unreadable @ Unreadable::Claims(_)) => format!("(none: {unreadable})"),
    };
    view! { <Diagnostics checks=checks.into_any() claims=claims.into_any() /> }
}

/// Runs the checks on `session`'s access token, with the API's verdict on it; or says why the
/// token cannot be checked.
fn examine(session: &Session, config: &RuntimeConfig, api: Option<Result<(), String>>) -> Result<Vec<Check>, String> {
    let claims = unverified_claims(session.access_token.secret()).map_err(|unreadable| match unreadable {
        Unreadable::NotAJwt(_) => {
            "The access token is not a JWT with a JSON payload, so it cannot be examined here.".to_owned()
        }
        Unreadable::Claims(_) => {
            format!("The access token's claims cannot be read, so they cannot be checked: {unreadable}.")
        }
    })?;
    // A claim of another type than Entra issues (`"scp": null`, a group that is not a string)
    // is named, above the claims as they are.
    let observed = ObservedClaims::read(&claims).map_err(|why| {
        format!("The access token's claims are not of the types Entra issues, so they cannot be checked: {why}.")
    })?;
    Ok(check(&observed, config, api, session.stored.refresh_token.is_some()))
}

/// The API's refusal, explained; a 401 offers a fresh sign-in.
#[component]
fn Refusal(message: String, fix: Option<String>, #[prop(default = None)] retry: Option<Callback<()>>) -> impl IntoView {
    let explanation = Explanation::new(message).with_optional_fix(fix);
    view! { <ErrorPanel title="The API refused your sign-in" explanation retry /> }
}

/// The channels part of the profile.
#[component]
fn Channels(me: MyChannels) -> impl IntoView {
    view! {
        <p class="upn">"Tenant " <code>{me.tenant_id}</code></p>
        <h2>"Your channels"</h2>
        <ChannelList channels=me.channels />
        {me.notice.map(|notice| view! { <NoticePanel notice /> })}
    }
}
