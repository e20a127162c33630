//! The tab's storage in a real browser: pending logins keyed by state, single use, and
//! nothing ever written to `localStorage`.
#![cfg(target_arch = "wasm32")]

use channels_protocol::authorize::{start, Account, LoginEntropy, PendingLogin, ReturnPath};
use channels_protocol::token::TokenResponse;
use channels_protocol::wire::RuntimeConfig;
use channels_spa::auth::session::{
    recovery, Recovery, Session, StoredSession, RENEWAL_RETRY_AFTER, RENEW_BEFORE, SILENT_RETRY_AFTER,
};
use channels_spa::browser::storage;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn pending(seed: u8) -> PendingLogin {
    let config = RuntimeConfig {
        authority: "http://127.0.0.1:9400".into(),
        tenant_id: "t".into(),
        client_id: "c".into(),
        api_scope: "api://c/UserProfile.ReadWrite".into(),
        hints: Default::default(),
        implicit_flow: false,
        cloud: Default::default(),
    };
    let entropy = LoginEntropy { verifier: [seed; 32], state: [seed; 16], nonce: [seed.wrapping_add(1); 16] };
    start(&config, "http://localhost/sso", ReturnPath::same_origin("/here"), &entropy, 42).pending
}

fn signed_in(name: &str, username: &str) -> StoredSession {
    let account = Account { tid: "t".into(), oid: "o".into(), username: username.into() };
    StoredSession {
        refresh_token: None,
        name: name.into(),
        account,
        client_id: "c".into(),
        logout_id: None,
        implicit_flow: false,
    }
}

fn browser_storage(local: bool) -> web_sys::Storage {
    let window = web_sys::window().unwrap();
    if local { window.local_storage() } else { window.session_storage() }.unwrap().unwrap()
}

#[wasm_bindgen_test]
fn two_pending_logins_do_not_overwrite_each_other_and_each_is_taken_once() {
    storage::clear();
    let (first, second) = (pending(1), pending(2));
    let (first_state, second_state) = (first.state.secret().to_owned(), second.state.secret().to_owned());
    let first_verifier = first.verifier.as_ref().unwrap().secret().to_owned();
    storage::save_pending(&first);
    storage::save_pending(&second);

    let taken = storage::take_pending(&first_state).expect("the first tab's login is still there");
    assert_eq!(taken.verifier.as_ref().unwrap().secret(), first_verifier);
    assert_eq!(taken.return_to.as_str(), "/here");
    assert!(storage::take_pending(&first_state).is_none(), "a replayed callback finds nothing");
    assert!(storage::take_pending(&second_state).is_some());
    assert!(storage::take_pending("forged").is_none());
}

#[wasm_bindgen_test]
fn only_the_refresh_token_and_name_are_stored_never_the_access_token() {
    storage::clear();
    let tokens: TokenResponse = serde_json::from_value(serde_json::json!({
        "access_token": "eyJ.access.token", "token_type": "Bearer", "expires_in": 3600, "scope": "x",
        "refresh_token": "rt-456"
    }))
    .unwrap();
    let session = Session::new(tokens, &signed_in("Alice Moreau", "alice@contoso.example"), 1000);
    storage::save_session(&session.stored);
    storage::save_pending(&pending(3));

    let stored = browser_storage(false).get_item("channels.session").unwrap().unwrap();
    assert!(!stored.contains("eyJ.access.token"), "the access token stays in memory: {stored}");
    let loaded = storage::load_session().unwrap().expect("the session is stored");
    assert_eq!(loaded.refresh_token.as_ref().map(|t| t.secret()), Some("rt-456"));
    assert_eq!(loaded.name, "Alice Moreau");
    assert_eq!(loaded.client_id, "c", "a session remembers the registration that issued it");
    assert_eq!((loaded.account.tid.as_str(), loaded.account.oid.as_str()), ("t", "o"), "and whose it is");
    assert_eq!(browser_storage(true).length().unwrap(), 0, "nothing in localStorage");

    storage::clear();
    assert!(storage::load_session().unwrap().is_none());
    assert_eq!(browser_storage(false).length().unwrap(), 0);

    // A session stored by a version that did not keep the account's ids is not restored: a
    // silent sign-in could not check whose session comes back.
    browser_storage(false)
        .set_item("channels.session", r#"{"refresh_token":"rt-1","name":"A","username":"a","client_id":"c"}"#)
        .unwrap();
    let unreadable = storage::load_session().unwrap_err();
    assert!(unreadable.starts_with("missing field `account`"), "{unreadable}");
    storage::clear();
}

#[wasm_bindgen_test]
fn what_the_user_typed_outlives_a_renewal_that_ends_the_session_but_not_a_sign_out() {
    storage::clear();
    storage::save_session(&signed_in("Alice Moreau", "alice@contoso.example"));
    storage::save_pending(&pending(4));
    let typed = serde_json::json!({ "display_name": "Alice (night shift)", "tid": "t", "oid": "o" });
    storage::save_unsaved(&typed);

    // A renewal that leaves for a silent sign-in ends the stored session and the logins it
    // started, and keeps what was typed for the same user to find when they are back.
    storage::forget_session();
    assert!(storage::load_session().unwrap().is_none());
    assert_eq!(browser_storage(false).length().unwrap(), 1, "only what was typed is left");
    assert_eq!(storage::load_unsaved::<serde_json::Value>(), Some(typed.clone()));
    assert_eq!(storage::load_unsaved::<serde_json::Value>(), Some(typed), "reading it keeps it");

    // A sign-out forgets it with the rest.
    storage::clear();
    assert_eq!(storage::load_unsaved::<serde_json::Value>(), None);
    assert_eq!(browser_storage(false).length().unwrap(), 0);
}

#[wasm_bindgen_test]
fn the_logout_id_is_kept_with_the_session_and_an_older_session_loads_without_one() {
    storage::clear();
    let logout_id = channels_protocol::logout::LogoutId { iss: "https://i/t/v2.0".into(), sid: "s-1".into() };
    let named = StoredSession { logout_id: Some(logout_id.clone()), ..signed_in("Zoë \"Z\" 😀", "z@x") };
    storage::save_session(&named);
    let loaded = storage::load_session().unwrap().unwrap();
    assert_eq!((loaded.logout_id, loaded.name.as_str()), (Some(logout_id), "Zoë \"Z\" 😀"));
    // Stored before sessions kept their logout id: it loads, and no front-channel logout names it.
    let older = r#"{"refresh_token":"r","name":"n","account":{"tid":"t","oid":"o","username":"u"},"client_id":"c"}"#;
    browser_storage(false).set_item("channels.session", older).unwrap();
    assert_eq!(storage::load_session().unwrap().unwrap().logout_id, None);
    storage::clear();
}

#[wasm_bindgen_test]
fn renewal_is_due_five_minutes_before_expiry_and_keeps_the_newest_refresh_token() {
    let response = |refresh: Option<&str>| -> TokenResponse {
        let mut body = serde_json::json!({ "access_token": "a", "token_type": "Bearer", "expires_in": 3600 });
        if let Some(refresh) = refresh {
            body["refresh_token"] = refresh.into();
        }
        serde_json::from_value(body).unwrap()
    };
    let first = Session::new(response(Some("rt-1")), &signed_in("A", "a"), 1000);
    assert_eq!(first.renew_in(1000), Some(3600 - RENEW_BEFORE));
    assert_eq!(first.renew_in(1000 + 3600), Some(0), "overdue: now");
    let rotated = Session::new(response(Some("rt-2")), &first.stored, 2000);
    assert_eq!(rotated.stored.refresh_token.as_ref().unwrap().secret(), "rt-2", "the newest replaces the old");
    let kept = Session::new(response(None), &rotated.stored, 3000);
    assert_eq!(kept.stored.refresh_token.as_ref().unwrap().secret(), "rt-2");
    let without = Session::new(response(None), &signed_in("A", "a"), 0);
    assert_eq!(without.renew_in(0), None, "no refresh token, no renewal");

    // A renewal that could not reach Entra is tried again while the access token outlives the
    // wait; then the user is asked: 10 tries in all within the last 5 minutes.
    let due = 1000 + 3600 - RENEW_BEFORE;
    assert_eq!(first.retry_renewal_in(due), Some(RENEWAL_RETRY_AFTER));
    assert_eq!(first.retry_renewal_in(1000 + 3600 - RENEWAL_RETRY_AFTER - 1), Some(RENEWAL_RETRY_AFTER));
    assert_eq!(first.retry_renewal_in(1000 + 3600 - RENEWAL_RETRY_AFTER), None, "it would expire meanwhile");
    assert_eq!(first.retry_renewal_in(1000 + 3600 + 1), None, "expired");
    let tries = std::iter::successors(Some(due), |&t| first.retry_renewal_in(t).map(|wait| t + wait)).count();
    assert_eq!(tries, 10, "bounded: the first try and 9 retries, 30 s apart");
}

#[wasm_bindgen_test]
fn a_rejected_refresh_token_is_followed_by_one_silent_sign_in_per_ten_minutes_never_a_loop() {
    let now = 1_800_000_000;
    assert_eq!(recovery(true, None, now), Recovery::Silent, "AADSTS700084: try Entra's session first");
    assert_eq!(recovery(false, None, now), Recovery::Interactive, "a network failure is not cured by a redirect");
    assert_eq!(recovery(true, Some(now - 60), now), Recovery::Interactive, "a silent try a minute ago failed");
    assert_eq!(recovery(true, Some(now - SILENT_RETRY_AFTER), now), Recovery::Silent);
    assert_eq!(recovery(true, Some(now + 60), now), Recovery::Interactive, "a clock set back does not reopen it");

    // The loop guard outlives the session: clearing on sign-out or failure keeps it.
    storage::note_silent_attempt(now);
    storage::clear();
    assert_eq!(storage::last_silent_attempt(), Some(now));
    browser_storage(false).remove_item("channels.silent-attempt").unwrap();
}

#[wasm_bindgen_test]
fn signing_in_again_after_a_failure_asks_entra_for_the_right_account() {
    use channels_protocol::authorize::Prompt;
    use channels_protocol::provider_error::ProviderError;
    use channels_protocol::token::IdTokenError;
    use channels_spa::auth::SignInError;

    let alice = signed_in("Alice", "alice@contoso.example").account;
    let other = IdTokenError::OtherAccount { expected: "alice".into(), found: "bob".into() };
    assert_eq!(SignInError::IdToken(other).retry_prompt(), Prompt::SelectAccount, "the picker, not the same SSO again");
    let answer = ProviderError::new("interaction_required", "AADSTS16000: Either multiple user identities…");
    let ended = SignInError::SessionEnded { answer: Some(answer), account: Some(alice.clone()), implicit: false };
    assert_eq!(ended.retry_prompt(), Prompt::LoginHint(alice), "her account, named to Entra");
    assert_eq!(
        SignInError::SessionEnded { answer: None, account: None, implicit: false }.retry_prompt(),
        Prompt::Default
    );
    assert_eq!(SignInError::Network("offline".into()).retry_prompt(), Prompt::Default);
}

#[wasm_bindgen_test]
fn the_organisation_picked_is_remembered_and_one_stored_bare_by_an_earlier_version_is_still_read() {
    let local = browser_storage(true);
    storage::remember_profile("Contoso \"North\"");
    assert_eq!(storage::remembered_profile().as_deref(), Some("Contoso \"North\""));
    // As the version before gloo-storage wrote it: the name itself, not a JSON string.
    local.set_item("channels.organisation", "Fabrikam").unwrap();
    assert_eq!(storage::remembered_profile().as_deref(), Some("Fabrikam"));
    storage::forget_profile();
    assert_eq!(storage::remembered_profile(), None);
    assert_eq!(local.length().unwrap(), 0);
}
