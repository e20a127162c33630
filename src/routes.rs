//! The app's paths, routed by hand in this one module: leptos_router cost 28.7 KB gzip in this
//! app (178.4 KB against 149.7 KB without it, docs/size.md), over the 15 KB the design allows
//! it. The paths:
//!
//! - `/sso` ([`crate::auth::CALLBACK_PATH`]): Entra's redirect back, with a code after a sign-in (tokens in
//!   the fragment in the implicit flow), bare after a sign-out. The address bar leaves it at
//!   once; the lifecycle is given its query, or the fragment.
//! - `/logout` ([`crate::auth::FRONT_CHANNEL_LOGOUT_PATH`]): the front-channel logout; the same.
//! - `/diagnostics` ([`DIAGNOSTICS_PATH`]): the signed-in page with its diagnostics open.
//! - anything else (`/`, a deep link): the page of the lifecycle's phase. A sign-in started on a
//!   deep link comes back to it.

use leptos::prelude::*;

use crate::auth::{CALLBACK_PATH, FRONT_CHANNEL_LOGOUT_PATH};
use crate::browser::location;

/// The diagnostics' own path.
pub const DIAGNOSTICS_PATH: &str = "/diagnostics";

/// The address bar's path as a signal, given to the app by context: pages read it, and
/// change it only through [`AddressBar::replace`].
#[derive(Clone, Copy)]
pub struct AddressBar {
    path: RwSignal<String>,
    /// The return path from Entra the page was opened on, with its query, until the lifecycle
    /// takes it.
    entry: StoredValue<Option<(String, String)>>,
}

impl AddressBar {
    /// Follows the page's address from now on. A page opened on one of Entra's return paths
    /// leaves it at once, before anything loads: the code and state (the implicit flow's
    /// tokens in the fragment, the logout's sid) leave the address bar and the history, and are
    /// kept for the lifecycle.
    pub fn new() -> Self {
        let path = location::path();
        let at_entry = path == CALLBACK_PATH || path == FRONT_CHANNEL_LOGOUT_PATH;
        // What Entra sent: in the query, or (the implicit flow) in the fragment.
        let entry = at_entry.then(|| {
            let query = location::query();
            (path.clone(), if query.is_empty() { location::fragment() } else { query })
        });
        let router = Self { path: RwSignal::new(path), entry: StoredValue::new(entry) };
        if at_entry {
            router.replace("/");
        }
        router
    }

    /// The path now (tracked).
    pub fn path(&self) -> String {
        self.path.get()
    }

    /// Entra's return path the page was opened on, and its query: given once.
    pub fn take_entry(&self) -> Option<(String, String)> {
        self.entry.try_update_value(Option::take).flatten()
    }

    /// Replaces the current history entry with `path_and_query` (a same-origin path): no new
    /// entry, no reload. What it replaces (a code, a state) leaves the back button too.
    pub fn replace(&self, path_and_query: &str) {
        location::replace_path(path_and_query);
        self.path.set(location::path());
    }
}

impl Default for AddressBar {
    fn default() -> Self {
        Self::new()
    }
}
