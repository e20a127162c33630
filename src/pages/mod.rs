//! One page per phase of the lifecycle.

mod organisation;
mod preferences;
mod profile;
mod sign_in;

pub use organisation::ChooseOrganisation;
pub use profile::Profile;
pub use sign_in::SignInPage;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use channels_protocol::authorize::Prompt;
use leptos::prelude::*;
use leptos::wasm_split::SplitLoaderError;

use crate::auth::session::Session;
use crate::auth::{Explanation, CODE_UNAVAILABLE_FIX};
use crate::browser::location;
use crate::components::{ErrorPanel, Status};
use crate::lifecycle::{LifecycleState, Phase};

/// The page of the lifecycle's phase.
#[component]
pub fn Page() -> impl IntoView {
    let lifecycle = expect_context::<LifecycleState>();
    let again = move |prompt: Prompt| Callback::new(move |()| lifecycle.begin_afresh(prompt.clone()));
    // The signed-in page's code comes in a chunk of its own (`signed_in_page`), asked for as soon
    // as a sign-in is under way: it downloads while Entra's answer is redeemed. Asked once: the
    // phases of a sign-in under way (completing, renewing, signed in) are one answer to the memo.
    let under_way =
        Memo::new(move |_| matches!(lifecycle.phase.get(), Phase::Completing | Phase::Renewing | Phase::SignedIn(_)));
    let signed_in_code = LocalResource::new(move || {
        let wanted = under_way.get();
        async move {
            if wanted {
                Some(signed_in_page().await)
            } else {
                None
            }
        }
    });
    move || match lifecycle.phase.get() {
        Phase::SignedOut => {
            view! { <SignInPage on_sign_in=Callback::new(move |()| lifecycle.begin(Prompt::Default)) /> }.into_any()
        }
        Phase::Ended(reason, prompt) => view! { <SignInPage on_sign_in=again(prompt) notice=reason /> }.into_any(),
        Phase::Completing => view! { <Status text="Signing you in…" /> }.into_any(),
        Phase::Renewing => view! { <Status text="Restoring your session…" /> }.into_any(),
        // Until the signed-in page's code has come, the page says what it is loading.
        Phase::SignedIn(session) => {
            let on_sign_in_again = again(Prompt::Default);
            (move || match signed_in_code.get().flatten() {
                Some(Ok(page)) => page(session.clone(), on_sign_in_again),
                // A reload, not a refetch: after a new version is deployed, the chunk asked for is
                // gone; the reload restores the session with the newest app.
                Some(Err(_)) => {
                    let explanation = Explanation::new(
                        "Expected this app's code for the signed-in page; found no answer from this site (a \
                         network error, or a new version of the app deployed meanwhile; the browser console \
                         says which).",
                    )
                    .with_fix(CODE_UNAVAILABLE_FIX.to_owned());
                    let retry = Some(Callback::new(|()| location::reload()));
                    view! { <ErrorPanel title="The signed-in page could not be loaded" explanation retry /> }.into_any()
                }
                None => view! { <Status text="Loading your channels…" /> }.into_any(),
            })
            .into_any()
        }
        Phase::Failed(explanation, retry) => {
            view! { <ErrorPanel title="Sign-in failed" explanation retry=Some(again(retry)) /> }.into_any()
        }
        // "Try again" keeps the session; a failure that lasts (a proxy in the way) must not
        // hold the tab, so the user may also start afresh.
        Phase::Interrupted(explanation) => {
            let sign_in_again = again(Prompt::Default);
            view! {
                <ErrorPanel
                    title="Your session could not be renewed"
                    explanation
                    retry=Some(Callback::new(move |()| lifecycle.restore()))
                />
                <div class="actions">
                    <button class="secondary" on:click=move |_| sign_in_again.run(())>
                        "Sign in again"
                    </button>
                </div>
            }
            .into_any()
        }
    }
}

/// The signed-in page, for a session and what starts a fresh sign-in.
type SignedInPage = fn(ArcRwSignal<Arc<Session>>, Callback<()>) -> AnyView;

/// The signed-in page's code, in a chunk of its own when the wasm is split, as the lifecycle's
/// completion and renewals are (src/lifecycle.rs says how): a user who is not signed in never
/// downloads it, and a chunk that cannot be fetched is an error the page shows. A future in
/// both builds, so that its caller reads the same whether the wasm is split or not.
#[cfg_attr(wasm_split, leptos::wasm_split::wasm_split(signed_in_page, wasm_split_path = leptos::wasm_split, fallible,
    return_wrapper(let loading = _; { loading.await } -> Result<SignedInPage, SplitLoaderError>)))]
fn signed_in_page() -> Pin<Box<dyn Future<Output = Result<SignedInPage, SplitLoaderError>>>> {
    let page: SignedInPage = |session, on_sign_in_again| view! { <Profile session on_sign_in_again /> }.into_any();
    Box::pin(std::future::ready(Ok(page)))
}
