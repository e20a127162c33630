//! The address bar: where the page is, leaving for Entra, and cleaning up after the callback.

use leptos::prelude::window;

/// `scheme://host[:port]` of the page. The redirect URI is derived from it, so one build
/// works on every host registered in Entra.
pub fn origin() -> String {
    window().location().origin().unwrap_or_default()
}

/// The page's path, e.g. `/sso`.
pub fn path() -> String {
    window().location().pathname().unwrap_or_default()
}

/// The path with its query string, e.g. `/channels?tab=2` (the return path of a login).
pub fn path_and_query() -> String {
    let location = window().location();
    format!("{}{}", location.pathname().unwrap_or_default(), location.search().unwrap_or_default())
}

/// The query string, with its leading `?`.
pub fn query() -> String {
    window().location().search().unwrap_or_default()
}

/// The fragment, without its leading `#` (the implicit flow's tokens come in it).
pub fn fragment() -> String {
    let hash = window().location().hash().unwrap_or_default();
    hash.strip_prefix('#').unwrap_or(&hash).to_owned()
}

/// Leaves the SPA for `url` (the authorize or logout endpoint).
pub fn navigate(url: &str) {
    if let Err(error) = window().location().assign(url) {
        web_sys::console::error_2(&"navigation failed".into(), &error);
    }
}

/// Loads the page again, with the app's newest version (a part of an older one may be gone).
pub fn reload() {
    if let Err(error) = window().location().reload() {
        web_sys::console::error_2(&"reload failed".into(), &error);
    }
}

/// Replaces the current history entry with `path`, removing `code` and `state` (or the
/// implicit flow's fragment, tokens and all) from the address bar and from the back button.
pub fn replace_path(path: &str) {
    if let Ok(history) = window().history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
    }
}
