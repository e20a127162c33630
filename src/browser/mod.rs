//! The only place that touches the browser directly: storage, randomness, the clock, the
//! address bar, the network and the other tabs. The pages reach the DOM through Leptos, and
//! everything else in the SPA is plain Rust over `channels_protocol`.

pub mod http;
pub mod location;
pub mod signature;
pub mod storage;

use channels_protocol::authorize::LoginEntropy;
use channels_protocol::logout::FrontChannelLogout;
use gloo_events::EventListener;
use wasm_bindgen::JsCast;

/// The channel on which this origin's tabs tell each other that the user signed out.
const SIGN_OUT_CHANNEL: &str = "channels.sign-out";

/// Seconds since the Unix epoch, from the browser's clock.
pub fn now() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// Fresh CSPRNG bytes for one login, from `crypto.getRandomValues` (getrandom's browser backend).
pub fn login_entropy() -> LoginEntropy {
    let mut bytes = [0u8; 64];
    getrandom::getrandom(&mut bytes).expect("Web Crypto's getRandomValues is available");
    let mut entropy = LoginEntropy { verifier: [0; 32], state: [0; 16], nonce: [0; 16] };
    entropy.verifier.copy_from_slice(&bytes[..32]);
    entropy.state.copy_from_slice(&bytes[32..48]);
    entropy.nonce.copy_from_slice(&bytes[48..]);
    entropy
}

/// What a tab tells the others when the user signed out in it: every tab ends its session.
const SIGNED_OUT: &str = "signed-out";
/// What a tab that received a front-channel logout tells the others, before the request's query:
/// each tab ends its session only when the request names it.
const FRONT_CHANNEL_LOGOUT: &str = "front-channel-logout?";

fn broadcast(message: &str) {
    if let Ok(channel) = web_sys::BroadcastChannel::new(SIGN_OUT_CHANNEL) {
        let _ = channel.post_message(&message.into());
        channel.close();
    }
}

/// Tells this origin's tabs that the user signed out (they each forget their session).
pub fn broadcast_sign_out() {
    broadcast(SIGNED_OUT);
}

/// Passes a front-channel logout on to this origin's tabs.
pub fn broadcast_front_channel_logout(request: &FrontChannelLogout) {
    broadcast(&format!("{FRONT_CHANNEL_LOGOUT}{}", request.to_query()));
}

/// Whether a front-channel logout ends this tab's stored session; when it does not, says so in
/// the console (visibly ignored, and nothing changes).
pub fn front_channel_logout_ends_this_tab(request: &FrontChannelLogout) -> bool {
    let session = storage::load_session().ok().flatten();
    let ends = request.ends(session.as_ref().and_then(|session| session.logout_id.as_ref()));
    if !ends {
        ignored_front_channel_logout("it does not name this tab's session");
    }
    ends
}

/// Says in the console that a front-channel logout was ignored, and why.
pub fn ignored_front_channel_logout(why: &str) {
    log_to_console(&format!("front-channel logout ignored: {why}"));
}

/// A line in the console about something the app decided without showing it.
pub fn log_to_console(what: &str) {
    web_sys::console::info_1(&format!("Channels: {what}").into());
}

/// Calls `signed_out` whenever a tab of this origin signs out, or passes on a front-channel
/// logout that names this tab's session, until the reactive owner that asked is cleaned up (the
/// lifecycle of an organisation, replaced when the user picks another): then the channel closes.
pub fn on_sign_out(signed_out: impl Fn() + 'static) {
    let Ok(channel) = web_sys::BroadcastChannel::new(SIGN_OUT_CHANNEL) else { return };
    let listener = EventListener::new(&channel, "message", move |event| {
        let message = event.unchecked_ref::<web_sys::MessageEvent>().data().as_string().unwrap_or_default();
        let ends = match message.strip_prefix(FRONT_CHANNEL_LOGOUT) {
            Some(query) => {
                FrontChannelLogout::parse(query).is_ok_and(|request| front_channel_logout_ends_this_tab(&request))
            }
            None => message == SIGNED_OUT,
        };
        if ends {
            signed_out();
        }
    });
    if leptos::prelude::Owner::current().is_none() {
        listener.forget(); // no owner to end it: it lives as long as the page
        return;
    }
    // Cleanups may run on any thread in Leptos' model; in the browser there is one.
    let held = send_wrapper::SendWrapper::new((channel, listener));
    leptos::prelude::on_cleanup(move || {
        let (channel, listener) = held.take();
        drop(listener); // detached and freed: no late event can reach it
        channel.close();
    });
}
