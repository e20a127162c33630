//! What Entra's provisioning service sends, on arbitrary input: SCIM filters and PATCH paths
//! (the hand-written grammar of `channels_api::scim::filter`), and PATCH bodies applied to a
//! user and a group. Nothing panics; every refusal says what was expected.
#![no_main]

use channels_api::scim::filter::{parse_filter, parse_path};
use channels_api::scim::patch::{operations, GROUP, USER};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for refusal in [parse_filter(text).err(), parse_path(text).err()].into_iter().flatten() {
        assert!(refusal.0.contains("expected"), "{refusal}");
    }
    let Ok(body) = serde_json::from_str::<serde_json::Value>(text) else { return };
    let resource = serde_json::json!({
        "userName": "alice@contoso.example",
        "externalId": "a11ce000-0000-4000-8000-000000000001",
        "emails": [{ "type": "work", "value": "alice@contoso.example" }],
        "members": [{ "value": "a11ce000-0000-4000-8000-000000000001" }],
        "displayName": "Dispatch",
    });
    for kind in [USER, GROUP] {
        if let Err(refusal) = kind.normalise(&body) {
            assert!(refusal.detail.contains("expected"), "{refusal:?}");
        }
        let mut stored = kind.normalise(&resource).unwrap_or_default();
        match operations(&body) {
            Ok(ops) => {
                if let Err(refusal) = kind.apply(&mut stored, &ops) {
                    assert!(refusal.detail.contains("expected"), "{refusal:?}");
                }
            }
            Err(refusal) => assert!(refusal.detail.contains("expected"), "{refusal:?}"),
        }
    }
});
