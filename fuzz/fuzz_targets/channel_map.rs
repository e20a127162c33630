//! The API's configuration (channel map included) on arbitrary TOML: every refusal names the
//! key; nothing panics; a map that parses assigns channels to arbitrary group names.
#![no_main]

use channels_api::config::ApiConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match ApiConfig::parse(text, |_| None) {
        Ok(config) => {
            let groups: Vec<String> = text.split_whitespace().take(8).map(str::to_owned).collect();
            let _ = config.channels.assign_parts(&config.tenant_id, Some(&groups), &groups, false);
        }
        // Every refusal names what it is about and what was expected.
        Err(error) => assert!(error.to_string().contains(": expected "), "{error}"),
    }
});
