//! The SPA's `/sso` callback parser (and Entra's error text reader) on arbitrary query strings
//! and implicit-flow fragments (the corpus holds both): never a panic; an error response keeps
//! Entra's description verbatim, to be shown as text.
#![no_main]

use channels_protocol::callback::{parse, CallbackError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    match parse(query) {
        Ok(callback) => {
            let _ = callback.state();
        }
        Err(CallbackError::Provider(error)) => {
            let pairs = form_urlencoded::parse(query.trim_start_matches('?').as_bytes());
            let sent: Vec<String> =
                pairs.filter(|(name, _)| name == "error_description").map(|(_, value)| value.into_owned()).collect();
            assert!(sent.is_empty() || sent.contains(&error.description), "description changed: {query}");
            let _ = error.known();
        }
        Err(other) => assert!(!other.to_string().is_empty()),
    }
});
