//! The tab's storage in a real browser: pending logins keyed by state, single use, and
//! nothing ever written to `localStorage`.
#![cfg(target_arch = "wasm32")]

use channels_protocol::authorize::{start, LoginEntropy, PendingLogin, ReturnPath};
use channels_protocol::secret::AccessToken;
use channels_protocol::token::{IdTokenClaims, TokenResponse};
use channels_protocol::wire::RuntimeConfig;
use channels_spa::auth::session::Session;
use channels_spa::browser::storage;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn pending(seed: u8) -> PendingLogin {
    let config = RuntimeConfig {
        authority: "http://127.0.0.1:9400".into(),
        tenant_id: "t".into(),
        client_id: "c".into(),
        api_scope: "api://c/UserProfile.ReadWrite".into(),
    };
    let entropy = LoginEntropy { verifier: [seed; 32], state: [seed; 16], nonce: [seed.wrapping_add(1); 16] };
    start(&config, "http://localhost/sso", ReturnPath::same_origin("/here"), &entropy, 42).pending
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
    let first_verifier = first.verifier.secret().to_owned();
    storage::save_pending(&first);
    storage::save_pending(&second);

    let taken = storage::take_pending(&first_state).expect("the first tab's login is still there");
    assert_eq!(taken.verifier.secret(), first_verifier);
    assert_eq!(taken.return_to.as_str(), "/here");
    assert!(storage::take_pending(&first_state).is_none(), "a replayed callback finds nothing");
    assert!(storage::take_pending(&second_state).is_some());
    assert!(storage::take_pending("forged").is_none());
}

#[wasm_bindgen_test]
fn session_lives_in_session_storage_only_and_clear_forgets_it() {
    storage::clear();
    let tokens: TokenResponse = serde_json::from_value(serde_json::json!({
        "access_token": "at-123", "token_type": "Bearer", "expires_in": 3600, "scope": "x",
        "refresh_token": "rt-456"
    }))
    .unwrap();
    let identity: IdTokenClaims = serde_json::from_value(serde_json::json!({
        "iss": "i", "aud": "c", "name": "Alice Moreau", "preferred_username": "alice@contoso.example"
    }))
    .unwrap();
    storage::save_session(&Session::new(tokens, identity, 1000));
    storage::save_pending(&pending(3));

    let loaded = storage::load_session().expect("the session is stored");
    assert_eq!(loaded.access_token.secret(), AccessToken::new("at-123").secret());
    assert_eq!(loaded.expires_at, 4600);
    assert_eq!(loaded.name, "Alice Moreau");
    assert_eq!(browser_storage(true).length().unwrap(), 0, "nothing in localStorage");

    storage::clear();
    assert!(storage::load_session().is_none());
    assert_eq!(browser_storage(false).length().unwrap(), 0);
}
