//! The sign-in protocol as pure data and functions: no I/O, no clock, no randomness of its own.
//!
//! The SPA, the API and the Entra emulator all build on this crate, so that the two sides of
//! every message are written once. It compiles to the host and to wasm32, and its tests run on
//! both. Read it in the order of a sign-in:
//!
//! 1. [`pkce`]: the verifier and its S256 challenge (RFC 7636).
//! 2. [`authorize`]: the `/authorize` URL and the [`authorize::PendingLogin`] kept for the return.
//! 3. [`callback`]: what comes back to `/sso`, checked against the pending login.
//! 4. [`token`]: the code redemption request, Entra's token response and the ID token checks
//!    ([`jwt`] reads a token's claims without verifying it, with jwt-compact).
//! 5. [`provider_error`]: Entra's `AADSTS` errors, typed, explained, with the portal fix.
//! 6. [`claims`]: the access token claims the API reads.
//! 7. [`wire`]: the runtime configuration and the API's answers.
//! 8. [`diagnostics`]: the checks of a signed-in token that explain a misconfiguration.
//! 9. [`logout`]: a front-channel logout, which ends only the session it names.
//! 10. [`step_up`]: the API's claims challenge for an authentication context, and the `claims`
//!     request parameter that answers it.
//! 11. [`cloud`]: the Microsoft cloud of a tenant, and the issuers and Graph audiences it gives.
//! 12. [`clock`]: the time as the API and the emulator take it, injected.
//! 13. [`device`]: the device authorization grant, for a terminal without a browser.
//!
//! Every message has the same fields on every target: the SPA reads what the API and Entra
//! send with the same serde types the API and the emulator write them with.

pub mod authorize;
pub mod callback;
pub mod claims;
pub mod clock;
pub mod cloud;
pub mod device;
pub mod diagnostics;
pub mod jwt;
pub mod logout;
pub mod pkce;
pub mod provider_error;
pub mod secret;
pub mod step_up;
pub mod token;
pub mod wire;
