//! The only place that touches the browser: storage, randomness, the clock, the address bar
//! and the network. Everything else in the SPA is plain Rust over `channels_protocol`.

pub mod http;
pub mod location;
pub mod storage;

use channels_protocol::authorize::LoginEntropy;

fn window() -> web_sys::Window {
    web_sys::window().expect("the SPA runs in a browser window")
}

/// Seconds since the Unix epoch, from the browser's clock.
pub fn now() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// Fresh CSPRNG bytes for one login, from `crypto.getRandomValues`.
pub fn login_entropy() -> LoginEntropy {
    let crypto = window().crypto().expect("Web Crypto is available");
    let mut bytes = [0u8; 64];
    crypto.get_random_values_with_u8_array(&mut bytes).expect("crypto.getRandomValues");
    let mut entropy = LoginEntropy { verifier: [0; 32], state: [0; 16], nonce: [0; 16] };
    entropy.verifier.copy_from_slice(&bytes[..32]);
    entropy.state.copy_from_slice(&bytes[32..48]);
    entropy.nonce.copy_from_slice(&bytes[48..]);
    entropy
}
