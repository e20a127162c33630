//! The protocol's PKCE and authorize steps, run in headless Chromium (wasm32) with the
//! browser's own CSPRNG.
#![cfg(target_arch = "wasm32")]

use channels_protocol::authorize::{start, ReturnPath};
use channels_protocol::pkce::CodeVerifier;
use channels_protocol::wire::RuntimeConfig;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn rfc7636_appendix_b_vector_in_the_browser() {
    let octets = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191,
        240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    let verifier = CodeVerifier::from_random_bytes(&octets);
    assert_eq!(verifier.secret(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    assert_eq!(verifier.challenge().as_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

#[wasm_bindgen_test]
fn browser_entropy_gives_fresh_valid_verifiers_states_and_nonces() {
    let config = RuntimeConfig {
        authority: "http://127.0.0.1:9400".into(),
        tenant_id: "t".into(),
        client_id: "c".into(),
        api_scope: "api://c/UserProfile.ReadWrite".into(),
        hints: Default::default(),
        implicit_flow: false,
        cloud: Default::default(),
    };
    let first = start(
        &config,
        "http://localhost/sso",
        ReturnPath::same_origin("/"),
        &channels_spa::browser::login_entropy(),
        0,
    );
    let second = start(
        &config,
        "http://localhost/sso",
        ReturnPath::same_origin("/"),
        &channels_spa::browser::login_entropy(),
        0,
    );
    assert_eq!(first.pending.verifier.as_ref().unwrap().secret().len(), 43);
    assert!(CodeVerifier::parse(first.pending.verifier.as_ref().unwrap().secret()).is_ok());
    assert_ne!(first.pending.verifier.as_ref().unwrap().secret(), second.pending.verifier.as_ref().unwrap().secret());
    assert_ne!(first.pending.state.secret(), second.pending.state.secret());
    assert_ne!(first.pending.nonce.secret(), second.pending.nonce.secret());
    assert_ne!(first.pending.state.secret(), first.pending.nonce.secret());
}
