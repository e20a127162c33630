//! The signed-in page: who you are and your channels, from `GET /api/me`.

use std::sync::Arc;

use channels_protocol::diagnostics::{check, masked_claims, Check, ObservedClaims};
use channels_protocol::jwt::{unverified_claims, Unreadable};
use channels_protocol::wire::RuntimeConfig;
use leptos::prelude::*;

use crate::api::{self, ApiFailure, MyChannels, SaveFailure};
use crate::auth::session::Session;
use crate::auth::Explanation;
use crate::browser::{self, storage};
use crate::components::{ChannelList, CheckList, Diagnostics, ErrorPanel, NoticePanel, Status};
use crate::lifecycle::SignIn;
use crate::routes::{AddressBar, DIAGNOSTICS_PATH};

/// What to check when the API does not answer as itself.
const API_UNREACHABLE_FIX: &str = "Admin: check that channels-api is running and that this site's web server forwards \
                                   /api/ to it (docs/architecture.md, Running it for real); then try again.";

/// The API's answer to `GET /api/me` (`None`: not yet), which the channels show.
type MeAnswer = RwSignal<Option<Result<MyChannels, ApiFailure>>>;

/// Shows the user and their channels; `on_sign_in_again` starts a fresh sign-in when the API
/// no longer accepts the session's token. `session` is the newest session (renewals replace it).
#[component]
pub fn Profile(session: ArcRwSignal<Arc<Session>>, on_sign_in_again: Callback<()>) -> impl IntoView {
    let sign_in = expect_context::<SignIn>();
    // One call per signed-in page (and per "Try again" when the API could not be reached); its
    // answer is also the diagnostics' verdict on that token. A signal and a task rather than a
    // resource: a renewal must not ask again for the channels, only for the verdict.
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
    let router = expect_context::<AddressBar>();
    let shown = Memo::new(move |_| router.path() == DIAGNOSTICS_PATH);
    let toggle = move |_| router.replace(if shown.get_untracked() { "/" } else { DIAGNOSTICS_PATH });
    let for_preferences = session.clone();
    let channels = move || match me.get() {
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
                .with_fix(API_UNREACHABLE_FIX.to_owned());
            view! { <ErrorPanel title="Your channels could not be loaded" explanation retry=Some(ask_again) /> }
                .into_any()
        }
    };
    let config = sign_in.config();
    let diagnostics = move || {
        shown.get().then(|| view! { <DiagnosticsPanel session=session.clone() config=config.clone() verdict /> })
    };
    view! {
        <section class="card" aria-labelledby="who">
            <h1 id="who">{signed_in.stored.name.clone()}</h1>
            <p class="upn">{signed_in.stored.account.username.clone()}</p>
            {channels}
            <div class="actions">
                <button class="secondary" on:click=move |_| sign_in.sign_out()>
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

/// What the API said about one access token (`None`: asked, no answer yet).
#[derive(Clone)]
struct ApiVerdict {
    about: Arc<Session>,
    answer: Option<Result<(), String>>,
}

/// Keeps the API's `answer` about `session`'s token, unless the verdict is about another one by now.
fn record(verdict: RwSignal<ApiVerdict>, session: &Arc<Session>, answer: &Result<MyChannels, ApiFailure>) {
    let answer = match answer {
        Ok(_) => Ok(()),
        Err(ApiFailure::Unauthorized(e) | ApiFailure::Refused(e)) => Err(format!("{}: {}", e.error, e.message)),
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
#[component]
fn DiagnosticsPanel(
    session: ArcRwSignal<Arc<Session>>,
    config: RuntimeConfig,
    verdict: RwSignal<ApiVerdict>,
) -> impl IntoView {
    // The API is asked about each token the panel examines: a renewal brings a new one.
    Effect::new({
        let session = session.clone();
        move |_| {
            let examined = session.get();
            if verdict.with_untracked(|verdict| !Arc::ptr_eq(&verdict.about, &examined)) {
                ask(verdict, examined, None);
            }
        }
    });
    // The checks of the token itself show at once; the API's joins them when it answers.
    let checks = {
        let session = session.clone();
        move || {
            let examined = session.get();
            let api = verdict.with(
                |verdict| {
                    if Arc::ptr_eq(&verdict.about, &examined) {
                        verdict.answer.clone()
                    } else {
                        None
                    }
                },
            );
            let waiting = api.is_none();
            view! { <CheckList checks=examine(&examined, &config, api) waiting /> }
        }
    };
    let claims = move || match unverified_claims(session.get().access_token.secret()) {
        Ok(claims) => masked_claims(&claims),
        Err(Unreadable::NotAJwt(_)) => "(none: the access token is not a JWT with a JSON payload)".to_owned(),
        Err(unreadable @ Unreadable::Claims(_)) => format!("(none: {unreadable})"),
    };
    view! { <Diagnostics checks=checks.into_any() claims=claims.into_any() /> }
}

/// Asks the API about `session`'s token: for the diagnostics' verdict and, given `me`, for the
/// channels too.
fn ask(verdict: RwSignal<ApiVerdict>, session: Arc<Session>, me: Option<MeAnswer>) {
    verdict.set(ApiVerdict { about: session.clone(), answer: None });
    leptos::task::spawn_local(async move {
        let answer = api::me(&session.access_token).await;
        record(verdict, &session, &answer);
        if let Some(me) = me {
            me.try_set(Some(answer)); // the page may be gone (signed out meanwhile)
        }
    });
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

/// What the user typed and has not saved, whose it is, and whether a save of it waits for a
/// step-up sign-in (since when). It is kept in this tab at every change, so leaving the page (a
/// step-up, the implicit flow's renewal, a reload) loses nothing; a save or a sign-out forgets it.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Unsaved {
    preferences: serde_json::Map<String, serde_json::Value>,
    tid: String,
    oid: String,
    #[serde(default)]
    saving_since: Option<u64>,
}

/// How long a save waits for its step-up sign-in; one abandoned longer is not retried (what
/// was typed is still shown, unsaved).
const STEP_UP_WITHIN_SECONDS: u64 = 600;

/// Where a save of the preferences is.
#[derive(Clone, PartialEq)]
enum Saving {
    Idle,
    /// What the user typed earlier and did not save is back in the form.
    Kept,
    Busy,
    Saved,
    /// Leaving for the step-up sign-in.
    SteppingUp,
    Failed(Explanation),
}

/// The preferences form: a display name and a default channel, saved with
/// `PUT /api/me/profile`. When the API asks for a stronger sign-in (a claims challenge), what
/// the user typed waits in this tab while they sign in again, and is saved once they are back;
/// a second challenge is explained, never answered with another sign-in.
#[component]
fn Preferences(
    session: ArcRwSignal<Arc<Session>>,
    channels: Vec<String>,
    stored: serde_json::Map<String, serde_json::Value>,
) -> impl IntoView {
    let sign_in = expect_context::<SignIn>();
    let account = session.get_untracked().stored.account.clone();
    // What this user typed here and did not save (the same as what is stored is nothing kept);
    // another account's is forgotten, never shown. An account whose ids the sign-in did not
    // bring keeps nothing: it could not be told from another such account.
    let identified = account.is_identified();
    let kept = storage::load_unsaved::<Unsaved>().filter(|unsaved| {
        let own = identified && unsaved.tid == account.tid && unsaved.oid == account.oid;
        if !own {
            storage::forget_unsaved();
        }
        own && (unsaved.preferences != stored || unsaved.saving_since.is_some())
    });
    // A save waiting for this step-up is retried once: what is kept from here on only waits.
    let resume = kept
        .as_ref()
        .and_then(|unsaved| unsaved.saving_since)
        .is_some_and(|since| browser::now().saturating_sub(since) < STEP_UP_WITHIN_SECONDS);
    let initial = kept.as_ref().map_or(stored, |unsaved| unsaved.preferences.clone());
    let text = |key: &str| initial.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    let display_name = RwSignal::new(text("display_name"));
    let default_channel = RwSignal::new(text("default_channel"));
    // Keys the form does not edit are kept as they are.
    let base = StoredValue::new(initial);
    let state = RwSignal::new(if kept.is_some() { Saving::Kept } else { Saving::Idle });
    // What the form holds now, as it would be saved.
    let typed = {
        let account = account.clone();
        move || {
            let mut preferences = base.get_value();
            preferences.insert("display_name".into(), display_name.get_untracked().trim().to_owned().into());
            preferences.insert("default_channel".into(), default_channel.get_untracked().into());
            Unsaved { preferences, tid: account.tid.clone(), oid: account.oid.clone(), saving_since: None }
        }
    };
    let keep = {
        let typed = typed.clone();
        move || {
            if identified {
                storage::save_unsaved(&typed());
            }
        }
    };
    if kept.is_some() {
        keep();
    }
    let save = Callback::new(move |after_step_up: bool| {
        let unsaved = typed();
        state.set(Saving::Busy);
        let (session, account) = (session.get_untracked(), account.clone());
        leptos::task::spawn_local(async move {
            let answer = api::save_profile(&session.access_token, &unsaved.preferences).await;
            // The form may be gone by now (signed out meanwhile): nothing is kept or started for it.
            if state.try_get_untracked().is_none() {
                return;
            }
            let outcome = match answer {
                Ok(()) => {
                    // What was typed while the save ran is still unsaved.
                    if storage::load_unsaved::<Unsaved>().is_none_or(|kept| kept.preferences == unsaved.preferences) {
                        storage::forget_unsaved();
                    }
                    base.try_set_value(unsaved.preferences);
                    Saving::Saved
                }
                Err(SaveFailure::StepUp(claims)) if !after_step_up => {
                    if identified {
                        storage::save_unsaved(&Unsaved { saving_since: Some(browser::now()), ..unsaved });
                    }
                    sign_in.step_up(account, &claims);
                    Saving::SteppingUp
                }
                Err(SaveFailure::StepUp(claims)) => {
                    let contexts = channels_protocol::step_up::requested_contexts(&claims).join(", ");
                    Saving::Failed(
                        Explanation::new(format!(
                            "You signed in again, but the API still asks for a stronger sign-in (authentication \
                             context {contexts}) to save your preferences, so they were not saved and the sign-in \
                             is not repeated."
                        ))
                        .with_fix(format!(
                            "Admin: check that Entra adds {contexts} to the access token's acrs: a Conditional \
                             Access policy that targets the authentication context {contexts}, and the client's \
                             claims request reaching Entra."
                        )),
                    )
                }
                Err(SaveFailure::Refused(error)) => {
                    Saving::Failed(Explanation::new(error.message).with_optional_fix(error.fix))
                }
                Err(SaveFailure::Unreachable(what)) => Saving::Failed(
                    Explanation::new(format!("Expected the API's answer to PUT /api/me/profile; found {what}."))
                        .with_fix(API_UNREACHABLE_FIX.to_owned()),
                ),
            };
            state.try_set(outcome);
        });
    });
    if resume {
        save.run(true);
    }
    let status = move || match state.get() {
        Saving::Idle => None,
        Saving::Kept => Some(view! { <Status text="What you typed earlier is back: not saved yet." /> }.into_any()),
        Saving::Busy => Some(view! { <Status text="Saving…" /> }.into_any()),
        Saving::SteppingUp => {
            Some(view! { <Status text="Saving needs a stronger sign-in: taking you to Microsoft…" /> }.into_any())
        }
        Saving::Saved => Some(view! { <Status text="Preferences saved." /> }.into_any()),
        Saving::Failed(explanation) => {
            Some(view! { <ErrorPanel title="Your preferences were not saved" explanation /> }.into_any())
        }
    };
    let options = channels
        .into_iter()
        .map(|channel| {
            let selected = channel == default_channel.get_untracked();
            let value = channel.clone();
            view! {
                <option value=value selected=selected>
                    {channel}
                </option>
            }
        })
        .collect_view();
    view! {
        <form
            class="preferences"
            aria-labelledby="preferences"
            on:submit=move |event| {
                event.prevent_default();
                save.run(false);
            }
        >
            <h2 id="preferences">"Your preferences"</h2>
            <label>
                "Display name"
                <input
                    type="text"
                    maxlength="100"
                    prop:value=display_name
                    on:input={
                        let keep = keep.clone();
                        move |event| {
                            display_name.set(event_target_value(&event));
                            keep();
                        }
                    }
                />
            </label>
            <label>
                "Default channel"
                <select on:change=move |event| {
                    default_channel.set(event_target_value(&event));
                    keep();
                }>
                    <option value="">"(none)"</option>
                    {options}
                </select>
            </label>
            <button class="primary" type="submit" disabled=move || state.get() == Saving::Busy>
                "Save preferences"
            </button>
            {status}
        </form>
    }
}
