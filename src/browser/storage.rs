//! The tab's `sessionStorage`: pending logins keyed by their `state` (two tabs, or two clicks,
//! never overwrite each other's verifier), the signed-in session, and what the user typed and
//! has not saved (it waits there through a step-up sign-in, the implicit flow's renewal or a
//! reload). Tokens never go to
//! `localStorage`: they stay in this tab and die with it. The one thing `localStorage` keeps
//! is the organisation the user picked (a name, no secret), so every tab and visit uses it.

use channels_protocol::authorize::PendingLogin;
use gloo_storage::errors::StorageError;
use gloo_storage::{LocalStorage, SessionStorage, Storage};
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

fn put<T: Serialize>(key: &str, value: &T) {
    if let Err(error) = SessionStorage::set(key, value) {
        write_failed("sessionStorage", error);
    }
}

/// Says in the console that a write to `storage` failed (full, or refused by the browser).
fn write_failed(storage: &str, error: StorageError) {
    web_sys::console::error_1(&format!("Channels: {storage} write failed: {error}").into());
}

fn take<T: DeserializeOwned>(key: &str) -> Option<T> {
    let value = SessionStorage::get(key).ok();
    SessionStorage::delete(key);
    value
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
    match SessionStorage::get(SESSION_KEY) {
        Ok(session) => Ok(Some(session)),
        Err(StorageError::SerdeError(unreadable)) => Err(unreadable.to_string()),
        // gloo-storage throws rather than return a JsError from a read.
        Err(StorageError::KeyNotFound(_) | StorageError::JsError(_)) => Ok(None),
    }
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
    let storage = SessionStorage::raw();
    let keys: Vec<String> = (0..SessionStorage::length())
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|key| key == SESSION_KEY || key.starts_with(PENDING_PREFIX))
        .collect();
    for key in keys {
        SessionStorage::delete(key);
    }
}

/// Keeps what the user typed and has not saved (and whether a save of it waits for a step-up).
pub fn save_unsaved<T: Serialize>(unsaved: &T) {
    put(UNSAVED_KEY, unsaved);
}

/// What the user typed and has not saved, if this tab holds any that can be read.
pub fn load_unsaved<T: DeserializeOwned>() -> Option<T> {
    SessionStorage::get(UNSAVED_KEY).ok()
}

/// Forgets what the user typed: it was saved.
pub fn forget_unsaved() {
    SessionStorage::delete(UNSAVED_KEY);
}

/// Notes that a silent sign-in starts now.
pub fn note_silent_attempt(now: u64) {
    put(SILENT_KEY, &now);
}

/// Forgets the last silent sign-in: one succeeded, with a session that outlives the guard.
pub fn forget_silent_attempt() {
    SessionStorage::delete(SILENT_KEY);
}

/// When this tab last tried a silent sign-in.
pub fn last_silent_attempt() -> Option<u64> {
    SessionStorage::get(SILENT_KEY).ok()
}

/// Remembers the organisation picked, for every tab and later visits.
pub fn remember_profile(name: &str) {
    if let Err(error) = LocalStorage::set(PROFILE_KEY, name) {
        write_failed("localStorage", error);
    }
}

/// The organisation picked earlier, if any: a JSON string, or the bare name an earlier version
/// stored.
pub fn remembered_profile() -> Option<String> {
    LocalStorage::get(PROFILE_KEY).ok().or_else(|| LocalStorage::raw().get_item(PROFILE_KEY).ok().flatten())
}

/// Forgets the organisation picked, so the user chooses again.
pub fn forget_profile() {
    LocalStorage::delete(PROFILE_KEY);
}
