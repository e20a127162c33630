//! The tab's `sessionStorage`: pending logins keyed by their `state` (two tabs, or two clicks,
//! never overwrite each other's verifier), the signed-in session, and what the user typed and
//! has not saved (it waits there through a step-up sign-in, the implicit flow's renewal or a
//! reload). Tokens never go to
//! `localStorage`: they stay in this tab and die with it. The one thing `localStorage` keeps
//! is the organisation the user picked (a name, no secret), so every tab and visit uses it.

use channels_protocol::authorize::PendingLogin;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::auth::session::StoredSession;

const PENDING_PREFIX: &str = "channels.pending.";
const SESSION_KEY: &str = "channels.session";
/// When this tab last tried a silent sign-in; it outlives [`clear`], so no sign-out or failed
/// renewal can reset the loop guard (only a silent sign-in that brought a session lasting longer
/// than the guard: [`forget_silent_attempt`]).
const SILENT_KEY: &str = "channels.silent-attempt";
/// What the user typed and has not saved yet; it outlives a renewal, not a sign-out.
const UNSAVED_KEY: &str = "channels.unsaved";
/// The organisation picked among several (`localStorage`).
const PROFILE_KEY: &str = "channels.organisation";

fn storage() -> web_sys::Storage {
    leptos::prelude::window().session_storage().ok().flatten().expect("sessionStorage is available")
}

fn put<T: Serialize>(key: &str, value: &T) {
    let json = serde_json::to_string(value).expect("the records stored are plain JSON");
    if let Err(error) = storage().set_item(key, &json) {
        web_sys::console::error_2(&"sessionStorage write failed".into(), &error);
    }
}

fn take<T: DeserializeOwned>(key: &str) -> Option<T> {
    let storage = storage();
    let json = storage.get_item(key).ok().flatten()?;
    let _ = storage.remove_item(key);
    serde_json::from_str(&json).ok()
}

/// Keeps a pending login until the callback for its state arrives.
pub fn save_pending(pending: &PendingLogin) {
    put(&format!("{PENDING_PREFIX}{}", pending.state.secret()), pending);
}

/// Removes and returns the pending login for `state`: a second callback with the same state
/// (a replay, the back button) finds nothing.
pub fn take_pending(state: &str) -> Option<PendingLogin> {
    take(&format!("{PENDING_PREFIX}{state}"))
}

/// Stores what of the session survives a reload (never the access token).
pub fn save_session(session: &StoredSession) {
    put(SESSION_KEY, session);
}

/// The stored session of this tab, if any; `Err` (why) when one is stored that cannot be read,
/// such as one saved by an earlier version in another shape.
pub fn load_session() -> Result<Option<StoredSession>, String> {
    let Some(json) = storage().get_item(SESSION_KEY).ok().flatten() else { return Ok(None) };
    serde_json::from_str(&json).map(Some).map_err(|e| e.to_string())
}

/// Forgets everything this tab holds for the user: the session, every pending login, and what
/// they typed and did not save (a sign-out, a session ended elsewhere or unreadable).
pub fn clear() {
    forget_session();
    forget_unsaved();
}

/// Forgets the session and every pending login, keeping what the user typed: a renewal that
/// ends the stored session (so a reload cannot loop on it) and leaves for a silent sign-in
/// brings the same user back to it.
pub fn forget_session() {
    let storage = storage();
    let keys: Vec<String> = (0..storage.length().unwrap_or(0))
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|key| key == SESSION_KEY || key.starts_with(PENDING_PREFIX))
        .collect();
    for key in keys {
        let _ = storage.remove_item(&key);
    }
}

/// Keeps what the user typed and has not saved (and whether a save of it waits for a step-up).
pub fn save_unsaved<T: Serialize>(unsaved: &T) {
    put(UNSAVED_KEY, unsaved);
}

/// What the user typed and has not saved, if this tab holds any that can be read.
pub fn load_unsaved<T: DeserializeOwned>() -> Option<T> {
    let json = storage().get_item(UNSAVED_KEY).ok().flatten()?;
    serde_json::from_str(&json).ok()
}

/// Forgets what the user typed: it was saved.
pub fn forget_unsaved() {
    let _ = storage().remove_item(UNSAVED_KEY);
}

/// Notes that a silent sign-in starts now.
pub fn note_silent_attempt(now: u64) {
    put(SILENT_KEY, &now);
}

/// Forgets the last silent sign-in: one succeeded, with a session that outlives the guard.
pub fn forget_silent_attempt() {
    let _ = storage().remove_item(SILENT_KEY);
}

/// When this tab last tried a silent sign-in.
pub fn last_silent_attempt() -> Option<u64> {
    let json = storage().get_item(SILENT_KEY).ok().flatten()?;
    serde_json::from_str(&json).ok()
}

fn local() -> Option<web_sys::Storage> {
    leptos::prelude::window().local_storage().ok().flatten()
}

/// Remembers the organisation picked, for every tab and later visits.
pub fn remember_profile(name: &str) {
    if let Some(local) = local() {
        let _ = local.set_item(PROFILE_KEY, name);
    }
}

/// The organisation picked earlier, if any.
pub fn remembered_profile() -> Option<String> {
    local()?.get_item(PROFILE_KEY).ok().flatten()
}

/// Forgets the organisation picked, so the user chooses again.
pub fn forget_profile() {
    if let Some(local) = local() {
        let _ = local.remove_item(PROFILE_KEY);
    }
}
