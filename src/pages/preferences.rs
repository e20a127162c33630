//! The preferences form of the signed-in page: a display name and a default channel, saved with
//! `PUT /api/me/profile`. In three parts: the kept input (what the user typed and did not save,
//! kept in the tab so that leaving the page loses nothing), the save (an action, and what its
//! answer leads to: a step-up sign-in when the API asks for one) and the view.

use std::sync::Arc;

use channels_protocol::authorize::Account;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::{self, SaveFailure};
use crate::auth::session::Session;
use crate::auth::Explanation;
use crate::browser::{self, storage};
use crate::components::{ErrorPanel, Status};
use crate::lifecycle::LifecycleState;

/// The member record's preferences: a JSON object, of which the form edits two keys.
type Fields = serde_json::Map<String, serde_json::Value>;

/// What the user typed and has not saved, whose it is, and whether a save of it waits for a
/// step-up sign-in (since when). It is kept in this tab at every change, so leaving the page (a
/// step-up, the implicit flow's renewal, a reload) loses nothing; a save or a sign-out forgets it.
#[derive(Clone, Serialize, Deserialize)]
struct Unsaved {
    preferences: Fields,
    tid: String,
    oid: String,
    #[serde(default)]
    saving_since: Option<u64>,
}

/// How long a save waits for its step-up sign-in; one abandoned longer is not retried (what
/// was typed is still shown, unsaved).
const STEP_UP_WITHIN_SECONDS: u64 = 600;

impl Unsaved {
    /// What `account` typed here and did not save, when it differs from what the API holds
    /// (`stored`) or a save of it waits; another account's is forgotten, never shown. An account
    /// whose ids the sign-in did not bring keeps nothing: it could not be told from another.
    fn kept_for(account: &Account, stored: &Fields) -> Option<Self> {
        storage::load_unsaved::<Self>().filter(|unsaved| {
            let own = account.is_identified() && unsaved.tid == account.tid && unsaved.oid == account.oid;
            if !own {
                storage::forget_unsaved();
            }
            own && (unsaved.preferences != *stored || unsaved.saving_since.is_some())
        })
    }

    /// Whether a save of it left for a step-up sign-in that is back in time: it is retried once.
    fn resumes(&self) -> bool {
        self.saving_since.is_some_and(|since| browser::now().saturating_sub(since) < STEP_UP_WITHIN_SECONDS)
    }

    /// Keeps it in the tab, when its account can be told from another.
    fn keep(&self) {
        if !self.tid.is_empty() && !self.oid.is_empty() {
            storage::save_unsaved(self);
        }
    }
}

/// One save: what is saved, and whether it follows a step-up sign-in (then a second claims
/// challenge is explained, never answered with another sign-in).
#[derive(Clone)]
struct Attempt {
    unsaved: Unsaved,
    after_step_up: bool,
}

/// A save and the API's answer to it.
#[derive(Clone)]
struct Answered {
    attempt: Attempt,
    answer: Result<(), SaveFailure>,
}

/// What the form says about the save.
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

impl Saving {
    /// What the form says once the API answered.
    fn after(answered: &Answered) -> Self {
        match &answered.answer {
            Ok(()) => Self::Saved,
            Err(SaveFailure::StepUp(_)) if !answered.attempt.after_step_up => Self::SteppingUp,
            Err(SaveFailure::StepUp(claims)) => {
                let contexts = channels_protocol::step_up::requested_contexts(claims).join(", ");
                Self::Failed(
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
                Self::Failed(Explanation::new(error.message.clone()).with_optional_fix(error.fix.clone()))
            }
            Err(SaveFailure::Unreachable(what)) => Self::Failed(
                Explanation::new(format!("Expected the API's answer to PUT /api/me/profile; found {what}."))
                    .with_fix(api::UNREACHABLE_FIX.to_owned()),
            ),
        }
    }
}

/// What a save's answer changes in the tab: a save forgets what it saved (not what was typed
/// while it ran) and becomes the form's base; a claims challenge keeps what was typed, marked
/// as waiting, and leaves for the step-up sign-in as `account`.
fn settle(answered: &Answered, base: StoredValue<Fields>, account: &Account, lifecycle: LifecycleState) {
    let unsaved = &answered.attempt.unsaved;
    match &answered.answer {
        Ok(()) => {
            if storage::load_unsaved::<Unsaved>().is_none_or(|kept| kept.preferences == unsaved.preferences) {
                storage::forget_unsaved();
            }
            base.set_value(unsaved.preferences.clone());
        }
        Err(SaveFailure::StepUp(claims)) if !answered.attempt.after_step_up => {
            Unsaved { saving_since: Some(browser::now()), ..unsaved.clone() }.keep();
            lifecycle.step_up(account.clone(), claims);
        }
        Err(_) => {}
    }
}

/// The preferences form: a display name and a default channel, saved with
/// `PUT /api/me/profile`. When the API asks for a stronger sign-in (a claims challenge), what
/// the user typed waits in this tab while they sign in again, and is saved once they are back;
/// a second challenge is explained, never answered with another sign-in.
#[component]
pub fn Preferences(session: ArcRwSignal<Arc<Session>>, channels: Vec<String>, stored: Fields) -> impl IntoView {
    let lifecycle = expect_context::<LifecycleState>();
    let account = session.get_untracked().stored.account.clone();
    let kept = Unsaved::kept_for(&account, &stored);
    let initial = kept.as_ref().map_or(stored, |unsaved| unsaved.preferences.clone());
    let text = |key: &str| initial.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    let display_name = RwSignal::new(text("display_name"));
    let default_channel = RwSignal::new(text("default_channel"));
    // Keys the form does not edit are kept as they are.
    let base = StoredValue::new(initial);
    // What the form holds now, as it would be saved.
    let typed = {
        let account = account.clone();
        move || {
            let mut preferences = base.get_value();
            preferences.insert("display_name".into(), display_name.get().trim().to_owned().into());
            preferences.insert("default_channel".into(), default_channel.get().into());
            Unsaved { preferences, tid: account.tid.clone(), oid: account.oid.clone(), saving_since: None }
        }
    };
    // Kept at every change, and at once when something was kept: a save that waited for its
    // step-up is retried once, and from here on only waits.
    Effect::watch(typed.clone(), |unsaved, _, _| unsaved.keep(), kept.is_some());

    let save = Action::new_local(move |attempt: &Attempt| {
        let (attempt, session) = (attempt.clone(), session.get_untracked());
        async move {
            let answer = api::save_profile(&session.access_token, &attempt.unsaved.preferences).await;
            Answered { attempt, answer }
        }
    });
    // The answer's effects in the tab; none once the form is gone (signed out meanwhile).
    Effect::new(move |_| {
        if let Some(answered) = save.value().get() {
            settle(&answered, base, &account, lifecycle);
        }
    });
    if kept.as_ref().is_some_and(Unsaved::resumes) {
        save.dispatch(Attempt { unsaved: untrack(&typed), after_step_up: true });
    }

    let state = move || match save.value().get() {
        _ if save.pending().get() => Saving::Busy,
        Some(answered) => Saving::after(&answered),
        None if kept.is_some() => Saving::Kept,
        None => Saving::Idle,
    };
    let status = move || match state() {
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
                save.dispatch(Attempt {
                    unsaved: untrack(&typed),
                    after_step_up: false,
                });
            }
        >
            <h2 id="preferences">"Your preferences"</h2>
            <label>
                "Display name"
                <input
                    type="text"
                    maxlength="100"
                    prop:value=display_name
                    on:input=move |event| display_name.set(event_target_value(&event))
                />
            </label>
            <label>
                "Default channel" <select on:change=move |event| default_channel.set(event_target_value(&event))>
                    <option value="">"(none)"</option>
                    {options}
                </select>
            </label>
            <button class="primary" type="submit" disabled=move || save.pending().get()>
                "Save preferences"
            </button>
            {status}
        </form>
    }
}
