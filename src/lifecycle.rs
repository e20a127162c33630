//! The sign-in lifecycle of one organisation: where the user is ([`Phase`]) and what moves them
//! on (signing in, completing on `/sso`, renewing before the access token expires, signing
//! out, a sign-out elsewhere). Its pages read it as context ([`LifecycleState`]).

use std::sync::Arc;
use std::time::Duration;

use channels_protocol::authorize::{Prompt, ReturnPath};
use channels_protocol::logout::FrontChannelLogout;
use channels_protocol::wire::RuntimeConfig;
use leptos::prelude::*;

use crate::auth::session::{Session, StoredSession};
use crate::auth::{self, Explanation, Outcome, CALLBACK_PATH, FRONT_CHANNEL_LOGOUT_PATH};
use crate::browser::{self, storage};
use crate::routes::AddressBar;

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

/// The organisation picked, when the deployment serves several, and how to pick another.
#[derive(Clone)]
pub struct Chosen {
    /// Its name, as configured.
    pub name: String,
    /// Forgets the choice, back to the picker.
    pub change: Callback<()>,
}

/// The lifecycle's state and actions, given to its pages by context.
#[derive(Clone, Copy)]
pub struct LifecycleState {
    /// Where the user is.
    pub phase: RwSignal<Phase>,
    config: StoredValue<RuntimeConfig>,
    chosen: StoredValue<Option<Chosen>>,
    /// The next renewal, cancelled when this lifecycle goes (another organisation is picked).
    renewal: StoredValue<Option<TimeoutHandle>>,
}

/// Runs the sign-in lifecycle for one configuration (the tenant and app to sign in to);
/// `chosen` is the organisation picked, when there is a choice. Its `children` (the pages)
/// read it as context.
#[component]
pub fn Lifecycle(config: RuntimeConfig, #[prop(optional)] chosen: Option<Chosen>, children: Children) -> impl IntoView {
    // Opened on `/sso` or `/logout`: what Entra sent is in the query.
    let router = expect_context::<AddressBar>();
    let (path, query) = router.take_entry().unwrap_or_default();
    let lifecycle = LifecycleState {
        phase: RwSignal::new(initial_phase(&path, &query)),
        config: StoredValue::new(config),
        chosen: StoredValue::new(chosen),
        renewal: StoredValue::new(None),
    };
    provide_context(lifecycle);
    on_cleanup(move || {
        if let Some(Some(timer)) = lifecycle.renewal.try_get_value() {
            timer.clear();
        }
    });
    // A sign-out in another tab, or the front-channel logout route, ends this tab's session.
    // The listener is removed with this lifecycle (another organisation picked), in the same
    // task that disposes its signals: it never finds them gone.
    browser::on_sign_out(move || {
        storage::clear();
        if matches!(lifecycle.phase.get_untracked(), Phase::SignedIn(_) | Phase::Renewing | Phase::Interrupted(_)) {
            lifecycle.phase.set(Phase::Ended(signed_out_elsewhere(), Prompt::Default));
        }
    });
    match lifecycle.phase.get_untracked() {
        Phase::Completing => {
            // A task rather than a resource: its outcome moves the lifecycle, and renewals later
            // replace it in the same signal.
            leptos::task::spawn_local(async move {
                let Some(config) = lifecycle.config.try_get_value() else { return };
                let outcome = complete(config, query).await;
                if let Ok((_, return_to)) = &outcome {
                    router.replace(return_to.as_str());
                }
                lifecycle.settle(outcome.map(|(session, _)| Outcome::SignedIn(session)));
            });
        }
        Phase::Renewing => lifecycle.restore(),
        _ => {}
    }
    children()
}

/// Why the tab is signed out when the sign-out happened elsewhere.
pub fn signed_out_elsewhere() -> Explanation {
    Explanation::new("You were signed out, in another tab or at Microsoft. Sign in to continue.")
}

/// Why the tab is signed out when its stored session could not be read (`why`).
fn session_unreadable(why: String) -> Explanation {
    Explanation::new(
        "This tab's stored session could not be read (saved by an earlier version of this app, or \
                  damaged), so it cannot be restored. Sign in to continue.",
    )
    .with_detail(why)
}

/// The phase at page load, at `path` with `query`: completing on `/sso` with a response,
/// renewing when the tab has a stored session (the access token lives in memory only), else
/// signed out. A bare `/sso` is the return from Entra's sign-out (the one redirect URI per host
/// serves both). The front-channel logout URL ends the sessions of this origin's tabs that it
/// names.
pub fn initial_phase(path: &str, query: &str) -> Phase {
    if path == FRONT_CHANNEL_LOGOUT_PATH {
        match FrontChannelLogout::parse(query) {
            Ok(request) => {
                browser::broadcast_front_channel_logout(&request);
                if browser::front_channel_logout_ends_this_tab(&request) {
                    storage::clear();
                    return Phase::Ended(signed_out_elsewhere(), Prompt::Default);
                }
            }
            Err(why) => browser::ignored_front_channel_logout(&why),
        }
    }
    if path == CALLBACK_PATH && !query.is_empty() {
        return Phase::Completing;
    }
    match storage::load_session() {
        Ok(Some(_)) => Phase::Renewing,
        Ok(None) => Phase::SignedOut,
        Err(why) => {
            storage::clear();
            Phase::Ended(session_unreadable(why), Prompt::Default)
        }
    }
}

impl LifecycleState {
    /// The registration this lifecycle signs in to.
    pub fn config(&self) -> RuntimeConfig {
        self.config.get_value()
    }

    /// The organisation picked, when there is a choice.
    pub fn chosen(&self) -> Option<Chosen> {
        self.chosen.get_value()
    }

    /// Leaves for Entra's sign-in page.
    pub fn begin(&self, prompt: Prompt) {
        auth::begin(&self.config.get_value(), prompt);
    }

    /// Leaves for Entra's sign-in page as `account` again, asking for the claims a challenge
    /// named (a step-up: Entra applies the authentication context's policy, MFA say).
    pub fn step_up(&self, account: channels_protocol::authorize::Account, claims: &str) {
        let claims = channels_protocol::step_up::request_claims(claims);
        auth::begin_with_claims(&self.config.get_value(), Prompt::LoginHint(account), &claims);
    }

    /// Forgets this tab's session, then leaves for Entra's sign-in page (what the user typed
    /// and did not save waits for them).
    pub fn begin_afresh(&self, prompt: Prompt) {
        storage::forget_session();
        self.begin(prompt);
    }

    /// Signs out here first, so this tab's own broadcast does not tell it "signed out
    /// elsewhere" while it leaves for Entra's sign-out.
    pub fn sign_out(&self) {
        self.phase.set(Phase::SignedOut);
        auth::sign_out(&self.config.get_value());
    }

    /// Renews the stored session: at a reload, and again after an interrupted renewal.
    pub fn restore(&self) {
        let lifecycle = *self;
        self.phase.set(Phase::Renewing);
        // A task, as the completion's: its outcome is a phase, not a value a view reads.
        leptos::task::spawn_local(async move {
            // A session belongs to the registration that issued it: after a change of
            // organisation (in another tab) it is dropped, not renewed at the wrong tenant.
            let Some(config) = lifecycle.config.try_get_value() else { return }; // this lifecycle is gone
            let stored = storage::load_session().ok().flatten();
            match stored.filter(|stored| stored.client_id == config.client_id) {
                Some(stored) => {
                    lifecycle.settle(renew_stored(config, stored).await.map_err(auth::SignInError::of_renewal))
                }
                None => {
                    storage::clear();
                    lifecycle.phase.set(Phase::SignedOut)
                }
            }
        });
    }

    /// Shows the outcome of a sign-in or a renewal, and schedules the next renewal.
    fn settle(&self, outcome: Result<Outcome, auth::SignInError>) {
        let phase = self.phase;
        // A sign-out elsewhere while this renewal ran wins: its result is dropped, unsaved. The
        // lifecycle itself may be gone (another organisation), hence `try_`.
        if matches!(phase.try_get_untracked(), None | Some(Phase::Ended(..))) {
            storage::clear();
            browser::log_to_console("a sign-in or renewal that finished after the session ended was dropped, unsaved");
            return;
        }
        // A background renewal that could not reach Entra: while the page's token still works,
        // the page stays and the renewal is tried again shortly (a bounded number of times).
        if let (Err(auth::SignInError::RenewalInterrupted(_)), Phase::SignedIn(current)) =
            (&outcome, phase.get_untracked())
        {
            let session = current.get_untracked();
            if let Some(seconds) = session.retry_renewal_in(browser::now()) {
                self.renew_after(session, seconds);
                return;
            }
        }
        let next = match outcome {
            Ok(Outcome::SignedIn(session)) => {
                let session = Arc::new(session);
                if let Some(seconds) = session.renew_in(browser::now()) {
                    self.renew_after(session.clone(), seconds);
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
            Ok(Outcome::LeftForEntra) => Phase::Renewing,
            Err(error @ auth::SignInError::SessionEnded { .. }) => Phase::Ended(error.explain(), error.retry_prompt()),
            Err(error @ auth::SignInError::RenewalInterrupted(_)) => Phase::Interrupted(error.explain()),
            Err(error) => Phase::Failed(error.explain(), error.retry_prompt()),
        };
        phase.set(next);
    }

    /// Renews `session` in `seconds` (before its access token expires), unless by then a newer
    /// session (or a sign-out) has replaced it. One renewal is scheduled at a time.
    fn renew_after(&self, session: Arc<Session>, seconds: u64) {
        let lifecycle = *self;
        // Held weakly: a timer cancelled with its lifecycle is never dropped by the browser, and
        // must not keep the session's tokens alive.
        let session = Arc::downgrade(&session);
        let renew = move || {
            let Some(session) = session.upgrade() else { return }; // replaced since
            let current = matches!(lifecycle.phase.try_get_untracked(),
                Some(Phase::SignedIn(now)) if Arc::ptr_eq(&now.get_untracked(), &session));
            let Some(config) = lifecycle.config.try_get_value().filter(|_| current) else { return };
            // A task, as the restore's: the renewal's outcome is the next phase.
            leptos::task::spawn_local(async move {
                lifecycle.settle(renew_current(config, session).await.map_err(auth::SignInError::of_renewal))
            });
        };
        // Browsers hold a timer's delay in 32 signed bits (about 24.8 days); a longer one would
        // fire at once.
        let delay = Duration::from_millis(seconds.saturating_mul(1000).min(i32::MAX as u64));
        let timer = set_timeout_with_handle(renew, delay).ok();
        if let Some(Some(previous)) = self.renewal.try_get_value() {
            previous.clear();
        }
        self.renewal.try_set_value(timer);
    }
}

// What runs only once Entra has answered (the code's redemption, the ID token's checks, the
// renewals) is fetched when first needed: the release build splits the wasm at these functions
// (`--cfg wasm_split`, ./dev), so the first load downloads the sign-in alone (docs/spa.md).
// Elsewhere (trunk serve, the wasm tests) they are plain functions. Leptos' own splitter
// (`leptos::wasm_split`, what its `#[lazy]` expands to), with two options `#[lazy]` does not
// offer: the three share one chunk (`sign_in`), so the renewal an hour after a sign-in never
// waits on a fetch, and a chunk that cannot be fetched is an error the lifecycle shows
// (`SignInError::CodeUnavailable`; a renewal's is an interrupted renewal), where `#[lazy]` panics
// and so stops the app. Each returns a future in both builds, so its callers read the same.

/// An answer of Entra's being redeemed, in the `sign_in` chunk.
type Redeeming<T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, auth::SignInError>>>>;

/// Completes the sign-in that Entra answered with `response` (`auth::complete`).
#[cfg_attr(wasm_split, leptos::wasm_split::wasm_split(sign_in, wasm_split_path = leptos::wasm_split, fallible,
    return_wrapper(let redeeming = _; { redeeming.await } -> Result<(Session, ReturnPath), auth::SignInError>)))]
fn complete(config: RuntimeConfig, response: String) -> Redeeming<(Session, ReturnPath)> {
    Box::pin(async move { auth::complete(&config, &response).await })
}

/// Renews the session stored in this tab, at a reload (`auth::renew`).
#[cfg_attr(wasm_split, leptos::wasm_split::wasm_split(sign_in, wasm_split_path = leptos::wasm_split, fallible,
    return_wrapper(let redeeming = _; { redeeming.await } -> Result<Outcome, auth::SignInError>)))]
fn renew_stored(config: RuntimeConfig, stored: StoredSession) -> Redeeming<Outcome> {
    Box::pin(async move { auth::renew(&config, &stored).await })
}

/// Renews the session the page shows, before its access token expires (`auth::renew`).
#[cfg_attr(wasm_split, leptos::wasm_split::wasm_split(sign_in, wasm_split_path = leptos::wasm_split, fallible,
    return_wrapper(let redeeming = _; { redeeming.await } -> Result<Outcome, auth::SignInError>)))]
fn renew_current(config: RuntimeConfig, session: Arc<Session>) -> Redeeming<Outcome> {
    Box::pin(async move { auth::renew(&config, &session.stored).await })
}
