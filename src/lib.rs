//! The Channels SPA: signs the user in with Microsoft Entra ID (authorization code + PKCE,
//! entirely in the browser) and shows the channels their directory groups grant.
//!
//! The story, top to bottom: [`config`] loads where to sign in → [`routes`] reads where the
//! page is → [`lifecycle`] runs the sign-in ([`auth`], with the pure steps of
//! `channels_protocol`) and renews it → [`pages`] show each phase, built from [`components`] →
//! the profile page calls the API. [`browser`] is the only module that touches the browser.

pub mod api;
pub mod auth;
pub mod browser;
pub mod components;
pub mod config;
pub mod lifecycle;
pub mod pages;
pub mod routes;

use channels_protocol::wire::SpaConfig;
use leptos::prelude::*;

use crate::auth::Explanation;
use crate::components::{ErrorPanel, Status};
use crate::lifecycle::{Chosen, Lifecycle};

/// The whole app: loads the runtime configuration, then runs the sign-in lifecycle of the
/// organisation it names (or the one the user picks).
#[component]
pub fn App() -> impl IntoView {
    // First of all: a page opened on `/sso` leaves it, and what Entra sent (a code, or the
    // implicit flow's tokens) leaves the address bar, before anything else runs.
    provide_context(routes::AddressBar::new());
    let config = LocalResource::new(config::load);
    // "Try again" reloads it; the panel gives way to "Loading…" at once, and a second click
    // while it loads loads nothing more.
    let load_again = Callback::new(move |()| {
        if config.get_untracked().is_some() {
            config.set(None);
            config.refetch();
        }
    });
    let content = move || match config.get() {
        None => view! { <Status text="Loading…" /> }.into_any(),
        Some(Ok(spa)) => view! { <Organisation spa /> }.into_any(),
        Some(Err(message)) => {
            let explanation = Explanation::new(message).with_fix(config::FIX.to_owned());
            view! { <ErrorPanel title="The app could not start" explanation retry=Some(load_again) /> }.into_any()
        }
    };
    view! {
        <header class="bar">
            <span class="brand">"Channels"</span>
        </header>
        <main class="page">{content}</main>
    }
}

/// With several organisations configured (`spa`, as `/config.json` served it), lets the user
/// pick one (remembered), then runs the lifecycle for it; with one, runs the lifecycle at once.
#[component]
fn Organisation(spa: SpaConfig) -> impl IntoView {
    if spa.profiles.len() < 2 {
        return view! {
            <Lifecycle config=spa.sign_in()>
                <pages::Page />
            </Lifecycle>
        }
        .into_any();
    }
    let spa = StoredValue::new(spa);
    let remembered = browser::storage::remembered_profile();
    let chosen = RwSignal::new(remembered.filter(|name| spa.with_value(|spa| spa.profile(name).is_some())));
    let change = Callback::new(move |()| {
        browser::storage::forget_profile();
        chosen.set(None);
    });
    let pick = Callback::new(move |name: String| {
        browser::storage::remember_profile(&name);
        chosen.set(Some(name));
    });
    (move || match chosen.get() {
        Some(name) => {
            let config = spa.with_value(|spa| spa.profile(&name)).expect("a chosen profile exists");
            view! {
                <Lifecycle config chosen=Chosen { name, change }>
                    <pages::Page />
                </Lifecycle>
            }
            .into_any()
        }
        None => {
            let names = spa.with_value(|spa| spa.profiles.iter().map(|p| p.name.clone()).collect());
            view! { <pages::ChooseOrganisation names on_pick=pick /> }.into_any()
        }
    })
    .into_any()
}
