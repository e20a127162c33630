//! The signed-in page: who you are and your channels, from `GET /api/me`.

use std::sync::Arc;

use channels_protocol::diagnostics::{check, Check, ObservedClaims, MASKED_CLAIMS};
use channels_protocol::wire::{Me, RuntimeConfig};
use reactive_graph::callback::Callback;
use reactive_graph::prelude::*;
use reactive_graph::signal::{ArcRwSignal, RwSignal};

use crate::auth::session::Session;
use crate::auth::Explanation;
use crate::browser::http::{self, ApiFailure};
use crate::browser::{json, location};
use crate::components::{channel_list, check_list, diagnostics, error_panel, notice_panel, status};
use crate::markup::{el, Markup};

/// What to check when the API does not answer as itself.
const API_UNREACHABLE_FIX: &str = "Admin: check that channels-api is running and that this site's web server forwards \
                                   /api/ to it (docs/architecture.md, Running it for real); then try again.";

/// The API's answer to `GET /api/me` (`None`: not yet), which the channels show.
type MeAnswer = RwSignal<Option<Result<Me, ApiFailure>>>;

/// The diagnostics' own path.
pub const DIAGNOSTICS_PATH: &str = "/diagnostics";

/// Shows the user and their channels; `on_sign_in_again` starts a fresh sign-in when the API
/// no longer accepts the session's token. `session` is the newest session (renewals replace it).
pub fn profile(
    session: ArcRwSignal<Arc<Session>>,
    config: RuntimeConfig,
    on_sign_out: Callback<()>,
    on_sign_in_again: Callback<()>,
) -> Markup {
    // One call per signed-in page (and per "Try again" when the API could not be reached); its
    // answer is also the diagnostics' verdict on that token.
    let me: MeAnswer = RwSignal::new(None);
    let signed_in = session.get_untracked();
    let verdict = RwSignal::new(ApiVerdict { about: signed_in.clone(), answer: None });
    ask(verdict, signed_in.clone(), Some(me));
    let ask_again = Callback::new({
        let session = session.clone();
        move |()| {
            me.set(None);
            ask(verdict, session.get_untracked(), Some(me));
        }
    });
    // The diagnostics have their own address, so a link (or a sign-in started there) opens them.
    let show_diagnostics = RwSignal::new(location::path() == DIAGNOSTICS_PATH);
    let diagnostics_toggled = Callback::new(move |()| {
        location::replace_path(if show_diagnostics.get_untracked() { DIAGNOSTICS_PATH } else { "/" });
    });
    let channels = Markup::reactive(move || match me.get() {
        None => status("Loading your channels…"),
        Some(Ok(me)) => channels(me),
        Some(Err(ApiFailure::Unauthorized(error))) => explain_refusal(error.message, error.fix, Some(on_sign_in_again)),
        Some(Err(ApiFailure::Refused(error))) => explain_refusal(error.message, error.fix, None),
        Some(Err(ApiFailure::Unreachable(what))) => error_panel(
            "Your channels could not be loaded",
            Explanation {
                message: "Expected the API's answer to GET /api/me; found ".to_owned() + &what + ".",
                fix: Some(API_UNREACHABLE_FIX.to_owned()),
                detail: None,
            },
            Some(ask_again),
        ),
    });
    let name = signed_in.stored.name.clone();
    let username = signed_in.stored.account.username.clone();
    let checks = Markup::reactive(move || {
        show_diagnostics.get().then(|| diagnostics_panel(session.clone(), config.clone(), verdict)).into()
    });
    el("section")
        .class("card")
        .attr("aria-labelledby", "who")
        .child(el("h1").attr("id", "who").text(name))
        .child(el("p").class("upn").text(username))
        .child(channels)
        .child(
            el("div")
                .class("actions")
                .child(el("button").class("secondary").on_click(on_sign_out).text("Sign out"))
                .child(
                    el("button")
                        .class("secondary")
                        .discloses(show_diagnostics, diagnostics_toggled)
                        .text("Check this sign-in"),
                ),
        )
        .child(checks)
        .into()
}

/// What the API said about one access token (`None`: asked, no answer yet).
#[derive(Clone)]
struct ApiVerdict {
    about: Arc<Session>,
    answer: Option<Result<(), String>>,
}

/// Keeps the API's `answer` about `session`'s token, unless the verdict is about another one by now.
fn record(verdict: RwSignal<ApiVerdict>, session: &Arc<Session>, answer: &Result<Me, ApiFailure>) {
    let answer = match answer {
        Ok(_) => Ok(()),
        Err(ApiFailure::Unauthorized(e) | ApiFailure::Refused(e)) => Err(e.error.clone() + ": " + &e.message),
        Err(ApiFailure::Unreachable(what)) => Err(what.clone()),
    };
    // The page may be gone (signed out meanwhile), or its verdict about a newer token by now.
    if verdict.try_with_untracked(|verdict| Arc::ptr_eq(&verdict.about, session)) == Some(true) {
        verdict.try_set(ApiVerdict { about: session.clone(), answer: Some(answer) });
    }
}

/// The diagnostics of the newest access token. A renewal updates the checks and the claims in
/// place (an open claims list stays open) and asks the API about the new token, so the verdict
/// shown is always about the token examined.
fn diagnostics_panel(
    session: ArcRwSignal<Arc<Session>>,
    config: RuntimeConfig,
    verdict: RwSignal<ApiVerdict>,
) -> Markup {
    let checks = Markup::reactive({
        let session = session.clone();
        move || {
            let examined = session.get();
            let answer = verdict.with(|verdict| Arc::ptr_eq(&verdict.about, &examined).then(|| verdict.answer.clone()));
            // The checks of the token itself show at once; the API's joins them when it answers.
            // A token the verdict is not about yet: ask. `ask` writes `verdict`, which this region
            // reads, so it runs once more, finds the question pending and asks nothing more.
            let api = match answer {
                Some(api) => api,
                None => {
                    ask(verdict, examined.clone(), None);
                    None
                }
            };
            let waiting = api.is_none();
            check_list(examine(&examined, &config, api), waiting)
        }
    });
    let claims = Markup::reactive(move || {
        let payload = channels_protocol::jwt::unverified_payload(session.get().access_token.secret());
        let shown = payload.ok().and_then(|payload| json::masked_claims(&payload, &MASKED_CLAIMS));
        shown.unwrap_or_else(|| "(none: the access token is not a JWT with a JSON payload)".to_owned()).into()
    });
    diagnostics(checks, claims)
}

/// Asks the API about `session`'s token: for the diagnostics' verdict and, given `me`, for the
/// channels too.
fn ask(verdict: RwSignal<ApiVerdict>, session: Arc<Session>, me: Option<MeAnswer>) {
    verdict.set(ApiVerdict { about: session.clone(), answer: None });
    reactive_graph::spawn_local(async move {
        let answer = http::me(&session.access_token).await;
        record(verdict, &session, &answer);
        if let Some(me) = me {
            me.try_set(Some(answer)); // the page may be gone (signed out meanwhile)
        }
    });
}

/// Runs the checks on `session`'s access token, with the API's verdict on it; or says why the
/// token cannot be checked.
fn examine(session: &Session, config: &RuntimeConfig, api: Option<Result<(), String>>) -> Result<Vec<Check>, String> {
    let payload = channels_protocol::jwt::unverified_payload(session.access_token.secret())
        .map_err(|_| "The access token is not a JWT with a JSON payload, so it cannot be examined here.".to_owned())?;
    // A claim of another type than Entra issues (`"scp": null`, a group that is not a string)
    // is named, above the claims as they are.
    json::parse::<ObservedClaims>(std::str::from_utf8(&payload).unwrap_or_default())
        .map(|observed| check(&observed, config, api, session.stored.refresh_token.is_some()))
        .map_err(|why| {
            "The access token's claims are not of the types Entra issues, so they cannot be checked: ".to_owned()
                + &why
                + "."
        })
}

/// The API's refusal, explained; a 401 offers a fresh sign-in.
fn explain_refusal(message: String, fix: Option<String>, retry: Option<Callback<()>>) -> Markup {
    error_panel("The API refused your sign-in", Explanation { message, fix, detail: None }, retry)
}

/// The channels part of the profile.
fn channels(me: Me) -> Markup {
    Markup::Fragment(vec![
        el("p").class("upn").text("Tenant ").child(el("code").text(me.tenant_id)).into(),
        el("h2").text("Your channels").into(),
        channel_list(me.channels),
        me.notice.map(notice_panel).into(),
    ])
}
