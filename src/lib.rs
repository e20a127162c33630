//! The Channels SPA: signs the user in with Microsoft Entra ID (authorization code + PKCE,
//! entirely in the browser) and shows the channels their directory groups grant.
//!
//! The story, top to bottom: [`config`] loads where to sign in → [`auth`] runs the sign-in
//! with the pure steps of `channels_protocol` → [`pages`] show each phase, as [`markup`] →
//! the profile page calls the API. [`browser`] is the only module that touches the browser.

pub mod auth;
pub mod browser;
pub mod components;
pub mod config;
pub mod markup;
pub mod pages;

use std::sync::Arc;

use channels_protocol::authorize::Prompt;
use channels_protocol::wire::{RuntimeConfig, SpaConfig};
use reactive_graph::callback::Callback;
use reactive_graph::owner::StoredValue;
use reactive_graph::prelude::*;
use reactive_graph::signal::{ArcRwSignal, RwSignal};

use crate::auth::session::Session;
use crate::auth::Explanation;
use crate::components::{error_panel, status};
use crate::markup::{el, Markup};

/// Where the user is in the sign-in lifecycle.
#[derive(Debug, Clone)]
pub enum Phase {
    /// No session in this tab.
    SignedOut,
    /// Back from Entra on `/sso`, redeeming the code.
    Completing,
    /// A reload: renewing the access token with the stored refresh token.
    Renewing,
    /// Signed in. Renewals replace the session in this signal, so the page stays as it is
    /// (no refetch, focus kept) and reads the newest token when it needs one.
    SignedIn(ArcRwSignal<Arc<Session>>),
    /// The sign-in failed; the explanation says why and what fixes it, and "Try again" signs in
    /// with the prompt given.
    Failed(Explanation, Prompt),
    /// Signed out with a reason (the session ended, or the user signed out elsewhere): the
    /// sign-in page, with the reason above it, signing in with the prompt given.
    Ended(Explanation, Prompt),
    /// A renewal could not reach Entra; the session is kept, and "Try again" renews it.
    Interrupted(Explanation),
}

/// The whole app: loads the runtime configuration, then runs the sign-in lifecycle.
pub fn app() -> Markup {
    // Loaded once, and again by "Try again" when it could not be.
    let config = RwSignal::new(None::<Result<SpaConfig, String>>);
    let load = move || reactive_graph::spawn_local(async move { config.set(Some(config::load().await)) });
    load();
    let load_again = Callback::new(move |()| {
        if config.get_untracked().is_some() {
            config.set(None);
            load();
        }
    });
    let content = Markup::reactive(move || match config.get() {
        None => status("Loading…"),
        Some(Err(message)) => {
            let explanation = Explanation { message, fix: Some(config::FIX.to_owned()), detail: None };
            error_panel("The app could not start", explanation, Some(load_again))
        }
        Some(Ok(spa)) => organisation(spa),
    });
    Markup::Fragment(vec![
        el("header").class("bar").child(el("span").class("brand").text("Channels")).into(),
        el("main").class("page").child(content).into(),
    ])
}

/// With several organisations configured (`spa`, as `/config.json` served it), lets the user
/// pick one (remembered), then runs the lifecycle for it; with one, runs the lifecycle at once.
pub fn organisation(spa: SpaConfig) -> Markup {
    if spa.profiles.len() < 2 {
        return lifecycle(spa.sign_in(), None);
    }
    let chosen = RwSignal::new(browser::storage::remembered_profile().filter(|name| spa.profile(name).is_some()));
    let change = Callback::new(move |()| {
        browser::storage::forget_profile();
        chosen.set(None);
    });
    Markup::reactive(move || match chosen.get() {
        Some(name) => {
            let config = spa.profile(&name).expect("a chosen profile exists");
            lifecycle(config, Some((name, change)))
        }
        None => {
            let names: Vec<String> = spa.profiles.iter().map(|p| p.name.clone()).collect();
            let pick = Callback::new(move |name: String| {
                browser::storage::remember_profile(&name);
                chosen.set(Some(name));
            });
            pages::choose_organisation(names, pick)
        }
    })
}

/// Runs the sign-in lifecycle for one configuration (the tenant and app to sign in to);
/// `organisation` is the organisation picked, and how to pick another, when there is a choice.
pub fn lifecycle(config: RuntimeConfig, organisation: Option<(String, Callback<()>)>) -> Markup {
    let config = StoredValue::new(config);
    let phase = RwSignal::new(pages::initial_phase());
    let settle = move |outcome| settle(phase, config, outcome);
    // A sign-out in another tab, or the front-channel logout route, ends this tab's session.
    // The listener is closed when this lifecycle is replaced (another organisation); a message
    // already on its way may still arrive after this lifecycle's signal is gone, hence the
    // `try_` forms.
    browser::on_sign_out(move || {
        browser::storage::clear();
        if matches!(phase.try_get_untracked(), Some(Phase::SignedIn(_) | Phase::Renewing | Phase::Interrupted(_))) {
            phase.try_set(Phase::Ended(pages::signed_out_elsewhere(), Prompt::Default));
        }
    });
    // Renews the stored session: at a reload, and again after an interrupted renewal.
    let restore = move || {
        phase.set(Phase::Renewing);
        reactive_graph::spawn_local(async move {
            // A session belongs to the registration that issued it: after a change of
            // organisation (in another tab) it is dropped, not renewed at the wrong tenant.
            let Some(config) = config.try_get_value() else { return }; // this lifecycle is gone
            let stored = browser::storage::load_session().ok().flatten();
            match stored.filter(|stored| stored.client_id == config.client_id) {
                Some(stored) => settle(auth::renew(&config, &stored).await),
                None => {
                    browser::storage::clear();
                    phase.set(Phase::SignedOut)
                }
            }
        })
    };
    match phase.get_untracked() {
        Phase::Completing => reactive_graph::spawn_local(async move {
            settle(auth::complete(&config.get_value()).await.map(|(session, _return_to)| session));
        }),
        Phase::Renewing => restore(),
        _ => {}
    }
    let restore = Callback::new(move |()| restore());
    let sign_in = Callback::new(move |()| auth::begin(&config.get_value(), Prompt::Default));
    let sign_in_again = move |prompt: Prompt| {
        Callback::new(move |()| {
            browser::storage::clear();
            auth::begin(&config.get_value(), prompt.clone());
        })
    };
    let sign_out = Callback::new(move |()| {
        // Signed out here first, so this tab's own broadcast does not tell it "signed out
        // elsewhere" while it leaves for Entra's sign-out.
        phase.set(Phase::SignedOut);
        auth::sign_out(&config.get_value());
    });
    Markup::reactive(move || match phase.get() {
        Phase::SignedOut => pages::sign_in(sign_in, None, organisation.clone()),
        Phase::Ended(reason, prompt) => pages::sign_in(sign_in_again(prompt), Some(reason), organisation.clone()),
        Phase::Completing => status("Signing you in…"),
        Phase::Renewing => status("Restoring your session…"),
        Phase::SignedIn(session) => {
            pages::profile(session, config.get_value(), sign_out, sign_in_again(Prompt::Default))
        }
        Phase::Failed(explanation, retry) => error_panel("Sign-in failed", explanation, Some(sign_in_again(retry))),
        // "Try again" keeps the session; a failure that lasts (a proxy in the way) must not
        // hold the tab, so the user may also start afresh.
        Phase::Interrupted(explanation) => Markup::Fragment(vec![
            error_panel("Your session could not be renewed", explanation, Some(restore)),
            el("div")
                .class("actions")
                .child(el("button").class("secondary").on_click(sign_in_again(Prompt::Default)).text("Sign in again"))
                .into(),
        ]),
    })
}

/// Shows the outcome of a sign-in or a renewal, and schedules the next renewal.
fn settle(phase: RwSignal<Phase>, config: StoredValue<RuntimeConfig>, outcome: Result<Session, auth::SignInError>) {
    // A sign-out elsewhere while this renewal ran wins: its result is dropped, unsaved.
    if matches!(phase.try_get_untracked(), None | Some(Phase::Ended(..))) {
        browser::storage::clear();
        return;
    }
    // A background renewal that could not reach Entra: while the page's token still works, the
    // page stays and the renewal is tried again shortly (a bounded number of times).
    if let (Err(auth::SignInError::RenewalInterrupted(_)), Some(Phase::SignedIn(current))) =
        (&outcome, phase.try_get_untracked())
    {
        let session = current.get_untracked();
        if let Some(seconds) = session.retry_renewal_in(browser::now()) {
            renew_after(phase, config, session, seconds);
            return;
        }
    }
    let next = match outcome {
        Ok(session) => {
            let session = Arc::new(session);
            if let Some(seconds) = session.renew_in(browser::now()) {
                renew_after(phase, config, session.clone(), seconds);
            }
            match phase.get_untracked() {
                // A renewal: the same page, with the newer token.
                Phase::SignedIn(current) => {
                    current.set(session);
                    return;
                }
                _ => Phase::SignedIn(ArcRwSignal::new(session)),
            }
        }
        // The page is leaving for a silent sign-in: keep saying so.
        Err(auth::SignInError::LeftForEntra) => Phase::Renewing,
        Err(error @ auth::SignInError::SessionEnded { .. }) => Phase::Ended(error.explain(), error.retry_prompt()),
        Err(error @ auth::SignInError::RenewalInterrupted(_)) => Phase::Interrupted(error.explain()),
        Err(error) => Phase::Failed(error.explain(), error.retry_prompt()),
    };
    phase.set(next);
}

/// Renews `session` in `seconds` (before its access token expires), unless by then a newer
/// session (or a sign-out, or another organisation) has replaced it.
fn renew_after(phase: RwSignal<Phase>, config: StoredValue<RuntimeConfig>, session: Arc<Session>, seconds: u64) {
    let renew = move || {
        let current = matches!(phase.try_get_untracked(),
            Some(Phase::SignedIn(now)) if Arc::ptr_eq(&now.get_untracked(), &session));
        let Some(registration) = config.try_get_value().filter(|_| current) else { return };
        reactive_graph::spawn_local(async move {
            let renewed = auth::renew(&registration, &session.stored).await;
            settle(phase, config, renewed)
        });
    };
    browser::after_seconds(seconds, renew);
}
