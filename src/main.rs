//! Mounts the app on the page's body.

fn main() {
    // Panics print to the console where they can: the release build aborts without a message.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(channels_spa::App);
}
