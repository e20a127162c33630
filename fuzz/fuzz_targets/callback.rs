//! The SPA's `/sso` callback parser (and Entra's error text reader) on arbitrary query strings:
//! never a panic; an error response keeps its description verbatim.
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
            let _ = error.known();
            let _ = error.to_string();
        }
        Err(other) => {
            let _ = other.to_string();
        }
    }
});
