//! Mounts the app on the page's body.

fn main() {
    // Panics print to the console in debug builds (the release build aborts without a message).
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(channels_spa::App);
}
