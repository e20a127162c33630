//! The API's token validator on arbitrary bearer tokens, with the key and expectations of the
//! real Azure AD token in crates/api/tests/fixtures/aad-real (a seed), at a time inside its
//! lifetime: every step, from splitting the compact form to the scope, sees mutated input. It
//! must never panic, and it may accept only what verifies under the fixed key.
#![no_main]

use std::sync::{Arc, OnceLock};

use channels_api::auth::keys::KeyCache;
use channels_api::auth::validate::{Expectations, Validator};
use libfuzzer_sys::fuzz_target;

const JWKS: &str = include_str!("../../crates/api/tests/fixtures/aad-real/jwks.json");
const REAL_TOKEN: &str = include_str!("../../crates/api/tests/fixtures/aad-real/v1-access-token.jwt");

fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let expect = Expectations {
            issuers: vec!["https://sts.windows.net/268da1a1-9db4-48b9-b1fe-683250ba90cc/".into()],
            audiences: vec!["spn:6514a8ca-d9e4-4155-b292-65258398f3aa".into()],
            tenants: vec!["268da1a1-9db4-48b9-b1fe-683250ba90cc".into()],
            client_apps: vec!["bebfad57-efd7-419b-b74b-4b9dab7bd470".into()],
            scope: "user_impersonation".into(),
            full_scope: "spn:6514a8ca-d9e4-4155-b292-65258398f3aa/user_impersonation".into(),
            leeway: 300,
        };
        let jwks = serde_json::from_str(JWKS).expect("the fixture JWKS parses");
        Validator::new(expect, Arc::new(KeyCache::fixed(&jwks)), Arc::new(|| 1_467_313_000))
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    if futures::executor::block_on(validator().validate(token)).is_ok() {
        // Only the real token's signed content can pass: the same header and payload, byte for byte.
        let signed = |token: &str| token.trim().rsplit_once('.').map(|(input, _)| input.to_owned());
        assert_eq!(signed(token), signed(REAL_TOKEN), "accepted something Azure AD did not sign: {token}");
    }
});
